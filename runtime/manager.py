"""The runtime manager: starts an ssr deployment's server, health-checks it, hands it the
site's traffic once healthy, keeps its output, notices when it dies, and stops it when
idle or replaced. Every state change is written through deployments.services' server_*
functions (which announce it to the edges and the realtime feed); where a server runs
is the scheduler's business (runtime/schedulers/).

One start at a time per deployment: a Redis lock, so that a burst of cold requests on
several edges, an activation and the sweeper never start two containers for one server.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

import structlog
from django.conf import settings
from django.db import close_old_connections, connection

from builds.runners.base import LineStream
from core.masking import SecretMasker
from core.redis_clients import redis_client
from deployments import servers, services
from deployments.artifacts import artifacts, read_manifest, server_archive_path
from deployments.environment import site_variables, system_variables
from deployments.models import Deployment, RuntimeState, Server, ServerLogChunk, Status
from runtime.schedulers import get_scheduler
from runtime.schedulers.base import PORT, Scheduler, SchedulerError, ServerSpec
from runtime.schedulers.base import Status as ServerStatus
from sites.models import VariableScope
from sites.runtimes import get_runtime
from sites.specifications import get_specification

log = structlog.get_logger(__name__)

_LOCK_KEY = "shipway:servers:lock:{deployment_id}"
# Set while a process follows the server's output (refreshed by that process's keeper).
_FOLLOWING_KEY = "shipway:servers:following:{deployment_id}"
# Unix time of the newest output kept: where a new follower resumes (`since`).
_LOGGED_KEY = "shipway:servers:logged:{deployment_id}"
_FOLLOW_TTL = 90
POLL = 0.05  # seconds between health check attempts (cold start goal: 0.5 s)


def _redis():  # type: ignore[no-untyped-def]
    return redis_client(settings.REDIS_URL) if settings.REDIS_URL else None


@contextlib.contextmanager
def _locked(deployment_id: str, wait: float = 0) -> Iterator[bool]:
    """Whether this process holds the deployment's start/stop lock (for the block)."""
    client = _redis()
    if client is None:
        yield True
        return
    lock = client.lock(
        _LOCK_KEY.format(deployment_id=deployment_id),
        timeout=settings.SHIPWAY_SSR_START_TIMEOUT + 60,
    )
    held = lock.acquire(blocking=wait > 0, blocking_timeout=wait or None)
    try:
        yield bool(held)
    finally:
        if held:
            with contextlib.suppress(Exception):  # expired meanwhile: nothing to release
                lock.release()


# -- the spec ---------------------------------------------------------------------------


def environment(deployment: Deployment) -> tuple[dict[str, str], list[str]]:
    """The server's variables and the values its log must never show.

    The site's runtime-scope variables of the deployment's environment (decrypted), then
    Shipway's: which deployment this is, and where to listen. Nothing of the platform's
    own environment. The secrets are every one of the site's, as builds mask them."""
    own, secrets = site_variables(deployment, VariableScope.RUNTIME)
    env = {"NODE_ENV": "production", "ORIGIN": deployment.site.url}  # SvelteKit reads ORIGIN
    env.update(own)
    env.update(system_variables(deployment))
    # In the container, on its own network namespace: every interface is its bridge one.
    everywhere = "0.0.0.0"  # noqa: S104
    env.update({"PORT": str(PORT), "HOST": everywhere, "HOSTNAME": everywhere})
    return env, secrets


def server_spec(deployment: Deployment) -> tuple[ServerSpec, list[str]]:
    site = deployment.site
    manifest = read_manifest(deployment.storage_prefix)
    command = (manifest.get("server") or {}).get("command") or site.start_command
    if not command:
        raise SchedulerError("The deployment has no packaged server (its manifest names none).")
    env, secrets = environment(deployment)
    size = get_specification(site.specification)
    spec = ServerSpec(
        site_id=site.id,
        deployment_id=deployment.id,
        image=get_runtime(deployment.build_runtime or site.build_runtime).image,
        command=command,
        env=env,
        cpus=size.cpus,
        memory_mb=size.memory,
        pids=settings.SHIPWAY_SSR_PIDS_LIMIT,
        tmp_mb=settings.SHIPWAY_SSR_TMP_MB,
    )
    return spec, secrets


# -- starting ---------------------------------------------------------------------------


def start_server(deployment_id: str) -> str:
    """Start the deployment's server unless it runs already; make it live if its
    deployment is active. Returns what happened ("running", "failed", "busy", "skipped").
    """
    try:
        with _locked(deployment_id) as held:
            if not held:
                return "busy"  # another worker is starting or stopping it
            return _start(deployment_id)
    finally:
        servers.forget_wanted(deployment_id)


def _start(deployment_id: str) -> str:
    deployment = (
        Deployment.objects.select_related("site", "server").filter(pk=deployment_id).first()
    )
    if deployment is None or deployment.status != Status.READY or deployment.adapter != "ssr":
        return "skipped"
    row = Server.objects.filter(pk=deployment_id).first()
    try:
        scheduler = get_scheduler()
        if row and row.state == RuntimeState.RUNNING and row.handle:
            status = scheduler.status(row.handle)
            if status and status.running:
                services.server_promote(deployment_id)
                return "running"
            scheduler.stop(row.handle)  # the row was stale: start afresh
        services.server_starting(deployment_id)
        spec, secrets = server_spec(deployment)
        bundle = server_archive_path(deployment.storage_prefix)
        started = scheduler.start(spec, lambda: _open(bundle))
    except SchedulerError as exc:
        services.server_failed(deployment_id, str(exc))
        return "failed"
    except Exception:
        log.exception("server.start_crashed", deployment_id=deployment_id)
        services.server_failed(deployment_id, "The server could not be started (internal error).")
        return "failed"
    follower = follow(deployment, started.handle, secrets)
    error = _health_check(scheduler, started.handle, started.address, deployment, follower)
    if error:
        follower.ended.wait(3)  # its last lines are in the log before it goes
        scheduler.stop(started.handle)
        services.server_failed(deployment_id, error)
        log.info("server.start_failed", deployment_id=deployment_id, error=error)
        return "failed"
    services.server_running(deployment_id, handle=started.handle, address=started.address)
    services.server_promote(deployment_id)
    return "running"


def _open(path: str) -> IO[bytes]:
    return artifacts().open(path, "rb")


def _health_check(
    scheduler: Scheduler, handle: str, address: str, deployment: Deployment, follower: Follower
) -> str:
    """ "" once it answers `GET /` below 500; otherwise why not, as a sentence."""
    timeout = settings.SHIPWAY_SSR_START_TIMEOUT
    deadline = time.monotonic() + timeout
    host, port = address.rsplit(":", 1)
    while time.monotonic() < deadline:
        answer = _probe(host, int(port), deployment.hostname, deadline)
        if answer is not None and answer < 500:
            return ""
        status = scheduler.status(handle)
        if status is None or not status.running:
            follower.ended.wait(3)
            return _exited(status, follower.last_line(), "before it answered")
        time.sleep(POLL)
    return f"The server did not answer on port {port} within {timeout} s."


def _exited(status: ServerStatus | None, last: str, when: str) -> str:
    said = f": {last}" if last else "."
    if status is None or status.exit_code is None:
        return f"The server's container disappeared {when}{said}"
    if status.out_of_memory:
        return f"The server ran out of memory and was killed {when}{said}"
    return f"The server exited with code {status.exit_code} {when}{said}"


def _probe(host: str, port: int, hostname: str, deadline: float) -> int | None:
    """The status of `GET /` (None when nothing answers yet)."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(
                f"GET / HTTP/1.1\r\nHost: {hostname}\r\nUser-Agent: shipway-health\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            sock.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
            head = b""
            while b"\r\n" not in head and len(head) < 1024:
                data = sock.recv(1024)
                if not data:
                    break
                head += data
    except OSError:
        return None
    parts = head.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


# -- following the output ---------------------------------------------------------------


class Follower(threading.Thread):
    """Follows one server's output into its runtime log (masked, bounded), and when the
    output ends while the row still says it runs, records the crash."""

    def __init__(
        self, deployment: Deployment, handle: str, secrets: list[str], since: float | None
    ) -> None:
        super().__init__(name=f"server-log-{deployment.id}", daemon=True)
        self.deployment = deployment
        self.handle = handle
        self.since = since
        self.masker = SecretMasker(secrets)
        self.lines: deque[str] = deque(maxlen=5)
        self.ended = threading.Event()

    def last_line(self) -> str:
        lines = [line for line in self.lines if line.strip()]
        return lines[-1].strip()[:500] if lines else ""

    def _emit(self, text: str) -> None:
        self.lines.extend(text.splitlines())
        services.server_log_append(self.deployment, text)
        client = _redis()
        if client is not None:
            client.set(_LOGGED_KEY.format(deployment_id=self.deployment.id), time.time())

    def run(self) -> None:
        key = _FOLLOWING_KEY.format(deployment_id=self.deployment.id)
        _keeper.add(key)
        try:
            stream = LineStream(self._emit, self.masker, settings.SHIPWAY_BUILD_LOG_MAX_LINE)
            for chunk in get_scheduler().follow(self.handle, self.since):
                stream.feed(chunk)
            stream.close()
        except Exception:
            log.exception("server.follow_failed", deployment_id=self.deployment.id)
        finally:
            _keeper.discard(key)
            self.ended.set()
        try:
            _ended(self.deployment.id, self.handle, self.last_line())
        except Exception:
            log.exception("server.end_check_failed", deployment_id=self.deployment.id)
        finally:
            connection.close()


def follow(
    deployment: Deployment, handle: str, secrets: list[str], since: float | None = None
) -> Follower:
    follower = Follower(deployment, handle, secrets, since)
    client = _redis()
    if client is not None:
        key = _FOLLOWING_KEY.format(deployment_id=deployment.id)
        client.set(key, handle, ex=_FOLLOW_TTL)
    follower.start()
    return follower


def _ended(deployment_id: str, handle: str, last_line: str) -> None:
    """The server's output ended: if it was running (not stopped by us), it crashed."""
    close_old_connections()
    row = Server.objects.filter(pk=deployment_id).first()
    if row is None or row.state != RuntimeState.RUNNING or row.handle != handle:
        return  # stopped, failed or replaced on purpose
    scheduler = get_scheduler()
    status = scheduler.status(handle)
    # The engine ends the stream as the process exits, and may say "running" a moment
    # longer: ask again for a little while before concluding that only the stream broke.
    for _ in range(20):
        if status is None or not status.running:
            break
        time.sleep(0.1)
        status = scheduler.status(handle)
    if status is not None and status.running:
        return  # only the stream broke; the sweeper follows it again
    with _locked(deployment_id, wait=5) as held:
        row.refresh_from_db()
        if not held or row.state != RuntimeState.RUNNING or row.handle != handle:
            return
        services.server_failed(deployment_id, _exited(status, last_line, "while it ran"))
    scheduler.stop(handle)
    log.warning(
        "server.crashed", deployment_id=deployment_id, exit_code=status and status.exit_code
    )


class _Keeper:
    """Keeps this process's following keys alive while their followers run."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, key: str) -> None:
        with self.lock:
            self.keys.add(key)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="server-log-keeper", daemon=True
                )
                self.thread.start()

    def discard(self, key: str) -> None:
        with self.lock:
            self.keys.discard(key)
        client = _redis()
        if client is not None:
            client.delete(key)

    def _run(self) -> None:
        while True:
            time.sleep(_FOLLOW_TTL / 3)
            with self.lock:
                keys = list(self.keys)
            client = _redis()
            if client is not None:
                for key in keys:
                    client.expire(key, _FOLLOW_TTL)


_keeper = _Keeper()


# -- stopping ---------------------------------------------------------------------------


def stop_server(deployment_id: str, *, last_request_at: datetime | None = None) -> bool:
    """Stop the deployment's server if it runs (state stopped). Returns whether it did."""
    with _locked(deployment_id, wait=settings.SHIPWAY_SSR_START_TIMEOUT + 5) as held:
        row = Server.objects.filter(pk=deployment_id).first()
        if not held or row is None or row.state != RuntimeState.RUNNING:
            return False
        handle = row.handle
        # The row first: the follower then sees a stop, not a crash.
        services.server_stopped(deployment_id, last_request_at=last_request_at)
        if handle:
            get_scheduler().stop(handle)
    servers.forget_seen([deployment_id])
    log.info("server.stopped", deployment_id=deployment_id)
    return True


def retire_server(deployment_id: str) -> bool:
    """A replaced server's grace period is over: stop it unless it is live or its
    deployment is active again."""
    deployment = Deployment.objects.select_related("site").filter(pk=deployment_id).first()
    if deployment is None:
        return False
    site = deployment.site
    if deployment_id in (site.live_server_id, site.deployment_id):
        return False
    return stop_server(deployment_id, last_request_at=_seen_at(deployment_id))


def _seen_at(deployment_id: str) -> datetime | None:
    seen = servers.last_seen([deployment_id]).get(deployment_id)
    return datetime.fromtimestamp(seen, tz=UTC) if seen else None


def remove_servers(deployment_ids: list[str]) -> None:
    """Deleted deployments: their containers and their files go."""
    scheduler = get_scheduler()
    for deployment_id in deployment_ids:
        scheduler.remove_files(deployment_id)
    servers.forget_seen(deployment_ids)


# -- the sweeper ------------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """Stop idle servers, then reconcile the rows with what runs. Returns counts."""
    stopped = stop_idle()
    counts = reconcile()
    return {"stopped": stopped, **counts}


def stop_idle() -> int:
    """Stop each running server whose newest request (or its start, before any) is older
    than SHIPWAY_SSR_IDLE_SECONDS; its row keeps when that request was."""
    rows = list(Server.objects.filter(state=RuntimeState.RUNNING).values_list("pk", "started_at"))
    seen = servers.last_seen([pk for pk, _ in rows])
    now = time.time()
    stopped = 0
    for pk, started_at in rows:
        newest = max(seen.get(pk, 0.0), started_at.timestamp() if started_at else 0.0)
        if now - newest >= settings.SHIPWAY_SSR_IDLE_SECONDS:
            last = datetime.fromtimestamp(seen[pk], tz=UTC) if pk in seen else None
            stopped += stop_server(pk, last_request_at=last)
    return stopped


def reconcile() -> dict[str, int]:
    """Rows that say running whose container is gone or exited become failed; running
    servers nobody follows are followed again; this installation's server containers
    without a running (or starting) row, and files of deleted deployments, are removed."""
    try:
        scheduler = get_scheduler()
        found = scheduler.servers()
    except SchedulerError:
        return {"failed": 0, "removed": 0, "followed": 0}
    failed = followed = removed = 0
    client = _redis()
    for row in Server.objects.filter(state=RuntimeState.RUNNING).select_related("deployment__site"):
        status = scheduler.status(row.handle) if row.handle in found else None
        if status is None or not status.running:
            with _locked(row.pk) as held:
                if held and Server.objects.filter(pk=row.pk, handle=row.handle).exists():
                    error = _exited(status, _last_kept_line(row), "while it ran")
                    services.server_failed(row.pk, error)
                    failed += 1
            if status is not None:
                scheduler.stop(row.handle)
            continue
        key = _FOLLOWING_KEY.format(deployment_id=row.pk)
        if client is not None and client.set(key, row.handle, nx=True, ex=_FOLLOW_TTL):
            since = client.get(_LOGGED_KEY.format(deployment_id=row.pk))
            _, secrets = environment(row.deployment)
            follow(row.deployment, row.handle, secrets, float(since) if since else None)
            followed += 1
    for pk in Server.objects.filter(state=RuntimeState.STARTING).values_list("pk", flat=True):
        with _locked(pk) as held:  # held here: no worker is starting it any more
            if held and Server.objects.filter(pk=pk, state=RuntimeState.STARTING).exists():
                services.server_failed(
                    pk,
                    "The server's start was interrupted; it will start again on the next request.",
                )
                failed += 1
    live = dict(
        Server.objects.filter(state__in=[RuntimeState.RUNNING, RuntimeState.STARTING]).values_list(
            "pk", "handle"
        )
    )
    for handle, deployment_id in found.items():
        if deployment_id in live and live[deployment_id] in ("", handle):
            continue  # starting (no handle yet), or the one the row names
        scheduler.stop(handle)
        removed += 1
    kept = scheduler.kept_files()  # one listing of the engine's volumes
    existing = set(Deployment.objects.filter(pk__in=kept).values_list("pk", flat=True))
    for deployment_id in kept - existing:
        scheduler.remove_files(deployment_id)
    return {"failed": failed, "removed": removed, "followed": followed}


def _last_kept_line(row: Server) -> str:
    chunk = (
        ServerLogChunk.objects.filter(deployment_id=row.pk)
        .order_by("-offset")
        .values_list("text", flat=True)
    ).first()
    lines = [line for line in (chunk or "").splitlines() if line.strip()]
    return lines[-1].strip()[:500] if lines else ""
