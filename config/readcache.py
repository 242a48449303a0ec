"""A cache for the API's hot reads, dropped as a whole whenever what they show changes.

`GET /v1/sites` with an API key is what clients poll. Answering it from PostgreSQL costs
an indexed key lookup plus a permission-filtered page (planning alone ~2 ms); from here
it is two Redis round trips (bench/RESULTS.md, "API").

Every entry carries the *generation* it was read in: a number in Redis that
`invalidate()` moves on whenever a watched model changes (sites, their object
permissions, teams, memberships, role groups, users and API keys; see `connect`), at
once and again after the transaction commits. A request takes the generation once,
before it queries, and only uses entries of that generation; what it reads it stores
under that generation. So an entry read before a change is never used once the change
is visible. Entries also expire after `TTL` seconds, which bounds any write that
bypasses the ORM.

It talks to Redis directly, not through Django's cache (which costs twice the time per
call), and a request's first `get` fetches the generation and every key `prefetch`ed so
far in one MGET: a cached API-key list is one round trip. The cache failing is never an
error: reads fall through to the database.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from typing import Any

import redis
import structlog
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest

from config.redis_clients import redis_client

log = structlog.get_logger(__name__)

TTL = 300
PREFIX = "shipway:readcache:"
GENERATION_KEY = PREFIX + "generation"
# Every model whose rows change what a cached read shows (or who may read it).
WATCHED_MODELS = (
    "sites.Site",
    "sites.SiteGroupObjectPermission",
    "sites.SiteUserObjectPermission",
    "accounts.Team",
    "accounts.Membership",
    "accounts.ApiKey",
    "auth.Group",
    settings.AUTH_USER_MODEL,
)
_MEMO = "_readcache"  # per request: the generation and what the first MGET fetched


def _redis() -> redis.Redis | None:
    url = settings.SHIPWAY_READ_CACHE_URL
    return redis_client(url) if url else None


def _key(parts: tuple[Any, ...]) -> str:
    # The database's name too: two installations (or test runs) may share one Redis.
    database = connection.settings_dict["NAME"]
    text = "\x00".join(map(str, (database, *parts)))
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()[:40]


def _decode(raw: bytes | None, current: int) -> Any:
    if raw is None:
        return None
    generation, value = pickle.loads(raw)  # noqa: S301 (written by this module only)
    return value if generation == current else None


class _Memo:
    def __init__(self) -> None:
        self.generation: int | None = None
        self.fetched: dict[str, bytes | None] = {}
        self.wanted: list[str] = []


def _memo(request: HttpRequest) -> _Memo:
    request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    memo = getattr(request, _MEMO, None)
    if memo is None:
        memo = _Memo()
        setattr(request, _MEMO, memo)
    return memo


def prefetch(request: HttpRequest, *parts: Any) -> None:
    """Fetch `parts` along with the request's first `get` (a round trip saved)."""
    _memo(request).wanted.append(_key(parts))


def get(request: HttpRequest, *parts: Any) -> Any:
    """The value stored under `parts` in this request's generation, or None.

    The request's first call reads the generation, and anything prefetched, with it."""
    client = _redis()
    if client is None:
        return None
    memo, key = _memo(request), _key(parts)
    try:
        if memo.generation is None:
            keys = [key, *memo.wanted]
            current, *values = client.mget(GENERATION_KEY, *keys)
            if current is None:  # never restart from a number an older entry carries
                client.set(GENERATION_KEY, time.time_ns(), nx=True)
                current, values = client.get(GENERATION_KEY), [None] * len(keys)
            memo.generation = int(current)
            memo.fetched = dict(zip(keys, values, strict=True))
        raw = memo.fetched[key] if key in memo.fetched else client.get(key)
        return _decode(raw, memo.generation)
    except (redis.RedisError, pickle.UnpicklingError, ValueError, TypeError):
        log.warning("readcache.unavailable", exc_info=True)
        return None


def put(request: HttpRequest, value: Any, *parts: Any) -> None:
    """Store `value` under `parts` in the generation this request read (by `get`)."""
    client = _redis()
    current = _memo(request).generation
    if client is None or current is None:
        return
    try:
        client.set(_key(parts), pickle.dumps((current, value)), ex=TTL)
    except redis.RedisError:
        log.warning("readcache.unavailable", exc_info=True)


def _advance() -> None:
    client = _redis()
    if client is None:
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.set(GENERATION_KEY, time.time_ns(), nx=True)
            pipe.incr(GENERATION_KEY)
            pipe.execute()
    except redis.RedisError:
        log.warning("readcache.invalidate_failed", exc_info=True)


def invalidate() -> None:
    """Drop every entry: now, and again once the current transaction commits."""
    _advance()
    transaction.on_commit(_advance)


def _on_change(**kwargs: Any) -> None:
    if kwargs.get("action", "post_").startswith("post_"):  # m2m_changed: after the change
        invalidate()


def connect() -> None:
    """Invalidate on every save and delete of the watched models and on role changes."""
    for label in WATCHED_MODELS:
        model = apps.get_model(label)
        post_save.connect(_on_change, sender=model, dispatch_uid=f"readcache.save.{label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"readcache.delete.{label}")
    groups = apps.get_model(settings.AUTH_USER_MODEL).groups.through
    m2m_changed.connect(_on_change, sender=groups, dispatch_uid="readcache.user_groups")
