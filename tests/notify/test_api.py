"""The webhooks API: what owners make and change, what is refused (400 naming the
field, nothing written), the secret (shown once, encrypted at rest), who sees what."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from accounts.models import Role
from notify import services
from notify.models import Webhook
from tests.factories import add_member, api_client, make_team, make_user

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hooks/shipway"  # an IP literal: no DNS asked
EVENTS = ["sites.*.deployments.*.update"]


@pytest.fixture
def owner():  # type: ignore[no-untyped-def]
    return make_user("owner")


@pytest.fixture
def team(owner):  # type: ignore[no-untyped-def]
    return make_team(owner, team_id="acme", name="Acme")


@pytest.fixture
def client(owner):  # type: ignore[no-untyped-def]
    return api_client(owner)


def _create(client: Any, **body: Any) -> Any:
    return client.post(
        "/v1/teams/acme/webhooks", {"url": PUBLIC_URL, "events": EVENTS, **body}, format="json"
    )


def test_an_owner_creates_lists_changes_and_deletes_a_webhook(client, team) -> None:
    created = _create(client)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["url"] == PUBLIC_URL
    assert body["events"] == EVENTS
    assert body["enabled"] is True
    assert body["teamId"] == "acme"
    assert len(body["secret"]) >= 32  # made at random
    webhook_id = body["id"]

    listed = client.get("/v1/teams/acme/webhooks").json()
    assert listed["total"] == 1
    assert [w["id"] for w in listed["webhooks"]] == [webhook_id]
    shown = client.get(f"/v1/teams/acme/webhooks/{webhook_id}").json()
    # The secret is shown once: never in a list or a read.
    assert "secret" not in listed["webhooks"][0]
    assert "secret" not in shown
    assert body["secret"] not in str(listed) + str(shown)

    changed = client.patch(
        f"/v1/teams/acme/webhooks/{webhook_id}",
        {"events": ["sites.*.update", "sites.*.delete"], "enabled": False},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["events"] == ["sites.*.update", "sites.*.delete"]
    assert changed.json()["enabled"] is False
    assert "secret" not in changed.json()

    assert client.delete(f"/v1/teams/acme/webhooks/{webhook_id}").status_code == 204
    assert not Webhook.objects.exists()
    assert client.get(f"/v1/teams/acme/webhooks/{webhook_id}").status_code == 404


def test_a_given_secret_is_kept_encrypted_at_rest(client, team) -> None:
    secret = "a-secret-of-my-own-choosing-42"
    created = _create(client, secret=secret)
    assert created.status_code == 201
    assert created.json()["secret"] == secret
    webhook = Webhook.objects.get()
    assert webhook.secret == secret
    assert secret not in webhook.encrypted_secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM notify_webhook")
        row = cursor.fetchone()
    assert secret not in str(row)
    # A new secret by PATCH is kept the same way (and not shown back).
    rotated = client.patch(
        f"/v1/teams/acme/webhooks/{webhook.id}", {"secret": "y" * 40}, format="json"
    )
    assert rotated.status_code == 200
    assert "y" * 40 not in rotated.content.decode()
    webhook.refresh_from_db()
    assert webhook.secret == "y" * 40


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://93.184.216.34/x"}, "url"),
        ({"url": "not an address"}, "url"),
        ({"url": "https://user:pw@93.184.216.34/x"}, "url"),
        ({"url": "https://93.184.216.34/" + "x" * 2100}, "url"),
        ({"url": 7}, "url"),
        ({"events": []}, "events"),
        ({"events": "sites.*.update"}, "events"),
        ({"events": ["sites.*.deployments.*.updated"]}, "events"),
        ({"events": ["sites.*.update"] * 21}, "events"),
        ({"events": ["sites." + "a" * 300 + ".update"]}, "events"),
        ({"events": [3]}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": "x" * 300}, "secret"),
        ({"secret": "has spaces in it, sixteen+"}, "secret"),
        ({"enabled": "maybe"}, "enabled"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    client, team, body: dict[str, Any], field: str
) -> None:
    answer = _create(client, **body)
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["message"]
    assert answer.json()["type"] == "validation_error"
    assert not Webhook.objects.exists()


def test_a_patch_with_bad_input_changes_nothing(client, team) -> None:
    webhook_id = _create(client).json()["id"]
    answer = client.patch(
        f"/v1/teams/acme/webhooks/{webhook_id}",
        {"url": "http://10.0.0.8/x", "events": ["sites.*.update"]},
        format="json",
    )
    assert answer.status_code == 400
    assert "url" in answer.json()["message"]
    assert Webhook.objects.get().events == EVENTS


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://localhost/hook", "loopback"),
    ],
)
def test_addresses_git_urls_may_not_reach_are_refused(client, team, url: str, kind: str) -> None:
    answer = _create(client, url=url)
    assert answer.status_code == 400
    message = answer.json()["message"]
    assert message.startswith("url:")
    assert kind in message
    assert "SHIPWAY_OUTBOUND_ALLOW" in message


def test_an_allowed_network_may_be_delivered_to(client, team, settings) -> None:
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    assert _create(client, url="http://127.0.0.1:8000/hook").status_code == 201
    assert _create(client, url="http://10.1.2.3/hook").status_code == 400


def test_a_name_that_does_not_resolve_is_refused(client, team, fake_dns) -> None:
    fake_dns.answer("hooks.example.com")  # no addresses
    answer = _create(client, url="https://hooks.example.com/x")
    assert answer.status_code == 400
    assert "could not be resolved" in answer.json()["message"]
    fake_dns.answer("rebind.example.com", "10.0.0.1")
    assert _create(client, url="https://rebind.example.com/x").status_code == 400


def test_a_team_has_a_bounded_number_of_webhooks(client, team, settings) -> None:
    settings.SHIPWAY_WEBHOOKS_PER_TEAM = 2
    assert _create(client).status_code == 201
    assert _create(client).status_code == 201
    third = _create(client)
    assert third.status_code == 429, third.json()
    assert third.json()["type"] == "too_many"
    assert Webhook.objects.count() == 2


def test_developers_and_viewers_are_refused_other_teams_see_nothing(team) -> None:
    webhook, _ = services.webhook_create(team=team, url=PUBLIC_URL, events=EVENTS)
    for role in (Role.DEVELOPER, Role.VIEWER):
        member = api_client(add_member(team, role=role))
        assert member.get("/v1/teams/acme/webhooks").status_code == 403
        assert member.get(f"/v1/teams/acme/webhooks/{webhook.id}").status_code == 403
        assert _create(member).status_code == 403
    stranger = make_user("stranger")
    make_team(stranger, team_id="other")
    outsider = api_client(stranger)
    assert outsider.get("/v1/teams/acme/webhooks").status_code == 404
    assert outsider.get(f"/v1/teams/acme/webhooks/{webhook.id}").status_code == 404
    # Another team's webhook under one's own team: not found.
    assert outsider.get(f"/v1/teams/other/webhooks/{webhook.id}").status_code == 404
    assert outsider.delete(f"/v1/teams/other/webhooks/{webhook.id}").status_code == 404
    assert Webhook.objects.filter(pk=webhook.id).exists()
