"""The SSR runtime manager: runs each active (or visited preview) ssr deployment's
server, health-checks it, routes the site to it once healthy, keeps its output, and
stops it when idle. Where a server runs is a scheduler's business (runtime/schedulers/)."""

from typing import Any

from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "runtime"

    def ready(self) -> None:
        from sites.signals import site_deleted

        site_deleted.connect(_remove_site_servers, dispatch_uid="runtime.site_servers")


def _remove_site_servers(sender: Any, site_id: str, deployments: list[Any], **kwargs: Any) -> None:
    """A deleted site's servers stop and their files go (after commit, by a worker)."""
    from django.db import transaction

    from deployments.services import remove_servers

    ids = [d.id for d in deployments]
    transaction.on_commit(lambda: remove_servers(ids))
