"""The front-proxy path: a real nginx from deploy/nginx.conf sends sites' files from the
host map on disk and hands everything else to the Python edge (the session's uvicorn)."""

from __future__ import annotations

import gzip
import http.client
import http.server
import os
import pwd
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import brotli
import pytest
from django.core.management import call_command

from deployments.services import deployment_activate, deployment_delete
from edge import hostmap, proxy_config
from sites.models import Domain, DomainStatus
from sites.services import site_delete, site_update
from tests.edge.conftest import SITES_DOMAIN, publish
from tests.factories import make_site, make_team, make_user
from tests.live import EdgeClient

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)

NGINX_ETAG = re.compile(r'^"[0-9a-f]+-[0-9a-f]+"$')  # nginx: "<mtime>-<size>" in hex
EDGE_ETAG = re.compile(r'^"[0-9a-f]{32}(-gz|-br)?"$')  # the Python edge: the content hash
BIG_JS = ("console.log('hello world');\n" * 400).encode()
FILES = {
    "index.html": "<h1>home</h1>",
    "about.html": "<h1>about</h1>",
    "docs/index.html": "<h1>docs</h1>",
    "assets/app-3f2a9c1e.js": BIG_JS,
    "plain.js": "var x = 1;",
    "logo.bin": bytes(range(256)) * 12,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def edge_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("edge-root")


class Nginx:
    """nginx with deploy/nginx.conf on a loopback port, its @edge the live server (which
    restarts on a new port when it must: nginx then restarts with it)."""

    def __init__(self, binary: str, run: Path, edge_root: Path, api_port: int = 0) -> None:
        self.binary, self.run, self.edge_root = binary, run, edge_root
        self.api_port = api_port  # a WSGI process of its own for the platform, or none
        self.port = _free_port()
        self.web_port = 0
        self.process: subprocess.Popen | None = None

    def ensure(self, web_port: int) -> int:
        if self.process is None or web_port != self.web_port:
            self.stop()
            self._start(web_port)
        return self.port

    def _start(self, web_port: int) -> None:
        config = proxy_config.nginx_config(
            SHIPWAY_NGINX_LISTEN=f"127.0.0.1:{self.port}",
            SHIPWAY_NGINX_USER=pwd.getpwuid(os.getuid()).pw_name,  # pytest's dirs are 0700
            SHIPWAY_NGINX_WORKERS="2",
            SHIPWAY_NGINX_RUN_DIR=str(self.run),
            SHIPWAY_EDGE_ROOT=str(self.edge_root),
            SITES_DOMAIN=SITES_DOMAIN,
            SHIPWAY_WEB=f"127.0.0.1:{web_port}",
            SHIPWAY_API=f"127.0.0.1:{self.api_port or web_port}",
            SHIPWAY_PLATFORM_HOSTS="platform.invalid",
        )
        (self.run / "nginx.conf").write_text(config)
        error_log = self.run / "error.log"
        command = [self.binary, "-p", str(self.run), "-c", str(self.run / "nginx.conf")]
        command += ["-e", str(error_log)]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(
            [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.process.kill()
                    raise RuntimeError(error_log.read_text()) from None
                time.sleep(0.05)
        self.web_port = web_port

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="session")
def _nginx(edge_root, tmp_path_factory):
    binary = shutil.which("nginx")
    if binary is None:
        reason = "nginx is not installed (apt-get install -y nginx-light)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server = Nginx(binary, tmp_path_factory.mktemp("nginx"), edge_root)
    yield server
    server.stop()


@pytest.fixture
def nginx_server(_nginx, edge_server) -> int:
    return _nginx.ensure(edge_server)


@pytest.fixture
def front(nginx_server, live_storage, settings, edge_root) -> EdgeClient:
    settings.SHIPWAY_FRONT_PROXY = True
    settings.SHIPWAY_EDGE_ROOT = edge_root
    return EdgeClient(nginx_server)


def host(site) -> str:  # type: ignore[no-untyped-def]
    return f"{site.id}.{SITES_DOMAIN}"


def linked(edge_root: Path, hostname: str) -> str | None:
    link = edge_root / "hosts" / hostname
    return os.readlink(link) if link.is_symlink() else None


def test_public_files_come_from_nginx_with_variants(front, edge, edge_root, static_site):
    site, _ = static_site
    deployment = publish(site, FILES)
    assert linked(edge_root, host(site)) == f"../deployments/{deployment.id}"
    tree = edge_root / "deployments" / deployment.id
    assert (tree / "assets/app-3f2a9c1e.js.gz").is_file()  # variants beside the file
    assert (tree / "assets/app-3f2a9c1e.js.br").is_file()

    home = front.get(host(site), "/")
    assert (home.status, home.body) == (200, b"<h1>home</h1>")
    assert home.getheader("server") == "nginx"
    assert NGINX_ETAG.match(home.getheader("etag")), home.getheader("etag")
    assert home.getheader("content-type") == "text/html; charset=utf-8"
    assert home.getheader("cache-control") == "public, max-age=0, must-revalidate"
    again = front.get(host(site), "/", If_None_Match=home.getheader("etag"))
    assert again.status == 304

    gz = front.get(host(site), "/assets/app-3f2a9c1e.js", Accept_Encoding="gzip")
    assert gz.getheader("content-encoding") == "gzip"
    assert gzip.decompress(gz.body) == BIG_JS
    assert NGINX_ETAG.match(gz.getheader("etag").removeprefix("W/"))
    assert gz.getheader("vary") == "Accept-Encoding"
    assert gz.getheader("cache-control") == "public, max-age=31536000, immutable"
    if proxy_config.brotli_module():
        br = front.get(host(site), "/assets/app-3f2a9c1e.js", Accept_Encoding="gzip, br")
        assert br.getheader("content-encoding") == "br"
        assert brotli.decompress(br.body) == BIG_JS
        assert br.getheader("vary") == "Accept-Encoding"
    plain = front.get(host(site), "/assets/app-3f2a9c1e.js")
    assert plain.getheader("content-encoding") is None and plain.body == BIG_JS
    assert plain.getheader("content-type").endswith("javascript; charset=utf-8")

    partial = front.get(host(site), "/logo.bin", Range="bytes=10-19")
    assert partial.status == 206 and partial.body == FILES["logo.bin"][10:20]
    assert NGINX_ETAG.match(partial.getheader("etag"))

    # The same answers as the Python edge, header for header where it matters.
    for path in ("/", "/about", "/docs/", "/plain.js", "/assets/app-3f2a9c1e.js", "/logo.bin"):
        by_nginx, by_edge = front.get(host(site), path), edge.get(host(site), path)
        assert NGINX_ETAG.match(by_nginx.getheader("etag")), path
        assert by_nginx.status == by_edge.status == 200, path
        assert by_nginx.body == by_edge.body, path
        for name in ("content-type", "cache-control", "content-encoding"):
            assert by_nginx.getheader(name) == by_edge.getheader(name), (path, name)

    # A directory without its slash goes to the edge, which redirects.
    redirect = front.get(host(site), "/docs?x=1")
    assert (redirect.status, redirect.getheader("location")) == (301, "/docs/?x=1")


def test_activation_swaps_the_link_without_a_failed_response(front, edge_root, static_site):
    site, _ = static_site
    body_a = b"<h1>deployment A</h1>" + b"a" * 3000
    body_b = b"<h1>deployment B</h1>" + b"b" * 3000
    first = publish(site, {"index.html": body_a, "app.js": "a" * 2000})
    second = publish(site, {"index.html": body_b, "app.js": "b" * 2000})
    assert linked(edge_root, host(site)) == f"../deployments/{second.id}"
    bad: list[tuple[int, bytes]] = []
    seen: set[bytes] = set()
    count = 0
    stop = threading.Event()

    def hammer() -> None:
        nonlocal count
        while not stop.is_set():
            response = front.get(host(site), "/")
            count += 1
            if response.status != 200 or response.body not in (body_a, body_b):
                bad.append((response.status, response.body[:80]))
            elif not NGINX_ETAG.match(response.getheader("etag")):
                bad.append((response.status, b"not from nginx"))
            seen.add(response.body)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    targets = set()
    try:
        for i in range(20):
            deployment_activate(deployment=first if i % 2 == 0 else second)
            targets.add(linked(edge_root, host(site)))
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert bad == []
    assert seen == {body_a, body_b}
    assert targets == {f"../deployments/{first.id}", f"../deployments/{second.id}"}
    assert count > 100
    # Deployment addresses of a public site are served from disk too.
    own = front.get(f"{first.id}--{site.id}.{SITES_DOMAIN}")
    assert own.body == body_a and NGINX_ETAG.match(own.getheader("etag"))


def test_protected_hosts_go_through_to_the_edge(front, edge_root, static_site):
    site, _ = static_site
    site_update(site=site, access="previews")
    deployment = publish(site, {"index.html": "secret preview"})
    preview = f"{deployment.id}--{site.id}.{SITES_DOMAIN}"
    assert linked(edge_root, host(site)) is not None  # production stays public
    assert linked(edge_root, preview) is None
    production = front.get(host(site))
    assert production.body == b"secret preview" and NGINX_ETAG.match(production.getheader("etag"))
    anonymous = front.get(preview)
    assert anonymous.status == 302 and b"secret" not in anonymous.body
    assert "/edge/authorize?" in anonymous.getheader("location")  # as the edge sent it

    site_update(site=site, access="team")
    assert linked(edge_root, host(site)) is None
    assert front.get(host(site)).status == 302

    site_update(site=site, access="public")
    assert linked(edge_root, preview) == f"../deployments/{deployment.id}"
    site_update(site=site, enabled=False)
    assert linked(edge_root, host(site)) is None and linked(edge_root, preview) is None
    disabled = front.get(host(site))
    assert disabled.status == 404 and b"turned it off" in disabled.body


def test_a_site_with_rules_is_served_by_the_edge(front, edge_root, static_site):
    site, _ = static_site
    deployment = publish(
        site,
        {
            "index.html": "home",
            "new.html": "new page",
            "_redirects": "/old /new 301\n",
            "_headers": "/*\n  X-Frame-Options: DENY\n",
        },
    )
    assert linked(edge_root, host(site)) is None
    assert not (edge_root / "deployments" / deployment.id).exists()  # no tree made for it
    moved = front.get(host(site), "/old")
    assert (moved.status, moved.getheader("location")) == (301, "/new")
    home = front.get(host(site), "/")
    assert home.body == b"home" and EDGE_ETAG.match(home.getheader("etag"))
    assert home.getheader("x-frame-options") == "DENY"


def test_unknown_paths_get_the_edges_404_and_spa_fallback(front, static_site):
    site, _ = static_site
    publish(site, {"index.html": "home"})
    plain = front.get(host(site), "/missing")
    assert plain.status == 404 and b"Not found" in plain.body
    publish(site, {"index.html": "home", "404.html": "custom missing"})
    custom = front.get(host(site), "/missing/deeper")
    assert (custom.status, custom.body) == (404, b"custom missing")
    site_update(site=site, fallback_file="index.html")
    spa = front.get(host(site), "/app/route/42")
    assert (spa.status, spa.body) == (200, b"home")
    assert EDGE_ETAG.match(spa.getheader("etag"))
    post = front.get(host(site), "/", method="POST")
    assert post.status == 405 and post.getheader("allow") == "GET, HEAD"
    nothing = front.get(f"nosuchsite.{SITES_DOMAIN}")
    assert nothing.status == 404 and b"No site answers" in nothing.body
    api = front.get("127.0.0.1", "/v1/sites/frameworks")  # any other host: Shipway
    assert api.status == 200 and b'"frameworks"' in api.body


def test_variants_never_replace_real_files(front, edge_root, static_site):
    site, _ = static_site
    real_gz = gzip.compress(BIG_JS, mtime=0)
    deployment = publish(site, {"index.html": "home", "app.js": BIG_JS, "app.js.gz": real_gz})
    tree = edge_root / "deployments" / deployment.id
    assert (tree / "app.js.gz").read_bytes() == real_gz
    assert (tree / "app.js.br").is_file()
    assert linked(edge_root, host(site)) is not None
    # An `x.gz` that is not `x` compressed would be sent as `x`: the edge serves that site.
    other = publish(site, {"index.html": "home", "app.js": BIG_JS, "app.js.gz": b"other"})
    assert linked(edge_root, host(site)) is None
    assert linked(edge_root, f"{other.id}--{site.id}.{SITES_DOMAIN}") is None
    response = front.get(host(site), "/app.js", Accept_Encoding="gzip")
    assert gzip.decompress(response.body) == BIG_JS and EDGE_ETAG.match(response.getheader("etag"))


def test_deleted_deployments_and_sites_leave_nothing(front, edge_root, static_site):
    site, _ = static_site
    first = publish(site, {"index.html": "one"})
    second = publish(site, {"index.html": "two"})
    first_id = first.id  # deleting clears it
    first_host = f"{first_id}--{site.id}.{SITES_DOMAIN}"
    assert (edge_root / "deployments" / first_id).is_dir()
    deployment_delete(deployment=first)
    assert linked(edge_root, first_host) is None
    assert not (edge_root / "deployments" / first_id).exists()
    assert front.get(first_host).status == 404
    assert front.get(host(site)).body == b"two"
    production = host(site)
    site_delete(site=site)
    assert linked(edge_root, production) is None
    assert not (edge_root / "deployments" / second.id).exists()
    assert front.get(production).status == 404


def test_sync_rebuilds_the_map(front, edge_root, static_site):
    site, _ = static_site
    deployment = publish(site, {"index.html": "synced"})
    shutil.rmtree(edge_root / "hosts")
    shutil.rmtree(edge_root / "deployments" / deployment.id)
    os.makedirs(edge_root / "deployments" / "gone-deployment")
    (edge_root / "hosts").mkdir()
    os.symlink("../deployments/gone-deployment", edge_root / "hosts" / "stray.example.com")
    call_command("edgemap", "sync", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert linked(edge_root, host(site)) == f"../deployments/{deployment.id}"
    assert linked(edge_root, "stray.example.com") is None
    assert not (edge_root / "deployments" / "gone-deployment").exists()
    served = front.get(host(site))
    assert served.body == b"synced" and NGINX_ETAG.match(served.getheader("etag"))


def test_verified_custom_domains_are_linked_and_can_move(front, edge_root, static_site):
    site, _ = static_site
    publish(site, {"index.html": "first site"})
    domain = Domain.objects.create(site=site, domain="www.example.test")
    hostmap.publish_site(site.id)
    assert linked(edge_root, "www.example.test") is None  # pending: not served from disk
    Domain.objects.filter(pk=domain.pk).update(status=DomainStatus.VERIFIED)
    hostmap.publish_site(site.id)
    served = front.get("www.example.test")
    assert served.body == b"first site" and NGINX_ETAG.match(served.getheader("etag"))

    # The domain moves to another site: that site links it, and the first site's next
    # publication leaves the new link alone.
    other = make_site(make_team(make_user()), framework="static", access="public")
    moved_to = publish(other, {"index.html": "second site"})
    Domain.objects.filter(pk=domain.pk).update(site=other)
    hostmap.publish_site(other.id)
    hostmap.publish_site(site.id)
    assert linked(edge_root, "www.example.test") == f"../deployments/{moved_to.id}"
    assert front.get("www.example.test").body == b"second site"


class _Answers(http.server.BaseHTTPRequestHandler):
    """An upstream that answers every GET with its name (the server's `name`)."""

    def do_GET(self) -> None:
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            length -= len(self.rfile.read(min(length, 1 << 20)))
        self.do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_and_api(tmp_path, edge_root):  # type: ignore[no-untyped-def]
    """nginx with SHIPWAY_API set (runplatform --api-port): its port, with two upstreams
    that each answer with their name, "web" and "api"."""
    binary = shutil.which("nginx")
    if binary is None:
        pytest.skip("nginx is not installed")
    upstreams = {}
    for name in ("web", "api"):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
        server.name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        upstreams[name] = server
    nginx = Nginx(binary, tmp_path, edge_root, api_port=upstreams["api"].server_address[1])
    try:
        yield nginx.ensure(upstreams["web"].server_address[1])
    finally:
        nginx.stop()
        for server in upstreams.values():
            server.shutdown()


def test_platform_http_goes_to_the_api_process_and_the_feed_and_sites_to_the_web(web_and_api):
    """With SHIPWAY_API set (runplatform --api-port), nginx sends the dashboard, admin and
    API to the WSGI process, and the realtime feed and every site host to the ASGI web."""
    port = web_and_api
    expected = {
        ("platform.invalid", "/v1/sites"): "api",
        ("platform.invalid", "/v1/realtime/tokens"): "api",
        ("platform.invalid", "/admin/"): "api",
        ("platform.invalid", "/"): "api",
        ("platform.invalid", "/v1/realtime"): "web",
        (f"some-site.{SITES_DOMAIN}", "/missing-file"): "web",
    }
    for (hostname, path), upstream in expected.items():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path, headers={"Host": hostname})
        answer = connection.getresponse()
        assert (hostname, path, answer.read().decode()) == (hostname, path, upstream)
        connection.close()


def test_nginx_caps_request_bodies_by_route_as_shipway_does(web_and_api):
    """The platform's server takes SHIPWAY_MAX_REQUEST_BODY (1 MiB) except on the upload
    routes (SHIPWAY_MAX_UPLOAD_SIZE more): a larger body gets nginx's 413 before nginx
    buffers it, so it never reaches Shipway (nor nginx's temporary files). The client
    here stops once answered: nginx reads and drops what a client sends on for a while
    after a 413 (lingering close), so that the client sees the answer."""
    from tests.edge.test_request_bodies import HUGE, READ_AT_MOST, Answer, stream_post

    port = web_and_api

    def post(path: str, size: int) -> Answer:
        return stream_post(port, path, size, polite=True, Host="platform.invalid")

    huge = post("/", HUGE)
    assert huge.status == 413 and huge.sent < READ_AT_MOST
    assert post("/v1/sites", 2 << 20).status == 413
    for path in ("/v1/sites/any/deployments", "/sites/any/upload/"):
        answer = post(path, 2 << 20)
        assert (path, answer.status, answer.body) == (path, 200, b"api")
    upload = post("/v1/sites/any/deployments", HUGE)
    assert upload.status == 413 and upload.sent < READ_AT_MOST
    assert post("/", 1000).status == 200
    site = stream_post(port, "/", HUGE, polite=True, Host=f"some-site.{SITES_DOMAIN}")
    assert site.status == 413 and site.sent < READ_AT_MOST


class _Edge:
    def __init__(self) -> None:
        self.invalidated: list[str | None] = []

    def invalidate(self, site_id: str | None) -> None:
        self.invalidated.append(site_id)


def test_a_change_made_on_another_machine_reaches_this_machines_map(
    front, edge_root, static_site, settings
):
    """The host map is files on this machine's disk: a web process that hears another
    machine's message about a site publishes that site here too."""
    import asyncio

    import redis

    from edge import invalidation
    from sites.models import Site

    site, _ = static_site
    first = publish(site, {"index.html": "<h1>first</h1>"})
    second = publish(site, {"index.html": "<h1>second</h1>"})
    assert linked(edge_root, host(site)) == f"../deployments/{second.id}"
    # Elsewhere, a rollback to the first: its own receivers ran on its own machine.
    Site.objects.filter(pk=site.pk).update(deployment=first)
    edge, stop = _Edge(), threading.Event()

    async def listening() -> None:
        listener = asyncio.ensure_future(invalidation.listen(edge))
        while not stop.is_set():
            await asyncio.sleep(0.05)
        listener.cancel()

    thread = threading.Thread(target=asyncio.run, args=(listening(),), daemon=True)
    thread.start()
    try:
        wait = time.monotonic() + 30
        while None not in edge.invalidated and time.monotonic() < wait:
            time.sleep(0.05)  # subscribed: it dropped everything once
        redis.Redis.from_url(settings.REDIS_URL).publish(
            invalidation.CHANNEL, f"{site.id}@another-machine:1"
        )
        while linked(edge_root, host(site)) != f"../deployments/{first.id}":
            assert time.monotonic() < wait, "the map never followed the other machine"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert site.id in edge.invalidated
    served = front.get(host(site))
    assert served.body == b"<h1>first</h1>" and NGINX_ETAG.match(served.getheader("etag"))
