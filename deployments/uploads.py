"""Chunked, resumable uploads: `Content-Range: bytes START-END/TOTAL` on each chunk.

The first chunk (START 0, no upload id) opens an upload and answers its id; later
chunks name it with the `X-Upload-Id` header. A chunk may repeat bytes already received
(a retry after a dropped connection) but may not leave a gap. The chunk that completes
the file turns it into a deployment through the same intake as a single upload.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

import structlog
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import Invalid, NotFound, TooMany
from deployments import artifacts, services
from deployments.models import Deployment, Upload
from sites.models import Site

log = structlog.get_logger(__name__)

_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
UPLOAD_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class ContentRange:
    start: int
    end: int  # inclusive, as in HTTP
    total: int

    @classmethod
    def parse(cls, header: str) -> ContentRange:
        match = _RANGE.match(header.strip())
        if not match:
            raise Invalid(
                {"Content-Range": "Use the form 'bytes START-END/TOTAL', e.g. bytes 0-1023/4096."}
            )
        start, end, total = (int(g) for g in match.groups())
        if not start <= end < total:
            raise Invalid({"Content-Range": "Needs START <= END < TOTAL."})
        if total > settings.SHIPWAY_MAX_UPLOAD_SIZE:
            raise Invalid(
                {
                    "Content-Range": f"The archive is {total} bytes; the limit is "
                    f"{settings.SHIPWAY_MAX_UPLOAD_SIZE}."
                }
            )
        return cls(start, end, total)


class TooManyUploads(TooMany):
    code = "too_many_uploads"


def _ensure_room_for_another(site: Site) -> None:
    """Refuse a new upload while the site has SHIPWAY_MAX_UPLOADS_IN_PROGRESS of them
    (each may hold SHIPWAY_MAX_UPLOAD_SIZE bytes of disk for a day). The site's row is
    locked until the transaction ends, so two first chunks cannot both take the last
    place."""
    Site.objects.select_for_update().filter(pk=site.pk).values_list("pk").get()
    most = settings.SHIPWAY_MAX_UPLOADS_IN_PROGRESS
    open_ids = list(
        Upload.objects.filter(site=site, updated_at__gte=timezone.now() - UPLOAD_TTL)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    if len(open_ids) >= most:
        raise TooManyUploads(
            f"This site already has {len(open_ids)} uploads in progress (at most {most}): "
            f"finish one, cancel one (DELETE .../deployments/uploads/<uploadId>: "
            f"{', '.join(open_ids)}) or let one lapse after 24 hours without a chunk."
        )


def upload_for(site: Site, upload_id: str) -> Upload:
    upload = Upload.objects.filter(site=site, pk=upload_id).first()
    if upload is None:
        raise NotFound(f"Upload '{upload_id}' not found (it may have expired).")
    return upload


def receive_chunk(
    *,
    site: Site,
    chunk: BinaryIO,
    content_range: ContentRange,
    upload_id: str | None,
    activate: bool,
    user: User | None,
) -> tuple[Upload, Deployment | None]:
    """Store one chunk; returns the upload and, once the last byte arrived, the deployment."""
    size = _size_of(chunk)
    if size != content_range.end - content_range.start + 1:
        raise Invalid(
            {
                "code": f"The chunk is {size} bytes but Content-Range announces "
                f"{content_range.end - content_range.start + 1}."
            }
        )
    refused: Invalid | None = None
    deployment: Deployment | None = None
    with transaction.atomic():
        if upload_id:
            upload = Upload.objects.select_for_update().filter(site=site, pk=upload_id).first()
            if upload is None:
                raise NotFound(f"Upload '{upload_id}' not found (it may have expired).")
            if content_range.total != upload.total_size:
                raise Invalid(
                    {
                        "Content-Range": f"This upload is {upload.total_size} bytes in total, "
                        f"not {content_range.total}."
                    }
                )
        else:
            if content_range.start != 0:
                raise Invalid({"X-Upload-Id": "A chunk after the first must name its upload."})
            _ensure_room_for_another(site)
            upload = services.upload_open(
                site=site, user=user, total_size=content_range.total, activate=activate
            )
        if content_range.start > upload.received_size:
            raise Invalid(
                {
                    "Content-Range": f"Only {upload.received_size} bytes have arrived; "
                    f"resume from byte {upload.received_size}."
                }
            )
        services.upload_received(upload=upload, start=content_range.start, chunk=chunk)
        log.info(
            "upload.chunk",
            site_id=site.id,
            upload_id=upload.id,
            received=upload.received_size,
            total=upload.total_size,
        )
        if upload.received_size < upload.total_size:
            return upload, None
        # Still under the row's lock: a retry of this last chunk waits, then finds the
        # upload gone instead of making a second deployment.
        try:
            with transaction.atomic():
                deployment = _complete(upload, user)
        except Invalid as exc:
            refused = exc
        services.upload_discard(upload=upload)
    if refused is not None:
        raise refused
    assert deployment is not None
    return upload, deployment


def _complete(upload: Upload, user: User | None) -> Deployment:
    """The deployment made of the upload's pieces, joined in byte order."""
    with tempfile.TemporaryFile() as archive:
        joined = 0
        for offset, name in artifacts.upload_pieces(upload.id):
            if offset != joined:
                raise Invalid({"code": f"The upload lost the bytes from {joined}; send it again."})
            with artifacts.artifacts().open(name, "rb") as piece:
                shutil.copyfileobj(piece, archive)
            joined = archive.tell()
        if joined != upload.total_size:
            raise Invalid({"code": f"The upload lost the bytes from {joined}; send it again."})
        archive.seek(0)
        return services.deployment_create_from_upload(
            site=upload.site, archive=archive, activate=upload.activate, user=user
        )


def cancel(*, site: Site, upload_id: str) -> None:
    """Cancel an upload in progress (after any chunk being written to it now)."""
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(site=site, pk=upload_id).first()
        if upload is None:
            raise NotFound(f"Upload '{upload_id}' not found (it may have expired).")
        services.upload_discard(upload=upload)
    log.info("upload.cancelled", site_id=site.id, upload_id=upload_id)


def discard_expired() -> int:
    """Remove uploads nobody has added to for a day."""
    expired = list(Upload.objects.filter(updated_at__lt=timezone.now() - UPLOAD_TTL))
    for upload in expired:
        services.upload_discard(upload=upload)
    return len(expired)


def _size_of(stream: BinaryIO) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size
