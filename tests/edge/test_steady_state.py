"""The edge's hot path: no SQL once a host is cached, and an activation switches what a
host serves without one failed or mixed response."""

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deployments.services import deployment_activate
from edge.app import Edge
from tests.edge.conftest import SITES_DOMAIN, asgi_request, publish

pytestmark = pytest.mark.django_db(transaction=True)


async def _fallthrough(scope, receive, send):  # type: ignore[no-untyped-def]
    raise AssertionError("a site's host must not reach Django")


def _call(edge: Edge, host: str, path: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [(b"host", host.encode()), (b"accept-encoding", b"gzip, br")],
    }
    sent = asgi_request(edge, scope)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_steady_state_runs_no_sql(static_site):
    site, _ = static_site
    publish(site, {"index.html": "<h1>home</h1>" * 100, "app.js": "x" * 5000, "a.css": "b{}"})
    edge = Edge(_fallthrough)
    host = f"{site.id}.{SITES_DOMAIN}"
    for path in ("/", "/app.js", "/a.css", "/missing"):
        _call(edge, host, path)  # warm: resolve the host, prepare the files
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            for path in ("/", "/app.js", "/a.css", "/missing"):
                status, _body = _call(edge, host, path)
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert status == 404


def test_activation_under_load_never_fails_or_mixes(edge, static_site):
    site, _ = static_site
    body_a = b"<h1>deployment A</h1>" + b"a" * 3000
    body_b = b"<h1>deployment B</h1>" + b"b" * 3000
    first = publish(site, {"index.html": body_a, "app.js": "a" * 2000})
    second = publish(site, {"index.html": body_b, "app.js": "b" * 2000})
    host = f"{site.id}.{SITES_DOMAIN}"
    bad: list[tuple[int, bytes]] = []
    seen: set[bytes] = set()
    count = 0
    stop = threading.Event()

    def hammer() -> None:
        nonlocal count
        while not stop.is_set():
            response = edge.get(host, "/")
            count += 1
            if response.status != 200 or response.body not in (body_a, body_b):
                bad.append((response.status, response.body[:80]))
            seen.add(response.body)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for i in range(20):
            deployment_activate(deployment=first if i % 2 == 0 else second)
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert bad == []
    assert seen == {body_a, body_b}
    assert count > 100
