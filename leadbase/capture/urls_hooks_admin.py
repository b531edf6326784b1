"""Capture UI URLs: webhook sources at /capture/webhooks/ (included by capture/urls.py,
namespace `capture`; admins only)."""

from django.urls import URLPattern, path

from . import views_hooks_admin as views

urlpatterns: list[URLPattern] = [
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/new", views.webhook_create, name="webhook_create"),
    path("webhooks/<int:source_id>/", views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:source_id>/edit", views.webhook_edit, name="webhook_edit"),
    path("webhooks/<int:source_id>/rotate-secret", views.webhook_rotate, name="webhook_rotate"),
]
