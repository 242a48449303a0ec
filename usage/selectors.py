"""A site's usage over a range, as the API and the dashboard show it: totals and a
series per figure (hourly points for 24h, daily for 7d and 30d, UTC, zeros filled).

Fresh: the hours still in Redis (not rolled up yet) are added to the rows, and the build
figures of the hours since the last roll-up are read from the deployments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
import structlog
from django.conf import settings
from django.db.models import F, Sum
from django.utils import timezone

from core.errors import Invalid
from core.redis_clients import redis_client
from deployments.models import Deployment
from sites.models import Site
from usage import counting
from usage.builds import build_figures, floor_hour
from usage.models import RollupState, SiteUsage

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Range:
    name: str
    points: int
    step: timedelta


RANGES = {
    "24h": Range("24h", 24, timedelta(hours=1)),
    "7d": Range("7d", 7, timedelta(days=1)),
    "30d": Range("30d", 30, timedelta(days=1)),
}


def parse_range(value: str | None) -> Range:
    """The range named by `?range=` (24h when absent); Invalid naming `range` otherwise."""
    if value is None or value == "":
        return RANGES["24h"]
    found = RANGES.get(value)
    if found is None:
        raise Invalid({"range": f"'{value[:40]}' is not one of 24h, 7d, 30d."})
    return found


def _bucket(at: datetime, step: timedelta) -> datetime:
    hour = floor_hour(at)
    return hour if step == timedelta(hours=1) else hour.replace(hour=0)


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def site_usage(*, site: Site, period: Range, now: datetime | None = None) -> dict[str, Any]:
    """The usage answer of docs/api.md ("Usage") for `site` over `period`, ending now."""
    now = now or timezone.now()
    first = _bucket(now, period.step) - period.step * (period.points - 1)
    buckets = [first + period.step * i for i in range(period.points)]
    requests = dict.fromkeys(buckets, 0)
    sent = dict.fromkeys(buckets, 0)
    build_seconds = dict.fromkeys(buckets, 0.0)
    deployments = 0
    rows = SiteUsage.objects.filter(site=site, hour__gte=first).values_list(
        "hour", "requests", "bandwidth_bytes", "build_seconds", "deployments"
    )
    by_hour: dict[datetime, list[float]] = {}
    for hour, hour_requests, hour_sent, seconds, made in rows:
        by_hour[hour] = [hour_requests, hour_sent, seconds, made]
    # Build figures not rolled up yet: read from the deployments (the same figures the
    # roll-up will write; a row already holding more keeps it).
    state = RollupState.objects.filter(pk=1).values_list("builds_through", flat=True).first()
    since = max(first, state) if state else first
    for (_site, hour), (seconds, made) in build_figures(since=since, site_ids=[site.id]).items():
        entry = by_hour.setdefault(hour, [0, 0, 0.0, 0])
        entry[2] = max(float(entry[2]), seconds)
        entry[3] = max(entry[3], made)
    for hour, (hour_requests, hour_sent) in _not_rolled_up(site, first).items():
        entry = by_hour.setdefault(hour, [0, 0, 0.0, 0])
        entry[0] += hour_requests
        entry[1] += hour_sent
    for hour, figures in by_hour.items():
        bucket = _bucket(hour, period.step)
        if bucket not in requests:
            continue
        requests[bucket] += int(figures[0])
        sent[bucket] += int(figures[1])
        build_seconds[bucket] += float(figures[2])
        deployments += int(figures[3])
    # Deployments not deleted (the default manager): a deleted one's files are removed.
    stored = Deployment.objects.filter(site=site).aggregate(
        total=Sum(F("source_size") + F("output_size"))
    )["total"]
    return {
        "range": period.name,
        "buildSeconds": round(sum(build_seconds.values()), 3),
        "deployments": deployments,
        "storageBytes": int(stored or 0),
        "requests": sum(requests.values()),
        "bandwidthBytes": sum(sent.values()),
        "series": {
            "requests": [{"time": _time(b), "value": requests[b]} for b in buckets],
            "bandwidthBytes": [{"time": _time(b), "value": sent[b]} for b in buckets],
            "buildSeconds": [
                {"time": _time(b), "value": round(build_seconds[b], 3)} for b in buckets
            ],
        },
    }


def _not_rolled_up(site: Site, first: datetime) -> dict[datetime, tuple[int, int]]:
    """The site's counts still in Redis's live hashes, by hour, from `first`. A batch a
    roll-up is adding at this moment is in neither place for those milliseconds."""
    if not settings.REDIS_URL:
        return {}
    client = redis_client(settings.REDIS_URL)
    try:
        labels = sorted(
            label
            for label in (counting.text(h) for h in client.smembers(counting.HOURS))
            if counting.hour_start(label) >= first
        )
        pipe = client.pipeline(transaction=False)
        for label in labels:
            pipe.hmget(counting.live_key(label), "r:" + site.uid.hex, "b:" + site.uid.hex)
        answers = pipe.execute()
    except redis.RedisError as exc:
        log.warning("usage.live_counts_unavailable", site_id=site.id, error=repr(exc))
        return {}
    found: dict[datetime, tuple[int, int]] = {}
    for label, (hour_requests, hour_sent) in zip(labels, answers, strict=True):
        if hour_requests or hour_sent:
            found[counting.hour_start(label)] = (int(hour_requests or 0), int(hour_sent or 0))
    return found
