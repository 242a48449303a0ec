"""Usage test helpers: Redis's usage keys emptied around each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from tests.edge.conftest import static_site  # noqa: F401  # a public static site
from usage import counting


def usage_keys(client: redis.Redis) -> list[bytes]:
    return list(client.scan_iter(match=counting.PREFIX + "*", count=1000))


@pytest.fixture
def usage_redis(settings) -> Iterator[redis.Redis]:
    """The Redis the usage keys live in, without any of them before and after the test;
    the edge flushes often (tests wait for counts, never for a fixed time)."""
    url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    if not url:
        pytest.skip("usage counts need Redis (REDIS_URL)")
    settings.REDIS_URL = url
    settings.SHIPWAY_USAGE_COUNTING = True
    settings.SHIPWAY_USAGE_FLUSH_SECONDS = 0.1
    client = redis.Redis.from_url(url)
    for key in usage_keys(client):
        client.delete(key)
    yield client
    for key in usage_keys(client):
        client.delete(key)


def redis_counts(client: redis.Redis, site_uid: str) -> tuple[int, int]:
    """The site's (requests, bytes) in Redis's live hashes (by Site.uid, hex), every hour
    summed."""
    requests = sent = 0
    for label in client.smembers(counting.HOURS):
        key = counting.live_key(counting.text(label))
        found = client.hmget(key, "r:" + site_uid, "b:" + site_uid)
        requests += int(found[0] or 0)
        sent += int(found[1] or 0)
    return requests, sent
