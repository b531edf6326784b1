from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadbase.core"
    label = "core"
    verbose_name = "Core"
