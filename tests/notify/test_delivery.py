"""Deliveries reach a real receiver on loopback: signed (the test checks the HMAC
itself), for a real deployment's events; a failing receiver sees every retry under the
same delivery id, from a real Celery worker with a tiny backoff, and the deliveries API
shows each attempt; a redelivery is a new series of attempts."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import time
from typing import Any

import pytest

from core.management.commands.runplatform import celery_worker_command
from notify import services
from notify.models import DeliveryStatus, WebhookDelivery
from tests.dashboard.conftest import ARCHIVE, waiting_deployment
from tests.e2e.conftest import stop_worker
from tests.edge.conftest import publish
from tests.factories import api_client, make_site, make_team, make_user
from tests.live import test_database_url

SECRET = "receiver-shared-secret-0123456789"


def _signed_by(secret: str, body: bytes, header: str) -> bool:
    """The receiver's check, written here rather than borrowed from notify."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


@pytest.fixture
def owner():  # type: ignore[no-untyped-def]
    return make_user("owner")


@pytest.fixture
def team(owner):  # type: ignore[no-untyped-def]
    return make_team(owner, team_id="acme")


def test_a_receiver_sees_signed_deliveries_of_a_real_deployment(
    transactional_db, receiver, team, owner
) -> None:
    site = make_site(team, "blog", framework="static")
    webhook, _ = services.webhook_create(
        team=team,
        url=receiver.url,
        events=["sites.*.deployments.*.create", "sites.*.deployments.*.update"],
        secret=SECRET,
    )
    deployment = publish(site, ARCHIVE)  # built here; each event's delivery sent at once

    received = receiver.wait_for(2)
    deliveries = {d.id: d for d in WebhookDelivery.objects.filter(webhook=webhook)}
    assert len(received) == len(deliveries) >= 2
    statuses = []
    for request in received:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert request.path == "/hooks/shipway"
        assert headers["content-type"] == "application/json"
        assert _signed_by(SECRET, request.body, headers["x-shipway-signature"])
        # A forged signature, or a body changed on the way, fails the same check.
        forged = "sha256=" + hmac.new(b"not-the-secret", request.body, hashlib.sha256).hexdigest()
        assert not _signed_by(SECRET, request.body, forged)
        assert not _signed_by(SECRET, request.body + b" ", headers["x-shipway-signature"])
        body = json.loads(request.body)
        assert set(body) == {"event", "timestamp", "payload"}
        assert body["event"] == headers["x-shipway-event"]
        assert body["payload"]["id"] == deployment.id
        assert headers["x-shipway-delivery"] in deliveries
        assert deliveries[headers["x-shipway-delivery"]].event == body["event"]
        statuses.append(body["payload"]["status"])
    assert (
        received[0].headers["X-Shipway-Event"] == f"sites.blog.deployments.{deployment.id}.create"
    )
    assert statuses[-1] == "ready"

    listed = api_client(owner).get(f"/v1/teams/acme/webhooks/{webhook.id}/deliveries").json()
    assert listed["total"] == len(deliveries)
    for item in listed["deliveries"]:
        assert item["status"] == "delivered"
        assert item["attempts"] == 1
        assert item["responseStatus"] == 200
        assert item["durationMs"] >= 0
        assert item["lastAttemptAt"] and item["createdAt"]
        assert [(a["number"], a["status"], a["responseStatus"]) for a in item["attemptLog"]] == [
            (1, "delivered", 200)
        ]


@pytest.fixture
def notify_worker(transactional_db, settings, tmp_path):  # type: ignore[no-untyped-def]
    """A real Celery worker reading this session's notify queue only, with a tiny backoff
    and three attempts per series."""
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "SHIPWAY_NOTIFY_QUEUE": settings.SHIPWAY_NOTIFY_QUEUE,
        "SHIPWAY_OUTBOUND_ALLOW": "127.0.0.0/8",
        "SHIPWAY_WEBHOOK_BACKOFF_SECONDS": "0.05",
        "SHIPWAY_WEBHOOK_MAX_ATTEMPTS": "3",
        "LOG_FORMAT": "console",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 (the process owns it)
    command = celery_worker_command(settings.SHIPWAY_NOTIFY_QUEUE, 1, f"notify-{os.getpid()}")
    process = subprocess.Popen(
        [*command, "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process
    stop_worker(process)
    log.close()


def _until(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_a_failing_receiver_sees_every_retry_then_a_redelivery(
    notify_worker, receiver, team, owner
) -> None:
    receiver.status = 500
    site = make_site(team, "blog", framework="static")
    webhook, _ = services.webhook_create(
        team=team, url=receiver.url, events=["sites.*.deployments.*.create"], secret=SECRET
    )
    deployment = waiting_deployment(site)  # its create event, after commit

    received = receiver.wait_for(3)
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    _until(
        lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED,
        "the delivery to fail",
    )
    assert len(receiver.received) == 3  # SHIPWAY_WEBHOOK_MAX_ATTEMPTS, then no more
    assert {r.headers["X-Shipway-Delivery"] for r in received} == {delivery.id}
    assert len({r.body for r in received}) == 1  # the same body every time
    for request in received:
        assert _signed_by(SECRET, request.body, request.headers["X-Shipway-Signature"])
        assert json.loads(request.body)["payload"]["id"] == deployment.id

    client = api_client(owner)
    deliveries = f"/v1/teams/acme/webhooks/{webhook.id}/deliveries"
    item = client.get(deliveries).json()["deliveries"][0]
    assert item["id"] == delivery.id
    assert item["status"] == "failed"
    assert item["attempts"] == 3
    assert item["responseStatus"] == 500
    log = [(a["series"], a["number"], a["status"], a["responseStatus"]) for a in item["attemptLog"]]
    assert log == [(1, 1, "failed", 500), (1, 2, "failed", 500), (1, 3, "failed", 500)]
    assert all(a["error"].startswith("HTTP 500: receiver is down") for a in item["attemptLog"])

    # The receiver is back; sent again by hand: a new series, same id and body.
    receiver.status = 204
    again = client.post(f"{deliveries}/{delivery.id}/redeliver")
    assert again.status_code == 202, again.json()
    assert again.json()["status"] == "pending"
    assert again.json()["series"] == 2
    fourth = receiver.wait_for(4)[3]
    assert fourth.headers["X-Shipway-Delivery"] == delivery.id
    assert fourth.body == received[0].body
    _until(
        lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED,
        "the redelivery",
    )
    item = client.get(deliveries).json()["deliveries"][0]
    assert (item["status"], item["attempts"], item["series"]) == ("delivered", 1, 2)
    assert [(a["series"], a["number"], a["status"]) for a in item["attemptLog"]][-1] == (
        2,
        1,
        "delivered",
    )
    assert len(item["attemptLog"]) == 4


def test_a_pending_delivery_sent_again_drops_the_rest_of_its_series(db, team, owner) -> None:
    """A delivery whose worker was lost stays pending: it can be sent again, and the
    messages still queued for its old series then send nothing."""
    webhook, _ = services.webhook_create(
        team=team, url="https://93.184.216.34/x", events=["sites.*.update"]
    )
    delivery = services.webhook_delivery_create(
        webhook_id=webhook.id, event="sites.a.update", timestamp="t", payload={"id": "a"}
    )
    answer = api_client(owner).post(
        f"/v1/teams/acme/webhooks/{webhook.id}/deliveries/{delivery.id}/redeliver"
    )
    assert answer.status_code == 202
    assert (answer.json()["series"], answer.json()["attempts"]) == (2, 0)
    # The first series' message, handed out now, finds its series replaced.
    assert services.webhook_delivery_attempt(delivery_id=delivery.id, series=1, number=1) is None
    assert not delivery.attempt_log.exists()


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(db, settings, team) -> None:
    """A listening socket that never answers: the attempt ends at the timeout, with no
    status and the reason recorded; the next attempt is scheduled with the backoff."""
    import socket

    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    settings.SHIPWAY_WEBHOOK_TIMEOUT_SECONDS = 0.3
    settings.SHIPWAY_WEBHOOK_BACKOFF_SECONDS = 10
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        webhook, _ = services.webhook_create(team=team, url=url, events=["sites.*.update"])
        delivery = services.webhook_delivery_create(
            webhook_id=webhook.id, event="sites.a.update", timestamp="t", payload={"id": "a"}
        )
        delay = services.webhook_delivery_attempt(delivery_id=delivery.id, series=1, number=1)
    assert delay is not None and 10 <= delay <= 12.5
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.next_attempt_at is not None
    attempt = delivery.attempt_log.get()
    assert attempt.response_status is None
    assert "timed out" in attempt.error
    # The same attempt's message handed out twice sends nothing the second time.
    assert services.webhook_delivery_attempt(delivery_id=delivery.id, series=1, number=1) is None
    assert delivery.attempt_log.count() == 1


def test_a_delivery_whose_message_was_lost_is_sent_by_the_sweep(
    db, receiver, team, settings
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import eager_builds

    webhook, _ = services.webhook_create(
        team=team, url=receiver.url, events=["sites.*.update"], secret=SECRET
    )
    make = dict(webhook_id=webhook.id, event="sites.a.update", timestamp="t", payload={})
    lost, fresh, last = (services.webhook_delivery_create(**make) for _ in range(3))
    long_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=lost.pk).update(created_at=long_ago)
    # Its last attempt was claimed, then its worker was lost.
    WebhookDelivery.objects.filter(pk=last.pk).update(
        created_at=long_ago,
        last_attempt_at=long_ago,
        attempts=settings.SHIPWAY_WEBHOOK_MAX_ATTEMPTS,
    )
    with eager_builds():  # the queued attempt runs here
        assert services.webhook_deliveries_requeue_lost() == 2
    assert [r.headers["X-Shipway-Delivery"] for r in receiver.received] == [lost.id]
    assert WebhookDelivery.objects.get(pk=lost.pk).status == DeliveryStatus.DELIVERED
    assert WebhookDelivery.objects.get(pk=fresh.pk).status == DeliveryStatus.PENDING
    assert WebhookDelivery.objects.get(pk=last.pk).status == DeliveryStatus.FAILED
    with eager_builds():
        assert services.webhook_deliveries_requeue_lost() == 0  # nothing is due now


def test_an_address_that_rebinds_to_loopback_fails_the_delivery_unsent(db, team, fake_dns) -> None:
    """Checked when saved (public) and again at the attempt (loopback now): refused,
    nothing connected to, no retries."""
    fake_dns.answer("hooks.example.com", "93.184.216.34")
    fake_dns.answer("hooks.example.com", "127.0.0.1")
    webhook, _ = services.webhook_create(
        team=team, url="https://hooks.example.com/x", events=["sites.*.update"]
    )
    delivery = services.webhook_delivery_create(
        webhook_id=webhook.id, event="sites.a.update", timestamp="t", payload={}
    )
    assert services.webhook_delivery_attempt(delivery_id=delivery.id, series=1, number=1) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    attempt = delivery.attempt_log.get()
    assert attempt.response_status is None
    assert "127.0.0.1, a loopback address" in attempt.error
