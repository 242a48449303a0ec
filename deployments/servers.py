"""The contract between the edge and the runtime manager (runtime/), which never import
each other: the task that starts a deployment's server, and the Redis key where the
edges record when each server last had a request (read by the idle sweeper).

The database (`deployments.models.Server`, `Site.live_server`) says whether a server
runs and where; the edge reads it when it loads a host and reloads it when the site's
serving changes (the manager announces each state change like an activation).
"""

from __future__ import annotations

import structlog
from celery import current_app
from django.conf import settings

from core.redis_clients import redis_client

log = structlog.get_logger(__name__)

START_TASK = "runtime.tasks.start_server"
# deployment id -> Unix time of its server's newest request (a hash, written in batches).
SEEN_KEY = "shipway:servers:seen"
# Set while a start is asked for, so that a burst of cold requests sends one task.
_WANTED_KEY = "shipway:servers:wanted:{deployment_id}"


def want_server(deployment_id: str) -> None:
    """Ask a worker to start this deployment's server (once per start timeout, however
    many requests ask)."""
    if settings.REDIS_URL:
        key = _WANTED_KEY.format(deployment_id=deployment_id)
        if not redis_client(settings.REDIS_URL).set(
            key, "1", nx=True, ex=settings.SHIPWAY_SSR_START_TIMEOUT
        ):
            return
    current_app.send_task(
        START_TASK, args=[deployment_id], queue=settings.SHIPWAY_SERVER_QUEUE, ignore_result=True
    )
    log.info("server.wanted", deployment_id=deployment_id)


def forget_wanted(deployment_id: str) -> None:
    """The start asked for has ended (running or failed): the next ask sends a task."""
    if settings.REDIS_URL:
        redis_client(settings.REDIS_URL).delete(_WANTED_KEY.format(deployment_id=deployment_id))


def record_seen(seen: dict[str, float]) -> None:
    """Record the newest request time of each deployment's server (an edge's batch)."""
    if seen and settings.REDIS_URL:
        redis_client(settings.REDIS_URL).hset(SEEN_KEY, mapping=seen)  # type: ignore[arg-type]


def last_seen(deployment_ids: list[str]) -> dict[str, float]:
    """When each server last had a request, as the edges recorded it (missing: never)."""
    if not deployment_ids or not settings.REDIS_URL:
        return {}
    values = redis_client(settings.REDIS_URL).hmget(SEEN_KEY, deployment_ids)
    return {d: float(v) for d, v in zip(deployment_ids, values, strict=True) if v is not None}


def forget_seen(deployment_ids: list[str]) -> None:
    if deployment_ids and settings.REDIS_URL:
        redis_client(settings.REDIS_URL).hdel(SEEN_KEY, *deployment_ids)
