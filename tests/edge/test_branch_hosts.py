"""A branch's stable address, `git-{branch}--{siteId}.{SITES_DOMAIN}` (branchUrl): the
branch's newest ready preview, protected like a deployment address (issue 14)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from builds import director
from deployments.errors import ErrorCode
from deployments.models import Deployment, Environment, Server, Status, Trigger
from deployments.services import (
    branch_fields,
    deployment_create_from_upload,
    deployment_fail,
    deployment_transition,
)
from edge import hostmap, invalidation
from edge.app import Edge
from sites.hosts import HostKind, branch_host, branch_label, deployment_host, parse
from sites.models import Site
from sites.services import site_update
from tests.archives import tar_gz, upload
from tests.edge.conftest import SITES_DOMAIN, publish
from tests.edge.test_preview_protection import follow_handshake, session_cookie
from tests.edge.test_ssr import Upstream, _start_tasks
from tests.edge.test_steady_state import _call, _fallthrough
from tests.factories import make_site, make_team, make_user
from tests.live import EdgeClient, serve_in_thread

pytestmark = pytest.mark.django_db(transaction=True)

BRANCH = "feature/login"


def preview(
    site: Site, files: dict[str, str], branch: str = BRANCH, build: bool = True
) -> Deployment:
    """A preview of `branch` as a push makes it (branch and label set before its build),
    built at once in this process unless `build` is False (then it waits)."""
    deployment = deployment_create_from_upload(
        site=site, archive=upload(tar_gz(files)), activate=False
    )
    Deployment.objects.filter(pk=deployment.pk).update(
        trigger=Trigger.PUSH, **branch_fields(site, branch)
    )
    if build:
        finish(deployment)
    deployment.refresh_from_db()
    assert deployment.environment == Environment.PREVIEW
    return deployment


def finish(deployment: Deployment) -> None:
    """Build a waiting deployment now, as a worker would."""
    director.build(deployment.id)  # as a worker would, whatever else waits
    deployment.refresh_from_db()
    assert deployment.status == Status.READY, deployment.error_code


def branch_address(site: Site, branch: str = BRANCH) -> str:
    return branch_host(branch_label(branch, site.id), site.id, SITES_DOMAIN)


@pytest.fixture
def own_edge() -> Edge:
    """An edge of the test's own, called in this process: it sees invalidations at once."""
    return Edge(_fallthrough)


def test_parse_tells_branch_hosts_from_deployment_hosts():
    def kind(host: str) -> tuple[HostKind, str, str, str]:
        parsed = parse(host, SITES_DOMAIN, frozenset())
        return parsed.kind, parsed.site_id, parsed.deployment_id, parsed.branch_label

    site_id = "blog"
    label = branch_label(BRANCH, site_id)
    assert label.startswith("git-feature-login-")  # "/" is not a label's: hashed
    assert kind(f"{label}--blog.{SITES_DOMAIN}") == (HostKind.BRANCH, "blog", "", label)
    assert kind(f"GIT-Main--Blog.{SITES_DOMAIN}.:443") == (HostKind.BRANCH, "blog", "", "git-main")
    assert kind(f"abc123--blog.{SITES_DOMAIN}") == (HostKind.DEPLOYMENT, "blog", "abc123", "")
    assert kind(f"git-main.{SITES_DOMAIN}")[:2] == (HostKind.PRODUCTION, "git-main")  # a site id
    assert kind(f"git-x--git-y.{SITES_DOMAIN}") == (HostKind.BRANCH, "git-y", "", "git-x")
    for unknown in (
        "git---blog",  # no branch at all
        "gitmain-x--blog",  # not the prefix
        "git-a---blog",  # the site id would start with "-"
        "git-a_b--blog",  # "_" is not made by branch_label
        "git-a--b--blog",  # "--" in the site id
        "feature-x--blog",  # no prefix: neither a deployment id nor a branch
    ):
        assert kind(f"{unknown}.{SITES_DOMAIN}")[0] == HostKind.UNKNOWN, unknown

    # A long branch on a long site id: the label fits DNS's 63 and parses back.
    long_site = "s" * 36
    long_label = branch_label("release/" + "very-long-name-" * 10, long_site)
    host = branch_host(long_label, long_site, SITES_DOMAIN)
    assert len(host.split(".")[0]) <= 63
    assert kind(host) == (HostKind.BRANCH, long_site, "", long_label)
    assert kind(f"git-{'a' * 60}--{long_site}.{SITES_DOMAIN}")[0] == HostKind.UNKNOWN  # > 63


def test_a_branch_shows_its_newest_ready_preview_at_once(own_edge, static_site):
    site, _ = static_site
    first = preview(site, {"index.html": "first"})
    host = branch_address(site)
    assert urlsplit(first.branch_url or "").hostname == host
    # Twice: the first request starts the edge's listener, which drops every host once
    # it has subscribed (maybe after that request was answered).
    for _ in range(2):
        assert _call(own_edge, host, "/") == (200, b"first")
    loads = own_edge.loads

    # A newer one that is waiting, building or has failed does not replace it.
    waiting = preview(site, {"index.html": "waits"}, build=False)
    assert _call(own_edge, host, "/") == (200, b"first")
    for change in (
        lambda: deployment_transition(waiting.id, Status.PROCESSING),
        lambda: deployment_transition(waiting.id, Status.BUILDING),
        lambda: deployment_fail(waiting.id, ErrorCode.COMMAND_FAILED),
    ):
        change()
        assert _call(own_edge, host, "/") == (200, b"first")
    assert own_edge.loads == loads + 3  # each status change reloaded the host, no more

    # The steady state runs no SQL: the host is loaded once per change.
    for _ in range(20):
        assert _call(own_edge, host, "/") == (200, b"first")
    assert own_edge.loads == loads + 3

    # A newer preview that becomes ready shows at once (its status change invalidates).
    newer = preview(site, {"index.html": "newer"}, build=False)
    assert _call(own_edge, host, "/") == (200, b"first")
    finish(newer)
    assert _call(own_edge, host, "/") == (200, b"newer")
    # Each keeps its own address; the site has no production deployment.
    own_host = deployment_host(first.id, site.id, SITES_DOMAIN)
    assert _call(own_edge, own_host, "/") == (200, b"first")
    status, body = _call(own_edge, f"{site.id}.{SITES_DOMAIN}", "/")
    assert status == 404 and b"no ready deployment" in body


def test_only_the_branchs_previews_are_served_there(own_edge, static_site):
    site, _ = static_site
    host = branch_address(site, "main")
    # A production deployment built from the branch is the site's, not the branch's.
    production = publish(site, {"index.html": "production"})
    Deployment.objects.filter(pk=production.pk).update(**branch_fields(site, "main"))
    invalidation.announce(site.id)
    status, body = _call(own_edge, host, "/")
    assert status == 404 and b"This branch has no ready preview yet." in body
    # Another branch's preview is not this branch's.
    preview(site, {"index.html": "other"}, branch="other")
    assert _call(own_edge, host, "/")[0] == 404
    assert _call(own_edge, branch_address(site, "other"), "/") == (200, b"other")
    assert _call(own_edge, f"{site.id}.{SITES_DOMAIN}", "/") == (200, b"production")

    # A branch without a ready preview is kept with the hosts that name nothing, so
    # made-up names do not push real sites out; it is seen once a preview is ready.
    for name in ("nosuch", "another-one"):
        assert _call(own_edge, branch_address(site, name), "/")[0] == 404
    kept = own_edge.stats()
    assert (kept["hosts"], kept["unknown_hosts"]) == (2, 3)  # other, production; main + 2
    preview(site, {"index.html": "now main"}, branch="main")
    assert _call(own_edge, host, "/") == (200, b"now main")
    # Another site's id, or no such site, names nothing.
    status, body = _call(own_edge, branch_host("git-main", "nosuchsite", SITES_DOMAIN), "/")
    assert status == 404 and b"No site answers" in body


def test_a_disabled_sites_branch_is_not_served(own_edge, static_site):
    site, _ = static_site
    preview(site, {"index.html": "preview"})
    site_update(site=site, enabled=False)
    status, body = _call(own_edge, branch_address(site), "/")
    assert status == 404 and b"turned it off" in body


def test_branch_addresses_follow_preview_protection(edge, static_site):
    site, owner = static_site
    site_update(site=site, access="previews")
    deployment = preview(site, {"index.html": "secret preview", "page.html": "page"})
    host = branch_address(site)
    anonymous = edge.get(host)
    assert anonymous.status == 302 and b"secret" not in anonymous.body
    assert "/edge/authorize?" in anonymous.getheader("location")
    # A branch with no ready preview asks for sign-in too: which branches exist is the
    # team's to know.
    assert edge.get(branch_address(site, "guessed")).status == 302

    cookie = follow_handshake(edge, host, owner)  # /edge/authorize knows the branch host
    assert edge.get(host, "/", Cookie=cookie).body == b"secret preview"
    assert edge.get(host, "/page", Cookie=cookie).body == b"page"
    # The cookie is the branch host's only, not its deployment's own address's.
    own_host = deployment_host(deployment.id, site.id, SITES_DOMAIN)
    assert edge.get(own_host, "/", Cookie=cookie).status == 302
    # Outsiders are refused at the dashboard.
    location = urlsplit(anonymous.getheader("location"))
    refused = edge.get(
        "127.0.0.1", f"{location.path}?{location.query}", Cookie=session_cookie(make_user())
    )
    assert refused.status == 403


@pytest.mark.parametrize("access", ["team", "public"])
def test_team_protects_the_branch_address_and_public_does_not(edge, live_storage, access):
    owner = make_user()
    site = make_site(make_team(owner), framework="static", access=access)
    preview(site, {"index.html": "the preview"})
    host = branch_address(site)
    if access == "public":
        assert edge.get(host).body == b"the preview"
        return
    assert edge.get(host).status == 302
    cookie = follow_handshake(edge, host, owner)
    assert edge.get(host, "/", Cookie=cookie).body == b"the preview"


def test_the_front_proxy_links_a_public_branch_to_its_newest_ready_preview(
    settings, tmp_path: Path, static_site
):
    settings.SHIPWAY_FRONT_PROXY = True
    settings.SHIPWAY_EDGE_ROOT = tmp_path / "edge"
    site, _ = static_site
    host = branch_address(site)

    def linked(hostname: str) -> str | None:
        return hostmap._linked_deployment(hostname)

    first = preview(site, {"index.html": "first"})
    assert linked(host) == first.id
    building = preview(site, {"index.html": "building"}, build=False)
    deployment_transition(building.id, Status.PROCESSING)  # re-published: nothing changes
    assert linked(host) == first.id
    # The newest ready one has rules: the edge serves the branch, never the older one.
    with_rules = preview(site, {"index.html": "rules", "_redirects": "/a /b 301\n"})
    assert linked(host) is None
    assert linked(deployment_host(first.id, site.id, SITES_DOMAIN)) == first.id
    assert linked(deployment_host(with_rules.id, site.id, SITES_DOMAIN)) is None
    plain = preview(site, {"index.html": "plain"})
    assert linked(host) == plain.id
    assert hostmap._own_host(site.id, host)
    assert not hostmap._own_host(site.id, branch_host("git-main", "othersite", SITES_DOMAIN))

    site_update(site=site, access="previews")  # previews protects the branch address
    assert linked(host) is None


def test_an_ssr_preview_starts_on_a_visit_to_its_branch(settings, live_storage, static_site):
    settings.SHIPWAY_SSR_START_TIMEOUT = 1
    site, _ = static_site
    deployment = preview(site, {"favicon.ico": "icon"})
    Deployment.objects.filter(pk=deployment.pk).update(adapter="ssr")
    invalidation.announce(site.id)
    host = branch_address(site)
    upstream = Upstream("branch")
    try:
        with serve_in_thread(Edge(_fallthrough), proxy_headers=False) as port:
            client = EdgeClient(port)
            cold = client.get(host, "/page")
            assert cold.status == 503  # its server was asked to start, and did not in time
            assert len(_start_tasks(deployment.id)) == 1  # that preview's, by the branch
            Server.objects.create(deployment=deployment, state="running", address=upstream.address)
            invalidation.announce(site.id)
            assert client.get(host, "/page").body == b"branch"
            assert client.get(host, "/favicon.ico").body == b"icon"  # from its manifest
            assert upstream.count() == 1
    finally:
        upstream.stop()
