"""A bare ASGI application for bench/edge.py's `uvicorn-bare` and `granian-bare` setups:
the same two files with the same headers as the edge sends, from memory, with no
routing at all. What a server costs on its own; the edge's setups minus these is what
the edge's code costs under that server.

BENCH_BARE_DIR names the deployment's output directory (bench/edge.py sets it);
BENCH_BARE_PATHSEND=1 sends files past 64 KB with `http.response.pathsend` when the
server offers it (granian does, uvicorn 0.54 does not), to compare with sending bytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_root = Path(os.environ.get("BENCH_BARE_DIR", "."))
_ANSWERS: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {}
for _path, _name, _type in (
    ("/", "index.html", b"text/html; charset=utf-8"),
    ("/assets/app-3f2a9c1e.js", "assets/app-3f2a9c1e.js", b"text/javascript; charset=utf-8"),
):
    _file = _root / _name
    if _file.is_file():
        _body = _file.read_bytes()
        _headers = [
            (b"content-type", _type),
            (b"etag", b'"0123456789abcdef0123456789abcdef"'),
            (b"cache-control", b"public, max-age=0, must-revalidate"),
            (b"accept-ranges", b"bytes"),
            (b"last-modified", b"Wed, 02 Dec 2026 00:00:00 GMT"),
            (b"content-length", str(len(_body)).encode()),
        ]
        _ANSWERS[_path] = (_headers, _body)
_PATHSEND = os.environ.get("BENCH_BARE_PATHSEND") == "1"
_FILES = {"/": _root / "index.html", "/assets/app-3f2a9c1e.js": _root / "assets/app-3f2a9c1e.js"}
_MISSING: tuple[list[tuple[bytes, bytes]], bytes] = ([(b"content-length", b"0")], b"")


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers, body = _ANSWERS.get(scope["path"], _MISSING)
    status = 200 if body else 404
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if _PATHSEND and len(body) > 64 * 1024 and "http.response.pathsend" in scope["extensions"]:
        await send({"type": "http.response.pathsend", "path": str(_FILES[scope["path"]])})
        return
    await send({"type": "http.response.body", "body": body})
