"""Source intake: check an uploaded archive and re-pack it as a clean `source.tar.gz`.

Users' archives are hostile until proven otherwise. An archive is accepted only if it
is a .tar.gz/.tgz or .zip, reads cleanly, stays inside its own tree (no absolute paths,
no "..", no links leading out), holds only files, directories and in-tree links, and
stays under the entry, size and compression-ratio limits. What is stored is a new
tar.gz holding exactly the accepted entries, with owners reset and set-id bits cleared.

Reading is strict, because a damaged archive would otherwise be accepted in part: the
whole compressed stream is read and checked (gzip's CRC32 and length, the tar's
end-of-archive marker, each zip member's CRC and size) before anything is stored.
"""

from __future__ import annotations

import datetime
import gzip
import io
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
_BLOCK = tarfile.BLOCKSIZE
_END_OF_ARCHIVE = bytes(_BLOCK)
# Tar writers pad the end of an archive to a whole record (10 KiB by default, more with
# a large blocking factor); more than this after the end marker is not padding.
MAX_END_PADDING = 1024 * 1024
_FILE_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)


class ArchiveRejected(ValueError):
    """The archive is refused; the message says why, for the person who sent it."""


def damaged(detail: str) -> ArchiveRejected:
    return ArchiveRejected(
        f"The archive is damaged (corrupt or cut short): {detail}. Create it again and upload it."
    )


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
    kind: str  # "file", "dir", "symlink" or "hardlink"
    mode: int
    mtime: float
    size: int = 0
    target: str = ""  # links only: a symlink's target as written, a hard link's checked
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


def _walk_link(name: str, target: str) -> list[str]:
    """The paths in the tree that a symbolic link's target goes through, in order; the
    last one it reaches is where it points (the tree's root when it ends at "").

    This resolves the text alone, each ".." undoing the name before it. That is what
    the link means on disk only if none of those paths is itself a link (a ".." after
    a link goes up from wherever that link leads): _refuse_link_chains checks it once
    the whole archive is read, since a link may go through one defined later.
    """
    _check_link(name, target, "symbolic link")  # not absolute, not above the root
    at = name.split("/")[:-1]  # the link's directory: real, as nothing is stored in a link
    walked = []
    for part in target.split("/"):
        if part == ".." and not at:
            raise ArchiveRejected(f"The symbolic link '{name}' points outside the archive.")
        if part == "..":
            at.pop()
        elif part not in ("", "."):
            at.append(part)
            walked.append("/".join(at))
    return [*walked, "/".join(at)]


def _relative(path: str, start: str) -> str:
    """`path` from the directory `start` (both in the tree): "../" up, then down."""
    to, start_parts = path.split("/") if path else [], start.split("/") if start else []
    common = 0
    while common < min(len(to), len(start_parts)) and to[common] == start_parts[common]:
        common += 1
    return "/".join([".."] * (len(start_parts) - common) + to[common:]) or "."


def _refuse_link_chains(links: dict[str, list[str]]) -> None:
    """Refuse any symbolic link whose target goes through or ends at another link.

    A link into the tree is safe only if what it names is a real file or directory: a
    chain can lead outside even when each link, read alone, stays inside (and
    tarfile's "data" filter, which checks each link as it extracts it, is beaten by
    putting a link before the link it goes through). So links may point only at files
    and directories; with nothing stored beneath a link either (_repack refuses that),
    every accepted link resolves on disk exactly as its normalised text says.
    """
    for name, walked in links.items():
        for path in walked:
            if path in links:
                raise ArchiveRejected(
                    f"The symbolic link '{name}' goes through the symbolic link '{path}': "
                    "a link may point only at a file or a directory, not at or through "
                    "another link."
                )


def _sniff(stream: BinaryIO) -> str:
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(GZIP_MAGIC):
        return "tar.gz"
    if head in ZIP_MAGICS:
        return "zip"
    raise ArchiveRejected("The file is not a .tar.gz, .tgz or .zip archive.")


def _tar_entries(stream: BinaryIO) -> Iterator[Entry]:
    # gzip.GzipFile checks each member's CRC32 and length and raises on a stream cut
    # short or followed by anything but zero padding; _TarReader reads it to its end.
    tar = _TarReader(gzip.GzipFile(fileobj=stream, mode="rb"))
    for member, content in tar.members():
        name = clean_name(member.name)
        if member.type == tarfile.DIRTYPE:
            yield Entry(name, "dir", member.mode, member.mtime)
        elif member.type in _FILE_TYPES:
            yield Entry(
                name, "file", member.mode, member.mtime, member.size, open=lambda c=content: c
            )
        elif member.type == tarfile.SYMTYPE:
            yield Entry(name, "symlink", 0o777, member.mtime, target=member.linkname)
        elif member.type == tarfile.LNKTYPE:
            # A hard link is stored as a copy of the file it names, which must be an
            # in-tree file seen earlier; so the tree keeps no hard links at all.
            target = clean_name(_check_link(name, member.linkname, "hard link"))
            yield Entry(name, "hardlink", member.mode, member.mtime, target=target)
        else:
            raise ArchiveRejected(
                f"The entry '{member.name}' is a device, FIFO or other special file."
            )


class _TarReader:
    """Walks an uncompressed tar stream header by header, to its very end.

    tarfile's own stream reader stops at the end-of-archive marker without reading what
    follows (so a cut-off gzip trailer goes unnoticed) and ends silently at a header it
    cannot read (so an archive cut at a member boundary looks complete). This reader
    parses each 512-byte header with tarfile.TarInfo.frombuf, applies the extended
    headers (PAX, GNU long names) itself, requires the end marker, and reads everything
    after it, so the decompressor verifies the stream's end.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def members(self) -> Iterator[tuple[tarfile.TarInfo, _Content | None]]:
        """Each member, with its content (files only) to be read before the next."""
        while (member := self._next_member()) is not None:
            content = _Content(self, member.size) if member.type in _FILE_TYPES else None
            yield member, content
            left = content.remaining if content is not None else 0
            size = member.size if content is not None else 0
            self.skip(left + (-size % _BLOCK), "a file's content")
        self._read_to_the_end()

    def _next_member(self) -> tarfile.TarInfo | None:
        extended: dict[str, str] = {}
        while True:
            block = self.read_exact(_BLOCK, "a header", at_end_ok=True)
            if not block:
                raise damaged("the tar data ends without its end-of-archive marker")
            if block == _END_OF_ARCHIVE:
                return None
            try:
                header = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
            except tarfile.HeaderError:
                raise damaged("a tar header is unreadable (bad checksum or field)") from None
            if header.type not in _EXTENDED_TYPES:
                return _apply_extended(header, extended)
            payload = self.read_exact(header.size, "an extended header")
            self.skip(-header.size % _BLOCK, "an extended header")
            extended.update(_extended_fields(header.type, payload))

    def _read_to_the_end(self) -> None:
        padding = 0
        while chunk := self.stream.read(_COPY_CHUNK):
            padding += len(chunk)
            if padding > MAX_END_PADDING:
                raise ArchiveRejected(
                    f"The archive holds more than {MAX_END_PADDING} bytes after the end "
                    "of the tar data."
                )

    def read_exact(self, size: int, what: str, *, at_end_ok: bool = False) -> bytes:
        """`size` bytes (or b"" at the very end, if at_end_ok); a short read means the
        data was cut inside `what`."""
        data = self.stream.read(size)
        while 0 < len(data) < size and (more := self.stream.read(size - len(data))):
            data += more
        if len(data) != size and not (at_end_ok and not data):
            raise damaged(f"the tar data ends inside {what}")
        return data

    def skip(self, size: int, what: str) -> None:
        while size:
            size -= len(self.read_exact(min(size, _COPY_CHUNK), what))


class _Content(io.RawIOBase):
    """One file's content in the tar stream: exactly its stated size, read in place."""

    def __init__(self, tar: _TarReader, size: int) -> None:
        self.tar = tar
        self.remaining = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        size = min(len(buffer), self.remaining)
        if not size:
            return 0
        data = self.tar.read_exact(size, "a file's content")
        buffer[:size] = data
        self.remaining -= size
        return size


# Extended headers: PAX per-file and global (and Solaris's per-file), GNU long names.
_EXTENDED_TYPES = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)


def _extended_fields(kind: bytes, payload: bytes) -> dict[str, str]:
    """The fields an extended header sets on the member that follows it."""
    if kind == tarfile.GNUTYPE_LONGNAME:
        return {"path": _text(payload.split(b"\0", 1)[0])}
    if kind == tarfile.GNUTYPE_LONGLINK:
        return {"linkpath": _text(payload.split(b"\0", 1)[0])}
    records = _pax_records(payload)
    # A global header's fields would apply to every later member; none that matters
    # here (path, size, ...) makes sense globally, so they are read and set aside.
    return {} if kind == tarfile.XGLTYPE else records


def _pax_records(payload: bytes) -> dict[str, str]:
    """PAX records, each "<length> <keyword>=<value>\\n" with length counting itself;
    NUL padding may follow the last."""
    records: dict[str, str] = {}
    at = 0
    while at < len(payload) and payload[at] != 0:
        space = payload.find(b" ", at, at + 20)
        length = int(payload[at:space]) if space > at and payload[at:space].isdigit() else 0
        record = payload[at : at + length]
        keyword, equals, value = record[space - at + 1 : -1].partition(b"=")
        if not equals or not keyword or not record.endswith(b"\n") or len(record) != length:
            raise damaged("a PAX extended header is malformed")
        records[_text(keyword)] = _text(value)
        at += length
    if payload[at:].strip(b"\0"):
        raise damaged("a PAX extended header is malformed")
    return records


def _text(raw: bytes) -> str:
    # As tarfile reads names: UTF-8, any other byte kept as a surrogate escape.
    return raw.decode("utf-8", "surrogateescape")


def _apply_extended(header: tarfile.TarInfo, fields: dict[str, str]) -> tarfile.TarInfo:
    if "path" in fields:
        header.name = fields["path"]
    if "linkpath" in fields:
        header.linkname = fields["linkpath"]
    if "size" in fields:
        if not fields["size"].isdigit():
            raise damaged("a PAX extended header has a size that is not a number")
        header.size = int(fields["size"])
    if "mtime" in fields:
        try:
            header.mtime = float(fields["mtime"])
        except ValueError:
            header.mtime = 0  # as tarfile does with a time it cannot read
    return header


def _zip_entries(stream: BinaryIO) -> Iterator[Entry]:
    _check_zip_end(stream)
    with zipfile.ZipFile(stream) as archive:
        for info in archive.infolist():
            if info.flag_bits & 0x1:
                raise ArchiveRejected(f"The entry '{info.filename}' is encrypted.")
            name = clean_name(info.filename)
            mode = (info.external_attr >> 16) & 0xFFFF
            mtime = _zip_time(info)
            file_type = stat.S_IFMT(mode)
            if info.is_dir():
                # Nothing needs a directory's data, but it is read all the same: its CRC
                # is checked only when it is read, and a directory holds no data.
                if _read_zip_member(archive, info, 0):
                    raise damaged(f"the directory entry '{info.filename}' holds data")
                yield Entry(name, "dir", 0o755, mtime)
            elif file_type == stat.S_IFLNK:
                target = archive.read(info).decode("utf-8", "replace")
                yield Entry(name, "symlink", 0o777, mtime, target=target)
            elif file_type in (0, stat.S_IFREG):
                yield Entry(
                    name,
                    "file",
                    (mode & 0o777) or 0o644,
                    mtime,
                    info.file_size,
                    open=lambda i=info: _ZipMember(archive.open(i), i),
                )
            else:
                raise ArchiveRejected(
                    f"The entry '{info.filename}' is a device, FIFO or other special file."
                )


# Fields of the end-of-central-directory record as zipfile._EndRecData returns it.
_END_COMMENT_SIZE, _END_COMMENT = 7, 8


def _check_zip_end(stream: BinaryIO) -> None:
    """A zip is read from its end: without its end record (the zip's table of contents,
    written last), it was cut short. The record is found as ZipFile finds it, with the
    same function, so this check and ZipFile read the same record."""
    end = zipfile._EndRecData(stream)
    stream.seek(0)
    if end is None:
        raise damaged("its end record, written last, is missing")
    if len(end[_END_COMMENT]) < end[_END_COMMENT_SIZE]:
        raise damaged("it ends inside its comment")


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A small member's data, read to its end (which checks its CRC and size); at most
    `limit` + 1 bytes are read, so more than `limit` means it holds more."""
    with _ZipMember(archive.open(info), info) as member:
        return member.read(limit + 1)


class _ZipMember(io.RawIOBase):
    """A zip member's data that must match its stated size: zipfile checks the CRC when
    a read reaches the end, but not that the data was as long as the directory says."""

    def __init__(self, member: IO[bytes], info: zipfile.ZipInfo) -> None:
        self.member = member
        self.info = info
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self.member.read(len(buffer))
        self.total += len(data)
        if not data and self.total != self.info.file_size:
            raise damaged(f"the entry '{self.info.filename}' is shorter than its stated size")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.member.close()
        super().close()


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
    except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile, zlib.error, OSError) as exc:
        os.unlink(path)
        raise damaged(_damage(exc)) from None
    except BaseException:
        os.unlink(path)
        raise


def _damage(exc: BaseException) -> str:
    """What a reader's exception says about the archive, in words (the reader's own
    text when there are none better)."""
    text = str(exc)
    if isinstance(exc, EOFError):
        return "its data ends before the end of the compressed stream"
    if isinstance(exc, zlib.error):
        return "its compressed data is invalid"
    if isinstance(exc, gzip.BadGzipFile):
        if text.startswith("Not a gzipped file"):
            return "there is data after the end of the compressed stream"
        if text.startswith("CRC check failed"):
            return "its checksum (CRC32) does not match its content"
        if text.startswith("Incorrect length"):
            return "its stated length does not match its content"
    if isinstance(exc, zipfile.BadZipFile) and text.startswith("Bad CRC-32 for file "):
        return f"the entry {text.removeprefix('Bad CRC-32 for file ')} fails its checksum (CRC32)"
    return text


def _repack(upload: BinaryIO, kind: str, path: str, compressed: int, limits: Limits) -> Source:
    entries = _tar_entries(upload) if kind == "tar.gz" else _zip_entries(upload)
    count = 0
    unpacked = 0
    files: dict[str, int] = {}  # name -> size, for hard links
    names: set[str] = set()
    dirs: set[str] = set()
    links: dict[str, list[str]] = {}  # symlink -> the paths its target goes through
    with tarfile.open(path, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as out:
        for entry in entries:
            count += 1
            if count > limits.max_entries:
                raise ArchiveRejected(f"The archive has more than {limits.max_entries} entries.")
            if not entry.name:
                continue  # the archive's own root ("./")
            _check_place(entry, names, dirs)
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
                links[entry.name] = _walk_link(entry.name, entry.target)
                info.type = tarfile.SYMTYPE
                # Stored normalised: the path it reaches, from the link's directory.
                info.linkname = _relative(links[entry.name][-1], posixpath.dirname(entry.name))
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
    _refuse_link_chains(links)
    return Source(path, os.path.getsize(path), count, unpacked, directories=dirs)


def _check_place(entry: Entry, names: set[str], dirs: set[str]) -> None:
    """Each name once, and nothing stored inside a file or a link (in either order):
    so the directories a path goes through are real directories."""
    if entry.name in names:
        raise ArchiveRejected(f"The entry '{entry.name}' appears twice.")
    if entry.kind != "dir" and entry.name in dirs:
        raise ArchiveRejected(
            f"The entry '{entry.name}' is not a directory, but other entries are stored in it."
        )
    for parent in _parents(entry.name):
        if parent in names and parent not in dirs:
            raise ArchiveRejected(
                f"The entry '{entry.name}' is stored in '{parent}', which is not a directory."
            )


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
