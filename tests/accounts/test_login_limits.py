"""Brute force against the three sign-in forms (the dashboard's, the admin's and the
browsable API's): after SHIPWAY_LOGIN_FAILURES_LIMIT failures for one account, or from
one address, sign-in is refused, in words, until the cool-off has passed."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_user

pytestmark = pytest.mark.django_db

LIMIT = 5  # SHIPWAY_LOGIN_FAILURES_LIMIT's default
PASSWORD = "pw-for-tests-1"  # tests.factories.make_user's
LOGINS = ["/accounts/login/", "/admin/login/", "/v1/auth/login/"]


def sign_in(path: str, username: str, password: str, address: str) -> object:
    """One attempt, from its own client (no cookie carries over) and `address`."""
    return Client(REMOTE_ADDR=address).post(
        path, {"username": username, "password": password, "next": "/"}
    )


def signed_in(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and "sessionid" in response.cookies


def assert_locked_out(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.status_code
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    assert "15 minutes" in html  # SHIPWAY_LOGIN_COOLOFF_MINUTES's default
    assert 'role="alert"' in html and "<html" in html  # a page, not a bare text
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize("path", LOGINS)
def test_guessing_one_accounts_password_from_many_addresses_locks_the_account(path) -> None:
    make_user("ada", is_staff=True)  # the admin signs in staff only
    for n in range(LIMIT):
        wrong = sign_in(path, "ada", f"guess-{n}", f"198.51.100.{n + 1}")
        assert not signed_in(wrong)
        # The form again, then the failure that reaches the limit says so at once.
        assert wrong.status_code == (200 if n < LIMIT - 1 else 429)
    # The right password, from yet another address: the account waits out the cool-off.
    assert_locked_out(sign_in(path, "ada", PASSWORD, "198.51.100.99"))
    # Other accounts are not locked, not even from the addresses that guessed.
    make_user("bob", is_staff=True)
    assert signed_in(sign_in(path, "bob", PASSWORD, "198.51.100.1"))


@pytest.mark.parametrize("path", LOGINS)
def test_one_address_trying_many_accounts_is_locked_out(path) -> None:
    make_user("carol", is_staff=True)
    for n in range(LIMIT):
        sign_in(path, f"someone-{n}", "guess", "203.0.113.5")
    assert_locked_out(sign_in(path, "carol", PASSWORD, "203.0.113.5"))
    # The account itself is fine from anywhere else.
    assert signed_in(sign_in(path, "carol", PASSWORD, "203.0.113.6"))


def test_a_locked_out_account_says_the_same_to_a_right_and_a_wrong_password() -> None:
    make_user("dan")
    for n in range(LIMIT):
        sign_in("/accounts/login/", "dan", f"guess-{n}", "192.0.2.10")
    right = sign_in("/accounts/login/", "dan", PASSWORD, "192.0.2.11")
    wrong = sign_in("/accounts/login/", "dan", "still-guessing", "192.0.2.12")
    assert_locked_out(right)
    assert_locked_out(wrong)
    assert right.content == wrong.content  # no oracle for the password while locked


def test_fewer_failures_than_the_limit_do_not_lock_out() -> None:
    make_user("erin")
    for n in range(LIMIT - 1):
        sign_in("/accounts/login/", "erin", f"typo-{n}", "192.0.2.20")
    assert signed_in(sign_in("/accounts/login/", "erin", PASSWORD, "192.0.2.20"))


def test_the_lockout_ends_after_the_cool_off(settings) -> None:
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.db.models import F

    make_user("fay")
    for n in range(LIMIT):
        sign_in("/accounts/login/", "fay", f"guess-{n}", "192.0.2.30")
    assert_locked_out(sign_in("/accounts/login/", "fay", PASSWORD, "192.0.2.30"))
    # Trying again while locked out does not extend the lockout (nothing is recorded).
    assert AccessAttempt.objects.get().failures_since_start == LIMIT
    cool_off = timedelta(minutes=settings.SHIPWAY_LOGIN_COOLOFF_MINUTES)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - cool_off)
    assert signed_in(sign_in("/accounts/login/", "fay", PASSWORD, "192.0.2.30"))


def test_test_clients_still_sign_in_with_force_login() -> None:
    """The suite's own fixtures (force_login) never go through the limits."""
    user = make_user("gus")
    for n in range(LIMIT):
        sign_in("/accounts/login/", "gus", f"guess-{n}", "127.0.0.1")
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_lockout_page_under_uvicorn(edge_server) -> None:
    """The platform runs under ASGI, where django-axes takes its async path."""
    import http.client
    import re
    from urllib.parse import urlencode

    make_user("hal")

    def attempt(password: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", edge_server, timeout=10)
        connection.request("GET", "/accounts/login/")
        page = connection.getresponse()
        html = page.read().decode()
        cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie"))[1]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
        body = urlencode({"username": "hal", "password": password, "csrfmiddlewaretoken": token})
        connection.request(
            "POST",
            "/accounts/login/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"},
        )
        response = connection.getresponse()
        response.body = response.read().decode()
        connection.close()
        return response

    for n in range(LIMIT - 1):
        assert attempt(f"guess-{n}").status == 200
    locked = attempt("guess-last")
    assert locked.status == 429 and "Too many failed sign-ins" in locked.body
    assert locked.getheader("Retry-After") == "900"
    right = attempt(PASSWORD)
    assert right.status == 429 and "Too many failed sign-ins" in right.body
