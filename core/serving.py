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

import os
import sys
from collections.abc import Sequence

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
