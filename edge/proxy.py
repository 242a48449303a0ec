"""Relaying requests to server-rendered (ssr) deployments' servers.

A small keep-alive pool per upstream address ("ip:port", from `deployments.models.Server`)
of raw asyncio streams, responses parsed with httptools (llhttp): no client library in
the way, so a proxied request costs about what a request sent straight to the server
does. The pool is keyed by address, not by host, so a host's reload (a switch to a new
deployment) leaves the connections of requests in flight alone; they finish on the old
server and go back to its pool, which is simply never asked again.

Bodies stream both ways, never held whole: a request body is forwarded as it arrives
(with its Content-Length, or chunked), capped at SHIPWAY_MAX_REQUEST_BODY like every
other request (core/limits.py); a response body is sent on as it is read. Hop-by-hop
headers are dropped both ways; the Host stays the visitor's; X-Forwarded-For/-Proto/-Host
say who asked and how (core/proxies.py decides whom to believe). Each wait on the server
(its response headers, each read of its body) is bounded by SHIPWAY_SSR_REQUEST_TIMEOUT.

Websockets are relayed message by message with the `websockets` client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httptools
import structlog
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from core import proxies

log = structlog.get_logger(__name__)

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]

# Dropped both ways (RFC 9110 7.6.1), with any named in Connection and any Proxy-*.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Set by the edge itself (the visitor's own words are not passed on as they are); Expect
# is answered by the edge's HTTP server, which hands the body over only when asked.
_REPLACED = frozenset(
    {b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded", b"expect"}
)
# What the websocket client makes itself for the handshake.
_WS_OWN = frozenset(
    {
        b"host",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"content-length",
    }
)
CONNECT_TIMEOUT = 5.0  # a server that runs accepts at once; a dead address must not hang
IDLE_KEPT = 4.0  # seconds an idle connection is reused: under Node's keepAliveTimeout (5 s)
IDLE_PER_UPSTREAM = 64  # idle connections kept per address (more are closed after use)
_READ = 64 * 1024
_WS_MAX_MESSAGE = 16 * 1024 * 1024  # as uvicorn's own websocket limit


class UpstreamError(Exception):
    """The server could not be reached or broke off; `status` is the edge's answer."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence


class TooLarge(Exception):
    """The request body passed the cap while it was being forwarded."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self) -> bool:
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and time.monotonic() - self.idle_since < IDLE_KEPT
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Pool:
    """Idle keep-alive connections by upstream address (owned by one event loop)."""

    def __init__(self) -> None:
        self._idle: dict[str, deque[_Connection]] = {}
        self.opened = 0  # connections opened since the start (tests look)

    async def acquire(self, address: str) -> tuple[_Connection, bool]:
        """A connection to `address`, and whether it was used before."""
        idle = self._idle.get(address)
        while idle:
            conn = idle.pop()  # the newest: the least likely to have been closed
            if conn.usable():
                return conn, True
            conn.close()
        host, _, port = address.rpartition(":")
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host.strip("[]"), int(port)), CONNECT_TIMEOUT
            )
        except (TimeoutError, OSError, ValueError) as exc:
            raise UpstreamError(
                502, "The deployment's server did not accept the connection."
            ) from exc
        self.opened += 1
        return _Connection(reader, writer), False

    def release(self, address: str, conn: _Connection) -> None:
        idle = self._idle.setdefault(address, deque())
        if len(idle) >= IDLE_PER_UPSTREAM:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def prune(self) -> None:
        """Close connections idle too long (called now and then, not per request)."""
        for address in list(self._idle):
            idle = self._idle[address]
            kept = deque(c for c in idle if c.usable())
            for conn in idle:
                if conn not in kept:
                    conn.close()
            if kept:
                self._idle[address] = kept
            else:
                del self._idle[address]

    def idle_count(self) -> int:
        return sum(len(idle) for idle in self._idle.values())


def _connection_tokens(headers: Headers) -> set[bytes]:
    named: set[bytes] = set()
    for name, value in headers:
        if name == b"connection":
            named.update(t.strip().lower() for t in value.split(b",") if t.strip())
    return named


def _hop(name: bytes, named: set[bytes]) -> bool:
    return name in HOP_BY_HOP or name in named or name.startswith(b"proxy-")


def forwarded_headers(scope: Scope, host: bytes) -> Headers:
    """X-Forwarded-For (the client as the edge trusts it), -Proto and -Host."""
    peer = (scope.get("client") or ("",))[0] or ""
    forwarded_for = None
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            forwarded_for = value.decode("latin-1")
            break
    client = proxies.client_address(peer, forwarded_for)
    proto = b"https" if proxies.scope_is_https(scope) else b"http"
    return [
        (b"x-forwarded-for", client.encode("latin-1")),
        (b"x-forwarded-proto", proto),
        (b"x-forwarded-host", host),
    ]


@dataclass
class _Response:
    """httptools' callbacks, collected between two reads."""

    parser: Any = None
    status: int = 0
    headers: Headers = field(default_factory=list)
    headers_done: bool = False
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False
    keep_alive: bool = False

    def on_message_begin(self) -> None:
        self.headers = []
        self.headers_done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status >= 200:  # an interim answer (100, 103) is not passed on
            self.status = status
            self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.headers_done:
            self.complete = True
            self.keep_alive = self.parser.should_keep_alive()


async def _send_body(
    conn: _Connection, receive: Any, chunked: bool, limit: int, first: dict[str, Any] | None
) -> None:
    """Forward the visitor's body as it arrives (raises TooLarge past `limit`)."""
    received = 0
    message = first
    while True:
        if message is None:
            message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("the visitor left")
        body = message.get("body", b"")
        received += len(body)
        if received > limit:
            raise TooLarge
        if body:
            conn.writer.write(b"%x\r\n%s\r\n" % (len(body), body) if chunked else body)
            await conn.writer.drain()
        if not message.get("more_body", False):
            break
        message = None
    if chunked:
        conn.writer.write(b"0\r\n\r\n")
        await conn.writer.drain()


async def forward(
    pool: Pool,
    address: str,
    scope: Scope,
    receive: Any,
    send: Any,
    *,
    timeout: float,
    body_limit: int,
) -> None:
    """Relay one HTTP request to `address` and its response back.

    Raises UpstreamError (nothing sent yet: the caller answers 502/504) or TooLarge (413);
    once the response has started, a broken server ends the visitor's response abruptly.
    """
    method = scope["method"]
    named = _connection_tokens(scope["headers"])
    headers: Headers = []
    host = b""
    declared: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
        elif name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = None
        elif name == b"transfer-encoding":
            chunked = True
        if _hop(name, named) or name in _REPLACED or name == b"content-length":
            continue
        headers.append((name, value))
    if declared is not None and declared > body_limit:
        raise TooLarge
    if chunked:
        framing = [(b"transfer-encoding", b"chunked")]
    elif declared is not None:
        framing = [(b"content-length", str(declared).encode())]
    else:
        framing = []
    has_body = chunked or bool(declared)
    target = scope.get("raw_path") or scope["path"].encode("latin-1")
    if scope["query_string"]:
        target += b"?" + scope["query_string"]
    head = b"".join(
        [
            method.encode("latin-1"),
            b" ",
            target,
            b" HTTP/1.1\r\n",
            *(n + b": " + v + b"\r\n" for n, v in (*headers, *framing)),
            *(n + b": " + v + b"\r\n" for n, v in forwarded_headers(scope, host)),
            b"\r\n",
        ]
    )
    # Read the first body message before taking a connection: a bodiless request (the
    # usual case) may then be retried on a fresh connection if a pooled one was stale.
    first = await receive() if has_body else None
    started = False

    async def tracked(message: dict[str, Any]) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    for attempt in (1, 2):
        conn, reused = await pool.acquire(address)
        try:
            done = await _exchange(
                conn, head, method, receive, tracked, has_body, chunked, body_limit, first, timeout
            )
        except _Stale:
            conn.close()
            if attempt == 1 and reused and not has_body:
                continue  # the server closed an idle connection just as it was taken
            raise UpstreamError(502, "The deployment's server closed the connection.") from None
        except (UpstreamError, TooLarge, OSError) as exc:
            conn.close()
            if started:
                raise ResponseBroken(str(exc)) from exc
            if isinstance(exc, OSError):
                raise UpstreamError(
                    502, "The deployment's server broke off the connection."
                ) from exc
            raise
        except BaseException:
            conn.close()
            raise
        if done:
            pool.release(address, conn)
        else:
            conn.close()
        return


class ResponseBroken(Exception):
    """The server failed after its response had started: the visitor's is cut short."""


class _Stale(Exception):
    """The server closed or reset the connection before any byte of an answer."""


async def _exchange(
    conn: _Connection,
    head: bytes,
    method: str,
    receive: Any,
    send: Any,
    has_body: bool,
    chunked: bool,
    body_limit: int,
    first: dict[str, Any] | None,
    timeout: float,
) -> bool:
    """One request and its response on `conn`; True when the connection can be reused."""
    response = _Response()
    parser = httptools.HttpResponseParser(response)
    response.parser = parser
    body_task: asyncio.Task[None] | None = None
    started = False
    got_bytes = False
    try:
        conn.writer.write(head)
        if has_body:
            # Concurrently with reading: a server may answer before it has read it all.
            body_task = asyncio.ensure_future(_send_body(conn, receive, chunked, body_limit, first))
        else:
            await conn.writer.drain()
        until_close = False
        while True:
            if body_task is not None and body_task.done() and body_task.exception():
                raise body_task.exception()  # type: ignore[misc]
            try:
                data = await _read(conn, timeout, body_task)
            except (ConnectionResetError, BrokenPipeError) as exc:
                if not got_bytes:
                    raise _Stale from exc
                raise
            if not data:  # the server closed the connection
                if not got_bytes:
                    raise _Stale
                if started and until_close:
                    await send({"type": "http.response.body", "body": b""})
                    return False
                raise ConnectionResetError("the server's response was cut short")
            got_bytes = True
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as exc:
                if started:
                    raise
                raise UpstreamError(
                    502, "The deployment's server sent an invalid response."
                ) from exc
            if response.headers_done and not started:
                started = True
                out, until_close = _response_headers(response)
                await send(
                    {"type": "http.response.start", "status": response.status, "headers": out}
                )
                if method == "HEAD":  # llhttp cannot know a HEAD answer has no body
                    await send({"type": "http.response.body", "body": b""})
                    return False
            if response.chunks:
                # What this read brought in one message (one send per read, not per
                # chunk), the end of the body with it when it is complete (most answers
                # arrive in one read).
                body, response.chunks = b"".join(response.chunks), []
                await send(
                    {"type": "http.response.body", "body": body, "more_body": not response.complete}
                )
            elif response.complete:
                await send({"type": "http.response.body", "body": b""})
            if response.complete:
                if body_task is not None and not body_task.done():
                    return False  # it answered without reading all: do not reuse
                if body_task is not None and body_task.exception():
                    return False
                return response.keep_alive
    finally:
        if body_task is not None and not body_task.done():
            body_task.cancel()
            with contextlib.suppress(BaseException):
                await body_task


async def _read(conn: _Connection, timeout: float, body_task: asyncio.Task[None] | None) -> bytes:
    """The next bytes from the server, within `timeout` (and a failing body's error)."""
    if body_task is None or body_task.done():  # the usual case: no task per read
        try:
            async with asyncio.timeout(timeout):
                return await conn.reader.read(_READ)
        except TimeoutError:
            raise UpstreamError(504, "The deployment's server did not answer in time.") from None
    read = asyncio.ensure_future(conn.reader.read(_READ))
    waiting: set[asyncio.Future[Any]] = {read, body_task}
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamError(504, "The deployment's server did not answer in time.")
            done, _ = await asyncio.wait(
                waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            if read in done:
                return read.result()
            if body_task in done:
                waiting.discard(body_task)
                if body_task.exception():
                    raise body_task.exception()  # type: ignore[misc]
    finally:
        if not read.done():
            read.cancel()
            with contextlib.suppress(BaseException):
                await read


def _response_headers(response: _Response) -> tuple[Headers, bool]:
    """The server's headers without hop-by-hop ones; and whether its body ends only when
    it closes the connection (neither Content-Length nor chunked)."""
    named = _connection_tokens(response.headers)
    framed = response.status in (204, 304) or response.status < 200
    out: Headers = []
    for name, value in response.headers:
        if name in (b"content-length", b"transfer-encoding"):
            framed = True
        if name == b"transfer-encoding" or _hop(name, named):
            continue
        out.append((name, value))
    return out, not framed


# -- websockets -------------------------------------------------------------------------


async def relay_websocket(
    address: str, scope: Scope, receive: Any, send: Any, *, timeout: float
) -> None:
    """Open the same websocket on the server, accept the visitor's with the subprotocol
    the server chose, and relay messages both ways until either side closes."""
    message = await receive()  # websocket.connect
    if message["type"] != "websocket.connect":
        return
    named = _connection_tokens(scope["headers"])
    host = b""
    extra: Headers = []
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
        if _hop(name, named) or name in _REPLACED or name in _WS_OWN:
            continue
        extra.append((name, value))
    extra += forwarded_headers(scope, host)
    target = scope.get("raw_path") or scope["path"].encode("latin-1")
    if scope["query_string"]:
        target += b"?" + scope["query_string"]
    # The URI carries the visitor's Host (the handshake's Host header); the socket goes to
    # the server's address.
    uri = "ws://" + (host.decode("latin-1") or "localhost") + target.decode("latin-1")
    ip, _, port = address.rpartition(":")
    try:
        upstream = await ws_connect(
            uri,
            host=ip.strip("[]"),
            port=int(port),
            additional_headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in extra],
            subprotocols=scope.get("subprotocols") or None,
            user_agent_header=None,
            compression=None,
            proxy=None,
            open_timeout=min(timeout, CONNECT_TIMEOUT * 2),
            max_size=_WS_MAX_MESSAGE,
            ping_interval=None,  # the visitor's side keeps its own liveness
        )
    except (OSError, TimeoutError, InvalidStatus, WebSocketException, ValueError) as exc:
        log.info("edge.websocket_upstream_failed", address=address, error=str(exc))
        await send({"type": "websocket.close", "code": 1011})  # before accept: a 403
        return
    await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})

    async def to_server() -> None:
        while True:
            incoming = await receive()
            if incoming["type"] == "websocket.disconnect":
                await upstream.close(code=incoming.get("code", 1000))
                return
            if incoming["type"] != "websocket.receive":
                continue
            if incoming.get("text") is not None:
                await upstream.send(incoming["text"])
            elif incoming.get("bytes") is not None:
                await upstream.send(incoming["bytes"])

    async def to_visitor() -> None:
        try:
            async for data in upstream:
                if isinstance(data, str):
                    await send({"type": "websocket.send", "text": data})
                else:
                    await send({"type": "websocket.send", "bytes": data})
        except ConnectionClosed:
            pass
        code = upstream.close_code or 1000
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": code if code != 1005 else 1000})

    tasks = [asyncio.ensure_future(to_server()), asyncio.ensure_future(to_visitor())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await upstream.close()
