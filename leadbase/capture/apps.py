from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "leadbase.capture"
    label = "capture"
    verbose_name = "Capture"
