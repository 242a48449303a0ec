"""The build log: append-only chunks in the database, published as they are written."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from core import channels, events
from deployments.models import Deployment, LogChunk


def append(deployment: Deployment, text: str) -> int:
    """Append `text` to the log; returns the offset it starts at. Publishes it too."""
    if not text:
        return deployment.log_size
    with transaction.atomic():
        offset = (
            Deployment.objects.select_for_update()
            .values_list("log_size", flat=True)
            .get(pk=deployment.pk)
        )
        LogChunk.objects.create(deployment=deployment, offset=offset, text=text)
        Deployment.objects.filter(pk=deployment.pk).update(log_size=F("log_size") + len(text))
        channel = channels.deployment_logs(deployment.site_id, deployment.id)
        events.publish(
            events=[channels.event(channel, "create")],
            channels=[channel],
            payload={"deploymentId": deployment.id, "offset": offset, "text": text},
        )
    deployment.log_size = offset + len(text)
    return offset


def read(deployment: Deployment, offset: int = 0) -> str:
    """The log from character `offset` on."""
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
