"""Source intake: check an uploaded archive and re-pack it as a clean `source.tar.gz`.

Users' archives are hostile until proven otherwise. An archive is accepted only if it
is a .tar.gz/.tgz or .zip, reads cleanly, stays inside its own tree (no absolute paths,
no "..", no links leading out), holds only files, directories and in-tree links, and
stays under the entry, size and compression-ratio limits. What is stored is a new
tar.gz holding exactly the accepted entries, with owners reset and set-id bits cleared.
"""

from __future__ import annotations

import datetime
import os
import posixpath
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from django.conf import settings

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_COPY_CHUNK = 1024 * 1024
# Below this unpacked size the ratio check is skipped: tiny text compresses very well.
_RATIO_FLOOR = 8 * 1024 * 1024


class ArchiveRejected(ValueError):
    """The archive is refused; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class Limits:
    max_archive_size: int
    max_entries: int
    max_unpacked_size: int
    max_ratio: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_archive_size=settings.SHIPWAY_MAX_UPLOAD_SIZE,
            max_entries=settings.SHIPWAY_MAX_ARCHIVE_ENTRIES,
            max_unpacked_size=settings.SHIPWAY_MAX_UNPACKED_SIZE,
            max_ratio=settings.SHIPWAY_MAX_COMPRESSION_RATIO,
        )


@dataclass
class Entry:
    """One accepted entry, read from either archive format."""

    name: str
    kind: str  # "file", "dir" or "symlink"
    mode: int
    mtime: float
    size: int = 0
    target: str = ""  # symlinks only
    open: object = None  # files only: () -> binary stream of the content


@dataclass
class Source:
    """A checked source: the re-packed tar.gz on local disk and what it holds."""

    path: str
    size: int
    entries: int
    unpacked_size: int
    directories: set[str] = field(default_factory=set, repr=False)

    def discard(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)


def clean_name(raw: str) -> str:
    """The entry's path inside the tree, or ArchiveRejected when it points outside."""
    if "\x00" in raw:
        raise ArchiveRejected("An entry's name contains a NUL byte.")
    name = raw.replace("\\", "/") if "\\" in raw and "/" not in raw else raw
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveRejected(f"The entry '{raw}' has an absolute path.")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveRejected(f"The entry '{raw}' points outside the archive ('..').")
    return "/".join(parts)


def _check_link(name: str, target: str, kind: str) -> str:
    if not target or target.startswith("/") or "\x00" in target:
        raise ArchiveRejected(f"The {kind} '{name}' points outside the archive ('{target}').")
    base = posixpath.dirname(name) if kind == "symbolic link" else ""
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        raise ArchiveRejected(f"The {kind} '{name}' points outside the archive ('{target}').")
    return resolved


def _sniff(stream: BinaryIO) -> str:
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(GZIP_MAGIC):
        return "tar.gz"
    if head in ZIP_MAGICS:
        return "zip"
    raise ArchiveRejected("The file is not a .tar.gz, .tgz or .zip archive.")


def _tar_entries(stream: BinaryIO) -> Iterator[Entry]:
    with tarfile.open(fileobj=stream, mode="r|gz") as archive:
        for member in archive:
            name = clean_name(member.name)
            if member.isdir():
                yield Entry(name, "dir", member.mode, member.mtime)
            elif member.isfile():
                yield Entry(
                    name,
                    "file",
                    member.mode,
                    member.mtime,
                    member.size,
                    open=lambda m=member: archive.extractfile(m),
                )
            elif member.issym():
                _check_link(name, member.linkname, "symbolic link")
                yield Entry(name, "symlink", 0o777, member.mtime, target=member.linkname)
            elif member.islnk():
                # A hard link is stored as a copy of the file it names, which must be an
                # in-tree file seen earlier; so the tree keeps no hard links at all.
                target = clean_name(_check_link(name, member.linkname, "hard link"))
                yield Entry(name, "hardlink", member.mode, member.mtime, target=target)
            else:
                raise ArchiveRejected(
                    f"The entry '{member.name}' is a device, FIFO or other special file."
                )


def _zip_entries(stream: BinaryIO) -> Iterator[Entry]:
    with zipfile.ZipFile(stream) as archive:
        for info in archive.infolist():
            if info.flag_bits & 0x1:
                raise ArchiveRejected(f"The entry '{info.filename}' is encrypted.")
            name = clean_name(info.filename)
            mode = (info.external_attr >> 16) & 0xFFFF
            mtime = _zip_time(info)
            file_type = stat.S_IFMT(mode)
            if info.is_dir():
                yield Entry(name, "dir", 0o755, mtime)
            elif file_type == stat.S_IFLNK:
                target = archive.read(info).decode("utf-8", "replace")
                _check_link(name, target, "symbolic link")
                yield Entry(name, "symlink", 0o777, mtime, target=target)
            elif file_type in (0, stat.S_IFREG):
                yield Entry(
                    name,
                    "file",
                    (mode & 0o777) or 0o644,
                    mtime,
                    info.file_size,
                    open=lambda i=info: archive.open(i),
                )
            else:
                raise ArchiveRejected(
                    f"The entry '{info.filename}' is a device, FIFO or other special file."
                )


def _zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return datetime.datetime(*info.date_time, tzinfo=datetime.UTC).timestamp()
    except ValueError:
        return 0.0


def _safe_mode(mode: int, kind: str) -> int:
    default = 0o755 if kind == "dir" else 0o644
    mode = (mode & 0o777) or default
    return mode | (0o700 if kind == "dir" else 0o600)  # the builder must read its own tree


def check_and_repack(
    upload: BinaryIO, *, root_directory: str = "", limits: Limits | None = None
) -> Source:
    """Check an uploaded archive and write the accepted tree as a new tar.gz.

    Raises ArchiveRejected (and leaves no file behind) when anything is wrong.
    """
    limits = limits or Limits.from_settings()
    upload.seek(0, os.SEEK_END)
    compressed = upload.tell()
    upload.seek(0)
    if compressed == 0:
        raise ArchiveRejected("The archive is empty.")
    if compressed > limits.max_archive_size:
        raise ArchiveRejected(
            f"The archive is {compressed} bytes; the limit is {limits.max_archive_size}."
        )
    kind = _sniff(upload)
    handle, path = tempfile.mkstemp(prefix="shipway-source-", suffix=".tar.gz")
    os.close(handle)
    try:
        source = _repack(upload, kind, path, compressed, limits)
        if root_directory and root_directory.strip("/") not in source.directories:
            raise ArchiveRejected(
                f"The site's rootDirectory '{root_directory}' is not a directory in the archive."
            )
        return source
    except ArchiveRejected:
        os.unlink(path)
        raise
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        os.unlink(path)
        raise ArchiveRejected(f"The archive is corrupt or truncated ({exc}).") from None
    except BaseException:
        os.unlink(path)
        raise


def _repack(upload: BinaryIO, kind: str, path: str, compressed: int, limits: Limits) -> Source:
    entries = _tar_entries(upload) if kind == "tar.gz" else _zip_entries(upload)
    count = 0
    unpacked = 0
    files: dict[str, int] = {}  # name -> size, for hard links
    names: set[str] = set()
    dirs: set[str] = set()
    with tarfile.open(path, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as out:
        for entry in entries:
            count += 1
            if count > limits.max_entries:
                raise ArchiveRejected(f"The archive has more than {limits.max_entries} entries.")
            if not entry.name:
                continue  # the archive's own root ("./")
            if entry.name in names or (entry.kind != "dir" and entry.name in dirs):
                raise ArchiveRejected(f"The entry '{entry.name}' appears twice.")
            for parent in _parents(entry.name):
                if parent in names and parent not in dirs:
                    raise ArchiveRejected(f"The entry '{entry.name}' is inside a non-directory.")
            info = tarfile.TarInfo(entry.name)
            info.mtime = int(entry.mtime)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            data: IO[bytes] | None = None
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = _safe_mode(entry.mode, "dir")
                dirs.add(entry.name)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
                info.mode = 0o777
            elif entry.kind == "hardlink":
                if entry.target not in files:
                    raise ArchiveRejected(
                        f"The hard link '{entry.name}' names '{entry.target}', "
                        "which is not a file earlier in the archive."
                    )
                info.type = tarfile.LNKTYPE
                info.linkname = entry.target
                info.mode = _safe_mode(entry.mode, "file")
            else:
                info.mode = _safe_mode(entry.mode, "file")
                budget = limits.max_unpacked_size - unpacked
                data, info.size = _read_limited(entry.open(), budget, limits)
                files[entry.name] = info.size
                unpacked += info.size
                _check_ratio(unpacked, compressed, limits)
            names.add(entry.name)
            dirs.update(_parents(entry.name))
            out.addfile(info, data)
            if data is not None:
                data.close()
    return Source(path, os.path.getsize(path), count, unpacked, directories=dirs)


def _parents(name: str) -> Iterator[str]:
    parts = name.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[:i])


def _read_limited(stream: IO[bytes], budget: int, limits: Limits) -> tuple[IO[bytes], int]:
    """Decompress one file into memory (or a spooled temp file), stopping at the budget:
    a size in the archive's header is never trusted. Returns the data and its size."""
    buffer = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115 (returned open)
    total = 0
    with stream:
        while chunk := stream.read(_COPY_CHUNK):
            total += len(chunk)
            if total > budget:
                buffer.close()
                raise ArchiveRejected(
                    f"The archive unpacks to more than {limits.max_unpacked_size} bytes."
                )
            buffer.write(chunk)
    buffer.seek(0)
    return buffer, total  # type: ignore[return-value]


def _check_ratio(unpacked: int, compressed: int, limits: Limits) -> None:
    if unpacked > _RATIO_FLOOR and unpacked > compressed * limits.max_ratio:
        raise ArchiveRejected(
            f"The archive expands more than {limits.max_ratio} times; "
            "it looks like a decompression bomb."
        )
