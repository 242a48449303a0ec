"""One Redis client (so one connection pool) per URL per process, for quick commands.

A new client per call opened a new connection each time (the edge's invalidation did,
4 times per build: bench/RESULTS.md, "Builds"). redis-py's pool notices a fork and
starts afresh in the child.
"""

from functools import cache

import redis

TIMEOUT = 0.5  # seconds: a Redis that hangs must not hold up what it would only speed up


@cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
