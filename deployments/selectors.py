"""Reads with a permission check for deployments: the API, the dashboard and downloads
find a deployment only through these."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from deployments.models import Deployment, LogChunk, Server, ServerLogChunk
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
    return _text_from(LogChunk.objects.filter(deployment=deployment), offset)


def server_log_text(deployment: Deployment, offset: int = 0) -> str:
    """The server's output from character `offset` on, as far as it is kept (an offset
    before the oldest kept chunk reads from that chunk)."""
    return _text_from(ServerLogChunk.objects.filter(deployment=deployment), offset)


def server_log_size(deployment: Deployment) -> int:
    """Characters the server has printed (kept or not)."""
    size = Server.objects.filter(pk=deployment.pk).values_list("log_size", flat=True).first()
    return size or 0


def _text_from(chunks: QuerySet[LogChunk] | QuerySet[ServerLogChunk], offset: int) -> str:
    """A log's text from character `offset`, its chunks (each with its starting offset)."""
    start = (
        chunks.filter(offset__lte=offset).order_by("-offset").values_list("offset", flat=True)
    ).first() or 0  # the offset of the chunk that holds character `offset`
    rows = chunks.filter(offset__gte=start).order_by("offset").values_list("offset", "text")
    return "".join(text[max(0, offset - begin) :] for begin, text in rows)
