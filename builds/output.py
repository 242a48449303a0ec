"""A build's output, copied out of the build into a directory of Shipway's own.

What arrives is hostile by assumption: a container's output directory as a tar stream
(DockerRunner), or a directory the build wrote on this host (LocalRunner, the no-build
path). Either way, only regular files and directories land in the destination:

- The limits (`OutputLimits`) are checked from each entry's header (a tar header, an
  lstat) before any of its data is read: a sparse terabyte costs one header, and reading
  stops at the first entry past a limit.
- No link is ever created. A link that leads, inside the output, to a regular file
  becomes a copy of that file (its bytes count again); any other link (out of the
  output, to a directory, to nothing) is skipped with a line in the log saying which.
  Links are followed through this copy's own record of the entries, never by the host's
  filesystem, so nothing outside the output is reached or read.
- Devices, pipes and sockets are skipped the same way.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import stat
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from deployments.errors import BuildError, ErrorCode

KB, MB, GB, TB = 1024, 1024**2, 1024**3, 1024**4
CHUNK = 1024 * 1024  # bytes read or written at a time
MAX_LINK_HOPS = 40  # links followed for one link, as the Linux kernel does
MAX_NOTES = 20  # skipped entries named in the log one by one; the rest are counted

OUTSIDE = "a symbolic link leading outside the output"
TO_DIRECTORY = "a symbolic link to a directory"
TO_NOTHING = "a symbolic link to nothing in the output"
LOOP = "a symbolic link in a loop"


@dataclass(frozen=True)
class OutputLimits:
    """What one build's output may hold (the SHIPWAY_OUTPUT_* settings)."""

    max_bytes: int = GB
    max_files: int = 20_000  # entries: files, directories and links
    max_file_bytes: int = 256 * MB


class OutputBudget:
    """What a copy has used of its limits so far, checked from each entry's header before
    its data is read. `what` names the whole in the errors ("The output")."""

    def __init__(self, limits: OutputLimits, what: str) -> None:
        self.limits = limits
        self.what = what
        self.entries = 0
        self.bytes = 0

    def count(self) -> None:
        """One more entry (a file, directory or link)."""
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise BuildError(
                ErrorCode.TOO_MANY_OUTPUT_FILES,
                f"{self.what} has more than {self.limits.max_files:,} files, directories and "
                "links, the limit set by SHIPWAY_OUTPUT_MAX_FILES.",
            )

    def charge(self, shown_path: str, size: int) -> None:
        """A file of `size` bytes, named in errors as `shown_path`."""
        if size > self.limits.max_file_bytes:
            raise BuildError(
                ErrorCode.OUTPUT_FILE_TOO_LARGE,
                f"{shown_path} is {describe_size(size)}, more than the "
                f"{describe_size(self.limits.max_file_bytes)} a file of the output may have "
                "(SHIPWAY_OUTPUT_MAX_FILE_BYTES).",
            )
        self.bytes += size
        if self.bytes > self.limits.max_bytes:
            raise BuildError(
                ErrorCode.OUTPUT_TOO_LARGE,
                f"{self.what} is larger than {describe_size(self.limits.max_bytes)}, the limit "
                f"set by SHIPWAY_OUTPUT_MAX_BYTES (passed at {shown_path}).",
            )


def describe_size(size: int) -> str:
    """`10 MB`, `1.5 GB`, `64 KB`: binary units, one decimal at most."""
    for unit, scale in (("TB", TB), ("GB", GB), ("MB", MB), ("KB", KB)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def shown(text: str, limit: int = 200) -> str:
    """A name or link target as the log may show it: control characters escaped, cut."""
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return escaped + ("…" if len(text) > limit else "")


class LinkRefused(Exception):
    """A link that is not copied; the message says why."""


def follow_link(
    links: dict[str, str], link: str, *, absolute: str = OUTSIDE, outside: str = OUTSIDE
) -> str:
    """Where the symbolic link `link` leads, following the links on the way as the kernel
    would, but only through `links` (a tree's own, path -> target): its path in the tree.
    Raises LinkRefused with `absolute` for an absolute target, `outside` for one that
    climbs out of the tree, or LOOP."""
    hops = 0

    def walk(parts: list[str], target: str) -> list[str]:
        nonlocal hops
        if target.startswith("/"):
            raise LinkRefused(absolute)
        for part in target.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise LinkRefused(outside)
                parts = parts[:-1]
                continue
            parts = [*parts, part]
            here = "/".join(parts)
            if here in links:
                hops += 1
                if hops > MAX_LINK_HOPS:
                    raise LinkRefused(LOOP)
                parts = walk(parts[:-1], links[here])
        return parts

    return "/".join(walk(link.split("/")[:-1], links[link]))


class OutputCopy:
    """Collects one output's entries into `destination`, checking the limits as they come.

    Paths are relative to the output's top, "/"-separated, with no "." or ".." parts (the
    readers below make them so). `shown_as` is the output directory as the site names it,
    so that the log says "out/a.html". Call `finish` after the last entry: links are
    resolved then, when every entry they may lead to is known.
    """

    def __init__(
        self,
        destination: Path,
        limits: OutputLimits,
        say: Callable[[str], None],
        shown_as: str,
    ) -> None:
        self.destination = destination
        self._say = say
        top = posixpath.normpath(shown_as.strip("/") or ".")
        self._prefix = "" if top == "." else f"{top}/"
        self._budget = OutputBudget(limits, "The output")
        self._dirs: set[str] = {""}  # "" is the top
        self._files: set[str] = set()
        self._links: dict[str, str] = {}  # symbolic link -> its target, as written
        self._hard_links: dict[str, str | None] = {}  # hard link -> the entry it names
        self._skipped = 0
        destination.mkdir(parents=True, exist_ok=True)

    # --- entries, as they arrive ------------------------------------------------------

    def directory(self, path: str) -> None:
        self._budget.count()
        if path not in self._dirs and not self._make_directory(path):
            self._skip(path, "its name is taken by another entry")

    def file(self, path: str, size: int, data: IO[bytes]) -> None:
        """A regular file of `size` bytes (from its header); at most that many are read."""
        self._budget.count()
        self._budget.charge(self._name(path), size)
        if self._taken(path) or not self._make_directory(posixpath.dirname(path)):
            self._skip(path, "its name is taken by another entry")
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with open(os.open(self.destination / path, flags, 0o644), "wb") as out:
            remaining = size
            while remaining > 0 and (chunk := data.read(min(CHUNK, remaining))):
                out.write(chunk)
                remaining -= len(chunk)
        self._files.add(path)

    def symlink(self, path: str, target: str) -> None:
        self._budget.count()
        if self._taken(path):
            self._skip(path, "its name is taken by another entry")
        else:
            self._links[path] = target

    def hard_link(self, path: str, target: str | None) -> None:
        """A hard link to the entry `target` (None: one outside the output)."""
        self._budget.count()
        if self._taken(path):
            self._skip(path, "its name is taken by another entry")
        else:
            self._hard_links[path] = target

    def other(self, path: str, kind: str) -> None:
        self.refuse(path, f"{kind}, not a regular file, directory or link")

    def refuse(self, path: str, reason: str) -> None:
        """An entry that is not copied, for `reason`."""
        self._budget.count()
        self._skip(path, reason)

    def finish(self) -> None:
        """Copy what links lead to; say how many skipped entries were not named."""
        for path, target in sorted(self._hard_links.items()):
            if target in self._files:
                self._copy(target, path)
            else:
                self._skip(path, "a hard link to a file outside the output")
        for path, target in sorted(self._links.items()):
            try:
                self._copy(self._resolve(path), path)
            except LinkRefused as refused:
                self._skip(path, str(refused), target)
        if self._skipped > MAX_NOTES:
            self._say(f"Skipped {self._skipped - MAX_NOTES} more entries of the output.\n")

    # --- the tree -------------------------------------------------------------------

    def _taken(self, path: str) -> bool:
        return (
            path in self._dirs
            or path in self._files
            or path in self._links
            or path in self._hard_links
        )

    def _make_directory(self, path: str) -> bool:
        """Make `path` and its parents as directories; False when a name is taken."""
        if path in self._dirs:
            return True
        if self._taken(path) or not self._make_directory(posixpath.dirname(path)):
            return False
        (self.destination / path).mkdir()
        self._dirs.add(path)
        return True

    def _resolve(self, link: str) -> str:
        """The regular file the symbolic link `link` leads to, following links on the way
        as the kernel would, but only through this output's own entries."""
        found = follow_link(self._links, link)
        if found in self._files:  # hard links copied by now are files too
            return found
        raise LinkRefused(TO_DIRECTORY if found in self._dirs else TO_NOTHING)

    def _copy(self, source: str, path: str) -> None:
        """`path` as a copy of the regular file `source`, both this copy's own."""
        size = (self.destination / source).stat().st_size
        self._budget.charge(self._name(path), size)
        if not self._make_directory(posixpath.dirname(path)):
            self._skip(path, "its name is taken by another entry")
            return
        shutil.copyfile(self.destination / source, self.destination / path)
        self._files.add(path)

    # --- the log --------------------------------------------------------------------

    def _name(self, path: str) -> str:
        return shown(self._prefix + path)

    def _skip(self, path: str, reason: str, target: str | None = None) -> None:
        self._skipped += 1
        if self._skipped <= MAX_NOTES:
            detail = f" ({shown(target)})" if target is not None else ""
            self._say(f"Skipped {self._name(path)}: {reason}{detail}\n")


# --- readers ------------------------------------------------------------------------


def copy_tar(
    chunks: Iterable[bytes],
    top: str,
    destination: Path,
    limits: OutputLimits,
    say: Callable[[str], None],
    shown_as: str,
) -> None:
    """Copy the output out of a tar stream whose entries are `top` and `top/...` (what
    Docker's archive API sends for a directory). Reads the stream as it comes, never more
    than one entry ahead; an entry past a limit ends the reading at its header."""
    copy = OutputCopy(destination, limits, say, shown_as)
    with tarfile.open(fileobj=ChunkReader(chunks), mode="r|", bufsize=CHUNK) as archive:
        for member in archive:
            path = _below(member.name, top)
            if path is None:
                copy.other(member.name, "an entry outside the output")
            elif path == "":
                continue  # the output directory itself
            elif member.isdir():
                copy.directory(path)
            elif member.isfile():
                data = archive.extractfile(member)
                assert data is not None  # a regular file always has data
                copy.file(path, member.size, data)
            elif member.issym():
                copy.symlink(path, member.linkname)
            elif member.islnk():
                copy.hard_link(path, _below(member.linkname, top) or None)
            else:
                copy.other(path, "a device or a pipe")
    copy.finish()


def copy_directory(
    root: Path,
    destination: Path,
    limits: OutputLimits,
    say: Callable[[str], None],
    shown_as: str,
) -> None:
    """Copy the output out of the directory `root`, which the caller has resolved (its
    real path, inside the tree it belongs to). Nothing under it is followed: links are
    read with readlink and resolved like those of a tar stream."""
    copy = OutputCopy(destination, limits, say, shown_as)
    linked: dict[tuple[int, int], list[tuple[str, int]]] = {}  # inode -> (path, links)
    for directory, dirnames, filenames in os.walk(root):  # links to directories: not entered
        for name in sorted(dirnames + filenames):
            full = Path(directory) / name
            path = full.relative_to(root).as_posix()
            info = os.lstat(full)
            if stat.S_ISDIR(info.st_mode):
                copy.directory(path)
            elif stat.S_ISLNK(info.st_mode):
                copy.symlink(path, os.readlink(full))
            elif stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
                linked.setdefault((info.st_dev, info.st_ino), []).append((path, info.st_nlink))
            elif stat.S_ISREG(info.st_mode):
                _copy_regular_file(copy, root / path, path)
            else:
                copy.other(path, "a device, a pipe or a socket")
    _copy_hard_linked(copy, root, linked)
    copy.finish()


def _copy_hard_linked(
    copy: OutputCopy, root: Path, linked: dict[tuple[int, int], list[tuple[str, int]]]
) -> None:
    """A file with several names is copied only when all of them are in the output: a
    name elsewhere means it may be a file of the host, linked in (say, by an archive's
    hard link through a symbolic one)."""
    for names in linked.values():
        inside = len(names) >= names[0][1]
        for path, _links in names:
            if inside:
                _copy_regular_file(copy, root / path, path)
            else:
                copy.refuse(path, "a hard link to a file outside the output")


def _copy_regular_file(copy: OutputCopy, full: Path, path: str) -> None:
    """Open without following a link or blocking on a pipe, and check it is still a
    regular file (it was one at lstat), so that only a regular file of the tree is read."""
    descriptor = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with open(descriptor, "rb") as data:
        info = os.fstat(descriptor)
        if stat.S_ISREG(info.st_mode):
            copy.file(path, info.st_size, data)
        else:
            copy.refuse(path, "not a regular file any more")


def _below(name: str, top: str) -> str | None:
    """`name` relative to `top` ("" for top itself), or None when it is not below it.
    Docker names the entries `out/...` for `/workspace/out`, `./...` for `/workspace/.`."""
    if name.startswith("/"):
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    top_parts = [part for part in top.split("/") if part not in ("", ".")]
    if ".." in parts or parts[: len(top_parts)] != top_parts:
        return None
    return "/".join(parts[len(top_parts) :])


class ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (Docker's archive stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._view = memoryview(b"")

    def readable(self) -> bool:
        return True

    # RawIOBase.read, which tarfile calls, passes a bytearray; the base takes any buffer.
    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self._view:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._view = memoryview(chunk)
        size = min(len(buffer), len(self._view))
        buffer[:size] = self._view[:size]
        self._view = self._view[size:]
        return size
