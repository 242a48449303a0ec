"""Benchmark the build line: 50 builds across 10 sites and 2 teams on 2 workers.

    .venv/bin/python -m bench.concurrency                  # 50 builds, 5 per site
    .venv/bin/python -m bench.concurrency --per-site 2     # 20 builds

One run (re)creates the `shipway_bench_concurrency` database, flushes Redis database 13,
migrates, and makes a user with two teams: "wide" (build limit 2) and "narrow" (build
limit 1), five sites each (framework "other", `sleep 1 && mkdir -p out && cp index.html
out/`: a container runs for a second or so). It starts TWO real Celery workers (prefork,
concurrency 1 each, separate processes) and then queues every build at once through the
services (as the API's upload does), the sites' builds interleaved.

While they run, a sampler reads every 20 ms which deployments are `processing` or
`building`, and keeps the most seen at once per site and per team: the limits held
when no site ever had two and no team more than its limit. Each build's work is the time
it was seen processing or building; the report sets the total time next to
(total work / workers), and next to the bound the limits allow (the narrow team's work
runs one at a time). The reference, in the same invocation: the same 50 commands as bare
`docker run --rm`, two at a time, on the same image.

Cleanup, also on error or Ctrl-C: workers stopped, containers removed by label, the
database dropped, Redis database 13 flushed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also as a script

import argparse
import contextlib
import io
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench import harness
from bench.builds import IMAGE, LIMITS, remove_docker_objects, tar_gz

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shipway_bench_concurrency"
REDIS_URL = "redis://127.0.0.1:6379/13"
WORKERS = 2
BUILD_COMMAND = "sleep 1 && mkdir -p out && cp index.html out/"
TEAMS = {"wide": 2, "narrow": 1}  # team -> build limit
SITES_PER_TEAM = 5
RUNNING = ("processing", "building")
FINAL = ("ready", "failed", "canceled")


@dataclass
class Observed:
    """What the sampler saw: the most running at once, and when each build ran."""

    most_per_site: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    most_per_team: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    most_at_once: int = 0
    started: dict[str, float] = field(default_factory=dict)
    ended: dict[str, float] = field(default_factory=dict)
    site_of: dict[str, str] = field(default_factory=dict)
    samples: int = 0


def sample(ids: set[str], team_of_site: dict[str, str], done: threading.Event) -> Observed:
    from deployments.models import Deployment

    seen = Observed()
    while not done.is_set():
        now = time.monotonic()
        rows = list(Deployment.objects.filter(pk__in=ids).values_list("pk", "site_id", "status"))
        per_site: dict[str, int] = defaultdict(int)
        per_team: dict[str, int] = defaultdict(int)
        for pk, site_id, status in rows:
            seen.site_of[pk] = site_id
            if status in RUNNING:
                seen.started.setdefault(pk, now)
                per_site[site_id] += 1
                per_team[team_of_site[site_id]] += 1
            elif status in FINAL and pk not in seen.ended:
                seen.started.setdefault(pk, now)
                seen.ended[pk] = now
        for site_id, count in per_site.items():
            seen.most_per_site[site_id] = max(seen.most_per_site[site_id], count)
        for team, count in per_team.items():
            seen.most_per_team[team] = max(seen.most_per_team[team], count)
        seen.most_at_once = max(seen.most_at_once, sum(per_site.values()))
        seen.samples += 1
        if len(seen.ended) == len(ids):
            break
        time.sleep(0.02)
    from django.db import connection

    connection.close()  # this thread's
    return seen


def docker_run_reference(builds: int, label: str) -> float:
    """The same command in the same image with the same limits, `WORKERS` at a time."""
    src = Path(tempfile.mkdtemp(prefix="shipway-bench-concurrency-"))
    (src / "index.html").write_text("<h1>reference</h1>")
    os.chmod(src, 0o777)

    def one(_: int) -> None:
        subprocess.run(
            ["docker", "run", "--rm", "--label", label, *LIMITS, "-v", f"{src}:/src",
             "-w", "/src", IMAGE, "sh", "-c", BUILD_COMMAND.replace("out", "/tmp/out")],
            check=True, capture_output=True,
        )  # fmt: skip

    start = time.monotonic()
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, range(builds)))
    finally:
        shutil.rmtree(src, ignore_errors=True)
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-site", type=int, default=5, help="builds queued per site")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="shipway-bench-concurrency-"))
    label = f"shipway.bench=concurrency-{os.getpid()}"
    print("load average at the start: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        cleanup.callback(harness.flush_redis, REDIS_URL)
        env = harness.bench_env(
            DATABASE_URL,
            REDIS_URL,
            isolated=True,
            SHIPWAY_STORAGE_ROOT=str(tmp / "storage"),
            SHIPWAY_VAR_DIR=str(tmp / "var"),
            SHIPWAY_BUILD_RUNNER="docker",
            LOG_FORMAT="json",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        harness.recreate_database(DATABASE_URL)
        cleanup.callback(harness.drop_database, DATABASE_URL)
        harness.flush_redis(REDIS_URL)
        os.environ.update(env, LOG_LEVEL="WARNING")  # this process: quiet
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from accounts.services import team_create
        from deployments.services import deployment_create_from_upload
        from sites.services import site_create

        call_command("migrate", verbosity=0, interactive=False)
        user = get_user_model().objects.create_user("bench", "bench@example.com")
        sites, team_of_site = [], {}
        for name, limit in TEAMS.items():
            team = team_create(user=user, name=name)
            team.build_limit = limit
            team.save(update_fields=["build_limit"])
            for n in range(SITES_PER_TEAM):
                site = site_create(
                    team=team,
                    name=f"{name} {n}",
                    framework="other",
                    install_command="",
                    build_command=BUILD_COMMAND,
                    output_directory="out",
                )
                sites.append(site)
                team_of_site[site.id] = name
        cleanup.callback(remove_docker_objects, [s.id for s in sites], label)

        for n in range(WORKERS):
            command = [
                sys.executable, "-m", "celery", "-A", "config", "worker", "-n", f"bench{n}@%h",
                "-Q", "builds,default", "--concurrency", "1", "--loglevel", "INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            log = tmp / f"worker-{n}.log"
            worker = cleanup.enter_context(harness.started(command, env, log))
            harness.wait_until_up(
                f"worker {n}", lambda log=log: b" ready." in log.read_bytes(), worker, log
            )

        archive = tar_gz({"index.html": "<h1>bench</h1>"})
        order = [site for _ in range(args.per_site) for site in sites]
        print(
            f"{len(order)} builds: {len(sites)} sites in {len(TEAMS)} teams "
            f"(limits {TEAMS}), {WORKERS} workers of concurrency 1; `{BUILD_COMMAND}`"
        )
        started = time.monotonic()
        ids = {
            deployment_create_from_upload(site=site, archive=io.BytesIO(archive), user=user).id
            for site in order
        }
        done = threading.Event()
        with ThreadPoolExecutor(1) as pool:
            watching = pool.submit(sample, ids, team_of_site, done)
            try:
                seen = watching.result(timeout=1800)
            finally:
                done.set()
        total = time.monotonic() - started

        from deployments.models import Deployment

        counts = Counter(Deployment.objects.filter(pk__in=ids).values_list("status", flat=True))
        work = {pk: seen.ended[pk] - seen.started[pk] for pk in ids}
        narrow_work = sum(w for pk, w in work.items() if team_of_site[seen.site_of[pk]] == "narrow")
        reference = docker_run_reference(len(order), label)

        print(f"final statuses: {dict(counts)} ({seen.samples} samples)")
        print(f"most builds of one site at once: {max(seen.most_per_site.values())} (limit 1)")
        for name, limit in TEAMS.items():
            print(
                f"most builds of team {name!r} at once: {seen.most_per_team[name]} (limit {limit})"
            )
        print(f"most builds at once: {seen.most_at_once} ({WORKERS} workers)")
        print(f"total time:                     {total:7.1f} s")
        shared = sum(work.values()) / WORKERS
        print(f"total build work / workers:     {shared:7.1f} s")
        print(f"bound with the narrow team's 1: {max(shared, narrow_work):7.1f} s")
        print(f"reference, {len(order)} bare `docker run` x{WORKERS}: {reference:7.1f} s")
        held = max(seen.most_per_site.values()) <= 1 and all(
            seen.most_per_team[name] <= limit for name, limit in TEAMS.items()
        )
        print("limits held" if held else "LIMITS BROKEN")
        return 0 if held and counts.get("ready") == len(order) else 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
