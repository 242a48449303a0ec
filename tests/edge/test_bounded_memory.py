"""Hostile visitors cannot grow the edge's memory: random paths that fall back to the SPA
file or 404.html, Host variants (case, port, trailing dot) and unknown hosts.

Two ways: the live server's resident memory after many such requests (a separate
process, as in production), and an edge of the test's own served over real HTTP in this
process, whose caches the test then counts."""

import random
import string

import pytest

import edge.app as edge_app
from edge.app import Edge
from sites.services import site_update
from tests.edge.conftest import SITES_DOMAIN, publish
from tests.factories import make_site, make_team, make_user
from tests.live import EdgeClient, rss_bytes, serve_in_thread

pytestmark = pytest.mark.django_db(transaction=True)

BIG = 256 * 1024  # under files.SMALL_FILE: such a body is kept in memory once prepared


def _page(title: str, size: int) -> str:
    filler = "".join(random.choices(string.ascii_letters + " ", k=size))
    return f"<!doctype html><title>{title}</title><p>{filler}</p>"[:size]


def _random_path() -> str:
    return "/" + "".join(random.choices(string.ascii_lowercase + string.digits, k=16))


def _variant(host: str) -> str:
    """The same host as a browser or an attacker may write it."""
    cased = "".join(c.upper() if random.random() < 0.5 else c for c in host)
    return cased + random.choice(["", ".", f":{random.randrange(1, 65536)}"])


def _random_host() -> str:
    name = "".join(random.choices(string.ascii_lowercase, k=12))
    return random.choice([f"{name}.{SITES_DOMAIN}", f"{name}.example", f"x.{name}.{SITES_DOMAIN}"])


@pytest.fixture
def two_sites(live_storage):
    """A site with a big 404.html and a single-page app whose fallback is a big index."""
    team = make_team(make_user())
    with_404 = make_site(team, framework="static", access="public")
    publish(with_404, {"index.html": "<h1>home</h1>", "404.html": _page("missing", BIG)})
    spa = make_site(team, framework="static", access="public")
    site_update(site=spa, fallback_file="index.html")
    publish(spa, {"index.html": _page("app", BIG)})
    return with_404, spa


def _attack(client: EdgeClient, with_404, spa, paths: int, variants: int, hosts: int) -> None:  # type: ignore[no-untyped-def]
    host_404, host_spa = f"{with_404.id}.{SITES_DOMAIN}", f"{spa.id}.{SITES_DOMAIN}"
    for _ in range(paths):
        missing = client.get(host_404, _random_path())
        assert missing.status == 404 and len(missing.body) == BIG
        app = client.get(host_spa, _random_path())
        assert app.status == 200 and len(app.body) == BIG
    for _ in range(variants):
        answer = client.get(_variant(host_404), _random_path())
        assert answer.status == 404 and len(answer.body) == BIG
    for _ in range(hosts):
        assert client.get(_random_host(), _random_path()).status == 404


def test_hostile_requests_do_not_grow_the_live_servers_memory(_live_server, edge, two_sites):
    with_404, spa = two_sites
    _attack(edge, with_404, spa, paths=5, variants=5, hosts=5)  # warm: load, prepare, allocate
    before = rss_bytes(_live_server.process.pid)
    # Kept per path and per raw Host, this would be (2 x 400 + 300) x 256 KB = 275 MB.
    _attack(edge, with_404, spa, paths=400, variants=300, hosts=200)
    grown = rss_bytes(_live_server.process.pid) - before
    assert grown < 30 * 1024 * 1024, f"the web process grew by {grown / 2**20:.0f} MB"


@pytest.fixture
def own_edge(settings, monkeypatch):
    """An Edge instance of this test's, without Redis (no listener to drop its caches at
    an unknown moment), small bounds, and counters of manifest loads and prepared files."""
    settings.REDIS_URL = ""
    settings.SITES_DOMAIN = SITES_DOMAIN
    settings.SHIPWAY_EDGE_CACHED_HOSTS = 8
    settings.SHIPWAY_EDGE_CACHED_BYTES = 4 * BIG
    counts = {"loads": 0, "prepared": 0}
    load_once, prepare = edge_app._load_once, edge_app.prepare

    def counted_load(*args, **kwargs):  # type: ignore[no-untyped-def]
        counts["loads"] += 1
        return load_once(*args, **kwargs)

    def counted_prepare(*args, **kwargs):  # type: ignore[no-untyped-def]
        counts["prepared"] += 1
        return prepare(*args, **kwargs)

    monkeypatch.setattr(edge_app, "_load_once", counted_load)
    monkeypatch.setattr(edge_app, "prepare", counted_prepare)

    async def inner(scope, receive, send):  # type: ignore[no-untyped-def]
        """Stands for Django: a 404 for whatever reaches it."""
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})

    edge = Edge(inner)
    with serve_in_thread(edge) as port:
        yield edge, EdgeClient(port), counts


def test_random_paths_prepare_the_fallback_once(own_edge, two_sites):
    edge, client, counts = own_edge
    with_404, spa = two_sites
    _attack(client, with_404, spa, paths=200, variants=0, hosts=0)
    # One prepared response per file served (404.html, the SPA's index), not per path.
    assert counts["prepared"] == 2
    stats = edge.stats()
    assert stats["responses"] == 2
    assert stats["response_bytes"] <= 4 * BIG


def test_host_variants_share_one_entry_and_one_load(own_edge, two_sites):
    edge, client, counts = own_edge
    with_404, spa = two_sites
    _attack(client, with_404, spa, paths=1, variants=200, hosts=0)
    assert counts["loads"] == 2  # each site's manifest once, whatever the Host's spelling
    assert counts["prepared"] == 2
    assert edge.stats()["hosts"] == 2


def test_unknown_hosts_are_remembered_in_a_small_bounded_cache(own_edge, two_sites):
    edge, client, counts = own_edge
    with_404, spa = two_sites
    _attack(client, with_404, spa, paths=1, variants=0, hosts=1500)
    stats = edge.stats()
    assert stats["unknown_hosts"] <= edge_app.UNKNOWN_HOSTS_KEPT
    assert stats["hosts"] == 2  # the real sites were not pushed out by the unknown names
    # and they are still answered from memory
    loads = counts["loads"]
    _attack(client, with_404, spa, paths=3, variants=0, hosts=0)
    assert counts["loads"] == loads


def test_many_sites_stay_within_the_host_bound(own_edge, live_storage):
    edge, client, _counts = own_edge
    team = make_team(make_user())
    sites = [make_site(team, framework="static", access="public") for _ in range(12)]
    for site in sites:
        publish(site, {"index.html": f"<h1>{site.id}</h1>"})
    for site in sites:
        answer = client.get(f"{site.id}.{SITES_DOMAIN}", "/")
        assert answer.body == f"<h1>{site.id}</h1>".encode()
    assert edge.stats()["hosts"] == 8  # SHIPWAY_EDGE_CACHED_HOSTS
