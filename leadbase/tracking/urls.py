"""Public tracking URLs under /t/ (stable: they are pasted into other sites)."""

from django.urls import path

from . import views

app_name = "tracking"

urlpatterns = [
    path("lb.js", views.snippet, name="snippet"),
    path("collect", views.collect, name="collect"),
    path("pixel.gif", views.pixel, name="pixel"),
]
