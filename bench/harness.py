"""What every benchmark sets up the same way: its database and Redis, the environment of
its processes, the servers it starts and stops, CPU time from /proc, and wrk. (Free
ports come from core.embedded.free_port, as for the platform's own servers.)

The scripts (`bench/api.py`, `builds.py`, `edge.py`, `edge_memory.py`, `realtime.py`) keep
what they measure and how they report it; this module only holds what they share, so that
a fix to, say, how a server is stopped reaches every benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
# The caller's own settings of these would point a bench's processes at its own database,
# Redis or storage: the benchmarks that run a worker or a websocket feed leave them out.
_SERVICE_PREFIXES = ("SHIPWAY_", "DATABASE_", "REDIS_", "CELERY_")
# A server that logs nothing per request and has no lifespan: what the edge and build
# benchmarks run (the project's ASGI app needs no lifespan events).
QUIET_UVICORN = ["--no-access-log", "--log-level", "warning", "--lifespan", "off"]


# --- the environment, the database and Redis -------------------------------------------


def bench_env(
    database_url: str,
    redis_url: str,
    settings: str = "config.settings",
    *,
    isolated: bool = False,
    **more: str,
) -> dict[str, str]:
    """The environment of a benchmark's processes: this one's, the bench's database, Redis
    and settings module, and `more`. `isolated` first drops the caller's SHIPWAY_,
    DATABASE_, REDIS_ and CELERY_ variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not (isolated and key.startswith(_SERVICE_PREFIXES))
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings, DATABASE_URL=database_url, REDIS_URL=redis_url, **more
    )
    return env


def python_path() -> str:
    """PYTHONPATH for servers that import the project by name from any directory."""
    return os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")]))


def _maintenance(database_url: str) -> tuple[str, str]:
    """(the database's name, a URL of the server's `postgres` database)."""
    parts = urlsplit(database_url)
    return parts.path.lstrip("/"), urlunsplit(parts._replace(path="/postgres"))


def recreate_database(database_url: str) -> None:
    """Drop and create the bench database (only one whose name says it is a bench's)."""
    import psycopg

    name, maintenance = _maintenance(database_url)
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    """Drop the bench database, after closing this process's connections to it."""
    import psycopg

    with contextlib.suppress(Exception):  # Django may not be set up yet
        from django.db import connections

        connections.close_all()
    name, maintenance = _maintenance(database_url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


# --- processes -------------------------------------------------------------------------


def uvicorn_command(
    port: int | str,
    *options: str,
    app: str = "config.asgi:application",
    program: Sequence[str] = (sys.executable, "-m", "uvicorn"),
) -> list[str]:
    """uvicorn serving `app` on loopback at `port`, with `options` after the address."""
    return [*program, app, "--host", "127.0.0.1", "--port", str(port), *options]


@contextlib.contextmanager
def started(
    command: list[str],
    env: dict[str, str],
    log: Path,
    *,
    cwd: Path = BASE_DIR,
    append: bool = False,
    grace: float = 5,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` with its output in `log` (appended to with `append`) until the block
    ends, then stop it (see `stop`)."""
    with open(log, "ab" if append else "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, spared Ctrl-C
        )
    try:
        yield process
    finally:
        stop(process, grace)


def stop(process: subprocess.Popen[Any], grace: float = 5) -> None:
    """SIGTERM the process group (a server's master and workers), SIGKILL if it lingers
    after `grace` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_until_up(
    what: str,
    ready: Callable[[], bool],
    process: subprocess.Popen[Any],
    log: Path | None = None,
    *,
    interval: float = 0.2,
    errors: tuple[type[BaseException], ...] = (OSError,),
) -> None:
    """Call `ready` until it is true (`errors` count as not yet), for 60 s at the most;
    fail at once if the process exits."""
    see = f"; see {log}" if log else ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}{see}")
        with contextlib.suppress(*errors):
            if ready():
                return
        time.sleep(interval)
    raise RuntimeError(f"{what} was not up within 60 s{see}")


# --- CPU time --------------------------------------------------------------------------


def _processes() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, process group, user + system CPU ticks), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # the fields after "(comm)"
        found[int(entry.name)] = (int(fields[1]), int(fields[2]), int(fields[11]) + int(fields[12]))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants."""
    processes = _processes()
    tree = {pid}
    for _ in range(3):  # master -> workers -> their children
        tree |= {child for child, (parent, _group, _cpu) in processes.items() if parent in tree}
    ticks = sum(processes[member][2] for member in tree if member in processes)
    return ticks / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process in process group `pgid`."""
    ticks = sum(cpu for _parent, group, cpu in _processes().values() if group == pgid)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


# --- wrk -------------------------------------------------------------------------------


def add_wrk_arguments(parser: argparse.ArgumentParser, per: str) -> None:
    """wrk's options, as `run_wrk` reads them; `per` says what one run measures."""
    parser.add_argument("--duration", default="10s", help=f"wrk -d per {per} (default 10s)")
    parser.add_argument("--warmup", default="2s", help="wrk run before measuring (default 2s)")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t (default 2)")
    parser.add_argument("--timeout", default="10s", help="wrk --timeout (default 10s)")


def wrk_settings(args: argparse.Namespace) -> str:
    """The wrk options of a run, for the line under its table."""
    return (
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration} --latency "
        f"--timeout={args.timeout}, warm-up {args.warmup}"
    )


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


def wrk(url: str, duration: str, args: argparse.Namespace, headers: Sequence[str] = ()) -> str:
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}"]
    command += ["--latency", f"--timeout={args.timeout}"]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return done.stdout


def run_wrk(
    setup: str,
    path: str,
    url: str,
    pid: int,
    args: argparse.Namespace,
    headers: Sequence[str] = (),
    *,
    warm: bool = True,
) -> WrkResult:
    """A warm-up (with `warm`), then one measured wrk run against `url`, with the CPU time
    of server `pid` (and its children) per request and the machine's busy share."""
    if warm:
        wrk(url, args.warmup, args, headers)
    cpu_before, (busy_before, all_before) = tree_cpu_seconds(pid), machine_cpu()
    output = wrk(url, args.duration, args, headers)
    cpu_after, (busy_after, all_after) = tree_cpu_seconds(pid), machine_cpu()
    result = parse_wrk(output, setup, path)
    result.server_cpu_ms = (cpu_after - cpu_before) * 1000 / max(result.requests, 1)
    result.machine_busy = (busy_after - busy_before) / max(all_after - all_before, 1)
    return result


def require_tools(tools: dict[str, str]) -> None:
    """Exit unless each tool is on PATH; `tools` maps a tool to its Debian package."""
    for tool, package in tools.items():
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install -y {package})")
