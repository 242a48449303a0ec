"""Telling every web process that a site's hosts changed, or a user's access did.

`site_serving_changed` (sent after commit by the services) drops this process's cached
view of the site and publishes the site id on a Redis channel; every edge listens and
drops its own. A listener that (re)connects drops everything, since it may have missed
messages while it was away. The sender re-publishes the site in the front proxy's host
map and prunes its read-through copies (edge/apps.py's receivers); those are files on
its machine's disk, so every other web process does the same on hearing the message
(a message names its sender, which skips its own), and one whose listener reconnects
syncs the whole host map. On one machine that repeats idempotent work; on many, each
machine's proxy follows every change.

`user_access_changed` (a member removed or their role changed) and a user's deactivation
revoke the preview cookies issued to that user until now: the time goes into a Redis
hash (kept as long as a cookie lives) and out on the same channel; every edge keeps the
times in memory and loads the hash whenever its listener (re)connects, so a process
started later knows them too. A revoked visitor goes through the dashboard handshake
again, which checks what they may read today.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import redis
import redis.asyncio as aioredis
import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.signals import user_access_changed
from core.redis_clients import ListenerLog, redis_client
from edge import hostmap, served
from sites.signals import site_serving_changed

if TYPE_CHECKING:  # for the annotations only: edge.app imports this module
    from edge.app import Edge

log = structlog.get_logger(__name__)

CHANNEL = "shipway:edge:invalidate"
REVOKED_KEY = "shipway:edge:revoked"  # hash: user id -> ms since the epoch
REVOKED_TTL = 12 * 3600 + 60  # as long as a preview cookie lives (access.COOKIE_AGE)
_edges: weakref.WeakSet[Edge] = weakref.WeakSet()
_revoked: dict[int, int] = {}  # user id -> preview cookies issued until then are void
# Who sent a site's message: its receiver skips what the sender did already.
ORIGIN = f"{socket.gethostname()}:{os.getpid()}"
# One thread, so a site's follow-ups run in the order its messages came, and none holds
# up the listener (which goes on dropping cached hosts meanwhile).
_follower = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edge-follow")


def revoked_at(user_id: int) -> int:
    """When the user's preview cookies were last revoked (ms since the epoch; 0: never)."""
    return _revoked.get(user_id, 0)


def _record(user_id: int, at_ms: int) -> None:
    _revoked[user_id] = max(at_ms, _revoked.get(user_id, 0))


def revoke_previews(user_id: int) -> None:
    """Void the preview cookies issued to the user until now, here and in every web
    process (also in those that start later)."""
    now = time.time_ns() // 1_000_000
    _record(user_id, now)
    if not settings.REDIS_URL:
        return
    try:
        with redis_client(settings.REDIS_URL).pipeline(transaction=False) as pipe:
            pipe.hset(REVOKED_KEY, str(user_id), now)
            pipe.expire(REVOKED_KEY, REVOKED_TTL)
            pipe.publish(CHANNEL, f"user:{user_id}:{now}")
            pipe.execute()
    except redis.RedisError:
        log.warning("edge.revocation_not_published", user_id=user_id, exc_info=True)


def register(edge: Edge) -> None:
    _edges.add(edge)


def announce(site_id: str | None) -> None:
    """Drop the site's hosts here and in every other web process."""
    for edge in list(_edges):
        edge.invalidate(site_id)
    if settings.REDIS_URL:
        try:
            redis_client(settings.REDIS_URL).publish(CHANNEL, f"{site_id or '*'}@{ORIGIN}")
        except redis.RedisError:
            log.warning("edge.invalidation_not_published", site_id=site_id, exc_info=True)


@receiver(site_serving_changed)
def _on_site_serving_changed(sender: Any, site_id: str, **kwargs: Any) -> None:
    announce(site_id)


@receiver(user_access_changed)
def _on_user_access_changed(sender: Any, user_id: int, **kwargs: Any) -> None:
    revoke_previews(user_id)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _on_user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not instance.is_active:  # deactivated (saving an inactive user again is harmless)
        transaction.on_commit(lambda: revoke_previews(instance.pk))


def _follow(site_id: str) -> None:
    """What the sender of a site's message did on its machine, done on this one."""
    try:
        hostmap.on_site_serving_changed(None, site_id=site_id)
        served.on_site_serving_changed(None, site_id=site_id)
    except Exception:  # nobody waits for this: the next change or resync mends it
        log.exception("edge.follow_failed", site_id=site_id)
    finally:
        connection.close()  # this thread's (the executor keeps its thread)


def _resync() -> None:
    try:
        if settings.SHIPWAY_FRONT_PROXY:
            hostmap.sync_all()
    except Exception:  # the hosts fall back to the edge until the next change
        log.exception("edge.hostmap_resync_failed")
    finally:
        connection.close()


def _stop_if_cancelled() -> None:
    """Raise CancelledError if this task is being cancelled. redis-py's connect and
    commands can swallow a cancellation (or turn it into an error of their own); without
    this, the listener would go on to wait for messages forever and the event loop's
    shutdown, which waits for it, with it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def listen(edge: Edge) -> None:
    """Run for the life of the process: apply invalidations published by others."""
    if not settings.REDIS_URL:
        return
    listener_log = ListenerLog(
        log, lost="edge.invalidation_listener_lost", back="edge.invalidation_listener_back"
    )
    missed = False  # messages, while the listener was away
    while True:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                edge.invalidate(None)  # anything cached before now may be stale
                if missed:
                    _follower.submit(_resync)
                for user_id, at_ms in (await client.hgetall(REVOKED_KEY)).items():
                    _record(int(user_id), int(at_ms))
                _stop_if_cancelled()
                listener_log.subscribed()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    text = message["data"].decode()
                    if text.startswith("user:"):
                        _, user_id, at_ms = text.split(":")
                        _record(int(user_id), int(at_ms))
                    else:
                        site_id, _, origin = text.partition("@")
                        edge.invalidate(None if site_id == "*" else site_id)
                        if origin != ORIGIN and site_id != "*":
                            _follower.submit(_follow, site_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _stop_if_cancelled()
            listener_log.failed(exc)
            missed = True
            edge.invalidate(None)
            await asyncio.sleep(1)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()  # its connections (hgetall took one of the pool's)
