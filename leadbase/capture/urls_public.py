"""Public form URLs, stable because they get pasted into websites: /f/<slug> (hosted page and
its POST target) and the form's embed script (namespace `forms`)."""

from django.urls import URLPattern, path

from . import urls_optin, views_public

app_name = "forms"
urlpatterns: list[URLPattern] = [
    *urls_optin.urlpatterns,
    path("-/ping", views_public.ping, name="ping"),
    path("<slug:slug>", views_public.form_page, name="form"),
    path("<slug:slug>/embed.js", views_public.embed_js, name="embed"),
]
