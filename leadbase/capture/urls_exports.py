"""Capture UI URLs: exports (included by capture/urls.py under the `capture` namespace)."""

from django.urls import URLPattern, path

from . import views_exports

urlpatterns: list[URLPattern] = [
    path("export", views_exports.lead_export, name="export"),
]
