"""A deployment's server in its container: it starts, answers at its address, gets the
site's runtime variables and Shipway's, none of the platform's, and is locked down."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core import channels
from deployments.models import RuntimeState
from deployments.selectors import server_log_from
from runtime import manager
from sites import services as site_services
from tests.runtime.conftest import SERVER_JS, get, get_json, server_of, started

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def test_a_server_starts_answers_and_gets_its_variables_only(make_ssr):
    deployment = make_ssr(script=SERVER_JS)
    site = deployment.site
    site_services.variable_create(
        site=site, key="API_TOKEN", value="runtime-secret-1", secret=True, scope="runtime"
    )
    site_services.variable_create(site=site, key="BOTH", value="both-value", scope="all")
    site_services.variable_create(site=site, key="BUILD_ONLY", value="build-value", scope="build")

    server = started(deployment)

    assert server.state == RuntimeState.RUNNING and server.started_at is not None
    assert get(deployment) == f"hello from {deployment.id}"
    answer = get_json(deployment, "/env")
    env = answer["env"]
    assert env["API_TOKEN"] == "runtime-secret-1" and env["BOTH"] == "both-value"
    assert "BUILD_ONLY" not in env
    assert env["SHIPWAY_SITE_ID"] == site.id
    assert env["SHIPWAY_DEPLOYMENT_ID"] == deployment.id
    assert env["SHIPWAY_DEPLOYMENT_URL"] == deployment.url
    assert env["SHIPWAY_ENVIRONMENT"] == "preview"
    everywhere = "0.0.0.0"  # noqa: S104  (inside its own container)
    assert (env["PORT"], env["HOST"], env["HOSTNAME"]) == ("3000", everywhere, everywhere)
    assert env["ORIGIN"] == site.url
    for platform in (
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "SHIPWAY_ENCRYPTION_KEY",
        "DJANGO_SETTINGS_MODULE",
    ):
        assert platform not in env
    assert answer["uid"] == 10001


def test_the_root_is_read_only_and_only_tmp_is_writable(make_ssr):
    deployment = make_ssr()
    started(deployment)
    results = get_json(deployment, "/write")
    assert results["/tmp/new"] == "written"
    assert results["/app/new"] == "EROFS"
    assert results["/etc/new"] in ("EROFS", "EACCES")
    assert results["/home/builder/new"] == "EROFS"


def test_starting_a_running_server_again_keeps_it(make_ssr):
    deployment = make_ssr()
    first = started(deployment)
    again = started(deployment)
    assert again.handle == first.handle
    assert get(deployment).startswith("hello")


def test_a_stopped_server_starts_again_from_its_kept_files(make_ssr):
    deployment = make_ssr()
    started(deployment)
    assert manager.stop_server(deployment.id)
    assert server_of(deployment).state == RuntimeState.STOPPED
    assert server_of(deployment).address == ""
    started(deployment)
    assert get(deployment).startswith("hello")


def test_the_output_is_kept_masked_and_published_on_the_runtime_logs_channel(make_ssr):
    deployment = make_ssr()
    site_services.variable_create(
        site=deployment.site, key="TOKEN", value="s3cr3t-value-42", secret=True, scope="build"
    )
    channel = channels.deployment_runtime_logs(deployment.site_id, deployment.id)
    layer = get_channel_layer()
    name = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(channels.group(channel), name)
    started(deployment)
    assert get(deployment, "/say?text=token%20s3cr3t-value-42%20done") == "said"

    received = []

    async def receive_until_said() -> None:
        while not any("token ******** done\n" in m["data"]["payload"]["text"] for m in received):
            received.append(await asyncio.wait_for(layer.receive(name), 20))

    async_to_sync(receive_until_said)()
    payloads = [m["data"]["payload"] for m in received]
    assert all(p["deploymentId"] == deployment.id for p in payloads)
    text = "".join(p["text"] for p in payloads)
    assert "listening on 3000" in text and "token ******** done" in text
    assert "s3cr3t-value-42" not in text
    assert payloads[0]["offset"] == 0
    stored = server_log_from(deployment)[1]
    assert "token ******** done" in stored and "s3cr3t" not in stored
