"""Shipway on more than one machine, on one: two web processes and two Celery workers as
separate processes, sharing only PostgreSQL, Redis and S3 (moto in server mode). The
second worker runs in a network namespace of its own, with a Docker engine of its own
there, and reaches all three only over a veth link, as a worker on another box would.

Builds spread across both workers; a site built by one worker is served by the web
process that never saw it; killing a worker mid-build loses nothing (the reaper fails
the build, the worker started again clears what the build left on its engine, and the
next build of the site runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import docker
import pytest
import requests
from django.conf import settings as django_settings

from accounts import services as account_services
from builds import reaper
from core import serving
from core.embedded import free_port
from core.management.commands.runplatform import celery_worker_command
from deployments.errors import ErrorCode
from deployments.models import Deployment, Status
from tests.archives import tar_gz
from tests.e2e.conftest import RUNTIME_IMAGE, stop_worker
from tests.e2e.helpers import wait_for, wait_until
from tests.factories import make_site, make_team
from tests.netns import Engine, Namespace
from tests.s3 import CREDENTIALS, REGION, S3Bucket, moto_s3, s3_storage  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

STALE_AFTER = 6  # seconds without a heartbeat before the reaper calls a build dead


@dataclass
class Machines:
    webs: list[str]  # base URLs of the two web processes
    workers: dict[str, subprocess.Popen]  # celery worker name -> its process
    engines: dict[str, docker.DockerClient]  # celery worker name -> its Docker engine
    restart: dict[str, Callable[[], subprocess.Popen]]
    bucket: S3Bucket


def _port_of(url: str, default: int) -> int:
    return urlsplit(url).port or default


def _environment(
    base: dict[str, str], bucket: S3Bucket, database: int, redis: int, s3: int, host: str
) -> dict[str, str]:
    """What a process on another machine is given: the shared services' addresses."""
    db = django_settings.DATABASES["default"]
    redis_db = urlsplit(django_settings.REDIS_URL).path or "/0"
    return {
        **base,
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{database}/{db['NAME']}",
        "REDIS_URL": f"redis://{host}:{redis}{redis_db}",
        "SHIPWAY_STORAGE": "s3",
        "SHIPWAY_S3_BUCKET": bucket.name,
        "SHIPWAY_S3_ENDPOINT_URL": f"http://{host}:{s3}",
        "SHIPWAY_S3_REGION": REGION,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "SHIPWAY_BUILD_STALE_AFTER": str(STALE_AFTER),
        "DATABASE_CONN_MAX_AGE": "0",
    }


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as output:
        return subprocess.Popen(
            argv, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.fixture
def machines(live_database_env, s3_storage, moto_s3, settings, tmp_path) -> Iterator[Machines]:  # noqa: F811
    settings.SHIPWAY_BUILD_STALE_AFTER = STALE_AFTER
    settings.SITES_DOMAIN = "sites.localhost"
    database = int(django_settings.DATABASES["default"].get("PORT") or 5432)
    redis = _port_of(django_settings.REDIS_URL, 6379)
    here = _environment(live_database_env, s3_storage, database, redis, moto_s3.port, "127.0.0.1")
    here.pop("SHIPWAY_STORAGE_ROOT", None)  # nothing on a disk the other machine lacks
    network = Namespace().open()
    engine = Engine(network, Path(f"/tmp/shipway-e{os.getpid()}"))  # short: socket paths
    processes: list[subprocess.Popen] = []
    try:
        engine.start([RUNTIME_IMAGE])
        there = _environment(
            here,
            s3_storage,
            network.relay(database),
            network.relay(redis),
            network.relay(moto_s3.port),
            network.host_address,
        )
        there["DOCKER_HOST"] = engine.host
        queues = ",".join(
            here[f"SHIPWAY_{name}_QUEUE"] for name in ("BUILD", "SERVER", "NOTIFY", "MAINTENANCE")
        )
        workers, restart = {}, {}
        for name, env, wrap in (
            ("alpha", here, list),
            ("beta", there, network.command),
        ):
            argv = wrap(
                [*celery_worker_command(queues, 1, name), "--without-gossip", "--without-mingle"]
            )

            def start(name=name, argv=argv, env=env) -> subprocess.Popen:  # type: ignore[no-untyped-def]
                workers[name] = _start(argv, env, tmp_path / f"worker-{name}.log")
                processes.append(workers[name])
                return workers[name]

            restart[name] = start
            start()
        for name in workers:  # both take builds before the first is queued
            log = tmp_path / f"worker-{name}.log"
            wait_until(lambda log=log: b" ready." in log.read_bytes(), f"{name} to start", 60)
        webs = []
        for index in range(2):
            port = free_port()
            web_env = {
                **here,
                "SITES_DOMAIN": "sites.localhost",
                "SITES_URL_TEMPLATE": f"http://{{host}}:{port}",
                "SHIPWAY_PUBLIC_URL": f"http://127.0.0.1:{port}",
            }
            argv = serving.web_server_command("granian", host="127.0.0.1", port=port, workers=1)
            processes.append(_start(argv, web_env, tmp_path / f"web-{index}.log"))
            webs.append(f"http://127.0.0.1:{port}")
        for web in webs:
            wait_until(
                lambda web=web: _answers(f"{web}/v1/sites/frameworks"), f"{web} to start", 60
            )
        engines = {"alpha": docker.from_env(), "beta": docker.DockerClient(base_url=engine.host)}
        yield Machines(webs, workers, engines, restart, s3_storage)
    finally:
        for process in processes:
            stop_worker(process)  # SIGTERM to its group, SIGKILL after 20 s
        engine.stop()
        network.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def _build_containers(engine: docker.DockerClient, deployment: Deployment) -> list:  # type: ignore[type-arg]
    label = f"shipway.deployment={deployment.id}"
    return engine.containers.list(all=True, sparse=True, filters={"label": label})


def _upload(web: str, key: str, site_id: str, files: dict[str, str]) -> Deployment:
    response = requests.post(
        f"{web}/v1/sites/{site_id}/deployments",
        headers={"Authorization": f"Bearer {key}"},
        files={"code": ("site.tar.gz", tar_gz(files), "application/gzip")},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return Deployment.objects.get(pk=response.json()["id"])


def _build(command: str) -> dict[str, str]:
    return {"framework": "other", "install_command": "", "output_directory": "out",
            "build_command": f"{command} && mkdir -p out && cp index.html out/"}  # fmt: skip


def test_builds_spread_are_served_anywhere_and_a_killed_worker_loses_nothing(
    machines: Machines, owner
) -> None:
    team = make_team(owner)
    team.build_limit = 4
    team.save(update_fields=["build_limit"])
    _, key = account_services.api_key_create(user=owner, name="machines")
    sites = [make_site(team, **_build("sleep 2")) for _ in range(4)]
    first, second = machines.webs
    # Every upload goes through the first web process.
    deployments = [
        _upload(first, key, site.id, {"index.html": f"<h1>site {n}</h1>"})
        for n, site in enumerate(sites)
    ]
    built = [wait_for(deployment) for deployment in deployments]
    assert [d.status for d in built] == [Status.READY] * 4, [
        (d.error_code, d.worker) for d in built
    ]
    by = {d.worker.partition("@")[0] for d in built}
    assert by == {"alpha", "beta"}, f"all built by {by}"

    # The second web process never saw these uploads: it reads the sites' files from S3.
    for n, deployment in enumerate(built):
        page = requests.get(f"{second}/", headers={"Host": deployment.site.hostname}, timeout=10)
        assert page.status_code == 200, (deployment.worker, page.status_code)
        assert page.text.strip() == f"<h1>site {n}</h1>"
    keys = machines.bucket.keys()
    for deployment in built:
        assert f"{deployment.storage_prefix}/manifest.json" in keys

    # A worker killed mid-build on the second machine: the reaper (here, on the first)
    # fails its build once the heartbeats stop, but cannot reach that machine's engine;
    # the worker started again there clears what the build left. The first machine's
    # worker stops first, so that the second takes the build.
    stop_worker(machines.workers["alpha"])
    slow = make_site(team, **_build("sleep 300"))
    victim = _upload(second, key, slow.id, {"index.html": "<h1>never</h1>"})
    victim = wait_for(victim, statuses={Status.BUILDING}, timeout=120)
    assert victim.worker.startswith("beta@"), victim.worker
    os.killpg(machines.workers["beta"].pid, signal.SIGKILL)
    machines.workers["beta"].wait()
    engine = machines.engines["beta"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reaper.reap()
        victim.refresh_from_db()
        if victim.status == Status.FAILED:
            break
        time.sleep(1)
    assert victim.status == Status.FAILED, victim.status
    assert victim.error_code == ErrorCode.INTERNAL
    assert _build_containers(engine, victim), "the dead build's container runs on"
    machines.restart["beta"]()
    wait_until(lambda: not _build_containers(engine, victim), "the dead build's container to go")

    slow.build_command = "mkdir -p out && cp index.html out/"
    slow.save(update_fields=["build_command"])
    again = wait_for(_upload(first, key, slow.id, {"index.html": "<h1>again</h1>"}))
    assert again.status == Status.READY
    assert again.worker.startswith("beta@")  # the one started again
