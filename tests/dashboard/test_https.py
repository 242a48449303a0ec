"""Cookies and transport (issue 11, item 6): over HTTPS the session and CSRF cookies are
Secure and HSTS is sent; HTTPS is a setting (SHIPWAY_HTTPS) or what a trusted proxy
says (X-Forwarded-Proto from SHIPWAY_TRUSTED_PROXIES), never what anyone else says."""

import pytest
from django.test import Client, RequestFactory

from tests.factories import make_user

pytestmark = pytest.mark.django_db

HSTS = "Strict-Transport-Security"


def sign_in(client: Client, **extra: str):  # type: ignore[no-untyped-def]
    """The sign-in page (it sets the CSRF cookie), then the sign-in itself."""
    make_user("ada")
    page = client.get("/accounts/login/", **extra)
    assert page.status_code == 200
    signed_in = client.post(
        "/accounts/login/", {"username": "ada", "password": "pw-for-tests-1"}, **extra
    )
    assert signed_in.status_code == 302
    return page, signed_in


def test_with_shipway_https_the_cookies_are_secure_and_hsts_is_sent(settings):
    settings.SHIPWAY_HTTPS = True
    page, signed_in = sign_in(Client())
    assert page.cookies["csrftoken"]["secure"] is True
    assert signed_in.cookies["sessionid"]["secure"] is True
    assert page[HSTS] == f"max-age={settings.SHIPWAY_HSTS_SECONDS}"
    assert settings.SHIPWAY_HSTS_SECONDS >= 180 * 24 * 3600


def test_a_trusted_proxys_x_forwarded_proto_means_https(settings):
    settings.SHIPWAY_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    client = Client(REMOTE_ADDR="10.1.2.3")
    page, signed_in = sign_in(client, HTTP_X_FORWARDED_PROTO="https")
    assert page.cookies["csrftoken"]["secure"] is True
    assert signed_in.cookies["sessionid"]["secure"] is True
    assert HSTS in page


def test_anyone_elses_x_forwarded_proto_is_ignored(settings):
    """A visitor (not a configured proxy) who says "https" gets plain HTTP's answer."""
    settings.SHIPWAY_TRUSTED_PROXIES = ["10.0.0.0/8"]
    client = Client(REMOTE_ADDR="203.0.113.9")
    page, signed_in = sign_in(client, HTTP_X_FORWARDED_PROTO="https")
    assert not page.cookies["csrftoken"]["secure"]
    assert not signed_in.cookies["sessionid"]["secure"]
    assert HSTS not in page


def test_plain_http_on_a_laptop_keeps_plain_cookies(settings):
    page, signed_in = sign_in(Client())
    assert not page.cookies["csrftoken"]["secure"]
    assert not signed_in.cookies["sessionid"]["secure"]
    assert HSTS not in page


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(settings):
    """The client's address is the last one in X-Forwarded-For that is not a trusted
    proxy, and only when the request came from a trusted proxy."""
    from core.proxies import ProxyMiddleware

    seen: dict[str, str] = {}

    def view(request):  # type: ignore[no-untyped-def]
        from django.http import HttpResponse

        seen["address"] = request.META["REMOTE_ADDR"]
        seen["secure"] = str(request.is_secure())
        return HttpResponse("ok")

    settings.SHIPWAY_TRUSTED_PROXIES = ["10.0.0.0/8"]
    middleware = ProxyMiddleware(view)
    factory = RequestFactory()
    chain = "198.51.100.1, 192.0.2.44, 10.0.0.2"  # forged, the client, another proxy
    middleware(factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=chain))
    assert seen["address"] == "192.0.2.44"
    middleware(factory.get("/", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR="10.9.9.9"))
    assert seen["address"] == "192.0.2.50"
    middleware(factory.get("/", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_PROTO="https"))
    assert seen["secure"] == "False"
