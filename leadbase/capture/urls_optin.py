"""Public double opt-in and content-delivery URLs under /f/ (included by urls_public)."""

from django.urls import URLPattern, path

from . import views_optin

urlpatterns: list[URLPattern] = [
    path("confirm/<str:token>", views_optin.optin_confirm, name="confirm"),
    path("download/<str:token>", views_optin.content_download, name="download"),
]
