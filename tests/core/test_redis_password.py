"""Redis with a password: every client of it takes the credentials from the URL
(`redis://:password@host:port/db`, or `redis://user:password@...` for an ACL user), and
without them fails cleanly: the platform answers from the database, and each part says
so in a log line, not a line a second.

Against a redis-server of this module's own with `requirepass` (tests/redis_server.py),
never the session's Redis.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import services as account_services
from core import events, readcache
from edge import invalidation
from tests.factories import make_site, make_team, make_user
from tests.redis_server import redis_server
from tests.redis_server import url as redis_url

PASSWORD = "s3cr:t/@pw#%"  # everything a URL must quote
ACL_USER, ACL_PASSWORD = "shipway", "an:other/@one"


@pytest.fixture(scope="module")
def port(tmp_path_factory) -> Iterator[int]:
    with redis_server(tmp_path_factory.mktemp("redis-with-password"), PASSWORD) as port:
        admin = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD)
        admin.acl_setuser(
            ACL_USER,
            enabled=True,
            passwords=[f"+{ACL_PASSWORD}"],
            keys=["*"],
            channels=["*"],
            commands=["+@all"],
        )
        admin.close()
        yield port


@pytest.fixture(params=["password", "user and password"])
def good_url(request, port) -> str:
    if request.param == "password":
        return redis_url(port, PASSWORD)
    return redis_url(port, ACL_PASSWORD, username=ACL_USER)


@pytest.fixture(params=["no password", "a wrong password"])
def bad_url(request, port) -> str:
    return redis_url(port) if request.param == "no password" else redis_url(port, "wrong")


def _wait(condition: Callable[[], object], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _warnings(caplog, event: str) -> int:  # type: ignore[no-untyped-def]
    return sum(
        1 for r in caplog.records if r.levelno >= logging.WARNING and event in r.getMessage()
    )


def _tenant() -> APIClient:
    user = make_user()
    make_site(make_team(user), name="Mine")
    make_site(make_team(), name="Hidden")
    _key, secret = account_services.api_key_create(user=user, name="pw")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _names(client: APIClient) -> list[str]:
    response = client.get("/v1/sites")
    assert response.status_code == 200, response.content
    return sorted(site["name"] for site in response.json()["sites"])


@pytest.mark.django_db
def test_the_read_cache_works_with_a_password(settings, good_url):
    settings.SHIPWAY_READ_CACHE_URL = good_url
    client = _tenant()
    assert _names(client) == ["Mine"]
    _wait(lambda: readcache._local.url == good_url and readcache._local.generation is not None)
    with readcache._local.lock:
        readcache._local.entries.clear()  # so the next read goes to Redis
    with CaptureQueriesContext(connection) as queries:
        assert _names(client) == ["Mine"]
    assert len(queries) == 0
    make_site(make_team(), name="Other")  # an invalidation through the password too
    assert _names(client) == ["Mine"]


@pytest.mark.django_db
def test_the_read_cache_without_the_password_answers_from_the_database(
    settings, bad_url, caplog, monkeypatch
):
    monkeypatch.setattr(readcache, "_complained", {})
    caplog.set_level(logging.DEBUG, logger="core.readcache")
    settings.SHIPWAY_READ_CACHE_URL = bad_url
    client = _tenant()
    started = time.monotonic()
    while time.monotonic() - started < 3:  # the listener retries meanwhile
        assert _names(client) == ["Mine"]
        time.sleep(0.1)
    assert readcache._local.generation is None
    assert _warnings(caplog, "readcache.unavailable") == 1
    assert _warnings(caplog, "readcache.listener_lost") <= 1


class _Edge:
    def __init__(self) -> None:
        self.invalidated: list[str | None] = []

    def invalidate(self, site_id: str | None) -> None:
        self.invalidated.append(site_id)


class _Listening:
    """The edge's invalidation listener, run on an event loop of its own thread."""

    def __init__(self) -> None:
        self.edge = _Edge()
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Future[None] | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> _Listening:
        invalidation.register(self.edge)  # type: ignore[arg-type]  # announce() tells it
        self.thread.start()
        self.task = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)
        return self

    async def _start(self) -> asyncio.Future[None]:
        return asyncio.ensure_future(invalidation.listen(self.edge))  # type: ignore[arg-type]

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self.task is not None
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        assert not self.thread.is_alive()


def test_edge_invalidation_works_with_a_password(settings, good_url):
    settings.REDIS_URL = good_url
    with _Listening() as listening:
        _wait(lambda: None in listening.edge.invalidated)  # subscribed
        invalidation.announce("site-with-password")
        _wait(lambda: "site-with-password" in listening.edge.invalidated)
        invalidation.revoke_previews(4242)
    revoked = redis.Redis.from_url(good_url).hget(invalidation.REVOKED_KEY, "4242")
    assert revoked is not None


def test_edge_invalidation_without_the_password_fails_quietly(settings, bad_url, caplog):
    caplog.set_level(logging.DEBUG, logger="edge.invalidation")
    settings.REDIS_URL = bad_url
    with _Listening() as listening:
        invalidation.announce("a-site")  # not published: one line, no exception
        invalidation.revoke_previews(4243)
        time.sleep(3)  # the listener retries meanwhile
        assert listening.task is not None and not listening.task.done()
    assert "a-site" in listening.edge.invalidated  # this process's own, at least
    assert _warnings(caplog, "edge.invalidation_not_published") == 1
    assert _warnings(caplog, "edge.revocation_not_published") == 1
    assert _warnings(caplog, "edge.invalidation_listener_lost") <= 1


def test_djangos_cache_works_with_a_password(settings, good_url):
    from django.core.cache import caches

    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": good_url}}
    cache = caches.create_connection("default")
    cache.set("with-password", {"n": 1})
    assert cache.get("with-password") == {"n": 1}
    assert redis.Redis.from_url(good_url).keys("*with-password")


def test_the_channel_layer_and_events_work_with_a_password(settings, good_url):
    from channels.layers import get_channel_layer

    hosts = [{"address": good_url, "socket_timeout": None}]
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "hosts": hosts},
        }
    }
    layer = get_channel_layer()
    got: dict[str, object] = {}

    async def join() -> None:
        got["channel"] = await layer.new_channel()
        await layer.group_add("sites.with-password", got["channel"])

    async def receive() -> None:
        got["message"] = await layer.receive(got["channel"])

    events._run(join())
    events.send(events=["site.updated"], channels=["sites.with-password"], payload={"n": 2})
    events._run(receive())
    assert got["message"]["data"]["payload"] == {"n": 2}  # type: ignore[index]
    assert redis.Redis.from_url(good_url).keys("shipway*")  # it went through this Redis


def test_the_celery_broker_works_with_a_password(good_url, bad_url):
    from kombu.exceptions import OperationalError

    from config.celery import app

    with app.connection_for_write(good_url) as connection:
        queue = connection.SimpleQueue("shipway-test-password")
        queue.put({"n": 3})
        message = queue.get(timeout=5)
        message.ack()
        assert message.payload == {"n": 3}
        queue.close()
    with app.connection_for_write(bad_url) as connection, pytest.raises(OperationalError):
        connection.ensure_connection(max_retries=1)
