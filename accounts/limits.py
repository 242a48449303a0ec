"""Limits on guessing passwords: who the client is, and what a locked-out sign-in shows.

django-axes counts failed sign-ins on every password form (the dashboard's, the admin's,
the browsable API's) by username and by client address, and refuses either for the
cool-off once it reaches SHIPWAY_LOGIN_FAILURES_LIMIT (config/settings.py, "Sign-in
limits"). The API's throttles (accounts/throttles.py) use the same client address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.SHIPWAY_TRUSTED_PROXIES)))


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy
    (SHIPWAY_TRUSTED_PROXIES), then the right-most X-Forwarded-For address that is not
    one. What a client writes into X-Forwarded-For itself is never believed: the proxies
    append to the header, so the client's own entries are left of the one they add."""
    address = request.META.get("REMOTE_ADDR") or ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded or not _trusted(address):
        return address
    for hop in reversed([h.strip() for h in forwarded.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a malformed header: the proxy's address, not a made-up one
        if not _trusted(hop):
            return hop
    return address


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: the sign-in page, saying why and for how long
    (429, with Retry-After), the same whatever password was tried."""
    minutes = settings.SHIPWAY_LOGIN_COOLOFF_MINUTES
    context = {"minutes": minutes, "sign_in_url": request.path}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    add_never_cache_headers(response)
    return response
