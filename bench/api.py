"""Benchmark `GET /v1/sites` against a bare Django JSON view, under each serving setup.

    .venv/bin/python -m bench.api                 # the default run, under 2 minutes
    .venv/bin/python -m bench.api --duration 30s  # longer wrk runs
    .venv/bin/python -m bench.api --auth-only     # also /bench/auth-only (DRF's floor)
    .venv/bin/python -m bench.api --profile       # also: queries and time per step
    .venv/bin/python -m bench.api --setups gunicorn,uvicorn-pool   # see --help

One run: (re)creates the `shipway_bench` PostgreSQL database, migrates it, makes a user
who owns a team with 200 sites (plus another team's sites the caller cannot see) and an
API key, all through the services; then, for each serving setup, starts the server on
loopback, checks once that `/v1/sites` answers 200 with a page of 25 of 200 sites, warms
up, and runs `wrk --latency` against the bare view and the real endpoint. The setups
include the same gunicorn with the read cache off (core/readcache.py), which measures
the database path every request would take without it. It prints
requests/s, the 99th-percentile latency, the real endpoint's share of the bare view's
requests/s, and the server's CPU time per request (its processes' CPU time over the run
divided by the requests served: it moves much less than requests/s when other work
shares the machine). Any non-2xx answer or socket error is reported loudly and makes the
exit status non-zero. Servers are stopped at the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shipway_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
BARE_PATH = "/bench/bare"
SITES_PATH = "/v1/sites"
AUTH_ONLY_PATH = "/bench/auth-only"
VISIBLE_SITES = 200
PAGE_SIZE = 25


@dataclass(frozen=True)
class Setup:
    name: str
    describe: str
    command: list[str]  # "{port}" is replaced by the port
    env: dict[str, str] = field(default_factory=dict)


def _setups(workers: int, threads: int) -> dict[str, Setup]:
    gunicorn = [str(VENV_BIN / "gunicorn"), "config.wsgi:application"]
    gunicorn += ["--bind", "127.0.0.1:{port}", "--workers", str(workers)]
    gunicorn += ["--log-level", "warning"]
    uvicorn = [str(VENV_BIN / "uvicorn"), "config.asgi:application"]
    uvicorn += ["--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers)]
    uvicorn += ["--no-access-log", "--log-level", "warning"]
    return {
        "gunicorn": Setup(
            "gunicorn", f"gunicorn WSGI, {workers} sync workers", [*gunicorn, "-k", "sync"]
        ),
        "gunicorn-nocache": Setup(
            "gunicorn-nocache",
            f"gunicorn WSGI, {workers} sync workers, read cache off",
            [*gunicorn, "-k", "sync"],
            {"SHIPWAY_READ_CACHE_URL": ""},
        ),
        # Under ASGI every request runs its sync code in a thread of its own, so
        # persistent connections (the project's CONN_MAX_AGE=60) pile up, one per
        # request, until PostgreSQL refuses clients: the default ASGI setup opens one
        # per request instead, and "uvicorn-persistent" shows the failure.
        "uvicorn": Setup(
            "uvicorn",
            f"uvicorn ASGI, {workers} workers, CONN_MAX_AGE=0",
            uvicorn,
            {"DATABASE_CONN_MAX_AGE": "0"},
        ),
        "gthread": Setup(
            "gthread",
            f"gunicorn WSGI, {workers} workers x {threads} threads",
            [*gunicorn, "-k", "gthread", "--threads", str(threads)],
        ),
        "uvicorn-persistent": Setup(
            "uvicorn-persistent", f"uvicorn ASGI, {workers} workers, CONN_MAX_AGE=60", uvicorn
        ),
        "uvicorn-pool": Setup(
            "uvicorn-pool",
            f"uvicorn ASGI, {workers} workers, psycopg pool",
            uvicorn,
            {"BENCH_DB_POOL": "1"},
        ),
    }


# --- the database and its data ---------------------------------------------------------


def recreate_database(database_url: str) -> None:
    """Drop and create the bench database (only one whose name says it is a bench's)."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def populate(hidden_sites: int) -> str:
    """Migrate, then make the caller, their team, its sites and an API key; return the key."""
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from accounts.services import api_key_create
    from tests.factories import make_site, make_team, make_user

    caller = make_user("bench")
    team = make_team(owner=caller, team_id="bench-team", name="Bench")
    for i in range(VISIBLE_SITES):
        make_site(team, name=f"Site {i:03d}", framework="static")
    if hidden_sites:
        other = make_team(owner=make_user("someone-else"), team_id="other-team", name="Other")
        for i in range(hidden_sites):
            make_site(other, name=f"Hidden {i:03d}", framework="static")
    _key, secret = api_key_create(user=caller, name="bench")
    # Fresh tables have no statistics until autovacuum gets to them; a live database has.
    # Without this, the first minutes' plans (and numbers) depend on autovacuum's timing.
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    connections.close_all()
    return secret


# --- servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(setup: Setup, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Start the setup's server in its own process group; yield its base URL and pid;
    stop it."""
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in setup.command]
    log_path = BASE_DIR / "var" / f"bench-{setup.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**env, **setup.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base, process, log_path)
            yield base, process.pid
        finally:
            stop(process)


def wait_until_up(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(base + BARE_PATH, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {BARE_PATH} within 60 s; see {log_path}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (master and workers), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def get_json(url: str, secret: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url} answered {exc.code}: {exc.read()[:500]!r}") from None


def check_sites(base: str, secret: str) -> None:
    """Two plain requests: /v1/sites must answer 200 with a page of 25 of 200 sites, and
    the same body again (from the read cache when it is on)."""
    body = get_json(base + SITES_PATH, secret)
    sites = body.get("sites", [])
    if len(sites) != PAGE_SIZE or body.get("total") != VISIBLE_SITES:
        raise RuntimeError(
            f"{SITES_PATH} answered {len(sites)} sites of {body.get('total')}; "
            f"expected {PAGE_SIZE} of {VISIBLE_SITES}"
        )
    if get_json(base + SITES_PATH, secret) != body:
        raise RuntimeError(f"{SITES_PATH} answered a different body the second time")


# --- wrk -------------------------------------------------------------------------------


@dataclass
class WrkResult:
    setup: str
    path: str
    requests_per_second: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    server_cpu_ms: float = 0.0  # the server's CPU time (all its processes) per request
    machine_busy: float = 0.0  # share of the machine's CPUs busy during the run, anyone's

    @property
    def failed(self) -> bool:
        return self.non_2xx > 0 or self.socket_errors > 0 or self.requests == 0


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, cpu seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    tree, total = {pid}, 0.0
    for _ in range(3):  # master -> workers -> their children
        tree |= {child for child, (parent, _cpu) in stats.items() if parent in tree}
    for member in tree:
        total += stats.get(member, (0, 0.0))[1]
    return total


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str, setup: str, path: str) -> WrkResult:
    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, output, re.MULTILINE)

    rps = find(r"^Requests/sec:\s+([\d.]+)")
    p99 = find(r"^\s+99%\s+(\S+)")
    total = find(r"^\s+(\d+) requests in")
    if not (rps and p99 and total):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    non_2xx = find(r"Non-2xx or 3xx responses:\s+(\d+)")
    sockets = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    return WrkResult(
        setup=setup,
        path=path,
        requests_per_second=float(rps[1]),
        p99_ms=_ms(p99[1]),
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        # gunicorn's sync workers close every connection; wrk may count those as read errors.
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def wrk(url: str, duration: str, args: argparse.Namespace, secret: str | None) -> str:
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}"]
    command += ["--latency", f"--timeout={args.timeout}"]
    if secret:
        command += ["-H", f"Authorization: Bearer {secret}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return done.stdout


def measure(
    setup: str, base: str, pid: int, path: str, secret: str | None, args: argparse.Namespace
) -> WrkResult:
    """Warm up, then one wrk run, with the server's CPU time and the machine's busy share."""
    wrk(base + path, args.warmup, args, secret)
    cpu_before, (busy_before, all_before) = tree_cpu_seconds(pid), machine_cpu()
    output = wrk(base + path, args.duration, args, secret)
    cpu_after, (busy_after, all_after) = tree_cpu_seconds(pid), machine_cpu()
    result = parse_wrk(output, setup, path)
    result.server_cpu_ms = (cpu_after - cpu_before) * 1000 / max(result.requests, 1)
    result.machine_busy = (busy_after - busy_before) / max(all_after - all_before, 1)
    flag = "  !!! ERRORS" if result.failed else ""
    print(
        f"   {path:<18} {result.requests_per_second:>8,.0f} req/s  p99 {result.p99_ms:>7.1f} ms"
        f"  server CPU {result.server_cpu_ms:.2f} ms/request  ({result.requests} requests, "
        f"{result.non_2xx} non-2xx, {result.socket_errors} socket errors){flag}",
        flush=True,
    )
    return result


# --- in-process profile ----------------------------------------------------------------


def _ms_per_call(fn: Callable[[], object], repeat: int) -> float:
    """Median over 5 batches of `fn`'s time per call, in ms (the median resists the
    other processes of a shared machine)."""
    for _ in range(3):
        fn()
    batch = max(1, repeat // 5)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(batch):
            fn()
        times.append((time.perf_counter() - started) / batch * 1000)
    return statistics.median(times)


def profile(secret: str, repeat: int, call_profile: bool) -> None:
    """Where a request's time goes, in-process (no server, no network): queries per
    request and time per request, with the read cache on and off, and time per step of
    `GET /v1/sites`'s database path."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count, Window
    from django.test import Client, RequestFactory, override_settings
    from django.test.utils import CaptureQueriesContext
    from rest_framework.request import Request

    from accounts.authentication import ApiKeyAuthentication
    from core import readcache
    from sites.models import Site
    from sites.serializers import SiteSerializer

    no_cache = override_settings(SHIPWAY_READ_CACHE_URL="")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    print(f"\nin-process, median ms per request ({repeat} requests):")
    for path, cached in (
        (BARE_PATH, True),
        (AUTH_ONLY_PATH, True),
        (SITES_PATH, True),
        (AUTH_ONLY_PATH, False),
        (SITES_PATH, False),
    ):
        with contextlib.nullcontext() if cached else no_cache:
            client.get(path)  # warm caches (content types, URL resolver, connection)
            with CaptureQueriesContext(connection) as context:
                answer = client.get(path)
            queries = list(context.captured_queries)  # the next request clears the log
            per_request = _ms_per_call(lambda path=path: client.get(path), repeat)
        label = f"{path}{'' if cached else ' (read cache off)'}"
        print(f"  {label:<36} {per_request:7.2f} ms  {answer.status_code}, {len(queries)} queries")
        for query in queries:
            print(f"      {query['sql'][:160]}")

    user = get_user_model().objects.get(username="bench")

    def drf_request() -> Request:
        return Request(RequestFactory().get(SITES_PATH, HTTP_AUTHORIZATION=f"Bearer {secret}"))

    def authenticate_uncached() -> None:
        with no_cache:
            ApiKeyAuthentication().authenticate(drf_request())

    page = list(Site.objects.for_user(user)[:PAGE_SIZE])
    steps = [
        (
            "API key authentication, read cache",
            lambda: ApiKeyAuthentication().authenticate(drf_request()),
        ),
        ("API key authentication, database (1 query)", authenticate_uncached),
        ("read cache: one entry (1 round trip)", lambda: readcache.get(drf_request(), "x")),
        (
            "for_user(): page of 25 with COUNT(*) OVER ()",
            lambda: list(Site.objects.for_user(user).annotate(t=Window(Count("*")))[:PAGE_SIZE]),
        ),
        ("SiteSerializer, 25 sites", lambda: SiteSerializer(page, many=True).data),
        ("SELECT 1 (a round trip)", lambda: connection.cursor().execute("SELECT 1")),
    ]
    print("\nsteps, median ms per call:")
    for label, step in steps:
        print(f"  {label:<56} {_ms_per_call(step, repeat):7.2f} ms")

    if not call_profile:
        return
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("\n(pyinstrument is not installed: pip install pyinstrument)")
        return
    profiler = Profiler()
    profiler.start()
    for _ in range(repeat):
        client.get(SITES_PATH)
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))


# --- the run ---------------------------------------------------------------------------


def print_table(results: list[WrkResult], setups: dict[str, Setup]) -> None:
    bare = {r.setup: r for r in results if r.path == BARE_PATH}
    print(
        "\n| setup | URL | requests/s | p99 | share of bare | server CPU per request "
        "| CPUs busy | errors |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        share = r.requests_per_second / bare[r.setup].requests_per_second * 100
        errors = f"**{r.non_2xx} non-2xx, {r.socket_errors} socket**" if r.failed else "0"
        print(
            f"| {setups[r.setup].describe} | `GET {r.path}` | {r.requests_per_second:,.0f} "
            f"| {r.p99_ms:.1f} ms | {share:.0f}% | {r.server_cpu_ms:.2f} ms "
            f"| {r.machine_busy:.0%} | {errors} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", default="10s", help="wrk -d per URL (default 10s)")
    parser.add_argument("--warmup", default="2s", help="wrk run before measuring (default 2s)")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t (default 2)")
    parser.add_argument("--timeout", default="10s", help="wrk --timeout (default 10s)")
    parser.add_argument(
        "--auth-only",
        action="store_true",
        help=f"also measure {AUTH_ONLY_PATH} (API-key auth and DRF, a constant body)",
    )
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="gthread threads (default 4)")
    parser.add_argument(
        "--setups",
        default="gunicorn,gunicorn-nocache,uvicorn",
        help="comma-separated, of: gunicorn, gunicorn-nocache, uvicorn, gthread, "
        "uvicorn-persistent (the "
        "project's CONN_MAX_AGE under ASGI: it uses up PostgreSQL's connections, for everyone "
        "on the machine), uvicorn-pool (needs psycopg-pool installed)",
    )
    parser.add_argument("--hidden-sites", type=int, default=200, help="other team's sites")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--profile", action="store_true", help="also profile in-process")
    parser.add_argument("--profile-repeat", type=int, default=200)
    parser.add_argument(
        "--pyinstrument", action="store_true", help="with --profile: a call profile too"
    )
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    all_setups = _setups(args.workers, args.threads)
    chosen = [name.strip() for name in args.setups.split(",") if name.strip()]
    unknown = set(chosen) - set(all_setups)
    if unknown:
        sys.exit(f"unknown setups: {sorted(unknown)}; choose from {sorted(all_setups)}")
    if "uvicorn-pool" in chosen and importlib.util.find_spec("psycopg_pool") is None:
        sys.exit("the uvicorn-pool setup needs psycopg-pool: pip install psycopg-pool")
    paths = [(BARE_PATH, None), (SITES_PATH, "key")]
    if args.auth_only:
        paths.append((AUTH_ONLY_PATH, "key"))

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
    }
    env.pop("BENCH_DB_POOL", None)
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))

    started = time.monotonic()
    print(f"database {args.database_url} (dropped and created)", flush=True)
    recreate_database(args.database_url)
    secret = populate(args.hidden_sites)
    print(
        f"data: 1 caller owning {VISIBLE_SITES} sites, {args.hidden_sites} sites of another "
        f"team, 1 API key ({time.monotonic() - started:.1f} s)",
        flush=True,
    )
    if args.profile:
        profile(secret, args.profile_repeat, args.pyinstrument)

    results: list[WrkResult] = []
    try:
        for name in chosen:
            setup = all_setups[name]
            print(f"\n== {setup.describe}: {' '.join(setup.command)}", flush=True)
            load = os.getloadavg()[0]
            busy = ": the machine is busy, numbers will be low and noisy" if load > 1.0 else ""
            print(f"   load average {load:.1f} before starting{busy}", flush=True)
            with running(setup, env) as (base, pid):
                check_sites(base, secret)
                for path, needs_key in paths:
                    key = secret if needs_key else None
                    results.append(measure(name, base, pid, path, key, args))
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        return 130
    finally:
        if results:
            print_table(results, all_setups)

    print(
        f"\nwrk -t{args.wrk_threads} -c{args.connections} -d{args.duration} --latency "
        f"--timeout={args.timeout}, "
        f"warm-up {args.warmup}; total {time.monotonic() - started:.0f} s"
    )
    failed = [r for r in results if r.failed]
    if failed:
        print("\n!!! ERRORS: these runs had non-2xx answers or socket errors:", file=sys.stderr)
        for r in failed:
            print(
                f"!!!   {r.setup} {r.path}: {r.non_2xx} non-2xx, {r.socket_errors} socket errors",
                file=sys.stderr,
            )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
