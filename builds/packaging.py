"""Packaging: store a build's output files with a manifest the edge serves from.

Each file is stored with its precompressed variants (gzip and brotli, for compressible
files over 1 KB, kept only when smaller) and described in `manifest.json`; the output
is also kept as `output.tar.gz` for download. For an ssr build the files are its static
assets, and its checked server archive (builds/serverpack.py) is stored as
`server.tar.gz` with the manifest's `server: {command, size}`. Where they go and what
the manifest says is deployments/artifacts.py's.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import brotli
from django.core.files import File

from builds.output import CHUNK, MB, describe_size
from deployments.artifacts import (
    artifacts,
    compressed_path,
    content_type_for,
    output_archive_path,
    output_path,
    server_archive_path,
    write_manifest,
)
from deployments.errors import BuildError, ErrorCode
from deployments.rules import (
    HEADERS_FILE,
    REDIRECTS_FILE,
    RulesError,
    parse_headers,
    parse_redirects,
)

COMPRESS_MIN_SIZE = 1024
RULES_MAX_BYTES = 8 * MB  # a `_redirects` or `_headers` file is parsed whole
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


@dataclass(frozen=True)
class Packaged:
    manifest: dict[str, Any]
    output_size: int
    file_count: int
    server_size: int = 0  # ssr: the bytes of server.tar.gz


@dataclass(frozen=True)
class Server:
    """An ssr build's server, as packaging stores it."""

    archive: Path  # the checked server.tar.gz
    command: str  # what starts it, in its directory


def is_compressible(content_type: str) -> bool:
    kind = content_type.split(";")[0]
    return kind.startswith("text/") or kind in _COMPRESSIBLE_TYPES


def _files(root: Path) -> list[tuple[str, Path]]:
    """(relative path, file) for every regular file under root, in a stable order. The
    output holds only files and directories (builds/output.py copied it so); anything
    else is skipped, and nothing is followed."""
    found = []
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                found.append((path.relative_to(root).as_posix(), path))
    return sorted(found)


def _open_regular(path: Path) -> BinaryIO:
    """Open a file of the output: never through a link, and only a regular file."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    handle = open(descriptor, "rb")  # noqa: SIM115 (the caller closes it)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        handle.close()
        raise OSError(f"{path} is not a regular file")
    return handle


def package(
    output_dir: Path, storage_prefix: str, output_directory: str, server: Server | None = None
) -> Packaged:
    """Store every file of `output_dir` under `{storage_prefix}/output/` (and an ssr
    build's server) and write the manifest; raises BuildError(output_missing) when there
    is nothing to serve (a server may come without static assets)."""
    files = _files(output_dir)
    if not files and server is None:
        raise BuildError(
            ErrorCode.OUTPUT_MISSING,
            f"The output directory '{output_directory}' is empty after the build.",
        )
    entries = {
        "/" + relative: _store_file(storage_prefix, relative, path) for relative, path in files
    }
    described: dict[str, Any] | None = None
    if server is not None:
        with _open_regular(server.archive) as archive:
            size = os.fstat(archive.fileno()).st_size
            artifacts().save(server_archive_path(storage_prefix), File(archive))
        described = {"command": server.command, "size": size}
    # The manifest last: once it is there, everything it names is stored.
    _store_archive(files, output_archive_path(storage_prefix))
    manifest = write_manifest(storage_prefix, entries, _rules(dict(files)), server=described)
    server_size = int(described["size"]) if described else 0
    return Packaged(manifest, manifest["size"], len(entries), server_size)


def _store_file(storage_prefix: str, relative: str, path: Path) -> dict[str, Any]:
    """Store one file and its compressed variants, reading it once, a chunk at a time
    (hashed and compressed as it goes); returns its manifest entry."""
    storage = artifacts()
    content_type = content_type_for(relative)
    with _open_regular(path) as source, contextlib.ExitStack() as stack:
        stated = os.fstat(source.fileno()).st_size
        variants = (
            _Variants(stack, quality=11 if stated < 1 << 20 else 5)
            if stated > COMPRESS_MIN_SIZE and is_compressible(content_type)
            else None
        )
        digest, size = hashlib.sha256(), 0
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if variants:
                variants.write(chunk)
        source.seek(0)
        storage.save(output_path(storage_prefix, relative), File(source))
        entry: dict[str, Any] = {
            "size": size,
            "hash": digest.hexdigest(),
            "type": content_type,
            "gzip": None,
            "br": None,
        }
        if variants:
            for variant, handle in variants.finish():
                if handle.tell() < size:  # kept only when smaller
                    entry[variant] = handle.tell()
                    handle.seek(0)
                    storage.save(compressed_path(storage_prefix, relative, variant), File(handle))
    return entry


class _Variants:
    """A file's gzip and brotli variants, compressed into temporary files as it is read."""

    def __init__(self, stack: contextlib.ExitStack, quality: int) -> None:
        # Closed with the caller's stack, once they are stored.
        self.gzip_file = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        self.brotli_file = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self.gzip_file, compresslevel=9, mtime=0
        )
        self._brotli = brotli.Compressor(quality=quality)

    def write(self, chunk: bytes) -> None:
        self._gzip.write(chunk)
        self.brotli_file.write(self._brotli.process(chunk))

    def finish(self) -> list[tuple[str, BinaryIO]]:
        """(variant, its file positioned at its end) for each."""
        self._gzip.close()  # writes the trailer; leaves gzip_file open
        self.brotli_file.write(self._brotli.finish())
        return [("gzip", self.gzip_file), ("br", self.brotli_file)]


def _rules(files: dict[str, Path]) -> dict[str, Any]:
    """`_redirects` and `_headers` at the output's root, parsed once, here; a malformed
    line fails the build with the file and line number."""
    parsed: dict[str, Any] = {"redirects": [], "headers": []}
    for filename, key, parse in (
        (REDIRECTS_FILE, "redirects", parse_redirects),
        (HEADERS_FILE, "headers", parse_headers),
    ):
        path = files.get(filename)
        if path is None:
            continue
        with _open_regular(path) as handle:
            raw = handle.read(RULES_MAX_BYTES + 1)
        if len(raw) > RULES_MAX_BYTES:
            raise BuildError(
                ErrorCode.RULES_INVALID,
                f"{filename} is larger than {describe_size(RULES_MAX_BYTES)}.",
            )
        try:
            # Universal newlines, as a text file is read (a lone CR ends a line too).
            text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="strict").read()
            parsed[key] = parse(text)
        except UnicodeDecodeError:
            raise BuildError(ErrorCode.RULES_INVALID, f"{filename} is not UTF-8 text.") from None
        except RulesError as exc:
            raise BuildError(ErrorCode.RULES_INVALID, str(exc)) from exc
    return parsed


def _store_archive(files: list[tuple[str, Path]], name: str) -> None:
    with tempfile.TemporaryFile() as handle:
        with tarfile.open(fileobj=handle, mode="w:gz") as archive:
            for relative, path in files:
                with _open_regular(path) as source:
                    archive.addfile(archive.gettarinfo(arcname=relative, fileobj=source), source)
        handle.seek(0)
        artifacts().save(name, File(handle))
