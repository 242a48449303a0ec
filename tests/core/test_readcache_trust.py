"""Whoever can write to Redis cannot run code in the web processes or sign in as anyone
through the read cache (core/readcache.py).

Each attack writes into Redis what an attacker with access to it could write, without
`SECRET_KEY`, and makes the request the attack aims at: the answer must be what the
database says, never what the attacker wrote.
"""

from __future__ import annotations

import contextlib
import logging
import pathlib
import pickle
import time
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import selectors
from accounts import services as account_services
from accounts.models import ApiKey
from core import readcache
from tests.factories import make_site, make_team, make_user

pytestmark = pytest.mark.django_db

SITES_URL = "http://testserver/v1/sites"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.SHIPWAY_READ_CACHE_URL)


def _tenant(name: str = "Mine"):  # type: ignore[no-untyped-def]
    """A user with one site of their own and an API key (its secret and hash); and a
    site of another team that they must never see."""
    user = make_user()
    make_site(make_team(user), name=name)
    make_site(make_team(), name="Hidden")
    key, secret = account_services.api_key_create(user=user, name="attacked")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return user, key, client


def _names(client: APIClient) -> list[str]:
    response = client.get("/v1/sites")
    assert response.status_code == 200, response.content
    return sorted(site["name"] for site in response.json()["sites"])


def _forget_locally() -> None:
    """Drop what this process keeps in memory, as a process that has not read the entry
    yet (another web worker, or this one after a restart) would have nothing."""
    with readcache._local.lock:
        readcache._local.entries.clear()


@contextlib.contextmanager
def _as_a_process_that_just_started() -> Iterator[None]:
    """This process forgets the generation (so it asks Redis) and its entries; after
    the block it follows the generation again (as its listener would on reconnecting)."""
    with readcache._local.lock:
        readcache._local.generation = None
        readcache._local.entries.clear()
    try:
        yield
    finally:
        readcache._advance()  # nothing written in the block is read after it
        current = readcache._current_generation(_redis())
        with readcache._local.lock:
            readcache._local.generation = current
            readcache._local.entries.clear()


class _WritesAFile:
    """A pickle that, when loaded, writes a file: any code could run instead."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (pathlib.Path.write_text, (self.path, "owned"))


def test_a_pickle_planted_in_redis_is_never_loaded(tmp_path):
    _user, key, client = _tenant()
    proof = tmp_path / "owned"
    payload = pickle.dumps(_WritesAFile(proof))
    keys = [
        readcache._key(("api-key", key.secret_hash)),
        readcache._key(("list", "api-key", key.secret_hash, SITES_URL)),
    ]
    _redis().mset(dict.fromkeys(keys, payload))
    _forget_locally()
    assert _names(client) == ["Mine"]  # answered from the database
    assert not proof.exists(), "a pickle from Redis ran code in the web process"


def _forge_api_key_entry(key: ApiKey, as_user) -> None:  # type: ignore[no-untyped-def]
    """Write a read-cache entry for `key` that names `as_user` (made superuser), with
    the read cache's own code but a SECRET_KEY the attacker guessed."""
    key = ApiKey.objects.get(pk=key.pk)
    as_user.is_superuser = as_user.is_staff = True
    key.user, key.user_id = as_user, as_user.pk
    request = HttpRequest()
    readcache.get(request, "api-key", key.secret_hash)  # takes the generation
    real = settings.SECRET_KEY
    try:
        settings.SECRET_KEY = "the attacker's guess"
        selectors.remember_api_key(request, key)
    finally:
        settings.SECRET_KEY = real
    _forget_locally()


def test_a_forged_api_key_entry_does_not_make_its_caller_superuser():
    user, key, client = _tenant()
    _forge_api_key_entry(key, user)
    assert _names(client) == ["Mine"]


def test_a_forged_api_key_entry_does_not_sign_its_caller_in_as_another_user():
    _user, key, client = _tenant()
    admin = make_user(is_staff=True, is_superuser=True)
    _forge_api_key_entry(key, admin)
    assert _names(client) == ["Mine"]
    looked_up = selectors.api_key_for_secret(HttpRequest(), key.secret_hash)
    assert looked_up.user_id == key.user_id
    assert not looked_up.user.is_superuser


def test_an_entry_copied_under_another_key_is_refused():
    """An admin's genuine, signed entry moved under a tenant's key."""
    admin = make_user(is_staff=True, is_superuser=True)
    _admin_key, admin_secret = account_services.api_key_create(user=admin, name="admin")
    admin_client = APIClient()
    admin_client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_secret}")
    _user, key, client = _tenant()
    assert "Hidden" in _names(admin_client)  # its entries are in Redis now
    admin_hash = account_services.hash_secret(admin_secret)
    store = _redis()
    for parts in (("api-key",), ("list", "api-key")):
        url = (SITES_URL,) if parts[0] == "list" else ()
        genuine = store.get(readcache._key((*parts, admin_hash, *url)))
        assert genuine is not None
        store.set(readcache._key((*parts, key.secret_hash, *url)), genuine)
    _forget_locally()
    assert _names(client) == ["Mine"]


def test_an_old_entry_replayed_with_its_generation_is_refused(monkeypatch):
    """An attacker who kept a genuine entry (of a superuser, since demoted) puts it
    back with the generation it was read in: past the TTL it is no longer believed."""
    user, key, client = _tenant()
    user.is_superuser = True
    user.save()
    assert "Hidden" in _names(client)
    store = _redis()
    entry_key = readcache._key(("api-key", key.secret_hash))
    kept, generation = store.get(entry_key), store.get(readcache.GENERATION_KEY)
    user.is_superuser = False
    user.save()  # invalidates
    store.set(entry_key, kept)
    store.set(readcache.GENERATION_KEY, generation)
    later = time.time() + readcache.TTL + 1
    monkeypatch.setattr(readcache, "_now", lambda: later, raising=False)
    with _as_a_process_that_just_started():
        looked_up = selectors.api_key_for_secret(HttpRequest(), key.secret_hash)
    assert not looked_up.user.is_superuser


def test_a_genuine_entry_from_redis_needs_no_sql():
    """What this installation wrote (and signed) is still its fast path: a process that
    has the entries only in Redis answers a repeated read with no SQL."""
    _user, key, client = _tenant()
    first = client.get("/v1/sites")
    _forget_locally()
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/v1/sites")
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert len(queries) == 0, [q["sql"] for q in queries]
    _forget_locally()
    with CaptureQueriesContext(connection) as queries:
        looked_up = selectors.api_key_for_secret(HttpRequest(), key.secret_hash)
    assert len(queries) == 0
    # Every field survived the JSON round trip, with its type (datetimes too).
    stored = ApiKey.objects.select_related("user").get(pk=key.pk)
    for field in ApiKey._meta.concrete_fields:
        assert getattr(looked_up, field.attname) == getattr(stored, field.attname), field
    for field in stored.user._meta.concrete_fields:
        if field.attname != "password":  # never cached: deferred
            theirs, ours = (
                getattr(looked_up.user, field.attname),
                getattr(stored.user, field.attname),
            )
            assert theirs == ours and type(theirs) is type(ours), field


def _refusals(caplog) -> list[logging.LogRecord]:  # type: ignore[no-untyped-def]
    return [r for r in caplog.records if "readcache.entry_not_signed_here" in r.getMessage()]


def test_unsigned_and_tampered_entries_are_misses_warned_about_once(caplog, monkeypatch):
    """The entry format's own forgeries: no signature, a made-up one, a genuine one over
    an edited payload. Each is a miss (the database answers), never an error, and the
    process warns once, not once per request."""
    user, key, client = _tenant()
    assert _names(client) == ["Mine"]
    store = _redis()
    entry_key = readcache._key(("api-key", key.secret_hash))
    genuine = store.get(entry_key)
    signature, payload = genuine[:64], genuine[64:]
    assert b'"is_superuser":false' in payload
    promoted = payload.replace(b'"is_superuser":false', b'"is_superuser":true')
    monkeypatch.setattr(readcache, "_complained", {})
    caplog.set_level(logging.WARNING, logger="core.readcache")
    for forged in (promoted, b"0" * 64 + promoted, signature + promoted, b"", b"\x80\x04."):
        store.set(entry_key, forged)
        _forget_locally()
        with CaptureQueriesContext(connection) as queries:
            looked_up = selectors.api_key_for_secret(HttpRequest(), key.secret_hash)
        assert len(queries) > 0  # from the database
        assert looked_up.user_id == user.pk and not looked_up.user.is_superuser
        assert store.get(entry_key) != forged  # and the database's answer replaced it
        store.set(entry_key, forged)
        _forget_locally()
        assert _names(client) == ["Mine"]
    assert len(_refusals(caplog)) == 1


def test_a_generation_that_is_not_a_number_is_a_miss():
    _user, _key, client = _tenant()
    store = _redis()
    with _as_a_process_that_just_started():
        store.set(readcache.GENERATION_KEY, b"\x80\x04not a number")
        try:
            assert _names(client) == ["Mine"]
        finally:
            store.delete(readcache.GENERATION_KEY)  # the next read starts a new one


def test_a_pickle_planted_in_djangos_cache_is_never_loaded(tmp_path):
    """Django's Redis cache pickles by default; Shipway's stores JSON (core/cache.py)."""
    from django.core.cache import cache

    proof = tmp_path / "owned"
    cache.set("planted", "a value")
    planted = next(iter(_cache_client().keys("*planted")))
    _cache_client().set(planted, pickle.dumps(_WritesAFile(proof)))
    assert cache.get("planted") is None  # a miss
    assert not proof.exists(), "a pickle from Redis ran code in the web process"
    cache.set("planted", {"attempts": [1.5, 2.5], "who": "x"})  # what throttles keep
    assert cache.get("planted") == {"attempts": [1.5, 2.5], "who": "x"}
    cache.set("counter", 1)
    assert cache.incr("counter") == 2 and cache.get("counter") == 2
    cache.delete_many(["planted", "counter"])


def _cache_client() -> redis.Redis:
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def test_the_broker_accepts_no_pickles(tmp_path):
    """Celery's workers take JSON only: a pickled message in a queue is refused."""
    from kombu.exceptions import ContentDisallowed
    from kombu.serialization import loads

    from config.celery import app

    proof = tmp_path / "owned"
    assert set(app.conf.accept_content) == {"json"} and app.conf.task_serializer == "json"
    with pytest.raises(ContentDisallowed):
        loads(
            pickle.dumps(_WritesAFile(proof)),
            "application/x-python-serialize",
            "binary",
            accept=app.conf.accept_content,
        )
    assert not proof.exists()
