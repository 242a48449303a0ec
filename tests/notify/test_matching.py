"""Every published event is matched against its team's webhooks, cheaply: a site whose
team's patterns are known costs no query per event (build log chunks come many a
second), and a change to the webhooks is seen at once."""

from __future__ import annotations

import pytest

from core import events
from deployments.services import log_append
from notify import matching, services
from notify.models import WebhookDelivery
from tests.dashboard.conftest import waiting_deployment
from tests.factories import make_site, make_team, make_user

pytestmark = pytest.mark.django_db

URL = "https://93.184.216.34/hook"
TIMESTAMP = "2026-12-02T13:00:00Z"


def _log_chunk(site_id: str, n: int = 0) -> None:
    channel = f"sites.{site_id}.deployments.d1.logs"
    events.send(
        events=[f"{channel}.create"],
        channels=[channel],
        payload={"deploymentId": "d1", "offset": n, "text": "npm run build\n"},
    )


def _update(site_id: str) -> None:
    channel = f"sites.{site_id}.deployments.d1"
    events.send(
        events=[f"{channel}.update"],
        channels=[f"sites.{site_id}", f"sites.{site_id}.deployments", channel],
        payload={"id": "d1", "siteId": site_id, "status": "ready"},
    )


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    return make_team(make_user("owner"), team_id="acme")


def test_log_chunks_cost_no_query_once_the_sites_webhooks_are_known(
    team, django_assert_num_queries
) -> None:
    make_site(team, "blog")
    make_site(team, "quiet")
    services.webhook_create(team=team, url=URL, events=["sites.*.deployments.*.update"])
    _log_chunk("blog")  # learns the site's team and its patterns
    _log_chunk("quiet")
    with django_assert_num_queries(0):
        for n in range(200):
            _log_chunk("blog", n)
            _log_chunk("quiet", n)
    assert not WebhookDelivery.objects.exists()
    _update("blog")
    assert WebhookDelivery.objects.get().event == "sites.blog.deployments.d1.update"


def test_a_team_without_webhooks_costs_no_query_either(django_assert_num_queries) -> None:
    team = make_team(make_user("other"), team_id="plain")
    make_site(team, "alone")
    _update("alone")
    with django_assert_num_queries(0):
        for n in range(100):
            _log_chunk("alone", n)
            _update("alone")
    assert not WebhookDelivery.objects.exists()


def test_a_real_log_append_publishes_without_a_query_in_notify(
    team, django_assert_num_queries, django_capture_on_commit_callbacks
) -> None:
    site = make_site(team, "blog")
    services.webhook_create(team=team, url=URL, events=["sites.*.deployments.*.update"])
    deployment = waiting_deployment(site)
    with django_capture_on_commit_callbacks(execute=True):
        log_append(deployment, "warm\n")
    for n in range(20):
        with django_capture_on_commit_callbacks() as published:
            log_append(deployment, f"line {n}\n")
        assert len(published) == 1
        with django_assert_num_queries(0):
            published[0]()  # events.send, and notify's matching behind it
    assert not WebhookDelivery.objects.exists()


def test_webhook_changes_are_seen_at_once(team) -> None:
    make_site(team, "blog")
    _update("blog")  # known: no webhooks
    webhook, _ = services.webhook_create(
        team=team, url=URL, events=["sites.*.deployments.*.update"]
    )
    _update("blog")
    assert WebhookDelivery.objects.count() == 1
    services.webhook_update(webhook=webhook, enabled=False)
    _update("blog")
    assert WebhookDelivery.objects.count() == 1
    services.webhook_update(webhook=webhook, enabled=True, events=["sites.*.update"])
    _update("blog")  # its names: sites.blog.deployments.d1.update only
    assert WebhookDelivery.objects.count() == 1
    services.webhook_update(webhook=webhook, events=["sites.blog.deployments.*.*"])
    _update("blog")
    assert WebhookDelivery.objects.count() == 2
    services.webhook_delete(webhook=webhook)
    _update("blog")
    assert not WebhookDelivery.objects.exists()


def test_a_webhook_hears_only_its_own_teams_sites(team) -> None:
    make_site(team, "blog")
    other = make_team(make_user("stranger"), team_id="other")
    make_site(other, "theirs")
    mine, _ = services.webhook_create(team=team, url=URL, events=["sites.*.deployments.*.*"])
    theirs, _ = services.webhook_create(team=other, url=URL, events=["sites.*.deployments.*.*"])
    _update("blog")
    _update("theirs")
    _update("no-such-site")
    assert list(WebhookDelivery.objects.filter(webhook=mine).values_list("event", flat=True)) == [
        "sites.blog.deployments.d1.update"
    ]
    assert list(WebhookDelivery.objects.filter(webhook=theirs).values_list("event", flat=True)) == [
        "sites.theirs.deployments.d1.update"
    ]


def test_each_matching_webhook_gets_one_delivery_per_event(team) -> None:
    make_site(team, "blog")
    one, _ = services.webhook_create(
        team=team, url=URL, events=["sites.*.deployments.*.update", "sites.blog.*.*.*"]
    )
    two, _ = services.webhook_create(team=team, url=URL, events=["sites.blog.deployments.d1.*"])
    services.webhook_create(team=team, url=URL, events=["sites.*.delete"])
    _update("blog")
    assert sorted(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == sorted(
        [one.id, two.id]
    )


def test_a_deleted_sites_event_reaches_its_teams_webhooks(team) -> None:
    from sites import services as site_services

    site = make_site(team, "gone")
    services.webhook_create(team=team, url=URL, events=["sites.*.delete"])
    _update("gone")  # the site is known...
    site_services.site_delete(site=site)  # ...and gone (its event's payload names the team)
    events.send(
        events=["sites.gone.delete"],
        channels=["sites.gone"],
        payload={"id": "gone", "teamId": "acme"},
    )
    assert WebhookDelivery.objects.get().event == "sites.gone.delete"


def test_only_the_newest_deliveries_of_a_webhook_are_kept(team, settings) -> None:
    settings.SHIPWAY_WEBHOOK_KEEP_DELIVERIES = 3
    make_site(team, "blog")
    services.webhook_create(team=team, url=URL, events=["sites.*.deployments.*.update"])
    for _ in range(5):
        _update("blog")
    assert WebhookDelivery.objects.count() == 3


def test_a_failure_in_notify_never_fails_the_publisher(team, monkeypatch) -> None:
    make_site(team, "blog")
    services.webhook_create(team=team, url=URL, events=["sites.*.deployments.*.update"])

    def broken(**_: object) -> None:
        raise RuntimeError("notify is broken")

    monkeypatch.setattr(services, "webhook_delivery_create", broken)
    _update("blog")  # no exception
    monkeypatch.setattr(matching, "hooks_for", broken)
    _update("blog")
    assert not WebhookDelivery.objects.exists()


def test_without_the_read_caches_generation_every_event_asks_the_database(
    team, settings, django_assert_num_queries
) -> None:
    """The read cache turned off while Redis carries everything else: another process's
    webhook change could not be heard, so nothing is kept."""
    settings.SHIPWAY_READ_CACHE_URL = ""
    make_site(team, "blog")
    _log_chunk("blog")
    with django_assert_num_queries(2):  # the site's team, the team's webhooks
        _log_chunk("blog")
