"""SwarmScheduler: each server a Docker Swarm service of one task, on any runtime node.

A service may run on any node, so a deployment's files cannot sit in a local volume: they
go into an image of their own, built once on the manager's engine FROM the runtime image
with the sanitized bundle at /app (pushed to SHIPWAY_SWARM_REGISTRY when one is set;
without one the image exists only where it was built, which is enough for one node).

The task is locked down as far as a service allows: the image's non-root `builder` user,
every capability dropped, a read-only root with a small in-memory /tmp, the site's CPU
and memory and the pids limit, no restart (a crash is the manager's to see and record),
placed by SHIPWAY_SWARM_CONSTRAINTS, on the overlay network SHIPWAY_SWARM_NETWORK, with
the engine's own health check and start-first updates. Its port 3000 is published in
host mode on a port the node picks: the edge connects to that node's address and port
(read from the task's status), so the edge and the workers must reach the runtime nodes.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

import docker
import requests
import structlog
from django.conf import settings
from docker.errors import APIError, BuildError, DockerException, ImageNotFound, NotFound
from docker.types import (
    ContainerSpec,
    DriverConfig,
    EndpointSpec,
    Healthcheck,
    Mount,
    Placement,
    Resources,
    RestartPolicy,
    TaskTemplate,
    UpdateConfig,
)
from urllib3.exceptions import HTTPError

from builds.runners.docker import LABEL_PREFIX, owned_labels
from runtime.schedulers.base import SchedulerError, ServerSpec, Started, Status
from runtime.schedulers.bundles import add_file, sanitized

log = structlog.get_logger(__name__)

APP_DIR = "/app"
ROLE = "server"
IMAGE_ROLE = "server-image"
SECOND = 1_000_000_000  # the engine's durations are in nanoseconds
# A task on its way to running, or running; any other state is final.
_ALIVE = {
    "new",
    "allocated",
    "pending",
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
    "running",
}
# The engine's own check, in the image's node (it has neither curl nor wget).
_HEALTH_JS = (
    "require('http').get({host: '127.0.0.1', port: +process.env.PORT, path: '/'},"
    " r => process.exit(r.statusCode < 500 ? 0 : 1)).on('error', () => process.exit(1))"
)


def image_name(deployment_id: str) -> str:
    repository = "shipway-server"
    if settings.SHIPWAY_SWARM_REGISTRY:
        repository = f"{settings.SHIPWAY_SWARM_REGISTRY}/{repository}"
    return f"{repository}:{deployment_id}"


def _label_filter(role: str) -> list[str]:
    return [f"{key}={value}" for key, value in owned_labels(role).items()]


def _client(timeout: int) -> docker.DockerClient:
    host = settings.SHIPWAY_SWARM_DOCKER_HOST
    # "auto": the engine's own API version (the SDK's default may be newer than it).
    if host:
        return docker.DockerClient(base_url=host, version="auto", timeout=timeout)
    return docker.from_env(version="auto", timeout=timeout)


class SwarmScheduler:
    def __init__(self, client: docker.DockerClient | None = None) -> None:
        try:
            self.client = client or _client(60)
            swarm = self.client.info().get("Swarm") or {}
        except (DockerException, requests.RequestException) as exc:
            log.warning("server.swarm_unavailable", error=str(exc))
            raise SchedulerError(
                "No Docker Swarm manager answers on the worker, and servers run only there."
            ) from exc
        if not swarm.get("ControlAvailable"):
            raise SchedulerError(
                "The Docker engine the worker reaches is not a Swarm manager, so no server"
                " can be scheduled."
            )

    # -- start --------------------------------------------------------------------------

    def start(self, spec: ServerSpec, bundle: Callable[[], IO[bytes]]) -> Started:
        log.info("server.swarm_starting", deployment_id=spec.deployment_id, site_id=spec.site_id)
        image = self._image(spec, bundle)
        network = self._network()
        labels = {
            **owned_labels(ROLE),
            f"{LABEL_PREFIX}.site": spec.site_id,
            f"{LABEL_PREFIX}.deployment": spec.deployment_id,
        }
        container = ContainerSpec(
            image,
            command=["sh", "-c", spec.command],
            env=[f"{key}={value}" for key, value in spec.env.items()],
            workdir=APP_DIR,
            user="builder",
            # Stopped as the local backend's are, at once: `sh -c` as the first process
            # ignores SIGTERM, and a server keeps nothing worth a graceful exit.
            stop_grace_period=SECOND // 10,
            labels=labels,
            read_only=True,
            cap_drop=["ALL"],
            mounts=[
                Mount(
                    "/tmp",  # noqa: S108  (the task's own, in memory and bounded)
                    None,
                    type="tmpfs",
                    tmpfs_size=spec.tmp_mb * 1024 * 1024,
                )
            ],
            healthcheck=Healthcheck(
                test=["CMD", "node", "-e", _HEALTH_JS],
                interval=SECOND,
                timeout=2 * SECOND,
                retries=3,
                start_period=settings.SHIPWAY_SSR_START_TIMEOUT * SECOND,
            ),
        )
        limit = Resources(cpu_limit=int(spec.cpus * 1e9), mem_limit=spec.memory_mb * 1024 * 1024)
        limit["Limits"]["Pids"] = spec.pids  # API 1.41; the SDK has no argument for it
        template = TaskTemplate(
            container,
            resources=limit,
            restart_policy=RestartPolicy(condition="none"),
            placement=Placement(constraints=settings.SHIPWAY_SWARM_CONSTRAINTS),
            # The engine's copy of its output stays small; Shipway keeps its own.
            log_driver=DriverConfig("json-file", {"max-size": "5m", "max-file": "1"}),
            networks=[network],
        )
        try:
            service = self.client.api.create_service(
                template,
                # A suffix: a restart must not wait for the previous one's removal.
                name=f"shipway-server-{spec.deployment_id}-{secrets.token_hex(3)}",
                labels=labels,
                update_config=UpdateConfig(order="start-first", failure_action="rollback"),
                endpoint_spec=EndpointSpec(
                    mode="dnsrr",
                    # No published port named: the node picks a free one. (The SDK's
                    # types want strings; the engine wants the port as a number.)
                    ports=cast(
                        Any, [{"Protocol": "tcp", "TargetPort": spec.port, "PublishMode": "host"}]
                    ),
                ),
            )
        except APIError as exc:
            raise SchedulerError(
                f"The server's Swarm service could not be created: {exc.explanation}"
            ) from exc
        handle = cast(str, service["ID"])
        try:
            address = self._address(handle, spec)
        except SchedulerError:
            self.stop(handle)
            raise
        log.info("server.swarm_started", deployment_id=spec.deployment_id, address=address)
        return Started(handle=handle, address=address)

    def _image(self, spec: ServerSpec, bundle: Callable[[], IO[bytes]]) -> str:
        """The deployment's server image (built, and pushed, on its first start)."""
        name = image_name(spec.deployment_id)
        with contextlib.suppress(ImageNotFound):
            self.client.images.get(name)
            return name
        try:
            self.client.images.get(spec.image)
        except ImageNotFound:
            raise SchedulerError(
                f"The runtime image '{spec.image}' is not installed on the Swarm manager."
            ) from None
        dockerfile = f"FROM {spec.image}\nCOPY app/ {APP_DIR}/\n".encode()
        try:
            with tempfile.TemporaryFile() as context:
                with bundle() as source:
                    sanitized(source, context, prefix="app/")
                # The Dockerfile joins the sanitized archive (its end-of-archive blocks
                # are overwritten by the append).
                context.seek(0)
                with tarfile.open(fileobj=context, mode="a") as archive:
                    add_file(archive, "Dockerfile", dockerfile)
                context.seek(0)
                self.client.images.build(
                    fileobj=context,
                    custom_context=True,
                    tag=name,
                    labels={
                        **owned_labels(IMAGE_ROLE),
                        f"{LABEL_PREFIX}.site": spec.site_id,
                        f"{LABEL_PREFIX}.deployment": spec.deployment_id,
                    },
                    network_mode="none",
                    rm=True,
                    forcerm=True,
                    pull=False,
                )
        except (tarfile.TarError, OSError) as exc:
            raise SchedulerError("The deployment's packaged server could not be read.") from exc
        except (BuildError, APIError) as exc:
            log.warning("server.image_failed", deployment_id=spec.deployment_id, error=str(exc))
            raise SchedulerError("The server's image could not be built on the swarm.") from exc
        if settings.SHIPWAY_SWARM_REGISTRY:
            self._push(name, spec)
        log.info("server.image_built", deployment_id=spec.deployment_id, image=name)
        return name

    def _push(self, name: str, spec: ServerSpec) -> None:
        repository, tag = name.rsplit(":", 1)
        try:
            for line in self.client.images.push(repository, tag, stream=True, decode=True):
                if "error" in line:
                    raise APIError(line["error"])
        except APIError as exc:
            with contextlib.suppress(APIError, NotFound):
                self.client.images.remove(name, force=True)  # pushed again next time
            log.warning("server.push_failed", deployment_id=spec.deployment_id, error=str(exc))
            raise SchedulerError(
                f"The server's image could not be pushed to {settings.SHIPWAY_SWARM_REGISTRY}."
            ) from exc

    def _network(self) -> str:
        name = settings.SHIPWAY_SWARM_NETWORK
        if self.client.networks.list(names=[name]):
            return name
        try:
            self.client.networks.create(
                name, driver="overlay", attachable=True, labels=owned_labels("server-network")
            )
        except APIError as exc:
            if not self.client.networks.list(names=[name]):  # not made by another meanwhile
                raise SchedulerError(
                    f"The servers' overlay network could not be made: {exc.explanation}"
                ) from exc
        return name

    def _address(self, handle: str, spec: ServerSpec) -> str:
        """Where the edge reaches the task once it runs: its node's address and the port
        published there. A task that ends first gets port 0 (nothing listens): the
        manager's health check then reports how it exited, with its last lines."""
        deadline = time.monotonic() + settings.SHIPWAY_SSR_START_TIMEOUT
        while time.monotonic() < deadline:
            task = self._task(handle)
            state = (task or {}).get("Status", {}).get("State", "new")
            if task and state == "running":
                node = self._node_address(task["NodeID"])
                ports = task["Status"].get("PortStatus", {}).get("Ports") or []
                published = next(
                    (p["PublishedPort"] for p in ports if p.get("TargetPort") == spec.port), None
                )
                if published:
                    return f"{node}:{published}"
            elif task and state not in _ALIVE:
                return f"{self._node_address(task.get('NodeID', ''))}:0"
            time.sleep(0.1)
        error = ((self._task(handle) or {}).get("Status") or {}).get("Err")
        raise SchedulerError(
            "The swarm did not run the server within "
            f"{settings.SHIPWAY_SSR_START_TIMEOUT} s" + (f": {error}" if error else ".")
        )

    def _node_address(self, node_id: str) -> str:
        if not node_id:
            return "127.0.0.1"
        attrs = self.client.api.inspect_node(node_id)
        address = cast(str, attrs.get("Status", {}).get("Addr", ""))
        if address in ("", "0.0.0.0"):  # noqa: S104  (a manager may report this)
            address = attrs.get("ManagerStatus", {}).get("Addr", "").rsplit(":", 1)[0]
        return address or "127.0.0.1"

    def _task(self, handle: str) -> dict[str, Any] | None:
        """The service's newest task (None when the service is gone or has none yet)."""
        try:
            tasks = self.client.api.tasks(filters={"service": handle})
        except NotFound:
            return None
        if not tasks:
            return None
        return cast(dict[str, Any], max(tasks, key=lambda t: t.get("CreatedAt", "")))

    # -- watch and stop -----------------------------------------------------------------

    def status(self, handle: str) -> Status | None:
        try:
            self.client.api.inspect_service(handle)
        except NotFound:
            return None
        task = self._task(handle)
        if task is None:
            return Status(running=True, exit_code=None)  # not scheduled yet
        state = task.get("Status", {})
        if state.get("State") in _ALIVE:
            return Status(running=True, exit_code=None)
        container = state.get("ContainerStatus") or {}
        exit_code = container.get("ExitCode")
        error = str(state.get("Err") or "")
        return Status(
            running=False,
            exit_code=exit_code if state.get("State") in ("complete", "failed") else None,
            # The engine says only the code; 137 with the OOM killer's word in its error.
            out_of_memory=exit_code == 137 and "oom" in error.lower(),
        )

    def follow(self, handle: str, since: float | None = None) -> Iterator[bytes]:
        # Its own client: a follower runs in a thread for as long as the server runs. A
        # service's log stream does not end when its task does or when it is removed, so
        # a watcher shuts its socket then (the SDK's own helpers read it: it hides the
        # response that service_logs streams).
        try:
            client = _client(24 * 3600)
        except (DockerException, requests.RequestException) as exc:
            log.info("server.follow_ended", handle=handle[:12], error=str(exc))
            return
        api = cast(Any, client.api)
        params = {"follow": True, "stdout": True, "stderr": True, "since": since or 0}
        ended = threading.Event()

        def watch(sock: Any) -> None:
            while not ended.wait(0.5):
                status = self.status(handle)
                if status is None or not status.running:
                    if status is not None:  # exited: its last lines reach the stream first
                        ended.wait(1)
                    with contextlib.suppress(OSError):
                        getattr(sock, "_sock", sock).shutdown(socket.SHUT_RDWR)
                    return

        try:
            response = api._get(api._url("/services/{0}/logs", handle), params=params, stream=True)
            sock = api._get_raw_response_socket(response)  # raises for the status
            threading.Thread(
                target=watch, args=(sock,), name=f"swarm-log-{handle[:12]}", daemon=True
            ).start()
            yield from api._multiplexed_response_stream_helper(response)
        except (NotFound, APIError, requests.RequestException, HTTPError, OSError) as exc:
            log.info("server.follow_ended", handle=handle[:12], error=str(exc))
        finally:
            ended.set()
            client.close()

    def stop(self, handle: str) -> None:
        try:
            self.client.api.remove_service(handle)
        except NotFound:
            pass
        except APIError:
            log.warning("server.remove_failed", handle=handle[:12], exc_info=True)

    def servers(self) -> dict[str, str]:
        services = self.client.api.services(filters={"label": _label_filter(ROLE)})
        return {
            cast(str, s["ID"]): s["Spec"].get("Labels", {}).get(f"{LABEL_PREFIX}.deployment", "")
            for s in services
        }

    def remove_files(self, deployment_id: str) -> None:
        for handle, owner in self.servers().items():
            if owner == deployment_id:
                self.stop(handle)
        # The engine removes a service's task containers a moment after the service, and
        # refuses to remove an image a container still uses: ask again for a while. (Not
        # forced: that would only untag it, leaving it labelled but nameless.)
        deadline = time.monotonic() + 15
        while True:
            try:
                self.client.images.remove(image_name(deployment_id))
                return
            except NotFound:
                return
            except APIError as exc:
                if exc.status_code != 409 or time.monotonic() > deadline:
                    # The sweeper's next round tries again (kept_files still lists it).
                    log.warning(
                        "server.image_remove_failed", deployment_id=deployment_id, exc_info=True
                    )
                    return
            time.sleep(0.2)

    def kept_files(self) -> set[str]:
        images = self.client.images.list(filters={"label": _label_filter(IMAGE_ROLE)})
        return {(i.labels or {}).get(f"{LABEL_PREFIX}.deployment", "") for i in images} - {""}
