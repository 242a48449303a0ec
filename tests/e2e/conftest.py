"""End-to-end fixtures: a real Docker engine, the runtime image, a real Celery worker
process building against the test database, and a user with an API client."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from core.management.commands.runplatform import celery_worker_command
from tests.factories import api_client, make_user
from tests.live import test_database_url

RUNTIME_IMAGE = "shipway/runtime:node-22"


def _docker_problem() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:
        return f"no Docker engine answers ({exc.__class__.__name__}: {exc})"
    try:
        client.images.get(RUNTIME_IMAGE)
    except Exception:
        return f"the runtime image {RUNTIME_IMAGE} is missing (make runtimes)"
    return None


@pytest.fixture(scope="session")
def docker_ready() -> None:
    """Skip without Docker, except under CI=true where these tests must run."""
    problem = _docker_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {problem}")
        pytest.skip(problem)


@pytest.fixture
def live_database_env(transactional_db, settings, docker_ready) -> dict[str, str]:
    """Environment for processes that must see this test's committed rows and files."""
    # A queue of this session's own: another test run's worker never takes its builds.
    queue = f"builds-test-{os.getpid()}"
    settings.SHIPWAY_BUILD_QUEUE = queue
    settings.SHIPWAY_SERVER_QUEUE = f"servers-test-{os.getpid()}"
    settings.SHIPWAY_NOTIFY_QUEUE = f"notify-test-{os.getpid()}"
    settings.SHIPWAY_MAINTENANCE_QUEUE = f"maintenance-test-{os.getpid()}"
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "SHIPWAY_STORAGE_ROOT": str(settings.MEDIA_ROOT),
        "SHIPWAY_BUILD_RUNNER": "docker",
        "SHIPWAY_BUILD_QUEUE": queue,
        "SHIPWAY_SERVER_QUEUE": settings.SHIPWAY_SERVER_QUEUE,
        "SHIPWAY_NOTIFY_QUEUE": settings.SHIPWAY_NOTIFY_QUEUE,
        "SHIPWAY_MAINTENANCE_QUEUE": settings.SHIPWAY_MAINTENANCE_QUEUE,
        "LOG_FORMAT": "console",
    }


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def client(owner):
    """An API client of `owner` (in these tests, not Django's test client)."""
    return api_client(owner)


@pytest.fixture
def worker(live_database_env, tmp_path):
    """A real `celery worker` process (Redis broker, the test database), stopped after."""
    process = start_worker(live_database_env, tmp_path)
    yield process
    stop_worker(process)
    remove_servers()


def remove_servers() -> None:
    """Remove the ssr servers and their volumes this test's installation left (no sweeper
    of a later test's installation would: each flush makes a new one)."""
    import docker

    from builds.models import installation_id

    client = docker.from_env()
    mine = {"label": [f"shipway.installation={installation_id()}"]}
    for container in client.containers.list(all=True, sparse=True, filters=mine):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)
    for volume in client.volumes.list(filters=mine):
        if volume.name.startswith("shipway-server-"):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                volume.remove(force=True)


def start_worker(env: dict[str, str], tmp_path: Path) -> subprocess.Popen:
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 (the process owns it)
    process = subprocess.Popen(
        [
            *celery_worker_command(
                ",".join(
                    env[f"SHIPWAY_{name}_QUEUE"]
                    for name in ("BUILD", "SERVER", "NOTIFY", "MAINTENANCE")
                ),
                2,
            ),
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(1.5)
    return process


def stop_worker(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
