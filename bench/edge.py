"""Benchmark the edge: nginx alone, Shipway's Python edge under uvicorn and under granian,
and the front-proxy path.

    .venv/bin/python -m bench.edge                   # the default run, about 5 minutes
    .venv/bin/python -m bench.edge --duration 30s    # longer wrk runs
    .venv/bin/python -m bench.edge --setups nginx,granian --rounds 1 --duration 5s
    .venv/bin/python -m bench.edge --profile         # also: where the Python edge's time goes
    .venv/bin/python -m bench.edge --setups nginx,granian-uncounted,granian  # counting off, on

One run: (re)creates the `shipway_bench_edge` PostgreSQL database, migrates it, makes one
public static site with one ready deployment (a 2 KB HTML page and a 150 KB fingerprinted
script, `assets/app-3f2a9c1e.js`), built in this process like tests/edge/conftest.py
`publish` does, with its storage and the front proxy's host map in a temporary directory.
It counts the SQL queries of the Python edge's steady state (the ASGI app in-process,
after a warm-up: it must be 0), then, for each file, runs `wrk --latency` against:

  nginx        nginx serving the deployment's output directory directly (2 workers,
               sendfile on): the reference;
  uvicorn      uvicorn serving config.asgi:application (2 workers, httptools and uvloop
               when installed, no access log): the edge in front of Django;
  granian      granian serving the same application through its ASGI interface (2
               workers, no access log), as runplatform starts it (core/serving.py);
  front-proxy  nginx with deploy/nginx.conf and the host map (edge/hostmap.py),
               falling through to the Python edge (granian when it runs, else uvicorn).
  granian-uncounted  (only when asked for) granian as above with SHIPWAY_USAGE_COUNTING=0:
               the edge without its usage counting, to set against `granian` (counting
               on, flushing every second: SHIPWAY_USAGE_FLUSH_SECONDS=1). After the
               rounds it prints how many requests Redis holds for the site, against how
               many the counting setups answered.

The setups are interleaved over --rounds rounds (default 3). It prints, per setup and
file, the median requests/s, the 99th-percentile latency, the share of nginx's requests/s,
the requests per CPU-second of the server's processes (user + system time of the
server's process tree, from /proc, over the measured run) and its share of nginx's (both
shares the median of per-round shares), and non-2xx answers and socket errors (any of
which makes the exit status non-zero), then whether the targets hold: each Python edge
>= 25% of nginx per CPU-second (the goal is 45%), the front proxy >= 90% of nginx's
requests/s. Requests per CPU-second is the fair figure whatever the number of workers
and whoever else uses the machine (wrk shares its cores). Servers are stopped at the
end, also on error or Ctrl-C.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also as `python bench/edge.py`

import argparse
import asyncio
import contextlib
import http.client
import importlib.util
import os
import pwd
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench import harness
from bench.harness import VENV_BIN, WrkResult
from core.embedded import free_port

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shipway_bench_edge"
SITES_DOMAIN = "sites.localhost"
HTML_PATH = "/"
SCRIPT_PATH = "/assets/app-3f2a9c1e.js"
SCRIPT_SIZE = 150 * 1024
PAGE_SIZE = 2 * 1024
SETUPS = ("nginx", "uvicorn", "granian", "front-proxy")
# Not run unless asked for: the servers with bench/bare_asgi.py instead of the edge.
BARE_SETUPS = ("uvicorn-bare", "granian-bare")
BARE_APPLICATION = "bench.bare_asgi:application"
# Not run unless asked for: granian with the edge's usage counting off.
UNCOUNTED = "granian-uncounted"
PYTHON_EDGES = ("uvicorn", "granian", UNCOUNTED)
# Python edges: share of nginx's requests per CPU-second (GOAL is what the edge aims
# at); the front proxy: share of nginx's requests/s, since it is nginx itself.
TARGETS = {"uvicorn": 0.25, "granian": 0.25, UNCOUNTED: 0.25, "front-proxy": 0.90}
GOAL = 0.45


def site_files() -> dict[str, bytes]:
    head = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Bench</title>"
        '<link rel=stylesheet href="/assets/app-3f2a9c1e.css"></head><body><main>'
    )
    tail = '</main><script type=module src="/assets/app-3f2a9c1e.js"></script></body></html>\n'
    paragraph = "<p>Shipway serves this page on its own host.</p>"
    body = paragraph * ((PAGE_SIZE - len(head) - len(tail)) // len(paragraph))
    html = ((head + body).ljust(PAGE_SIZE - len(tail)) + tail).encode()  # PAGE_SIZE bytes
    lines, size, i = [], 0, 0
    while size < SCRIPT_SIZE:
        line = f"export const value{i} = (x) => x * {i % 97} + {i * 7919 % 10007}; // {i:x}\n"
        lines.append(line)
        size += len(line)
        i += 1
    script = "".join(lines).encode()[:SCRIPT_SIZE]
    return {"index.html": html, "assets/app-3f2a9c1e.js": script}


# --- the data --------------------------------------------------------------------------


@dataclass
class Published:
    site_id: str
    deployment_id: str
    host: str
    output_dir: Path
    files: dict[str, bytes]


def publish_site(storage: Path) -> Published:
    """Migrate, then one public static site with one ready, active deployment (built in
    this process, as tests/edge/conftest.py does), its hosts in the front proxy's map."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from deployments.artifacts import OUTPUT_DIR
    from edge import hostmap
    from tests.edge.conftest import publish
    from tests.factories import make_site, make_team, make_user

    team = make_team(owner=make_user("bench"), team_id="bench-team", name="Bench")
    site = make_site(team, site_id="bench", framework="static", access="public")
    files = site_files()
    deployment = publish(site, files)
    links = hostmap.publish_site(site.id)  # SHIPWAY_FRONT_PROXY did it already; make sure
    host = f"{site.id}.{SITES_DOMAIN}"
    if links.get(host) != deployment.id:
        raise RuntimeError(f"the host map does not serve {host} from disk: {links}")
    output = storage / deployment.storage_prefix / OUTPUT_DIR
    return Published(site.id, deployment.id, host, output, files)


# --- the steady state's SQL, in-process ---------------------------------------------------


def count_queries(published: Published, requests: int) -> tuple[int, int]:
    """(queries of one request on a cold cache, queries of `requests` warm requests),
    with config.asgi's application called in this process. async_to_sync from this thread
    makes the edge's thread-sensitive loads run here, on the connection counted."""
    from asgiref.sync import async_to_sync
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.asgi import application

    async def call(path: str) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"host", published.host.encode()), (b"accept-encoding", b"gzip")],
        }
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b""}

        async def send(message: dict) -> None:
            sent.append(message)

        await application(scope, receive, send)
        return sent[0]["status"]

    async def warm_up() -> None:
        for path in (HTML_PATH, SCRIPT_PATH, "/missing"):
            await call(path)
        await asyncio.sleep(1)  # the invalidation listener subscribes and drops the cache
        for path in (HTML_PATH, SCRIPT_PATH, "/missing"):
            await call(path)

    async def steady() -> None:
        for i in range(requests):
            status = await call((HTML_PATH, SCRIPT_PATH)[i % 2])
            if status != 200:
                raise RuntimeError(f"the in-process edge answered {status}")

    async_to_sync(warm_up)()
    application.invalidate(None)
    with CaptureQueriesContext(connection) as cold:
        async_to_sync(call)(HTML_PATH)
    async_to_sync(warm_up)()
    with CaptureQueriesContext(connection) as warm:
        async_to_sync(steady)()
    return len(cold), len(warm)


def profile(published: Published, requests: int) -> None:
    """The edge's own time per request in-process (no server, no network), then a call
    profile: pyinstrument's when it is installed, else cProfile's."""
    from config.asgi import application

    headers = [(b"host", published.host.encode()), (b"user-agent", b"wrk"), (b"accept", b"*/*")]

    async def run() -> None:
        async def receive() -> dict:
            return {"type": "http.request", "body": b""}

        async def send(message: dict) -> None:
            pass

        for i in range(requests):
            path = (HTML_PATH, SCRIPT_PATH)[i % 2]
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "query_string": b"",
                "root_path": "",
                "headers": headers,
                "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8000),
                "extensions": {"http.response.pathsend": {}},
            }
            await application(scope, receive, send)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(run())  # warm
    # CPU time, the best of 5: what other processes do to a shared machine mostly adds.
    times = []
    for _ in range(5):
        started = time.process_time()
        loop.run_until_complete(run())
        times.append(time.process_time() - started)
    print(
        f"\nin-process edge: {min(times) / requests * 1e6:.1f} us of CPU per request, best of"
        f" 5 (median {statistics.median(times) / requests * 1e6:.1f}; not profiled)"
    )
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        loop.run_until_complete(run())
        profiler.disable()
        loop.close()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(25)
        return
    instrumented = Profiler(async_mode="disabled")
    instrumented.start()
    loop.run_until_complete(run())
    instrumented.stop()
    loop.close()
    print(instrumented.output_text(unicode=False, color=False, show_all=False))


def time_counting(published: Published, requests: int) -> None:
    """The edge's CPU per request in-process (no server, no network) with its usage
    counter off and on, interleaved over 5 rounds, best of each: the cost of counting
    without wrk and the servers sharing the cores."""
    from config.asgi import application

    headers = [(b"host", published.host.encode()), (b"accept-encoding", b"gzip")]
    counter = application.usage
    if counter is None:
        print("!!! the in-process edge has no usage counter (SHIPWAY_USAGE_COUNTING?)")
        return

    async def run() -> None:
        async def receive() -> dict:
            return {"type": "http.request", "body": b""}

        async def send(message: dict) -> None:
            pass

        for i in range(requests):
            path = (HTML_PATH, SCRIPT_PATH)[i % 2]
            scope = {
                "type": "http",
                "method": "GET",
                "path": path,
                "query_string": b"",
                "headers": headers,
                "extensions": {"http.response.pathsend": {}},
            }
            await application(scope, receive, send)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(run())  # warm
    times: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(5):
        for state in ("off", "on"):
            application.usage = None if state == "off" else counter
            started = time.process_time()
            loop.run_until_complete(run())
            times[state].append(time.process_time() - started)
    application.usage = counter
    loop.close()
    off, on = (min(times[k]) / requests * 1e6 for k in ("off", "on"))
    print(
        f"\nin-process edge, usage counting off / on: {off:.1f} / {on:.1f} us of CPU per"
        f" request (best of 5 interleaved rounds of {requests:,}; {on - off:+.1f} us,"
        f" {(on - off) / off:+.1%})"
    )


# --- servers ---------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    describe: str
    port: int
    pid: int


def _wait_for(port: int, host: str, process: subprocess.Popen[bytes], log: Path) -> None:
    def answers() -> bool:
        return get(port, host, HTML_PATH).status == 200

    harness.wait_until_up(f"server on port {port}", answers, process, log)


def uvicorn_command(port: int, workers: int, app: str = "config.asgi:application") -> list[str]:
    command = harness.uvicorn_command(
        port,
        "--workers",
        str(workers),
        *harness.QUIET_UVICORN,
        app=app,
        program=[str(VENV_BIN / "uvicorn")],
    )
    if importlib.util.find_spec("httptools"):
        command += ["--http", "httptools"]
    if importlib.util.find_spec("uvloop"):
        command += ["--loop", "uvloop"]
    return command


def granian_command(
    port: int, workers: int, more: Sequence[str] = (), app: str | None = None
) -> list[str]:
    """granian as runplatform starts it (core/serving.py), on loopback, quieter; `more`
    are further options, `app` another application."""
    from core import serving

    command = serving.web_server_command(
        "granian",
        host="127.0.0.1",
        port=port,
        workers=workers,
        python=sys.executable,
        extra=["--log-level", "warning", *more],
    )
    if app:
        command[-1] = app
    return command


REFERENCE_CONF = """\
worker_processes {workers};
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    {types}
    types_hash_max_size 4096;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    access_log off;
    server_tokens off;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
        charset utf-8;
    }}
}}
"""


def nginx_command(run: Path) -> list[str]:
    nginx = shutil.which("nginx") or "nginx"
    return [nginx, "-p", str(run), "-c", str(run / "nginx.conf"), "-e", str(run / "error.log")]


def write_nginx_conf(run: Path, text: str) -> list[str]:
    run.mkdir(parents=True, exist_ok=True)
    (run / "nginx.conf").write_text(text)
    command = nginx_command(run)
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t failed for {run / 'nginx.conf'}:\n{checked.stderr}")
    return [*command, "-g", "daemon off;"]


# --- HTTP and wrk ----------------------------------------------------------------------


def get(port: int, host: str, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def check_same_files(servers: list[Server], published: Published) -> None:
    """Every setup answers both files, byte for byte, and the front proxy from disk."""
    for server in servers:
        for path, name in ((HTML_PATH, "index.html"), (SCRIPT_PATH, SCRIPT_PATH.lstrip("/"))):
            answer = get(server.port, published.host, path)
            if answer.status != 200 or answer.body != published.files[name]:  # type: ignore[attr-defined]
                raise RuntimeError(f"{server.name} {path}: {answer.status}, wrong body")
            etag = answer.getheader("etag", "")
            from_nginx = "-" in etag and len(etag) < 30  # nginx: "<mtime>-<size>" in hex
            if server.name == "front-proxy" and not from_nginx:
                raise RuntimeError(f"front-proxy {path} was not sent by nginx (ETag {etag})")
            if server.name in PYTHON_EDGES + BARE_SETUPS and from_nginx:
                raise RuntimeError(f"{server.name} {path}: unexpected ETag {etag}")


def measure(
    server: Server, host: str, path: str, args: argparse.Namespace, warm: bool
) -> WrkResult:
    url = f"http://127.0.0.1:{server.port}{path}"
    result = harness.run_wrk(server.name, path, url, server.pid, args, [f"Host: {host}"], warm=warm)
    flag = "  !!! ERRORS" if result.failed else ""
    print(
        f"   {server.name:<12} {path:<24} {result.requests_per_second:>9,.0f} req/s"
        f"  p99 {result.p99_ms:>7.2f} ms"
        f"  server CPU {result.server_cpu_ms * 1000:6.1f} us/request"
        f" = {per_cpu_second(result):>9,.0f} req/CPU-s  ({result.requests} "
        f"requests, {result.non_2xx} non-2xx, {result.socket_errors} socket errors){flag}",
        flush=True,
    )
    return result


def per_cpu_second(result: WrkResult) -> float:
    """Requests per CPU-second of the server's processes (user + system, all of them)."""
    return 1000 / result.server_cpu_ms if result.server_cpu_ms > 0 else float("inf")


@dataclass
class Summary:
    """One setup and file over the rounds: medians, and the errors of all rounds."""

    setup: str
    path: str
    runs: list[WrkResult]
    share: float  # median over rounds of requests/s over nginx's in the same round
    cpu_share: float  # the same for requests per CPU-second

    @property
    def target_share(self) -> float:
        """What the target is about: CPU for a Python edge, requests/s for nginx's."""
        return self.cpu_share if self.setup in PYTHON_EDGES else self.share

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in self.runs)

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.runs)


def summarize(runs: dict[tuple[str, str], list[WrkResult]]) -> list[Summary]:
    summaries = []
    for (setup, path), results in runs.items():
        reference = runs.get(("nginx", path))
        shares, cpu_shares = [0.0], [0.0]
        if reference:
            pairs = list(zip(results, reference, strict=True))
            shares = [r.requests_per_second / n.requests_per_second for r, n in pairs]
            cpu_shares = [per_cpu_second(r) / per_cpu_second(n) for r, n in pairs]
        summaries.append(
            Summary(setup, path, results, statistics.median(shares), statistics.median(cpu_shares))
        )
    return summaries


def print_table(summaries: list[Summary], servers: dict[str, Server]) -> list[str]:
    """The Markdown table; returns the targets missed."""
    missed = []
    rounds = len(summaries[0].runs) if summaries else 0
    print(
        f"\n| setup | file | requests/s (median of {rounds}; min-max) | p99 | share of nginx "
        "| server CPU per request | requests per CPU-second | share of nginx per CPU-second "
        "| non-2xx / socket errors |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in summaries:
        target = TARGETS.get(r.setup)
        marks = {"share": "", "cpu": ""}
        if target is not None:
            which = "cpu" if r.setup in PYTHON_EDGES else "share"
            held = r.target_share >= target
            goal = f", goal {GOAL:.0%}" if which == "cpu" else ""
            marks[which] = f" (target {target:.0%}{goal})" if held else f" **< {target:.0%}**"
            if not held:
                what = "per CPU-second" if which == "cpu" else "requests/s"
                missed.append(
                    f"{r.setup} {r.path}: {r.target_share:.0%} of nginx {what}, target {target:.0%}"
                )
        low = min(run.requests_per_second for run in r.runs)
        high = max(run.requests_per_second for run in r.runs)
        non_2xx = sum(run.non_2xx for run in r.runs)
        sockets = sum(run.socket_errors for run in r.runs)
        errors = f"**{non_2xx} / {sockets}**" if r.failed else "0 / 0"
        print(
            f"| {servers[r.setup].describe} | `{r.path}` "
            f"| {r.median('requests_per_second'):,.0f} ({low:,.0f}-{high:,.0f}) "
            f"| {r.median('p99_ms'):.1f} ms | {r.share:.0%}{marks['share']} "
            f"| {r.median('server_cpu_ms') * 1000:.0f} us "
            f"| {statistics.median(per_cpu_second(run) for run in r.runs):,.0f} "
            f"| **{r.cpu_share:.0%}**{marks['cpu']} | {errors} |"
        )
    return missed


def redis_requests(site_id: str, redis_url: str) -> int:
    """The requests of the site that Redis's usage hashes hold, every hour summed."""
    import redis

    from sites.models import Site
    from usage import counting

    uid = Site.objects.get(pk=site_id).uid.hex  # what the counts are keyed by

    client = redis.Redis.from_url(redis_url)
    counted = 0
    for label in client.smembers(counting.HOURS):
        value = client.hget(counting.live_key(counting.text(label)), "r:" + uid)
        counted += int(value or 0)
    return counted


def report_counted(
    published: Published,
    runs: dict[tuple[str, str], list[WrkResult]],
    redis_url: str,
    baseline: int,
) -> None:
    """How many requests the counting setups' edges added into Redis for the site (a
    flush every second: wait for two), against the requests wrk saw them answer."""
    time.sleep(2.5)
    counted = redis_requests(published.site_id, redis_url) - baseline
    answered = sum(
        r.requests
        for (setup, _path), results in runs.items()
        for r in results
        if setup in ("uvicorn", "granian")
    )
    print(
        f"\nusage counting: Redis holds {counted:,} requests for {published.site_id}; wrk saw "
        f"{answered:,} answered by the counting edges (plus the checks' and warm-ups')"
    )


# --- the run ---------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_wrk_arguments(parser, per="file")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds, medians reported (default 3)"
    )
    parser.add_argument(
        "--setups",
        default=",".join(SETUPS),
        help=f"comma-separated, of: {', '.join(SETUPS + BARE_SETUPS + (UNCOUNTED,))} "
        "(nginx is the reference)",
    )
    parser.add_argument(
        "--granian-args", default="", help="more granian options, e.g. '--task-impl rust'"
    )
    parser.add_argument("--queries", type=int, default=400, help="in-process requests counted")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=harness.DEFAULT_REDIS_URL)
    parser.add_argument("--profile", action="store_true", help="also profile the edge in-process")
    parser.add_argument("--profile-requests", type=int, default=20000)
    args = parser.parse_args()

    harness.require_tools({"wrk": "wrk", "nginx": "nginx-light"})
    chosen = [name.strip() for name in args.setups.split(",") if name.strip()]
    unknown = set(chosen) - set(SETUPS + BARE_SETUPS + (UNCOUNTED,))
    if unknown:
        sys.exit(f"unknown setups: {sorted(unknown)}")

    begun = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="shipway-bench-edge-"))
    work.chmod(0o755)
    storage, edge_root = work / "storage", work / "edge"
    env = harness.bench_env(
        args.database_url,
        args.redis_url,
        "bench.settings",
        DATABASE_CONN_MAX_AGE="0",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        SHIPWAY_STORAGE_ROOT=str(storage),
        SHIPWAY_EDGE_ROOT=str(edge_root),
        SHIPWAY_EDGE_CACHE_DIR=str(work / "cache"),
        SHIPWAY_FRONT_PROXY="1",
        SHIPWAY_USAGE_COUNTING="1",
        SHIPWAY_USAGE_FLUSH_SECONDS="1",
        SITES_DOMAIN=SITES_DOMAIN,
        PYTHONPATH=harness.python_path(),
    )
    os.environ.update(env)

    try:
        print(f"database {args.database_url} (dropped and created); files in {work}", flush=True)
        harness.recreate_database(args.database_url)
        published = publish_site(storage)
        sizes = ", ".join(f"{name} {len(data):,} bytes" for name, data in published.files.items())
        print(f"site {published.host}, deployment {published.deployment_id}: {sizes}")

        cold, warm = count_queries(published, args.queries)
        print(
            f"\nSQL queries, Python edge in-process: {cold} for a host's first request (cache "
            f"miss), {warm} for the {args.queries} requests after the warm-up (steady state)"
        )
        if cold == 0:
            print("!!! the cold request ran no query: the count does not see the edge's queries")
        if args.profile:
            profile(published, args.profile_requests)
        args.counted_before = 0
        if UNCOUNTED in args.setups.split(","):
            time_counting(published, args.profile_requests)
            # What the in-process edge counted is not the servers': flushed and set apart.
            from config.asgi import application

            if application.usage is not None:
                application.usage.flush()
            args.counted_before = redis_requests(published.site_id, args.redis_url)
        return run_servers(args, chosen, env, work, edge_root, published, warm, begun)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_servers(
    args: argparse.Namespace,
    chosen: list[str],
    env: dict[str, str],
    work: Path,
    edge_root: Path,
    published: Published,
    steady_queries: int,
    begun: float,
) -> int:
    from edge import proxy_config

    user = pwd.getpwuid(os.getuid()).pw_name
    uvicorn_port, granian_port = free_port(), free_port()
    reference_port, front_port = free_port(), free_port()
    servers: dict[str, Server] = {}
    runs: dict[tuple[str, str], list[WrkResult]] = {}
    with contextlib.ExitStack() as stack:

        def serve(
            name: str, describe: str, command: list[str], port: int, output: Path, log: Path
        ) -> None:
            """Start a setup's server with its output in `output` (stopped when the block
            ends) and wait until it answers; `log` says why it did not."""
            process = stack.enter_context(harness.started(command, env, output, grace=15))
            _wait_for(port, published.host, process, log)
            servers[name] = Server(name, describe, port, process.pid)

        # The front proxy falls through to a Python edge: granian's when it runs.
        web_port = granian_port if "granian" in chosen else uvicorn_port
        if "uvicorn" in chosen or "granian" not in chosen:
            uvicorn = uvicorn_command(uvicorn_port, args.workers)
            flavour = "httptools+uvloop" if "uvloop" in uvicorn else "default http/loop"
            describe = f"Python edge: uvicorn {args.workers} workers, {flavour}"
            log = work / "uvicorn.log"
            serve("uvicorn", describe, uvicorn, uvicorn_port, log, log)
        if "granian" in chosen:
            import granian

            describe = f"Python edge: granian {granian.__version__} {args.workers} workers, ASGI"
            log = work / "granian.log"
            more = args.granian_args.split()
            describe += f" {' '.join(more)}" if more else ""
            command = granian_command(granian_port, args.workers, more)
            serve("granian", describe, command, granian_port, log, log)
        if UNCOUNTED in chosen:
            import granian

            port = free_port()
            more = args.granian_args.split()
            log = work / f"{UNCOUNTED}.log"
            uncounted_env = {**env, "SHIPWAY_USAGE_COUNTING": "0"}
            command = granian_command(port, args.workers, more)
            process = stack.enter_context(harness.started(command, uncounted_env, log, grace=15))
            _wait_for(port, published.host, process, log)
            describe = (
                f"Python edge: granian {granian.__version__} {args.workers} workers, ASGI,"
                " usage counting off"
            )
            servers[UNCOUNTED] = Server(UNCOUNTED, describe, port, process.pid)
        bare_env = {**env, "BENCH_BARE_DIR": str(published.output_dir)}
        for name in BARE_SETUPS:
            if name not in chosen:
                continue
            port = free_port()
            if name == "uvicorn-bare":
                command = uvicorn_command(port, args.workers, BARE_APPLICATION)
            else:
                command = granian_command(
                    port, args.workers, args.granian_args.split(), BARE_APPLICATION
                )
            log = work / f"{name}.log"
            process = stack.enter_context(harness.started(command, bare_env, log, grace=15))
            _wait_for(port, published.host, process, log)
            server = name.split("-")[0]
            describe = f"bare ASGI app (bench/bare_asgi.py): {server} {args.workers} workers"
            servers[name] = Server(name, describe, port, process.pid)
        if "nginx" in chosen:
            run = work / "nginx-reference"
            conf = REFERENCE_CONF.format(
                workers=args.workers,
                run=run,
                types=proxy_config.nginx_types(),
                port=reference_port,
                root=published.output_dir,
            )
            command = write_nginx_conf(run, f"user {user};\n{conf}")
            describe = f"nginx alone, {args.workers} workers, sendfile"
            serve("nginx", describe, command, reference_port, run / "stdout.log", run / "error.log")
        if "front-proxy" in chosen:
            run = work / "nginx-front"
            conf = proxy_config.nginx_config(
                SHIPWAY_NGINX_LISTEN=f"127.0.0.1:{front_port}",
                SHIPWAY_NGINX_USER=user,
                SHIPWAY_NGINX_WORKERS=str(args.workers),
                SHIPWAY_NGINX_RUN_DIR=str(run),
                SHIPWAY_EDGE_ROOT=str(edge_root),
                SITES_DOMAIN=SITES_DOMAIN,
                SHIPWAY_WEB=f"127.0.0.1:{web_port}",
                SHIPWAY_PLATFORM_HOSTS="platform.invalid",
            )
            command = write_nginx_conf(run, conf)
            describe = f"front proxy: nginx {args.workers} workers, deploy/nginx.conf + host map"
            serve(
                "front-proxy", describe, command, front_port, run / "stdout.log", run / "error.log"
            )
        order = [
            name for name in (*SETUPS[:2], UNCOUNTED, *SETUPS[2:], *BARE_SETUPS) if name in chosen
        ]
        check_same_files([servers[name] for name in order], published)
        for name in order:
            print(f"{name}: {servers[name].describe}")
        # Rounds interleave the setups, so that what else the machine does weighs on all
        # of them alike; the table has each one's median, and its share of nginx is the
        # median of its per-round shares (each against nginx's run of the same round).
        load = os.getloadavg()[0]
        if load > 1.5:
            print(f"note: load average {load:.1f} before the first run: the machine is busy")
        for round_number in range(args.rounds):
            print(f"\n-- round {round_number + 1} of {args.rounds}", flush=True)
            for path in (HTML_PATH, SCRIPT_PATH):
                for name in order:
                    result = measure(
                        servers[name], published.host, path, args, warm=round_number == 0
                    )
                    runs.setdefault((name, path), []).append(result)
        if UNCOUNTED in chosen:
            report_counted(published, runs, args.redis_url, args.counted_before)

    missed = print_table(summarize(runs), servers)
    print(
        f"\nSQL queries in the Python edge's steady state: {steady_queries}"
        f"{'' if steady_queries == 0 else '  !!! must be 0'}"
    )
    print(
        f"{harness.wrk_settings(args)}; loopback, {os.cpu_count()} CPUs; "
        f"total {time.monotonic() - begun:.0f} s"
    )
    for line in missed:
        print(f"under target: {line}")
    failed = [r for results in runs.values() for r in results if r.failed]
    for r in failed:
        print(
            f"!!! {r.setup} {r.path}: {r.non_2xx} non-2xx, {r.socket_errors} socket errors",
            file=sys.stderr,
        )
    return 1 if failed or steady_queries else 0


if __name__ == "__main__":
    sys.exit(main())
