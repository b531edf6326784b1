from django.urls import path

from . import views, views_duplicates

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("leads/<int:lead_id>/", views.lead_detail, name="detail"),
    path("duplicates/", views_duplicates.duplicate_list, name="duplicates"),
    path(
        "duplicates/<int:suggestion_id>/merge/",
        views_duplicates.duplicate_merge_view,
        name="duplicate-merge",
    ),
    path(
        "duplicates/<int:suggestion_id>/dismiss/",
        views_duplicates.duplicate_dismiss_view,
        name="duplicate-dismiss",
    ),
]
