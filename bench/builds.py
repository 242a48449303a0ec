"""Benchmark the build path: upload accepted -> `ready`, against a bare `docker run`.

    .venv/bin/python -m bench.builds               # 10 runs per static flavour + the Vite builds
    .venv/bin/python -m bench.builds --runs 20     # more runs
    .venv/bin/python -m bench.builds --skip-vite   # only the static site (no registry needed)
    .venv/bin/python -m bench.builds --no-trace    # the worker without the timing shim
    .venv/bin/python -m bench.builds --poll-db     # poll the row, not GET: the poller's cost out
    .venv/bin/python -m bench.builds --what-if     # the suggested changes, prototyped in the worker
    .venv/bin/python -m bench.builds --compare     # today's worker and --what-if's, alternating

One run (re)creates the `shipway_bench_builds` PostgreSQL database, flushes Redis database
14, migrates, makes a user, a team, three sites and an API key through the services, and
starts ONE real Celery worker (prefork, concurrency 1, queues builds and default) and the
web (uvicorn, `config.asgi:application`) on a free loopback port, both as subprocesses
with that environment. Then:

1. A static site, in two flavours, after one unmeasured warm-up each: framework "static"
   (no commands: no container, the director publishes the source) and framework "other"
   with `mkdir -p out && cp index.html out/` (a container runs). Each run POSTs the
   archive with a Bearer key and times from the 202 to `status == "ready"`, polling GET
   of the deployment every 20 ms; the next run starts once the build's container is gone.
   The reference is the same command on the same file in the same image with the same
   limits: `docker run --rm` with the file bind-mounted, and `docker create` + `docker cp`
   in + `docker start -a` + `docker cp` out + `docker rm` (the shape of what Shipway does,
   through the CLI). `--runs` rounds of static, other, docker run, docker cp, interleaved
   so that the machine's other load weighs on all four alike.
2. A minimal Vite app (framework "vite"): a cold build (the site's cache volume does not
   exist), a second build of the same source (warm cache), and `redeploy {"cache": false}`;
   the log is followed while it builds, so each step's time is when its `$ command` line
   arrived.
3. Cleanup, also on error or Ctrl-C: worker and web stopped, the sites' containers and
   cache volumes removed, the database dropped, Redis database 14 flushed.

The worker runs under a timing shim (this module's `_traced-worker` entry point) that
wraps the director's steps, the Docker runner's calls, log appends, event sends, new
database connections and edge invalidations, and appends one JSON line per build to a
trace file; celery's "received" log lines add the queueing. The shim changes no behaviour
(`--no-trace` runs plain `celery worker` to check that). `--what-if` adds prototypes of
the changes RESULTS.md suggests (see `_install_what_if`), in the worker process only:
the app's code is not edited. A 5xx answer (PostgreSQL is shared and can run out of
clients) is retried and reported.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also as a script

import argparse
import contextlib
import functools
import io
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench import harness
from core.embedded import free_port
from tests.archives import vite_app

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shipway_bench_builds"
REDIS_URL = "redis://127.0.0.1:6379/14"
IMAGE = "shipway/runtime:node-22"
BUILDER_UID = 10001
# What DockerRunner gives a build of the default specification (s-1vcpu-1gb).
LIMITS = [
    "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", "builder",
    "--memory", "1g", "--cpus", "1", "--pids-limit", "512",
]  # fmt: skip
BUILD_COMMAND = "mkdir -p out && cp index.html out/"
STATIC_FILES = {"index.html": "<!doctype html><title>bench</title><h1>Hello from the bench</h1>\n"}
VITE_APP = vite_app("bench-vite")  # the e2e tests build it too
FINAL = {"ready", "failed", "canceled"}
CELERY_ARGS = [
    "-A", "config", "worker", "-Q", "builds,default", "--concurrency", "1",
    "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
]  # fmt: skip


# --- the timing shim (runs inside the worker process) ----------------------------------


class _Trace:
    """Seconds spent in each wrapped call during one build, summed per label."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.totals: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, label: str, seconds: float) -> None:
        with self.lock:
            self.totals[label] = self.totals.get(label, 0.0) + seconds
            self.counts[label] = self.counts.get(label, 0) + 1

    def timed(self, owner: Any, name: str, label: str | Callable[..., str]) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                text = label(*args, **kwargs) if callable(label) else label
                self.add(text, time.perf_counter() - start)

        setattr(owner, name, wrapper)


def _install_trace(path: Path) -> None:
    import docker.models.containers
    from django.db.backends.base.base import BaseDatabaseWrapper
    from docker.api.exec_api import ExecApiMixin

    from builds import director
    from builds.logwriter import LogWriter
    from builds.runners.docker import DockerRunner
    from core import events
    from deployments import services

    trace = _Trace(path)
    trace.timed(
        services,
        "deployment_transition",
        lambda _id, to, **kw: f"transition.{getattr(to, 'value', to)}",
    )
    for name in ("_fetch_source", "_unpack", "plan", "_copy_tree", "package", "_store_log"):
        trace.timed(director, name, f"director.{name.lstrip('_')}")
    trace.timed(director, "get_runner", "director.get_runner (docker client)")
    for name in ("run", "_require_image", "_create_container", "_put_source", "_copy_output"):
        trace.timed(DockerRunner, name, f"docker.{name.lstrip('_')}")
    trace.timed(docker.models.containers.Container, "start", "docker.start")
    trace.timed(docker.models.containers.Container, "remove", "docker.remove")
    trace.timed(ExecApiMixin, "exec_create", "docker.exec_create")
    trace.timed(ExecApiMixin, "exec_inspect", "docker.exec_inspect")
    trace.timed(LogWriter, "close", "logwriter.close")
    trace.timed(services, "log_append", "log.append (any thread)")
    trace.timed(events, "send", "events.send (on commit)")
    trace.timed(BaseDatabaseWrapper, "connect", "db.connect")
    with contextlib.suppress(ImportError):  # the edge's cache invalidation, after commit
        from edge import invalidation

        trace.timed(invalidation, "announce", "edge.announce (on commit)")

    run_steps = DockerRunner._run_steps

    def timed_steps(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            results = run_steps(self, *args, **kwargs)
        finally:
            trace.add("docker.run_steps", time.perf_counter() - start)
        for result in results:
            trace.add(f"step.{result.name}", result.duration)
        return results

    DockerRunner._run_steps = timed_steps

    build = director.build

    def timed_build(deployment_id: str, **kwargs: Any) -> None:
        from celery import current_task

        with trace.lock:
            trace.totals, trace.counts = {}, {}
        task_id = current_task.request.id if current_task else None
        started = time.time()
        try:
            build(deployment_id, **kwargs)
        finally:
            record = {
                "deployment": deployment_id,
                "task": task_id,
                "start": started,
                "end": time.time(),
                "totals": trace.totals,
                "counts": trace.counts,
            }
            with open(trace.path, "a") as handle:
                handle.write(json.dumps(record) + "\n")

    director.build = timed_build


def _install_what_if() -> None:
    """Prototypes of the suggested changes, for `--what-if` only (the app is not edited):
    events sent from one long-lived event loop per process (so channels_redis keeps its
    connections), one Redis client per process for edge invalidations, the build
    container removed in the background, one Docker client per process, and Celery
    keeping the task's database connection (CELERY_DB_REUSE_MAX)."""
    import asyncio

    import docker.models.containers
    from django.conf import settings

    from builds import director
    from core import events as events_module

    settings.CELERY_DB_REUSE_MAX = 1000  # read by Celery's Django fixup at worker start
    state: dict[str, Any] = {}
    lock = threading.Lock()

    def event_loop() -> asyncio.AbstractEventLoop:
        with lock:
            if state.get("pid") != os.getpid():  # each forked pool child starts its own
                state["pid"], state["loop"] = os.getpid(), asyncio.new_event_loop()
                threading.Thread(target=state["loop"].run_forever, daemon=True).start()
            return state["loop"]

    def on_the_kept_loop(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(function(*args, **kwargs), event_loop())
            return future.result(timeout=5)

        return call

    events_module.async_to_sync = on_the_kept_loop  # what events.send and others call

    with contextlib.suppress(ImportError):  # one Redis client per process for invalidations
        from types import SimpleNamespace

        import redis

        from edge import invalidation

        clients: dict[tuple[int, str], Any] = {}

        def kept_client(url: str) -> Any:
            key = (os.getpid(), url)
            if key not in clients:
                clients[key] = redis.Redis.from_url(url)
            return clients[key]

        invalidation.redis = SimpleNamespace(  # type: ignore[assignment]
            Redis=SimpleNamespace(from_url=kept_client), RedisError=redis.RedisError
        )

    remove = docker.models.containers.Container.remove

    def remove_in_background(self: Any, **kwargs: Any) -> None:
        threading.Thread(target=remove, args=(self,), kwargs=kwargs, daemon=True).start()

    docker.models.containers.Container.remove = remove_in_background

    get_runner = director.get_runner
    runners: dict[tuple[int, str | None], Any] = {}

    def one_runner_per_process(name: str | None = None) -> Any:
        key = (os.getpid(), name)
        if key not in runners:
            runners[key] = get_runner(name)
        return runners[key]

    director.get_runner = one_runner_per_process


def traced_worker(celery_args: list[str]) -> None:
    """`celery worker` with the timing shim installed before the pool forks."""
    import django

    django.setup()
    if os.environ.get("BENCH_WHAT_IF") == "1":
        _install_what_if()
    _install_trace(Path(os.environ["BENCH_TRACE_FILE"]))
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", *celery_args]
    celery_main()


# --- the environment, the database and the data ----------------------------------------


def bench_env(tmp: Path) -> dict[str, str]:
    return harness.bench_env(
        DATABASE_URL,
        REDIS_URL,
        isolated=True,
        SHIPWAY_STORAGE_ROOT=str(tmp / "storage"),
        SHIPWAY_VAR_DIR=str(tmp / "var"),
        SHIPWAY_BUILD_RUNNER="docker",
        BENCH_TRACE_FILE=str(tmp / "trace.jsonl"),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )


@dataclass
class World:
    secret: str
    static_site: str
    other_site: str
    vite_site: str

    @property
    def site_ids(self) -> list[str]:
        return [self.static_site, self.other_site, self.vite_site]


def populate() -> World:
    """Migrate, then a user owning a team with three sites, and an API key."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from accounts.services import api_key_create, team_create
    from sites.services import site_create

    user = get_user_model().objects.create_user("bench", "bench@example.com")
    team = team_create(user=user, name="Bench")
    static = site_create(team=team, name="Static", framework="static")
    other = site_create(
        team=team,
        name="Other",
        framework="other",
        install_command="",
        build_command=BUILD_COMMAND,
        output_directory="out",
    )
    vite = site_create(team=team, name="Vite", framework="vite")
    _key, secret = api_key_create(user=user, name="bench")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh tables have no statistics; a live database has
    return World(secret, static.id, other.id, vite.id)


def tar_gz(files: dict[str, str], *, mode: str = "w:gz", owner: int = 0) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, content in files.items():
            data = content.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            info.uid = info.gid = owner
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# --- processes -------------------------------------------------------------------------


def remove_docker_objects(site_ids: list[str], reference_label: str) -> None:
    import docker
    from docker.errors import NotFound

    client = docker.from_env()
    labels = [f"shipway.site={site_id}" for site_id in site_ids] + [reference_label]
    containers = volumes = 0
    for label in labels:
        for container in client.containers.list(all=True, filters={"label": label}):
            with contextlib.suppress(NotFound):
                container.remove(force=True)
                containers += 1
    for site_id in site_ids:
        with contextlib.suppress(NotFound):
            client.volumes.get(f"shipway-cache-{site_id}").remove(force=True)
            volumes += 1
    print(f"cleanup: removed {containers} containers and {volumes} cache volumes", file=sys.stderr)


# --- measuring -------------------------------------------------------------------------


@dataclass
class Run:
    deployment: str
    posted: float  # wall clock, the POST leaves
    accepted: float  # the 202 arrived
    seen: float  # the poller saw a final status
    status: str
    steps: list[tuple[float, str]] = field(default_factory=list)  # ($ line arrival, line)
    row: dict[str, float] = field(default_factory=dict)
    trace: dict[str, Any] = field(default_factory=dict)
    received: float | None = None  # celery's main process logged "received"
    log: str = ""

    @property
    def seconds(self) -> float:
        return self.seen - self.accepted


class Client:
    def __init__(self, base: str, secret: str, poll: float, poll_db: bool = False) -> None:
        import requests

        self.base = base
        self.poll = poll
        self.poll_db = poll_db  # read the row instead of GET: the poller's own cost out
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {secret}"
        self.poll_seconds: list[float] = []  # how long each status GET took
        self.retried: list[str] = []  # 5xx answers retried (e.g. PostgreSQL out of clients)

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """One request; a 5xx is retried a few times (and counted), since the database
        server is shared with other work on this machine and can run out of clients."""
        for attempt in range(5):
            answer = self.http.request(method, url, **kwargs)
            if answer.status_code < 500 or attempt == 4:
                return answer
            self.retried.append(f"{method} {url} -> {answer.status_code}")
            time.sleep(0.5)
        raise AssertionError("unreachable")

    def upload(self, site_id: str, archive: bytes) -> tuple[str, float, float]:
        posted = time.time()
        answer = self.request(
            "POST",
            f"{self.base}/v1/sites/{site_id}/deployments",
            files={"code": ("site.tar.gz", archive, "application/gzip")},
        )
        accepted = time.time()
        if answer.status_code != 202:
            raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()["id"], posted, accepted

    def redeploy(self, site_id: str, deployment_id: str, cache: bool) -> tuple[str, float, float]:
        posted = time.time()
        answer = self.request(
            "POST",
            f"{self.base}/v1/sites/{site_id}/deployments/{deployment_id}/redeploy",
            json={"cache": cache},
        )
        accepted = time.time()
        if answer.status_code != 202:
            raise RuntimeError(f"redeploy answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()["id"], posted, accepted

    def wait(self, site_id: str, deployment_id: str, timeout: float = 600) -> tuple[float, str]:
        """Poll GET of the deployment; the wall clock when a final status was seen."""
        url = f"{self.base}/v1/sites/{site_id}/deployments/{deployment_id}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            asked = time.perf_counter()
            if self.poll_db:
                status = self._status_from_db(deployment_id)
            else:
                status = self.request("GET", url).json()["status"]
            self.poll_seconds.append(time.perf_counter() - asked)
            if status in FINAL:
                return time.time(), status
            time.sleep(self.poll)
        raise RuntimeError(f"deployment {deployment_id} not final after {timeout} s")

    @staticmethod
    def _status_from_db(deployment_id: str) -> str:
        from deployments.models import Deployment

        query = Deployment.objects.filter(pk=deployment_id).values_list("status", flat=True)
        return query.get()

    def follow(
        self, site_id: str, deployment_id: str, timeout: float = 600
    ) -> tuple[float, str, list[tuple[float, str]]]:
        """Follow the log (offset by offset) until final; when each `$ ` line arrived."""
        url = f"{self.base}/v1/sites/{site_id}/deployments/{deployment_id}/logs"
        offset, partial, steps = 0, "", []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.request("GET", url, params={"offset": offset})
            now = time.time()
            offset += len(answer.text)
            lines = (partial + answer.text).split("\n")
            partial = lines.pop()
            steps += [(now, line) for line in lines if line.startswith(("$ ", "Packaged "))]
            status = answer.headers["X-Deployment-Status"]
            if status in FINAL:
                return now, status, steps
            time.sleep(self.poll)
        raise RuntimeError(f"deployment {deployment_id} not final after {timeout} s")

    def log(self, site_id: str, deployment_id: str) -> str:
        return self.request(
            "GET", f"{self.base}/v1/sites/{site_id}/deployments/{deployment_id}/logs"
        ).text


def row_times(deployment_id: str) -> dict[str, float]:
    from deployments.models import Deployment

    row = Deployment.objects.get(pk=deployment_id)
    names = ("created_at", "build_started_at", "build_ended_at", "updated_at")
    return {name: getattr(row, name).timestamp() for name in names if getattr(row, name)}


def deploy_static(client: Client, site_id: str, archive: bytes) -> Run:
    deployment, posted, accepted = client.upload(site_id, archive)
    seen, status = client.wait(site_id, deployment, timeout=120)
    run = Run(deployment, posted, accepted, seen, status)
    if status != "ready":
        raise RuntimeError(
            f"deployment {deployment} ended {status}:\n{client.log(site_id, deployment)}"
        )
    run.row = row_times(deployment)
    wait_until_removed(deployment)
    return run


@functools.cache
def docker_client() -> Any:
    import docker

    return docker.from_env()


def wait_until_removed(deployment_id: str, timeout: float = 30) -> None:
    """Measure the next build only once this one's container is gone (--what-if removes it
    in the background; its removal would otherwise weigh on the next measurement)."""
    label = f"shipway.deployment={deployment_id}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not docker_client().api.containers(all=True, filters={"label": label}):
            return
        time.sleep(0.05)


def docker_run_reference(src: Path, label: str) -> float:
    """`docker run --rm` of the build command, the source bind-mounted as the workspace."""
    shutil.rmtree(src / "out", ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [
            *("docker", "run", "--rm", "--label", label, *LIMITS),
            *("-v", f"{src}:/workspace", "-w", "/workspace", IMAGE, "sh", "-c", BUILD_COMMAND),
        ],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    assert (src / "out" / "index.html").is_file()
    return seconds


def docker_cp_reference(source_tar: bytes, out: Path, label: str) -> float:
    """create, `cp -` the files in (a tar owned by builder, as Shipway's put_archive),
    start -a, cp the output out, rm: the shape of what Shipway does, through the CLI."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    container = subprocess.run(
        [
            *("docker", "create", "--label", label, *LIMITS),
            *("-w", "/workspace", IMAGE, "sh", "-c", BUILD_COMMAND),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        subprocess.run(
            ["docker", "cp", "-", f"{container}:/workspace"],
            input=source_tar,
            check=True,
            capture_output=True,
        )
        subprocess.run(["docker", "start", "-a", container], check=True, capture_output=True)
        subprocess.run(
            ["docker", "cp", f"{container}:/workspace/out", str(out)],
            check=True,
            capture_output=True,
        )
    finally:
        subprocess.run(["docker", "rm", "-f", container], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    assert (out / "index.html").is_file()
    return seconds


def attach_traces(runs: list[Run], trace_file: Path, worker_log: Path) -> None:
    """Join each run with its trace line and celery's "received" line (by task id)."""
    traces: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 5  # build() writes its line just after `ready` is visible
    while trace_file.exists() or time.monotonic() < deadline:
        if trace_file.exists():
            for line in trace_file.read_text().splitlines():
                record = json.loads(line)
                traces[record["deployment"]] = record
        if all(run.deployment in traces for run in runs) or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    received = {}
    for line in worker_log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        with contextlib.suppress(ValueError, KeyError):
            record = json.loads(line)
            event = record["event"]
            if event.startswith("Task builds.tasks.build_deployment[") and "received" in event:
                task = event.split("[", 1)[1].split("]", 1)[0]
                received[task] = datetime.fromisoformat(record["timestamp"]).timestamp()
    for run in runs:
        run.trace = traces.get(run.deployment, {})
        run.received = received.get(run.trace.get("task") or "")


# --- reporting -------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p90(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def stats_row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {median(values):.3f} | {p90(values):.3f} | {min(values):.3f} "
        f"| {max(values):.3f} |"
    )


# (trace label, depth, what the table calls it); depth 1 is a step of director.build().
TRACE_ROWS = [
    ("transition.processing", 1, "claim: waiting -> processing (with its event)"),
    ("director.fetch_source", 1, "fetch the source from storage"),
    ("director.unpack", 1, "unpack it"),
    ("director.plan", 1, "plan (detect, variables, first log line)"),
    ("transition.building", 1, "processing -> building (with its event)"),
    ("director.copy_tree", 1, "copy the source as the output (no commands)"),
    ("director.get_runner (docker client)", 1, "get_runner (a new Docker client)"),
    ("docker.run", 1, "DockerRunner.run"),
    ("docker.require_image", 2, "images.get (is the runtime image there?)"),
    ("docker.create_container", 2, "volumes.get + containers.create"),
    ("docker.put_source", 2, "put_archive of the source"),
    ("docker.start", 2, "container start"),
    ("docker.run_steps", 2, "run the steps (exec)"),
    ("step.build", 3, "the build command's exec, as the runner timed it"),
    ("docker.exec_create", 3, "exec_create"),
    ("docker.exec_inspect", 3, "exec_inspect"),
    ("docker.copy_output", 2, "get_archive of the output"),
    ("docker.remove", 2, "remove(force=True) of the running container"),
    ("director.package", 1, "package (manifest, compression, storage)"),
    ("logwriter.close", 1, "LogWriter.close (last coalesced write)"),
    ("director.store_log", 1, "store build.log"),
    ("transition.ready", 1, "building -> ready + activate (with their events)"),
]
TOP_LEVEL = [label for label, depth, _ in TRACE_ROWS if depth == 1]
ACROSS = [
    ("events.send (on commit)", "events.send calls, inside the steps above"),
    ("log.append (any thread)", "log appends (writer thread; close waits for them)"),
    ("db.connect", "new database connections (any thread)"),
    ("edge.announce (on commit)", "edge cache invalidations published (Redis)"),
]


def stages(run: Run) -> list[tuple[str, float, bool]]:
    """Where one run's time went: (row label, seconds or a count, is a count)."""
    row, trace = run.row, run.trace
    out = [("upload: POST -> 202 (the clock starts at the 202)", run.accepted - run.posted, False)]
    if "created_at" in row and run.received is not None:
        enqueue = run.received - row["created_at"]
        out.append(("web: row created -> worker logs 'received' (commit, enqueue)", enqueue, False))
    if trace:
        out.append(
            (
                "202 -> build() starts in the worker's pool child",
                trace["start"] - run.accepted,
                False,
            )
        )
        if run.received is not None:
            out.append(
                (
                    "· of which 'received' -> pool child starts it",
                    trace["start"] - run.received,
                    False,
                )
            )
        totals, counts = trace["totals"], trace["counts"]
        out.append(("build() in the worker", trace["end"] - trace["start"], False))
        for label, depth, name in TRACE_ROWS:
            if label in totals:
                out.append(("· " * depth + name, totals[label], False))
            if label == "docker.run_steps":  # the other steps, if any (install, cache)
                for step in ("install", "cache"):
                    if f"step.{step}" in totals:
                        what = f"the {step} step's exec, as the runner timed it"
                        out.append(("· · · " + what, totals[f"step.{step}"], False))
        rest = trace["end"] - trace["start"] - sum(totals.get(label, 0.0) for label in TOP_LEVEL)
        out.append(("· untraced rest of build() (LogWriter start, structlog...)", rest, False))
        for label, name in ACROSS:
            if label in totals:
                out.append((f"{name}: time", totals[label], False))
                out.append((f"{name}: count", float(counts[label]), True))
        out.append(("build() returned -> the poller sees ready", run.seen - trace["end"], False))
    if "build_started_at" in row:
        out.append(("row: 202 -> buildStartedAt", row["build_started_at"] - run.accepted, False))
        started, ended = row["build_started_at"], row["build_ended_at"]
        out.append(("row: buildStartedAt -> buildEndedAt", ended - started, False))
        out.append(("row: buildEndedAt -> the poller sees ready", run.seen - ended, False))
    out.append(("total: 202 -> the poller sees ready", run.seconds, False))
    return out


def stage_table(columns: dict[str, list[Run]]) -> list[str]:
    per_column = {name: [stages(run) for run in runs] for name, runs in columns.items()}
    labels: list[str] = []  # every column's labels, each after the one it follows
    counts: set[str] = set()
    for rows in per_column.values():
        for row in rows:
            previous = -1
            for label, _value, is_count in row:
                if label not in labels:
                    labels.insert(previous + 1, label)
                previous = labels.index(label)
                if is_count:
                    counts.add(label)
    lines = [
        "| stage (median of the runs) | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for label in labels:
        cells = []
        for rows in per_column.values():
            values = [value for row in rows for name, value, _ in row if name == label]
            if not values:
                cells.append("")
            elif label in counts:
                cells.append(f"{median(values):.0f}")
            else:
                cells.append(f"{median(values) * 1000:.0f} ms")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


# --- the benchmark ---------------------------------------------------------------------


@dataclass
class StaticResults:
    warmups: dict[str, Run]  # flavour -> the first build after the worker started
    runs: dict[str, list[Run]]  # flavour -> measured runs
    reference: dict[str, list[float]]  # "run" / "cp" -> seconds

    def seconds(self, flavour: str) -> list[float]:
        return [run.seconds for run in self.runs[flavour]]

    @property
    def measured(self) -> list[Run]:
        return [*self.runs["static"], *self.runs["other"]]


def bench_static(
    client: Client, world: World, runs_per: int, tmp: Path, label: str
) -> StaticResults:
    """Warm each up once, then interleave: static, other, docker run, docker cp; so that
    whatever else the machine does weighs on all four alike."""
    archive = tar_gz(STATIC_FILES)
    src, out = tmp / "reference" / "src", tmp / "reference" / "out"
    src.mkdir(parents=True, exist_ok=True)
    for name, content in STATIC_FILES.items():
        (src / name).write_text(content)
    for path in (src, *src.iterdir()):
        os.chown(path, BUILDER_UID, BUILDER_UID)
    owned_tar = tar_gz(STATIC_FILES, mode="w", owner=BUILDER_UID)

    print("static site: warm-up", end="", flush=True)
    warmups = {
        "static": deploy_static(client, world.static_site, archive),
        "other": deploy_static(client, world.other_site, archive),
    }
    docker_run_reference(src, label)
    docker_cp_reference(owned_tar, out, label)
    print(f", {runs_per} rounds of static/other/docker run/docker cp ", end="", flush=True)
    runs: dict[str, list[Run]] = {"static": [], "other": []}
    reference: dict[str, list[float]] = {"run": [], "cp": []}
    for _ in range(runs_per):
        runs["static"].append(deploy_static(client, world.static_site, archive))
        runs["other"].append(deploy_static(client, world.other_site, archive))
        reference["run"].append(docker_run_reference(src, label))
        reference["cp"].append(docker_cp_reference(owned_tar, out, label))
        print(".", end="", flush=True)
    print()
    return StaticResults(warmups, runs, reference)


def bench_vite(client: Client, world: World) -> list[tuple[str, Run]]:
    import docker
    from docker.errors import NotFound

    site_id = world.vite_site
    volume = f"shipway-cache-{site_id}"
    with contextlib.suppress(NotFound):
        docker.from_env().volumes.get(volume).remove(force=True)
    archive = tar_gz(VITE_APP)
    results = []
    first_id = ""
    for name in ("1st build (cold: no cache volume)", "2nd build, same source (warm cache)",
                 '3rd: redeploy {"cache": false}'):  # fmt: skip
        print(f"vite: {name} ...", end="", flush=True)
        if not first_id:
            deployment, posted, accepted = client.upload(site_id, archive)
            first_id = deployment
        elif "redeploy" in name:
            deployment, posted, accepted = client.redeploy(site_id, first_id, cache=False)
        else:
            deployment, posted, accepted = client.upload(site_id, archive)
        seen, status, steps = client.follow(site_id, deployment)
        run = Run(deployment, posted, accepted, seen, status, steps)
        run.row = row_times(deployment)
        run.log = log = client.log(site_id, deployment)
        print(f" {status} in {run.seconds:.1f} s")
        if status != "ready":
            raise RuntimeError(f"vite build ended {status}:\n{log}")
        results.append((name, run))
    return results


def step_times(run: Run) -> dict[str, float]:
    """Seconds per step, from when consecutive `$ ` lines (and `Packaged`) arrived."""
    marks = run.steps
    out = {}
    for (at, line), (next_at, _next) in itertools.pairwise(marks):
        if line.startswith("$ "):
            out[line[2:]] = next_at - at
    return out


STEP_NAMES = {"npm install": "install", "(save": "cache", "npm run": "build"}


def step_cell(from_log: dict[str, float], runner: dict[str, float], prefix: str) -> str:
    """A step's seconds from the log, with the runner's own timing in brackets."""
    seconds = next((v for k, v in from_log.items() if k.startswith(prefix)), None)
    if seconds is None:
        return "-"
    exact = runner.get(f"step.{STEP_NAMES[prefix]}")
    return f"{seconds:.1f} s" + (f" ({exact:.1f})" if exact is not None else "")


def report(
    results: StaticResults,
    vite: list[tuple[str, Run]],
    traced: bool,
    polls: list[float],
    client_polls_db: bool = False,
) -> None:
    warmups, runs, reference = results.warmups, results.runs, results.reference
    print()
    count = len(runs["other"])
    print(f"## Static site: from 202 Accepted to status ready ({count} runs each, seconds)")
    print()
    print("| what | median | p90 | min | max |")
    print("|---|---:|---:|---:|---:|")
    static = [r.seconds for r in runs["static"]]
    other = [r.seconds for r in runs["other"]]
    print(stats_row('Shipway, framework "static" (no commands, no container)', static))
    print(stats_row(f'Shipway, framework "other" (`{BUILD_COMMAND}` in a container)', other))
    print(
        stats_row(
            "bare `docker run --rm`, same image, limits, command (bind mount)", reference["run"]
        )
    )
    print(
        stats_row(
            "bare `docker create` + `cp` in + `start -a` + `cp` out + `rm` (CLI)", reference["cp"]
        )
    )
    print()
    overhead_run = median(other) - median(reference["run"])
    overhead_cp = median(other) - median(reference["cp"])
    print(f'Overhead, "other" median minus `docker run --rm` median: {overhead_run:.3f} s')
    print(f'Overhead, "other" median minus create/cp/start/cp/rm median: {overhead_cp:.3f} s')
    print(f'"static" (nothing to run: all of it is overhead): {median(static):.3f} s')
    print(
        "First build after the worker started (unmeasured warm-up): "
        f"static {warmups['static'].seconds:.3f} s, other {warmups['other'].seconds:.3f} s"
    )
    print(f"Target: overhead under 1 s at the median: {'met' if overhead_run < 1 else 'NOT met'}")
    if polls:
        how = "row read" if client_polls_db else "GET"
        print(
            f"Status polls: {len(polls)}; one {how} took {median(polls) * 1000:.1f} ms at the "
            f"median (p90 {p90(polls) * 1000:.1f} ms). Load average at the end: "
            + " ".join(f"{v:.2f}" for v in os.getloadavg())
        )
    print()
    print("## Where the time goes (static site; · = inside the line above it)")
    print()
    if not traced:
        print("(worker ran without the timing shim: row timestamps only)")
    for line in stage_table({'"static"': runs["static"], '"other"': runs["other"]}):
        print(line)
    if not vite:
        return
    print()
    print("## Vite site (framework vite, vite 5.4.11): from 202 Accepted to status ready")
    print()
    print("Step times: from when each `$ command` line of the log arrived to the next line")
    print("(for the build step: to the `Packaged` line, so it includes copying the output out,")
    print("removing the container and packaging); in brackets the runner's own timing of the")
    print("exec. `outside the steps` is 202 -> ready minus the runner's step times.")
    print()
    print("| build | 202 -> ready | `npm install` | its share | save the cache ", end="")
    print("| `npm run build` | outside the steps | cache |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, run in vite:
        from_log = step_times(run)
        runner = run.trace.get("totals", {})
        install = next((v for k, v in from_log.items() if "install" in k), float("nan"))
        steps = [v for k, v in runner.items() if k.startswith("step.")]
        outside = f"{run.seconds - sum(steps):.1f} s" if steps else "-"
        restored, saved = "Restoring node_modules" in run.log, "Saved node_modules" in run.log
        cache = " + ".join(
            word for word, done in (("restored", restored), ("saved", saved)) if done
        )
        print(
            f"| {name} | {run.seconds:.1f} s | {step_cell(from_log, runner, 'npm install')} "
            f"| {install / run.seconds:.0%} | {step_cell(from_log, runner, '(save')} "
            f"| {step_cell(from_log, runner, 'npm run')} | {outside} | {cache or 'off'} |"
        )
    first, second = vite[0][1].seconds, vite[1][1].seconds
    print()
    print(f"Second build / first: {second / first:.0%} ({first - second:.1f} s saved by the cache)")
    if traced:
        print()
        print("## Where the time goes (Vite builds; · = inside the line above it)")
        print()
        short = ["1st (cold)", "2nd (warm)", "3rd (cache off)"]
        columns = {short[i]: [run] for i, (_name, run) in enumerate(vite)}
        for line in stage_table(columns):
            print(line)


@contextlib.contextmanager
def running_worker(
    env: dict[str, str], log_path: Path, traced: bool, what_if: bool
) -> Iterator[None]:
    """One celery worker (prefork, concurrency 1) until the block ends; its log is appended
    to `log_path`, so that every worker of a run can be read back from one file."""
    command = [sys.executable, "-m"]
    command += ["bench.builds", "_traced-worker"] if traced else ["celery"]
    command += CELERY_ARGS
    log_path.touch()
    offset = log_path.stat().st_size

    def ready() -> bool:
        with open(log_path, "rb") as handle:
            handle.seek(offset)
            return b" ready." in handle.read()

    # Stopped after 5 s: a worker interrupted in mid-build would finish the build first;
    # its container is removed by label afterwards.
    worker_env = {**env, "BENCH_WHAT_IF": "1" if what_if else "0"}
    with harness.started(command, worker_env, log_path, append=True) as process:
        harness.wait_until_up("the worker", ready, process, interval=0.1, errors=(Exception,))
        yield


def compare(
    client: Client, world: World, args: argparse.Namespace, tmp: Path, label: str, worker: Any
) -> dict[str, StaticResults]:
    """Today's worker and the --what-if one, in alternating blocks of rounds (a fresh worker
    each block, warmed up), so that the machine's other load weighs on both alike."""
    blocks = 4
    per_block = max(1, args.runs // (blocks // 2))
    merged: dict[str, StaticResults] = {}
    for block in range(blocks):
        mode = "what-if" if block % 2 else "now"
        print(f"[{mode}] ", end="")
        with worker(what_if=mode == "what-if"):
            results = bench_static(client, world, per_block, tmp, label)
        if mode not in merged:
            merged[mode] = results
            continue
        into = merged[mode]
        for flavour, runs in results.runs.items():
            into.runs[flavour] += runs
        for kind, seconds in results.reference.items():
            into.reference[kind] += seconds
    return merged


def report_compare(merged: dict[str, StaticResults]) -> None:
    print()
    count = len(merged["now"].runs["other"])
    print(f"## Today's worker and the --what-if prototypes ({count} runs each, seconds)")
    print()
    print("| what | median | p90 | min | max |")
    print("|---|---:|---:|---:|---:|")
    for mode, results in merged.items():
        print(stats_row(f'{mode}: Shipway, framework "static"', results.seconds("static")))
        print(stats_row(f'{mode}: Shipway, framework "other"', results.seconds("other")))
        print(stats_row(f"{mode}: bare `docker run --rm` (interleaved)", results.reference["run"]))
    print()
    for mode, results in merged.items():
        overhead = median(results.seconds("other")) - median(results.reference["run"])
        print(f'{mode}: overhead of "other" over `docker run --rm`: {overhead:.3f} s')
    print()
    print("## Where the time goes, today and with the prototypes (· = inside the line above)")
    print()
    columns = {
        f'"{flavour}" {mode}': results.runs[flavour]
        for mode, results in merged.items()
        for flavour in ("static", "other")
    }
    for line in stage_table(columns):
        print(line)


def report_retries(client: Client) -> None:
    if client.retried:
        print(f"\nNote: {len(client.retried)} requests answered 5xx and were retried:")
        for line in sorted(set(client.retried)):
            print(f"  {line}")


def main() -> int:
    if sys.argv[1:2] == ["_traced-worker"]:
        traced_worker(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per static flavour")
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between status polls")
    parser.add_argument(
        "--poll-db", action="store_true", help="poll the row, not GET (the poller's cost out)"
    )
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="the worker with prototypes of the suggested changes (see _install_what_if)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="static site only: today's worker and --what-if's, in alternating blocks",
    )
    parser.add_argument("--skip-vite", action="store_true", help="only the static site")
    parser.add_argument("--no-trace", action="store_true", help="plain celery, no timing shim")
    args = parser.parse_args()
    if (args.what_if or args.compare) and args.no_trace:
        parser.error("--what-if and --compare need the shim: leave out --no-trace")

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    tmp = Path(tempfile.mkdtemp(prefix="shipway-bench-builds-"))
    print("load average at the start: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    reference_label = f"shipway.bench=builds-{os.getpid()}"
    traced = not args.no_trace
    logs_seen: dict[str, str] = {}

    def keep_log_ends() -> None:  # read before the temporary directory goes
        for name in ("web.log", "worker.log"):
            with contextlib.suppress(OSError):
                lines = (tmp / name).read_text(errors="replace").splitlines()
                logs_seen[name] = "\n".join(lines[-15:])

    try:
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
            cleanup.callback(keep_log_ends)
            cleanup.callback(harness.flush_redis, REDIS_URL)
            env = bench_env(tmp)
            harness.recreate_database(DATABASE_URL)
            cleanup.callback(harness.drop_database, DATABASE_URL)
            harness.flush_redis(REDIS_URL)
            os.environ.update(env, LOG_LEVEL="WARNING")  # this process: quiet
            import django

            django.setup()
            world = populate()
            cleanup.callback(remove_docker_objects, world.site_ids, reference_label)
            port = free_port()
            web = cleanup.enter_context(
                harness.started(
                    harness.uvicorn_command(port, *harness.QUIET_UVICORN), env, tmp / "web.log"
                )
            )
            base = f"http://127.0.0.1:{port}"
            client = Client(base, world.secret, args.poll, args.poll_db)
            harness.wait_until_up(
                "the web",
                lambda: client.http.get(f"{client.base}/v1/sites").ok,
                web,
                interval=0.1,
                errors=(Exception,),
            )
            print(
                "worker: celery prefork, concurrency 1, "
                + ("with the timing shim" if traced else "plain (no timing shim)")
                + (" and the --what-if prototypes" if args.what_if else "")
                + (", today's and the --what-if one in turn" if args.compare else "")
                + f"; status polled by {'row read' if args.poll_db else 'GET'} "
                + f"every {args.poll * 1000:.0f} ms"
            )
            worker_log, trace_file = tmp / "worker.log", tmp / "trace.jsonl"
            worker = functools.partial(running_worker, env, worker_log, traced)

            if args.compare:
                merged = compare(client, world, args, tmp, reference_label, worker)
                for results in merged.values():
                    attach_traces(results.measured, trace_file, worker_log)
                report_compare(merged)
                report_retries(client)
                return 0
            with worker(what_if=args.what_if):
                results = bench_static(client, world, args.runs, tmp, reference_label)
                attach_traces(results.measured, trace_file, worker_log)
                vite = [] if args.skip_vite else bench_vite(client, world)
                attach_traces([run for _name, run in vite], trace_file, worker_log)
            report(results, vite, traced, client.poll_seconds, args.poll_db)
            report_retries(client)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    except Exception:
        for name, text in logs_seen.items():
            print(f"--- the end of {name} ---\n{text}", file=sys.stderr)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
