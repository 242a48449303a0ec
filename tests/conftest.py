import os
from typing import Any

import pytest

from sites import services as site_services
from tests.factories import api_client, eager_builds, make_site, make_team, make_user

pytest_plugins = ["tests.live", "tests.smtp"]


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(settings, tmp_path):
    """Each test stores artifacts in its own directory, so nothing leaks between tests."""
    from django.core.files.storage import storages

    settings.MEDIA_ROOT = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "storage"},
        },
    }
    storages._storages.pop("artifacts", None)
    yield
    storages._storages.pop("artifacts", None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs half a second per user; tests make many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _builds_queue_of_this_session(settings):
    """Builds (and server starts, commit statuses, background removals) queued by tests
    that run no worker go to queues of this session's own (removed at the end), never to
    the `builds`, `servers`, `notify` or `maintenance` queue a real worker may be reading."""
    settings.SHIPWAY_BUILD_QUEUE = f"builds-test-{os.getpid()}"
    settings.SHIPWAY_SERVER_QUEUE = f"servers-test-{os.getpid()}"
    settings.SHIPWAY_NOTIFY_QUEUE = f"notify-test-{os.getpid()}"
    settings.SHIPWAY_MAINTENANCE_QUEUE = f"maintenance-test-{os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def _drop_the_sessions_queue():
    yield
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        redis.Redis.from_url(url).delete(
            f"builds-test-{os.getpid()}",
            f"servers-test-{os.getpid()}",
            f"notify-test-{os.getpid()}",
            f"maintenance-test-{os.getpid()}",
        )


# The API tests' objects (tests/sites/ and tests/accounts/ test_api_validation.py).
SECRET_VALUE = "correct-horse-battery-staple"


@pytest.fixture
def world() -> dict[str, Any]:
    """Owner of teams `acme` and `beta`; site `blog` (react) in acme with a plain and a
    secret variable."""
    owner = make_user("owner")
    acme = make_team(owner, team_id="acme", name="Acme")
    make_team(owner, team_id="beta", name="Beta")
    site = make_site(acme, "blog", name="Blog", framework="react")
    plain = site_services.variable_create(site=site, key="PLAIN", value="hello")
    secret = site_services.variable_create(site=site, key="SECRET", value=SECRET_VALUE, secret=True)
    return {
        "owner": owner,
        "client": api_client(owner),
        "team": acme,
        "site": site,
        "plain": plain,
        "secret": secret,
    }


class FakeDns:
    """Answers for `core.outbound.resolve`, so tests name what a host resolves to
    without asking any DNS server. Names it was not told about go to the resolver
    that answers only IP literals and `localhost` (from the machine itself).

    `answer(host, *addresses)` queues one answer (no addresses: the name does not
    resolve): calls get the queued answers in order, and the last one again after
    that (a host that "rebinds" gets two).
    """

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self._real = real
        self._answers: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []

    def answer(self, host: str, *addresses: str) -> None:
        self._answers.setdefault(host, []).append(list(addresses))

    def resolve(self, host: str, port: int):  # type: ignore[no-untyped-def]
        import ipaddress
        import socket

        self.asked.append(host)
        queue = self._answers.get(host)
        if not queue:
            return self._real(host, port)
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(a) for a in addresses]


def _no_dns(real):  # type: ignore[no-untyped-def]
    """`core.outbound.resolve` for tests: IP literals and `localhost` only, which the
    machine answers itself; any other name is a test that would ask a DNS server."""

    def resolve(host: str, port: int):  # type: ignore[no-untyped-def]
        import socket

        try:
            socket.getaddrinfo(host, port, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            if host != "localhost":
                raise AssertionError(f"a test asked DNS about {host!r}: use fake_dns") from None
        return real(host, port)

    return resolve


@pytest.fixture(autouse=True)
def _outbound_without_dns(monkeypatch):
    """No test sends a DNS query on the platform's behalf (fake_dns answers instead)."""
    from core import outbound

    monkeypatch.setattr(outbound, "resolve", _no_dns(outbound.resolve))


@pytest.fixture
def fake_dns(monkeypatch, _outbound_without_dns) -> FakeDns:
    from core import outbound

    dns = FakeDns(outbound.resolve)
    monkeypatch.setattr(outbound, "resolve", dns.resolve)
    return dns


@pytest.fixture(autouse=True)
def _no_api_key_failures_carried_over():
    """Failed API keys are counted per address (accounts/throttles.py), across requests:
    every test's client is 127.0.0.1, so no test inherits another's failures."""
    from accounts.throttles import forget_api_key_failures

    forget_api_key_failures("127.0.0.1")


@pytest.fixture(scope="session", autouse=True)
def _no_throttle_history_from_earlier_runs():
    """Throttles keep their history in Redis for their window, keyed by user id or
    address; an earlier run's users had the same ids as this run's."""
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match="shipway:*:throttle_*", count=1000):
            client.delete(key)
    yield


@pytest.fixture
def eager():  # type: ignore[no-untyped-def]
    """Builds queued by the test run at once in this process (tests/factories.eager_builds)."""
    with eager_builds():
        yield
