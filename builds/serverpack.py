"""The packaged server of an ssr build: made in the build, checked and re-written here.

The build's last step ("package", `package_step`) assembles, inside the build (its
container, or the local runner's workspace), `.shipway/static/` (the static assets laid
out at their URL paths, copied out like any output by builds/output.py) and
`.shipway/server/` (only what the framework's `Packaging.server` keeps). The server part
comes out as a tar stream (or, for the local runner, a directory walked without
following anything) and is re-written, never extracted on the host, into
`server.tar.gz`:

- every entry counted and sized from its header against the output limits before its
  data is read (SHIPWAY_OUTPUT_*), reading stopping at the first entry past one;
- names made relative to the server's directory; an absolute name, a `..` part, or a
  name below a link or a file is skipped;
- only regular files, directories, hard links to a file already in the bundle, and
  symbolic links that are relative and, resolved through the bundle's own links as
  the kernel would, stay inside it (node_modules/.bin has such links; they are
  harmless inside the server's own container). Devices, pipes and the rest are skipped;
- owners reset to 0 and names dropped; modes cut to 0644/0755 (no set-id or sticky
  bits); symbolic links written last, so that no entry is ever extracted through one.
"""

from __future__ import annotations

import os
import posixpath
import shlex
import stat
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from builds.output import (
    CHUNK,
    MAX_NOTES,
    ChunkReader,
    LinkRefused,
    OutputBudget,
    OutputLimits,
    follow_link,
    shown,
)
from builds.runners.base import MISSING_EXIT, Step
from deployments.errors import BuildError, ErrorCode
from sites.frameworks import Packaging

# Where the package step assembles its two parts, relative to the site's root directory.
PACKAGE_DIR = ".shipway"
STATIC_DIR = f"{PACKAGE_DIR}/static"
SERVER_DIR = f"{PACKAGE_DIR}/server"
# Measured on tests/ssr_apps.py's Next.js bundle (47 MB, 1,460 entries): level 1 gives
# 17.2 MB in 5.0 s, 3 gives 16.4 MB in 5.8 s, 6 gives 15.3 MB in 11.2 s, 9 gives 15.3 MB
# in 21.6 s; each extracts in 1-2 s. 3: near 6's size for half its time.
COMPRESS_LEVEL = 3

OUTSIDE = "a symbolic link leading outside the server's directory"
ABSOLUTE = "a symbolic link to an absolute path"


# --- the package step ---------------------------------------------------------------


def package_step(packaging: Packaging, package_manager: str) -> Step:
    """The shell step that assembles .shipway/static and .shipway/server from the build,
    after it: static copies first, then the server's paths moved (cheap, and the build's
    workspace is thrown away after). Exits MISSING_EXIT (the step's fixed sentence) when
    the framework's server build is not there."""
    q = shlex.quote
    lines = [
        "set -e",
        f"rm -rf {q(PACKAGE_DIR)}",
        f"if [ ! -f {q(packaging.required)} ]; then exit {MISSING_EXIT}; fi",
        f"mkdir -p {q(STATIC_DIR)} {q(SERVER_DIR)}",
    ]
    for keep in packaging.static:
        to = _under(STATIC_DIR, keep.to)
        copy = f"mkdir -p {q(to)} && cp -R {q(keep.source + '/.')} {q(to + '/')}"
        lines.append(_if_present(keep.source, copy, keep.optional, "-d"))
    if packaging.production_modules:
        lines.append(_prune(package_manager))
    for keep in packaging.server:
        to = _under(SERVER_DIR, keep.to)
        # Moved when it can be (instant), else copied: moving a directory needs write
        # permission on it, which one the archive made implicitly (root's) does not give.
        move = f"{{ mv {q(keep.source)} {q(to)} 2>/dev/null || cp -R {q(keep.source)} {q(to)}; }}"
        if to == SERVER_DIR:
            move = f"rmdir {q(SERVER_DIR)} && {move}"
        else:
            move = f"mkdir -p {q(posixpath.dirname(to))} && {move}"
        lines.append(_if_present(keep.source, move, keep.optional, "-e"))
    lines.append(f'echo "Packaged the server ({SERVER_DIR}) and its static assets ({STATIC_DIR})"')
    return Step(
        "package",
        "\n".join(lines),
        display="(package the server and its static assets)",
        missing=packaging.missing,
    )


def _under(top: str, to: str) -> str:
    to = posixpath.normpath(to.strip("/") or ".")
    return top if to == "." else f"{top}/{to}"


def _if_present(source: str, command: str, optional: bool, test: str) -> str:
    q = shlex.quote
    if optional:
        return f"if [ {test} {q(source)} ]; then {command}; fi"
    missing = f"The build left no {source}, which the server needs."
    return f"if [ {test} {q(source)} ]; then {command}; else echo {q(missing)}; exit 1; fi"


def _prune(package_manager: str) -> str:
    """Drop devDependencies from node_modules: the server gets production packages only."""
    if package_manager in ("", "npm"):
        return "if [ -d node_modules ]; then npm prune --omit=dev; fi"
    if package_manager == "pnpm":
        return "if [ -d node_modules ]; then pnpm prune --prod; fi"
    return f'echo "Keeping all of node_modules ({package_manager} has no production prune)"'


# --- the bundle -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServerArchive:
    path: Path  # the local server.tar.gz
    size: int  # its bytes
    entries: int


class ServerBundle:
    """Writes checked entries into a gzip tar. Paths are relative to the server's
    directory, "/"-separated, without "." or ".." parts (`relative` makes them so)."""

    def __init__(self, handle: BinaryIO, limits: OutputLimits, say: Callable[[str], None]):
        self._tar = tarfile.open(  # noqa: SIM115 (closed by finish)
            fileobj=handle, mode="w:gz", compresslevel=COMPRESS_LEVEL, format=tarfile.PAX_FORMAT
        )
        self._say = say
        self.budget = OutputBudget(limits, "The packaged server")
        self._dirs: set[str] = {""}
        self._files: set[str] = set()
        self._links: dict[str, str] = {}
        self._skipped = 0

    # --- entries ----------------------------------------------------------------------

    def directory(self, path: str, mode: int, mtime: float) -> None:
        self.budget.count()
        if path in self._dirs:
            return
        if not self._placeable(path):
            return
        self._dirs.add(path)
        self._tar.addfile(self._info(path, tarfile.DIRTYPE, 0o755, mtime))

    def file(self, path: str, size: int, mode: int, mtime: float, data: IO[bytes]) -> None:
        """A regular file of `size` bytes (from its header): exactly that many are written."""
        self.budget.count()
        self.budget.charge(_shown(path), size)
        if not self._placeable(path):
            return
        info = self._info(path, tarfile.REGTYPE, 0o755 if mode & 0o111 else 0o644, mtime)
        info.size = size
        self._tar.addfile(info, _Exactly(data, size))
        self._files.add(path)

    def hard_link(self, path: str, target: str | None, mtime: float) -> None:
        self.budget.count()
        if target is None or target not in self._files:
            self._skip(path, "a hard link to nothing already in the server's directory")
            return
        if not self._placeable(path):
            return
        info = self._info(path, tarfile.LNKTYPE, 0o644, mtime)
        info.linkname = target
        self._tar.addfile(info)
        self._files.add(path)

    def symlink(self, path: str, target: str) -> None:
        """Recorded now, checked and written by `finish` (when every link is known)."""
        self.budget.count()
        if self._placeable(path):
            self._links[path] = target

    def refuse(self, name: str, reason: str) -> None:
        self.budget.count()
        self._skip(name, reason)

    def finish(self) -> None:
        for path, target in sorted(self._links.items()):
            problem = self._escapes(path)
            if problem:
                self._skip(path, problem, target)
                continue
            info = self._info(path, tarfile.SYMTYPE, 0o777, 0)
            info.linkname = target
            self._tar.addfile(info)
        if self._skipped > MAX_NOTES:
            self._say(f"Skipped {self._skipped - MAX_NOTES} more entries of the server.\n")
        self._tar.close()

    # --- checks -----------------------------------------------------------------------

    def _placeable(self, path: str) -> bool:
        """Whether `path` may be written: its name is free and no part above it is a link
        or a file (so nothing is ever written through a link)."""
        if path in self._dirs or path in self._files or path in self._links:
            self._skip(path, "its name is taken by another entry")
            return False
        parent = posixpath.dirname(path)
        while parent:
            if parent in self._links or parent in self._files:
                self._skip(path, "it lies below a link or a file")
                return False
            parent = posixpath.dirname(parent)
        return True

    def _escapes(self, link: str) -> str:
        """Why the symbolic link `link` is refused ("" when it stays inside): it is
        followed through the bundle's own links, as the kernel would, and every step of
        the way must stay inside the server's directory."""
        try:
            follow_link(self._links, link, absolute=ABSOLUTE, outside=OUTSIDE)
        except LinkRefused as refused:
            return str(refused)
        return ""

    def _info(self, path: str, kind: bytes, mode: int, mtime: float) -> tarfile.TarInfo:
        info = tarfile.TarInfo(path)
        info.type = kind
        info.mode = mode
        info.mtime = int(mtime) if mtime > 0 else 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def _skip(self, path: str, reason: str, target: str | None = None) -> None:
        self._skipped += 1
        if self._skipped <= MAX_NOTES:
            detail = f" ({shown(target)})" if target is not None else ""
            self._say(f"Skipped {_shown(path)}: {reason}{detail}\n")


def _shown(path: str) -> str:
    return shown(f"{SERVER_DIR}/{path}")


class _Exactly:
    """`size` bytes of `data`, as tarfile.addfile reads them; a short file is an error
    (its header said more), never silently padded from elsewhere."""

    def __init__(self, data: IO[bytes], size: int) -> None:
        self._data, self._left = data, size

    def read(self, size: int = -1) -> bytes:
        want = self._left if size < 0 else min(size, self._left)
        chunk = self._data.read(want) if want else b""
        if len(chunk) < want and not chunk:
            raise BuildError(ErrorCode.INTERNAL, "A file of the server ended early.")
        self._left -= len(chunk)
        return chunk


def relative(name: str, top: str) -> str | None:
    """`name` relative to `top` ("" for top itself); None when it is absolute, has a ".."
    part, or is not below `top`."""
    if name.startswith("/"):
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None
    top_parts = [part for part in top.split("/") if part not in ("", ".")]
    if parts[: len(top_parts)] != top_parts:
        return None
    return "/".join(parts[len(top_parts) :])


# --- readers --------------------------------------------------------------------------


def pack_tar(
    chunks: Iterable[bytes],
    top: str,
    destination: Path,
    limits: OutputLimits,
    say: Callable[[str], None],
) -> ServerArchive:
    """Re-write the tar stream whose entries are `top` and `top/...` (Docker's archive of
    the server's directory) into the gzip tar `destination`."""

    with open(destination, "wb") as handle:
        bundle = ServerBundle(handle, limits, say)
        with tarfile.open(fileobj=ChunkReader(chunks), mode="r|", bufsize=CHUNK) as archive:
            for member in archive:
                add_member(bundle, archive, member, top)
        bundle.finish()
    return ServerArchive(destination, destination.stat().st_size, bundle.budget.entries)


def add_member(
    bundle: ServerBundle, archive: tarfile.TarFile, member: tarfile.TarInfo, top: str
) -> None:
    path = relative(member.name, top)
    if path is None:
        bundle.refuse(member.name, "a name outside the server's directory")
    elif path == "":
        return  # the directory itself
    elif member.isdir():
        bundle.directory(path, member.mode, member.mtime)
    elif member.isfile():
        data = archive.extractfile(member)
        assert data is not None  # a regular file always has data
        bundle.file(path, member.size, member.mode, member.mtime, data)
    elif member.issym():
        bundle.symlink(path, member.linkname)
    elif member.islnk():
        bundle.hard_link(path, relative(member.linkname, top) or None, member.mtime)
    else:
        bundle.refuse(path, "a device or a pipe, not a file, directory or link")


def pack_directory(
    root: Path, destination: Path, limits: OutputLimits, say: Callable[[str], None]
) -> ServerArchive:
    """The same from the directory `root` (the local runner's), walked with lstat:
    nothing under it is followed."""
    seen: dict[tuple[int, int], str] = {}  # inode -> the first path written for it
    with open(destination, "wb") as handle:
        bundle = ServerBundle(handle, limits, say)
        for directory, dirnames, filenames in os.walk(root):  # links to dirs: not entered
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                full = Path(directory) / name
                path = full.relative_to(root).as_posix()
                info = os.lstat(full)
                if stat.S_ISDIR(info.st_mode):
                    bundle.directory(path, info.st_mode, info.st_mtime)
                elif stat.S_ISLNK(info.st_mode):
                    bundle.symlink(path, os.readlink(full))
                elif stat.S_ISREG(info.st_mode):
                    key = (info.st_dev, info.st_ino)
                    if info.st_nlink > 1 and key in seen:
                        bundle.hard_link(path, seen[key], info.st_mtime)
                        continue
                    seen[key] = path
                    _add_regular(bundle, full, path)
                else:
                    bundle.refuse(path, "a device, a pipe or a socket")
        bundle.finish()
    return ServerArchive(destination, destination.stat().st_size, bundle.budget.entries)


def _add_regular(bundle: ServerBundle, full: Path, path: str) -> None:
    descriptor = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with open(descriptor, "rb") as data:
        info = os.fstat(descriptor)
        if stat.S_ISREG(info.st_mode):
            bundle.file(path, info.st_size, info.st_mode, info.st_mtime, data)
        else:
            bundle.refuse(path, "not a regular file any more")


__all__ = [
    "SERVER_DIR",
    "STATIC_DIR",
    "ServerArchive",
    "ServerBundle",
    "pack_directory",
    "pack_tar",
    "package_step",
    "relative",
]
