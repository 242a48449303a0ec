from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project package as an app, for project-wide commands (`runplatform`)."""

    name = "config"
    verbose_name = "Shipway"
