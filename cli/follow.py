"""Follow a deployment to its end: its build log as it is written, and its status.

The log channel is subscribed to before the log so far is fetched, so no line falls
between the two; streamed chunks carry their offsets, and what was already printed is
skipped. If the websocket cannot open or drops, the REST API is polled instead.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from cli.api import Client

FINAL_STATUSES = frozenset({"ready", "failed", "canceled"})
POLL_SECONDS = 2.0

Write = Callable[[str], None]


def realtime_url(base: str, channels: list[str]) -> str:
    parts = urlsplit(base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    query = urlencode([("channels", c) for c in channels])
    return urlunsplit((scheme, parts.netloc, f"{parts.path}/v1/realtime", query, ""))


def open_feed(client: Client, channels: list[str]) -> ClientConnection | None:
    """The realtime feed on these channels, once the platform has accepted them; None
    when it cannot be opened (the caller polls instead)."""
    try:
        ws = connect(
            realtime_url(client.url, channels),
            additional_headers={"Authorization": f"Bearer {client.token}"},
            open_timeout=10,
            max_size=None,
        )
    except (OSError, WebSocketException, TimeoutError):
        return None
    try:
        first = json.loads(ws.recv(timeout=10))
    except (OSError, WebSocketException, TimeoutError, ValueError):
        ws.close()
        return None
    if first.get("type") != "connected":
        ws.close()
        return None
    return ws


class LogPrinter:
    """Prints a log by offset, each character once, whatever order the pieces come in."""

    def __init__(self, client: Client, path: str, write: Write, kind: str = "build") -> None:
        self.client = client
        self.path = path
        self.write = write
        self.kind = kind
        self.printed = 0
        self.status: str | None = None

    def catch_up(self) -> None:
        """Fetch and print the log from what was printed so far."""
        response = self.client.request(
            "GET", self.path, params={"offset": self.printed, "type": self.kind}
        )
        self.status = response.headers.get("X-Deployment-Status", self.status)
        start = int(response.headers.get("X-Log-Offset", self.printed))
        # Further on than asked: the part before it is no longer kept (runtime logs).
        self.printed = max(self.printed, start)
        self.piece(start, response.text)

    def piece(self, offset: int, text: str) -> None:
        if offset > self.printed:  # a gap (the feed missed a chunk): read it instead
            self.catch_up()
            return
        new = text[self.printed - offset :]
        if new:
            self.write(new)
            self.printed += len(new)


def follow_build(client: Client, site: str, deployment: str, write: Write) -> dict[str, Any]:
    """Print the build log to `write` until the deployment is ready, failed or canceled;
    returns the deployment as it ended."""
    base = f"/v1/sites/{site}/deployments/{deployment}"
    channel = f"sites.{site}.deployments.{deployment}"
    log = LogPrinter(client, f"{base}/logs", write)
    ws = open_feed(client, [channel, f"{channel}.logs"])
    try:
        log.catch_up()
        status = log.status
        last_poll = time.monotonic()
        while status not in FINAL_STATUSES:
            message = _receive(ws, POLL_SECONDS) if ws else None
            if message is _CLOSED:
                ws = None
            elif isinstance(message, dict) and message.get("type") == "event":
                data = message.get("data", {})
                payload = data.get("payload", {})
                events = data.get("events", [])
                if any(e.endswith(".logs.create") for e in events):
                    log.piece(int(payload.get("offset", 0)), str(payload.get("text", "")))
                elif payload.get("id") == deployment and "status" in payload:
                    status = payload["status"]
            if ws is None:
                time.sleep(POLL_SECONDS if message is None else 0)
            if ws is None or time.monotonic() - last_poll >= POLL_SECONDS * 5:
                last_poll = time.monotonic()
                log.catch_up()  # the fallback, and a check that no update was missed
                status = log.status
        log.catch_up()  # the log's last lines may follow the final status
        return client.get(base)
    finally:
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()


def follow_log(
    client: Client, site: str, deployment: str, write: Write, kind: str = "build"
) -> None:
    """Print a log and keep printing what is added (build logs: until the deployment
    ends; runtime logs: until interrupted)."""
    base = f"/v1/sites/{site}/deployments/{deployment}"
    suffix = "runtime-logs" if kind == "runtime" else "logs"
    log = LogPrinter(client, f"{base}/logs", write, kind)
    ws = open_feed(client, [f"sites.{site}.deployments.{deployment}.{suffix}"])
    try:
        log.catch_up()
        while kind == "runtime" or log.status not in FINAL_STATUSES:
            message = _receive(ws, POLL_SECONDS) if ws else None
            if message is _CLOSED:
                ws = None
            elif isinstance(message, dict) and message.get("type") == "event":
                payload = message.get("data", {}).get("payload", {})
                log.piece(int(payload.get("offset", 0)), str(payload.get("text", "")))
                continue
            if ws is None:
                time.sleep(POLL_SECONDS)
            log.catch_up()
        log.catch_up()
    finally:
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()


_CLOSED = object()


def _receive(ws: ClientConnection, timeout: float) -> object:
    """The next message, None after `timeout` without one, _CLOSED when the feed ended."""
    try:
        raw = ws.recv(timeout=timeout)
    except TimeoutError:
        return None
    except (OSError, WebSocketException):
        return _CLOSED
    try:
        return json.loads(raw)
    except ValueError:
        return None
