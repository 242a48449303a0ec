"""The runner interface and the pieces every runner shares."""

from __future__ import annotations

import codecs
import os
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from builds.output import OutputLimits, describe_size
from core.masking import SecretMasker
from deployments.errors import BuildError, ErrorCode

# A step exits with this when what it needs is missing: the build fails with the step's
# `missing` sentence (e.g. "Next.js wrote no .next/standalone: ...") instead of its code.
MISSING_EXIT = 86


@dataclass(frozen=True)
class Step:
    name: str  # "install", "cache", "build"
    command: str  # what the shell runs
    display: str = ""  # what the log shows (the user's command, without our wrapping)
    missing: str = ""  # the failure's sentence when it exits MISSING_EXIT


@dataclass(frozen=True)
class BuildSpec:
    """Everything a runner needs; it reads nothing else (no database, no settings)."""

    site_id: str
    deployment_id: str
    runtime: str  # e.g. "node-22"
    image: str  # the runtime's image tag
    steps: list[Step]
    workdir: str  # the site's rootDirectory inside the source ("" for the top)
    output_directory: str
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    cpus: float = 1.0
    memory_mb: int = 1024
    pids: int = 512
    timeout: float = 900.0
    use_cache: bool = True
    cache_key: str = ""  # e.g. the lock file's hash; "" when there is nothing to key on
    cache_id: str = ""  # whose build cache: the site's server-made identity (Site.uid)
    limits: OutputLimits = field(default_factory=OutputLimits)  # what the output may hold
    log_line_max: int = 64 * 1024  # characters of one line of output; the rest is cut
    # ssr: where the last step assembled the server (relative to `workdir`), copied out
    # as server.tar.gz (builds/serverpack.py); "" for a static build.
    server_directory: str = ""
    start_command: str = ""  # ssr: what starts it (the manifest's; runners ignore it)


@dataclass
class StepResult:
    name: str
    command: str
    exit_code: int
    duration: float


@dataclass
class BuildResult:
    output_dir: Path  # a local directory holding the output's files
    steps: list[StepResult]
    server: Path | None = None  # ssr: the checked server.tar.gz (`BuildJob.server_to`)


@dataclass(frozen=True)
class BuildJob:
    """One build as a runner takes it: what every runner's `run` is given, in one place."""

    spec: BuildSpec
    source: Path  # the source, a .tar.gz
    output_to: Path  # where the output directory's files are copied
    on_output: Callable[[str], None]  # the build's output, in whole masked lines
    should_cancel: Callable[[], bool]
    server_to: Path | None = None  # ssr: where the server's checked .tar.gz is written
    # How the runner's own temporary directory is named (builds/scratch.py: the reaper
    # removes a dead build's by it).
    scratch_prefix: str = "shipway-build-"


class BuildRunner(Protocol):
    def run(self, job: BuildJob) -> BuildResult:
        """Run the spec's steps on the source and copy the output directory into
        `job.output_to`. Raises BuildError with the reason when the build fails."""
        ...


class LineStream:
    """Bytes in, whole masked lines out.

    A partial line is held until its line break comes, so that a secret split across two
    reads is still masked. A line longer than `max_line` characters is cut: its start goes
    out with a marker and the rest, up to its line break, is dropped. So memory stays flat
    however long a line is, and each read is scanned once (what is held is at most about
    `max_line` characters, never re-split).
    """

    def __init__(
        self, emit: Callable[[str], None], masker: SecretMasker, max_line: int = 64 * 1024
    ) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self._dropping = False  # inside the rest of a line that was cut
        self._emit = emit
        self._mask = masker
        self._max_line = max_line
        self._marker = f"… [line cut at {describe_size(max_line)}]\n"

    def feed(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if self._dropping:
            start = _first_break(text)
            if start < 0:
                return
            self._dropping = False
            text = text[start + (2 if text.startswith("\r\n", start) else 1) :]
        text = self._pending + text
        end = max(text.rfind("\n"), text.rfind("\r")) + 1
        if end:
            self._emit(self._lines(text[:end]))
            text = text[end:]
        self._pending = text
        if len(text) > self._max_line + self._mask.longest:
            self._cut_pending()

    def close(self) -> None:
        rest = self._pending + self._decoder.decode(b"", final=True)
        if self._dropping:
            rest = ""
        self._pending, self._dropping = "", False
        if rest:
            self._emit(self._lines(rest + "\n"))

    def _lines(self, text: str) -> str:
        """Whole lines, masked, any over the limit cut (a rare case: scanned only then).
        Masked before cutting, so that a cut never leaves part of a secret."""
        masked = self._mask(text)
        if len(masked) <= self._max_line:
            return masked
        return "".join(self._cut(line) for line in masked.splitlines(keepends=True))

    def _cut(self, line: str) -> str:
        if len(line.rstrip("\r\n")) <= self._max_line:
            return line
        return line[: self._max_line] + self._marker

    def _cut_pending(self) -> None:
        """The held line is too long: send its start, drop the rest up to its break.

        It is masked first, and cut only once there are `longest` characters after the
        cut, so that a secret straddling the cut is whole, and masked, before it is cut.
        """
        masked = self._mask(self._pending)
        if len(masked) <= self._max_line + self._mask.longest:
            self._pending = masked  # secrets shrank it; wait for more
            return
        self._emit(masked[: self._max_line] + self._marker)
        self._pending, self._dropping = "", True


def _first_break(text: str) -> int:
    found = [i for i in (text.find("\n"), text.find("\r")) if i >= 0]
    return min(found) if found else -1


class Watchdog:
    """Calls `stop` once, from a thread, when the deadline passes or `should_cancel` says
    so; `reason` then tells which."""

    def __init__(
        self, timeout: float, should_cancel: Callable[[], bool], stop: Callable[[], None]
    ) -> None:
        self.deadline = time.monotonic() + timeout
        self.should_cancel = should_cancel
        self.stop = stop
        self.reason: ErrorCode | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="build-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._done.wait(0.25):
            if time.monotonic() >= self.deadline:
                self.reason = ErrorCode.BUILD_TIMEOUT
            elif self.should_cancel():
                self.reason = ErrorCode.CANCELED
            if self.reason:
                self.stop()
                return

    def raise_if_stopped(self, spec: BuildSpec) -> None:
        if self.reason == ErrorCode.BUILD_TIMEOUT:
            raise BuildError(
                ErrorCode.BUILD_TIMEOUT,
                f"The build ran longer than the site's timeout of {spec.timeout:g} s and "
                "was stopped.",
            )
        if self.reason == ErrorCode.CANCELED:
            raise BuildError(
                ErrorCode.CANCELED, "The build was canceled; its container was stopped."
            )


def safe_extract(archive: tarfile.TarFile, destination: Path) -> None:
    """Extract only regular files, directories and in-tree links (the "data" filter:
    no absolute paths, no "..", no devices, no set-id bits)."""
    archive.extractall(destination, filter="data")


def is_inside(root: Path, path: Path) -> bool:
    """Whether `path`, every link on the way resolved, is `root` or lies beneath it."""
    return path.resolve().is_relative_to(root.resolve())


def drop_unsafe_links(tree: Path) -> list[str]:
    """Remove every symbolic link in `tree` that does not resolve to a regular file inside
    it (links out, links to directories, dangling links, chains that leave), and return
    their names. The worker reads a user's tree on the host (detection, lock files, the
    no-build copy, `_redirects`): after this, no read can be led outside it, whatever
    the intake let through when the source was stored."""
    dropped: list[str] = []
    while True:  # again after a drop: a link that went through a dropped one now dangles
        before = len(dropped)
        for directory, dirnames, filenames in os.walk(tree):
            for name in [*dirnames, *filenames]:
                path = Path(directory) / name
                if path.is_symlink() and not (path.is_file() and is_inside(tree, path)):
                    path.unlink()
                    dropped.append(str(path.relative_to(tree)))
            dirnames[:] = [d for d in dirnames if (Path(directory) / d).is_dir()]
        if len(dropped) == before:
            return dropped


def command_failed(step: Step, exit_code: int) -> BuildError:
    if step.missing and exit_code == MISSING_EXIT:
        return BuildError(ErrorCode.OUTPUT_MISSING, step.missing)
    return BuildError(
        ErrorCode.COMMAND_FAILED,
        f"The {step.name} command `{step.display or step.command}` exited with code {exit_code}.",
    )
