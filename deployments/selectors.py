"""Reads with a permission check for deployments: the API, the dashboard and downloads
find a deployment only through these."""

from django.contrib.auth.models import AnonymousUser, User

from deployments.models import Deployment, LogChunk, ServerLogChunk
from sites.selectors import of_site, site_for


def deployment_for(
    user: User | AnonymousUser, site_id: str, deployment_id: str, action: str = "view"
) -> Deployment:
    """A deployment of the site `user` may `action` (site_for's refusals, or NotFound),
    with who created it (the dashboard shows it)."""
    site = site_for(user, site_id, action)
    deployments = site.deployments.select_related("created_by")
    return of_site(site, deployments, "Deployment", deployment_id)


def log_text(deployment: Deployment, offset: int = 0) -> str:
    """The build log from character `offset` on."""
    chunks = (
        LogChunk.objects.filter(deployment=deployment, offset__gte=_chunk_start(deployment, offset))
        .order_by("offset")
        .values_list("offset", "text")
    )
    return "".join(text[max(0, offset - start) :] for start, text in chunks)


def _chunk_start(deployment: Deployment, offset: int) -> int:
    """The offset of the chunk that holds character `offset`."""
    start = (
        LogChunk.objects.filter(deployment=deployment, offset__lte=offset)
        .order_by("-offset")
        .values_list("offset", flat=True)
        .first()
    )
    return start or 0


def server_log_from(deployment: Deployment, start: int = 0) -> tuple[int, str]:
    """The server's output from character `start` on, and the offset that text begins
    at: `start`, or later when the oldest output was dropped past it (the log is
    bounded). The offset comes from the rows read, so a trim in between cannot shift it."""
    holder = (
        ServerLogChunk.objects.filter(deployment=deployment, offset__lte=start)
        .order_by("-offset")
        .values_list("offset", flat=True)
        .first()
    )
    chunks = list(
        ServerLogChunk.objects.filter(
            deployment=deployment, offset__gte=start if holder is None else holder
        )
        .order_by("offset")
        .values_list("offset", "text")
    )
    begins = max(start, chunks[0][0]) if chunks else start
    return begins, "".join(text[max(0, begins - offset) :] for offset, text in chunks)


def server_log_text(deployment: Deployment, start: int = 0) -> str:
    """The server's kept output from character `start` on (from where the kept part
    begins, if that is later)."""
    return server_log_from(deployment, start)[1]
