"""Benchmark the realtime log feed: a build's output line -> a websocket client, in ms.

    .venv/bin/python -m bench.realtime                      # 1, 10, 100 subscribers, 3 rounds
    .venv/bin/python -m bench.realtime --workers 2          # uvicorn with 2 workers
    .venv/bin/python -m bench.realtime --subscribers 100 --rounds 5
    .venv/bin/python -m bench.realtime --client-procs 4     # subscribers split over 4 processes
    .venv/bin/python -m bench.realtime --what-if pubsub     # the remaining suggestion, prototyped
    .venv/bin/python -m bench.realtime --uvicorn-args "--ws-per-message-deflate false"

One run (re)creates the `shipway_bench_realtime` PostgreSQL database, flushes Redis
database 13, migrates, and makes a user, a team, a static site and an API key through the
services (as tests/factories.py does), with SHIPWAY_VAR_DIR and SHIPWAY_STORAGE_ROOT in a
temporary directory. It starts the web as the product does (uvicorn serving
`config.asgi:application`, `--workers 1` by default as `runplatform`, `--no-access-log`)
on a free loopback port. Then, for each round and each subscriber count (interleaved):

1. A new deployment is created from an upload and moved to `building` (so every phase's
   log starts at offset 0).
2. N websocket clients (asyncio on uvloop + `websockets`, in `--client-procs` separate
   processes, never this one) take a token from `POST /v1/realtime/tokens` (one per
   subscriber, Bearer API key) and subscribe to `sites.{siteId}.deployments.{deploymentId}.logs`.
3. This process plays the build: a `builds.logwriter.LogWriter(deployment)`, as the
   director uses it, gets `--lines` lines at `--rate` lines/s, then, after 0.5 s of quiet,
   a burst of `--burst` lines written back to back (a compiler or `npm install` dumping
   output), then an end line. Each line is `bench <seq> <time.time_ns()>`, taken just
   before `write()`: that is the line's production. The subscribers take `time.time_ns()`
   when `recv()` hands them a message (and parse only at the end); all processes read the
   same machine clock (CLOCK_REALTIME).
4. Every subscriber must have every line exactly once, in order, with contiguous log
   offsets; anything else is printed loudly and makes the exit status non-zero.

Reported per subscriber count: lines received (lines x subscribers), median, p90, p99
and max of arrival - production, for all lines and for paced and burst lines apart.
Then where the time goes, from probes this process puts around `deployments.services.log_append`,
the SQL it runs, `core.events.send` and the channel layer's `group_send` (timestamps
only; behaviour unchanged): the LogWriter's coalescing (write -> append starts), the
database (append -> the on_commit publish starts; the SQL statements and the COMMIT
apart), the publish (-> `group_send` done, on core.events' loop), delivery (-> the
client has it: Redis, uvicorn's channel layer receive, the consumer, the websocket), the
fan-out spread (a chunk's last subscriber - its first) and send's teardown (`group_send`
done -> `send` returns). And the cost: uvicorn's CPU time (its process group, from
/proc) per websocket message delivered, and the subscriber processes' CPU use.

`--what-if pubsub` runs the remaining suggestion, prototyped (the app is not edited):
channels_redis's Pub/Sub layer in the server and here (see use_pubsub_layer).

Cleanup, also on error or Ctrl-C: subscribers and uvicorn stopped, the database dropped,
Redis database 13 flushed, the temporary directory removed (`--keep` keeps it).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also as a script

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench import harness
from bench.harness import BASE_DIR
from core.embedded import free_port

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shipway_bench_realtime"
REDIS_URL = "redis://127.0.0.1:6379/13"
END = "bench-end"
LINE = re.compile(r"bench (\d+) (\d+)\n")
TARGET_MEDIAN_MS = 50.0
TARGET_P99_MS = 200.0


# --- the subscribers (a separate process) ------------------------------------------------


async def _subscribe(urls: list[str], timeout: float) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(20)  # do not open 100 handshakes at once

    count = len(urls)

    async def open_one(url: str) -> Any:
        async with gate:
            ws = await connect(url, open_timeout=30, max_size=None, ping_interval=None)
            hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if hello.get("type") != "connected":
                raise RuntimeError(f"not subscribed: {hello}")
            return ws

    sockets = await asyncio.gather(*(open_one(url) for url in urls))
    received: list[list[tuple[int, str]]] = [[] for _ in range(count)]
    errors: list[str] = []

    async def listen(ws: Any, got: list[tuple[int, str]]) -> None:
        # Only the timestamp and the raw text here: parsing waits until the end, so one
        # subscriber's work does not delay the next one's timestamp.
        while True:
            raw = await ws.recv()
            got.append((time.time_ns(), raw))
            if END in raw:
                return

    print("ready", flush=True)
    cpu, wall = time.process_time(), time.monotonic()
    listeners = [
        asyncio.ensure_future(listen(ws, got)) for ws, got in zip(sockets, received, strict=True)
    ]
    done, pending = await asyncio.wait(listeners, timeout=timeout)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    for task in pending:
        task.cancel()
    if pending:
        errors.append(f"{len(pending)} of {count} subscribers did not get the end line")
    errors += [repr(task.exception()) for task in done if task.exception()]
    print("done", flush=True)  # the bench reads the server's CPU time, then lets us close
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"received": received, "errors": errors, "cpu": cpu, "wall": wall}


def subscriber_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.realtime _subscribe")
    # One address per subscriber: each holds its own token (a token opens one feed).
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args(argv)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(_subscribe(args.url, args.timeout))
    Path(args.out).write_text(json.dumps(result))


# --- the environment, the database and the server ----------------------------------------


def bench_env(tmp: Path) -> dict[str, str]:
    return harness.bench_env(
        DATABASE_URL,
        REDIS_URL,
        isolated=True,
        SHIPWAY_VAR_DIR=str(tmp / "var"),
        SHIPWAY_STORAGE_ROOT=str(tmp / "storage"),
        DEBUG="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        SHIPWAY_REALTIME_TOKENS_RATE="100000/minute",  # a token per subscriber
        SHIPWAY_REALTIME_MAX_CONNECTIONS_PER_USER="100000",  # all are one user's
    )


def one_run_at_a_time() -> Any:
    """Two runs would drop each other's database: the second waits for the first."""
    import fcntl

    handle = open(Path(tempfile.gettempdir()) / "shipway-bench-realtime.lock", "a+")  # noqa: SIM115
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("another bench.realtime run holds the database; waiting for it", flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


@contextlib.contextmanager
def uvicorn(
    env: dict[str, str], workers: int, log_path: Path, app: str, extra: list[str]
) -> Iterator[tuple[int, int]]:
    """Serve `app`; yields (port, pid of the process group)."""
    port = free_port()
    command = harness.uvicorn_command(
        port, "--workers", str(workers), "--no-access-log", *extra, app=app
    )

    def answers() -> bool:
        http_post(port, "/v1/realtime/tokens", "")  # any answer (a refusal) will do
        return True

    with harness.started(command, env, log_path) as process:
        harness.wait_until_up("uvicorn", answers, process, log_path)
        print(f"uvicorn (pid {process.pid}) on port {port}; its log: {log_path}", flush=True)
        yield port, process.pid


def http_post(port: int, path: str, secret: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        connection.request("POST", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class World:
    site: Any
    user: Any
    secret: str


def populate() -> World:
    from django.core.management import call_command

    from accounts import services as account_services
    from tests.factories import make_site, make_team, make_user

    call_command("migrate", verbosity=0, interactive=False)
    user = make_user("bench")
    site = make_site(make_team(user, name="Bench"), name="Bench", framework="static")
    _key, secret = account_services.api_key_create(user=user, name="bench")
    return World(site=site, user=user, secret=secret)


def new_building_deployment(site: Any) -> Any:
    from deployments.models import Status
    from deployments.services import deployment_create_from_upload, deployment_transition
    from tests.archives import tar_gz, upload

    archive = upload(tar_gz({"index.html": "<h1>bench</h1>"}))
    deployment = deployment_create_from_upload(site=site, archive=archive, activate=False)
    deployment_transition(deployment.id, Status.PROCESSING)
    deployment_transition(deployment.id, Status.BUILDING)
    deployment.refresh_from_db()
    return deployment


# --- probes: timestamps around the log append and the publish ----------------------------


class Probes:
    """Wraps `deployments.services.log_append` and `core.events.send` to timestamp each chunk."""

    def __init__(self) -> None:
        self.chunks: list[dict[str, Any]] = []
        self.active: dict[str, Any] | None = None

    def install(self) -> None:
        from core import events
        from deployments import services

        original_append, original_send = services.log_append, events.send

        def append(deployment: Any, text: str) -> int:
            from django.db import connection

            record: dict[str, Any] = {"text": text, "append": time.time_ns(), "queries": 0}

            def timed(execute: Any, sql: str, *args: Any) -> Any:
                started = time.time_ns()
                try:
                    return execute(sql, *args)
                finally:
                    record["query_end"] = time.time_ns()
                    record["queries"] += record["query_end"] - started

            self.active = record
            try:
                with connection.execute_wrapper(timed):
                    return original_append(deployment, text)
            finally:
                record["appended"] = time.time_ns()
                self.active = None
                self.chunks.append(record)

        def send(**kwargs: Any) -> None:
            record = self.active
            if record is not None:
                record["send"] = time.time_ns()
            try:
                original_send(**kwargs)
            finally:
                if record is not None:
                    record["sent"] = time.time_ns()

        from channels_redis.core import RedisChannelLayer
        from channels_redis.pubsub import RedisPubSubLoopLayer

        def probe(original: Any) -> Any:
            async def group_send(layer: Any, group: str, message: dict[str, Any]) -> None:
                await original(layer, group, message)
                # async_to_sync runs this in a thread of its own: the record is found
                # through `self.active` (one LogWriter at a time here).
                record = self.active
                if record is not None and "send" in record:
                    record["group_sent"] = time.time_ns()

            return group_send

        RedisChannelLayer.group_send = probe(RedisChannelLayer.group_send)
        RedisPubSubLoopLayer.group_send = probe(RedisPubSubLoopLayer.group_send)
        services.log_append = append  # LogWriter calls it through the module
        events.send = send  # publish's on_commit lambda looks `send` up at call time


# --- what-if: prototypes of the suggested changes (the app is not edited) ---------------

WHAT_IFS = ("pubsub",)


def use_pubsub_layer() -> None:
    """`--what-if pubsub`: channels_redis's Redis Pub/Sub layer instead of the default
    one (one subscription per group per process, fanned out to consumers in memory),
    in the server and in this process alike."""
    from django.conf import settings

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": "shipway"},
        }
    }


def _what_if_application() -> Any:
    """The ASGI app with the Pub/Sub layer (see use_pubsub_layer)."""
    from config.asgi import application

    use_pubsub_layer()
    return application


def __getattr__(name: str) -> Any:
    """uvicorn serves `bench.realtime:what_if_application` (built only when asked for)."""
    if name == "what_if_application":
        return _what_if_application()
    raise AttributeError(name)


# --- one phase: N subscribers, one build's output ----------------------------------------


@dataclass
class Phase:
    subscribers: int
    round_no: int
    loadavg: tuple[float, float, float]
    produced: dict[int, int] = field(default_factory=dict)  # seq -> production ns
    burst_from: int = 0
    latencies: list[float] = field(default_factory=list)  # ms, every line x subscriber
    paced: list[float] = field(default_factory=list)
    burst: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)
    spread: list[float] = field(default_factory=list)
    chunks: int = 0
    messages: int = 0  # websocket messages delivered (chunks x subscribers)
    server_cpu: float = 0.0  # seconds, uvicorn's processes, from the first line to the end
    client_cpu: float = 0.0  # seconds, the subscriber processes, same span
    client_wall: float = 0.0
    wall: float = 0.0  # seconds, the first line written -> every subscriber has the end line
    problems: list[str] = field(default_factory=list)


def split(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_phase(
    world: World,
    served: tuple[int, int],
    env: dict[str, str],
    tmp: Path,
    subscribers: int,
    round_no: int,
    args: argparse.Namespace,
    probes: Probes,
) -> Phase:
    from urllib.parse import urlencode

    from builds.logwriter import LogWriter
    from core import channels

    port, server = served  # the port, and uvicorn's process group
    phase = Phase(subscribers=subscribers, round_no=round_no, loadavg=os.getloadavg())
    deployment = new_building_deployment(world.site)
    channel = channels.deployment_logs(deployment.site_id, deployment.id)
    processes: list[tuple[subprocess.Popen[str], Path]] = []
    try:
        for index, count in enumerate(split(subscribers, args.client_procs)):
            urls = []
            for _ in range(count):
                status, body = http_post(port, "/v1/realtime/tokens", world.secret)
                if status != 201:
                    raise RuntimeError(
                        f"POST /v1/realtime/tokens answered {status}: {body[:200]!r}"
                    )
                query = urlencode([("token", json.loads(body)["token"]), ("channels", channel)])
                urls += ["--url", f"ws://127.0.0.1:{port}/v1/realtime?{query}"]
            out = tmp / f"sub-{subscribers}-{round_no}-{index}.json"
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.realtime",
                    "_subscribe",
                    *urls,
                    "--out",
                    str(out),
                ],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            processes.append((process, out))
        for process, _out in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                process.wait(timeout=30)
                raise RuntimeError(f"a subscriber process failed (exit {process.returncode})")
        time.sleep(0.2)  # let the server settle after the handshakes

        first_chunk = len(probes.chunks)
        server_cpu, wall = harness.group_cpu_seconds(server), time.monotonic()
        interval = 1 / args.rate
        with LogWriter(deployment) as writer:
            start = time.monotonic()
            for seq in range(args.lines):
                delay = start + seq * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                now = time.time_ns()
                phase.produced[seq] = now
                writer.write(f"bench {seq} {now}\n")
            time.sleep(0.5)  # quiet, then the burst
            phase.burst_from = args.lines
            for seq in range(args.lines, args.lines + args.burst):
                now = time.time_ns()
                phase.produced[seq] = now
                writer.write(f"bench {seq} {now}\n")
            time.sleep(0.3)
            writer.write(f"{END}\n")
        for process, _out in processes:
            assert process.stdout is not None and process.stdin is not None
            if process.stdout.readline().strip() != "done":
                raise RuntimeError("a subscriber process failed while receiving")
        phase.server_cpu = harness.group_cpu_seconds(server) - server_cpu
        phase.wall = time.monotonic() - wall
        for process, _out in processes:
            assert process.stdin is not None
            process.stdin.write("close\n")
            process.stdin.flush()
        for process, _out in processes:
            process.wait(timeout=60)
        results = [json.loads(out.read_text()) for _process, out in processes]
    finally:
        for process, _out in processes:
            harness.stop(process)
    chunks = probes.chunks[first_chunk:]
    analyse(phase, results, chunks)
    return phase


def analyse(phase: Phase, results: list[dict[str, Any]], chunks: list[dict[str, Any]]) -> None:
    phase.chunks = len(chunks)
    # Which chunk carried each line, and that chunk's probe timestamps.
    chunk_of: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for match in LINE.finditer(chunk["text"]):
            chunk_of[int(match[1])] = chunk
    stages: dict[str, list[float]] = {
        "coalesce": [],
        "database": [],
        "queries": [],
        "commit": [],
        "publish": [],
        "teardown": [],
        "delivery": [],
    }
    for seq, produced in phase.produced.items():
        chunk = chunk_of.get(seq)
        if chunk is None or "send" not in chunk:
            phase.problems.append(f"line {seq} never reached log_append/publish")
            continue
        stages["coalesce"].append((chunk["append"] - produced) / 1e6)
        stages["database"].append((chunk["send"] - chunk["append"]) / 1e6)
        stages["queries"].append(chunk["queries"] / 1e6)
        stages["commit"].append((chunk["send"] - chunk.get("query_end", chunk["send"])) / 1e6)
        group_sent = chunk.get("group_sent", chunk["sent"])
        stages["publish"].append((group_sent - chunk["send"]) / 1e6)
        stages["teardown"].append((chunk["sent"] - group_sent) / 1e6)
    expected = list(range(len(phase.produced)))
    arrivals_by_offset: dict[int, list[int]] = {}
    subscriber = 0
    for result in results:
        phase.problems += [f"subscriber process: {error}" for error in result["errors"]]
        phase.client_cpu += result["cpu"]
        phase.client_wall = max(phase.client_wall, result["wall"])
        phase.messages += sum(len(messages) for messages in result["received"])
        for messages in result["received"]:
            subscriber += 1
            seqs: list[int] = []
            next_offset = 0
            ended = False
            for arrived, raw in messages:
                message = json.loads(raw)
                if message.get("type") != "event":
                    phase.problems.append(f"subscriber {subscriber}: unexpected {raw[:200]}")
                    continue
                payload = message["data"]["payload"]
                if payload["offset"] != next_offset:
                    phase.problems.append(
                        f"subscriber {subscriber}: chunk at offset {payload['offset']}, "
                        f"expected {next_offset} (a chunk lost, repeated or out of order)"
                    )
                next_offset = payload["offset"] + len(payload["text"])
                arrivals_by_offset.setdefault(payload["offset"], []).append(arrived)
                ended = ended or f"{END}\n" in payload["text"]
                for match in LINE.finditer(payload["text"]):
                    seq, produced = int(match[1]), int(match[2])
                    seqs.append(seq)
                    latency = (arrived - produced) / 1e6
                    phase.latencies.append(latency)
                    (phase.burst if seq >= phase.burst_from else phase.paced).append(latency)
                    chunk = chunk_of.get(seq)
                    if chunk is not None and "sent" in chunk:
                        group_sent = chunk.get("group_sent", chunk["sent"])
                        stages["delivery"].append((arrived - group_sent) / 1e6)
            if seqs != expected:
                missing = sorted(set(expected) - set(seqs))
                duplicated = len(seqs) - len(set(seqs))
                phase.problems.append(
                    f"subscriber {subscriber}: {len(seqs)} lines of {len(expected)}, "
                    f"{len(missing)} missing (first {missing[:5]}), {duplicated} duplicated, "
                    f"in order: {seqs == sorted(seqs)}"
                )
            if not ended:
                phase.problems.append(f"subscriber {subscriber}: no end line")
    if subscriber != phase.subscribers:
        phase.problems.append(f"{subscriber} subscribers reported, {phase.subscribers} expected")
    phase.stages = stages
    phase.spread = [(max(t) - min(t)) / 1e6 for t in arrivals_by_offset.values() if len(t) > 1]


# --- reporting -----------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)  # linear interpolation between closest ranks
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def merged(phases: list[Phase], attr: str) -> list[float]:
    return [value for phase in phases for value in getattr(phase, attr)]


def report(phases: list[Phase], args: argparse.Namespace) -> bool:
    counts = sorted({phase.subscribers for phase in phases})
    by_count = {n: [p for p in phases if p.subscribers == n] for n in counts}
    lines = args.lines + args.burst
    print()
    print(
        f"uvicorn --workers {args.workers} {args.uvicorn_args}".rstrip()
        + f"; {args.lines} lines at {args.rate:g}/s + a burst of "
        f"{args.burst}; {args.rounds} round(s); subscribers in {args.client_procs} process(es); "
        f"what-if: {args.what_if or 'none (the product as it is)'}"
    )
    print()
    print("| subscribers | lines received | median | p90 | p99 | max | lost/dup/out of order |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n, group in by_count.items():
        values = merged(group, "latencies")
        bad = sum(len(p.problems) for p in group)
        print(
            f"| {n} | {len(values):,} of {lines * n * len(group):,} | {pct(values, 50):.1f} ms "
            f"| {pct(values, 90):.1f} ms | {pct(values, 99):.1f} ms | {max(values, default=0):.1f}"
            f" ms | {'none' if not bad else f'**{bad} problems**'} |"
        )
    print()
    print("Paced lines vs the burst (median / p99, ms):")
    print()
    print("| subscribers | paced median | paced p99 | burst median | burst p99 |")
    print("|---:|---:|---:|---:|---:|")
    for n, group in by_count.items():
        paced, burst = merged(group, "paced"), merged(group, "burst")
        print(
            f"| {n} | {pct(paced, 50):.1f} | {pct(paced, 99):.1f} "
            f"| {pct(burst, 50):.1f} | {pct(burst, 99):.1f} |"
        )
    print()
    print("Where the time goes, per line (median / p99, ms; delivery is per line x subscriber):")
    print()
    print(
        "| subscribers | chunks | coalesce (write -> append) | database (append -> publish) "
        "| of which SQL | of which COMMIT (-> on_commit) | publish (-> group_send done) "
        "| delivery (group_send done -> client) | fan-out spread | send's teardown |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    stages = ("coalesce", "database", "queries", "commit", "publish", "delivery")
    for n, group in by_count.items():
        cells = []
        for stage in stages:
            values = [v for p in group for v in p.stages.get(stage, [])]
            cells.append(f"{pct(values, 50):.1f} / {pct(values, 99):.1f}")
        spread = merged(group, "spread")
        chunks = sum(p.chunks for p in group)
        spread_cell = f"{pct(spread, 50):.1f} / {pct(spread, 99):.1f}" if spread else "-"
        teardown = [v for p in group for v in p.stages.get("teardown", [])]
        teardown_cell = f"{pct(teardown, 50):.1f} / {pct(teardown, 99):.1f}"
        print(f"| {n} | {chunks} | {' | '.join(cells)} | {spread_cell} | {teardown_cell} |")
    print()
    print("Cost (CPU seconds over the phase: first line written -> every subscriber done):")
    print()
    print(
        "| subscribers | messages delivered | uvicorn CPU | uvicorn CPU per message "
        "| uvicorn busy | subscribers' CPU busy |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n, group in by_count.items():
        messages = sum(p.messages for p in group)
        cpu = sum(p.server_cpu for p in group)
        wall = sum(p.wall for p in group)
        client = sum(p.client_cpu for p in group) / max(sum(p.client_wall for p in group), 1e-9)
        print(
            f"| {n} | {messages:,} | {cpu:.2f} s | {1000 * cpu / max(messages, 1):.3f} ms "
            f"| {100 * cpu / max(wall, 1e-9):.0f}% of a core | {100 * client:.0f}% of a core |"
        )
    print()
    for phase in phases:
        load = ", ".join(f"{x:.1f}" for x in phase.loadavg)
        print(f"round {phase.round_no}, {phase.subscribers} subscribers: load average {load}")
    ok = True
    for phase in phases:
        if phase.problems:
            ok = False
            print(
                f"\n!!! {phase.subscribers} subscribers, round {phase.round_no}: "
                f"{len(phase.problems)} PROBLEMS (loss, duplicates or disorder):"
            )
            for problem in phase.problems[:20]:
                print(f"!!!   {problem}")
    top = by_count.get(100)
    if top:
        values = merged(top, "latencies")
        median, p99 = pct(values, 50), pct(values, 99)
        verdict = median < TARGET_MEDIAN_MS and p99 < TARGET_P99_MS
        print(
            f"\ntarget at 100 subscribers: median {median:.1f} ms (< {TARGET_MEDIAN_MS:g}), "
            f"p99 {p99:.1f} ms (< {TARGET_P99_MS:g}): {'MET' if verdict else 'NOT MET'}"
        )
    return ok


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_subscribe"]:
        subscriber_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m bench.realtime", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--subscribers", default="1,10,100", help="comma-separated counts")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument("--lines", type=int, default=200, help="paced lines per phase")
    parser.add_argument("--rate", type=float, default=100, help="paced lines per second")
    parser.add_argument("--burst", type=int, default=100, help="lines written back to back")
    parser.add_argument("--rounds", type=int, default=3, help="phases per subscriber count")
    parser.add_argument("--client-procs", type=int, default=1, help="subscriber processes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--uvicorn-args",
        default="",
        help="more uvicorn options, e.g. '--ws-per-message-deflate false'",
    )
    parser.add_argument(
        "--what-if",
        default="",
        help=f"a prototype of a suggested change: {','.join(WHAT_IFS)}",
    )
    args = parser.parse_args(argv)
    what_if = set(filter(None, args.what_if.split(",")))
    if what_if - set(WHAT_IFS):
        parser.error(f"--what-if: unknown {', '.join(sorted(what_if - set(WHAT_IFS)))}")
    args.what_if = ",".join(sorted(what_if))
    counts = [int(n) for n in args.subscribers.split(",") if n]

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    lock = one_run_at_a_time()
    tmp = Path(tempfile.mkdtemp(prefix="shipway-bench-realtime-"))
    env = bench_env(tmp)
    os.environ.update(env)
    started = time.monotonic()
    phases: list[Phase] = []
    try:
        harness.recreate_database(DATABASE_URL)
        harness.flush_redis(REDIS_URL)
        import django

        django.setup()
        if "pubsub" in what_if:
            use_pubsub_layer()  # before populate() sends anything: the layer is cached
        world = populate()
        probes = Probes()
        probes.install()
        print(f"setup {time.monotonic() - started:.1f} s")
        app = "bench.realtime:what_if_application" if what_if else "config.asgi:application"
        extra = args.uvicorn_args.split()
        with uvicorn(env, args.workers, tmp / "uvicorn.log", app, extra) as (port, server):
            for round_no in range(1, args.rounds + 1):
                for n in counts:
                    phase = run_phase(world, (port, server), env, tmp, n, round_no, args, probes)
                    phases.append(phase)
                    values = phase.latencies
                    print(
                        f"round {round_no}, {n:>3} subscribers: {len(values)} lines, "
                        f"median {pct(values, 50):.1f} ms, p99 {pct(values, 99):.1f} ms"
                        + (f", {len(phase.problems)} PROBLEMS" if phase.problems else ""),
                        flush=True,
                    )
        ok = report(phases, args)
    finally:
        with contextlib.suppress(Exception):
            harness.drop_database(DATABASE_URL)
        with contextlib.suppress(Exception):
            harness.flush_redis(REDIS_URL)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"\ntotal {time.monotonic() - started:.1f} s")
        lock.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
