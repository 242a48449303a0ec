"""Shipway's realtime feed for the Python SDK (written by hand; shipway_sdk/ is generated
from the OpenAPI schema by `make sdk`).

    with subscribe(url, token, ["sites.s1.deployments"]) as events:
        for event in events:
            print(event["payload"]["status"])
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


class RealtimeRefused(Exception):
    """The server refused the channels or the key; `code` is its close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{reason or 'refused'} ({code})")
        self.code = code


class Events:
    """The events of a subscription, as dicts `{events, channels, timestamp, payload}`."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            event = self.next(timeout=None)
            if event is None:
                return
            yield event

    def next(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event, or None once the connection ended; TimeoutError after
        `timeout` seconds without one."""
        while True:
            try:
                message = json.loads(self._connection.recv(timeout=timeout))
            except ConnectionClosed:
                return None
            if message.get("type") == "event":
                return dict(message["data"])


@contextmanager
def subscribe(url: str, token: str, channels: Sequence[str]) -> Iterator[Events]:
    """Subscribe to `channels` with an API key; the subscription is confirmed when the
    block starts (RealtimeRefused otherwise) and closed when it ends."""
    address = url.rstrip("/").replace("http", "ws", 1) + "/v1/realtime?"
    address += urlencode([("channels", name) for name in channels])
    with connect(address, additional_headers={"Authorization": f"Bearer {token}"}) as socket:
        try:
            first = json.loads(socket.recv(timeout=30))
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
            raise RealtimeRefused(code, closed.rcvd.reason if closed.rcvd else "") from None
        if first.get("type") != "connected":
            raise RealtimeRefused(1002, f"unexpected first message: {first.get('type')}")
        yield Events(socket)
