"""Through a real Celery worker: activating an ssr deployment asks for its server (by
name, deployments.servers.START_TASK), a worker starts it and it takes the traffic."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import redis
from django.conf import settings as django_settings

from core.management.commands.runplatform import celery_worker_command
from deployments import services
from deployments.models import RuntimeState
from sites.models import Site
from tests.e2e.conftest import live_database_env  # noqa: F401  (a fixture)
from tests.runtime.conftest import get, get_json, server_of

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def default_worker(live_database_env, tmp_path):  # noqa: F811  # type: ignore[no-untyped-def]
    """A worker on the default queue (where server tasks go), emptied of older tests'."""
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete("default")
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 (the process owns it)
    process = subprocess.Popen(
        [*celery_worker_command("default", 1), "--without-gossip", "--without-mingle"],
        env=live_database_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield tmp_path / "worker.log"
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_activation_starts_the_server_in_a_worker_and_moves_the_traffic(make_ssr, default_worker):
    deployment = make_ssr(activate=True)
    services.deployment_activate(deployment=deployment)
    deadline = time.monotonic() + 60  # a bound on a hang (the worker's start included)
    while Site.objects.get(pk=deployment.site_id).live_server_id != deployment.id:
        assert time.monotonic() < deadline, default_worker.read_text()[-3000:]
        time.sleep(0.1)
    assert server_of(deployment).state == RuntimeState.RUNNING
    assert get(deployment) == f"hello from {deployment.id}"
    assert get_json(deployment, "/env")["env"]["SHIPWAY_ENVIRONMENT"] == "production"
