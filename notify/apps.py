"""Telling people and other systems what happened: a team's outgoing webhooks (signed
deliveries of the platform's events, retried, every attempt recorded) and the mails
sent when a production deployment fails."""

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notify"

    def ready(self) -> None:
        from deployments.signals import deployment_status_changed
        from notify import mail

        deployment_status_changed.connect(
            mail.on_status_changed, dispatch_uid="notify.mail.on_status_changed"
        )
