"""A deleted deployment (by retention or by hand: both mark the row) is gone from every
interface at once: the API (detail, list, logs, downloads, activate, delete), the
dashboard, its own address and its branch's address on the edge (whose cached view is
dropped), the front proxy's map and the realtime subscribe check."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from django.test import Client

from deployments import tasks
from deployments.models import Deployment
from deployments.services import deployment_delete
from edge.app import Edge
from realtime.consumers import _refusal
from sites.models import Site
from tests.edge.conftest import SITES_DOMAIN, publish, static_site  # noqa: F401
from tests.edge.test_branch_hosts import branch_address, preview
from tests.edge.test_steady_state import _call, _fallthrough
from tests.factories import api_client, eager_builds

pytestmark = pytest.mark.django_db(transaction=True)


def _gone_everywhere(site: Site, gone: Deployment, owner, edge: Edge, branch: tuple) -> None:  # type: ignore[no-untyped-def,type-arg]
    client = api_client(owner)
    base = f"/v1/sites/{site.id}/deployments"
    for path in (
        f"{base}/{gone.id}",
        f"{base}/{gone.id}/logs",
        f"{base}/{gone.id}/logs?type=runtime",
        f"{base}/{gone.id}/download",
        f"{base}/{gone.id}/download?type=output",
    ):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert response.json()["type"] == "not_found"
    assert client.patch(f"{base}/{gone.id}/activate").status_code == 404
    assert client.post(f"{base}/{gone.id}/redeploy").status_code == 404
    assert client.delete(f"{base}/{gone.id}").status_code == 404
    listed = client.get(base).json()
    assert listed["total"] == len(listed["deployments"])
    assert gone.id not in {d["id"] for d in listed["deployments"]}

    browser = Client()
    browser.force_login(owner)
    assert browser.get(f"/sites/{site.id}/deployments/{gone.id}/").status_code == 404
    assert gone.id not in browser.get(f"/sites/{site.id}/").content.decode()

    own = f"{gone.id}--{site.id}.{SITES_DOMAIN}"
    assert _call(edge, own, "/")[0] == 404
    assert _call(edge, branch_address(site), "/")[: len(branch)] == branch


@pytest.mark.parametrize("how", ["by hand", "by retention"])
def test_a_deleted_deployment_answers_404_everywhere(static_site, settings, how):  # noqa: F811
    site, owner = static_site
    publish(site, {"index.html": "live"})
    gone = preview(site, {"index.html": "preview"})
    edge = Edge(_fallthrough)
    own = f"{gone.id}--{site.id}.{SITES_DOMAIN}"
    assert _call(edge, own, "/") == (200, b"preview")  # cached by this edge now
    assert _call(edge, branch_address(site), "/") == (200, b"preview")

    with eager_builds():
        if how == "by hand":
            deployment_delete(deployment=gone)
            branch: tuple = (404,)  # type: ignore[type-arg]  # the branch has no other
        else:  # a newer preview of its branch, and a newer deployment in the one slot
            settings.SHIPWAY_CLEANUP_GRACE_SECONDS = 0
            Site.objects.filter(pk=site.pk).update(keep_deployments=1)
            preview(site, {"index.html": "preview 2"})
            publish(site, {"index.html": "newer"}, activate=False)
            assert tasks.cleanup_deployments() == 1
            branch = (200, b"preview 2")
    assert Deployment.all_objects.get(pk=gone.pk).deleted_at is not None
    _gone_everywhere(site, gone, owner, edge, branch)
    assert _call(edge, f"{site.id}.{SITES_DOMAIN}", "/") == (200, b"live")


def test_the_realtime_feed_refuses_a_deleted_deployment_s_channels(static_site):  # noqa: F811
    site, owner = static_site
    publish(site, {"index.html": "live"})
    gone = publish(site, {"index.html": "old"}, activate=False)
    channel = f"sites.{site.id}.deployments.{gone.id}"
    assert _refusal(owner, channel) == ""
    with eager_builds():
        deployment_delete(deployment=gone)
    assert _refusal(owner, channel) == f"Channel '{channel}': no such deployment."


# Where the app may read deleted deployments too: the reaper's check of a dead build's
# leftovers (its deployment may be deleted); usage's build seconds and deployments made
# (a deployment retention removed was still built). Anywhere else is a read that forgot.
ALL_OBJECTS_ALLOWED = {"builds/scratch.py", "deployments/models.py", "usage/builds.py"}


def test_no_read_reaches_deleted_deployments_but_the_allowed_ones():
    root = Path(__file__).resolve().parents[2]
    packages = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    found = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            relative = str(path.relative_to(root))
            if "/migrations/" in relative:
                continue
            text = path.read_text()
            for needle in ("all_objects", "_base_manager", "deployments_deployment"):
                if needle in text and relative not in ALL_OBJECTS_ALLOWED:
                    found.setdefault(relative, []).append(needle)
    assert found == {}
