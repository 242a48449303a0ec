"""Reads with a permission check for deployments: the API, the dashboard and downloads
find a deployment only through these."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from deployments.models import Delivery, Deployment, LogChunk, Server, ServerLogChunk
from sites.models import DeployHook, Repository, Site
from sites.selectors import of_site, site_for


def deployment_for(
    user: User | AnonymousUser, site_id: str, deployment_id: str, action: str = "view"
) -> Deployment:
    """A deployment of the site `user` may `action` (site_for's refusals, or NotFound),
    with who created it (the dashboard shows it) and its server (ssr)."""
    site = site_for(user, site_id, action)
    deployments = site.deployments.select_related("created_by", "server")
    return of_site(site, deployments, "Deployment", deployment_id)


def log_text(deployment: Deployment, offset: int = 0) -> str:
    """The build log from character `offset` on."""
    return _log_from(LogChunk.objects.filter(deployment=deployment), offset)[1]


def server_log_from(deployment: Deployment, start: int = 0) -> tuple[int, str]:
    """The server's output from character `start` on, and the offset that text begins
    at: `start`, or later when the oldest output was dropped past it (the log is
    bounded). The offset comes from the rows read, so a trim in between cannot shift it."""
    return _log_from(ServerLogChunk.objects.filter(deployment=deployment), start)


def server_of(deployment: Deployment) -> Server | None:
    """The deployment's server row (None before its first start), from the deployment
    when it was read with its server (deployment_for does), else with one query."""
    try:
        return deployment.server
    except Server.DoesNotExist:
        return None


def _log_from(chunks: QuerySet[LogChunk] | QuerySet[ServerLogChunk], start: int) -> tuple[int, str]:
    """A log's text from character `start` (its chunks, each with its starting offset),
    and the offset that text begins at (later than `start` if the chunks holding it are
    gone)."""
    holder = (
        chunks.filter(offset__lte=start).order_by("-offset").values_list("offset", flat=True)
    ).first()  # the chunk that holds character `start`
    rows = list(
        chunks.filter(offset__gte=start if holder is None else holder)
        .order_by("offset")
        .values_list("offset", "text")
    )
    begins = max(start, rows[0][0]) if rows else start
    return begins, "".join(text[max(0, begins - offset) :] for offset, text in rows)


def repository_of(site: Site) -> Repository | None:
    """The site's linked repository, or None."""
    return Repository.objects.filter(site=site).first()


def deploy_hooks_of(site: Site) -> QuerySet[DeployHook]:
    return site.deploy_hooks.all()


def deploy_hook_for(
    user: User | AnonymousUser, site_id: str, hook_id: str, action: str
) -> DeployHook:
    """A deploy hook of a site `user` may `action` (site_for's refusals, or NotFound)."""
    site = site_for(user, site_id, action)
    return of_site(site, site.deploy_hooks.all(), "Deploy hook", hook_id)


def recent_deliveries(site: Site, limit: int = 20) -> QuerySet[Delivery]:
    """The site's newest webhook deliveries, with the deployments each made."""
    return site.deliveries.prefetch_related("deployments")[:limit]
