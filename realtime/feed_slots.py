"""How many realtime feeds each user has open, across every web process.

Each open feed holds a place: a member of a Redis sorted set per user, scored with the
time its place lapses unless renewed. The feed renews its place while it is open and
gives it back when it closes; a process that dies without giving its places back loses
them within LAPSE seconds. Taking a place is one Lua script (atomic: two feeds opening
at once cannot both take the last place). Without Redis, places are counted in this
process. If Redis does not answer, the feed is let in (the limit is a guard against one
user holding the server's connections, not a reason to refuse service).
"""

from __future__ import annotations

import functools
import threading
import time
from collections import defaultdict
from typing import Any

import redis
import structlog
from django.conf import settings

from core.redis_clients import redis_client

log = structlog.get_logger(__name__)

LAPSE = 90  # seconds a place is held without being renewed
RENEW_EVERY = 30

_TAKE = """
local key, now, lapse, limit, member =
  KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if not redis.call('ZSCORE', key, member) and redis.call('ZCARD', key) >= limit then
  return 0
end
redis.call('ZADD', key, now + lapse, member)
redis.call('EXPIRE', key, lapse)
return 1
"""

_local: defaultdict[int, set[str]] = defaultdict(set)
_local_lock = threading.Lock()


def limit() -> int:
    return settings.SHIPWAY_REALTIME_MAX_CONNECTIONS_PER_USER


def _key(user_id: int) -> str:
    return f"shipway:realtime:feeds:{user_id}"


def _redis() -> redis.Redis | None:
    return redis_client(settings.REDIS_URL) if settings.REDIS_URL else None


@functools.cache
def _script(client: redis.Redis) -> Any:
    return client.register_script(_TAKE)


def take(user_id: int, feed: str) -> bool:
    """Take a place for `feed` (any unique name); False when the user has none left."""
    most = limit()
    if most <= 0:
        return True  # no limit
    client = _redis()
    if client is None:
        with _local_lock:
            if len(_local[user_id]) >= most:
                return False
            _local[user_id].add(feed)
            return True
    try:
        return bool(_script(client)(keys=[_key(user_id)], args=[time.time(), LAPSE, most, feed]))
    except redis.RedisError:
        log.warning("realtime.slots_unavailable", user_id=user_id, exc_info=True)
        return True


def renew(user_id: int, feed: str) -> None:
    client = _redis()
    if client is None or limit() <= 0:
        return
    try:
        pipe = client.pipeline()
        pipe.zadd(_key(user_id), {feed: time.time() + LAPSE}, xx=True)
        pipe.expire(_key(user_id), LAPSE)
        pipe.execute()
    except redis.RedisError:
        log.warning("realtime.slots_unavailable", user_id=user_id, exc_info=True)


def give_back(user_id: int, feed: str) -> None:
    client = _redis()
    if client is None:
        with _local_lock:
            _local[user_id].discard(feed)
            if not _local[user_id]:
                del _local[user_id]
        return
    try:
        client.zrem(_key(user_id), feed)
    except redis.RedisError:
        log.warning("realtime.slots_unavailable", user_id=user_id, exc_info=True)
