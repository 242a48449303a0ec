"""The edge: an ASGI application ahead of Django that serves sites by Host.

A request for a site's host never enters Django's request cycle, middleware or ORM:
the host's `Served` (site, deployment, manifest, rules) is cached in this process and
dropped when Redis announces a change (activation, rollback, site disabled or deleted,
domain changes), and each file's response is prepared once. Every other host (the
dashboard, admin, API, realtime) goes to the inner application, but only on the
platform's own hosts (SHIPWAY_PLATFORM_HOSTS): a host that is neither a site's nor the
platform's gets the edge's 404, so no domain pointed at the server shows the dashboard.

What visitors choose (the Host, the path) never grows memory without bound: hosts are
normalised (lowercase, no port, no trailing dot) before the cache; the hosts that name a
site are kept in an LRU of SHIPWAY_EDGE_CACHED_HOSTS entries, the answers for hosts that
name nothing (a branch without a ready preview among them) in a small one of their own
(so unknown names cannot push real sites out); prepared responses are keyed by the file
served (a thousand missing paths that all fall back to 404.html share one), shared by
every host of a deployment and bounded by SHIPWAY_EDGE_CACHED_BYTES in all.

A server-rendered (ssr) deployment's host is served the same way for the files its
manifest has (GET and HEAD); every other request, any method, and its websockets go to
the deployment's server through edge/proxy.py, after waiting for the server to start if
it must (docs/architecture.md, "How the edge serves a server-rendered (ssr) host").

Each request on a site's host is counted for the site's usage, in this process's memory
(usage/counting.py: a dict update per request; a thread sends the counts to Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any
from urllib.parse import quote

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from core import pages
from core.limits import refusal
from deployments.servers import record_seen, want_server
from edge import access, invalidation, proxy
from edge.files import (
    PreparedFile,
    choose_encoding,
    not_modified,
    parse_range,
    prepare,
)
from edge.lru import Lru
from edge.served import NOT_EDGE, Served, load
from sites.hosts import HostKind, ParsedHost, normalize, parse
from usage.counting import counter_from_settings

log = structlog.get_logger(__name__)

Scope = dict[str, Any]
_WANTED = {
    b"host",
    b"accept-encoding",
    b"if-none-match",
    b"if-modified-since",
    b"range",
    b"if-range",
    b"cookie",
}
_HTML = b"text/html; charset=utf-8"
_CHUNK = 256 * 1024
# How many hosts that name no site (unknown names, unverified domains) are remembered:
# enough for the usual typos and probes, small enough not to matter (a key each).
UNKNOWN_HOSTS_KEPT = 1024
# What a prepared response costs besides its body (its headers, the key, the entry).
_PREPARED_OVERHEAD = 1024
# A host name as DNS has them; anything else names no site (and costs no query).
_LABEL = r"[a-z0-9_][a-z0-9_-]{0,62}"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
# A failed server is asked to start again only this long after it failed, so that one
# that crashes at once is not restarted per request.
FAILED_BACKOFF = 30.0
# How often the edge tells the idle sweeper which servers had requests (record_seen).
SEEN_EVERY = 2.0
# A start is asked for (want_server, a Redis round trip) at most this often per
# deployment by this process; want_server itself sends one task per start timeout.
ASK_EVERY = 2.0


# The answer for every host that names neither a site nor the platform.
UNKNOWN_HOST = Served(host="", kind=HostKind.UNKNOWN)


def _weight(prepared: PreparedFile) -> int:
    return _PREPARED_OVERHEAD + (len(prepared.body) if prepared.body is not None else 0)


class Edge:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        # Hosts that name a site (its Served holds the manifest), by normalised name.
        self.hosts: Lru[str, Served] = Lru(settings.SHIPWAY_EDGE_CACHED_HOSTS)
        # Hosts that name nothing, or the platform: small answers shared by all of them.
        self.unknown_hosts: Lru[str, Served] = Lru(UNKNOWN_HOSTS_KEPT)
        # Prepared responses by (deployment, file, encoding, status, _headers headers).
        self.responses: Lru[tuple[Any, ...], PreparedFile] = Lru(
            max(1, settings.SHIPWAY_EDGE_CACHED_BYTES // _PREPARED_OVERHEAD),
            settings.SHIPWAY_EDGE_CACHED_BYTES,
            _weight,
        )
        self.loads = 0  # hosts loaded from the database and storage, since the start
        self._generation = 0  # moves on with every invalidation
        self._loading: dict[str, asyncio.Future[Served]] = {}
        self._platform_hosts = frozenset(
            normalize(h) for h in settings.SHIPWAY_PLATFORM_HOSTS if normalize(h)
        )
        self._listener: asyncio.Task[None] | None = None
        # ssr: connections to servers, by address (a reload never touches them).
        self.pool = proxy.Pool()
        # Requests waiting for a site's server to start, woken by the site's invalidation.
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._seen: dict[str, float] = {}  # deployment id -> newest request (Unix time)
        self._asked: dict[str, float] = {}  # deployment id -> when a start was last asked
        self._background: set[asyncio.Task[Any]] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._start_timeout = float(settings.SHIPWAY_SSR_START_TIMEOUT)
        self._request_timeout = float(settings.SHIPWAY_SSR_REQUEST_TIMEOUT)
        self._body_limit = settings.SHIPWAY_MAX_REQUEST_BODY
        # Requests and body bytes per site (usage/counting.py); None: counting is off.
        self.usage = counter_from_settings()
        invalidation.register(self)

    def stats(self) -> dict[str, int]:
        """The sizes of this process's caches (tests and benchmarks look at them)."""
        return {
            "hosts": len(self.hosts),
            "unknown_hosts": len(self.unknown_hosts),
            "responses": len(self.responses),
            "response_bytes": self.responses.bytes,
            "loads": self.loads,
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and not self._platform(scope):
                await self._websocket(scope, receive, send)
                return
            await self.inner(scope, receive, send)
            return
        request: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _WANTED:
                request[name] = value
        host = request.get(b"host", b"").decode("latin-1")
        served = self.hosts.get(host)  # a Host as the cache keeps it: the usual case
        if served is None:
            host = normalize(host)
            served = self.hosts.get(host) or self.unknown_hosts.get(host)
        if served is None:
            served = await self._resolve(host)
        if served is NOT_EDGE:
            await self.inner(scope, receive, send)
            return
        usage = self.usage
        # By the site's server-made uid: a host naming no site has none (visitors' made-up
        # names count nothing), and a new site of a deleted one's id starts from zero.
        if usage is None or not served.site_uid:
            await self._serve(served, scope, request, receive, send, host)
            return
        counted = _Counted(send)
        try:
            await self._serve(served, scope, request, receive, counted, host)
        finally:
            usage.add(served.site_uid, counted.sent)

    # -- resolution -------------------------------------------------------------------

    async def _resolve(self, host: str) -> Served:
        if self._listener is None:
            self._listener = asyncio.ensure_future(invalidation.listen(self))
            self._flusher = asyncio.ensure_future(self._flush_seen())
            if self.usage is not None:
                self.usage.start()
        pending = self._loading.get(host)
        if pending is not None:  # another request is loading this host: share its answer
            return await asyncio.shield(pending)
        future: asyncio.Future[Served] = asyncio.get_running_loop().create_future()
        self._loading[host] = future
        try:
            for _attempt in range(3):
                generation = self._generation
                served = await self._load(host)
                if generation == self._generation:
                    break
                # Invalidated while loading: what was read may predate the change (an
                # ssr switch), and no request may be sent on by an older answer than one
                # already given; load again (a few times at most, then keep nothing).
            if generation == self._generation:  # else: answer this request, keep nothing
                # A branch without a ready preview is kept with the hosts that name
                # nothing (every invalidation drops them), so that made-up branch names
                # cannot push real sites out.
                if served.site_id and (served.kind != HostKind.BRANCH or served.deployment_id):
                    self.hosts.put(host, served)
                else:
                    self.unknown_hosts.put(host, served)
            future.set_result(served)
            return served
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            del self._loading[host]

    def _platform(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"host":
                return normalize(value.decode("latin-1")) in self._platform_hosts
        return False

    async def _load(self, host: str) -> Served:
        if host in self._platform_hosts:
            return NOT_EDGE
        if not _HOSTNAME.match(host):  # no name at all (an IPv6 address, nothing, junk)
            return UNKNOWN_HOST
        parsed = parse(host, settings.SITES_DOMAIN, self._platform_hosts)
        if parsed.kind == HostKind.PLATFORM:  # an address or localhost, not one of ours
            return UNKNOWN_HOST
        self.loads += 1
        served = await sync_to_async(_load_once, thread_sensitive=True)(parsed)
        return UNKNOWN_HOST if served.kind == HostKind.UNKNOWN else served

    def invalidate(self, site_id: str | None) -> None:
        """Forget a site's hosts (every host when site_id is None), and every host that
        named nothing (a site or domain may just have been made for it)."""
        self._generation += 1
        self.unknown_hosts.clear()
        if site_id is None:
            self.hosts.clear()
            woken = list(self._waiting)
        else:
            for key, served in self.hosts.items():
                if served.site_id == site_id:
                    self.hosts.pop(key)
            woken = [site_id] if site_id in self._waiting else []
        for waited in woken:
            entry = self._waiting.pop(waited, None)
            if entry is not None:  # may be called from another thread (a Django view)
                with contextlib.suppress(RuntimeError):  # its loop has ended
                    entry[0].call_soon_threadsafe(entry[1].set)

    # -- serving ----------------------------------------------------------------------

    async def _serve(
        self,
        served: Served,
        scope: Scope,
        request: dict[bytes, bytes],
        receive: Any,
        send: Any,
        host: str,
    ) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD") and not served.ssr:
            await _plain(
                send,
                405,
                pages.page("Method not allowed", "Use GET or HEAD."),
                method,
                # Close rather than read and drop whatever body comes with it.
                [(b"allow", b"GET, HEAD"), (b"connection", b"close")],
            )
            return
        path = scope["path"]
        if "\x00" in path or "/../" in path + "/" or "\\" in path:
            await _plain(send, 400, pages.BAD_PATH, method)
            return
        if served.kind == HostKind.UNKNOWN:
            await _plain(send, 404, pages.NO_SITE, method)
            return
        if path.startswith(access.CALLBACK_PATH):
            await _send_redirect(send, *access.callback(served, scope), method=method)
            return
        if served.protected and not access.allowed(served, request.get(b"cookie", b"")):
            await _send_redirect(send, 302, access.sign_in_url(served, scope), method=method)
            return
        if not served.enabled:
            await _plain(send, 404, pages.DISABLED, method)
            return
        if served.ssr:
            await self._serve_ssr(served, scope, request, receive, send, host)
            return
        if not served.serves_files:
            await self._not_serving(served, send, method)
            return
        await self._serve_path(served, scope, request, send, path)

    async def _not_serving(self, served: Served, send: Any, method: str) -> None:
        if served.kind == HostKind.BRANCH and not served.deployment_id:
            await _plain(send, 404, pages.NO_PREVIEW, method)
        elif served.kind in (HostKind.DEPLOYMENT, HostKind.BRANCH):
            log_url = (
                f"{settings.SHIPWAY_PUBLIC_URL}/v1/sites/{served.site_id}/deployments/"
                f"{served.deployment_id}/logs"
            )
            building = served.status in ("waiting", "processing", "building")
            extra = [(b"retry-after", b"5")] if building else []
            await _plain(
                send,
                503 if building else 404,
                pages.status_page(served.status, log_url),
                method,
                extra,
            )
        else:
            await _plain(send, 404, pages.NOT_LIVE, method)

    async def _serve_path(
        self,
        served: Served,
        scope: Scope,
        request: dict[bytes, bytes],
        send: Any,
        path: str,
        fall_back: bool = True,
    ) -> bool:
        """Answer from the deployment's files. Without `fall_back` (ssr), answer only a
        path the files (or a redirect rule) have, and return False for the rest."""
        method = scope["method"]
        status = 200
        requested = path  # _headers rules apply to the URL asked for, even when rewritten
        rules = served.rules
        if rules is not None:
            match = rules.match_redirect(
                path,
                scope["query_string"].decode("latin-1"),
                lambda p: _find(served, p)[0] is not None,
            )
            if match is not None:
                if not match.rewrite:
                    await _send_redirect(send, match.status, match.target, method=method)
                    return True
                path, status = match.target.split("?", 1)[0], match.status
        file_path, slash_redirect = _find(served, path)
        if slash_redirect:
            query = scope["query_string"]
            location = quote(slash_redirect) + ("?" + query.decode("latin-1") if query else "")
            await _send_redirect(send, 301, location, method=method)
            return True
        if file_path is None:
            if not fall_back:
                return False
            file_path, status = _fallback(served)
            if file_path is None:
                await _plain(send, 404, pages.NOT_FOUND, method)
                return True
        entry = served.files[file_path]
        encoding = (
            ""
            if b"range" in request
            else choose_encoding(request.get(b"accept-encoding", b""), entry)
        )
        # By the file served, not the path asked: every path that falls back to the same
        # file shares its response (the _headers rules for the path asked are in the key).
        extra = rules.headers_for(requested) if rules is not None else ()
        key = (served.prefix, file_path, encoding, status, extra)
        prepared = self.responses.get(key)
        if prepared is None:
            prepared = await asyncio.to_thread(
                prepare, served, file_path, encoding, status, list(extra)
            )
            self.responses.put(key, prepared)
        await _send_file(prepared, served, request, send, method, scope)
        return True

    # -- server-rendered sites --------------------------------------------------------

    async def _serve_ssr(
        self,
        served: Served,
        scope: Scope,
        request: dict[bytes, bytes],
        receive: Any,
        send: Any,
        host: str,
    ) -> None:
        """Static assets from the manifest (the same deployment's as the server: their
        hashes match); everything else from the deployment's server."""
        method = scope["method"]
        if (
            method in ("GET", "HEAD")
            and (served.files or served.rules is not None)
            and await self._serve_path(served, scope, request, send, scope["path"], False)
        ):
            return
        if served.pending_start:  # the runtime manager missed the activation's start
            self._ask(served.pending_start)
        running = await self._running(served, host, method, send)
        if running is None:
            return
        self._seen[running.deployment_id] = time.time()
        try:
            await proxy.forward(
                self.pool,
                running.server_address,
                scope,
                receive,
                send,
                timeout=self._request_timeout,
                body_limit=self._body_limit,
            )
        except proxy.TooLarge:
            content_type, body = refusal(scope["path"], self._body_limit)
            headers = [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),  # the rest of the body is not read
            ]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        except proxy.UpstreamError as exc:
            log.info(
                "edge.upstream_failed",
                site_id=running.site_id,
                deployment_id=running.deployment_id,
                address=running.server_address,
                status=exc.status,
                error=exc.sentence,
            )
            await _plain(send, exc.status, pages.server_unreachable(exc.sentence), method)
        except proxy.ResponseBroken as exc:
            log.info(
                "edge.upstream_broke_off",
                site_id=running.site_id,
                deployment_id=running.deployment_id,
                error=str(exc),
            )

    async def _running(self, served: Served, host: str, method: str, send: Any) -> Served | None:
        """The host's Served once its server runs (waiting while it starts); None when
        an error page was sent instead (failed: 502; still starting: 503)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        waited = False
        while True:
            if served.server_state == "running" and served.server_address:
                if waited:  # the start asked for is over: the next stop's ask is not held
                    self._asked.pop(served.deployment_id, None)
                return served
            if not served.ssr:  # the host changed under the wait (disabled, a rollback)
                await _plain(send, 404, pages.NOT_LIVE, method)
                return None
            if served.server_state == "failed":
                if time.time() - served.server_changed_at > FAILED_BACKOFF:
                    self._ask(served.deployment_id)  # try again; this request is not held
                await _plain(send, 502, pages.server_failed(served.server_error), method)
                return None
            # stopped or starting: ask (stopped) and wait for the site's next change.
            waited = True
            entry = self._waiting.get(served.site_id)
            if entry is None or entry[0] is not loop:
                entry = (loop, asyncio.Event())
                self._waiting[served.site_id] = entry
            if served.server_state != "starting":
                self._ask(served.deployment_id)
            # Re-read after the event exists: a change announced before it is seen here.
            served = await self._current(host, served)
            if served.server_state == "running" or served.server_state == "failed":
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            # At most ASK_EVERY at a time: a start asked for less than ASK_EVERY ago may
            # have ended (and its server stopped again) before this request came, so
            # this one's ask was skipped; still stopped after the wait, it asks again.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, ASK_EVERY)):
                    await entry[1].wait()
            served = await self._current(host, served)
        await _plain(send, 503, pages.SERVER_STARTING, method, [(b"retry-after", b"5")])
        return None

    async def _current(self, host: str, before: Served) -> Served:
        """What the host serves now (reloaded after an invalidation)."""
        host = normalize(host)
        current = self.hosts.get(host)
        if current is None:
            current = await self._resolve(host)
        return current if current.kind != HostKind.UNKNOWN else before

    def _ask(self, deployment_id: str) -> None:
        """want_server, off the event loop (Redis, the broker), at most every ASK_EVERY."""
        now = time.monotonic()
        if now - self._asked.get(deployment_id, -ASK_EVERY) < ASK_EVERY:
            return
        self._asked[deployment_id] = now
        if len(self._asked) > 10_000:  # bounded: old entries only matter for a second
            self._asked = {d: t for d, t in self._asked.items() if now - t < ASK_EVERY}
        task = asyncio.ensure_future(asyncio.to_thread(_want, deployment_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _flush_seen(self) -> None:
        """Run for the life of the process: hand the servers' last request times to the
        idle sweeper (deployments.servers.record_seen) every SEEN_EVERY seconds."""
        while True:
            await asyncio.sleep(SEEN_EVERY)
            self.pool.prune()
            if not self._seen:
                continue
            batch, self._seen = self._seen, {}
            try:
                await asyncio.to_thread(record_seen, batch)
            except Exception:
                log.warning("edge.seen_not_recorded", servers=len(batch), exc_info=True)
                for deployment_id, at in batch.items():  # next time, unless newer
                    self._seen.setdefault(deployment_id, at)

    async def _websocket(self, scope: Scope, receive: Any, send: Any) -> None:
        """A websocket on a site's host: relayed to an ssr deployment's server; refused
        (403) anywhere else or without preview access."""
        host = ""
        cookie = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = normalize(value.decode("latin-1"))
            elif name == b"cookie":
                cookie = value
        served = self.hosts.get(host) or self.unknown_hosts.get(host)
        if served is None:
            served = await self._resolve(host)
        if (
            served is NOT_EDGE
            or served.kind == HostKind.UNKNOWN
            or not served.ssr
            or (served.protected and not access.allowed(served, cookie))
        ):
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # not accepted: 403
            return

        async def no_page(message: dict[str, Any]) -> None:
            """A websocket gets a close code, not the error page _running would send."""

        running = await self._running(served, host, "GET", no_page)
        if running is None:
            await receive()
            await send({"type": "websocket.close", "code": 1011})
            return
        self._seen[running.deployment_id] = time.time()
        await proxy.relay_websocket(
            running.server_address, scope, receive, send, timeout=self._request_timeout
        )


class _Counted:
    """A `send` that adds up the body bytes it sends, for the site's usage: a plain call
    that hands back the inner send's awaitable (no coroutine of its own per message)."""

    __slots__ = ("send", "sent", "start")

    def __init__(self, send: Any) -> None:
        self.send = send
        self.sent = 0
        self.start: dict[str, Any] | None = None

    def __call__(self, message: dict[str, Any]) -> Any:
        kind = message["type"]
        if kind == "http.response.body":
            self.sent += len(message.get("body", b""))
        elif kind == "http.response.start":
            self.start = message
        elif kind == "http.response.pathsend" and self.start is not None:
            for name, value in self.start["headers"]:  # the file's length, as announced
                if name == b"content-length":
                    self.sent += int(value)
        return self.send(message)


def _want(deployment_id: str) -> None:
    try:
        want_server(deployment_id)
    except Exception:  # the broker or Redis away: the next request asks again
        log.warning("edge.server_not_wanted", deployment_id=deployment_id, exc_info=True)


def _load_once(parsed: ParsedHost) -> Served:
    """Load outside any request cycle, so close the connection Django won't close for us
    (misses are rare; an idle connection per web process is not worth keeping)."""
    try:
        return load(parsed)
    finally:
        connection.close()


def _find(served: Served, path: str) -> tuple[str | None, str | None]:
    """(file to serve, or a path to redirect to for a directory without its slash)."""
    files = served.files
    if path.endswith("/"):
        index = path + "index.html"
        return (index, None) if index in files else (None, None)
    if path in files:
        return path, None
    if path + ".html" in files:
        return path + ".html", None
    if path + "/index.html" in files:
        return None, path + "/"
    return None, None


def _fallback(served: Served) -> tuple[str | None, int]:
    if served.fallback_file:
        fallback = "/" + served.fallback_file.lstrip("/")
        if fallback in served.files:
            return fallback, 200
    if "/404.html" in served.files:
        return "/404.html", 404
    return None, 404


async def _send_file(
    prepared: PreparedFile,
    served: Served,
    request: dict[bytes, bytes],
    send: Any,
    method: str,
    scope: Scope,
) -> None:
    if (
        prepared.body is not None
        and b"range" not in request
        and b"if-none-match" not in request
        and b"if-modified-since" not in request
    ):
        # The usual request (no condition, no range): headers and body as prepared.
        status, headers = prepared.status, prepared.full_headers
        await send({"type": "http.response.start", "status": status, "headers": headers})
        body = b"" if method == "HEAD" else prepared.body
        await send({"type": "http.response.body", "body": body})
        return
    if prepared.status == 200 and not_modified(
        prepared,
        request.get(b"if-none-match", b""),
        request.get(b"if-modified-since", b""),
        served.last_modified,
    ):
        headers = [
            h for h in prepared.headers if h[0] not in (b"content-type", b"content-encoding")
        ]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    start, end = 0, prepared.size - 1
    status = prepared.status
    headers = list(prepared.headers)
    range_header = request.get(b"range")
    if (
        range_header
        and prepared.identity
        and status == 200
        and _range_applies(request.get(b"if-range"), prepared, served)
    ):
        wanted = parse_range(range_header, prepared.size)
        if wanted is False:
            unsatisfiable = [(b"content-range", f"bytes */{prepared.size}".encode())]
            await _plain(send, 416, b"", method, unsatisfiable)
            return
        if wanted:
            start, end = wanted
            status = 206
            headers.append((b"content-range", f"bytes {start}-{end}/{prepared.size}".encode()))
    length = end - start + 1 if prepared.size else 0
    headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if method == "HEAD" or length == 0:
        await send({"type": "http.response.body", "body": b""})
        return
    if prepared.body is not None:
        body = prepared.body if status != 206 else prepared.body[start : end + 1]
        await send({"type": "http.response.body", "body": body})
        return
    if status == 200 and "http.response.pathsend" in scope.get("extensions", {}):
        await send({"type": "http.response.pathsend", "path": prepared.path})
        return
    await _stream(prepared.path, start, length, send)


def _range_applies(if_range: bytes | None, prepared: PreparedFile, served: Served) -> bool:
    if not if_range:
        return True
    return if_range.strip() in (prepared.etag, served.last_modified.encode())


async def _stream(path: str, start: int, length: int, send: Any) -> None:
    handle = await asyncio.to_thread(open, path, "rb")
    try:
        await asyncio.to_thread(handle.seek, start)
        remaining = length
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
    finally:
        handle.close()


async def _plain(
    send: Any, status: int, body: bytes, method: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", _HTML),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


async def _send_redirect(
    send: Any,
    status: int,
    location: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
) -> None:
    extra = [(b"location", location.encode("latin-1", "replace")), *(headers or [])]
    await _plain(send, status, b"", method, extra)
