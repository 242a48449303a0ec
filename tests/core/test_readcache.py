"""The read cache (core/readcache.py) never answers with what is no longer true.

Each test reads `GET /v1/sites` once (so the answer is cached), changes something the
answer depends on through the services (or the admin's way, a model save), and reads
again: the second answer must show the change. Plus: callers never share entries, and a
cache that is down only costs speed.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import redis
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import selectors
from accounts import services as account_services
from accounts.models import ApiKey, Membership, Role
from core import readcache
from deployments.services import deployment_activate
from sites import services as site_services
from tests.edge.conftest import publish
from tests.factories import add_member, api_client, make_site, make_team, make_user
from tests.live import EdgeClient
from tests.redis_server import redis_server
from tests.redis_server import url as redis_url

pytestmark = pytest.mark.django_db


def _names(client) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get("/v1/sites")
    assert response.status_code == 200, response.content
    return sorted(site["name"] for site in response.json()["sites"])


def _cached(client) -> None:  # type: ignore[no-untyped-def]
    """Read twice; the second read must come from the cache (no SQL)."""
    client.get("/v1/sites")
    with CaptureQueriesContext(connection) as queries:
        client.get("/v1/sites")
    assert len(queries) == 0


@pytest.fixture
def owner_client():  # type: ignore[no-untyped-def]
    owner = make_user()
    team = make_team(owner)
    make_site(team, name="First")
    client = api_client(owner)
    _cached(client)
    return owner, team, client


def test_created_updated_deleted_sites_show_at_once(owner_client):
    _owner, team, client = owner_client
    site = make_site(team, name="Second")
    assert _names(client) == ["First", "Second"]
    site_services.site_update(site=site, name="Renamed")
    assert _names(client) == ["First", "Renamed"]
    site_services.site_delete(site=site)
    assert _names(client) == ["First"]


def test_activation_shows_the_new_deployment(transactional_db, owner_client, live_storage):
    _owner, team, client = owner_client
    site = team.sites.get()
    first = publish(site, {"index.html": "one"})
    second = publish(site, {"index.html": "two"})
    _cached(client)
    assert client.get("/v1/sites").json()["sites"][0]["deploymentId"] == second.id
    deployment_activate(deployment=first)  # a roll back: Site row changed by update()
    assert client.get("/v1/sites").json()["sites"][0]["deploymentId"] == first.id


def test_membership_changes_show_at_once(owner_client):
    _owner, team, _client = owner_client
    member = make_user()
    member_client = api_client(member)
    assert _names(member_client) == []  # cached: sees nothing yet
    add_member(team, member, Role.VIEWER)
    membership = Membership.objects.get(team=team, user=member)
    assert _names(member_client) == ["First"]
    make_site(team, name="Granted later")  # granted to the team's groups in bulk
    assert _names(member_client) == ["First", "Granted later"]
    account_services.membership_delete(membership=membership)
    assert _names(member_client) == []


def test_callers_never_share_entries(owner_client, settings):
    _owner, _team, client = owner_client
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "api.example.test"]  # a second name
    outsider = api_client(make_user())
    assert _names(outsider) == []
    staff = api_client(make_user(is_staff=True, is_superuser=True))
    assert "First" in _names(staff)
    assert _names(client) == ["First"]
    # The links carry the host the caller used: another host, another entry.
    other_host = client.get("/v1/sites", HTTP_HOST="api.example.test").json()
    assert other_host["sites"][0]["links"]["deployments"].startswith("http://api.example.test/")
    # The browsable API is never answered from the cache.
    browsable = client.get("/v1/sites", HTTP_ACCEPT="text/html")
    assert browsable["Content-Type"].startswith("text/html")


def test_revoked_key_and_deactivated_user_are_refused_at_once(owner_client):
    owner, _team, client = owner_client
    key = ApiKey.objects.filter(user=owner).get()
    account_services.api_key_delete(key=key)
    assert client.get("/v1/sites").status_code == 401

    client = api_client(owner)
    _cached(client)
    user = get_user_model().objects.get(pk=owner.pk)
    user.is_active = False
    user.save()  # as the admin does it: no service, a model save
    assert client.get("/v1/sites").status_code == 401


def test_cached_user_keeps_its_password(owner_client):
    """The cached user comes back without the password hash, and saving it keeps the
    stored one (the field is deferred, not blank)."""
    owner, _team, client = owner_client
    owner.set_password("correct horse battery")
    owner.save()
    _cached(client)
    secret_hash = ApiKey.objects.get(user=owner).secret_hash
    with CaptureQueriesContext(connection) as queries:
        key = selectors.api_key_for_secret(HttpRequest(), secret_hash)
    assert len(queries) == 0  # from the cache
    assert key.user.get_deferred_fields() == {"password"}
    key.user.first_name = "Ada"
    key.user.save()
    user = get_user_model().objects.get(pk=owner.pk)
    assert user.first_name == "Ada"
    assert user.check_password("correct horse battery")


def test_a_cache_that_is_down_only_costs_speed(owner_client, settings):
    _owner, team, client = owner_client
    settings.SHIPWAY_READ_CACHE_URL = "redis://127.0.0.1:9/0"  # the discard port: nobody
    assert _names(client) == ["First"]
    make_site(team, name="Second")
    assert _names(client) == ["First", "Second"]


def test_only_valid_keys_and_plain_json_are_answered_from_the_cache(owner_client):
    """Anything the cache must not answer goes through DRF as before."""
    owner, _team, client = owner_client
    bare = APIClient()
    bare.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    response = bare.get("/v1/sites")
    assert response.status_code == 401
    assert response.json()["code"] == 401
    for accept in ("text/html", "application/json; indent=4"):
        response = client.get("/v1/sites", HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"].startswith(accept.split(";")[0]), accept
    assert client.get("/v1/sites?format=api")["Content-Type"].startswith("text/html")
    # A key that expires is refused from that moment, though it and its list are cached.
    _key, secret = account_services.api_key_create(
        user=owner, name="short", expires_in=timedelta(seconds=1)
    )
    short = APIClient()
    short.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    _cached(short)
    time.sleep(1.1)
    response = short.get("/v1/sites")
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_another_process_sees_a_change_within_moments(edge_server, live_storage):
    """The live server (another process) keeps entries in memory and learns the new
    generation from Redis: a removed member's list empties there too."""
    owner = make_user()
    team = make_team(owner)
    make_site(team, name="First")
    member = make_user()
    add_member(team, member, Role.VIEWER)
    _key, secret = account_services.api_key_create(user=member, name="live")
    server = EdgeClient(edge_server)

    def names() -> list[str]:
        answer = server.get(
            f"127.0.0.1:{edge_server}", "/v1/sites", Authorization=f"Bearer {secret}"
        )
        assert answer.status == 200, answer.body[:300]
        return sorted(site["name"] for site in json.loads(answer.body)["sites"])

    assert names() == names() == ["First"]  # the second from the server's memory
    account_services.membership_delete(membership=Membership.objects.get(user=member))
    deadline = time.monotonic() + 5
    while names() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert names() == []


def test_a_repeated_read_is_answered_from_the_process_memory(owner_client, monkeypatch):
    """Once this process follows the generation, a repeated read needs neither
    PostgreSQL nor Redis: with Redis made unreachable, it still answers with no SQL."""
    _owner, _team, client = owner_client
    client.get("/v1/sites")  # starts this process's listener
    deadline = time.monotonic() + 5
    while readcache._local.generation is None and time.monotonic() < deadline:
        time.sleep(0.01)
    first = client.get("/v1/sites")  # kept in memory now
    unreachable = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    monkeypatch.setattr(readcache, "_redis", lambda: unreachable)
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/v1/sites")
    assert again.content == first.content
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_generations_of_another_redis_database_are_not_followed(settings, tmp_path):
    """Redis delivers a channel's messages to subscribers on every database number: an
    installation on another database of the same server (another test run, say) must
    not move this one's generation, or this one would stop seeing its own changes."""
    owner = make_user()
    team = make_team(owner)
    make_site(team, name="First")
    client = api_client(owner)
    with redis_server(tmp_path) as port:
        ours_url, neighbour_url = redis_url(port, db=0), redis_url(port, db=1)
        settings.SHIPWAY_READ_CACHE_URL = ours_url
        client.get("/v1/sites")  # starts this process's listener on this server
        deadline = time.monotonic() + 5
        while readcache._local.generation is None and time.monotonic() < deadline:
            time.sleep(0.01)
        ours = readcache._local.generation
        assert ours is not None
        redis.Redis.from_url(neighbour_url).set(readcache.GENERATION_KEY, ours + 10**12)
        settings.SHIPWAY_READ_CACHE_URL = neighbour_url
        readcache._advance()  # the neighbour's change, announced on its database
        settings.SHIPWAY_READ_CACHE_URL = ours_url
        time.sleep(0.3)
        assert readcache._local.generation == ours
        _cached(client)
        make_site(team, name="Second")  # and this installation's changes show at once
        assert _names(client) == ["First", "Second"]
