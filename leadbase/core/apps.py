from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadbase.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Registers the periodic jobs (leadbase.core.scheduler) in every process.
        from leadbase.core import tasks  # noqa: F401
