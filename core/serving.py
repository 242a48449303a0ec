"""Which ASGI server runs the web process (the edge, the dashboard, the API, the realtime
feed), and its command line: one definition for runplatform, the benchmarks and the
tests' live server.

granian (its ASGI interface) is the default: on the same machine it serves the static
edge for about half the CPU per request that uvicorn needs (bench/RESULTS.md, "Edge:
uvicorn or granian"). uvicorn stays selectable (`runplatform --web-server uvicorn`,
SHIPWAY_WEB_SERVER=uvicorn) because it costs one branch here.

What the project relies on from the server, and how each gives it:
- `http.response.pathsend` for files past edge/files.py's SMALL_FILE: both list it in
  the scope's extensions (the edge streams chunks when a server does not).
- Websockets for /v1/realtime (Channels): both.
- Lifespan: the application has none (ProtocolTypeRouter routes http and websocket
  only), so granian runs its `asginl` interface (ASGI without lifespan events) rather
  than logging a failed startup per worker; uvicorn's `auto` skips it by itself.
- X-Forwarded-For / X-Forwarded-Proto from SHIPWAY_TRUSTED_PROXIES only: uvicorn applies
  them itself (core/proxies.py `server_arguments`); granian has no such option, so it
  serves `config.granian_asgi:application`, the same application behind
  `core.proxies.ForwardedScope`, which does what uvicorn does with the same list.
- Request body limits: core/limits.py, in the application, whatever the server.
- Graceful shutdown: on SIGTERM both stop accepting, let requests in flight finish,
  then exit (runplatform waits 15 s, then kills).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from core import proxies

WEB_SERVERS = ("granian", "uvicorn")
DEFAULT_WEB_SERVER = "granian"
APPLICATION = "config.asgi:application"
# config.asgi's application with the trusted proxies' forwarded headers applied.
GRANIAN_APPLICATION = "config.granian_asgi:application"


def default_web_server() -> str:
    """SHIPWAY_WEB_SERVER, or granian."""
    return os.environ.get("SHIPWAY_WEB_SERVER", "").strip().lower() or DEFAULT_WEB_SERVER


def web_server_command(
    server: str,
    *,
    host: str,
    port: int,
    workers: int,
    python: str = sys.executable,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command line of the web process under `server` (one of WEB_SERVERS), serving
    the platform's ASGI application on host:port with `workers` processes and no access
    log (structlog logs what matters; a line per request costs CPU). `extra` goes before
    the application (e.g. a log level)."""
    if server == "granian":
        return [
            python,
            "-m",
            "granian",
            "--interface",
            "asginl",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            # uvicorn's supervisor restarts a worker that died; granian only when asked.
            "--respawn-failed-workers",
            *proxies.server_arguments("granian"),
            *extra,
            GRANIAN_APPLICATION,
        ]
    if server == "uvicorn":
        return [
            python,
            "-m",
            "uvicorn",
            APPLICATION,
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            *proxies.server_arguments("uvicorn"),
            *extra,
        ]
    raise ValueError(f"unknown web server {server!r}: one of {', '.join(WEB_SERVERS)}")


class WebsocketCloseWhileReceiving:
    """ASGI middleware for granian (2.8.7): a `websocket.close` the application sends
    while a `receive()` of the same connection is waiting never reaches the client (the
    close frame goes out only once that receive ends). Channels always has one waiting,
    so the feed's own closes (4403: access removed, site deleted) hung until the client
    gave up. Before passing such a close on, this cancels the waiting receive; once the
    close is sent, that receive goes on to the server's `websocket.disconnect`, as the
    application expects. Everything else passes through untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        waiting: asyncio.Future[Any] | None = None
        closing = False
        closed = asyncio.Event()

        async def receive_message() -> Any:
            nonlocal waiting
            while True:
                waiting = asyncio.ensure_future(receive())
                try:
                    return await waiting
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if not closing or (task is not None and task.cancelling()):
                        raise  # the application's own cancellation
                    await closed.wait()  # cancelled by send_message: receive after it
                finally:
                    waiting = None

        async def send_message(message: dict[str, Any]) -> None:
            nonlocal closing
            if message["type"] != "websocket.close" or waiting is None:
                await send(message)
                return
            closing = True
            waiting.cancel()
            await asyncio.sleep(0)  # the server drops the cancelled receive
            try:
                await send(message)
            finally:
                closed.set()

        await self.app(scope, receive_message, send_message)
