from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The websocket feed and its tokens."""

    name = "realtime"
