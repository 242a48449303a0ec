"""Real requests through the edge are counted in memory, flushed into Redis by the web
process's thread, and reach the usage API (before and after the roll-up); the hot path
runs no SQL and sends nothing to Redis per request."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edge.app import Edge
from tests.edge.conftest import SITES_DOMAIN, asgi_request, publish
from tests.factories import api_client
from tests.live import EdgeClient, serve_in_thread
from tests.usage.conftest import redis_counts
from usage.services import usage_roll_up

pytestmark = pytest.mark.django_db(transaction=True)


async def _not_django(scope, receive, send):  # type: ignore[no-untyped-def]
    raise AssertionError("a site's host must not reach Django")


def _get_home(site) -> dict:  # type: ignore[no-untyped-def]
    """An ASGI scope: GET / on the site's production host."""
    return {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", f"{site.id}.{SITES_DOMAIN}".encode())],
    }


def _wait_for(what, expected, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    """Poll until `what()` is `expected` (the flush thread's interval is not waited out)."""
    deadline = time.monotonic() + timeout
    found = what()
    while found != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        found = what()
    return found


def test_requests_through_the_edge_reach_the_api(static_site, usage_redis):
    site, owner = static_site
    publish(site, {"index.html": "<h1>home</h1>" * 40, "app.js": "x" * 5000, "404.html": "no"})
    host = f"{site.id}.{SITES_DOMAIN}"
    requests = 0
    sent = 0
    with serve_in_thread(Edge(_not_django)) as port:
        client = EdgeClient(port)
        for path, method, headers in (
            *[("/", "GET", {})] * 5,
            *[("/app.js", "GET", {"accept_encoding": "gzip"})] * 3,
            ("/missing", "GET", {}),
            ("/", "HEAD", {}),
            ("/", "GET", {"range": "bytes=0-9"}),
        ):
            response = client.get(host, path, method, **headers)
            assert response.status in (200, 206, 404)
            requests += 1
            sent += len(response.body)
        # Another site's host and an unknown one: not this site's.
        assert client.get(f"nothing.{SITES_DOMAIN}").status == 404
        assert _wait_for(lambda: redis_counts(usage_redis, site.uid.hex), (requests, sent)) == (
            requests,
            sent,
        )
    api = api_client(owner)
    fresh = api.get(f"/v1/sites/{site.id}/usage").json()  # not rolled up yet
    assert (fresh["requests"], fresh["bandwidthBytes"]) == (requests, sent)
    assert fresh["series"]["requests"][-1]["value"] == requests
    done = usage_roll_up()
    assert done is not None and done.requests >= requests
    assert redis_counts(usage_redis, site.uid.hex) == (0, 0)
    rolled = api.get(f"/v1/sites/{site.id}/usage?range=7d").json()
    assert (rolled["requests"], rolled["bandwidthBytes"]) == (requests, sent)
    assert rolled["series"]["bandwidthBytes"][-1]["value"] == sent
    assert rolled["deployments"] == 1


def test_hot_path_runs_no_sql_and_no_redis_per_request(static_site, usage_redis, settings):
    settings.SHIPWAY_USAGE_FLUSH_SECONDS = 3600  # only the explicit flush below sends
    site, _ = static_site
    publish(site, {"index.html": "<p>hi</p>" * 100})
    edge = Edge(_not_django)
    assert edge.usage is not None
    scope = _get_home(site)
    asgi_request(edge, scope)  # warm: the host is loaded (SQL), the file prepared
    with CaptureQueriesContext(connection) as queries:
        for _ in range(100):
            sent = asgi_request(edge, scope)
    assert len(queries) == 0, [q["sql"] for q in queries]
    body = len(sent[1]["body"])
    for name in ("made-up-1", "made-up-2", "made-up-3"):  # names no site has: not counted
        made_up = {**scope, "headers": [(b"host", f"{name}.{SITES_DOMAIN}".encode())]}
        assert asgi_request(edge, made_up)[0]["status"] == 404
    # Everything is still in the process's memory: nothing went to Redis per request.
    assert edge.usage.pending() == {site.uid.hex: [101, 101 * body]}
    assert redis_counts(usage_redis, site.uid.hex) == (0, 0)
    edge.usage.flush()
    assert redis_counts(usage_redis, site.uid.hex) == (101, 101 * body)
    assert edge.usage.pending() == {}


def test_counting_off(static_site, usage_redis, settings):
    settings.SHIPWAY_USAGE_COUNTING = False
    site, _ = static_site
    publish(site, {"index.html": "<p>hi</p>"})
    edge = Edge(_not_django)
    assert edge.usage is None
    scope = _get_home(site)
    assert asgi_request(edge, scope)[0]["status"] == 200
    assert redis_counts(usage_redis, site.uid.hex) == (0, 0)
