"""Telling every web process that a site's hosts changed.

`site_serving_changed` (sent after commit by the services) drops this process's cached
view of the site and publishes the site id on a Redis channel; every edge listens and
drops its own. A listener that (re)connects drops everything, since it may have missed
messages while it was away.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING, Any

import redis
import structlog
from django.conf import settings
from django.dispatch import receiver

from config.redis_clients import redis_client
from sites.signals import site_serving_changed

if TYPE_CHECKING:
    from deployments.edge.app import Edge

log = structlog.get_logger(__name__)

CHANNEL = "shipway:edge:invalidate"
_edges: weakref.WeakSet[Edge] = weakref.WeakSet()


def register(edge: Edge) -> None:
    _edges.add(edge)


def announce(site_id: str | None) -> None:
    """Drop the site's hosts here and in every other web process."""
    for edge in list(_edges):
        edge.invalidate(site_id)
    if settings.REDIS_URL:
        try:
            redis_client(settings.REDIS_URL).publish(CHANNEL, site_id or "*")
        except redis.RedisError:
            log.warning("edge.invalidation_not_published", site_id=site_id, exc_info=True)


@receiver(site_serving_changed)
def _on_site_serving_changed(sender: Any, site_id: str, **kwargs: Any) -> None:
    announce(site_id)


async def listen(edge: Edge) -> None:
    """Run for the life of the process: apply invalidations published by others."""
    if not settings.REDIS_URL:
        return
    import redis.asyncio as aioredis

    while True:
        try:
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                edge.invalidate(None)  # anything cached before now may be stale
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    site_id = message["data"].decode()
                    edge.invalidate(None if site_id == "*" else site_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("edge.invalidation_listener_lost", exc_info=True)
            edge.invalidate(None)
            await asyncio.sleep(1)
