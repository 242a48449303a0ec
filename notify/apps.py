"""Telling people and other systems what happened: a team's outgoing webhooks (signed
deliveries of the platform's events, retried, every attempt recorded) and the mails
sent when a production deployment fails."""

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class NotifyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notify"

    def ready(self) -> None:
        from accounts.models import Team
        from core import events, readcache
        from deployments.signals import deployment_status_changed
        from notify import mail, matching
        from notify.models import Webhook
        from sites.models import Site

        # A failed production deployment mails the site's owners.
        deployment_status_changed.connect(
            mail.on_status_changed, dispatch_uid="notify.mail.on_status_changed"
        )

        # Every event sent, after commit, is matched against its team's webhooks.
        events.subscribe(matching.on_event)
        # A webhook's change moves the read cache's generation on (every process then
        # forgets the patterns it kept); sites and teams already do.
        readcache.watch(Webhook)
        for model in (Webhook, Site, Team):
            label = model._meta.label
            post_save.connect(matching.changed, sender=model, dispatch_uid=f"notify.save.{label}")
            post_delete.connect(
                matching.changed, sender=model, dispatch_uid=f"notify.delete.{label}"
            )
