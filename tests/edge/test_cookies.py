"""Cookies on sites' hosts (issue 11, item 6): a deployment's `_headers` cannot set
cookies, and the edge's own preview-access cookie is Secure whenever the request came
over HTTPS (SHIPWAY_HTTPS, the server's scheme, or a trusted proxy's X-Forwarded-Proto)."""

from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from deployments.rules import Rules
from deployments.services import deployment_create_from_upload
from edge import access
from edge.app import Edge
from tests.archives import tar_gz, upload
from tests.edge.conftest import SITES_DOMAIN, asgi_request, publish
from tests.factories import api_client, eager_builds

pytestmark = pytest.mark.django_db(transaction=True)


def build(site, files):  # type: ignore[no-untyped-def]
    with eager_builds():
        deployment = deployment_create_from_upload(site=site, archive=upload(tar_gz(files)))
    deployment.refresh_from_db()
    return deployment


@pytest.mark.parametrize("name", ["Set-Cookie", "set-cookie", "SET-COOKIE", "sEt-CoOkIe"])
def test_headers_rules_cannot_set_cookies(static_site, name):
    """Attack: a site's `_headers` sets a cookie for the whole SITES_DOMAIN (or, with
    SITES_DOMAIN under the dashboard's domain, for the dashboard)."""
    site, owner = static_site
    rules = f"/*\n  X-Frame-Options: DENY\n  {name}: sid=x; Domain={SITES_DOMAIN}; Path=/\n"
    deployment = build(site, {"index.html": "x", "_headers": rules})
    assert (deployment.status, deployment.error_code) == ("failed", "rules_invalid")
    log = api_client(owner).get(f"/v1/sites/{site.id}/deployments/{deployment.id}/logs")
    assert "_headers line 3" in log.content.decode()


def test_cookies_in_rules_stored_before_the_check_are_never_sent():
    stored = [{"line": 1, "for": "/*", "values": [["Set-Cookie", "a=1"], ["X-A", "1"]]}]
    assert Rules.from_json([], stored).headers_for("/") == (("X-A", "1"),)


async def _fallthrough(scope, receive, send):  # type: ignore[no-untyped-def]
    raise AssertionError("a site's host must not reach Django")


def _callback(edge: Edge, host: str, ticket: str, scheme: str, client: str, **headers: str):  # type: ignore[no-untyped-def]
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": scheme,
        "client": (client, 50000),
        "path": access.CALLBACK_PATH,
        "query_string": urlencode({"ticket": ticket, "next": "/"}).encode(),
        "headers": [(b"host", host.encode())]
        + [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
    }
    sent = asgi_request(edge, scope)
    assert sent[0]["status"] == 302
    cookies = [v.decode() for k, v in sent[0]["headers"] if k == b"set-cookie"]
    assert len(cookies) == 1
    return SimpleCookie(cookies[0])[access.COOKIE]


@pytest.mark.parametrize(
    ("shipway_https", "scheme", "client", "forwarded", "secure"),
    [
        (True, "http", "203.0.113.9", "", True),  # the setting
        (False, "https", "203.0.113.9", "", True),  # the server's own TLS
        (False, "http", "10.0.0.7", "https", True),  # a trusted proxy says so
        (False, "http", "203.0.113.9", "https", False),  # anyone else saying so
        (False, "http", "127.0.0.1", "", False),  # plain HTTP on a laptop
    ],
)
def test_the_preview_cookie_is_secure_over_https(
    static_site, settings, shipway_https, scheme, client, forwarded, secure
):
    site, owner = static_site
    settings.SHIPWAY_HTTPS = shipway_https
    settings.SHIPWAY_TRUSTED_PROXIES = ["10.0.0.0/8"]
    publish(site, {"index.html": "x"})
    host = f"{site.id}.{SITES_DOMAIN}"
    ticket = access.issue_ticket(site_uid=site.uid.hex, host=host, user_id=owner.pk)
    extra = {"x_forwarded_proto": forwarded} if forwarded else {}
    morsel = _callback(Edge(_fallthrough), host, ticket, scheme, client, **extra)
    assert bool(morsel["secure"]) is secure
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
