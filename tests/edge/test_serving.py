"""The edge over real HTTP (uvicorn on loopback): files, headers, paths, fallbacks."""

import gzip
import os

import brotli
import pytest

from deployments.services import deployment_activate
from sites.services import site_update
from tests.edge.conftest import SITES_DOMAIN, publish

pytestmark = pytest.mark.django_db(transaction=True)

BIG_JS = ("console.log('hello world');\n" * 400).encode()
FILES = {
    "index.html": "<h1>home</h1>",
    "about.html": "<h1>about</h1>",
    "docs/index.html": "<h1>docs</h1>",
    "assets/app-3f2a9c1e.js": BIG_JS,
    "plain.js": "var x = 1;",
    "logo.bin": os.urandom(3000),
}


@pytest.fixture
def live(static_site):
    site, _owner = static_site
    deployment = publish(site, FILES)
    return site, deployment


def host(site) -> str:  # type: ignore[no-untyped-def]
    return f"{site.id}.{SITES_DOMAIN}"


def test_index_and_content_type(edge, live):
    site, _ = live
    response = edge.get(host(site), "/")
    assert response.status == 200
    assert response.body == b"<h1>home</h1>"
    assert response.getheader("content-type") == "text/html; charset=utf-8"
    assert response.getheader("cache-control") == "public, max-age=0, must-revalidate"
    assert response.getheader("last-modified", "").endswith("GMT")
    assert edge.get(host(site) + ":8000", "/").status == 200  # a port in Host is fine


def test_etag_and_if_none_match(edge, live):
    site, _ = live
    etag = edge.get(host(site), "/about").getheader("etag")
    assert etag and etag.startswith('"')
    again = edge.get(host(site), "/about", If_None_Match=etag)
    assert again.status == 304 and again.body == b""
    assert edge.get(host(site), "/about", If_None_Match=f'W/{etag}, "x"').status == 304
    assert edge.get(host(site), "/about", If_None_Match='"other"').status == 200
    modified = edge.get(host(site), "/about").getheader("last-modified")
    assert edge.get(host(site), "/about", If_Modified_Since=modified).status == 304


def test_head_has_headers_without_body(edge, live):
    site, _ = live
    response = edge.get(host(site), "/plain.js", method="HEAD")
    assert response.status == 200 and response.body == b""
    assert response.getheader("content-length") == str(len("var x = 1;"))


def test_ranges(edge, live):
    site, _ = live
    partial = edge.get(host(site), "/logo.bin", Range="bytes=10-19")
    assert partial.status == 206
    assert partial.getheader("content-range") == "bytes 10-19/3000"
    assert partial.body == bytes(FILES["logo.bin"][10:20])
    suffix = edge.get(host(site), "/logo.bin", Range="bytes=-100")
    assert suffix.status == 206 and suffix.body == FILES["logo.bin"][-100:]
    beyond = edge.get(host(site), "/logo.bin", Range="bytes=5000-")
    assert beyond.status == 416
    assert beyond.getheader("content-range") == "bytes */3000"
    assert edge.get(host(site), "/logo.bin", Range="lines=1-2").status == 200


def test_precompressed_variants(edge, live):
    site, _ = live
    br = edge.get(host(site), "/assets/app-3f2a9c1e.js", Accept_Encoding="gzip, br")
    assert br.getheader("content-encoding") == "br"
    assert br.getheader("vary") == "Accept-Encoding"
    assert brotli.decompress(br.body) == BIG_JS
    gz = edge.get(host(site), "/assets/app-3f2a9c1e.js", Accept_Encoding="gzip")
    assert gz.getheader("content-encoding") == "gzip"
    assert gzip.decompress(gz.body) == BIG_JS
    assert gz.getheader("etag") != br.getheader("etag")
    plain = edge.get(host(site), "/assets/app-3f2a9c1e.js")
    assert plain.getheader("content-encoding") is None and plain.body == BIG_JS
    assert plain.getheader("cache-control") == "public, max-age=31536000, immutable"
    assert (
        edge.get(host(site), "/plain.js").getheader("cache-control").startswith("public, max-age=0")
    )


def test_pretty_paths_and_directory_slash(edge, live):
    site, _ = live
    assert edge.get(host(site), "/about").body == b"<h1>about</h1>"
    redirect = edge.get(host(site), "/docs?x=1")
    assert redirect.status == 301 and redirect.getheader("location") == "/docs/?x=1"
    assert edge.get(host(site), "/docs/").body == b"<h1>docs</h1>"


@pytest.mark.parametrize(
    "path", ["/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a/%2e%2e/%2e%2e/x", "/index.html%00"]
)
def test_traversal_and_nul_never_reach_storage(edge, live, path):
    site, _ = live
    response = edge.get(host(site), path)
    assert response.status in (400, 404)
    assert b"root:" not in response.body


def test_not_found_fallbacks(edge, static_site):
    site, _ = static_site
    publish(site, {"index.html": "home"})
    plain = edge.get(host(site), "/missing")
    assert plain.status == 404 and b"Not found" in plain.body
    publish(site, {"index.html": "home", "404.html": "custom missing"})
    custom = edge.get(host(site), "/missing")
    assert (custom.status, custom.body) == (404, b"custom missing")
    site_update(site=site, fallback_file="index.html")
    spa = edge.get(host(site), "/app/route/42")
    assert (spa.status, spa.body) == (200, b"home")


def test_hosts_that_name_nothing(edge, live):
    assert edge.get(f"nosuchsite.{SITES_DOMAIN}").status == 404
    assert edge.get(SITES_DOMAIN).status == 404
    assert edge.get(f"a.b.c.{SITES_DOMAIN}").status == 404
    api = edge.get("127.0.0.1", "/v1/sites/frameworks")
    assert api.status == 200 and b'"frameworks"' in api.body


def test_method_not_allowed(edge, live):
    site, _ = live
    response = edge.get(host(site), "/", method="POST")
    assert response.status == 405 and response.getheader("allow") == "GET, HEAD"


def test_deployment_address_and_rollback(edge, static_site):
    site, _ = static_site
    first = publish(site, {"index.html": "version one"})
    second = publish(site, {"index.html": "version two"})
    assert edge.get(host(site)).body == b"version two"
    assert edge.get(f"{first.id}--{site.id}.{SITES_DOMAIN}").body == b"version one"
    deployment_activate(deployment=first)
    assert edge.get(host(site)).body == b"version one"
    assert edge.get(f"{second.id}--{site.id}.{SITES_DOMAIN}").body == b"version two"


def test_site_without_deployment_and_disabled(edge, static_site):
    site, _ = static_site
    empty = edge.get(host(site))
    assert empty.status == 404 and b"no ready deployment" in empty.body
    publish(site, {"index.html": "up"})
    assert edge.get(host(site)).status == 200
    site_update(site=site, enabled=False)
    assert edge.get(host(site)).status == 404
    site_update(site=site, enabled=True)
    assert edge.get(host(site)).body == b"up"
