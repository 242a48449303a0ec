"""Telling people and other systems what happened: a team's outgoing webhooks (signed
deliveries of the platform's events, retried, every attempt recorded) and the mails
sent when a production deployment fails."""

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notify"
