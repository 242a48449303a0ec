"""HTTPS and the front proxy: who the client is, and whether it came over HTTPS.

A request came over HTTPS when Shipway is told so (SHIPWAY_HTTPS), when the server
itself took TLS, or when a trusted proxy (SHIPWAY_TRUSTED_PROXIES, CIDRs) says so in
X-Forwarded-Proto. X-Forwarded-Proto and X-Forwarded-For from anyone else are ignored:
a visitor cannot claim HTTPS or another address. Over HTTPS every cookie the platform
sets is Secure and HSTS is sent (SHIPWAY_HSTS_SECONDS); the edge's preview cookie is
Secure too (edge/access.py).

`ProxyMiddleware` is the first of Django's middleware: it drops the forwarded headers of
untrusted peers (so Django's SECURE_PROXY_SSL_HEADER only ever sees a trusted proxy's),
takes the client's address from a trusted proxy's X-Forwarded-For, and marks cookies
Secure. runplatform tells uvicorn and gunicorn to trust the same proxies
(`server_arguments`), so their own reading of these headers agrees; under granian,
which has no such option, `ForwardedScope` does the same (config/granian_asgi.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HSTS_HEADER = "Strict-Transport-Security"
_FORWARDED = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST")


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries if entry)


def trusted_networks() -> tuple[Network, ...]:
    """SHIPWAY_TRUSTED_PROXIES, parsed (an invalid entry raises ValueError)."""
    return _networks(tuple(entry.strip() for entry in settings.SHIPWAY_TRUSTED_PROXIES))


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(peer: str | None) -> bool:
    """Whether `peer` (an IP address) is one of the trusted proxies."""
    address = _address(peer or "")
    return address is not None and any(address in network for network in trusted_networks())


def client_address(peer: str, forwarded_for: str | None) -> str:
    """The client's address: `peer`, or, when `peer` is a trusted proxy, the last address
    of X-Forwarded-For that is not a trusted proxy (the ones before it are the client's
    own words)."""
    if not forwarded_for or not is_trusted(peer):
        return peer
    current = peer
    for hop in reversed(forwarded_for.split(",")):
        if _address(hop) is None:
            break
        current = hop.strip()
        if not is_trusted(current):
            break
    return current


def is_https(scheme: str, peer: str | None, forwarded_proto: str | None) -> bool:
    """Whether a request came over HTTPS (see the module's docstring)."""
    if settings.SHIPWAY_HTTPS or scheme in ("https", "wss"):
        return True
    if forwarded_proto and is_trusted(peer):
        return forwarded_proto.split(",")[0].strip().lower() == "https"
    return False


def scope_is_https(scope: dict[str, Any]) -> bool:
    """`is_https` for an ASGI scope."""
    client = scope.get("client") or ("",)
    proto = None
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            proto = value.decode("latin-1")
            break
    return is_https(scope.get("scheme", "http"), client[0], proto)


def server_arguments(server: str) -> list[str]:
    """Command-line arguments that make uvicorn or gunicorn trust exactly the trusted
    proxies' X-Forwarded-* headers (both trust 127.0.0.1 by default). granian reads no
    forwarded header itself: it serves the application behind `ForwardedScope` instead
    (config/granian_asgi.py), so it takes none."""
    allowed = ",".join(str(network) for network in trusted_networks())
    if server == "granian":
        return []
    if server == "uvicorn":
        return ["--forwarded-allow-ips", allowed] if allowed else ["--no-proxy-headers"]
    return ["--forwarded-allow-ips", allowed]


class ForwardedScope:
    """ASGI middleware doing what uvicorn's --forwarded-allow-ips does, for servers that
    have no such option (granian): when a request (HTTP or websocket) comes from a
    trusted proxy, its scope's client becomes `client_address` of the proxy's
    X-Forwarded-For and its scheme the proxy's X-Forwarded-Proto. Everyone else's scope is
    left as it is; ProxyMiddleware then drops their forwarded headers, as under uvicorn."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            forwarded_for: list[str] = []
            proto = None
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    forwarded_for.append(value.decode("latin-1"))
                elif name == b"x-forwarded-proto" and proto is None:
                    proto = value.decode("latin-1").split(",")[0].strip().lower()
            client = scope.get("client")
            if (forwarded_for or proto) and client and is_trusted(str(client[0])):
                scope = dict(scope)
                if proto in ("http", "https"):
                    websocket = scope["type"] == "websocket"
                    scope["scheme"] = proto.replace("http", "ws") if websocket else proto
                if forwarded_for:
                    address = client_address(str(client[0]), ",".join(forwarded_for))
                    scope["client"] = (address, 0)
        await self.app(scope, receive, send)


class ProxyMiddleware:
    """First in MIDDLEWARE: forwarded headers only from trusted proxies; over HTTPS,
    Secure cookies and HSTS."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        _arrive(request)
        return _leave(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        _arrive(request)
        response = self.get_response(request)
        assert isinstance(response, Awaitable)
        return _leave(request, await response)


def _arrive(request: HttpRequest) -> None:
    meta = request.META
    peer = meta.get("REMOTE_ADDR", "")
    if is_trusted(peer):
        meta["REMOTE_ADDR"] = client_address(peer, meta.get("HTTP_X_FORWARDED_FOR"))
    else:
        for name in _FORWARDED:
            meta.pop(name, None)


def _leave(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    if settings.SHIPWAY_HTTPS or request.is_secure():
        for morsel in response.cookies.values():
            morsel["secure"] = True
        if settings.SHIPWAY_HSTS_SECONDS > 0 and not response.has_header(HSTS_HEADER):
            response.headers[HSTS_HEADER] = f"max-age={settings.SHIPWAY_HSTS_SECONDS}"
    return response
