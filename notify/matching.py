"""Every event the platform sends, matched against its team's webhooks.

`on_event` is subscribed to core.events (NotifyConfig.ready) and runs in the sender's
thread after commit, for each build log chunk too (many a second): so what it needs,
the team of the event's site and that team's enabled webhooks with their patterns
compiled, is kept in this process's memory, and an event of a site already seen costs
no query at all. The copy is keyed by the read cache's generation (core/readcache.py),
which moves on whenever a webhook, a site or a team changes (NotifyConfig watches
Webhook), in every process within milliseconds, plus a counter of this process's own
changes (the only key when there is no Redis: then there is one process). Without an
answer from Redis, or with the read cache turned off, nothing is kept and each event
asks the database.

A matching webhook gets one delivery per event (its first name the webhook's patterns
match). Nothing here ever raises into the sender: core.events logs a subscriber's
failure, and the writes run in a transaction (or savepoint) of their own.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction

from core import channels as channel_names
from core import readcache
from notify import patterns, services
from notify.models import Webhook

log = structlog.get_logger(__name__)

CACHED_SITES = 4096  # sites (and as many teams) whose answer a process keeps

# (webhook id, the regex of its patterns) for each enabled webhook of a team
TeamHooks = tuple[tuple[str, re.Pattern[str]], ...]


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[int | None, int] | None = None
        self.site_teams: OrderedDict[str, str | None] = OrderedDict()
        self.team_hooks: OrderedDict[str, TeamHooks] = OrderedDict()
        self.local_changes = 0

    def at(self, key: tuple[int | None, int]) -> None:
        """Forget everything kept under another key."""
        if key != self.key:
            self.key = key
            self.site_teams.clear()
            self.team_hooks.clear()


_cache = _Cache()


def changed(**_: Any) -> None:
    """A webhook, site or team changed in this process (a signal receiver)."""
    with _cache.lock:
        _cache.local_changes += 1
        _cache.key = None


def _key() -> tuple[int | None, int] | None:
    """What the kept copy is valid for; None when nothing may be kept."""
    generation = readcache.generation()
    if generation is None and settings.REDIS_URL:
        # Other processes' changes would go unseen: Redis did not answer, or the read
        # cache is turned off (SHIPWAY_READ_CACHE_URL empty). Without Redis at all there
        # is one process (an in-memory broker), and its own changes are all there are.
        return None
    return generation, _cache.local_changes


def _site_id(events: list[str], channels: list[str]) -> str | None:
    for name in channels:
        parsed = channel_names.parse(name)
        if parsed is not None:
            return parsed.site_id
    for name in events:
        parsed = channel_names.parse(name.rpartition(".")[0])
        if parsed is not None:
            return parsed.site_id
    return None


def _team_of(site_id: str) -> str | None:
    from sites.models import Site

    return Site.objects.filter(pk=site_id).values_list("team_id", flat=True).first()


def _hooks_of(team_id: str) -> TeamHooks:
    rows = Webhook.objects.filter(team_id=team_id, enabled=True).values_list("id", "events")
    return tuple((webhook_id, patterns.compile_patterns(events)) for webhook_id, events in rows)


def hooks_for(site_id: str, payload: dict[str, Any]) -> TeamHooks:
    """The enabled webhooks of the site's team (from memory when kept). A site deleted
    by the event's own transaction is found by the team its payload names."""
    key = _key()
    with _cache.lock:
        if key is not None:
            _cache.at(key)
        team_id = _cache.site_teams.get(site_id, "") if key is not None else ""
    if team_id == "":  # not kept ("" is no team id; None is a site of no team, kept)
        team_id = _team_of(site_id)
        if team_id is None and payload.get("id") == site_id:
            named = payload.get("teamId")
            team_id = named if isinstance(named, str) else None
        _keep(key, _cache.site_teams, site_id, team_id)
    if team_id is None:
        return ()
    with _cache.lock:
        hooks = _cache.team_hooks.get(team_id) if key is not None and _cache.key == key else None
    if hooks is None:
        hooks = _hooks_of(team_id)
        _keep(key, _cache.team_hooks, team_id, hooks)
    return hooks


def _keep(
    key: tuple[int | None, int] | None, kept: OrderedDict[str, Any], name: str, value: Any
) -> None:
    if key is None:
        return
    with _cache.lock:
        if _cache.key != key:  # something changed while the database was read
            return
        kept[name] = value
        kept.move_to_end(name)
        while len(kept) > CACHED_SITES:
            kept.popitem(last=False)


def on_event(
    events: list[str], channels: list[str], timestamp: str, payload: dict[str, Any]
) -> None:
    """core.events subscriber: one delivery for each webhook of the event's team that
    wants one of its names."""
    site_id = _site_id(events, channels)
    if site_id is None:
        return
    matched = [
        (webhook_id, event)
        for webhook_id, wanted in hooks_for(site_id, payload)
        for event in [next((name for name in events if wanted.match(name)), None)]
        if event is not None
    ]
    for webhook_id, event in matched:
        try:
            # Its own transaction (a savepoint in one): a webhook deleted meanwhile fails
            # only its own delivery.
            with transaction.atomic():
                services.webhook_delivery_create(
                    webhook_id=webhook_id, event=event, timestamp=timestamp, payload=payload
                )
        except Exception:
            log.warning(
                "webhook.delivery_not_made", webhook_id=webhook_id, event=event, exc_info=True
            )
