"""The roll-up: the edge's hourly counts from Redis, and the builds' seconds and
deployments from their rows, into SiteUsage (one row per site and hour).

Each count is added exactly once, whatever step a roll-up stops at. One roll-up runs at a
time (a PostgreSQL advisory lock). For each hour listed in Redis, the hour's live hash is
renamed (atomically, in a Lua script that also lists the new name in `pending`) to a
pending key of its own: flushes after that go into a fresh live hash. The pending hash's
counts are then added to SiteUsage in one transaction that also records the pending
key's name (RolledBatch); after that commits, the pending key is deleted. A roll-up that
stopped midway leaves a pending key, which the next one finds first: recorded, it was
added already and is only deleted; not recorded, it is added now.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.redis_clients import redis_client
from sites.models import Site
from usage import counting
from usage.builds import build_figures, floor_hour
from usage.models import RolledBatch, RollupState, SiteUsage

log = structlog.get_logger(__name__)

# pg_try_advisory_lock's key for the roll-up ("usage" in ASCII).
ADVISORY_LOCK = 0x7573616765
# RolledBatch rows are kept this long: a pending key is deleted right after its batch
# commits, or by the next roll-up, long before.
BATCHES_KEPT = timedelta(days=7)
# The builds of the hour before builds_through are looked at again (a build that ended
# just before the hour turned may commit just after a roll-up read it).
BUILDS_AGAIN = timedelta(hours=1)

# Rename the hour's live hash to its pending name and list it, or, when the hash is gone
# (rolled up and not written since), forget the hour: atomic against the flushes' MULTI.
_TAKE = """
if redis.call('exists', KEYS[1]) == 1 then
  redis.call('sadd', KEYS[4], KEYS[2])
  redis.call('rename', KEYS[1], KEYS[2])
  return 1
end
redis.call('srem', KEYS[3], ARGV[1])
return 0
"""


@dataclass(frozen=True)
class RollUp:
    """What one roll-up did."""

    batches: int  # pending hashes added to SiteUsage
    recovered: int  # of which a stopped roll-up had left
    requests: int
    bandwidth_bytes: int


@contextmanager
def _advisory_lock() -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK])


def usage_roll_up(*, now: datetime | None = None) -> RollUp | None:
    """Move the edge's counts from Redis into SiteUsage and bring the build figures up
    to `now`. None when another roll-up holds the lock (it does the same work)."""
    now = now or timezone.now()
    with _advisory_lock() as got:
        if not got:
            log.info("usage.rollup_skipped", reason="another roll-up runs")
            return None
        client = redis_client(settings.REDIS_URL)
        totals = [0, 0]
        recovered = 0
        for name in sorted(counting.text(n) for n in client.smembers(counting.PENDING)):
            recovered += _add(client, name, totals)
        batches = recovered
        for label in sorted(counting.text(h) for h in client.smembers(counting.HOURS)):
            taken = _take(client, label)
            if taken is not None:
                batches += _add(client, taken, totals)
        _roll_up_builds(now)
        RolledBatch.objects.filter(created_at__lt=now - BATCHES_KEPT).delete()
    result = RollUp(
        batches=batches, recovered=recovered, requests=totals[0], bandwidth_bytes=totals[1]
    )
    log.info(
        "usage.rolled_up",
        batches=batches,
        recovered=recovered,
        requests=totals[0],
        bandwidth_bytes=totals[1],
    )
    return result


def _take(client: redis.Redis, label: str) -> str | None:
    """The hour's live hash under a pending name of its own (None: it had none)."""
    name = counting.pending_key(label, secrets.token_hex(6))
    keys = [counting.live_key(label), name, counting.HOURS, counting.PENDING]
    moved = client.eval(_TAKE, len(keys), *keys, label)
    return name if moved else None


def _add(client: redis.Redis, name: str, totals: list[int]) -> int:
    """Add a pending hash to SiteUsage once (1 when this call added it), then forget it."""
    added = 0
    if not RolledBatch.objects.filter(name=name).exists():
        counts = counting.parse_counts(client.hgetall(name))
        hour = counting.hour_start(counting.label_of_pending(name))
        with transaction.atomic():
            _add_counts(hour, counts)
            RolledBatch.objects.create(name=name)
        for requests, sent in counts.values():
            totals[0] += requests
            totals[1] += sent
        added = 1
    _forget(client, name)
    return added


def _add_counts(hour: datetime, counts: dict[str, list[int]]) -> None:
    """Add {site uid: [requests, bytes]} to the hour's rows. A site deleted since its
    requests were counted has nothing to add them to (and a field that is no uid is
    nobody's)."""
    uids = []
    for uid in counts:
        with contextlib.suppress(ValueError):
            uids.append(uuid.UUID(hex=uid))
    known = {
        site_id: uid.hex
        for site_id, uid in Site.objects.filter(uid__in=uids).values_list("pk", "uid")
    }
    rows = {
        row.site_id: row
        for row in SiteUsage.objects.select_for_update().filter(site_id__in=known, hour=hour)
    }
    for site_id in sorted(known):
        requests, sent = counts[known[site_id]]
        if site_id in rows:
            SiteUsage.objects.filter(pk=rows[site_id].pk).update(
                requests=F("requests") + requests, bandwidth_bytes=F("bandwidth_bytes") + sent
            )
        else:
            SiteUsage.objects.create(
                site_id=site_id, hour=hour, requests=requests, bandwidth_bytes=sent
            )


def _forget(client: redis.Redis, name: str) -> None:
    pipe = client.pipeline(transaction=True)
    pipe.delete(name)
    pipe.srem(counting.PENDING, name)
    pipe.execute()


def _roll_up_builds(now: datetime) -> None:
    """Build seconds and deployments of the hours since the last roll-up (and the one
    before it), from the deployments' rows. Figures only grow: a deployment deleted
    since it was counted keeps its count."""
    with transaction.atomic():
        state, _ = RollupState.objects.select_for_update().get_or_create(pk=1)
        since = state.builds_through - BUILDS_AGAIN if state.builds_through else None
        figures = build_figures(since=since)
        rows = {
            (row.site_id, row.hour): row
            for row in SiteUsage.objects.select_for_update().filter(
                **({"hour__gte": since} if since else {}),
                site_id__in={site_id for site_id, _hour in figures},
            )
        }
        for (site_id, hour), (seconds, made) in sorted(figures.items()):
            row = rows.get((site_id, hour))
            if row is None:
                SiteUsage.objects.create(
                    site_id=site_id, hour=hour, build_seconds=seconds, deployments=made
                )
            elif seconds > row.build_seconds or made > row.deployments:
                row.build_seconds = max(row.build_seconds, seconds)
                row.deployments = max(row.deployments, made)
                row.save(update_fields=["build_seconds", "deployments"])
        state.builds_through = floor_hour(now)
        state.save(update_fields=["builds_through"])
