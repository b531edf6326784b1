"""Capture UI URLs: imports (included by capture/urls.py under the `capture` namespace)."""

from django.urls import URLPattern, path

from . import views_imports

urlpatterns: list[URLPattern] = [
    path("imports/", views_imports.import_list, name="imports"),
    path("imports/<int:job_id>/", views_imports.import_detail, name="import-detail"),
    path("imports/<int:job_id>/sheet", views_imports.import_sheet, name="import-sheet"),
    path("imports/<int:job_id>/read-as", views_imports.import_read_as, name="import-read-as"),
    path("imports/<int:job_id>/dry-run", views_imports.import_dry_run, name="import-dry-run"),
    path("imports/<int:job_id>/start", views_imports.import_start, name="import-start"),
    path("imports/<int:job_id>/progress", views_imports.import_progress, name="import-progress"),
    path(
        "imports/<int:job_id>/rejected-rows.csv",
        views_imports.import_rejections_csv,
        name="import-rejections",
    ),
    path(
        "imports/<int:job_id>/problems.csv",
        views_imports.import_problems_csv,
        name="import-problems",
    ),
]
