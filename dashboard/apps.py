from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The server-rendered UI."""

    name = "dashboard"
