"""Benchmark server-rendered (ssr) sites: cold start, and warm requests through the edge
next to requests sent straight to the deployment's Node server, under uvicorn and under
granian (the web's two servers, core/serving.py).

    .venv/bin/python -m bench.ssr                        # both servers, 3 rounds, ~6 min
    .venv/bin/python -m bench.ssr --servers granian --rounds 1 --duration 5s
    .venv/bin/python -m bench.ssr --web-workers 1        # the web in one process

One run: (re)creates the `shipway_bench_ssr` database, flushes Redis database 7,
migrates, makes a user, a team and one ssr site (the minimal Next.js standalone app of
tests/ssr_apps.py `nextjs_app(marker)`) through the services, and starts two real Celery
workers as runplatform does (builds+default, and servers: SHIPWAY_SERVER_QUEUE's default
`servers`) and the web, with storage in a temporary directory. The site is uploaded,
built in Docker and activated once (its server starts on activation). Then, per web
server (interleaved over --rounds):

  (a) cold start: the deployment's server is stopped as the idle sweeper stops it
      (runtime.manager.stop_server: its Server row says `stopped`, its container is
      gone), then one GET through the edge, timed to its first byte: the request waits
      for the start (edge -> START_TASK -> servers worker -> container -> health check
      -> live), it does not fail (--cold runs, median and max);
  (b) warm: wrk through the edge (Host: the site's host) next to wrk straight to the
      Node server's address (deployments.models.Server.address), requests/s, p99, the
      web's CPU per request and the Node server's (its container's processes, read from
      the host's /proc), the edge's share of direct;
  (c) (a) and (b) under uvicorn and under granian, the web restarted for each.

Cleanup, also on error or Ctrl-C: processes stopped, the site's containers removed (by
the `shipway.site` label), the database dropped, Redis database 7 flushed. (The server's
volume stays with the bench's installation id; `docker volume ls` shows it by its
`shipway.site=benchssr` label.)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also as a script

import argparse
import contextlib
import http.client
import io
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench import harness
from core.embedded import free_port

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shipway_bench_ssr"
REDIS_URL = "redis://127.0.0.1:6379/7"
SITES_DOMAIN = "sites.localhost"
MARKER = "shipway-bench-ssr"
# --- the site --------------------------------------------------------------------------


@dataclass
class World:
    site_id: str
    deployment_id: str
    host: str


def populate(storage: Path) -> World:
    """Migrate; one ssr site, built and activated by the worker (as an upload would)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from tests.archives import tar_gz
    from tests.factories import make_site, make_team, make_user
    from tests.ssr_apps import nextjs_app

    team = make_team(owner=make_user("bench"), team_id="bench-team", name="Bench")
    site = make_site(team, site_id="benchssr", framework="nextjs", adapter="ssr")
    files: dict[str, str | bytes] = {**nextjs_app(MARKER)}
    deployment_id = deploy(site, tar_gz(files))
    return World(site.id, deployment_id, f"{site.id}.{SITES_DOMAIN}")


def deploy(site: Any, archive: bytes) -> str:
    """Upload `archive` through the deployments service, wait (for the worker) until it
    is ready and active; its id."""
    from deployments import services as deployment_services
    from deployments.models import Deployment

    deployment = deployment_services.deployment_create_from_upload(
        site=site, archive=io.BytesIO(archive), activate=True
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        deployment = Deployment.objects.get(pk=deployment.pk)
        if deployment.status in ("ready", "failed", "canceled"):
            break
        time.sleep(0.5)
    if deployment.status != "ready":
        raise RuntimeError(f"the ssr build ended {deployment.status}")
    return str(deployment.pk)


def server_row(deployment_id: str) -> Any:
    from deployments.models import Server

    return Server.objects.filter(deployment_id=deployment_id).first()


def wait_for_state(deployment_id: str, states: set[str], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = server_row(deployment_id)
        if row is not None and row.state in states:
            return row
        time.sleep(0.1)
    raise RuntimeError(f"the server of {deployment_id} did not reach {states} in {timeout} s")


def stop_server(deployment_id: str) -> None:
    """Stop the deployment's server the way the idle sweeper does (runtime/manager.py)."""
    from runtime import manager

    wait_for_state(deployment_id, {"running"})
    manager.stop_server(deployment_id)
    wait_for_state(deployment_id, {"stopped"})


# --- measuring -------------------------------------------------------------------------


def first_byte(port: int, host: str, path: str = "/") -> tuple[float, int, bytes]:
    """(seconds to the first byte of the answer, status, body) of one GET."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()  # returns once the status line is in
    took = time.perf_counter() - started
    body = response.read()
    connection.close()
    return took, response.status, body


def cold_starts(port: int, world: World, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        stop_server(world.deployment_id)
        took, status, body = first_byte(port, world.host)
        if status != 200 or MARKER.encode() not in body:
            raise RuntimeError(
                f"cold request: {status}, marker {'not ' * (MARKER.encode() not in body)}found"
            )
        times.append(took)
    return times


@dataclass
class Round:
    server: str
    cold: list[float]
    edge: harness.WrkResult
    direct: harness.WrkResult
    node_edge_ms: float = 0.0  # the Node server's CPU per request, through the edge
    node_direct_ms: float = 0.0  # and straight to it


def node_pid(handle: str) -> int:
    """The host pid of the server container's first process (its `sh -c`; Node is its
    child): the container shares the host's kernel, so /proc has its CPU time."""
    import docker

    return int(docker.from_env().api.inspect_container(handle)["State"]["Pid"])


def measured(
    setup: str, url: str, pid: int, node: int, args: argparse.Namespace, headers: list[str]
) -> tuple[harness.WrkResult, float]:
    """A warm-up, then one measured wrk run: its result (with `pid`'s CPU per request)
    and the Node server's CPU per request in ms over the same run."""
    harness.wrk(url, args.warmup, args, headers)
    before = harness.tree_cpu_seconds(node)
    result = harness.run_wrk(setup, "/", url, pid, args, headers, warm=False)
    node_ms = (harness.tree_cpu_seconds(node) - before) * 1000 / max(result.requests, 1)
    if result.failed:
        raise RuntimeError(
            f"{setup}: {result.non_2xx} non-2xx answers, {result.socket_errors} socket errors"
        )
    return result, node_ms


def warm(web_pid: int, port: int, world: World, args: argparse.Namespace, server: str) -> Round:
    row = wait_for_state(world.deployment_id, {"running"})
    node = node_pid(row.handle)
    edge, node_edge = measured(
        f"{server} edge", f"http://127.0.0.1:{port}/", web_pid, node, args, [f"Host: {world.host}"]
    )
    # Straight to the Node server (the web's CPU over this run is not counted: its pid is
    # this process's, idle while wrk runs).
    direct, node_direct = measured("direct", f"http://{row.address}/", os.getpid(), node, args, [])
    return Round(server, [], edge, direct, node_edge, node_direct)


def report(rounds: list[Round]) -> None:
    print(
        "\n| web server | cold start to first byte (median; max) | through the edge req/s "
        "| p99 | web CPU per request | Node CPU per request | straight to Node req/s | p99 "
        "| Node CPU per request | edge's share of direct |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for server in dict.fromkeys(r.server for r in rounds):
        mine = [r for r in rounds if r.server == server]
        cold = [t for r in mine for t in r.cold]
        edge = statistics.median(r.edge.requests_per_second for r in mine)
        direct = statistics.median(r.direct.requests_per_second for r in mine)
        p99 = statistics.median(r.edge.p99_ms for r in mine)
        direct_p99 = statistics.median(r.direct.p99_ms for r in mine)
        cpu = statistics.median(r.edge.server_cpu_ms for r in mine) * 1000
        node_edge = statistics.median(r.node_edge_ms for r in mine) * 1000
        node_direct = statistics.median(r.node_direct_ms for r in mine) * 1000
        print(
            f"| {server} | {statistics.median(cold) * 1000:.0f} ms; {max(cold) * 1000:.0f} ms "
            f"| {edge:,.0f} | {p99:.1f} ms | {cpu:.0f} us | {node_edge:,.0f} us "
            f"| {direct:,.0f} | {direct_p99:.1f} ms | {node_direct:,.0f} us | {edge / direct:.0%} |"
        )
    print("\nPer round (edge req/s / direct req/s):")
    for r in rounds:
        print(
            f"  {r.server}: {r.edge.requests_per_second:,.0f} / "
            f"{r.direct.requests_per_second:,.0f} = "
            f"{r.edge.requests_per_second / r.direct.requests_per_second:.0%}; machine busy "
            f"{r.edge.machine_busy:.0%} / {r.direct.machine_busy:.0%}"
        )


# --- the run ---------------------------------------------------------------------------


@contextlib.contextmanager
def web(server: str, env: dict[str, str], log: Path, workers: int = 2) -> Iterator[tuple[int, int]]:
    """The web under `server`, as runplatform starts it: (port, pid)."""
    from core import serving

    port = free_port()
    command = serving.web_server_command(server, host="127.0.0.1", port=port, workers=workers)
    with harness.started(command, env, log, grace=15) as process:

        def answers() -> bool:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("HEAD", "/v1/")
            connection.getresponse()
            return True

        harness.wait_until_up(f"{server} on port {port}", answers, process, log)
        yield port, process.pid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_wrk_arguments(parser, per="setup")
    parser.add_argument("--servers", default="uvicorn,granian")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", type=int, default=3, help="cold starts per round")
    parser.add_argument(
        "--web-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="the web's processes (default: one per core, as runplatform)",
    )
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    harness.require_tools({"wrk": "wrk"})

    from core.management.commands.runplatform import celery_worker_command

    work = Path(tempfile.mkdtemp(prefix="shipway-bench-ssr-"))
    env = harness.bench_env(
        args.database_url,
        args.redis_url,
        isolated=True,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        SHIPWAY_STORAGE_ROOT=str(work / "storage"),
        SHIPWAY_VAR_DIR=str(work / "var"),
        SITES_DOMAIN=SITES_DOMAIN,
        PYTHONPATH=harness.python_path(),
    )
    os.environ.update(env)
    rounds: list[Round] = []
    failed = False
    try:
        harness.recreate_database(args.database_url)
        harness.flush_redis(args.redis_url)
        # As runplatform runs them: builds (and default) on one worker, servers on another.
        builds = celery_worker_command("builds,default", 2, "bench-builds")
        starts = celery_worker_command("servers", 2, "bench-servers")
        # The workers log at INFO (what a failed run's logs must say); the web does not.
        told = {**env, "LOG_LEVEL": "INFO"}
        with (
            harness.started(builds, told, work / "worker.log", grace=30),
            harness.started(starts, told, work / "servers.log", grace=30),
        ):
            world = populate(work / "storage")
            servers = [s.strip() for s in args.servers.split(",") if s.strip()]
            for number in range(args.rounds):
                for server in servers:
                    print(f"-- round {number + 1}: {server}", flush=True)
                    with web(server, env, work / f"{server}.log", args.web_workers) as (port, pid):
                        cold = cold_starts(port, world, args.cold)
                        result = warm(pid, port, world, args, server)
                        result.cold = cold
                        rounds.append(result)
        report(rounds)
        print(
            f"\n{harness.wrk_settings(args)}; {args.web_workers} web processes; "
            f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end"
        )
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception:
        # The processes' logs say why (the storage goes; the logs stay).
        failed = True
        shutil.rmtree(work / "storage", ignore_errors=True)
        print(f"bench.ssr failed; the workers' and the web's logs are in {work}", file=sys.stderr)
        raise
    finally:
        remove_containers()
        with contextlib.suppress(Exception):
            harness.drop_database(args.database_url)
        with contextlib.suppress(Exception):
            harness.flush_redis(args.redis_url)
        if not failed:
            shutil.rmtree(work, ignore_errors=True)


def remove_containers(site_id: str = "benchssr") -> None:
    """The bench site's build and server containers, then its volumes (the server's
    files, the build cache): by their `shipway.site` label (builds/runners/docker.py)."""
    with contextlib.suppress(Exception):
        import docker

        client = docker.from_env()
        mine: dict[str, Any] = {"label": f"shipway.site={site_id}"}
        for container in client.containers.list(all=True, filters=mine):
            container.remove(force=True)
        for volume in client.volumes.list(filters=mine):
            with contextlib.suppress(Exception):
                volume.remove(force=True)


if __name__ == "__main__":
    sys.exit(main())
