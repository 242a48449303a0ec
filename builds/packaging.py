"""Packaging: store a build's output files with a manifest the edge serves from.

`manifest.json` maps each URL path to the file's size, SHA-256, content type and the
sizes of its precompressed variants (gzip and brotli, for compressible files over
1 KB, kept only when smaller). The output is also kept as `output.tar.gz` for download.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import mimetypes
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
from django.core.files import File
from django.core.files.base import ContentFile
from django.utils import timezone

from deployments.edge.rules import (
    HEADERS_FILE,
    REDIRECTS_FILE,
    RulesError,
    parse_headers,
    parse_redirects,
)
from deployments.errors import BuildError, ErrorCode
from deployments.storage import MANIFEST_FILE, OUTPUT_ARCHIVE, OUTPUT_DIR, artifacts

COMPRESS_MIN_SIZE = 1024
COMPRESSED_DIR = "compressed"
_COMPRESSIBLE_TYPES = {
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "application/xml",
    "application/wasm",
    "image/svg+xml",
    "application/x-javascript",
    "font/ttf",
    "font/otf",
    "application/vnd.ms-fontobject",
}
mimetypes.add_type("application/javascript", ".mjs")
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("application/wasm", ".wasm")


@dataclass(frozen=True)
class Packaged:
    manifest: dict[str, Any]
    output_size: int
    file_count: int


_ENCODED_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
}


def content_type_for(path: str) -> str:
    guessed, encoding = mimetypes.guess_type(path)
    if encoding:  # "app.js.gz" is a gzip file, not JavaScript
        return _ENCODED_TYPES.get(encoding, "application/octet-stream")
    kind = guessed or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        return f"{kind}; charset=utf-8"
    return kind


def is_compressible(content_type: str) -> bool:
    kind = content_type.split(";")[0]
    return kind.startswith("text/") or kind in _COMPRESSIBLE_TYPES


def _files(root: Path) -> list[tuple[str, Path]]:
    """(relative path, file) for every regular file under root, in a stable order.
    In-tree symbolic links to files count as those files; anything else is skipped."""
    found = []
    resolved_root = root.resolve()
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            real = path.resolve()
            if real.is_file() and real.is_relative_to(resolved_root):
                found.append((path.relative_to(root).as_posix(), real))
    return sorted(found)


def package(output_dir: Path, storage_prefix: str, output_directory: str) -> Packaged:
    """Store every file of `output_dir` under `{storage_prefix}/output/` and write the
    manifest; raises BuildError(output_missing) when there is nothing to serve."""
    files = _files(output_dir)
    if not files:
        raise BuildError(
            ErrorCode.OUTPUT_MISSING,
            f"The output directory '{output_directory}' is empty after the build.",
        )
    storage = artifacts()
    entries: dict[str, dict[str, Any]] = {}
    total = 0
    for relative, path in files:
        data = path.read_bytes()
        content_type = content_type_for(relative)
        entry: dict[str, Any] = {
            "size": len(data),
            "hash": hashlib.sha256(data).hexdigest(),
            "type": content_type,
            "gzip": None,
            "br": None,
        }
        storage.save(f"{storage_prefix}/{OUTPUT_DIR}/{relative}", ContentFile(data))
        if len(data) > COMPRESS_MIN_SIZE and is_compressible(content_type):
            for variant, compressed in (
                ("gzip", gzip.compress(data, compresslevel=9, mtime=0)),
                ("br", brotli.compress(data, quality=11 if len(data) < 1 << 20 else 5)),
            ):
                if len(compressed) < len(data):
                    suffix = "gz" if variant == "gzip" else "br"
                    name = f"{storage_prefix}/{COMPRESSED_DIR}/{relative}.{suffix}"
                    storage.save(name, ContentFile(compressed))
                    entry[variant] = len(compressed)
        entries["/" + relative] = entry
        total += len(data)
    manifest = {
        "version": 1,
        "createdAt": timezone.now().isoformat(),
        "fileCount": len(entries),
        "size": total,
        "files": entries,
        "rules": _rules(output_dir),
    }
    storage.save(
        f"{storage_prefix}/{MANIFEST_FILE}",
        ContentFile(json.dumps(manifest, separators=(",", ":")).encode()),
    )
    _store_archive(output_dir, files, f"{storage_prefix}/{OUTPUT_ARCHIVE}")
    return Packaged(manifest, total, len(entries))


def _rules(output_dir: Path) -> dict[str, Any]:
    """`_redirects` and `_headers` at the output's root, parsed once, here; a malformed
    line fails the build with the file and line number."""
    parsed: dict[str, Any] = {"redirects": [], "headers": []}
    for filename, key, parse in (
        (REDIRECTS_FILE, "redirects", parse_redirects),
        (HEADERS_FILE, "headers", parse_headers),
    ):
        path = output_dir / filename
        if not path.is_file():
            continue
        try:
            parsed[key] = parse(path.read_text(encoding="utf-8", errors="strict"))
        except UnicodeDecodeError:
            raise BuildError(ErrorCode.RULES_INVALID, f"{filename} is not UTF-8 text.") from None
        except RulesError as exc:
            raise BuildError(ErrorCode.RULES_INVALID, str(exc)) from exc
    return parsed


def _store_archive(root: Path, files: list[tuple[str, Path]], name: str) -> None:
    with tempfile.TemporaryFile() as handle:
        with tarfile.open(fileobj=handle, mode="w:gz") as archive:
            for relative, path in files:
                archive.add(path, arcname=relative, recursive=False)
        handle.seek(0)
        artifacts().save(name, File(handle))


def read_manifest(storage_prefix: str) -> dict[str, Any]:
    with artifacts().open(f"{storage_prefix}/{MANIFEST_FILE}", "rb") as handle:
        return json.load(io.TextIOWrapper(handle, encoding="utf-8"))
