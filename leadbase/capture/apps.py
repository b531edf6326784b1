from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "leadbase.capture"
    label = "capture"
    verbose_name = "Capture"

    def ready(self) -> None:
        # Registers the capture app's periodic jobs (leadbase.core.scheduler) in every process.
        from leadbase.capture import tasks  # noqa: F401
        from leadbase.capture.imports import cleanup  # noqa: F401
