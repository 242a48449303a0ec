"""The API's view of a deployment's server: `runtime` on ssr deployments (null on static
ones), its log at `logs?type=runtime` with offsets and the bound, and the realtime
channel readers of the site may follow."""

from __future__ import annotations

import pytest

from deployments import services
from deployments.models import Deployment, Server, SourceType, Status
from realtime.consumers import _refusal
from tests.api_checks import PAGE, _same_count
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db


def _deployment(site, adapter: str = "ssr") -> Deployment:  # type: ignore[no-untyped-def]
    return Deployment.objects.create(
        site=site, status=Status.READY, source_type=SourceType.UPLOAD, adapter=adapter
    )


@pytest.fixture
def owner():  # type: ignore[no-untyped-def]
    return make_user()


@pytest.fixture
def site(owner):  # type: ignore[no-untyped-def]
    return make_site(make_team(owner), framework="other")


def _url(deployment: Deployment, suffix: str = "") -> str:
    return f"/v1/sites/{deployment.site_id}/deployments/{deployment.id}{suffix}"


def test_runtime_is_stopped_before_the_first_start_and_null_on_static(owner, site):
    ssr, static = _deployment(site), _deployment(site, "static")
    client = api_client(owner)
    assert client.get(_url(ssr)).json()["runtime"] == {
        "state": "stopped",
        "startedAt": None,
        "lastRequestAt": None,
        "error": None,
    }
    assert client.get(_url(static)).json()["runtime"] is None


def test_runtime_shows_the_state_and_the_reason_of_a_failure(owner, site):
    deployment = _deployment(site)
    services.server_running(deployment.id, handle="h", address="10.0.0.2:3000")
    running = api_client(owner).get(_url(deployment)).json()["runtime"]
    assert running["state"] == "running" and running["startedAt"] and running["error"] is None
    assert "address" not in running and "handle" not in running  # the platform's business
    services.server_failed(deployment.id, "The server exited with code 1 before it answered.")
    failed = api_client(owner).get(_url(deployment)).json()["runtime"]
    assert failed["state"] == "failed"
    assert failed["error"] == "The server exited with code 1 before it answered."


def test_the_runtime_log_reads_from_an_offset(owner, site):
    deployment = _deployment(site)
    services.log_append(deployment, "build output\n")
    services.server_log_append(deployment, "listening on 3000\n")
    services.server_log_append(deployment, "request GET /\n")
    client = api_client(owner)
    response = client.get(_url(deployment, "/logs?type=runtime"))
    assert response.status_code == 200
    assert response.content.decode() == "listening on 3000\nrequest GET /\n"
    assert response["X-Log-Size"] == str(len("listening on 3000\nrequest GET /\n"))
    tail = client.get(_url(deployment, "/logs?type=runtime&offset=20"))
    assert tail.content.decode() == "listening on 3000\nrequest GET /\n"[20:]
    assert client.get(_url(deployment, "/logs")).content.decode() == "build output\n"
    assert client.get(_url(deployment, "/logs?type=build")).content.decode() == "build output\n"


def test_a_bad_log_type_or_offset_is_refused(owner, site):
    deployment = _deployment(site)
    client = api_client(owner)
    bad_type = client.get(_url(deployment, "/logs?type=server"))
    assert bad_type.status_code == 400 and "type" in bad_type.content.decode()
    bad_offset = client.get(_url(deployment, "/logs?type=runtime&offset=-1"))
    assert bad_offset.status_code == 400


def test_the_runtime_log_keeps_its_newest_part_and_offsets_keep_counting(owner, site, settings):
    settings.SHIPWAY_RUNTIME_LOG_MAX_CHARS = 100
    deployment = _deployment(site)
    lines = [f"line {index:04d} of the server\n" for index in range(20)]
    for line in lines:
        services.server_log_append(deployment, line)
    whole = "".join(lines)
    kept = api_client(owner).get(_url(deployment, "/logs?type=runtime"))
    text = kept.content.decode()
    assert len(text) <= 100 and whole.endswith(text) and text.endswith(lines[-1])
    assert kept["X-Log-Size"] == str(len(whole))
    assert kept["X-Log-Offset"] == str(len(whole) - len(text))  # where the kept text begins
    assert Server.objects.get(pk=deployment.pk).log_size == len(whole)
    offset = len(whole) - len(lines[-1])
    last = api_client(owner).get(_url(deployment, f"/logs?type=runtime&offset={offset}"))
    assert last.content.decode() == lines[-1]
    services.server_log_append(deployment, "x" * 250)  # one read longer than the bound
    after = api_client(owner).get(_url(deployment, "/logs?type=runtime")).content.decode()
    assert after == "x" * 100
    assert Server.objects.get(pk=deployment.pk).log_size == len(whole) + 250


def test_readers_of_the_site_may_follow_the_runtime_log_channel(owner, site):
    deployment = _deployment(site)
    channel = f"sites.{site.id}.deployments.{deployment.id}.runtime-logs"
    assert _refusal(owner, channel) == ""
    assert _refusal(make_user(), channel) != ""


def test_the_deployment_list_costs_the_same_queries_with_servers(owner, site):
    first = _deployment(site)
    services.server_running(first.id, handle="h", address="10.0.0.2:3000")

    def add_199() -> None:
        for index in range(199):
            deployment = _deployment(site, "ssr" if index % 2 else "static")
            if index % 3 == 0:
                services.server_stopped(deployment.id)

    _same_count(api_client(owner), f"/v1/sites/{site.id}/deployments{PAGE}", "deployments", add_199)
