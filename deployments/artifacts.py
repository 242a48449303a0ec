"""Where deployments' files live: Django's "artifacts" storage (filesystem or S3), the
layout under it and the manifest the edge serves from. Nothing else spells a stored
name; docs/architecture.md ("Storage layout") describes it:

    sites/{siteId}/deployments/{deploymentId}/
        source.tar.gz           the checked, re-packed source
        output/...              the built files, as the manifest lists them
        compressed/....gz|.br   precompressed variants of compressible files
        manifest.json           URL path -> size, sha256, type, variant sizes; parsed rules
        output.tar.gz           the output as one archive (download ?type=output)
        server.tar.gz           ssr only: the packaged server, as its container gets it
        build.log               the finished log

    uploads/{uploadId}/{offset:012d}    the pieces of a chunked upload in progress, each
                                        starting at the byte its name gives

`manifest.json` maps each URL path to the file's size, SHA-256, content type
(`content_type_for`) and the sizes of its precompressed variants, `gzip` and `br` (null
when there is none), plus the `_redirects`/`_headers` rules parsed at build time.
For an ssr deployment `files` are its static assets (served by the edge itself) and
`server` says how its server starts: `{"command", "size"}` (the archive's bytes).
"""

from __future__ import annotations

import json
import mimetypes
import shutil
from datetime import datetime
from typing import Any

import structlog
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils import timezone
from django.utils.dateparse import parse_datetime

log = structlog.get_logger(__name__)

SOURCE_FILE = "source.tar.gz"
OUTPUT_DIR = "output"
COMPRESSED_DIR = "compressed"
OUTPUT_ARCHIVE = "output.tar.gz"
SERVER_ARCHIVE = "server.tar.gz"
MANIFEST_FILE = "manifest.json"
LOG_FILE = "build.log"
# A manifest entry's variant -> the suffix of its file under compressed/.
VARIANTS = {"gzip": "gz", "br": "br"}

# Content types the manifest gives that Python's table lacks.
mimetypes.add_type("application/javascript", ".mjs")
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("application/wasm", ".wasm")
_ENCODED_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
}


def artifacts() -> Storage:
    return storages["artifacts"]


# --- layout ----------------------------------------------------------------------------


def site_prefix(site_id: str) -> str:
    """Everything stored for a site (its deployments, and anything else under it)."""
    return f"sites/{site_id}"


def deployments_prefix(site_id: str) -> str:
    """Where the site's deployments' prefixes are, one directory (or key prefix) each."""
    return f"{site_prefix(site_id)}/deployments"


def deployment_prefix(site_id: str, deployment_id: str) -> str:
    return f"{deployments_prefix(site_id)}/{deployment_id}"


def source_path(prefix: str) -> str:
    return f"{prefix}/{SOURCE_FILE}"


def output_path(prefix: str, relative: str) -> str:
    """One built file, by its path in the output (its URL path without the slash)."""
    return f"{prefix}/{OUTPUT_DIR}/{relative}"


def compressed_path(prefix: str, relative: str, variant: str) -> str:
    """One built file's precompressed `variant` ("gzip" or "br")."""
    return f"{prefix}/{COMPRESSED_DIR}/{relative}.{VARIANTS[variant]}"


def output_archive_path(prefix: str) -> str:
    return f"{prefix}/{OUTPUT_ARCHIVE}"


def server_archive_path(prefix: str) -> str:
    return f"{prefix}/{SERVER_ARCHIVE}"


def manifest_path(prefix: str) -> str:
    return f"{prefix}/{MANIFEST_FILE}"


def log_path(prefix: str) -> str:
    return f"{prefix}/{LOG_FILE}"


# --- the manifest ----------------------------------------------------------------------


def upload_prefix(upload_id: str) -> str:
    """Where a chunked upload's pieces collect until its last chunk."""
    return f"uploads/{upload_id}"


def upload_piece_path(upload_id: str, offset: int) -> str:
    # Zero-padded, so the names sort in byte order.
    return f"{upload_prefix(upload_id)}/{offset:012d}"


def upload_pieces(upload_id: str) -> list[tuple[int, str]]:
    """The upload's stored pieces as (offset, name), in byte order."""
    prefix = upload_prefix(upload_id)
    pieces = [(int(name.rsplit("/", 1)[1]), name) for name in stored_under(prefix)]
    return sorted(pieces)


def content_type_for(path: str) -> str:
    """The content type a file is served with: Python's mimetypes, plus a charset for
    text, JavaScript and JSON (the front proxy's nginx types are made from this too)."""
    guessed, encoding = mimetypes.guess_type(path)
    if encoding:  # "app.js.gz" is a gzip file, not JavaScript
        return _ENCODED_TYPES.get(encoding, "application/octet-stream")
    kind = guessed or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        return f"{kind}; charset=utf-8"
    return kind


def write_manifest(
    prefix: str,
    files: dict[str, dict[str, Any]],
    rules: dict[str, Any],
    server: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store the manifest of a deployment's `files` (URL path -> entry) and `rules`, and
    for an ssr deployment how its `server` starts."""
    manifest: dict[str, Any] = {
        "version": 1,
        "createdAt": timezone.now().isoformat(),
        "fileCount": len(files),
        "size": sum(entry["size"] for entry in files.values()),
        "files": files,
        "rules": rules,
    }
    if server is not None:
        manifest["server"] = server
    artifacts().save(
        manifest_path(prefix), ContentFile(json.dumps(manifest, separators=(",", ":")).encode())
    )
    return manifest


def read_manifest(prefix: str) -> dict[str, Any]:
    with artifacts().open(manifest_path(prefix), "rb") as handle:
        return json.loads(handle.read())


def has_rules(manifest: dict[str, Any]) -> bool:
    """Whether the output had `_redirects` or `_headers` rules."""
    rules = manifest.get("rules") or {}
    return bool(rules.get("redirects") or rules.get("headers"))


def created_at(manifest: dict[str, Any]) -> datetime | None:
    """When the output was packaged (what Last-Modified says of its files)."""
    return parse_datetime(manifest.get("createdAt") or "")


# --- deleting --------------------------------------------------------------------------


def delete_prefix(prefix: str) -> int:
    """Delete every stored file under `prefix`; returns how many were deleted."""
    storage = artifacts()
    count = _delete_files(storage, prefix)
    if isinstance(storage, FileSystemStorage):  # leave no empty directories behind
        shutil.rmtree(storage.path(prefix), ignore_errors=True)
    log.info("storage.prefix_deleted", prefix=prefix, files=count)
    return count


def stored_under(prefix: str) -> list[str]:
    """The names stored under `prefix`, listed from the storage itself (what a purge
    checks after deleting: only an empty listing confirms the files are gone)."""
    storage = artifacts()
    return _list_files(storage, prefix)


def _list_files(storage: Storage, prefix: str) -> list[str]:
    try:
        directories, files = storage.listdir(prefix)
    except FileNotFoundError:
        return []
    names = [f"{prefix}/{name}" for name in files]
    for directory in directories:
        names.extend(_list_files(storage, f"{prefix}/{directory}"))
    return names


def _delete_files(storage: Storage, prefix: str) -> int:
    try:
        directories, files = storage.listdir(prefix)
    except FileNotFoundError:
        return 0
    for name in files:
        storage.delete(f"{prefix}/{name}")
    return len(files) + sum(_delete_files(storage, f"{prefix}/{d}") for d in directories)
