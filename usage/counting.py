"""The edge's counts: requests and bytes served per site, kept in this process's memory
and added into Redis by a thread every SHIPWAY_USAGE_FLUSH_SECONDS.

A request costs one dict update under an uncontended lock (`Counter.add`); nothing per
request touches the database or Redis. The flushing thread swaps the dict for an empty
one and adds the batch into the hour's hash with HINCRBY, in one MULTI with the SADD that
names the hour (so a key in Redis is always listed in HOURS). It also wakes at each hour's
start, so every batch falls in one hour: the one its window began in. The roll-up
(usage/services.py) moves the hashes into the database.

Redis layout (all under `shipway:usage:`):

- `live:{YYYYMMDDHH}`, a hash: `r:{uid}` requests and `b:{uid}` body bytes of that UTC
  hour, still being added to, by the site's server-made identity (`Site.uid`, hex): a
  site made with a deleted one's id gets none of its counts;
- `hours`, a set: the hours that have a `live:` hash;
- `pending:{YYYYMMDDHH}:{token}`, a hash: a `live:` hash the roll-up renamed and is
  adding into the database;
- `pending`, a set: the `pending:` keys a roll-up may not have finished.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import redis
import structlog

from core.redis_clients import redis_client

log = structlog.get_logger(__name__)

PREFIX = "shipway:usage:"
HOURS = PREFIX + "hours"
PENDING = PREFIX + "pending"
# Counts Redis did not take are kept for this many hours (then dropped, with a warning),
# so a Redis that stays away costs a bounded amount of memory.
UNSENT_HOURS_KEPT = 24


def hour_label(at: float) -> str:
    """The UTC hour of the Unix time `at`, as the keys name it (YYYYMMDDHH)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y%m%d%H")


def hour_start(label: str) -> datetime:
    return datetime.strptime(label, "%Y%m%d%H").replace(tzinfo=UTC)


def live_key(label: str) -> str:
    return f"{PREFIX}live:{label}"


def pending_key(label: str, token: str) -> str:
    return f"{PREFIX}pending:{label}:{token}"


def label_of_pending(key: str) -> str:
    return key[len(PREFIX + "pending:") :].split(":", 1)[0]


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def parse_counts(fields: Mapping[bytes | str, bytes | str]) -> dict[str, list[int]]:
    """A hash's fields as {site uid: [requests, bytes]}."""
    counts: dict[str, list[int]] = {}
    for field, value in fields.items():
        kind, _, site_uid = text(field).partition(":")
        entry = counts.setdefault(site_uid, [0, 0])
        entry[0 if kind == "r" else 1] += int(value)
    return counts


def write(client: redis.Redis, label: str, batch: dict[str, list[int]]) -> None:
    """Add a batch of counts into the hour's hash (one MULTI: the counts and the hour)."""
    key = live_key(label)
    pipe = client.pipeline(transaction=True)
    for site_uid, (requests, sent) in batch.items():
        pipe.hincrby(key, "r:" + site_uid, requests)
        if sent:
            pipe.hincrby(key, "b:" + site_uid, sent)
    pipe.sadd(HOURS, label)
    pipe.execute()


class Counter:
    """Requests and bytes per site (by uid) since the last flush, for one web process."""

    def __init__(self, redis_url: str, every: float) -> None:
        self._url = redis_url
        self._every = max(0.05, every)
        self._lock = threading.Lock()  # the counts (the hot path, held for a dict update)
        self._flushing = threading.Lock()  # one flush at a time (the thread, atexit, tests)
        self._counts: dict[str, list[int]] = {}
        self._label = hour_label(time.time())
        self._unsent: dict[str, dict[str, list[int]]] = {}  # hour -> counts Redis refused
        self._thread: threading.Thread | None = None

    def add(self, site_uid: str, sent: int) -> None:
        """One request of the site `site_uid` (Site.uid, hex) that sent `sent` body bytes
        (the hot path)."""
        with self._lock:
            entry = self._counts.get(site_uid)
            if entry is None:
                self._counts[site_uid] = [1, sent]
            else:
                entry[0] += 1
                entry[1] += sent

    def start(self) -> None:
        """Start the flushing thread (once; called on the process's first host load)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="usage-flush", daemon=True)
        self._thread.start()
        atexit.register(self.flush)  # a graceful stop sends what it has

    def _run(self) -> None:
        while True:
            now = time.time()
            next_hour = (now // 3600 + 1) * 3600
            time.sleep(max(0.001, min(self._every, next_hour - now + 0.001)))
            try:
                self.flush()
            except Exception:  # never let the thread die: the next round tries again
                log.warning("usage.flush_failed", exc_info=True)

    def flush(self) -> None:
        """Add what was counted into Redis (what Redis refuses is kept for next time)."""
        with self._flushing:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            batch, self._counts = self._counts, {}
            label, self._label = self._label, hour_label(time.time())
        if batch:
            self._merge(self._unsent.setdefault(label, {}), batch)
        if not self._unsent:
            return
        client = redis_client(self._url)
        for hour in sorted(self._unsent):
            try:
                write(client, hour, self._unsent[hour])
            except redis.RedisError as exc:
                log.warning("usage.flush_deferred", hour=hour, error=repr(exc))
                break
            del self._unsent[hour]
        while len(self._unsent) > UNSENT_HOURS_KEPT:
            oldest = min(self._unsent)
            dropped = self._unsent.pop(oldest)
            log.warning("usage.counts_dropped", hour=oldest, sites=len(dropped))

    @staticmethod
    def _merge(into: dict[str, list[int]], batch: dict[str, list[int]]) -> None:
        for site_uid, (requests, sent) in batch.items():
            entry = into.setdefault(site_uid, [0, 0])
            entry[0] += requests
            entry[1] += sent

    def pending(self) -> dict[str, list[int]]:
        """What this process counted and has not flushed yet (tests, benchmarks)."""
        with self._lock:
            return {site_uid: list(entry) for site_uid, entry in self._counts.items()}


def counter_from_settings() -> Counter | None:
    """The edge's counter, or None when counting is off or there is no Redis to add to."""
    from django.conf import settings

    if not settings.SHIPWAY_USAGE_COUNTING:
        return None
    if not settings.REDIS_URL:
        log.info("usage.counting_off", reason="no REDIS_URL")
        return None
    return Counter(settings.REDIS_URL, settings.SHIPWAY_USAGE_FLUSH_SECONDS)
