"""Through a real Celery worker: activating an ssr deployment asks for its server (by
name, deployments.servers.START_TASK, on the servers queue), a worker starts it and it
takes the traffic."""

from __future__ import annotations

import time

import pytest

from deployments import services
from deployments.models import RuntimeState
from sites.models import Site
from tests.e2e.conftest import live_database_env, worker  # noqa: F401  (fixtures)
from tests.runtime.conftest import get, get_json, server_of

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def test_activation_starts_the_server_in_a_worker_and_moves_the_traffic(make_ssr, worker, tmp_path):  # noqa: F811
    deployment = make_ssr(activate=True)
    services.deployment_activate(deployment=deployment)
    deadline = time.monotonic() + 60  # a bound on a hang (the worker's start included)
    while Site.objects.get(pk=deployment.site_id).live_server_id != deployment.id:
        assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.1)
    assert server_of(deployment).state == RuntimeState.RUNNING
    assert get(deployment) == f"hello from {deployment.id}"
    assert get_json(deployment, "/env")["env"]["SHIPWAY_ENVIRONMENT"] == "production"
