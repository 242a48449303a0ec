"""LocalRunner: the same build as plain subprocesses in a temporary directory.

Only when chosen (SHIPWAY_BUILD_RUNNER=local): it is not a sandbox, so every build's log
says so. It shares the host's network and file system with the worker. What it does
hold: as root, each build runs under a user id of its own from a pool (never root), its
files and cache owned by that id only while it runs; the environment is scrubbed;
memory, CPU time and processes (RLIMIT_NPROC) are limited; the timeout and cancel are
enforced; and at the end every process of that user id is killed, even one that left
the process group with setsid.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import io
import os
import resource
import signal
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings

from builds import serverpack
from builds.output import copy_directory
from builds.runners.base import (
    BuildJob,
    BuildResult,
    BuildSpec,
    LineStream,
    StepResult,
    Watchdog,
    command_failed,
    safe_extract,
)
from builds.scratch import scratch_directory
from core.masking import SecretMasker
from deployments.errors import BuildError, ErrorCode

# Only these of the worker's own variables reach a build (plus the site's variables).
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE")


WARNING = (
    "WARNING: this build runs on the worker's host WITHOUT isolation "
    "(SHIPWAY_BUILD_RUNNER=local): it shares the host's network and can read what the "
    "worker's other users can. Deploy only code you trust.\n"
)
# As root, builds run under user ids from this pool, one per build at a time.
_UID_POOL = 32


def _limits(spec: BuildSpec, uid: int | None) -> Callable[[], None]:
    memory = spec.memory_mb * 1024 * 1024

    def apply() -> None:  # runs in the child, before exec
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (memory * 4, memory * 4))  # V8 reserves a lot
        resource.setrlimit(resource.RLIMIT_CPU, (int(spec.timeout) + 5, int(spec.timeout) + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid is not None:
            # Counted per user id: only meaningful when the id is the build's alone.
            resource.setrlimit(resource.RLIMIT_NPROC, (spec.pids, spec.pids))
            _become(uid)

    return apply


def _become(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


@contextlib.contextmanager
def _build_uid() -> Iterator[int | None]:
    """A user id no other build holds (None when the worker is not root: the build then
    runs as the worker's own user, which is not root either)."""
    if os.geteuid() != 0:
        yield None
        return
    locks = Path(settings.SHIPWAY_LOCAL_BUILD_CACHE) / ".uids"
    locks.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(_UID_POOL):
            handle = open(locks / str(slot), "w")  # noqa: SIM115 (held while the build runs)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield settings.SHIPWAY_LOCAL_BUILD_UID + slot
            finally:
                handle.close()
            return
        time.sleep(0.5)


def _chown_tree(path: Path, uid: int) -> None:
    os.chown(path, uid, uid, follow_symlinks=False)
    for directory, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames]:
            os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)


def _kill_user(uid: int) -> None:
    """Kill every process of `uid`: kill(-1) from a process running as that user reaches
    exactly its processes, wherever they moved (new sessions, double forks)."""
    subprocess.run(["sh", "-c", "kill -9 -1"], preexec_fn=lambda: _become(uid), check=False)


class LocalRunner:
    def run(self, job: BuildJob) -> BuildResult:
        spec, on_output = job.spec, job.on_output
        on_output(WARNING)
        cache = Path(settings.SHIPWAY_LOCAL_BUILD_CACHE)
        cache.mkdir(parents=True, exist_ok=True)
        cache.chmod(0o711)  # others may pass through to the directory they own, not list
        with _build_uid() as uid, scratch_directory(job.scratch_prefix) as tmp:
            scratch = Path(tmp)
            workspace = scratch / "workspace"
            with tarfile.open(job.source, "r:gz") as archive:
                safe_extract(archive, workspace)
            cached = spec.use_cache and spec.cache_id
            home = cache / spec.cache_id if cached else scratch / "home"
            home.mkdir(parents=True, exist_ok=True)
            home.chmod(0o700)
            if uid is not None:
                _chown_tree(scratch, uid)
                _chown_tree(home, uid)
            env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
            env.update(spec.env, HOME=str(home))
            workdir = workspace / spec.workdir
            try:
                results = self._run_steps(spec, workdir, env, uid, on_output, job.should_cancel)
            finally:
                if uid is not None:
                    _kill_user(uid)
                    _chown_tree(home, 0)  # at rest, only root reads a site's cache
                    _chown_tree(scratch, 0)
            output = (workdir / spec.output_directory).resolve()
            if not output.is_dir() or not output.is_relative_to(workspace.resolve()):
                raise BuildError(
                    ErrorCode.OUTPUT_MISSING,
                    f"The output directory '{spec.output_directory}' does not exist after "
                    "the build.",
                )
            masked = SecretMasker(spec.secrets)
            copy_directory(
                output,
                job.output_to,
                spec.limits,
                lambda text: on_output(masked(text)),
                spec.output_directory,
            )
            server = None
            if spec.server_directory and job.server_to is not None:
                server = _pack_server(spec, workspace, workdir, job.server_to, on_output)
        return BuildResult(job.output_to, results, server)

    def _run_steps(
        self,
        spec: BuildSpec,
        workdir: Path,
        env: dict[str, str],
        uid: int | None,
        on_output: Callable[[str], None],
        should_cancel: Callable[[], bool],
    ) -> list[StepResult]:
        lines = LineStream(on_output, SecretMasker(spec.secrets), spec.log_line_max)
        results: list[StepResult] = []
        for step in spec.steps:
            on_output(f"$ {step.display or step.command}\n")
            started = time.monotonic()
            process = subprocess.Popen(
                ["sh", "-c", step.command],
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_limits(spec, uid),
            )
            remaining = spec.timeout - sum(r.duration for r in results)
            with Watchdog(remaining, should_cancel, functools.partial(_kill_group, process)) as dog:
                assert isinstance(process.stdout, io.BufferedReader)  # a PIPE, buffered
                while chunk := process.stdout.read1(65536):
                    lines.feed(chunk)
                exit_code = process.wait()
            lines.close()
            _kill_group(process)  # anything it left running in the background
            if uid is not None:
                _kill_user(uid)  # and anything that left the group
            results.append(
                StepResult(step.name, step.command, exit_code, time.monotonic() - started)
            )
            dog.raise_if_stopped(spec)
            if exit_code == -signal.SIGKILL:
                raise BuildError(
                    ErrorCode.OUT_OF_MEMORY,
                    f"The {step.name} command was killed; it likely ran out of memory.",
                )
            if exit_code:
                raise command_failed(step, exit_code)
        return results


def _pack_server(
    spec: BuildSpec,
    workspace: Path,
    workdir: Path,
    server_to: Path,
    on_output: Callable[[str], None],
) -> Path:
    """ssr: the packaged server's directory, from its real path only if that is inside
    the workspace, re-written checked into `server_to` (builds/serverpack.py)."""
    root = (workdir / spec.server_directory).resolve()
    if not root.is_dir() or not root.is_relative_to(workspace.resolve()):
        raise BuildError(ErrorCode.OUTPUT_MISSING, "The build left no packaged server.")
    masked = SecretMasker(spec.secrets)
    serverpack.pack_directory(root, server_to, spec.limits, lambda text: on_output(masked(text)))
    return server_to


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
