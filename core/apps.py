from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app uses, as an app for its project-wide command (`runplatform`)."""

    name = "core"
    verbose_name = "Shipway"
