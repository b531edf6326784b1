"""The capture section of the UI, at /capture/ (namespace `capture`). Public URLs that other
systems link to live apart: /f/ (urls_public) and /hooks/ (urls_hooks)."""

from django.urls import URLPattern

from . import urls_builder, urls_exports, urls_hooks_admin, urls_imports

app_name = "capture"
urlpatterns: list[URLPattern] = [
    *urls_builder.urlpatterns,
    *urls_imports.urlpatterns,
    *urls_exports.urlpatterns,
    *urls_hooks_admin.urlpatterns,
]
