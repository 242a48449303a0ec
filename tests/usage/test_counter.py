"""The edge's counter on its own: a Redis that refuses a flush loses no count, and each
batch goes to the hour its window began in."""

from __future__ import annotations

import socket
import time

from tests.usage.conftest import redis_counts
from usage import counting


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens on it once the socket is closed


def test_a_refused_flush_keeps_the_counts_for_the_next(usage_redis, settings):
    counter = counting.Counter(f"redis://127.0.0.1:{_closed_port()}/0", 3600)
    counter.add("site-x", 100)
    counter.add("site-x", 50)
    counter.flush()  # Redis away: kept, nothing raised
    assert counter.pending() == {}
    counter.add("site-x", 1)
    counter._url = settings.REDIS_URL  # Redis is back
    counter.flush()
    assert redis_counts(usage_redis, "site-x") == (3, 151)
    counter.flush()  # nothing more to send: nothing sent twice
    assert redis_counts(usage_redis, "site-x") == (3, 151)


def test_a_batch_goes_to_the_hour_its_window_began_in(usage_redis, settings):
    counter = counting.Counter(settings.REDIS_URL, 3600)
    earlier = counting.hour_label(time.time() - 3600)
    counter._label = earlier  # the window opened in the previous hour
    counter.add("site-y", 10)
    counter.flush()
    assert usage_redis.hget(counting.live_key(earlier), "r:site-y") == b"1"
    assert usage_redis.sismember(counting.HOURS, earlier)
    counter.add("site-y", 10)
    counter.flush()  # the next window is this hour's
    now = counting.hour_label(time.time())
    assert usage_redis.hget(counting.live_key(now), "r:site-y") == b"1"
