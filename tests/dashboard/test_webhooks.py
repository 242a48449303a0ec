"""A team's Webhooks pages: owners list, create (the secret shown once), edit, delete,
and see each delivery with every attempt and a button to send it again; developers and
viewers are refused; other teams see nothing."""

from __future__ import annotations

import re

import pytest

from notify import services
from notify.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from tests.dashboard.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "https://93.184.216.34/hooks/shipway"


def test_an_owner_creates_a_webhook_and_sees_its_secret_once(world) -> None:
    client = world.client("owner")
    assert "/teams/team-a/webhooks/" in client.get("/teams/team-a/").content.decode()
    empty = client.get("/teams/team-a/webhooks/")
    assert empty.status_code == 200
    assert "No webhooks" in empty.content.decode()

    created = client.post(
        "/teams/team-a/webhooks/",
        {"url": URL, "events": "sites.*.deployments.*.update\nsites.*.delete\n", "enabled": "on"},
    )
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    secret = re.search(r'id="new-secret" class="mono" value="([^"]+)"', created.content.decode())[1]
    webhook = Webhook.objects.get()
    assert webhook.secret == secret
    assert webhook.events == ["sites.*.deployments.*.update", "sites.*.delete"]
    later = client.get("/teams/team-a/webhooks/").content.decode()
    assert URL in later and secret not in later
    assert secret not in client.get(f"/teams/team-a/webhooks/{webhook.id}/").content.decode()


def test_bad_input_lands_on_the_form_and_writes_nothing(world) -> None:
    client = world.client("owner")
    for data, field, says in (
        ({"url": "http://127.0.0.1/x", "events": "sites.*.update"}, "url", "loopback"),
        ({"url": URL, "events": "sites.*.deployments.*.updated"}, "events", "matches no event"),
        ({"url": URL, "events": "sites.*.update", "secret": "short"}, "secret", "16 to 256"),
        ({"url": "", "events": "sites.*.update"}, "url", "required"),
    ):
        answer = client.post("/teams/team-a/webhooks/", data)
        assert answer.status_code == 400, data
        html = answer.content.decode()
        error = re.search(rf'<p class="error" id="id_{field}_error1">([^<]*)</p>', html)
        assert error is not None and says in error[1], (data, html[:300])
    assert not Webhook.objects.exists()


def test_an_owner_edits_and_deletes_a_webhook(world) -> None:
    webhook, secret = services.webhook_create(team=world.team, url=URL, events=["sites.*.update"])
    client = world.client("owner")
    page = client.get(f"/teams/team-a/webhooks/{webhook.id}/")
    assert page.status_code == 200
    assert "No deliveries yet" in page.content.decode()
    saved = client.post(
        f"/teams/team-a/webhooks/{webhook.id}/",
        {"url": URL + "/v2", "events": "sites.*.delete", "secret": ""},
    )
    assert saved.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.url, webhook.events, webhook.enabled) == (
        URL + "/v2",
        ["sites.*.delete"],
        False,
    )
    assert webhook.secret == secret  # an empty secret keeps the current one
    refused = client.post(
        f"/teams/team-a/webhooks/{webhook.id}/", {"url": "http://10.0.0.1/", "events": "x"}
    )
    assert refused.status_code == 400
    assert client.post(f"/teams/team-a/webhooks/{webhook.id}/delete/").status_code == 302
    assert not Webhook.objects.exists()


def test_the_deliveries_show_each_attempt_and_can_be_sent_again(world) -> None:
    webhook, _ = services.webhook_create(team=world.team, url=URL, events=["sites.*.update"])
    delivery = services.webhook_delivery_create(
        webhook_id=webhook.id, event="sites.site-a.update", timestamp="t", payload={"id": "site-a"}
    )
    from django.utils import timezone

    for number, status in ((1, 500), (2, 502)):
        WebhookAttempt.objects.create(
            delivery=delivery,
            series=1,
            number=number,
            outcome="failed",
            response_status=status,
            duration_ms=12,
            error=f"HTTP {status}: receiver is down",
            started_at=timezone.now(),
        )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=2, response_status=502
    )
    client = world.client("owner")
    html = client.get(f"/teams/team-a/webhooks/{webhook.id}/").content.decode()
    assert "sites.site-a.update" in html
    assert "HTTP 500: receiver is down" in html and "HTTP 502: receiver is down" in html
    assert "1.1" in html and "1.2" in html
    redeliver = f"/teams/team-a/webhooks/{webhook.id}/deliveries/{delivery.id}/redeliver/"
    assert redeliver in html
    assert client.post(redeliver).status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.series, delivery.attempts) == ("pending", 2, 0)
    # Pending again: still a button (a lost worker must not leave it stuck).
    assert redeliver in client.get(f"/teams/team-a/webhooks/{webhook.id}/").content.decode()
    assert client.post(redeliver).status_code == 302
    delivery.refresh_from_db()
    assert delivery.series == 3


def test_developers_viewers_and_outsiders_are_refused(world) -> None:
    webhook, _ = services.webhook_create(team=world.team, url=URL, events=["sites.*.update"])
    pages = ["/teams/team-a/webhooks/", f"/teams/team-a/webhooks/{webhook.id}/"]
    for who, status in (("developer", 403), ("viewer", 403), ("outsider", 404)):
        client = world.client(who)
        for page in pages:
            assert client.get(page).status_code == status, (who, page)
        assert client.post(pages[0], {"url": URL, "events": "sites.*.update"}).status_code == status
        assert client.post(f"{pages[1]}delete/").status_code == status
    assert "/webhooks/" not in world.client("developer").get("/teams/team-a/").content.decode()
    assert Webhook.objects.count() == 1
    assert client_for(None).get(pages[0]).status_code == 302  # to sign in
