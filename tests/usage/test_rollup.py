"""The roll-up adds each count exactly once: run twice, stopped after the rename, stopped
after its transaction committed, and never two at once."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import psycopg
import pytest

from tests.factories import make_site, make_team, make_user
from tests.live import test_database_url
from tests.usage.conftest import redis_counts, usage_keys
from usage import counting, services
from usage.models import RolledBatch, SiteUsage
from usage.services import usage_roll_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(usage_redis):  # type: ignore[no-untyped-def]
    return make_site(make_team(make_user()))


def _nothing_left(client, site) -> bool:  # type: ignore[no-untyped-def]
    """No pending batch and none of the site's counts left in Redis. (Other sites' may be:
    the edges of other tests in this session flush whenever their thread wakes.)"""
    pending = [k for k in usage_keys(client) if k.startswith(b"shipway:usage:pending:")]
    return (
        not pending
        and not client.scard(counting.PENDING)
        and redis_counts(client, site.uid.hex) == (0, 0)
    )


def _row(site) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    row = SiteUsage.objects.get(site=site)
    return row.requests, row.bandwidth_bytes


def test_twice_counts_once(site, usage_redis):
    label = counting.hour_label(time.time())
    counting.write(usage_redis, label, {site.uid.hex: [3, 300]})
    first = usage_roll_up()
    second = usage_roll_up()
    assert first is not None and first.batches >= 1 and first.requests >= 3
    assert second is not None
    assert _row(site) == (3, 300)
    assert SiteUsage.objects.get(site=site).hour == counting.hour_start(label)
    assert _nothing_left(usage_redis, site)


def test_counts_keep_adding_up_across_roll_ups(site, usage_redis):
    label = counting.hour_label(time.time())
    counting.write(usage_redis, label, {site.uid.hex: [1, 10]})
    usage_roll_up()
    counting.write(usage_redis, label, {site.uid.hex: [2, 20]})
    usage_roll_up()
    assert _row(site) == (3, 30)


def test_stopped_after_the_rename_loses_nothing(site, usage_redis):
    label = counting.hour_label(time.time())
    counting.write(usage_redis, label, {site.uid.hex: [3, 300]})
    taken = services._take(usage_redis, label)  # ...and the roll-up stopped there
    assert taken is not None
    counting.write(usage_redis, label, {site.uid.hex: [2, 200]})  # a flush after the rename
    done = usage_roll_up()
    assert done is not None and done.recovered == 1 and done.batches >= 2
    assert _row(site) == (5, 500)
    assert _nothing_left(usage_redis, site)


def test_stopped_after_the_commit_adds_nothing_twice(site, usage_redis, monkeypatch):
    label = counting.hour_label(time.time())
    counting.write(usage_redis, label, {site.uid.hex: [4, 400]})

    def crash(client, name):  # type: ignore[no-untyped-def]
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(services, "_forget", crash)
    with pytest.raises(RuntimeError):
        usage_roll_up()
    assert _row(site) == (4, 400)
    assert usage_redis.scard(counting.PENDING) == 1  # the pending key outlived its batch
    monkeypatch.undo()
    done = usage_roll_up()
    assert done is not None and done.recovered == 0
    assert _row(site) == (4, 400)
    assert _nothing_left(usage_redis, site)
    assert RolledBatch.objects.filter(name__startswith=f"shipway:usage:pending:{label}:").exists()


def test_one_roll_up_at_a_time(site, usage_redis):
    counting.write(usage_redis, counting.hour_label(time.time()), {site.uid.hex: [1, 1]})
    with psycopg.connect(test_database_url(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [services.ADVISORY_LOCK])
        assert usage_roll_up() is None  # the other one does the work
        other.execute("SELECT pg_advisory_unlock(%s)", [services.ADVISORY_LOCK])
    assert not SiteUsage.objects.filter(site=site).exists()
    usage_roll_up()
    assert _row(site) == (1, 1)


def test_hours_stay_apart_and_unknown_sites_are_dropped(site, usage_redis):
    now = time.time()
    earlier = counting.hour_label(now - 3 * 3600)
    counting.write(
        usage_redis,
        earlier,
        {site.uid.hex: [7, 70], uuid.uuid4().hex: [5, 50], "not-a-uid": [1, 1]},
    )
    counting.write(usage_redis, counting.hour_label(now), {site.uid.hex: [1, 10]})
    usage_roll_up()
    rows = {row.hour: row.requests for row in SiteUsage.objects.filter(site=site)}
    assert rows == {
        counting.hour_start(earlier): 7,
        counting.hour_start(earlier) + timedelta(hours=3): 1,
    }
    assert not SiteUsage.objects.exclude(site=site).exists()
    assert _nothing_left(usage_redis, site)
