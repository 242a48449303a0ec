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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also as `python bench/api.py`

import argparse
import contextlib
import importlib.util
import json
import os
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench import harness
from bench.harness import VENV_BIN, WrkResult
from core.embedded import free_port

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shipway_bench"
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
    uvicorn = harness.uvicorn_command(
        "{port}",
        *("--workers", str(workers), "--no-access-log", "--log-level", "warning"),
        program=[str(VENV_BIN / "uvicorn")],
    )
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


@contextlib.contextmanager
def running(setup: Setup, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Start the setup's server in its own process group; yield its base URL and pid;
    stop it."""
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in setup.command]
    log_path = harness.BASE_DIR / "var" / f"bench-{setup.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        with urllib.request.urlopen(base + BARE_PATH, timeout=2) as answer:
            return answer.status == 200

    with harness.started(command, {**env, **setup.env}, log_path, grace=15) as process:
        harness.wait_until_up("server", answers, process, log_path)
        yield base, process.pid


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


def measure(
    setup: str, base: str, pid: int, path: str, secret: str | None, args: argparse.Namespace
) -> WrkResult:
    """Warm up, then one wrk run, with the server's CPU time and the machine's busy share."""
    headers = [f"Authorization: Bearer {secret}"] if secret else []
    result = harness.run_wrk(setup, path, base + path, pid, args, headers)
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
    harness.add_wrk_arguments(parser, per="URL")
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
    parser.add_argument("--redis-url", default=harness.DEFAULT_REDIS_URL)
    parser.add_argument("--profile", action="store_true", help="also profile in-process")
    parser.add_argument("--profile-repeat", type=int, default=200)
    parser.add_argument(
        "--pyinstrument", action="store_true", help="with --profile: a call profile too"
    )
    args = parser.parse_args()

    harness.require_tools({"wrk": "wrk"})
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

    env = harness.bench_env(
        args.database_url,
        args.redis_url,
        "bench.settings",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=harness.python_path(),
    )
    env.pop("BENCH_DB_POOL", None)
    os.environ.update(env)

    started = time.monotonic()
    print(f"database {args.database_url} (dropped and created)", flush=True)
    harness.recreate_database(args.database_url)
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

    print(f"\n{harness.wrk_settings(args)}; total {time.monotonic() - started:.0f} s")
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
