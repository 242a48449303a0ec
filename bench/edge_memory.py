"""Benchmark the edge's memory under hostile requests: the web process's RSS at the start
and after 10,000 requests for random paths and random hosts.

    .venv/bin/python -m bench.edge_memory                    # this checkout, about a minute
    .venv/bin/python -m bench.edge_memory --compare d3695b4  # and that commit's code beside it
    .venv/bin/python -m bench.edge_memory --requests 50000   # a longer run

One run: (re)creates the `shipway_bench_edge_memory` PostgreSQL database, migrates it,
and publishes two public static sites in this process (as tests/edge/conftest.py
`publish` does), storage in a temporary directory: `with-404`, whose `404.html` is
128 KB, and `spa`, whose fallback file (`index.html`) is 128 KB. For each code (this
checkout, and with --compare the given commit, exported with `git archive` into a
temporary directory and run against the same database and storage) it starts one uvicorn
process serving config.asgi:application, sends a warm-up of each kind of request, reads
the process's VmRSS, sends --requests requests over one keep-alive connection, in
turn:

  - a random path on `with-404` (answered with its 404.html),
  - a random path on `spa` (answered with its index.html, 200),
  - a random spelling of `with-404`'s host (upper and lower case, a random port or a
    trailing dot) with a random path,
  - a random host: a name under SITES_DOMAIN that is no site, or another domain,

checks every answer's status, and reads VmRSS (and the peak, VmHWM) again. It prints,
per code, the RSS at the start and after, and the growth. The edge keeps what it learns
in bounded caches (edge/app.py), so the growth should be a few MB at most;
before, each path and each Host spelling kept another copy of the body.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also as a script

import argparse
import http.client
import os
import random
import shutil
import string
import subprocess
import tempfile
import time
from dataclasses import dataclass

from bench import harness
from bench.harness import BASE_DIR
from core.embedded import free_port

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shipway_bench_edge_memory"
SITES_DOMAIN = "sites.localhost"
BODY = 128 * 1024
WARM_UP = 50  # requests of each kind before the first reading


@dataclass
class Sites:
    with_404: str  # host
    spa: str  # host


def _page(title: str, size: int) -> bytes:
    rng = random.Random(title)
    filler = "".join(rng.choices(string.ascii_letters + " ", k=size))
    return f"<!doctype html><title>{title}</title><p>{filler}</p>".encode()[:size]


def publish_sites() -> Sites:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from sites.services import site_update
    from tests.edge.conftest import publish
    from tests.factories import make_site, make_team, make_user

    team = make_team(owner=make_user("bench"), team_id="bench-team", name="Bench")
    with_404 = make_site(team, site_id="with-404", framework="static", access="public")
    spa = make_site(team, site_id="spa", framework="static", access="public")
    site_update(site=spa, fallback_file="index.html")
    publish(with_404, {"index.html": b"<h1>home</h1>", "404.html": _page("missing", BODY)})
    publish(spa, {"index.html": _page("app", BODY)})
    return Sites(f"with-404.{SITES_DOMAIN}", f"spa.{SITES_DOMAIN}")


# --- the requests ------------------------------------------------------------------------


def _path(rng: random.Random) -> str:
    return "/" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=16))


def _spelling(rng: random.Random, host: str) -> str:
    cased = "".join(c.upper() if rng.random() < 0.5 else c for c in host)
    return cased + rng.choice(["", ".", f":{rng.randrange(1, 65536)}"])


def _stranger(rng: random.Random) -> str:
    name = "".join(rng.choices(string.ascii_lowercase, k=12))
    return rng.choice([f"{name}.{SITES_DOMAIN}", f"{name}.example", f"www.{name}.test"])


def hostile(sites: Sites, count: int, seed: int) -> list[tuple[str, str, int | None]]:
    """(Host, path, expected status or None for "any 404-ish") for `count` requests."""
    rng = random.Random(seed)
    kinds = [
        lambda: (sites.with_404, _path(rng), 404),
        lambda: (sites.spa, _path(rng), 200),
        lambda: (_spelling(rng, sites.with_404), _path(rng), 404),
        lambda: (_stranger(rng), _path(rng), 404),
    ]
    return [kinds[i % len(kinds)]() for i in range(count)]


def send(port: int, requests: list[tuple[str, str, int | None]]) -> dict[int, int]:
    """Send them over one keep-alive connection (a new one if the server closes it);
    return the count per status. A status other than the expected one is an error."""
    statuses: dict[int, int] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for host, path, expected in requests:
            connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", host)
            connection.endheaders()
            answer = connection.getresponse()
            answer.read()
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
            if expected is not None and answer.status != expected:
                raise RuntimeError(f"{host}{path}: {answer.status}, expected {expected}")
            if answer.will_close:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    finally:
        connection.close()
    return statuses


def memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


# --- one code's run --------------------------------------------------------------------


@dataclass
class Result:
    code: str
    start: int
    after: int
    peak: int
    seconds: float
    statuses: dict[int, int]


def run_code(
    code: str, source: Path, env: dict[str, str], sites: Sites, args: argparse.Namespace
) -> Result:
    port = free_port()
    log = Path(env["SHIPWAY_VAR_DIR"]) / f"uvicorn-{port}.log"
    command = harness.uvicorn_command(port, *harness.QUIET_UVICORN)
    server_env = {**env, "PYTHONPATH": str(source)}
    with harness.started(command, server_env, log, cwd=source, grace=15) as process:
        # A wrong status is an error at once; only a refused connection means "not yet".
        harness.wait_until_up(
            f"{code}: uvicorn", lambda: bool(send(port, [(sites.with_404, "/", 200)])), process, log
        )
        send(port, hostile(sites, 4 * WARM_UP, seed=1))
        time.sleep(1)  # the invalidation listener has subscribed (and dropped the caches)
        send(port, hostile(sites, 4 * WARM_UP, seed=2))
        start, _ = memory(process.pid)
        begun = time.monotonic()
        statuses = send(port, hostile(sites, args.requests, seed=3))
        seconds = time.monotonic() - begun
        after, peak = memory(process.pid)
        return Result(code, start, after, peak, seconds, statuses)


def export(revision: str, into: Path) -> Path:
    """The code of `revision` (git archive), to run beside this checkout's."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(BASE_DIR), "archive", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="hostile requests")
    parser.add_argument("--compare", metavar="REV", help="also run this commit's code")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=harness.DEFAULT_REDIS_URL)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="shipway-bench-edge-memory-"))
    env = harness.bench_env(
        args.database_url,
        args.redis_url,
        DATABASE_CONN_MAX_AGE="0",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        SHIPWAY_VAR_DIR=str(work / "var"),
        SHIPWAY_STORAGE_ROOT=str(work / "storage"),
        SITES_DOMAIN=SITES_DOMAIN,
    )
    os.environ.update(env)
    try:
        print(f"database {args.database_url} (dropped and created); files in {work}", flush=True)
        harness.recreate_database(args.database_url)
        sites = publish_sites()
        print(f"sites {sites.with_404} (404.html) and {sites.spa} (fallback), {BODY:,} bytes each")
        codes = [("this checkout", BASE_DIR)]
        if args.compare:
            codes.append((args.compare, export(args.compare, work / "compare")))
        results = []
        for code, source in codes:
            result = run_code(code, source, env, sites, args)
            statuses = ", ".join(f"{n} x {s}" for s, n in sorted(result.statuses.items()))
            print(
                f"  {code}: {result.seconds:.1f} s for {args.requests:,} requests ({statuses})",
                flush=True,
            )
            results.append(result)
        mb = 1024 * 1024
        print(f"\n| code | RSS at start | RSS after {args.requests:,} requests | growth | peak |")
        print("|---|---:|---:|---:|---:|")
        for r in results:
            print(
                f"| {r.code} | {r.start / mb:.1f} MB | {r.after / mb:.1f} MB "
                f"| {(r.after - r.start) / mb:+.1f} MB | {r.peak / mb:.1f} MB |"
            )
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: server stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
