"""The websocket feed over real uvicorn: statuses in order, the log exactly once, and
refusals for callers who may not read."""

import json
import threading
import time
from urllib.parse import urlencode

import pytest
from django.db import connection
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts import services as account_services
from accounts.models import Membership, Role
from deployments.models import Deployment, Status
from deployments.services import (
    deployment_create_from_upload,
    deployment_delete,
    deployment_transition,
    log_append,
)
from sites.services import site_delete, site_update
from tests.archives import tar_gz, upload
from tests.factories import add_member, api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(edge_server, live_storage):
    owner = make_user()
    team = make_team(owner)
    site = make_site(team, framework="static")
    deployment = deployment_create_from_upload(
        site=site, archive=upload(tar_gz({"index.html": "x"})), activate=False
    )
    return edge_server, owner, team, site, deployment


def token_for(user) -> str:  # type: ignore[no-untyped-def]
    response = api_client(user).post("/v1/realtime/tokens")
    assert response.status_code == 201
    return response.json()["token"]


def feed(port: int, user, *channels: str):  # type: ignore[no-untyped-def]
    query = urlencode(
        [("token", token_for(user)), *[("channels", c) for c in channels]], doseq=True
    )
    return connect(f"ws://127.0.0.1:{port}/v1/realtime?{query}", open_timeout=10)


def receive_until(ws, done, timeout: float = 10) -> list[dict]:  # type: ignore[no-untyped-def]
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    while not done(messages):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; got {messages}"
        messages.append(json.loads(ws.recv(timeout=remaining)))
    return messages


def test_statuses_in_order_and_the_log_exactly_once(setup):
    port, owner, _team, site, deployment = setup
    Deployment.objects.filter(pk=deployment.id).update(activate=True)  # goes live when ready
    base = f"sites.{site.id}.deployments.{deployment.id}"
    with feed(port, owner, base, f"{base}.logs") as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "connected"
        lines = [f"line {i}\n" for i in range(200)]

        def produce() -> None:
            try:
                deployment_transition(deployment.id, Status.PROCESSING)
                deployment_transition(deployment.id, Status.BUILDING)
                for line in lines:
                    log_append(deployment, line)
                deployment_transition(deployment.id, Status.READY)
            finally:
                connection.close()

        producer = threading.Thread(target=produce)
        producer.start()
        messages = receive_until(
            ws,
            lambda got: any(
                m["data"]["payload"].get("status") == "ready"
                for m in got
                if "status" in m["data"]["payload"]
            ),
        )
        producer.join()
    statuses = [m["data"]["payload"]["status"] for m in messages if base in m["data"]["channels"]]
    assert statuses == ["processing", "building", "ready"]
    ready = next(m for m in messages if m["data"]["payload"].get("status") == "ready")
    assert ready["data"]["payload"]["active"] is True  # activated in the same transaction
    chunks = [m["data"]["payload"] for m in messages if m["data"]["channels"] == [f"{base}.logs"]]
    text = "".join(c["text"] for c in chunks)
    assert text == "".join(lines)
    offsets = [c["offset"] for c in chunks]
    assert offsets == sorted(offsets) and offsets[0] == 0
    assert messages[0]["type"] == "event" and "timestamp" in messages[0]["data"]


def test_a_late_joiner_reads_then_follows_without_gaps(setup):
    port, owner, _team, site, deployment = setup
    base = f"sites.{site.id}.deployments.{deployment.id}"
    log_append(deployment, "early 1\n")
    log_append(deployment, "early 2\n")
    with feed(port, owner, f"{base}.logs") as ws:
        ws.recv(timeout=10)
        so_far = api_client(owner).get(f"/v1/sites/{site.id}/deployments/{deployment.id}/logs")
        have = so_far.content.decode()
        log_append(deployment, "late 3\n")
        message = json.loads(ws.recv(timeout=10))["data"]["payload"]
    assert message["offset"] == len(have)
    assert have + message["text"] == "early 1\nearly 2\nlate 3\n"
    tail = api_client(owner).get(
        f"/v1/sites/{site.id}/deployments/{deployment.id}/logs", {"offset": len("early 1\n")}
    )
    assert tail.content.decode() == "early 2\nlate 3\n"


def test_an_api_key_in_the_authorization_header_opens_the_feed(setup):
    """Servers, the command line and SDKs set headers: a key there works as everywhere."""
    port, owner, _team, site, deployment = setup
    _key, secret = account_services.api_key_create(user=owner, name="feed")
    base = f"sites.{site.id}.deployments.{deployment.id}"
    url = f"ws://127.0.0.1:{port}/v1/realtime?channels={base}"
    headers = {"Authorization": f"Bearer {secret}"}
    with connect(url, open_timeout=10, additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "connected"
        deployment_transition(deployment.id, Status.PROCESSING)
        messages = receive_until(ws, lambda got: len(got) >= 1)
    assert messages[0]["data"]["payload"]["status"] == "processing"

    for header, reason in [
        ("Bearer not-a-key", "Invalid API key"),
        (f"Basic {secret}", "must be 'Bearer <API key>'"),
    ]:
        ws = connect(url, open_timeout=10, additional_headers={"Authorization": header})
        with ws, pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd.code == 4401 and reason in closed.value.rcvd.reason


def test_refusals_have_a_code_and_a_reason(setup):
    port, owner, _team, site, _deployment = setup
    outsider = make_user()
    with feed(port, outsider, f"sites.{site.id}") as ws, pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4403
    assert "may not read" in closed.value.rcvd.reason

    for channel, reason in [
        ("nonsense", "Unknown channel"),
        (f"sites.{site.id}.deployments.nosuch", "no such deployment"),
    ]:
        with feed(port, owner, channel) as ws, pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd.code == 4403 and reason in closed.value.rcvd.reason

    anonymous = connect(f"ws://127.0.0.1:{port}/v1/realtime?channels=sites.{site.id}")
    with anonymous as ws, pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4401


def test_bad_frames_get_an_error_and_the_feed_stays(setup):
    port, owner, _team, site, _ = setup
    with feed(port, owner, f"sites.{site.id}") as ws:
        ws.recv(timeout=10)
        ws.send("{not json")
        assert json.loads(ws.recv(timeout=10))["type"] == "error"
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}


def test_removed_member_stops_receiving(setup):
    port, _owner, team, site, deployment = setup
    viewer = add_member(team, role=Role.VIEWER)
    base = f"sites.{site.id}.deployments.{deployment.id}"
    with feed(port, viewer, base) as ws:
        ws.recv(timeout=10)
        deployment_transition(deployment.id, Status.PROCESSING)
        first = json.loads(ws.recv(timeout=10))
        assert first["data"]["payload"]["status"] == "processing"
        account_services.membership_delete(
            membership=Membership.objects.get(team=team, user=viewer)
        )
        with pytest.raises(ConnectionClosed) as closed:
            deployment_transition(deployment.id, Status.BUILDING)
            while True:
                message = json.loads(ws.recv(timeout=10))
                assert message["type"] != "event", f"still receiving: {message}"
        assert closed.value.rcvd.code == 4403


def test_a_deleted_sites_feeds_close(setup):
    """A new site may take the id at once; its events are not for the old site's team."""
    port, owner, _team, site, deployment = setup
    base = f"sites.{site.id}.deployments.{deployment.id}"
    with feed(port, owner, base) as ws, pytest.raises(ConnectionClosed) as closed:
        assert json.loads(ws.recv(timeout=10))["type"] == "connected"
        site_delete(site=site)
        while True:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4403 and "deleted" in closed.value.rcvd.reason


def test_a_site_update_keeps_its_feeds_open(setup):
    """Only a delete ends a site's channels: `update` is as long as `delete`, and the feed
    once cut the action off by its length."""
    port, owner, _team, site, deployment = setup
    base = f"sites.{site.id}.deployments.{deployment.id}"
    with feed(port, owner, f"sites.{site.id}", base) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "connected"
        site_update(site=site, name="Renamed")
        update = json.loads(ws.recv(timeout=10))
        assert f"sites.{site.id}.update" in update["data"]["events"]
        deployment_transition(deployment.id, Status.PROCESSING)
        after = receive_until(ws, lambda got: any(m.get("type") == "event" for m in got))
        assert after[-1]["data"]["payload"]["status"] == "processing"


def test_a_deleted_deployment_is_announced(setup):
    """Deleting a deployment (by hand or by retention) says so on its channels; the
    deployment then answers 404, and a new feed may not follow it."""
    port, owner, _team, site, deployment = setup
    base = f"sites.{site.id}.deployments.{deployment.id}"
    with feed(port, owner, f"sites.{site.id}.deployments") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "connected"
        deployment_delete(deployment=deployment)
        got = receive_until(ws, lambda got: any(_names(m, f"{base}.delete") for m in got))
    deleted = next(m for m in got if _names(m, f"{base}.delete"))
    assert deleted["data"]["payload"] == {"id": deployment.id, "siteId": site.id}
    with feed(port, owner, base) as ws, pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4403 and "no such deployment" in closed.value.rcvd.reason


def _names(message: dict, event: str) -> bool:  # type: ignore[type-arg]
    return message.get("type") == "event" and event in message["data"]["events"]
