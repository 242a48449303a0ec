"""DockerRunner: each build in a fresh, locked-down container.

The container runs as the image's non-root `builder` user with every capability
dropped, no-new-privileges, the site's CPU, memory and pids limits, and nothing of the
host mounted: the source goes in through the archive API, the output comes out the
same way, and the only volume is the site's own build cache (a named Docker volume,
never a host path, never shared between sites). It is always removed afterwards.
"""

from __future__ import annotations

import contextlib
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, cast

import docker
import requests
import structlog
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container

from builds import network as build_network
from builds import serverpack
from builds.models import installation_id
from builds.output import CHUNK, copy_tar
from builds.runners.base import (
    BuildJob,
    BuildResult,
    BuildSpec,
    LineStream,
    StepResult,
    Watchdog,
    command_failed,
)
from core.masking import SecretMasker
from deployments.errors import BuildError, ErrorCode

log = structlog.get_logger(__name__)

BUILDER_UID = 10001
HOME = "/home/builder"
WORKSPACE = "/workspace"
LABEL_PREFIX = "shipway"


def labels_for(spec: BuildSpec) -> dict[str, str]:
    """Every build container carries these; cleanup looks only at its own installation's
    containers of the role it manages (builds.reaper)."""
    return {
        **owned_labels("build"),
        f"{LABEL_PREFIX}.site": spec.site_id,
        f"{LABEL_PREFIX}.deployment": spec.deployment_id,
    }


def owned_labels(role: str) -> dict[str, str]:
    """Whose and what a container or volume is: this installation's, in this role."""
    return {
        f"{LABEL_PREFIX}.managed": "true",
        f"{LABEL_PREFIX}.installation": installation_id(),
        f"{LABEL_PREFIX}.role": role,
    }


def locked_down(cpus: float, memory_mb: int, pids: int) -> dict[str, Any]:
    """The container options every container of users' code gets (builds and servers):
    the image's non-root builder user, no capabilities, no new privileges, and the
    site's CPU, memory (no swap beyond it) and pids limits."""
    return {
        "user": "builder",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "nano_cpus": int(cpus * 1e9),
        "mem_limit": f"{memory_mb}m",
        "memswap_limit": f"{memory_mb}m",
        "pids_limit": pids,
    }


def cache_volume_name(cache_id: str) -> str:
    return f"shipway-cache-{cache_id}"


class DockerRunner:
    def __init__(self, client: docker.DockerClient | None = None) -> None:
        try:
            self.client = client or docker.from_env(timeout=120)
            self.client.ping()
        except (DockerException, requests.RequestException) as exc:
            # Fail closed: without an engine, nothing runs (never silently on the host).
            log.warning("build.docker_unavailable", error=str(exc))
            raise BuildError(
                ErrorCode.DOCKER_UNAVAILABLE,
                "No Docker engine answers on the build worker, and builds run only in "
                "containers. Start Docker on the worker; or, for code you trust, set "
                "SHIPWAY_BUILD_RUNNER=local to run builds unisolated on the host.",
            ) from exc

    def run(self, job: BuildJob) -> BuildResult:
        spec = job.spec
        self._require_image(spec)
        container = self._create_container(spec)
        try:
            self._put_source(container, job.source)
            container.start()
            results = self._run_steps(spec, container, job.on_output, job.should_cancel)
            self._copy_output(spec, container, job.output_to, job.on_output)
            server = self._copy_server(spec, container, job.server_to, job.on_output)
        except BaseException:
            # Failed or canceled: stop it now (a created container always has its id).
            _remove_container(cast(str, container.id))
            raise
        # Done: removing it took 160-420 ms (more after a big build) on the way to `ready`
        # (bench/RESULTS.md, "Builds"), so it goes in the background. If the worker dies
        # first, the reaper removes it by its label.
        threading.Thread(
            target=_remove_container, args=(container.id,), name="build-cleanup", daemon=True
        ).start()
        return BuildResult(job.output_to, results, server)

    def _require_image(self, spec: BuildSpec) -> None:
        try:
            self.client.images.get(spec.image)
        except ImageNotFound:
            raise BuildError(
                ErrorCode.IMAGE_MISSING,
                f"The runtime image '{spec.image}' for {spec.runtime} is not installed on "
                f"this server; run `python manage.py runtimes build {spec.runtime}`.",
            ) from None

    def _create_container(self, spec: BuildSpec) -> Container:
        volumes = None
        if spec.use_cache:
            name = cache_volume_name(spec.cache_id)
            try:
                self.client.volumes.get(name)
            except NotFound:
                self.client.volumes.create(
                    name,
                    labels={**owned_labels("build-cache"), f"{LABEL_PREFIX}.site": spec.site_id},
                )
            # A new volume starts as a copy of the image's home directory (owned by builder).
            volumes = {name: {"bind": HOME, "mode": "rw"}}
        return self.client.containers.create(
            spec.image,
            command=["sleep", "infinity"],
            name=f"shipway-build-{spec.deployment_id}",
            labels=labels_for(spec),
            working_dir=WORKSPACE,
            environment=spec.env,
            **locked_down(spec.cpus, spec.memory_mb, spec.pids),
            network=build_network.ensure(self.client),
            volumes=volumes,
            detach=True,
        )

    def _put_source(self, container: Container, source: Path) -> None:
        """Copy the source in, owned by the builder (the archive API keeps tar owners)."""
        with tempfile.TemporaryFile() as owned:
            with tarfile.open(source, "r:gz") as src, tarfile.open(fileobj=owned, mode="w") as dst:
                for member in src:
                    member.uid = member.gid = BUILDER_UID
                    member.uname = member.gname = ""
                    dst.addfile(member, src.extractfile(member) if member.isfile() else None)
            owned.seek(0)
            container.put_archive(WORKSPACE, owned)

    def _run_steps(
        self,
        spec: BuildSpec,
        container: Container,
        on_output: Callable[[str], None],
        should_cancel: Callable[[], bool],
    ) -> list[StepResult]:
        api = self.client.api
        workdir = f"{WORKSPACE}/{spec.workdir}".rstrip("/")
        lines = LineStream(on_output, SecretMasker(spec.secrets), spec.log_line_max)
        results: list[StepResult] = []
        with Watchdog(spec.timeout, should_cancel, lambda: _kill(container)) as watchdog:
            for step in spec.steps:
                on_output(f"$ {step.display or step.command}\n")
                started = time.monotonic()
                exec_id = api.exec_create(
                    container.id,
                    ["sh", "-c", step.command],
                    user="builder",
                    workdir=workdir,
                    environment=spec.env,
                )["Id"]
                try:
                    for chunk in api.exec_start(exec_id, stream=True):
                        lines.feed(chunk)
                except (APIError, OSError) as exc:  # the stream breaks when we kill
                    log.info("build.exec_stream_ended", error=str(exc))
                lines.close()
                exit_code = api.exec_inspect(exec_id).get("ExitCode")
                results.append(
                    StepResult(step.name, step.command, exit_code or 0, time.monotonic() - started)
                )
                watchdog.raise_if_stopped(spec)
                if exit_code == 137:
                    raise BuildError(
                        ErrorCode.OUT_OF_MEMORY,
                        f"The {step.name} command was killed (exit 137): the build ran out of "
                        f"its {spec.memory_mb} MB of memory.",
                    )
                if exit_code:
                    raise command_failed(step, exit_code)
        return results

    def _copy_output(
        self,
        spec: BuildSpec,
        container: Container,
        output_to: Path,
        on_output: Callable[[str], None],
    ) -> None:
        """Stream the output directory out of the container (builds/output.py checks each
        entry's header against the limits before its data is read, and keeps only files
        and directories)."""
        path = f"{WORKSPACE}/{spec.workdir}/{spec.output_directory}".replace("//", "/")
        try:
            # A generator (closed below), and the path's stat, which the engine always sends.
            stream, stat = cast(
                "tuple[Generator[bytes, None, None], dict[str, Any]]",
                container.get_archive(path.rstrip("/") or "/", chunk_size=CHUNK),
            )
        except NotFound:
            raise BuildError(
                ErrorCode.OUTPUT_MISSING,
                f"The output directory '{spec.output_directory}' does not exist after the build.",
            ) from None
        masked = SecretMasker(spec.secrets)
        try:
            if not stat.get("mode", 0) & 0x80000000:  # os.ModeDir in Go's FileMode
                raise BuildError(
                    ErrorCode.OUTPUT_MISSING,
                    f"The output directory '{spec.output_directory}' is not a directory.",
                )
            copy_tar(
                stream,
                stat["name"],
                output_to,
                spec.limits,
                lambda text: on_output(masked(text)),
                spec.output_directory,
            )
        finally:
            # Closing the stream closes its connection, which stops Docker sending the
            # rest (say, the terabyte whose header was refused).
            stream.close()

    def _copy_server(
        self,
        spec: BuildSpec,
        container: Container,
        server_to: Path | None,
        on_output: Callable[[str], None],
    ) -> Path | None:
        """ssr: stream the packaged server's directory out and re-write it, checked entry
        by entry, into `server_to` (builds/serverpack.py; nothing is extracted here)."""
        if not spec.server_directory or server_to is None:
            return None
        path = f"{WORKSPACE}/{spec.workdir}/{spec.server_directory}".replace("//", "/")
        try:
            stream, stat = cast(
                "tuple[Generator[bytes, None, None], dict[str, Any]]",
                container.get_archive(path.rstrip("/"), chunk_size=CHUNK),
            )
        except NotFound:
            raise BuildError(
                ErrorCode.OUTPUT_MISSING, "The build left no packaged server."
            ) from None
        masked = SecretMasker(spec.secrets)
        try:
            if not stat.get("mode", 0) & 0x80000000:  # os.ModeDir in Go's FileMode
                raise BuildError(
                    ErrorCode.OUTPUT_MISSING, "The packaged server is not a directory."
                )
            serverpack.pack_tar(
                stream, stat["name"], server_to, spec.limits, lambda text: on_output(masked(text))
            )
        finally:
            stream.close()
        return server_to


def _kill(container: Container) -> None:
    with contextlib.suppress(NotFound, APIError):  # already gone is what we wanted
        container.kill()


def _remove_container(container_id: str) -> None:
    """Remove a build's container (its own Docker client: it may run in another thread)."""
    try:
        docker.from_env(timeout=120).containers.get(container_id).remove(force=True)
    except (NotFound, APIError, DockerException):
        log.warning("build.container_remove_failed", container_id=container_id, exc_info=True)
