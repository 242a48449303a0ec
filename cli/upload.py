"""Upload an archive as a new deployment: in one request when it is small, else in
resumable chunks (`Content-Range` and `X-Upload-Id`). A chunk whose answer is lost (a
dropped connection, a 5xx) is not sent blindly again: the upload's `sizeReceived` says
where to go on from."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from cli.api import Client
from cli.errors import ApiError, CliError, NetworkError

DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
RETRIES = 5

Progress = Callable[[int], None]  # called with the bytes the platform has so far


def chunk_size() -> int:
    """`SHIPWAY_CHUNK_SIZE` (bytes) or 8 MiB: archives above it go in chunks."""
    raw = os.environ.get("SHIPWAY_CHUNK_SIZE", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_CHUNK_SIZE


def _fields(activate: bool) -> dict[str, str]:
    return {"activate": "true" if activate else "false"}


def upload(
    client: Client,
    site: str,
    archive: Path,
    *,
    activate: bool = True,
    size_of_chunk: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Send the archive; returns the deployment the platform made of it."""
    limit = size_of_chunk or chunk_size()
    total = archive.stat().st_size
    path = f"/v1/sites/{site}/deployments"
    with archive.open("rb") as file:
        if total <= limit:
            deployment = client.request(
                "POST",
                path,
                data=_fields(activate),
                files={"code": (archive.name, file, "application/gzip")},
            ).json()
            if progress:
                progress(total)
            return deployment
        return _chunked(client, path, file, archive.name, total, limit, activate, progress)


def _chunked(
    client: Client,
    path: str,
    file: BinaryIO,
    name: str,
    total: int,
    limit: int,
    activate: bool,
    progress: Progress | None,
) -> dict[str, Any]:
    upload_id: str | None = None
    start = 0
    failures = 0
    lost = False  # the last chunk's answer was lost: ask where to go on from
    while True:
        try:
            if lost and upload_id is not None:
                start = _received(client, path, upload_id)
            lost = False
            file.seek(start)
            piece = file.read(limit)
            headers = {"Content-Range": f"bytes {start}-{start + len(piece) - 1}/{total}"}
            if upload_id:
                headers["X-Upload-Id"] = upload_id
            body = client.request(
                "POST",
                path,
                data=_fields(activate),
                files={"code": (name, piece, "application/octet-stream")},
                headers=headers,
            ).json()
        except (NetworkError, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.status < 500:
                raise
            failures += 1
            if failures > RETRIES:
                raise
            time.sleep(min(0.25 * 2**failures, 8))
            lost = True
            continue
        failures = 0
        if body.get("complete") is not False:
            if progress:
                progress(total)
            return body
        upload_id = body["uploadId"]
        start = body["sizeReceived"]
        if progress:
            progress(start)


def _received(client: Client, path: str, upload_id: str) -> int:
    """How much of the upload the platform holds; a finished upload is gone (404)."""
    try:
        state = client.get(f"{path}/uploads/{upload_id}")
    except ApiError as exc:
        if exc.status == 404:
            raise CliError(
                "The upload's last chunk may have arrived but its answer was lost; "
                "run `shipway deployments list` to see whether it made a deployment."
            ) from None
        raise
    return int(state["sizeReceived"])
