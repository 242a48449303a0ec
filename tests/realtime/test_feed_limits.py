"""The realtime feed's limits, over real uvicorn: a `?token=` opens one feed only, a
team-scoped API key follows only its team's sites, and a user has a bounded number of
feeds open at once."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack, suppress
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts import services as account_services
from accounts.models import Role
from tests.factories import add_member, api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

MAX_FEEDS = 20  # SHIPWAY_REALTIME_MAX_CONNECTIONS_PER_USER's default


@pytest.fixture
def two_teams(edge_server, live_storage):  # type: ignore[no-untyped-def]
    user = make_user()
    ours = make_site(make_team(user, team_id="ours"), site_id="ours-site")
    theirs_team = make_team(make_user(), team_id="theirs")
    add_member(theirs_team, user, Role.VIEWER)
    theirs = make_site(theirs_team, site_id="theirs-site")
    return edge_server, user, ours, theirs


def url(port: int, *channels: str, token: str | None = None) -> str:
    query = ([("token", token)] if token else []) + [("channels", c) for c in channels]
    return f"ws://127.0.0.1:{port}/v1/realtime?{urlencode(query)}"


def closed_with(ws) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with ws, pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    return closed.value.rcvd.code, closed.value.rcvd.reason


def connected(ws) -> bool:  # type: ignore[no-untyped-def]
    return json.loads(ws.recv(timeout=10))["type"] == "connected"


def test_a_token_opens_one_feed_only(two_teams) -> None:
    port, user, ours, _theirs = two_teams
    token = api_client(user).post("/v1/realtime/tokens").json()["token"]
    with connect(url(port, f"sites.{ours.id}", token=token), open_timeout=10) as ws:
        assert connected(ws)
    # Replayed (a leaked URL, a log line, a proxy's history): refused.
    replay = connect(url(port, f"sites.{ours.id}", token=token), open_timeout=10)
    code, reason = closed_with(replay)
    assert code == 4401 and "already used" in reason


def test_a_team_scoped_key_follows_only_its_team(two_teams) -> None:
    port, user, ours, theirs = two_teams
    signed_in = APIClient()
    signed_in.force_login(user)
    created = signed_in.post("/v1/account/keys", {"name": "feed", "teamId": "ours"}, format="json")
    headers = {"Authorization": f"Bearer {created.json()['secret']}"}
    with connect(url(port, f"sites.{ours.id}"), open_timeout=10, additional_headers=headers) as ws:
        assert connected(ws)
    other = connect(url(port, f"sites.{theirs.id}"), open_timeout=10, additional_headers=headers)
    code, reason = closed_with(other)
    assert code == 4403 and "may not read" in reason
    # A token asked for with that key carries the same limit.
    scoped = APIClient()
    scoped.credentials(HTTP_AUTHORIZATION=headers["Authorization"])
    token = scoped.post("/v1/realtime/tokens").json()["token"]
    code, reason = closed_with(
        connect(url(port, f"sites.{theirs.id}", token=token), open_timeout=10)
    )
    assert code == 4403 and "may not read" in reason
    # The user's own session or unscoped key still follows both.
    token = api_client(user).post("/v1/realtime/tokens").json()["token"]
    with connect(url(port, f"sites.{theirs.id}", token=token), open_timeout=10) as ws:
        assert connected(ws)


def test_a_user_has_a_bounded_number_of_feeds_open(two_teams) -> None:
    port, user, ours, _theirs = two_teams
    _key, secret = account_services.api_key_create(user=user, name="many")
    headers = {"Authorization": f"Bearer {secret}"}
    with ExitStack() as stack:
        feeds = []
        for _ in range(MAX_FEEDS):
            ws = stack.enter_context(
                connect(url(port, f"sites.{ours.id}"), open_timeout=10, additional_headers=headers)
            )
            assert connected(ws)
            feeds.append(ws)
        extra = connect(url(port, f"sites.{ours.id}"), open_timeout=10, additional_headers=headers)
        code, reason = closed_with(extra)
        assert code == 4429 and f"at most {MAX_FEEDS}" in reason
        # Someone else is not counted against this user.
        other = make_user()
        make_team(other)
        token = api_client(other).post("/v1/realtime/tokens").json()["token"]
        stranger = connect(url(port, f"sites.{ours.id}", token=token), open_timeout=10)
        assert closed_with(stranger)[0] == 4403  # refused for the channel, not the count
        # Closing one frees its place.
        feeds.pop().close()
        deadline = time.monotonic() + 10
        while True:
            again = stack.enter_context(
                connect(url(port, f"sites.{ours.id}"), open_timeout=10, additional_headers=headers)
            )
            message = None
            with suppress(ConnectionClosed):
                message = json.loads(again.recv(timeout=10))
            if message and message["type"] == "connected":
                break
            assert time.monotonic() < deadline, "the closed feed's place was never freed"
            time.sleep(0.2)
