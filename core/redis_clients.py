"""One Redis client (so one connection pool) per URL per process, for quick commands.

A new client per call opened a new connection each time (the edge's invalidation did,
4 times per build: bench/RESULTS.md, "Builds"). redis-py's pool notices a fork and
starts afresh in the child.

Also what a subscriber that keeps reconnecting says of its connection (ListenerLog).
"""

from functools import cache

import redis
import structlog

TIMEOUT = 0.5  # seconds: a Redis that hangs must not hold up what it would only speed up


@cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)


class ListenerLog:
    """The log of a Redis subscriber that reconnects while Redis is away: one warning when
    it loses Redis, one line once it is subscribed again, nothing on each retry between.
    A traceback only for what is not a Redis error (an outage or a refused password is
    not a bug in the listener)."""

    def __init__(self, log: structlog.stdlib.BoundLogger, *, lost: str, back: str) -> None:
        self._log = log  # the listener's module's own, so its logger name stays
        self._lost_event = lost
        self._back_event = back
        self._lost = False

    def subscribed(self) -> None:
        if self._lost:
            self._log.info(self._back_event)
            self._lost = False

    def failed(self, exc: Exception) -> None:
        if not self._lost:
            self._log.warning(
                self._lost_event,
                error=repr(exc),
                exc_info=not isinstance(exc, redis.RedisError),
            )
        self._lost = True
