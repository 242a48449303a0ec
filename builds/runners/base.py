"""The runner interface and the pieces every runner shares."""

from __future__ import annotations

import codecs
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from builds.output import OutputLimits
from deployments.errors import BuildError, ErrorCode

MASK = "********"


@dataclass(frozen=True)
class Step:
    name: str  # "install", "cache", "build"
    command: str  # what the shell runs
    display: str = ""  # what the log shows (the user's command, without our wrapping)


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
    limits: OutputLimits = field(default_factory=OutputLimits)  # what the output may hold


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


class BuildRunner(Protocol):
    def run(
        self,
        spec: BuildSpec,
        source: Path,
        output_to: Path,
        on_output: Callable[[str], None],
        should_cancel: Callable[[], bool],
    ) -> BuildResult:
        """Run the spec's steps on the source (a .tar.gz) and copy the output directory
        into `output_to`. Raises BuildError with the reason when the build fails."""
        ...


class SecretMasker:
    """Replaces secret values in output (longest first, so one secret inside another is
    masked whole). Values shorter than 4 characters are not masked: they would mask
    ordinary text everywhere."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


class LineStream:
    """Bytes in, whole masked lines out; holds a partial line until its newline comes (so
    a secret split across two reads is still masked)."""

    def __init__(self, emit: Callable[[str], None], masker: SecretMasker) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self._emit = emit
        self._mask = masker

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        lines = text.splitlines(keepends=True)
        self._pending = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        if lines:
            self._emit(self._mask("".join(lines)))

    def close(self) -> None:
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        if rest:
            self._emit(self._mask(rest + "\n"))


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


def command_failed(step: Step, exit_code: int) -> BuildError:
    return BuildError(
        ErrorCode.COMMAND_FAILED,
        f"The {step.name} command `{step.display or step.command}` exited with code {exit_code}.",
    )
