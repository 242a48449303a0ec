"""A server-rendered deployment's page in a real browser, against a real server and its
realtime feed: the runtime log follows the runtime-logs channel (no repeats, no gaps)
after the build is over, and the server's state badge follows the deployment's updates.

The rows the runtime manager writes (Server, ServerLogChunk) are made directly and its
events published from this process, through the same Redis as the server's feed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.utils.dateparse import parse_datetime
from playwright.sync_api import expect

from accounts.models import Team
from core import channels, events
from deployments.models import Deployment, RuntimeState, Server, ServerLogChunk, Status
from deployments.services import deployment_payload
from tests.browser.conftest import PASSWORD
from tests.factories import make_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chromium_available"),
]

FEED = 20_000  # ms: a generous wait for an event to cross Redis and the feed


def ssr_deployment(member: Any) -> Deployment:
    """A ready ssr deployment whose server has printed one line and is stopped."""
    team = Team.objects.get(memberships__user=member)
    site = make_site(team, name="SSR Site", framework="nextjs")
    deployment = Deployment.objects.create(
        site=site, source_type="upload", status=Status.READY, adapter="ssr", framework="nextjs"
    )
    Server.objects.create(deployment=deployment, state=RuntimeState.STOPPED)
    print_line(deployment, 0, "boot 1\n", announce=False)
    return deployment


def print_line(deployment: Deployment, offset: int, text: str, announce: bool = True) -> int:
    """What the runtime manager does with a piece of the server's output: keep it, then
    (when `announce`) publish it on the runtime-logs channel. The offset after it."""
    ServerLogChunk.objects.create(deployment=deployment, offset=offset, text=text)
    Server.objects.filter(deployment=deployment).update(log_size=offset + len(text))
    if announce:
        announce_log(deployment, offset, text)
    return offset + len(text)


def announce_log(deployment: Deployment, offset: int, text: str) -> None:
    channel = channels.deployment_runtime_logs(deployment.site_id, deployment.id)
    events.send(
        events=[channels.event(channel, "create")],
        channels=[channel],
        payload={"deploymentId": deployment.id, "offset": offset, "text": text},
    )


def announce_server(deployment: Deployment, **runtime: Any) -> None:
    """A deployment update as the runtime manager makes it: the Server row written first
    (so the page's REST refresh after its feed connects reads the same), then the
    deployment published with its `runtime`."""
    own = channels.deployment(deployment.site_id, deployment.id)
    runtime = {"startedAt": None, "lastRequestAt": None, "error": None} | runtime
    Server.objects.filter(deployment=deployment).update(
        state=runtime["state"],
        started_at=parse_datetime(runtime["startedAt"]) if runtime["startedAt"] else None,
        error=runtime["error"] or "",
    )
    events.send(
        events=[channels.event(own, "update")],
        channels=[channels.site_deployments(deployment.site_id), own],
        payload=deployment_payload(deployment) | {"runtime": runtime},
    )


def open_page(context, dashboard: str, member: Any, deployment: Deployment):  # type: ignore[no-untyped-def]
    """Signs in and opens the deployment's page once its feed is connected; returns the
    page and the list of websocket frames it received."""
    page = context.new_page()
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda data: frames.append(data) if isinstance(data, str) else None
        ),
    )
    page.goto(f"{dashboard}/sites/{deployment.site_id}/deployments/{deployment.id}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Deployment"))).to_be_visible()
    # The runtime log's indicator says Live once the feed is connected (subscribed).
    runtime_card = page.locator("[data-log-card]").filter(has=page.locator('[data-log="runtime"]'))
    expect(runtime_card.locator("[data-live-indicator]")).to_have_text("Live", timeout=FEED)
    # Connecting also re-reads the deployment over REST; an answer that came after a
    # test's event would undo it on the page, so the events start once it is in.
    page.wait_for_load_state("networkidle")
    return page, frames


def runtime_texts(frames: list[str], deployment: Deployment) -> list[str]:
    channel = channels.deployment_runtime_logs(deployment.site_id, deployment.id)
    texts = []
    for frame in frames:
        message = json.loads(frame)
        data = message.get("data") or {}
        if message.get("type") == "event" and channel in data.get("channels", []):
            texts.append(data["payload"]["text"])
    return texts


def test_the_runtime_log_and_the_server_state_follow_the_feed_after_the_build(
    dashboard, member, context, screenshot
):
    deployment = ssr_deployment(member)
    page, frames = open_page(context, dashboard, member, deployment)
    log = page.locator('pre[data-log="runtime"]')
    badge = page.locator("[data-runtime-badge]")
    error = page.locator('[data-field="runtimeError"]')
    expect(log).to_have_text("boot 1\n")
    expect(badge).to_have_text("Stopped")
    # The build is over: its log no longer follows, the runtime log does.
    build_card = page.locator("[data-log-card]").filter(has=page.locator('[data-log="build"]'))
    expect(build_card.locator("[data-live-indicator]")).to_be_hidden()

    # The server starts, then runs; the badge follows, nothing reloads the page.
    announce_server(deployment, state="starting")
    expect(badge).to_have_text("Starting", timeout=FEED)
    announce_server(deployment, state="running", startedAt="2026-03-04T05:06:07Z")
    expect(badge).to_have_text("Running", timeout=FEED)
    expect(page.locator('[data-field="runtimeStartedAt"]')).to_have_text("2026-03-04 05:06:07 UTC")
    expect(error).to_be_hidden()

    # Its output arrives live; an event the page already has is not shown twice, and
    # one that overlaps shows only its new part.
    end = print_line(deployment, len("boot 1\n"), "listening on :3000\n")
    expect(log).to_have_text("boot 1\nlistening on :3000\n", timeout=FEED)
    announce_log(deployment, 0, "boot 1\n")  # a repeat
    overlap_at = end - len(":3000\n")
    end = print_line(deployment, end, "GET / 200\n", announce=False)
    announce_log(deployment, overlap_at, ":3000\nGET / 200\n")  # part old, part new
    expect(log).to_have_text("boot 1\nlistening on :3000\nGET / 200\n", timeout=FEED)
    assert any("listening on" in text for text in runtime_texts(frames, deployment)), frames
    screenshot(page, "runtime-01-running-live-log")

    # It crashes: failed, with the reason; the deployment stays ready.
    reason = "The server exited with code 1."
    announce_server(deployment, state="failed", error=reason)
    expect(badge).to_have_text("Failed", timeout=FEED)
    expect(error).to_have_text(reason)
    expect(error).to_be_visible()
    expect(page.locator("[data-status-badge]")).to_have_text("Ready")
    # And the log still follows (a restart prints on).
    print_line(deployment, end, "boot 2\n")
    expect(log).to_have_text("boot 1\nlistening on :3000\nGET / 200\nboot 2\n", timeout=FEED)
    screenshot(page, "runtime-02-failed")


def test_a_missed_runtime_log_event_is_fetched_not_skipped(dashboard, member, context, client):
    deployment = ssr_deployment(member)
    client.force_login(member)
    logs = f"/v1/sites/{deployment.site_id}/deployments/{deployment.id}/logs"
    if client.get(logs, {"type": "runtime", "offset": 0}).content != b"boot 1\n":
        pytest.skip("the API does not serve ?type=runtime yet (the runtime part adds it)")
    page, _frames = open_page(context, dashboard, member, deployment)
    log = page.locator('pre[data-log="runtime"]')
    expect(log).to_have_text("boot 1\n")
    # "missed 2" is kept but its event never comes; the next one's offset shows the gap.
    end = print_line(deployment, len("boot 1\n"), "missed 2\n", announce=False)
    print_line(deployment, end, "seen 3\n")
    expect(log).to_have_text("boot 1\nmissed 2\nseen 3\n", timeout=FEED)

    # The log is bounded: output the page never got is dropped before it asks for it.
    # The answer begins later than asked (X-Log-Offset); the page says so and goes on.
    dropped_at = end + len("seen 3\n")
    end = print_line(deployment, dropped_at, "dropped 4\n", announce=False)
    end = print_line(deployment, end, "kept 5\n", announce=False)
    ServerLogChunk.objects.filter(deployment=deployment, offset__lte=dropped_at).delete()
    print_line(deployment, end, "seen 6\n")
    expect(log).to_have_text(
        "boot 1\nmissed 2\nseen 3\n\n[older output is no longer kept]\nkept 5\nseen 6\n",
        timeout=FEED,
    )
