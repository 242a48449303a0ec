"""What each site uses: build seconds, deployments, stored bytes, and the requests and
bytes the edge served, counted cheaply where they happen and rolled up by hour."""

from django.apps import AppConfig


class UsageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "usage"
