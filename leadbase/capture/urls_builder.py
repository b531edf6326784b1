"""Capture UI URLs: the form builder and the submissions inbox (included by capture/urls.py,
namespace `capture`)."""

from django.urls import URLPattern, path

from . import views_builder as views

urlpatterns: list[URLPattern] = [
    path("", views.form_list, name="forms"),
    path("forms/new/", views.form_create, name="form_create"),
    path("forms/<int:form_id>/", views.form_edit, name="form_edit"),
    path("forms/<int:form_id>/delete/", views.form_delete, name="form_delete"),
    path("forms/<int:form_id>/fields/", views.field_add, name="field_add"),
    path("forms/<int:form_id>/fields/<int:field_id>/", views.field_update, name="field_update"),
    path(
        "forms/<int:form_id>/fields/<int:field_id>/delete/",
        views.field_delete,
        name="field_delete",
    ),
    path("forms/<int:form_id>/fields/<int:field_id>/move/", views.field_move, name="field_move"),
    path("submissions/", views.submission_list, name="submissions"),
    path(
        "submissions/<int:submission_id>/release/",
        views.submission_release,
        name="submission_release",
    ),
]
