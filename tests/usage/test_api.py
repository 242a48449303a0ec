"""GET /v1/sites/{siteId}/usage: ranges and their points, zeros filled, build seconds and
deployments counted (and kept by the roll-up), stored bytes, a bad range."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from deployments.models import Deployment
from deployments.services import deployment_delete
from sites import services as site_services
from tests.edge.conftest import publish
from tests.factories import api_client, eager_builds, make_site, make_team, make_user
from usage import counting
from usage.models import SiteUsage
from usage.services import usage_roll_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(usage_redis):  # type: ignore[no-untyped-def]
    owner = make_user()
    return make_site(make_team(owner), framework="static"), api_client(owner)


def _hour_now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@pytest.mark.parametrize(
    ("name", "points", "step"),
    [("24h", 24, timedelta(hours=1)), ("7d", 7, timedelta(days=1)), ("30d", 30, timedelta(days=1))],
)
def test_ranges_are_zero_filled(owned, name, points, step):
    site, client = owned
    answer = client.get(f"/v1/sites/{site.id}/usage?range={name}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["range"] == name
    assert {k: body[k] for k in ("buildSeconds", "deployments", "requests", "bandwidthBytes")} == {
        "buildSeconds": 0,
        "deployments": 0,
        "requests": 0,
        "bandwidthBytes": 0,
    }
    last = _hour_now() if step == timedelta(hours=1) else _hour_now().replace(hour=0)
    for series in ("requests", "bandwidthBytes", "buildSeconds"):
        points_of = body["series"][series]
        assert len(points_of) == points
        assert {p["value"] for p in points_of} == {0}
        times = [datetime.strptime(p["time"], "%Y-%m-%dT%H:%M:%SZ") for p in points_of]
        assert times[-1].replace(tzinfo=UTC) == last
        assert all(b - a == step for a, b in itertools.pairwise(times))


def test_default_range_is_24h(owned):
    site, client = owned
    assert client.get(f"/v1/sites/{site.id}/usage").json()["range"] == "24h"


@pytest.mark.parametrize("value", ["1h", "24H", "7days", "x" * 500])
def test_bad_range_is_a_400_naming_it(owned, value):
    site, client = owned
    answer = client.get(f"/v1/sites/{site.id}/usage", {"range": value})
    assert answer.status_code == 400
    body = answer.json()
    assert body["type"] == "validation_error"
    assert "range" in body["message"]
    assert len(body["message"]) < 200


def test_counts_land_in_their_hour_and_day(owned, usage_redis):
    site, client = owned
    now = time.time()
    three_days_ago = counting.hour_label(now - 3 * 86400)
    two_hours_ago = counting.hour_label(now - 2 * 3600)
    counting.write(usage_redis, three_days_ago, {site.uid.hex: [10, 1000]})
    counting.write(usage_redis, two_hours_ago, {site.uid.hex: [4, 40]})
    usage_roll_up()
    counting.write(usage_redis, counting.hour_label(now), {site.uid.hex: [1, 5]})  # not rolled up
    day = client.get(f"/v1/sites/{site.id}/usage?range=24h").json()
    assert (day["requests"], day["bandwidthBytes"]) == (5, 45)
    assert [p["value"] for p in day["series"]["requests"]][-3:] == [4, 0, 1]
    week = client.get(f"/v1/sites/{site.id}/usage?range=7d").json()
    assert (week["requests"], week["bandwidthBytes"]) == (15, 1045)
    by_day = {p["time"][:10]: p["value"] for p in week["series"]["requests"]}
    assert by_day[counting.hour_start(three_days_ago).strftime("%Y-%m-%d")] == 10


@pytest.mark.django_db(transaction=True)  # the build runs on commit
def test_build_seconds_and_deployments(owned, usage_redis):
    site, client = owned
    first = publish(site, {"index.html": "<p>one</p>"})
    second = publish(site, {"index.html": "<p>two</p>" * 100})
    ended = datetime.now(UTC)
    Deployment.objects.filter(pk=first.pk).update(
        build_started_at=ended - timedelta(seconds=30), build_ended_at=ended
    )
    Deployment.objects.filter(pk=second.pk).update(
        build_started_at=ended - timedelta(seconds=90), build_ended_at=ended
    )
    stored = sum(d.source_size + d.output_size for d in Deployment.objects.filter(site=site))
    assert stored > 0
    fresh = client.get(f"/v1/sites/{site.id}/usage").json()  # before any roll-up
    assert (fresh["deployments"], fresh["buildSeconds"]) == (2, 120.0)
    assert fresh["series"]["buildSeconds"][-1]["value"] == 120.0
    assert fresh["storageBytes"] == stored
    usage_roll_up()
    usage_roll_up()
    rolled = client.get(f"/v1/sites/{site.id}/usage?range=30d").json()
    assert (rolled["deployments"], rolled["buildSeconds"]) == (2, 120.0)
    # A deployment deleted (as retention does) keeps its count; its files are gone.
    with eager_builds():
        deployment_delete(deployment=first)
    assert (client.get(f"/v1/sites/{site.id}/usage").json()["deployments"]) == 2
    usage_roll_up()
    kept = client.get(f"/v1/sites/{site.id}/usage").json()
    assert (kept["deployments"], kept["buildSeconds"]) == (2, 120.0)
    assert kept["storageBytes"] == stored - first.source_size - first.output_size


def test_other_sites_counts_are_not_shown(owned, usage_redis):
    site, client = owned
    other = make_site(make_team(make_user()), framework="static")
    counting.write(usage_redis, counting.hour_label(time.time()), {other.uid.hex: [9, 90]})
    assert client.get(f"/v1/sites/{site.id}/usage").json()["requests"] == 0
    assert client.get(f"/v1/sites/{other.id}/usage").status_code == 404


def test_a_new_site_of_a_deleted_ones_id_starts_from_zero(usage_redis):
    owner = make_user()
    team = make_team(owner)
    old = make_site(team, "reused", framework="static")
    counting.write(usage_redis, counting.hour_label(time.time()), {old.uid.hex: [9, 90]})
    site_services.site_delete(site=old)
    new = make_site(team, "reused", framework="static")
    answer = api_client(owner).get("/v1/sites/reused/usage").json()
    assert (answer["requests"], answer["bandwidthBytes"]) == (0, 0)
    usage_roll_up()  # the old site's counts have no site to go to
    assert not SiteUsage.objects.filter(site=new).exclude(requests=0).exists()
