"""Server-rendered (ssr) hosts over real HTTP: an edge of the test's own (uvicorn in a
thread of this process) in front of real Node servers on loopback (ssr_upstream.js).

The rows the runtime manager would write (Server: state, address, error;
Site.live_server) are written by the tests, and announced as it announces them."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve as ws_serve

from deployments import servers
from deployments.models import Deployment, Server
from edge import invalidation
from edge.app import Edge
from sites.models import Site
from tests.edge.conftest import SITES_DOMAIN, publish
from tests.edge.test_request_bodies import stream_post
from tests.factories import make_site, make_team, make_user
from tests.live import EdgeClient, serve_in_thread

pytestmark = pytest.mark.django_db(transaction=True)

UPSTREAM = Path(__file__).with_name("ssr_upstream.js")
ASSET = "_next/static/chunks/app-3f2a9c1e.js"
FILES = {
    ASSET: "console.log('asset');",
    "favicon.ico": b"\x00icon",
    "_redirects": "/old-page /new-page 301\n",
    "_headers": "/_next/static/*\n  X-Asset-Rule: yes\n",
}


class Upstream:
    """A Node server (ssr_upstream.js) on a free loopback port."""

    def __init__(self, name: str) -> None:
        self.process = subprocess.Popen(
            ["node", str(UPSTREAM), name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.address = f"127.0.0.1:{self.port}"

    def count(self) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", "/__count")
        value = int(connection.getresponse().read())
        connection.close()
        return value

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def upstreams() -> Iterator[list[Upstream]]:
    started: list[Upstream] = []
    yield started
    for upstream in started:
        upstream.stop()


@pytest.fixture
def own_edge(settings, live_storage) -> Iterator[tuple[Edge, EdgeClient]]:
    settings.SHIPWAY_SSR_START_TIMEOUT = 5
    settings.SHIPWAY_SSR_REQUEST_TIMEOUT = 3
    settings.SHIPWAY_MAX_REQUEST_BODY = 16 * 1024 * 1024

    async def inner(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})

    edge = Edge(inner)
    with serve_in_thread(edge, proxy_headers=False) as port:
        yield edge, EdgeClient(port)


def ssr_site(access: str = "public") -> tuple[Site, Deployment]:
    owner = make_user()
    site = make_site(make_team(owner), framework="static", access=access)
    deployment = publish(site, FILES)
    Deployment.objects.filter(pk=deployment.pk).update(adapter="ssr")
    return site, deployment


def run_server(site: Site, deployment: Deployment, upstream: Upstream | None, **fields: Any):
    """Write the deployment's Server row as the runtime manager does, and announce it."""
    values: dict[str, Any] = {"state": "running", "address": upstream.address if upstream else ""}
    values.update(fields)
    Server.objects.update_or_create(deployment=deployment, defaults=values)
    if values["state"] == "running":
        Site.objects.filter(pk=site.pk).update(live_server=deployment)
    invalidation.announce(site.id)


def host(site: Site) -> str:
    return f"{site.id}.{SITES_DOMAIN}"


def request(
    port: int,
    host_name: str,
    path: str,
    method: str = "GET",
    body: bytes | Iterator[bytes] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host_name)
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    if isinstance(body, bytes):
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
    elif body is not None:
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for piece in body:
            connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        connection.send(b"0\r\n\r\n")
    else:
        connection.endheaders()
    response = connection.getresponse()
    data = response.read()
    answer = (response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    connection.close()
    return answer


def test_assets_come_from_the_manifest_the_rest_from_the_server(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site()
    upstreams.append(Upstream("one"))
    run_server(site, deployment, upstreams[0])
    status, headers, body = request(client.port, host(site), f"/{ASSET}")
    assert (status, body) == (200, b"console.log('asset');")
    assert headers["x-asset-rule"] == "yes"  # _headers applies to the manifest's files
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert request(client.port, host(site), "/favicon.ico")[2] == b"\x00icon"
    assert upstreams[0].count() == 0  # neither reached the server
    status, _, body = request(client.port, host(site), "/some/page?x=1")
    assert (status, body) == (200, b"one")
    assert upstreams[0].count() == 1
    # _redirects on an ssr site: the redirect is the edge's, the target the server's
    status, headers, _ = request(client.port, host(site), "/old-page")
    assert status == 301 and headers["location"] == "/new-page"
    assert upstreams[0].count() == 1
    # A POST to an asset's path goes to the server (files answer GET and HEAD only)
    assert request(client.port, host(site), f"/{ASSET}", method="POST", body=b"")[2] == b"one"


def test_method_query_and_bodies_stream_both_ways(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site()
    upstreams.append(Upstream("one"))
    run_server(site, deployment, upstreams[0])
    payload = bytes(range(256)) * 4096  # 1 MiB, with a Content-Length
    status, _, body = request(
        client.port, host(site), "/echo?a=1&b=%20", method="PUT", body=payload
    )
    echo = json.loads(body)
    assert status == 200
    assert (echo["method"], echo["url"]) == ("PUT", "/echo?a=1&b=%20")
    assert echo["length"] == len(payload)
    assert echo["sha256"] == hashlib.sha256(payload).hexdigest()
    # 8 MiB chunked upload, sent piece by piece: arrives whole, in order
    pieces = [bytes([i]) * (256 * 1024) for i in range(32)]
    status, _, body = request(client.port, host(site), "/echo", method="POST", body=iter(pieces))
    echo = json.loads(body)
    assert echo["length"] == 8 * 1024 * 1024
    assert echo["headers"]["transfer-encoding"] == "chunked"
    assert echo["sha256"] == hashlib.sha256(b"".join(pieces)).hexdigest()
    # 24 MiB chunked response
    status, headers, body = request(client.port, host(site), "/big?n=25165824")
    assert status == 200 and len(body) == 25165824 and body == b"x" * 25165824
    assert "content-length" not in headers  # passed on as it came, chunked
    # HEAD has no body, and the connection after it still works
    status, _, body = request(client.port, host(site), "/anything", method="HEAD")
    assert (status, body) == (200, b"")


def test_request_bodies_over_the_cap_are_refused(own_edge, upstreams, settings):
    _edge, client = own_edge
    site, deployment = ssr_site()
    upstreams.append(Upstream("one"))
    run_server(site, deployment, upstreams[0])
    limit = 16 * 1024 * 1024
    declared = stream_post(client.port, "/echo", limit + 1, polite=True, Host=host(site))
    assert declared.status == 413 and b"larger than" in declared.body
    assert declared.sent < limit  # refused by its Content-Length, before the body
    chunked = stream_post(
        client.port, "/echo", 3 * limit, chunked=True, polite=True, Host=host(site)
    )
    assert chunked.status == 413
    assert chunked.sent < 2 * limit  # refused once past the cap, not read to the end
    assert upstreams[0].count() <= 1  # the declared one never reached it


def test_headers_forwarded_and_hop_by_hop_dropped(own_edge, upstreams, settings):
    _edge, client = own_edge
    site, deployment = ssr_site()
    upstreams.append(Upstream("one"))
    run_server(site, deployment, upstreams[0])
    settings.SHIPWAY_TRUSTED_PROXIES = []  # the loopback peer is a visitor, not a proxy
    _, _, body = request(
        client.port,
        host(site),
        "/echo",
        headers={
            "X-Forwarded-For": "6.6.6.6",  # the visitor's own words: not trusted
            "X-Forwarded-Host": "evil.example",
            "Connection": "keep-alive, X-Named-Hop",
            "X-Named-Hop": "dropped",
            "Keep-Alive": "timeout=5",
            "Proxy-Authorization": "Basic Zm9vOmJhcg==",
            "TE": "trailers",
            "X-Custom": "kept",
            "Cookie": "a=b",
        },
    )
    seen = json.loads(body)["headers"]
    assert seen["host"] == host(site)
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"] == host(site)
    assert seen["x-custom"] == "kept" and seen["cookie"] == "a=b"
    for dropped in ("x-named-hop", "keep-alive", "proxy-authorization", "te"):
        assert dropped not in seen, dropped
    # Behind a trusted proxy: its word for the client and the scheme is taken.
    settings.SHIPWAY_TRUSTED_PROXIES = ["127.0.0.1/32"]
    _, _, body = request(
        client.port,
        host(site),
        "/echo",
        headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"},
    )
    seen = json.loads(body)["headers"]
    assert (seen["x-forwarded-for"], seen["x-forwarded-proto"]) == ("6.6.6.6", "https")
    status, headers, body = request(client.port, host(site), "/hop")
    assert (status, body) == (200, b"hop")
    assert headers["x-kept"] == "kept"
    for dropped in ("x-hop-named", "keep-alive", "proxy-thing"):
        assert dropped not in headers, dropped


def test_websocket_is_relayed(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site()
    seen: dict[str, Any] = {}
    ready = threading.Event()
    stop: list[Any] = []

    def serve_ws() -> None:
        async def echo(ws):  # type: ignore[no-untyped-def]
            seen["host"] = ws.request.headers["Host"]
            seen["path"] = ws.request.path
            seen["xff"] = ws.request.headers.get("X-Forwarded-For")
            async for message in ws:
                await ws.send(message)

        async def main() -> None:
            async with ws_serve(echo, "127.0.0.1", 0, subprotocols=["chat"]) as server:
                seen["port"] = server.sockets[0].getsockname()[1]
                done = asyncio.get_running_loop().create_future()
                stop.append((asyncio.get_running_loop(), done))
                ready.set()
                await done

        asyncio.run(main())

    thread = threading.Thread(target=serve_ws, daemon=True)
    thread.start()
    assert ready.wait(10)
    Server.objects.create(
        deployment=deployment, state="running", address=f"127.0.0.1:{seen['port']}"
    )
    invalidation.announce(site.id)

    async def talk() -> tuple[str | bytes, str | bytes, str | None]:
        async with ws_connect(
            f"ws://{host(site)}/socket?room=1",  # the Host; the socket goes to the edge
            host="127.0.0.1",
            port=client.port,
            proxy=None,
            subprotocols=["chat"],  # type: ignore[list-item]
        ) as ws:
            await ws.send("hello")
            text = await ws.recv()
            await ws.send(b"\x00\x01bytes")
            data = await ws.recv()
            return text, data, ws.subprotocol

    try:
        text, data, subprotocol = asyncio.run(talk())
    finally:
        loop, done = stop[0]
        loop.call_soon_threadsafe(done.set_result, None)
        thread.join(10)
    assert (text, data, subprotocol) == ("hello", b"\x00\x01bytes", "chat")
    assert seen["host"] == host(site)
    assert seen["path"] == "/socket?room=1"
    assert seen["xff"] == "127.0.0.1"


def test_preview_protection_applies_to_an_ssr_deployment_host(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site(access="previews")
    upstreams.append(Upstream("one"))
    run_server(site, deployment, upstreams[0])
    preview = f"{deployment.id}--{site.id}.{SITES_DOMAIN}"
    status, headers, _ = request(client.port, preview, "/page", method="POST", body=b"x")
    assert status == 302 and "/edge/authorize?" in headers["location"]
    assert request(client.port, preview, f"/{ASSET}")[0] == 302
    assert upstreams[0].count() == 0
    assert request(client.port, host(site), "/page")[2] == b"one"  # production: public


def _wanted(deployment_id: str) -> bool:
    return bool(redis.Redis.from_url(django_settings.REDIS_URL).exists(_wanted_key(deployment_id)))


def _wanted_key(deployment_id: str) -> str:
    return servers._WANTED_KEY.format(deployment_id=deployment_id)


def _start_tasks(deployment_id: str) -> list[bytes]:
    """The start_server messages queued for the deployment (removed: no worker here)."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    found = [
        m
        for m in client.lrange(django_settings.SHIPWAY_SERVER_QUEUE, 0, -1)
        if servers.START_TASK.encode() in m and deployment_id.encode() in m
    ]
    for message in found:
        client.lrem(django_settings.SHIPWAY_SERVER_QUEUE, 0, message)
    return found


def test_cold_start_waits_for_the_server(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site()
    redis.Redis.from_url(django_settings.REDIS_URL).delete(_wanted_key(deployment.id))
    upstreams.append(Upstream("cold"))
    answers: list[tuple[int, dict[str, str], bytes]] = []
    thread = threading.Thread(
        target=lambda: answers.append(request(client.port, host(site), "/page")), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not _wanted(deployment.id) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _wanted(deployment.id)  # the edge asked for a start
    assert thread.is_alive()  # and the request waits for it
    run_server(site, deployment, None, state="starting")
    assert thread.is_alive()  # starting: still waiting
    run_server(site, deployment, upstreams[0])
    thread.join(10)
    assert answers and answers[0][0] == 200 and answers[0][2] == b"cold"
    assert len(_start_tasks(deployment.id)) == 1


def test_a_server_stopped_just_after_its_start_starts_again_for_the_next_request(
    own_edge, upstreams
):
    # The edge asks for a start at most every ASK_EVERY per deployment; a request that
    # finds the server stopped again within that time must still get it started.
    _edge, client = own_edge
    site, deployment = ssr_site()
    redis.Redis.from_url(django_settings.REDIS_URL).delete(_wanted_key(deployment.id))
    upstreams.append(Upstream("again"))

    def cold_request() -> tuple[threading.Thread, list[tuple[int, dict[str, str], bytes]]]:
        answers: list[tuple[int, dict[str, str], bytes]] = []
        thread = threading.Thread(
            target=lambda: answers.append(request(client.port, host(site), "/page")),
            daemon=True,
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not _wanted(deployment.id) and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        return thread, answers

    for _round in range(2):
        thread, answers = cold_request()
        assert _wanted(deployment.id) and thread.is_alive()  # asked for, and waiting
        run_server(site, deployment, upstreams[0])
        thread.join(10)
        assert answers and answers[0][0] == 200 and answers[0][2] == b"again"
        # As the runtime manager ends a start, then the server stops at once.
        assert len(_start_tasks(deployment.id)) == 1
        servers.forget_wanted(deployment.id)
        run_server(site, deployment, None, state="stopped")


def test_start_timeout_is_a_503(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site()
    Server.objects.create(deployment=deployment, state="starting")
    invalidation.announce(site.id)
    status, headers, body = request(client.port, host(site), "/page")
    assert status == 503 and headers["retry-after"] == "5"
    assert b"still starting" in body
    _start_tasks(deployment.id)


def test_failed_server_is_a_502_with_the_reason(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site()
    redis.Redis.from_url(django_settings.REDIS_URL).delete(_wanted_key(deployment.id))
    run_server(site, deployment, None, state="failed", error="<script>x</script> exited with 1.")
    status, _, body = request(client.port, host(site), "/page")
    assert status == 502
    assert b"&lt;script&gt;x&lt;/script&gt; exited with 1." in body and b"<script>" not in body
    assert request(client.port, host(site), f"/{ASSET}")[0] == 200  # assets still served
    assert not _wanted(deployment.id)  # a fresh failure is not restarted per request


def test_a_dead_upstream_is_a_502_and_a_silent_one_a_504(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site()
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    Server.objects.create(deployment=deployment, state="running", address=dead)
    invalidation.announce(site.id)
    status, _, body = request(client.port, host(site), "/page", timeout=10)
    assert status == 502 and b"did not accept" in body
    upstreams.append(Upstream("slow"))
    Server.objects.filter(deployment=deployment).update(address=upstreams[0].address)
    invalidation.announce(site.id)
    status, _, body = request(client.port, host(site), "/slow", timeout=10)
    assert status == 504 and b"in time" in body
    # a server that crashes: the next request is a 502 at once, not a hang
    assert request(client.port, host(site), "/page")[2] == b"slow"
    upstreams[0].stop()
    upstreams.clear()
    status, _, _ = request(client.port, host(site), "/page", timeout=10)
    assert status == 502


def test_last_request_times_reach_the_idle_sweeper(own_edge, upstreams):
    _edge, client = own_edge
    site, deployment = ssr_site()
    servers.forget_seen([deployment.id])
    upstreams.append(Upstream("one"))
    run_server(site, deployment, upstreams[0])
    before = time.time()
    assert request(client.port, host(site), "/page")[0] == 200
    deadline = time.monotonic() + 10
    while not servers.last_seen([deployment.id]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert servers.last_seen([deployment.id])[deployment.id] >= before - 1
    servers.forget_seen([deployment.id])


def test_switching_under_load_drops_nothing_and_never_goes_back(own_edge, upstreams):
    edge, client = own_edge
    site, old = ssr_site()
    new = publish(site, FILES)  # now the active deployment
    Deployment.objects.filter(pk=new.pk).update(adapter="ssr")
    upstreams.extend([Upstream("old"), Upstream("new")])
    # The old one runs and takes the traffic; the new one starts (not yet healthy).
    Server.objects.create(deployment=old, state="running", address=upstreams[0].address)
    Server.objects.create(deployment=new, state="starting")
    Site.objects.filter(pk=site.pk).update(live_server=old)
    invalidation.announce(site.id)
    assert request(client.port, host(site), "/name")[2] == b"old"

    results: list[tuple[float, float, int, bytes]] = []
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
        while not stop.is_set():
            started = time.monotonic()
            try:
                connection.request("GET", "/name", headers={"Host": host(site)})
                response = connection.getresponse()
                body = response.read()
            except Exception as exc:  # counted, then a fresh connection
                failures.append(repr(exc))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
                continue
            results.append((started, time.monotonic(), response.status, body))
        connection.close()

    threads = [threading.Thread(target=load, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    while len(results) < 200:
        time.sleep(0.01)
    for _ in range(20):  # reloads under load that change nothing must not hurt either
        invalidation.announce(site.id)
    Server.objects.filter(deployment=new).update(state="running", address=upstreams[1].address)
    Site.objects.filter(pk=site.pk).update(live_server=new)
    invalidation.announce(site.id)
    switched = len(results)
    while len(results) < switched + 400:
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert all(status == 200 for _, _, status, _ in results)
    names = {body for *_, body in results}
    assert names == {b"old", b"new"}
    first_new_end = min(end for _, end, _, body in results if body == b"new")
    late_old = [r for r in results if r[3] == b"old" and r[0] > first_new_end]
    assert late_old == []  # no request started after a new answer reached the old server
    assert edge.pool.opened <= 2 * len(threads) + 4  # keep-alive: connections reused


def test_the_old_server_keeps_the_traffic_while_the_new_one_is_asked_for(own_edge, upstreams):
    _edge, client = own_edge
    site, old = ssr_site()
    upstreams.append(Upstream("old"))
    run_server(site, old, upstreams[0])
    new = publish(site, FILES)  # active now, its server never started
    Deployment.objects.filter(pk=new.pk).update(adapter="ssr")
    # Built static here, its activation cleared live_server: as an ssr one's would not.
    Site.objects.filter(pk=site.pk).update(live_server=old)
    redis.Redis.from_url(django_settings.REDIS_URL).delete(_wanted_key(new.id))
    invalidation.announce(site.id)
    assert request(client.port, host(site), "/page")[2] == b"old"  # at once, no wait
    deadline = time.monotonic() + 10
    while not _wanted(new.id) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _wanted(new.id)
    assert len(_start_tasks(new.id)) == 1
    # Its own host waits for it (and would start it): not the old server's answer.
    Server.objects.create(deployment=new, state="failed", error="Exited with code 1.")
    invalidation.announce(site.id)
    preview = f"{new.id}--{site.id}.{SITES_DOMAIN}"
    status, _, body = request(client.port, preview, "/page")
    assert status == 502 and b"Exited with code 1." in body
    assert request(client.port, host(site), "/page")[2] == b"old"


def test_a_static_active_deployment_ignores_live_server(own_edge, upstreams):
    _edge, client = own_edge
    site, ssr = ssr_site()
    upstreams.append(Upstream("ssr"))
    run_server(site, ssr, upstreams[0])
    assert request(client.port, host(site), "/page")[2] == b"ssr"
    publish(site, {"index.html": "static again"})  # a static deployment goes live
    invalidation.announce(site.id)
    status, _, body = request(client.port, host(site), "/")
    assert (status, body) == (200, b"static again")
    assert request(client.port, host(site), "/page")[0] == 404
    assert request(client.port, host(site), "/page", method="POST", body=b"")[0] == 405
    assert upstreams[0].count() == 1
