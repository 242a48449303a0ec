"""HTTP responses for stored files: headers prepared once, conditional and range requests.

A `PreparedFile` is made the first time a (path, encoding) of a deployment is asked
for and reused after: its status line, headers (with Content-Length) and (for small
files) body are ready to send, so a repeat request costs a dict lookup and two ASGI
messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from deployments.artifacts import VARIANTS, compressed_path, output_path
from edge.served import Served, local_path

SMALL_FILE = 512 * 1024  # bodies up to this size are kept in memory
HTML_CACHE = b"public, max-age=0, must-revalidate"
IMMUTABLE_CACHE = b"public, max-age=31536000, immutable"
# A build tool's content hash in the name (index-BvX3k1aQ.js, main.3f2a9c1e.css).
_FINGERPRINT = re.compile(
    r"[.-](?=[A-Za-z0-9_]*\d)[A-Za-z0-9_]{8,}\."
    r"(?:js|mjs|css|woff2?|ttf|otf|png|jpe?g|gif|svg|webp|avif|ico|wasm|map|json)$"
)


@dataclass
class PreparedFile:
    status: int
    headers: list[tuple[bytes, bytes]]
    etag: bytes
    size: int
    body: bytes | None  # None: read from `path` when sending
    path: str
    identity: bool  # ranges are served only on the uncompressed representation
    # `headers` and the whole body's Content-Length: what the usual request (no range,
    # no condition) is sent with, made once rather than per request.
    full_headers: list[tuple[bytes, bytes]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.full_headers = [*self.headers, (b"content-length", str(self.size).encode())]


def cache_control(path: str, content_type: str) -> bytes:
    if content_type.startswith("text/html"):
        return HTML_CACHE
    return IMMUTABLE_CACHE if _FINGERPRINT.search(path) else HTML_CACHE


def choose_encoding(accept: bytes, entry: dict[str, Any]) -> str:
    """The stored variant to send: brotli, then gzip, when the client takes it."""
    if not accept or not (entry.get("br") or entry.get("gzip")):
        return ""
    accepted = _accepted(accept)
    if entry.get("br") and "br" in accepted:
        return "br"
    if entry.get("gzip") and "gzip" in accepted:
        return "gzip"
    return ""


def _accepted(accept: bytes) -> set[str]:
    names = set()
    for part in accept.decode("latin-1").lower().split(","):
        name, _, params = part.strip().partition(";")
        if params.replace(" ", "").startswith("q=0") and params.strip(" q=0.") == "":
            continue  # q=0 means "not this one"
        names.add(name.strip())
    return names


def prepare(
    served: Served,
    file_path: str,
    encoding: str,
    status: int = 200,
    extra_headers: list[tuple[str, str]] | None = None,
) -> PreparedFile:
    """Headers (and, for a small file, the body) of one file of a deployment."""
    entry = served.files[file_path]
    relative = file_path.lstrip("/")
    if encoding:
        stored = compressed_path(served.prefix, relative, encoding)
        size = entry[encoding]
        etag = f'"{entry["hash"][:32]}-{VARIANTS[encoding]}"'.encode()
    else:
        stored = output_path(served.prefix, relative)
        size = entry["size"]
        etag = f'"{entry["hash"][:32]}"'.encode()
    path = str(local_path(stored))
    content_type = entry["type"]
    headers = [
        (b"content-type", content_type.encode()),
        (b"etag", etag),
        (b"cache-control", cache_control(file_path, content_type)),
        (b"accept-ranges", b"bytes"),
    ]
    if served.last_modified:
        headers.append((b"last-modified", served.last_modified.encode()))
    if entry.get("br") or entry.get("gzip"):
        headers.append((b"vary", b"Accept-Encoding"))
    if encoding:
        headers.append((b"content-encoding", encoding.encode()))
    for name, value in extra_headers or ():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    body = None
    if size <= SMALL_FILE:
        with open(path, "rb") as handle:
            body = handle.read()
    return PreparedFile(status, headers, etag, size, body, path, identity=not encoding)


def not_modified(
    prepared: PreparedFile, if_none_match: bytes, if_modified_since: bytes, last_modified: str
) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since; weak comparison for ETags."""
    if if_none_match:
        if if_none_match.strip() == b"*":
            return True
        tags = [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
        return prepared.etag in tags
    return bool(if_modified_since) and if_modified_since.decode("latin-1") == last_modified


_RANGE = re.compile(rb"^bytes=(\d*)-(\d*)$")


def parse_range(header: bytes, size: int) -> tuple[int, int] | Literal[False] | None:
    """(start, end inclusive) for a single satisfiable range; None to ignore the header
    (malformed or several ranges: the full body is a valid answer); False when the range
    cannot be satisfied (416)."""
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    if start >= size:
        return False
    end = int(last) if last else size - 1
    if end < start:
        return None
    return start, min(end, size - 1)
