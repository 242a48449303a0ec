"""Server-rendered (ssr) deployments in the dashboard: the server's state and its
runtime log on the deployment page, the adapter and state in the deployments list, and
the selector that reads the bounded runtime log. The rows the runtime manager writes
(Server, ServerLogChunk) are made directly."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.views.deployments import LOG_TAIL
from deployments.models import Deployment, RuntimeState, Server, ServerLogChunk, Status
from deployments.selectors import server_log_from
from deployments.services import deployment_transition, log_append
from sites.models import Site
from tests.dashboard.conftest import World, build_world, waiting_deployment

pytestmark = pytest.mark.django_db

STARTED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
LAST_REQUEST = datetime(2026, 3, 4, 5, 16, 27, tzinfo=UTC)


def ssr_ready(site: Site, deployment: Deployment | None = None) -> Deployment:
    """A ready deployment the build resolved to the ssr adapter (the build side sets
    `adapter`; here it is set directly before the state machine makes it ready)."""
    deployment = deployment or waiting_deployment(site)
    Deployment.objects.filter(pk=deployment.pk).update(adapter="ssr")
    for status in (Status.PROCESSING, Status.BUILDING, Status.READY):
        deployment_transition(deployment.id, status)
    deployment.refresh_from_db()
    return deployment


def write_server_log(deployment: Deployment, pieces: list[str], first: int = 0) -> int:
    """The server's output as the runtime manager keeps it: chunks from offset `first`
    (older ones dropped when first > 0); the offset after the last one."""
    offset = first
    for text in pieces:
        ServerLogChunk.objects.create(deployment=deployment, offset=offset, text=text)
        offset += len(text)
    Server.objects.filter(deployment=deployment).update(log_size=offset)
    return offset


def page_of(world: World, deployment: Deployment, who: str = "viewer") -> str:
    response = world.client(who).get(f"/sites/site-a/deployments/{deployment.id}/")
    assert response.status_code == 200
    return response.content.decode()


def pre_of(html: str, kind: str) -> str:
    """The opening tag of the page's <pre data-log="kind">."""
    match = re.search(rf'<pre [^>]*data-log="{kind}"[^>]*>', html)
    assert match, f"no {kind} log on the page"
    return match[0]


def feed_channels(html: str) -> list[str]:
    found = re.search(r'<script id="realtime-channels" type="application/json">(.*?)<', html)
    assert found
    return json.loads(found[1])


# -- the selector --------------------------------------------------------------------


def test_the_runtime_log_is_read_from_an_offset_and_says_where_its_kept_part_begins() -> None:
    world = build_world()
    deployment = ssr_ready(world.site, world.deployment)
    assert server_log_from(deployment, 0) == (0, "")  # nothing printed yet
    assert server_log_from(deployment, 7) == (7, "")
    Server.objects.create(deployment=deployment)
    # Offsets 0-99 were dropped (the log is bounded); kept: 100 "abc", 103 "défg".
    write_server_log(deployment, ["abc", "défg"], first=100)
    assert server_log_from(deployment, 0) == (100, "abcdéfg")
    assert server_log_from(deployment, 100) == (100, "abcdéfg")
    assert server_log_from(deployment, 101) == (101, "bcdéfg")
    assert server_log_from(deployment, 104) == (104, "éfg")  # characters, not bytes
    assert server_log_from(deployment, 107) == (107, "")
    assert server_log_from(deployment, 500) == (500, "")
    assert server_log_from(deployment, 102)[1] == "cdéfg"
    assert server_log_from(deployment)[1] == "abcdéfg"
    other = waiting_deployment(world.site)  # another deployment's output is not this one's
    assert server_log_from(other, 0) == (0, "")


# -- the deployment page -------------------------------------------------------------


def test_the_page_of_an_ssr_deployment_shows_its_running_server_and_runtime_log() -> None:
    world = build_world()
    deployment = ssr_ready(world.site, world.deployment)
    log_append(deployment, "Packaged the server\n")
    Server.objects.create(
        deployment=deployment,
        state=RuntimeState.RUNNING,
        address="10.0.0.5:3000",
        started_at=STARTED,
        last_request_at=LAST_REQUEST,
        error="an old reason that no longer applies",
    )
    end = write_server_log(deployment, ["\x1b[32mready\x1b[39m on :3000\n", "GET / <200>\n"])
    html = page_of(world, deployment)

    assert '<span class="badge badge-running" data-runtime-badge' in html
    assert ">Running</span>" in html
    assert "2026-03-04 05:06:07 UTC" in html and "2026-03-04 05:16:27 UTC" in html
    assert "an old reason" not in html  # the error shows only while it is failed
    assert "10.0.0.5" not in html  # where it runs is the platform's business
    assert '<span class="badge badge-adapter">SSR</span>' in html

    assert "Runtime log" in html and "Build log" in html
    runtime = pre_of(html, "runtime")
    assert f'data-log-end="{end}"' in runtime
    assert f'data-log-url="/v1/sites/site-a/deployments/{deployment.id}/logs?type=runtime"' in (
        runtime
    )
    channel = f"sites.site-a.deployments.{deployment.id}.runtime-logs"
    assert f'data-log-channel="{channel}"' in runtime
    assert '<span class="ansi-32">ready</span> on :3000' in html
    assert "GET / &lt;200&gt;" in html  # escaped
    assert "Showing the end of the server" not in html

    build = pre_of(html, "build")
    assert f'data-log-url="/v1/sites/site-a/deployments/{deployment.id}/logs"' in build
    assert f'data-log-channel="sites.site-a.deployments.{deployment.id}.logs"' in build
    assert feed_channels(html) == [
        f"sites.site-a.deployments.{deployment.id}.logs",
        f"sites.site-a.deployments.{deployment.id}",
        channel,
    ]


def test_a_server_that_could_not_start_says_why() -> None:
    world = build_world()
    deployment = ssr_ready(world.site, world.deployment)
    reason = "The server exited with code 1 before it answered on its port."
    Server.objects.create(deployment=deployment, state=RuntimeState.FAILED, error=reason)
    html = page_of(world, deployment)
    assert '<span class="badge badge-failed" data-runtime-badge' in html
    error = re.search(r'<span class="runtime-error"[^>]*>([^<]*)</span>', html)
    assert error and error[1] == reason and "hidden" not in error[0]
    assert '<span class="badge badge-ready" data-status-badge' in html  # still ready


def test_a_server_that_never_started_is_stopped_and_has_printed_nothing() -> None:
    world = build_world()
    deployment = ssr_ready(world.site, world.deployment)  # no Server row yet
    html = page_of(world, deployment)
    assert '<span class="badge badge-stopped" data-runtime-badge' in html
    assert 'data-log-end="0"' in pre_of(html, "runtime")
    assert "The server has printed nothing yet." in html
    assert re.search(r'<span class="runtime-error"[^>]* hidden>\s*</span>', html)


def test_a_bounded_runtime_log_shows_its_kept_end_from_where_it_begins() -> None:
    world = build_world()
    deployment = ssr_ready(world.site, world.deployment)
    Server.objects.create(deployment=deployment, state=RuntimeState.RUNNING)
    # The manager dropped the first 5000 characters; what is kept starts there.
    end = write_server_log(deployment, ["kept line\n", "last line\n"], first=5000)
    html = page_of(world, deployment)
    assert "kept line" in html and "last line" in html
    assert f'data-log-end="{end}"' in pre_of(html, "runtime")
    assert "Showing the end of the server\u2019s output" in html
    assert "Showing the end of a long log" not in html  # the build log is whole


def test_a_long_runtime_log_shows_only_its_end() -> None:
    world = build_world()
    deployment = ssr_ready(world.site, world.deployment)
    Server.objects.create(deployment=deployment, state=RuntimeState.RUNNING)
    end = write_server_log(deployment, ["first line\n", "y" * LOG_TAIL, "\nlast line\n"])
    html = page_of(world, deployment)
    assert "last line" in html and "first line" not in html
    assert f'data-log-end="{end}"' in pre_of(html, "runtime")
    assert "Showing the end of the server\u2019s output" in html


def test_a_static_deployment_has_no_server_and_no_runtime_log() -> None:
    world = build_world()
    deployment = world.deployment
    for status in (Status.PROCESSING, Status.BUILDING, Status.READY):
        deployment_transition(deployment.id, status)
    Deployment.objects.filter(pk=deployment.pk).update(adapter="static")
    html = page_of(world, deployment)
    assert "data-runtime-badge" not in html and "Runtime log" not in html
    assert 'data-log="runtime"' not in html
    assert not any(c.endswith(".runtime-logs") for c in feed_channels(html))


# -- the deployments list ------------------------------------------------------------


def test_the_list_shows_the_adapter_and_server_state_of_ssr_deployments() -> None:
    world = build_world()
    running = ssr_ready(world.site)
    Server.objects.create(deployment=running, state=RuntimeState.RUNNING)
    stopped = ssr_ready(world.site)  # no server row: never started
    html = world.client("viewer").get("/sites/site-a/").content.decode()
    rows = {
        deployment_id: row
        for row in re.findall(r"<tr[ >].*?</tr>", html, re.S)
        for deployment_id in re.findall(r'/deployments/([a-z0-9]+)/"', row)[:1]
    }
    assert 'class="badge badge-running"' in rows[running.id]
    assert 'class="badge badge-stopped"' in rows[stopped.id]
    assert "SSR" in rows[running.id] and "SSR" in rows[stopped.id]
    assert "badge-adapter" not in rows[world.deployment.id]  # waiting, static so far


def test_the_list_costs_the_same_queries_for_2_and_20_deployments() -> None:
    world = build_world()
    client = world.client("developer")
    path = "/sites/site-a/"

    def measure(expected: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200
        assert len(re.findall(r'class="row-link mono"', response.content.decode())) == expected
        return len(queries)

    # The first page already has a live deployment and a ready one to roll back to (the
    # site's active deployment is read once for those buttons, however many rows).
    Server.objects.create(deployment=ssr_ready(world.site, world.deployment))
    ssr_ready(world.site, waiting_deployment(world.site, activate=False))
    client.get(path)  # warm up (the session, content types)
    two = measure(2)
    for index in range(18):
        deployment = ssr_ready(world.site) if index % 2 else waiting_deployment(world.site)
        if index % 4 == 1:
            Server.objects.create(deployment=deployment, state=RuntimeState.STARTING)
    many = measure(20)
    print(f"\nGET {path}: 2 deployments -> {two} queries, 20 -> {many} queries")
    assert two == many, f"{two} queries for 2 deployments but {many} for 20"
