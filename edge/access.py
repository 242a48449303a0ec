"""Preview protection: team members sign in on the dashboard, the edge trusts a cookie.

Preview addresses live on other hosts than the dashboard, so its session cookie does not
reach them. The edge sends a visitor without a valid cookie to the dashboard's
`/edge/authorize`; that view checks the user may read the site and redirects back to
`/.shipway/auth` on the site's host with a one-minute signed ticket; the edge turns the
ticket into a host-only cookie (signed, 12 hours; Secure whenever the request came over
HTTPS, core/proxies.py) and sends the visitor on. Checking the
cookie costs one HMAC, no database. A cookie issued before its user's access changed is
void (invalidation.revoke_previews): the visitor goes through the handshake again.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from django.conf import settings
from django.core import signing

from core import proxies
from edge import invalidation
from edge.served import Served

COOKIE = "__shipway_access"
CALLBACK_PATH = "/.shipway/auth"
TICKET_SALT = "shipway.edge.ticket"
COOKIE_SALT = "shipway.edge.cookie"
TICKET_AGE = 60
COOKIE_AGE = 12 * 3600


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def issue_ticket(*, site_uid: str, host: str, user_id: int) -> str:
    """A ticket for `host` of the site whose identity is `site_uid` (Site.uid, not its id:
    a new site that takes a deleted site's id accepts none of the old tickets or cookies)."""
    return signing.dumps({"s": site_uid, "h": host, "u": user_id, "t": _now_ms()}, salt=TICKET_SALT)


def allowed(served: Served, cookie_header: bytes) -> bool:
    if not cookie_header:
        return False
    jar = SimpleCookie()
    try:
        jar.load(cookie_header.decode("latin-1"))
    except Exception:
        return False
    morsel = jar.get(COOKIE)
    if morsel is None:
        return False
    try:
        value = signing.loads(morsel.value, salt=COOKIE_SALT, max_age=COOKIE_AGE)
    except signing.BadSignature:
        return False
    if value.get("s") != served.site_uid or value.get("h") != served.host:
        return False
    # "t": when it was issued (ms); cookies from before "t" existed count as the oldest.
    return value.get("t", 1) > invalidation.revoked_at(value.get("u"))


def sign_in_url(served: Served, scope: dict[str, Any]) -> str:
    target = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
    query = urlencode({"host": served.host, "next": target})
    return f"{settings.SHIPWAY_PUBLIC_URL}/edge/authorize?{query}"


def callback(served: Served, scope: dict[str, Any]) -> tuple[int, str, list[tuple[bytes, bytes]]]:
    """(status, location, headers) for `/.shipway/auth?ticket=...&next=...`."""
    query = parse_qs(scope["query_string"].decode("latin-1"))
    next_path = query.get("next", ["/"])[0]
    if not next_path.startswith("/") or next_path.startswith("//"):
        next_path = "/"
    try:
        ticket = signing.loads(query.get("ticket", [""])[0], salt=TICKET_SALT, max_age=TICKET_AGE)
    except signing.BadSignature:
        return 302, sign_in_url(served, {"path": next_path, "query_string": b""}), []
    if ticket.get("s") != served.site_uid or ticket.get("h") != served.host:
        return 302, sign_in_url(served, {"path": next_path, "query_string": b""}), []
    if ticket.get("t", 0) <= invalidation.revoked_at(ticket.get("u")):  # checked before
        return 302, sign_in_url(served, {"path": next_path, "query_string": b""}), []
    value = signing.dumps(
        {"s": served.site_uid, "h": served.host, "u": ticket.get("u"), "t": _now_ms()},
        salt=COOKIE_SALT,
    )
    https = proxies.scope_is_https(scope) or settings.SITES_URL_TEMPLATE.startswith("https")
    secure = "; Secure" if https else ""
    cookie = f"{COOKIE}={value}; Path=/; Max-Age={COOKIE_AGE}; HttpOnly; SameSite=Lax{secure}"
    return 302, quote(next_path, safe="/?=&%:;,+@"), [(b"set-cookie", cookie.encode())]
