from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "leadbase.demo"
    label = "demo"
    verbose_name = "Demo"
