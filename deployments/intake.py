"""Source intake: check an uploaded archive and re-pack it as a clean `source.tar.gz`.

Users' archives are hostile until proven otherwise. An archive is accepted only if it
is a .tar.gz/.tgz or .zip, reads cleanly, stays inside its own tree (no absolute paths,
no "..", no links leading out), holds only files, directories and in-tree links, and
stays under the entry, size and compression-ratio limits. What is stored is a new
tar.gz holding exactly the accepted entries, with owners reset and set-id bits cleared.

Reading is strict, because a damaged archive would otherwise be accepted in part: the
whole compressed stream is read and checked (gzip's CRC32 and length, the tar's
end-of-archive marker, each zip member's CRC and size) before anything is stored.

Reading is bounded too, because an archive's headers are as hostile as its content: a
name, a link target and an extended tar header each have a size limit checked before
they are read, a zip's table of contents is counted before zipfile loads it, paths are
held as a tree (never as every prefix of every path), and a refusal quotes at most a
short, escaped excerpt of what was sent.
"""

from __future__ import annotations

import datetime
import io
import lzma
import math
import os
import posixpath
import stat
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
# a large blocking factor), and tapes pad gzip files with zeros; more than this, after
# the tar's end marker or after the compressed data, is not padding.
MAX_END_PADDING = 1024 * 1024
MAX_GZIP_MEMBERS = 10_000  # gzip streams one after another, read as one
_FILE_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)

# Bounds on what an archive's headers may make us read or hold, whatever its size says.
# A path longer than PATH_MAX cannot be created on Linux, so no real tree has one.
MAX_NAME = 4096
MAX_NAME_PART = 255
MAX_LINK_TARGET = 4096
# An extended header (PAX, or a GNU long name) is read whole before the member it
# describes; real ones hold a long name and a few times, well under this.
MAX_EXTENDED_HEADER = 64 * 1024
MAX_EXTENDED_IN_A_ROW = 8  # a member has at most a few (g, x, L, K)
MAX_EXTENDED_HEADERS_TOTAL = 64 * 1024 * 1024
_QUOTE_LIMIT = 100


# Refusals and results -----------------------------------------------------------------


class ArchiveRejected(ValueError):
    """The archive is refused; the message says why, for the person who sent it."""


def quote(text: str, limit: int = _QUOTE_LIMIT) -> str:
    """Something the user sent, fit for a message: quoted, with control characters and
    stray bytes escaped, and cut after `limit` characters (with "…"). A name or target
    in the archive can be megabytes long; the message stays a line."""
    shown: list[str] = []
    size = 0
    for char in text:
        escaped = char if char.isprintable() and char != "\\" else repr(char)[1:-1]
        size += len(escaped)
        if size > limit:
            return "'" + "".join(shown) + "…'"
        shown.append(escaped)
    return "'" + "".join(shown) + "'"


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
    # Files only: the content's stream. (Its callers bind a default argument: so "...".)
    open: Callable[..., io.RawIOBase] | None = None


@dataclass
class Source:
    """A checked source: the re-packed tar.gz on local disk and what it holds."""

    path: str
    size: int
    entries: int
    unpacked_size: int

    def discard(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)


# Names and links ----------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """The entry's path inside the tree, or ArchiveRejected when it points outside."""
    if len(raw.encode("utf-8", "surrogateescape")) > MAX_NAME:
        raise ArchiveRejected(f"The entry name {quote(raw)} is longer than {MAX_NAME} bytes.")
    if "\x00" in raw:
        raise ArchiveRejected("An entry's name contains a NUL byte.")
    name = raw.replace("\\", "/") if "\\" in raw and "/" not in raw else raw
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveRejected(f"The entry {quote(raw)} has an absolute path.")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveRejected(f"The entry {quote(raw)} points outside the archive ('..').")
    _check_parts(raw, parts)
    return "/".join(parts)


def _check_parts(raw: str, parts: list[str]) -> None:
    # NAME_MAX: no file system the builds run on has a longer file name.
    if any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_PART for part in parts):
        raise ArchiveRejected(
            f"The path {quote(raw)} has a part longer than {MAX_NAME_PART} bytes."
        )


def _check_link(name: str, target: str, kind: str) -> str:
    if not target or target.startswith("/") or "\x00" in target:
        raise ArchiveRejected(
            f"The {kind} {quote(name)} points outside the archive ({quote(target)})."
        )
    base = posixpath.dirname(name) if kind == "symbolic link" else ""
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        raise ArchiveRejected(
            f"The {kind} {quote(name)} points outside the archive ({quote(target)})."
        )
    return resolved


def _check_symlink_target(name: str, target: str) -> None:
    if len(target.encode("utf-8", "surrogateescape")) > MAX_LINK_TARGET:
        raise ArchiveRejected(
            f"The symbolic link {quote(name)} has a target longer than {MAX_LINK_TARGET} bytes."
        )
    _check_link(name, target, "symbolic link")  # not empty, not absolute, not above the root


# The tree -----------------------------------------------------------------------------

_DIRECTORY_KINDS = ("dir", "implied")


class _Node:
    """One path of the tree: an entry ("dir", "file", "symlink" or "hardlink"), a
    directory that entries are stored in but that is not an entry ("implied"), or a
    path that only a link's target goes through ("mentioned")."""

    __slots__ = ("children", "depth", "kind", "parent", "part", "walked_by")

    def __init__(self, parent: _Node | None, part: str, kind: str) -> None:
        self.parent = parent
        self.part = part
        self.depth: int = parent.depth + 1 if parent else 0
        self.kind = kind
        self.children: dict[str, _Node] = {}
        self.walked_by: _Node | None = None  # a link whose target goes through here

    def path(self) -> str:
        """The path from the root (built for messages only)."""
        parts: list[str] = []
        node: _Node | None = self
        while node is not None and node.parent is not None:
            parts.append(node.part)
            node = node.parent
        return "/".join(reversed(parts))


class _Tree:
    """The archive's paths, one node per component.

    It refuses an entry stored twice, or inside a file or a link, and a symbolic link
    whose target goes through or ends at another link (a chain), in whichever order the
    archive holds them. A link is resolved on its text (each ".." goes up one level);
    with no link on the way and nothing stored inside a link, that is how it resolves
    on disk, so a link that stays in the tree on its text stays in it once extracted.
    (Checking each link alone, as tarfile's "data" filter does while extracting, lets a
    chain of links that each look inside lead out: to /etc, or /proc/self/cwd/var.)

    Nodes rather than path strings, because an entry 2,000 directories deep would imply
    2,000 prefixes of up to 4 KB each: the cost would grow with the square of a path's
    length. The number of paths is bounded too: entries, the directories they imply
    and the paths links go through.
    """

    def __init__(self, max_paths: int) -> None:
        self.root = _Node(None, "", "dir")
        self.paths = 1
        self.max_paths = max_paths

    def add(self, name: str, kind: str) -> _Node:
        *parents, last = name.split("/")
        node = self.root
        for part in parents:
            node = self._child(node, part, "implied")
            if node.kind == "mentioned":
                node.kind = "implied"
            elif node.kind not in _DIRECTORY_KINDS:
                raise ArchiveRejected(
                    f"The entry {quote(name)} is stored in {quote(node.path())}, "
                    "which is not a directory."
                )
        entry = node.children.get(last)
        if entry is None:
            return self._new(node, last, kind)
        if entry.kind == "implied" and kind == "dir":
            entry.kind = "dir"  # listed after entries stored in it
        elif entry.kind == "implied":
            raise ArchiveRejected(
                f"The entry {quote(name)} is not a directory, but other entries are stored in it."
            )
        elif entry.kind != "mentioned":
            raise ArchiveRejected(f"The entry {quote(name)} appears twice.")
        elif kind == "symlink" and entry.walked_by is not None:
            raise _chain(entry.walked_by.path(), name)
        else:
            entry.kind = kind
        return entry

    def link(self, link: _Node, name: str, target: str) -> str:
        """Walk a symbolic link's target from the link's directory and return it
        normalised (the path it reaches, from there: "../" up, then down)."""
        assert link.parent is not None
        node = link.parent
        for part in target.split("/"):
            if part == "..":
                if node.parent is None:
                    raise ArchiveRejected(
                        f"The symbolic link {quote(name)} points outside the archive."
                    )
                node = node.parent
            elif part not in ("", "."):
                _check_parts(target, [part])
                node = self._child(node, part, "mentioned")
                if node.kind == "symlink":
                    raise _chain(name, node.path())
                node.walked_by = link
        return _relative(link.parent, node)

    def find(self, path: str) -> _Node | None:
        node: _Node | None = self.root
        for part in path.split("/") if path else []:
            node = node.children.get(part) if node else None
        return node

    def _child(self, node: _Node, part: str, kind: str) -> _Node:
        return node.children.get(part) or self._new(node, part, kind)

    def _new(self, parent: _Node, part: str, kind: str) -> _Node:
        self.paths += 1
        if self.paths > self.max_paths:
            raise ArchiveRejected(
                f"The archive names more than {self.max_paths} paths (its entries, the "
                "directories they are in and the paths its links go through)."
            )
        child = parent.children[part] = _Node(parent, part, kind)
        return child


def _chain(name: str, through: str) -> ArchiveRejected:
    return ArchiveRejected(
        f"The symbolic link {quote(name)} goes through the symbolic link {quote(through)}: "
        "a link may point only at a file or a directory, not at or through another link."
    )


def _relative(start: _Node, end: _Node) -> str:
    """The path from directory `start` to `end`: up to their common ancestor, then down."""
    # Each step up is from a node below that ancestor, so never from the root: a parent
    # is always there (the assignment ignores: `parent` may be None for the root only).
    ups, down = 0, []
    while start.depth > end.depth:
        start, ups = start.parent, ups + 1  # type: ignore[assignment]
    while end.depth > start.depth:
        down.append(end.part)
        end = end.parent  # type: ignore[assignment]
    while start is not end:
        start, ups = start.parent, ups + 1  # type: ignore[assignment]
        down.append(end.part)
        end = end.parent  # type: ignore[assignment]
    return "/".join([".."] * ups + down[::-1]) or "."


# Reading a .tar.gz --------------------------------------------------------------------


def _sniff(stream: BinaryIO) -> str:
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(GZIP_MAGIC):
        return "tar.gz"
    if head in ZIP_MAGICS:
        return "zip"
    raise ArchiveRejected("The file is not a .tar.gz, .tgz or .zip archive.")


def _tar_entries(stream: BinaryIO) -> Iterator[Entry]:
    # _Gunzip refuses a stream cut short, failing its CRC32 or length, or followed by
    # anything but zero padding; _TarReader reads it to its very end.
    tar = _TarReader(io.BufferedReader(_Gunzip(stream), buffer_size=_COPY_CHUNK))
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
                f"The entry {quote(member.name)} is a device, FIFO or other special file."
            )


class _Gunzip(io.RawIOBase):
    """A gzip stream's content, strict about its end.

    zlib checks each member's header and trailer (CRC32 and length). After a member may
    come another (RFC 1952 allows several; gunzip reads them all) or zero padding, as
    gunzip accepts; anything else, or a stream that ends inside a member, is damage.
    (gzip.GzipFile does the same but skips padding a byte at a time: 20 MB took 8 s.)
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.members = 0
        self.padding = 0
        self.inflate: zlib._Decompress | None = None
        self.pending = b""  # compressed bytes not yet given to the decompressor
        self._start_member(b"")

    def readable(self) -> bool:
        return True

    # io.BufferedReader, which reads it, passes a memoryview; the base takes any buffer.
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self.inflate is not None:
            if not self.pending:
                self.pending = self.raw.read(_COPY_CHUNK)
                if not self.pending:
                    raise damaged("it ends before the end of its compressed data")
            data = self.inflate.decompress(self.pending, len(buffer))
            self.pending = self.inflate.unconsumed_tail
            if self.inflate.eof:
                self._after_member(self.inflate.unused_data)
            if data:
                buffer[: len(data)] = data
                return len(data)
        return 0

    def _start_member(self, data: bytes) -> None:
        self.members += 1
        if self.members > MAX_GZIP_MEMBERS:
            raise ArchiveRejected(
                f"The archive is made of more than {MAX_GZIP_MEMBERS} gzip streams."
            )
        self.inflate = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)  # gzip, not zlib
        self.pending = data

    def _after_member(self, rest: bytes) -> None:
        self.inflate = None
        while not (data := rest.lstrip(b"\0")):
            self._pad(len(rest))
            rest = self.raw.read(_COPY_CHUNK)
            if not rest:
                return  # the end, checked
        self._pad(len(rest) - len(data))
        data += self.raw.read(1) if len(data) < len(GZIP_MAGIC) else b""
        if not data.startswith(GZIP_MAGIC):
            raise damaged("there is data after the end of the compressed stream")
        self._start_member(data)

    def _pad(self, size: int) -> None:
        self.padding += size
        if self.padding > MAX_END_PADDING:
            raise ArchiveRejected(
                f"The archive has more than {MAX_END_PADDING} bytes of padding after its "
                "compressed data."
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
        self.extended_total = 0

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
        in_a_row = 0
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
            if header.size < 0:  # base-256 numbers can be negative
                raise damaged("a tar header states a negative size")
            if header.type == tarfile.GNUTYPE_SPARSE:
                raise _sparse()
            if header.type not in _EXTENDED_TYPES:
                return _apply_extended(header, extended)
            in_a_row += 1
            self._bound_extended(header.size, in_a_row)
            payload = self.read_exact(header.size, "an extended header")
            self.skip(-header.size % _BLOCK, "an extended header")
            extended.update(_extended_fields(header.type, payload))

    def _bound_extended(self, size: int, in_a_row: int) -> None:
        """An extended header's payload is read whole, as tarfile reads it (tarfile also
        follows each one with a recursive call): so its size, the number in a row and
        their total are checked before it is read."""
        if size > MAX_EXTENDED_HEADER:
            raise ArchiveRejected(
                f"The archive has an extended header (PAX or GNU long name) of {size} "
                f"bytes; the limit is {MAX_EXTENDED_HEADER}."
            )
        if in_a_row > MAX_EXTENDED_IN_A_ROW:
            raise ArchiveRejected(
                f"The archive has more than {MAX_EXTENDED_IN_A_ROW} extended headers in a row."
            )
        self.extended_total += size
        if self.extended_total > MAX_EXTENDED_HEADERS_TOTAL:
            raise ArchiveRejected(
                f"The archive's extended headers add up to more than "
                f"{MAX_EXTENDED_HEADERS_TOTAL} bytes."
            )

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

    # RawIOBase.read, which reads it, passes a bytearray; the base takes any buffer.
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
    if any(keyword.startswith("GNU.sparse.") for keyword in records):
        raise _sparse()
    # A global header's fields would apply to every later member; none that matters
    # here (path, size, ...) makes sense globally, so they are read and set aside.
    return {} if kind == tarfile.XGLTYPE else records


def _sparse() -> ArchiveRejected:
    # GNU sparse files carry a map of their holes (in the header's extension blocks, or
    # for format 1.0 in the data) that tarfile reads into memory whole; a source tree
    # has no use for holes.
    return ArchiveRejected(
        "The archive holds a sparse file, which is not supported: create it without --sparse (-S)."
    )


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


# Reading a .zip -----------------------------------------------------------------------


def _zip_entries(stream: BinaryIO, max_entries: int) -> Iterator[Entry]:
    _check_zip_directory(stream, max_entries)
    with _open_zip(stream) as archive:
        for info in archive.infolist():
            if info.flag_bits & 0x1:
                raise ArchiveRejected(f"The entry {quote(info.filename)} is encrypted.")
            if not info.filename:
                raise damaged("an entry has no name")
            name = clean_name(info.filename)
            mode = (info.external_attr >> 16) & 0xFFFF
            mtime = _zip_time(info)
            file_type = stat.S_IFMT(mode)
            if info.is_dir():
                # Nothing needs a directory's data, but it is read all the same: its CRC
                # is checked only when it is read, and a directory holds no data.
                if _read_zip_member(archive, info, 0):
                    raise damaged(f"the directory entry {quote(info.filename)} holds data")
                yield Entry(name, "dir", 0o755, mtime)
            elif file_type == stat.S_IFLNK:
                # Read with a bound: the member's data is the target, of any length.
                target = _read_zip_member(archive, info, MAX_LINK_TARGET)
                if len(target) > MAX_LINK_TARGET:
                    raise ArchiveRejected(
                        f"The symbolic link {quote(name)} has a target longer than "
                        f"{MAX_LINK_TARGET} bytes."
                    )
                yield Entry(name, "symlink", 0o777, mtime, target=target.decode("utf-8", "replace"))
            elif file_type in (0, stat.S_IFREG):
                yield Entry(
                    name,
                    "file",
                    (mode & 0o777) or 0o644,
                    mtime,
                    info.file_size,
                    open=lambda i=info: _ZipMember(archive, i),
                )
            else:
                raise ArchiveRejected(
                    f"The entry {quote(info.filename)} is a device, FIFO or other special file."
                )


def _open_zip(stream: BinaryIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(stream)
    except UnicodeDecodeError:
        raise damaged("an entry's name is marked as UTF-8 but is not valid UTF-8") from None
    except NotImplementedError as exc:  # e.g. "zip file version 6.3": a newer format
        raise ArchiveRejected(
            f"The zip uses a feature that is not supported ({_shorten(str(exc))}); "
            "create it with the usual options (deflate, no encryption)."
        ) from None


# Fields of the end-of-central-directory record as zipfile._EndRecData returns it.
# (zipfile's internals used here are not in typeshed, which has its public names only:
# hence the attr-defined ignores.)
_END_SIGNATURE, _END_ENTRIES, _END_DIRECTORY_SIZE = 0, 4, 5
_END_COMMENT_SIZE, _END_COMMENT, _END_LOCATION = 7, 8, 9
# 46 bytes, then its lengths
_CENTRAL_RECORD = struct.Struct(zipfile.structCentralDir)  # type: ignore[attr-defined]


def _check_zip_directory(stream: BinaryIO, max_entries: int) -> None:
    """Check a zip's end record and count its central directory before ZipFile reads it.

    ZipFile builds an object for every record of the central directory (the zip's table
    of contents) as it opens, and reads records until the directory's stated size is
    used up, whatever the stated count. So the stated count is checked first, then the
    records are counted as ZipFile will read them. The end record is found with the
    function ZipFile uses, so both read the same one.
    """
    end = zipfile._EndRecData(stream)  # type: ignore[attr-defined]
    if end is None:
        raise damaged("its end record, written last, is missing")
    if len(end[_END_COMMENT]) < end[_END_COMMENT_SIZE]:
        raise damaged("it ends inside its comment")
    if end[_END_ENTRIES] > max_entries:
        raise ArchiveRejected(f"The archive has more than {max_entries} entries.")
    # Where ZipFile looks for the directory: right before the end record (and the zip64
    # end records, when there are any).
    start = end[_END_LOCATION] - end[_END_DIRECTORY_SIZE]
    if end[_END_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
        start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
    if start < 0:
        raise damaged("its table of contents is said to be larger than the file")
    stream.seek(start)
    directory = stream.read(end[_END_DIRECTORY_SIZE])
    stream.seek(0)
    count = at = 0
    while at < len(directory):
        record = directory[at : at + _CENTRAL_RECORD.size]
        signature = zipfile.stringCentralDir  # type: ignore[attr-defined]
        if len(record) < _CENTRAL_RECORD.size or not record.startswith(signature):
            raise damaged("its table of contents is unreadable")
        count += 1
        if count > max_entries:
            raise ArchiveRejected(f"The archive has more than {max_entries} entries.")
        name, extra, comment = _CENTRAL_RECORD.unpack(record)[12:15]
        at += _CENTRAL_RECORD.size + name + extra + comment


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A small member's data, read to its end (which checks its CRC and size) when it
    holds at most `limit` bytes; reading stops at `limit` + 1 bytes."""
    with _ZipMember(archive, info) as member:
        data = member.read(limit + 1)
        if len(data) <= limit:
            member.read(1)  # the end: its size is checked
        return data


class _ZipMember(io.RawIOBase):
    """A zip member's data, which must be as long as the directory says: zipfile checks
    the CRC when a read reaches the end, but not the length."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        try:
            self.member = archive.open(info)
        except NotImplementedError as exc:  # a compression method, patch data, ...
            raise ArchiveRejected(
                f"The entry {quote(info.filename)} uses a zip feature that is not supported "
                f"({_shorten(str(exc))}); create the zip with the usual options (deflate, "
                "no encryption)."
            ) from None
        except UnicodeDecodeError:  # its local header's name, marked as UTF-8
            raise damaged(
                f"the entry {quote(info.filename)} has a name that is not UTF-8"
            ) from None
        except ValueError:  # zipfile seeks to the stated offset, even a negative one
            raise damaged(
                f"the entry {quote(info.filename)} is not where it is said to be"
            ) from None
        self.info = info
        self.total = 0

    def readable(self) -> bool:
        return True

    # RawIOBase.read, which reads it, passes a bytearray; the base takes any buffer.
    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self.member.read(len(buffer))
        self.total += len(data)
        if not data and self.total != self.info.file_size:
            raise damaged(f"the entry {quote(self.info.filename)} is shorter than its stated size")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if hasattr(self, "member"):
            self.member.close()
        super().close()


def _zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return datetime.datetime(*info.date_time, tzinfo=datetime.UTC).timestamp()
    except ValueError:
        return 0.0


# Re-packing ---------------------------------------------------------------------------


def _mtime(value: float) -> int:
    """The entry's time if a tar header can hold it, else 0.

    NaN, infinities, negative and far-future times (past 2242, the ustar header's 11
    octal digits) come only from crafted or broken archives, and a source file's time
    does not matter to a build: such a time is stored as 0 (1970) rather than refused.
    """
    return int(value) if math.isfinite(value) and 0 <= value < 8**11 else 0


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
        return _repack(upload, kind, path, compressed, limits, root_directory)
    except ArchiveRejected:
        os.unlink(path)
        raise
    except (EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError) as exc:
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
        return "it ends before the end of its compressed data"
    if isinstance(exc, zlib.error) and text.endswith("incorrect data check"):
        return "its checksum (CRC32) does not match its content"
    if isinstance(exc, zlib.error) and text.endswith("incorrect length check"):
        return "its stated length does not match its content"
    if isinstance(exc, zlib.error):
        return "its compressed data is invalid"
    if isinstance(exc, zipfile.BadZipFile) and text.startswith("Bad CRC-32 for file "):
        return f"the entry {text.removeprefix('Bad CRC-32 for file ')} fails its checksum (CRC32)"
    return _shorten(text)


def _shorten(text: str) -> str:
    # zipfile's own texts quote names (with repr, so escaped) and can hold long ones.
    return text if len(text) <= 2 * _QUOTE_LIMIT else text[: 2 * _QUOTE_LIMIT] + "…"


def _repack(
    upload: BinaryIO, kind: str, path: str, compressed: int, limits: Limits, root_directory: str
) -> Source:
    tar = kind == "tar.gz"
    entries = _tar_entries(upload) if tar else _zip_entries(upload, limits.max_entries)
    count = 0
    unpacked = 0
    tree = _Tree(max_paths=2 * limits.max_entries)
    with tarfile.open(path, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as out:
        for entry in entries:
            count += 1
            if count > limits.max_entries:
                raise ArchiveRejected(f"The archive has more than {limits.max_entries} entries.")
            if not entry.name:
                continue  # the archive's own root ("./")
            info = tarfile.TarInfo(entry.name)
            info.mtime = _mtime(entry.mtime)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            data: IO[bytes] | None = None
            if entry.kind == "dir":
                tree.add(entry.name, "dir")
                info.type = tarfile.DIRTYPE
                info.mode = _safe_mode(entry.mode, "dir")
            elif entry.kind == "symlink":
                _check_symlink_target(entry.name, entry.target)
                node = tree.add(entry.name, "symlink")
                info.type = tarfile.SYMTYPE
                info.linkname = tree.link(node, entry.name, entry.target)  # normalised
                info.mode = 0o777
            elif entry.kind == "hardlink":
                target = tree.find(entry.target)
                if target is None or target.kind != "file":
                    raise ArchiveRejected(
                        f"The hard link {quote(entry.name)} names {quote(entry.target)}, "
                        "which is not a file earlier in the archive."
                    )
                tree.add(entry.name, "hardlink")
                info.type = tarfile.LNKTYPE
                info.linkname = entry.target
                info.mode = _safe_mode(entry.mode, "file")
            else:
                tree.add(entry.name, "file")
                info.mode = _safe_mode(entry.mode, "file")
                budget = limits.max_unpacked_size - unpacked
                assert entry.open is not None  # a file entry has its content
                data, info.size = _read_limited(entry.open(), budget, limits)
                unpacked += info.size
                _check_ratio(unpacked, compressed, limits)
            out.addfile(info, data)
            if data is not None:
                data.close()
    if root_directory:
        root = tree.find(root_directory.strip("/"))
        if root is None or root is tree.root or root.kind not in _DIRECTORY_KINDS:
            raise ArchiveRejected(
                f"The site's rootDirectory {quote(root_directory)} is not a directory "
                "in the archive."
            )
    return Source(path, os.path.getsize(path), count, unpacked)


def _read_limited(stream: io.RawIOBase, budget: int, limits: Limits) -> tuple[IO[bytes], int]:
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
    return buffer, total


def _check_ratio(unpacked: int, compressed: int, limits: Limits) -> None:
    if unpacked > _RATIO_FLOOR and unpacked > compressed * limits.max_ratio:
        raise ArchiveRejected(
            f"The archive expands more than {limits.max_ratio} times; "
            "it looks like a decompression bomb."
        )
