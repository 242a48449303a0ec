"""Over real HTTP: _redirects and _headers from a build's output, a verified custom
domain, and wrk hammering a site while 20 activations alternate two deployments."""

import os
import shutil
import subprocess
import time

import pytest
from django.utils import timezone

from deployments.services import deployment_activate
from sites.models import Domain
from tests.edge.conftest import SITES_DOMAIN, publish
from tests.factories import eager_builds

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECTS = """
/old            /new            301
/blog/:slug     /posts/:slug    302
/app/*          /index.html     200
/gone           /missing.html   404
"""
HEADERS = """
/posts/*
  X-Robots-Tag: noindex
/*
  X-Frame-Options: DENY
"""


def test_redirects_rewrites_and_headers(edge, static_site):
    site, _ = static_site
    publish(
        site,
        {
            "index.html": "home",
            "new.html": "new",
            "posts/hello.html": "post",
            "missing.html": "custom gone",
            "_redirects": REDIRECTS,
            "_headers": HEADERS,
        },
    )
    host = f"{site.id}.{SITES_DOMAIN}"
    moved = edge.get(host, "/old")
    assert (moved.status, moved.getheader("location")) == (301, "/new")
    blog = edge.get(host, "/blog/hello")
    assert (blog.status, blog.getheader("location")) == (302, "/posts/hello")
    rewrite = edge.get(host, "/app/some/route")
    assert (rewrite.status, rewrite.body) == (200, b"home")
    gone = edge.get(host, "/gone")
    assert (gone.status, gone.body) == (404, b"custom gone")
    post = edge.get(host, "/posts/hello")
    assert post.getheader("x-robots-tag") == "noindex"
    assert post.getheader("x-frame-options") == "DENY"
    assert edge.get(host, "/").getheader("x-robots-tag") is None


def test_a_bad_rules_line_fails_the_build(static_site):
    from deployments.services import deployment_create_from_upload
    from tests.archives import tar_gz, upload

    site, _ = static_site
    with eager_builds():
        deployment = deployment_create_from_upload(
            site=site, archive=upload(tar_gz({"index.html": "x", "_redirects": "/a /b 299\n"}))
        )
    deployment.refresh_from_db()
    assert (deployment.status, deployment.error_code) == ("failed", "rules_invalid")


def test_verified_custom_domain_serves_the_active_deployment(edge, static_site):
    site, _ = static_site
    publish(site, {"index.html": "on my domain"})
    assert (
        edge.get("www.example.org").status != 200
        or b"on my domain" not in edge.get("www.example.org").body
    )
    Domain.objects.create(
        site=site, domain="www.example.org", status="verified", verified_at=timezone.now()
    )
    from django.db import transaction

    from sites.signals import notify_serving_changed

    with transaction.atomic():
        notify_serving_changed(site.id)
    assert edge.get("www.example.org").body == b"on my domain"


WRK_SCRIPT = """
local a, b = os.getenv("BODY_A"), os.getenv("BODY_B")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; mixed = 0; seen_a = 0; seen_b = 0 end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1
  elseif body == a then seen_a = seen_a + 1
  elseif body == b then seen_b = seen_b + 1
  else mixed = mixed + 1 end
end
function done(summary, latency, requests)
  local t = {bad = 0, mixed = 0, seen_a = 0, seen_b = 0}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  io.write(string.format("RESULT requests=%d errors=%d bad=%d mixed=%d a=%d b=%d\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout, t.bad, t.mixed, t.seen_a, t.seen_b))
end
"""


def test_wrk_during_20_activations_sees_only_whole_deployments(edge, static_site, tmp_path):
    wrk = shutil.which("wrk")
    if wrk is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but wrk is not installed")
        pytest.skip("wrk is not installed")
    site, _ = static_site
    body_a, body_b = "<h1>A</h1>" + "a" * 2000, "<h1>B</h1>" + "b" * 2000
    first = publish(site, {"index.html": body_a})
    second = publish(site, {"index.html": body_b})
    script = tmp_path / "check.lua"
    script.write_text(WRK_SCRIPT)
    host = f"{site.id}.{SITES_DOMAIN}"
    process = subprocess.Popen(
        [
            wrk,
            "-t2",
            "-c16",
            "-d6s",
            "-s",
            str(script),
            "-H",
            f"Host: {host}",
            f"http://127.0.0.1:{edge.port}/",
        ],
        env={**os.environ, "BODY_A": body_a, "BODY_B": body_b},
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    for i in range(20):
        deployment_activate(deployment=first if i % 2 == 0 else second)
        time.sleep(0.2)
    out, _ = process.communicate(timeout=30)
    result = dict(kv.split("=") for kv in out.split("RESULT ")[1].split())
    counts = {k: int(v) for k, v in result.items()}
    assert counts["errors"] == 0 and counts["bad"] == 0 and counts["mixed"] == 0, counts
    assert counts["a"] > 0 and counts["b"] > 0 and counts["requests"] > 100, counts
