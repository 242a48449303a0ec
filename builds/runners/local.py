"""LocalRunner: the same build as plain subprocesses in a temporary directory.

For machines without Docker (`make run` falls back to it with a warning). It is not a
sandbox: commands run as this user on this host, so use it only for code you trust.
It still scrubs the environment, limits memory, processes and CPU time with rlimits,
enforces the timeout, supports cancel, and kills the whole process group at the end.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from builds.output import copy_directory
from builds.runners.base import (
    BuildResult,
    BuildSpec,
    LineStream,
    SecretMasker,
    StepResult,
    Watchdog,
    command_failed,
    safe_extract,
)
from deployments.errors import BuildError, ErrorCode

# Only these of the worker's own variables reach a build (plus the site's variables).
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE")


def _limits(spec: BuildSpec) -> Callable[[], None]:
    memory = spec.memory_mb * 1024 * 1024

    def apply() -> None:  # runs in the child, before exec
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (memory * 4, memory * 4))  # V8 reserves a lot
        resource.setrlimit(resource.RLIMIT_CPU, (int(spec.timeout) + 5, int(spec.timeout) + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


class LocalRunner:
    def run(
        self,
        spec: BuildSpec,
        source: Path,
        output_to: Path,
        on_output: Callable[[str], None],
        should_cancel: Callable[[], bool],
    ) -> BuildResult:
        home = Path(settings.SHIPWAY_LOCAL_BUILD_CACHE) / spec.site_id
        with tempfile.TemporaryDirectory(prefix="shipway-build-") as scratch:
            workspace = Path(scratch) / "workspace"
            with tarfile.open(source, "r:gz") as archive:
                safe_extract(archive, workspace)
            if not spec.use_cache:
                home = Path(scratch) / "home"
            home.mkdir(parents=True, exist_ok=True)
            env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
            env.update(spec.env, HOME=str(home))
            workdir = workspace / spec.workdir
            results = self._run_steps(spec, workdir, env, on_output, should_cancel)
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
                output_to,
                spec.limits,
                lambda text: on_output(masked(text)),
                spec.output_directory,
            )
        return BuildResult(output_to, results)

    def _run_steps(self, spec, workdir, env, on_output, should_cancel) -> list[StepResult]:  # type: ignore[no-untyped-def]
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
                preexec_fn=_limits(spec),
            )
            remaining = spec.timeout - sum(r.duration for r in results)
            with Watchdog(remaining, should_cancel, lambda p=process: _kill_group(p)) as dog:
                assert process.stdout is not None
                while chunk := process.stdout.read1(65536):
                    lines.feed(chunk)
                exit_code = process.wait()
            lines.close()
            _kill_group(process)  # anything it left running in the background
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


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
