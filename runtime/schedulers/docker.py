"""DockerScheduler: each server in a locked-down container on the local Docker engine.

Like a build's container (builds/runners/docker.py): the image's non-root `builder`
user, every capability dropped, no-new-privileges, the site's CPU and memory, a pids
limit; besides, a read-only root with only a small /tmp writable, and nothing of the
host mounted. The packaged server comes from storage into a per-deployment volume,
filled once through the archive API by a container that never starts, and mounted
read-only where the server runs. Servers sit on their own bridge (`shipway1`, see
builds/network.py): no traffic between them, nothing of the host or private networks
reachable from them, only the host's own connections in.
"""

from __future__ import annotations

import contextlib
import secrets
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

import docker
import requests
import structlog
from django.conf import settings
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.types import LogConfig

from builds import network as isolated
from builds.runners.docker import LABEL_PREFIX, locked_down, owned_labels
from deployments.errors import BuildError, ErrorCode
from runtime.schedulers.base import SchedulerError, ServerSpec, Started, Status
from runtime.schedulers.bundles import one_file, sanitized

log = structlog.get_logger(__name__)

APP_DIR = "/app"
MARKER = ".shipway-complete"  # written last: the volume holds the whole bundle
BRIDGE = "shipway1"
ROLE = "server"
FILES_ROLE = "server-files"
# Volumes this process has seen whole (filled here, or found with their marker): a
# deployment's files never change, so a later start of its server skips the marker's
# check (a get_archive, ~0.15 s of each cold start). Only for a volume that already
# existed when the start began: one made anew is filled whatever this says.
_whole: set[str] = set()


def servers_network() -> isolated.IsolatedNetwork:
    return isolated.IsolatedNetwork(
        settings.SHIPWAY_SSR_NETWORK,
        BRIDGE,
        "server-network",
        host_connects=True,
        refusal=ErrorCode.BUILD_NETWORK_UNAVAILABLE,
        what="servers",
    )


def volume_name(deployment_id: str) -> str:
    return f"shipway-server-{deployment_id}"


def _label_filter(role: str) -> list[str]:
    return [f"{key}={value}" for key, value in owned_labels(role).items()]


class DockerScheduler:
    def __init__(self, client: docker.DockerClient | None = None) -> None:
        try:
            self.client = client or docker.from_env(timeout=60)
            self.client.ping()
        except (DockerException, requests.RequestException) as exc:
            log.warning("server.docker_unavailable", error=str(exc))
            raise SchedulerError(
                "No Docker engine answers on the worker, and servers run only in containers."
            ) from exc

    # -- start --------------------------------------------------------------------------

    def start(self, spec: ServerSpec, bundle: Callable[[], IO[bytes]]) -> Started:
        try:
            self.client.images.get(spec.image)
        except ImageNotFound:
            raise SchedulerError(
                f"The runtime image '{spec.image}' is not installed on this server."
            ) from None
        try:
            network = isolated.ensure(self.client, servers_network())
        except BuildError as exc:
            raise SchedulerError(exc.detail) from exc
        volume, existed = self._volume(spec)
        labels = {
            **owned_labels(ROLE),
            f"{LABEL_PREFIX}.site": spec.site_id,
            f"{LABEL_PREFIX}.deployment": spec.deployment_id,
        }
        try:
            container = self.client.containers.create(
                spec.image,
                command=["sh", "-c", spec.command],
                # A suffix: a restart must not wait for the previous one's removal.
                name=f"shipway-server-{spec.deployment_id}-{secrets.token_hex(3)}",
                labels=labels,
                working_dir=APP_DIR,
                environment=spec.env,
                **locked_down(spec.cpus, spec.memory_mb, spec.pids),
                read_only=True,
                # The container's own /tmp, in memory and bounded (the root is read-only).
                tmpfs={"/tmp": f"rw,nosuid,nodev,size={spec.tmp_mb}m"},  # noqa: S108
                volumes={volume: {"bind": APP_DIR, "mode": "ro"}},
                network=network,
                # The engine's copy of its output stays small; Shipway keeps its own.
                log_config=LogConfig(type="json-file", config={"max-size": "5m", "max-file": "1"}),
                detach=True,
            )
        except APIError as exc:
            raise SchedulerError(
                f"The server's container could not be created: {exc.explanation}"
            ) from exc
        handle = cast(str, container.id)
        try:
            if not (existed and volume in _whole):
                if not existed or not _complete(container):  # its server's first start
                    self._fill(spec, volume, bundle)
                _whole.add(volume)
            container.start()
            container.reload()
        except SchedulerError:
            self.stop(handle)
            raise
        except APIError as exc:
            self.stop(handle)
            log.warning("server.start_failed", deployment_id=spec.deployment_id, error=str(exc))
            raise SchedulerError(
                f"The server's container could not start: {exc.explanation}"
            ) from exc
        networks: dict[str, dict[str, Any]] = container.attrs["NetworkSettings"]["Networks"]
        address = (networks.get(network) or next(iter(networks.values()), {})).get("IPAddress")
        if not address:
            self.stop(cast(str, container.id))
            raise SchedulerError("The server's container got no address on its network.")
        return Started(handle=cast(str, container.id), address=f"{address}:{spec.port}")

    def _volume(self, spec: ServerSpec) -> tuple[str, bool]:
        """The deployment's volume (made now if need be; filled by `_fill`), and whether
        it existed before."""
        name = volume_name(spec.deployment_id)
        try:
            self.client.volumes.get(name)
            return name, True
        except NotFound:
            _whole.discard(name)
            self.client.volumes.create(
                name,
                labels={
                    **owned_labels(FILES_ROLE),
                    f"{LABEL_PREFIX}.site": spec.site_id,
                    f"{LABEL_PREFIX}.deployment": spec.deployment_id,
                },
            )
        return name, False

    def _fill(self, spec: ServerSpec, volume: str, bundle: Callable[[], IO[bytes]]) -> None:
        """Copy the bundle into the volume through a container that never starts (the
        server's own mounts it read-only), the marker last."""
        filler = self.client.containers.create(
            spec.image,
            command=["true"],
            labels={
                **owned_labels("server-filler"),
                f"{LABEL_PREFIX}.deployment": spec.deployment_id,
            },
            network_disabled=True,
            volumes={volume: {"bind": APP_DIR, "mode": "rw"}},
        )
        try:
            with tempfile.TemporaryFile() as clean:
                with bundle() as source:
                    sanitized(source, clean)
                clean.seek(0)
                filler.put_archive(APP_DIR, clean)
            filler.put_archive(APP_DIR, one_file(MARKER, b""))
        except (tarfile.TarError, OSError) as exc:
            raise SchedulerError("The deployment's packaged server could not be read.") from exc
        finally:
            with contextlib.suppress(NotFound, APIError):
                filler.remove(force=True)
        log.info("server.files_filled", deployment_id=spec.deployment_id, volume=volume)

    # -- watch and stop -----------------------------------------------------------------

    def status(self, handle: str) -> Status | None:
        try:
            state = self.client.api.inspect_container(handle)["State"]
        except NotFound:
            return None
        running = bool(state.get("Running")) or state.get("Status") == "created"
        return Status(
            running=running,
            exit_code=None if running else state.get("ExitCode"),
            out_of_memory=bool(state.get("OOMKilled")),
        )

    def follow(self, handle: str, since: float | None = None) -> Iterator[bytes]:
        # Its own client: a follower runs in a thread for as long as the server runs.
        client = docker.from_env(timeout=24 * 3600)
        kwargs: dict[str, Any] = {"stream": True, "follow": True, "stdout": True, "stderr": True}
        if since is not None:
            kwargs["since"] = since
        try:
            yield from client.api.logs(handle, **kwargs)
        except (NotFound, APIError, requests.RequestException, OSError) as exc:
            log.info("server.follow_ended", handle=handle[:12], error=str(exc))
        finally:
            client.close()

    def stop(self, handle: str) -> None:
        try:
            self.client.containers.get(handle).remove(force=True)
        except NotFound:
            pass
        except APIError:
            log.warning("server.remove_failed", handle=handle[:12], exc_info=True)

    def servers(self) -> dict[str, str]:
        # Sparse: the list's own data, with no inspect per container (one removed
        # meanwhile would fail the whole listing).
        found: dict[str, str] = {}
        for role in (ROLE, "server-filler"):  # a filler outlives its start only if the
            containers = self.client.containers.list(  # worker died while it filled
                all=True, sparse=True, filters={"label": _label_filter(role)}
            )
            for container in containers:
                labels = container.attrs.get("Labels") or {}
                found[cast(str, container.id)] = labels.get(f"{LABEL_PREFIX}.deployment", "")
        return found

    def remove_files(self, deployment_id: str) -> None:
        for handle, owner in self.servers().items():
            if owner == deployment_id:
                self.stop(handle)
        _whole.discard(volume_name(deployment_id))
        try:
            self.client.volumes.get(volume_name(deployment_id)).remove(force=True)
        except NotFound:
            pass
        except APIError:
            log.warning("server.volume_remove_failed", deployment_id=deployment_id, exc_info=True)

    def kept_files(self) -> set[str]:
        volumes = self.client.volumes.list(filters={"label": _label_filter(FILES_ROLE)})
        return {v.attrs["Labels"].get(f"{LABEL_PREFIX}.deployment", "") for v in volumes} - {""}


def _complete(container: Container) -> bool:
    """Whether the volume the container mounts holds a whole bundle (its marker)."""
    try:
        stream, _ = container.get_archive(f"{APP_DIR}/{MARKER}")
        for _chunk in stream:
            pass
        return True
    except NotFound:
        return False
