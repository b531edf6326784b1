"""Webhook URLs, stable because they get configured in other platforms: /hooks/facebook,
/hooks/linkedin, /hooks/generic/<source-id> (namespace `hooks`)."""

from django.urls import URLPattern, path

from . import views_hooks

app_name = "hooks"
urlpatterns: list[URLPattern] = [
    path("facebook", views_hooks.facebook, name="facebook"),
    path("linkedin", views_hooks.linkedin, name="linkedin"),
    # any text: an id that is not a UUID gets the same JSON 404 as an unknown one
    path("generic/<str:public_id>", views_hooks.generic, name="generic"),
]
