"""Request body limits, by route, ahead of Django.

Django's ASGI handler reads a whole body (to a temporary file past 2 MB) before any
routing, authentication or view runs, so without a bound here anyone could make the web
process write hundreds of megabytes to disk for a request that ends in a 403.
`BodyLimit` wraps Django and refuses with 413 early: at once when Content-Length says too
much, or as soon as a body of unknown length (chunked) passes its route's limit, without
reading the rest (the connection is closed). Uploads of a source archive may be up to
SHIPWAY_MAX_UPLOAD_SIZE plus SHIPWAY_MAX_REQUEST_BODY for the form around the file;
webhook deliveries (/v1/hooks/) up to SHIPWAY_WEBHOOK_MAX_BODY; every other request up
to SHIPWAY_MAX_REQUEST_BODY. The front proxies (deploy/) set the
same limits.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core import pages

# Where a source archive is sent: the API (one request, or chunks with Content-Range)
# and the dashboard's upload form.
UPLOAD_PATHS = re.compile(r"^/(?:v1/sites/[^/]+/deployments|sites/[^/]+/upload)/?$")
# Where forges and schedulers deliver (docs/api.md, "Git"): their own bound.
HOOK_PATHS = re.compile(r"^/v1/hooks/")


class BodyLimit:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.default = settings.SHIPWAY_MAX_REQUEST_BODY
        self.upload = settings.SHIPWAY_MAX_UPLOAD_SIZE + settings.SHIPWAY_MAX_REQUEST_BODY
        self.hook = settings.SHIPWAY_WEBHOOK_MAX_BODY

    def limit_for(self, scope: dict[str, Any]) -> int:
        if scope["method"] == "POST" and UPLOAD_PATHS.match(scope["path"]):
            return self.upload
        if HOOK_PATHS.match(scope["path"]):
            return self.hook
        return self.default

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)  # before reading a byte of it
            return
        received = 0
        over = False
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django sees the client leave (it stops reading and answers nothing)
                    # and the 413 below goes out instead.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.inner(scope, limited_receive, watched_send)
        if over and not started:
            await _refuse(scope, send, limit)


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects it; counting covers it anyway
    return None


def refusal(path: str, limit: int) -> tuple[bytes, bytes]:
    """(content type, body) of a 413: the API's error envelope under /v1, else a page."""
    message = f"The request body is larger than {limit} bytes, the most this address takes."
    if path == "/v1" or path.startswith("/v1/"):
        envelope = {"message": message, "code": 413, "type": "request_too_large"}
        return b"application/json", json.dumps(envelope, separators=(",", ":")).encode()
    return b"text/html; charset=utf-8", pages.page("Request too large", message)


class BodyLimitMiddleware:
    """The same limits for Django under WSGI (gunicorn, `runplatform --api-port`), where
    a body is read only when a view or middleware asks for it: refuse by Content-Length
    before anything does (the WSGI server never hands Django more than that)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.limits = BodyLimit(None)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = self.limits.limit_for({"method": request.method, "path": request.path})
        if declared > limit:
            content_type, body = refusal(request.path, limit)
            response = HttpResponse(body, status=413, content_type=content_type.decode())
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)


async def _refuse(scope: dict[str, Any], send: Any, limit: int) -> None:
    content_type, body = refusal(scope["path"], limit)
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),  # the rest of the body is not read: close, not drain
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
