"""The one publish function: services announce changes; websocket clients receive them.

Channel names, and the Channels groups they are sent to, are core/channels.py's.
Publishing never breaks the operation that caused it.

Apps above core hear every event sent, after commit, through `subscribe` (notify's
outgoing webhooks do, from their AppConfig.ready): core imports no app. A subscriber
runs in the publisher's thread, so it must be cheap; its failure is logged, never
raised to the publisher.
"""

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import structlog
from channels.layers import get_channel_layer
from django.db import transaction

from core.channels import group, user_group

log = structlog.get_logger(__name__)


SEND_TIMEOUT = 5.0  # seconds a publisher waits for Redis before giving up on one event

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()

# (events, channels, timestamp, payload) of each event sent, after commit.
Subscriber = Callable[[list[str], list[str], str, dict[str, Any]], None]
_subscribers: list[Subscriber] = []


def subscribe(callback: Subscriber) -> None:
    """Call `callback` with every event `send` sends (once per callback, however many
    times it subscribes). It runs in the sender's thread: keep it cheap."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def _tell_subscribers(
    events: list[str], channels: list[str], timestamp: str, payload: dict[str, Any]
) -> None:
    for callback in list(_subscribers):
        try:
            callback(events, channels, timestamp, payload)
        except Exception:  # a subscriber's failure never fails the publisher
            log.warning("events.subscriber_failed", events=events, exc_info=True)


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run `coroutine` on this process's event loop for sends and wait for it.

    One long-lived loop (and so one set of Redis connections) per process: asgiref's
    `async_to_sync` would make a new thread, loop and Redis connection for every send,
    which cost a build's log 5-8 ms per chunk (bench/RESULTS.md, Realtime).
    """
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():  # a forked worker needs its own
            _loop = asyncio.new_event_loop()
            _loop_pid = os.getpid()
            threading.Thread(target=_loop.run_forever, name="events", daemon=True).start()
        loop = _loop
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        future.result(timeout=SEND_TIMEOUT)
    except TimeoutError:
        future.cancel()
        raise


def access_changed(user_id: int) -> None:
    """After commit, make the user's open feeds re-check what they may read."""

    def notify() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            _run(layer.group_send(user_group(user_id), {"type": "shipway.access_changed"}))
        except Exception:
            log.warning("events.access_changed_failed", user_id=user_id, exc_info=True)

    transaction.on_commit(notify)


def send(*, events: list[str], channels: list[str], payload: dict[str, Any]) -> None:
    """Send one message to every channel now (use `publish` inside a transaction), and
    tell the subscribers."""
    timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    try:
        _send_to_layer(events, channels, timestamp, payload)
    finally:
        _tell_subscribers(events, channels, timestamp, payload)


def _send_to_layer(
    events: list[str], channels: list[str], timestamp: str, payload: dict[str, Any]
) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {
        "type": "shipway.event",
        "id": uuid.uuid4().hex,  # one event reaches a feed once, however many groups it is in
        "data": {
            "events": events,
            "channels": channels,
            "timestamp": timestamp,
            "payload": payload,
        },
    }

    async def send_all() -> None:
        for channel in channels:
            try:
                await layer.group_send(group(channel), message)
            except Exception:  # a realtime outage must not fail a build or an API call
                log.warning("events.send_failed", channel=channel, exc_info=True)

    try:
        _run(send_all())
    except Exception:
        log.warning("events.send_failed", channels=channels, exc_info=True)


def publish(*, events: list[str], channels: list[str], payload: dict[str, Any]) -> None:
    """Send once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: send(events=events, channels=channels, payload=payload))
