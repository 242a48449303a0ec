"""A deployment's packaged server as the schedulers hand it to an engine: re-packed so
that nothing in it can be more than plain files owned by root (both backends), and
small archives of their own making."""

from __future__ import annotations

import io
import tarfile
from pathlib import PurePosixPath
from typing import IO


def sanitized(source: IO[bytes], target: IO[bytes], prefix: str = "") -> None:
    """Re-pack the bundle as files, directories and links only, owned by root, readable
    by everyone, with no set-id bits and no name leaving the directory; each name under
    `prefix` (e.g. "app/", for an image's build context) when given."""
    with (
        tarfile.open(fileobj=source, mode="r:*") as src,
        tarfile.open(fileobj=target, mode="w") as dst,
    ):
        if prefix:
            dst.addfile(_directory(prefix.rstrip("/")))
        for member in src:
            parts = PurePosixPath(member.name.lstrip("/")).parts
            if (
                not parts
                or ".." in parts
                or not (member.isfile() or member.isdir() or member.issym())
            ):
                continue
            name = "/".join(p for p in parts if p != ".")
            if not name:
                continue
            member.name = prefix + name
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            executable = member.isdir() or member.mode & 0o111
            member.mode = 0o755 if executable else 0o644
            dst.addfile(member, src.extractfile(member) if member.isfile() else None)


def one_file(name: str, data: bytes) -> bytes:
    """An uncompressed archive holding one file (root's, 0644)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        add_file(archive, name, data)
    return buffer.getvalue()


def add_file(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    archive.addfile(info, io.BytesIO(data))


def _directory(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info
