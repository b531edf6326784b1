from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "leadbase.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        # Registers the tracking app's periodic jobs (leadbase.core.scheduler) in every process.
        from leadbase.tracking import tasks  # noqa: F401
