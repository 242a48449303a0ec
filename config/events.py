"""The one publish function: services announce changes; websocket clients receive them.

Channel names are the API's (`sites.{siteId}.deployments.{deploymentId}`); each is a
Channels group of the same name. Publishing never breaks the operation that caused it.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = structlog.get_logger(__name__)


def group_name(channel: str) -> str:
    """The Channels group for an API channel name (groups allow letters, digits, '-_.')."""
    return channel


def user_group(user_id: int) -> str:
    """The group every open feed of one user joins, for access changes."""
    return f"users.{user_id}"


def access_changed(user_id: int) -> None:
    """After commit, make the user's open feeds re-check what they may read."""

    def notify() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(user_group(user_id), {"type": "shipway.access_changed"})
        except Exception:
            log.warning("events.access_changed_failed", user_id=user_id, exc_info=True)

    transaction.on_commit(notify)


def send(*, events: list[str], channels: list[str], payload: dict[str, Any]) -> None:
    """Send one message to every channel now (use `publish` inside a transaction)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {
        "type": "shipway.event",
        "id": uuid.uuid4().hex,  # one event reaches a feed once, however many groups it is in
        "data": {
            "events": events,
            "channels": channels,
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "payload": payload,
        },
    }
    for channel in channels:
        try:
            async_to_sync(layer.group_send)(group_name(channel), message)
        except Exception:  # a realtime outage must not fail a build or an API call
            log.warning("events.send_failed", channel=channel, exc_info=True)


def publish(*, events: list[str], channels: list[str], payload: dict[str, Any]) -> None:
    """Send once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: send(events=events, channels=channels, payload=payload))
