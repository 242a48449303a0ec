"""A server that cannot start, one that crashes, one left idle, and the switch from one
deployment's server to the next."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import timedelta

import docker
import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from deployments import servers, services
from deployments.artifacts import artifacts, server_archive_path
from deployments.models import RuntimeState, Server
from deployments.selectors import server_log_from
from deployments.servers import START_TASK
from deployments.services import RETIRE_SERVER_TASK
from runtime import manager
from runtime.schedulers import get_scheduler
from sites import services as site_services
from sites.models import Site
from tests.factories import eager_builds
from tests.runtime.conftest import EXITS_JS, SILENT_JS, get, server_of, started

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def _containers_of(deployment_id: str) -> list:  # type: ignore[type-arg]
    labels = [f"shipway.deployment={deployment_id}", "shipway.role=server"]
    # Sparse: no inspect of each (one removed meanwhile would fail the listing).
    return docker.from_env().containers.list(all=True, sparse=True, filters={"label": labels})


def _wait(condition, what: str, limit: float = 20) -> None:  # type: ignore[no-untyped-def]
    # A bound on a hang, not a timing assertion: the condition is what is tested.
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def test_a_server_that_exits_on_start_fails_with_its_reason_and_last_lines(make_ssr):
    deployment = make_ssr(script=EXITS_JS)
    assert manager.start_server(deployment.id) == "failed"
    server = server_of(deployment)
    assert server.state == RuntimeState.FAILED
    assert server.error == (
        "The server exited with code 1 before it answered: Error: DATABASE_HOST is not set"
    )
    text = server_log_from(deployment)[1]
    assert "starting\n" in text and "DATABASE_HOST is not set" in text
    assert _containers_of(deployment.id) == []  # removed; its output kept
    deployment.refresh_from_db()
    assert deployment.status == "ready"


def test_a_server_that_never_answers_fails_after_the_start_timeout(make_ssr, settings):
    settings.SHIPWAY_SSR_START_TIMEOUT = 2
    deployment = make_ssr(script=SILENT_JS)
    assert manager.start_server(deployment.id) == "failed"
    assert server_of(deployment).error == "The server did not answer on port 3000 within 2 s."
    assert _containers_of(deployment.id) == []


def test_a_crash_while_running_fails_the_server_with_its_exit_code(make_ssr):
    deployment = make_ssr()
    started(deployment)
    assert get(deployment, "/crash") == "bye"
    _wait(lambda: server_of(deployment).state == RuntimeState.FAILED, "the crash to be seen")
    assert server_of(deployment).error == (
        "The server exited with code 3 while it ran: crashing on purpose"
    )
    assert "crashing on purpose" in server_log_from(deployment)[1]
    _wait(lambda: _containers_of(deployment.id) == [], "its container to go")


def test_an_idle_server_stops_and_a_visited_one_stays(make_ssr, settings):
    idle, visited = make_ssr(), make_ssr()
    started(idle)
    started(visited)
    settings.SHIPWAY_SSR_IDLE_SECONDS = 60
    now = time.time()
    long_ago = timezone.now() - timedelta(seconds=600)
    Server.objects.filter(pk__in=[idle.pk, visited.pk]).update(started_at=long_ago)
    servers.record_seen({idle.id: now - 120, visited.id: now - 5})
    assert manager.stop_idle() == 1
    assert server_of(idle).state == RuntimeState.STOPPED
    assert server_of(idle).last_request_at is not None
    assert abs(server_of(idle).last_request_at.timestamp() - (now - 120)) < 1
    assert server_of(visited).state == RuntimeState.RUNNING
    assert _containers_of(idle.id) == []
    assert get(visited).startswith("hello")


def test_reconcile_fails_a_row_whose_container_is_gone_and_removes_strays(make_ssr):
    gone, stray = make_ssr(), make_ssr()
    started(gone)
    started(stray)
    # As after a worker died: the row names a container that is not there (and the real
    # one is nobody's), and a row says stopped while its container runs.
    Server.objects.filter(pk=gone.pk).update(handle="f" * 64)
    Server.objects.filter(pk=stray.pk).update(state=RuntimeState.STOPPED)
    counts = manager.reconcile()
    assert counts["failed"] == 1 and counts["removed"] >= 2
    assert server_of(gone).state == RuntimeState.FAILED
    assert server_of(gone).error.startswith("The server's container disappeared while it ran")
    assert _containers_of(gone.id) == [] and _containers_of(stray.id) == []


def test_the_switch_keeps_the_old_server_live_until_the_new_one_is_healthy(make_ssr, settings):
    first = make_ssr()
    site = first.site
    services.deployment_activate(deployment=first)
    started(first)
    assert Site.objects.get(pk=site.pk).live_server_id == first.id

    second = make_ssr(site=site)
    services.deployment_activate(deployment=second)
    site.refresh_from_db()
    assert site.deployment_id == second.id
    assert site.live_server_id == first.id  # B is not healthy yet: A keeps the traffic
    assert get(first).startswith("hello")
    assert _queued(START_TASK, second.id)  # B's server was asked for

    started(second)
    site.refresh_from_db()
    assert site.live_server_id == second.id
    assert get(second) == f"hello from {second.id}"
    retire = _queued(RETIRE_SERVER_TASK, first.id)
    assert retire and retire["headers"]["eta"]  # A stops after the grace period
    assert server_of(first).state == RuntimeState.RUNNING
    assert manager.retire_server(first.id)  # what the task does then
    assert server_of(first).state == RuntimeState.STOPPED


def _queued(task: str, deployment_id: str) -> dict | None:  # type: ignore[type-arg]
    """The task's message for this deployment in this session's servers queue (no worker
    takes it in these tests)."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    for raw in client.lrange(django_settings.SHIPWAY_SERVER_QUEUE, 0, -1):
        message = json.loads(raw)
        headers = message.get("headers", {})
        if headers.get("task") == task and deployment_id in headers.get("argsrepr", ""):
            return message  # type: ignore[no-any-return]
    return None


def test_a_replaced_server_live_again_is_not_retired(make_ssr):
    first = make_ssr()
    site = first.site
    services.deployment_activate(deployment=first)
    started(first)
    second = make_ssr(site=site)
    services.deployment_activate(deployment=second)
    services.deployment_activate(deployment=first)  # rolled back before B ever ran
    assert manager.retire_server(first.id) is False
    assert server_of(first).state == RuntimeState.RUNNING


def test_a_warm_rollback_switches_at_once_and_static_clears_the_live_server(make_ssr):
    first = make_ssr()
    site = first.site
    services.deployment_activate(deployment=first)
    started(first)
    second = make_ssr(site=site)
    services.deployment_activate(deployment=second)
    started(second)
    services.deployment_activate(deployment=first)  # its server still runs (grace)
    site.refresh_from_db()
    assert site.live_server_id == first.id

    second.adapter = "static"
    second.save(update_fields=["adapter"])
    services.deployment_activate(deployment=second)
    site.refresh_from_db()
    assert site.live_server_id is None


def test_deleting_a_deployment_removes_its_server_and_files(make_ssr):
    deployment = make_ssr()
    started(deployment)
    with eager_builds():  # the removal task runs here, at once
        services.deployment_delete(deployment=deployment)
    assert _containers_of(deployment.id) == []
    client = docker.from_env()
    assert not client.volumes.list(filters={"name": f"shipway-server-{deployment.id}"})


def test_the_platform_answers_a_request_through_the_address_only_while_running(make_ssr):
    deployment = make_ssr()
    address = started(deployment).address
    manager.stop_server(deployment.id)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{address}/", timeout=2)


def test_deleting_a_site_removes_its_servers(make_ssr):
    deployment = make_ssr()
    started(deployment)
    with eager_builds():
        site_services.site_delete(site=deployment.site)
    assert _containers_of(deployment.id) == []


def test_reconcile_follows_a_server_whose_follower_died_with_its_worker(make_ssr):
    deployment = make_ssr()
    spec, _secrets = manager.server_spec(deployment)
    bundle = server_archive_path(deployment.storage_prefix)
    scheduler = get_scheduler()
    # Started as by a worker that died afterwards: a running row, nobody following.
    run = scheduler.start(spec, lambda: artifacts().open(bundle, "rb"))
    services.server_running(deployment.id, handle=run.handle, address=run.address)
    _wait(lambda: _answers(run.address), "the server to listen")
    assert manager.reconcile()["followed"] == 1
    assert manager.reconcile()["followed"] == 0  # followed once, not twice
    assert get(deployment, "/say?text=followed%20again") == "said"
    _wait(lambda: "followed again" in server_log_from(deployment)[1], "the line to be kept")
    assert server_log_from(deployment)[1].count("listening on 3000") == 1


def _answers(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/", timeout=2):
            return True
    except OSError:
        return False
