"""A cache for the API's hot reads, dropped as a whole whenever what they show changes.

`GET /v1/sites` with an API key is what clients poll. Answering it from PostgreSQL costs
an indexed key lookup plus a permission-filtered page (planning alone ~2 ms); from here
it is a lookup in the process's memory (bench/RESULTS.md, "API").

Every entry carries the *generation* it was read in: a number in Redis that
`invalidate()` moves on whenever a watched model changes (each app names, with `watch`
and `watch_relation`, the models whose rows change what a cached read shows or who may
read it), at once and again after the transaction commits. A request
takes the generation once, before it queries, and only uses entries of that generation;
what it reads it stores under that generation. So an entry read before a change is
never used once the change is visible. Entries also expire after `TTL` seconds, which
bounds any write that bypasses the ORM.

Each process also keeps the entries it used in memory, and learns the generation from
a Redis channel that `invalidate()` publishes on (a listener thread): then a repeated
read costs no round trip at all (on this machine one costs ~150 us of CPU, a third of
a bare Django request). A process only trusts its own copy of the generation while its
listener is subscribed; otherwise, and on a miss, it asks Redis, where a request's first
`get` fetches the generation and every key `prefetch`ed so far in one MGET. Like the
edge's host cache, another process sees a change when the message reaches it, a few
milliseconds after the commit. It talks to Redis directly, not through Django's cache
(which costs twice the time per call). The cache failing is never an error: reads fall
through to the database.

Redis is not trusted with what it holds: an entry is JSON (never a pickle), signed with
a key derived from `SECRET_KEY` over the entry's own key, and read only once the
signature checks out (compared in constant time, before the JSON is parsed). So whoever
can write to Redis can drop or delay entries, but cannot forge one, move one under
another key (an admin's under a tenant's API key), or run code by planting one; an
entry they kept is refused once it is older than `TTL`, whatever generation they set.
Callers store plain JSON values: `put`'s `dump` turns theirs into one, `get`'s `load`
turns it back (and may refuse it), and a process keeps the loaded value in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

import redis
import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from core.redis_clients import ListenerLog, redis_client

log = structlog.get_logger(__name__)

TTL = 300
PREFIX = "shipway:readcache:"
FORMAT = "json-hmac-1"  # part of every entry's key: entries of another format are not read
_SIGNING_SALT = "shipway.readcache.entry"  # the purpose the signing key is derived for
_SIGNATURE_LENGTH = 64  # hex digits of an HMAC-SHA256
COMPLAINT_INTERVAL = 60  # seconds between two warnings of one kind from one process
GENERATION_KEY = PREFIX + "generation"
# Redis delivers a channel's messages to the subscribers on every database number, so
# the channel carries the number of the database whose generation it announces.
GENERATION_CHANNEL = PREFIX + "generations:{db}"
LOCAL_ENTRIES = 512  # entries a process keeps in memory (a sites page is ~15 KB)
_MEMO = "_readcache"  # per request: the generation and what the first MGET fetched


def _redis_url() -> str:
    return settings.SHIPWAY_READ_CACHE_URL


def _redis() -> redis.Redis | None:
    url = _redis_url()
    return redis_client(url) if url else None


def _key(parts: tuple[Any, ...]) -> str:
    # The database's name too: two installations (or test runs) may share one Redis.
    database = connection.settings_dict["NAME"]
    text = "\x00".join(map(str, (FORMAT, database, *parts)))
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()[:40]


def _now() -> float:
    return time.time()


_complained: dict[str, float] = {}


def _complain(event: str, **details: Any) -> None:
    """A warning, at most once per `COMPLAINT_INTERVAL` for each event: a Redis that is
    down, or someone writing entries into it, must not fill the log a line per request."""
    now = time.monotonic()
    if now - _complained.get(event, -COMPLAINT_INTERVAL) >= COMPLAINT_INTERVAL:
        _complained[event] = now
        log.warning(event, **details)


def _signature(key: str, payload: bytes) -> bytes:
    # salted_hmac: HMAC-SHA256 under a key derived from SECRET_KEY for this purpose only.
    # The entry's key is signed too, so that no entry is believed under another key.
    mac = salted_hmac(_SIGNING_SALT, key.encode() + b"\x00" + payload, algorithm="sha256")
    return mac.hexdigest().encode()


def _encode(key: str, generation: int, value: Any) -> bytes:
    """The signature, then the JSON of the generation, the time it was written, the value."""
    payload = json.dumps(
        {"generation": generation, "written": _now(), "value": value},
        separators=(",", ":"),
        allow_nan=False,
    ).encode()
    return _signature(key, payload) + payload


def _decode(
    key: str, raw: bytes | None, current: int | None, load: Callable[[Any], Any] | None
) -> Any:
    """The value in `raw` if it is this installation's, of generation `current` and
    younger than TTL; else None (always, with no generation known: `current` None). Nothing
    of `raw` is parsed before its signature is checked."""
    if raw is None:
        return None
    signature, payload = raw[:_SIGNATURE_LENGTH], raw[_SIGNATURE_LENGTH:]
    if not hmac.compare_digest(signature, _signature(key, payload)):
        _complain("readcache.entry_not_signed_here", key=key)
        return None
    entry = json.loads(payload)
    if entry["generation"] != current or _now() - entry["written"] > TTL:
        return None  # of another generation; or replayed by someone who kept it
    return entry["value"] if load is None else load(entry["value"])


class _Local:
    """This process's copy of the generation (while its listener is subscribed) and of
    the entries it used, newest last."""

    def __init__(self, url: str = "") -> None:
        self.pid, self.url = os.getpid(), url
        self.lock = threading.Lock()
        self.generation: int | None = None
        # key -> (generation, value, monotonic time it expires: TTL, as in Redis)
        self.entries: OrderedDict[str, tuple[int, Any, float]] = OrderedDict()
        self.listener: threading.Thread | None = None

    def learn(self, generation: int) -> None:
        """A newer generation (while subscribed): every entry kept is of an older one."""
        with self.lock:
            if self.generation is not None and generation > self.generation:
                self.generation = generation
                self.entries.clear()

    def entry(self, key: str, generation: int) -> Any:
        with self.lock:
            found = self.entries.get(key)
            if found is None or found[0] != generation or found[2] < time.monotonic():
                return None
            self.entries.move_to_end(key)
            return found[1]

    def keep(self, key: str, generation: int, value: Any) -> None:
        with self.lock:
            if generation != self.generation:
                return
            self.entries[key] = (generation, value, time.monotonic() + TTL)
            self.entries.move_to_end(key)
            while len(self.entries) > LOCAL_ENTRIES:
                self.entries.popitem(last=False)


_local = _Local()


def _local_state(url: str) -> _Local:
    """This process's state, its listener started (again after a fork)."""
    global _local
    if _local.pid != os.getpid() or _local.url != url:  # forked, or another Redis
        _local = _Local(url)
    if _local.listener is None:
        with _local.lock:
            if _local.listener is None:
                _local.listener = threading.Thread(
                    target=_listen, args=(_local, url), name="readcache", daemon=True
                )
                _local.listener.start()
    return _local


def _listen(state: _Local, url: str) -> None:
    """Follow the generation on its channel; while not subscribed, trust nothing local.
    Stops once the process reads through another state (another URL, a fork). Tries
    again every second while Redis is away (or refuses its password), saying so once."""
    listener_log = ListenerLog(log, lost="readcache.listener_lost", back="readcache.listener_back")
    while state is _local:
        client = redis.Redis.from_url(url)
        try:
            with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                pubsub.subscribe(_channel(client))
                current = _current_generation(client)  # after subscribing: nothing missed
                with state.lock:
                    state.entries.clear()
                    state.generation = current
                listener_log.subscribed()
                for message in pubsub.listen():
                    try:
                        state.learn(int(message["data"]))
                    except ValueError:  # not a generation: not from invalidate()
                        continue
        except Exception as exc:
            listener_log.failed(exc)
        finally:
            with state.lock:
                state.generation = None
            client.close()
        time.sleep(1)


def _channel(client: redis.Redis) -> str:
    return GENERATION_CHANNEL.format(db=client.connection_pool.connection_kwargs.get("db") or 0)


def _current_generation(client: redis.Redis) -> int:
    """The generation in Redis, started (from the clock) when there is none yet: never
    from a number an older entry may carry."""
    client.set(GENERATION_KEY, time.time_ns(), nx=True)
    # Set just above (None, from a key gone since, makes int() raise TypeError).
    return int(cast(bytes, client.get(GENERATION_KEY)))


def generation() -> int | None:
    """The current generation, for a cache of another shape kept beside this one (notify
    keeps the webhook patterns each site's events are matched against): it moves on
    whenever a watched model changes. From this process's memory while its listener is
    subscribed, else one round trip to Redis; None without Redis or when it does not
    answer (then nothing derived from watched models may be trusted)."""
    client = _redis()
    if client is None:
        return None
    known = _local_state(_redis_url()).generation
    if known is not None:
        return known
    try:
        return _current_generation(client)
    except (redis.RedisError, ValueError, TypeError) as exc:
        _complain("readcache.unavailable", error=repr(exc))
        return None


class _Memo:
    def __init__(self) -> None:
        self.generation: int | None = None
        self.asked_redis = False
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


def get(request: HttpRequest, *parts: Any, load: Callable[[Any], Any] | None = None) -> Any:
    """The value stored under `parts` in this request's generation, or None.

    From this process's memory when it can; else the request's first trip to Redis
    fetches it with everything prefetched (and the generation, when this process does
    not know it) in one MGET. `load` turns the JSON value read from Redis into the
    caller's (raising ValueError, TypeError or KeyError for one it refuses)."""
    client = _redis()
    if client is None:
        return None
    memo, key = _memo(request), _key(parts)
    local = _local_state(_redis_url())
    if memo.generation is None:
        memo.generation = local.generation  # None unless its listener is subscribed
    if memo.generation is not None:
        found = local.entry(key, memo.generation)
        if found is not None:
            return found
    try:
        if not memo.asked_redis:
            memo.asked_redis = True
            keys = [key, *(k for k in memo.wanted if k != key)]
            # The client has no decode_responses: every value is bytes (or None).
            if memo.generation is None:
                current: bytes | int | None
                current, *values = cast("list[bytes | None]", client.mget(GENERATION_KEY, *keys))
                if current is None:
                    current, values = _current_generation(client), [None] * len(keys)
                memo.generation = int(current)
            else:
                values = cast("list[bytes | None]", client.mget(*keys))
            memo.fetched = dict(zip(keys, values, strict=True))
        raw = memo.fetched[key] if key in memo.fetched else cast("bytes | None", client.get(key))
    except (redis.RedisError, ValueError, TypeError) as exc:  # int(): a bad generation
        _complain("readcache.unavailable", error=repr(exc))
        return None
    try:
        value = _decode(key, raw, memo.generation, load)
    except (ValueError, TypeError, KeyError) as exc:  # signed here, but not readable now
        _complain("readcache.entry_unreadable", key=key, error=repr(exc))
        return None
    if value is not None and memo.generation is not None:  # a value: of that generation
        local.keep(key, memo.generation, value)
    return value


def put(
    request: HttpRequest, value: Any, *parts: Any, dump: Callable[[Any], Any] | None = None
) -> None:
    """Store `value` under `parts` in the generation this request read (by `get`): in
    this process's memory as it is, in Redis as `dump(value)`, which must be JSON."""
    client = _redis()
    current = _memo(request).generation
    if client is None or current is None:
        return
    key = _key(parts)
    try:
        raw = _encode(key, current, value if dump is None else dump(value))
    except (TypeError, ValueError) as exc:  # not JSON: not cached, but never an error
        _complain("readcache.not_json", key=key, error=repr(exc))
        return
    _local_state(_redis_url()).keep(key, current, value)
    try:
        client.set(key, raw, ex=TTL)
    except redis.RedisError as exc:
        _complain("readcache.unavailable", error=repr(exc))


def _advance() -> None:
    client = _redis()
    if client is None:
        return
    # This process's memory, if it reads through this Redis (a worker that only writes
    # has none, and starts no listener).
    local = _local if (_local.pid, _local.url) == (os.getpid(), _redis_url()) else None
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.set(GENERATION_KEY, time.time_ns(), nx=True)
            pipe.incr(GENERATION_KEY)
            generation = pipe.execute()[1]
        client.publish(_channel(client), generation)
    except redis.RedisError as exc:
        _complain("readcache.invalidate_failed", error=repr(exc))
        if local is not None:
            with local.lock:  # it cannot tell what is current any more
                local.generation = None
                local.entries.clear()
        return
    if local is not None:
        local.learn(generation)  # its own next read sees its own write


def invalidate() -> None:
    """Drop every entry: now, and again once the current transaction commits."""
    _advance()
    transaction.on_commit(_advance)


def _on_change(**kwargs: Any) -> None:
    if kwargs.get("action", "post_").startswith("post_"):  # m2m_changed: after the change
        invalidate()


def watch(*models: type[Model]) -> None:
    """Invalidate on every save and delete of these models: rows that change what a
    cached read shows, or who may read it. Each app names its own in AppConfig.ready."""
    for model in models:
        label = model._meta.label
        post_save.connect(_on_change, sender=model, dispatch_uid=f"readcache.save.{label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"readcache.delete.{label}")


def watch_relation(through: type[Model]) -> None:
    """Invalidate when rows are added to or removed from this many-to-many relation
    (its `through` model), which sends neither post_save nor post_delete."""
    label = through._meta.label
    m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"readcache.m2m.{label}")
