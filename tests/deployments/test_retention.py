"""Retention: after the cleanup task, storage (listed directly, on the filesystem and on
an S3 server on loopback) holds exactly the files of the deployments a site keeps; the
deleted rows are marked and no read finds them; `manage.py cleanup` says what it did."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from builds import director
from deployments import tasks
from deployments.errors import ErrorCode
from deployments.models import Deployment, LogChunk, Purge, Status
from deployments.services import (
    branch_fields,
    deployment_activate,
    deployment_create_from_upload,
    deployment_fail,
)
from sites.models import Site
from tests.archives import tar_gz, upload
from tests.edge.conftest import publish
from tests.factories import api_client, eager_builds, make_site, make_team, make_user
from tests.s3 import moto_s3, s3_storage  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def preview(site: Site, branch: str, text: str) -> Deployment:
    """A ready preview of `branch`, as a push makes it."""
    deployment = deployment_create_from_upload(
        site=site, archive=upload(tar_gz({"index.html": text})), activate=False
    )
    Deployment.objects.filter(pk=deployment.pk).update(**branch_fields(site, branch))
    director.build(deployment.id)  # as a worker would, whatever else waits
    deployment.refresh_from_db()
    assert deployment.status == Status.READY
    return deployment


def waiting(site: Site) -> Deployment:
    """A deployment whose build was queued to this session's queue (no worker): waiting."""
    return deployment_create_from_upload(site=site, archive=upload(tar_gz({"a.txt": "a"})))


def age_everything(hours: int = 2) -> None:
    """Everything made so far happened `hours` ago (older than the cleanup's grace)."""
    ago = timedelta(hours=hours)
    Deployment.all_objects.update(
        created_at=F("created_at") - ago, build_ended_at=F("build_ended_at") - ago
    )


def files_of(listing: set[str], deployments: list[Deployment]) -> set[str]:
    prefixes = tuple(f"{d.storage_prefix}/" for d in deployments)
    return {name for name in listing if name.startswith(prefixes)}


@pytest.fixture
def site_with_history(stored):  # type: ignore[no-untyped-def]
    """A site keeping 2 other ready deployments, with (oldest first): three production
    deployments, two previews of branch a, one of branch b, a failed upload, a fourth
    production deployment; then a rollback to the second; a waiting one; and, after
    everything else has aged past the grace, a young ready one."""
    owner = make_user()
    site = make_site(make_team(owner), framework="static", access="public")
    Site.objects.filter(pk=site.pk).update(keep_deployments=2)
    made = {}
    made["p1"] = publish(site, {"index.html": "v1"})
    made["p2"] = publish(site, {"index.html": "v2"})
    made["p3"] = publish(site, {"index.html": "v3"})
    made["a_old"] = preview(site, "a", "a1")
    made["a_new"] = preview(site, "a", "a2")
    made["b_only"] = preview(site, "b", "b1")
    failed = waiting(site)
    deployment_fail(failed.id, ErrorCode.INTERNAL, "made to fail")
    made["failed"] = failed
    made["p4"] = publish(site, {"index.html": "v4"})
    deployment_activate(deployment=made["p2"])  # a rollback: p2 is active
    made["waiting"] = waiting(site)
    age_everything()
    made["young"] = publish(site, {"index.html": "young"}, activate=False)
    for deployment in made.values():
        deployment.refresh_from_db()
    return site, owner, made


KEPT = ["p2", "p4", "a_old", "a_new", "b_only", "waiting", "young"]
DELETED = ["p1", "p3", "failed"]


def test_after_the_cleanup_storage_holds_exactly_the_kept_deployments(site_with_history, stored):
    _, _, made = site_with_history
    before = stored()
    for name in KEPT + DELETED:  # every deployment has files to keep or to lose
        assert files_of(before, [made[name]]), name

    with eager_builds():  # the purge it queues runs here, as a maintenance worker would
        deleted = tasks.cleanup_deployments()

    assert deleted == len(DELETED)
    assert stored() == files_of(before, [made[name] for name in KEPT])
    assert set(Deployment.objects.values_list("id", flat=True)) == {made[n].id for n in KEPT}
    marked = Deployment.all_objects.filter(deleted_at__isnull=False)
    assert set(marked.values_list("id", flat=True)) == {made[n].id for n in DELETED}
    assert not LogChunk.objects.filter(deployment__in=marked).exists()  # their logs went
    assert LogChunk.objects.filter(deployment=made["p2"]).exists()
    purge = Purge.objects.get()
    assert purge.done_at is not None and purge.attempts == 1 and not purge.last_error
    assert set(purge.deployment_ids) == {made[n].id for n in DELETED}

    with eager_builds():  # a second run finds nothing more to delete
        assert tasks.cleanup_deployments() == 0
    assert stored() == files_of(before, [made[name] for name in KEPT])


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_the_platform_default_applies_when_the_site_sets_none(site_with_history, settings):
    site, _, made = site_with_history
    Site.objects.filter(pk=site.pk).update(keep_deployments=None)
    settings.SHIPWAY_KEEP_DEPLOYMENTS = 1  # one other ready deployment: p4 only
    with eager_builds():
        tasks.cleanup_deployments()
    kept = set(Deployment.objects.values_list("id", flat=True))
    assert kept == {made[n].id for n in KEPT if n != "a_old"}


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_the_command_lists_then_deletes(site_with_history, stored):
    site, _, made = site_with_history
    before = stored()
    out = io.StringIO()
    call_command("cleanup", "--dry-run", stdout=out)
    listed = out.getvalue()
    for name in DELETED:
        assert f"would delete {site.id}/{made[name].id} ({made[name].status}, " in listed
    for name in KEPT:
        assert made[name].id not in listed
    assert listed.rstrip().endswith("3 deployments would be deleted.")
    assert stored() == before and Deployment.objects.count() == len(KEPT) + len(DELETED)

    out = io.StringIO()
    with eager_builds():
        call_command("cleanup", "--site", site.id, stdout=out)
    done = out.getvalue()
    assert {line.split()[1] for line in done.splitlines()[:-1]} == {
        f"{site.id}/{made[n].id}" for n in DELETED
    }
    assert done.rstrip().endswith("3 deployments deleted.")
    assert stored() == files_of(before, [made[name] for name in KEPT])


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_the_command_refuses_an_unknown_site(stored):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No site with id 'nope'"):
        call_command("cleanup", "--site", "nope")


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_a_deployment_made_within_the_grace_is_kept(stored, settings):
    owner = make_user()
    site = make_site(make_team(owner), framework="static", access="public")
    Site.objects.filter(pk=site.pk).update(keep_deployments=1)
    publish(site, {"index.html": "1"})
    publish(site, {"index.html": "2"}, activate=False)
    publish(site, {"index.html": "3"}, activate=False)
    with eager_builds():
        assert tasks.cleanup_deployments() == 0  # all three are younger than the grace
    settings.SHIPWAY_CLEANUP_GRACE_SECONDS = 0
    with eager_builds():
        assert tasks.cleanup_deployments() == 1  # the oldest non-active one goes
    assert Deployment.objects.count() == 2


def _keep(client, site: Site, value):  # type: ignore[no-untyped-def]
    return client.patch(f"/v1/sites/{site.id}", {"keepDeployments": value}, format="json")


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_keep_deployments_is_a_bounded_site_setting(stored):
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    client = api_client(owner)
    assert client.get(f"/v1/sites/{site.id}").json()["keepDeployments"] is None
    for bad in (0, 1001, -1, "many", True, 2.5):
        response = _keep(client, site, bad)
        assert response.status_code == 400, bad
        assert "keepDeployments" in response.json()["message"], response.json()
    site.refresh_from_db()
    assert site.keep_deployments is None
    assert _keep(client, site, 25).json()["keepDeployments"] == 25
    site.refresh_from_db()
    assert site.keep_deployments == 25 and site.kept_deployments == 25
    assert _keep(client, site, None).json()["keepDeployments"] is None
    site.refresh_from_db()
    assert site.kept_deployments == 10  # SHIPWAY_KEEP_DEPLOYMENTS


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_keep_deployments_in_the_dashboard_settings(stored):
    from django.test import Client

    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    client = Client()
    client.force_login(owner)
    page = client.get(f"/sites/{site.id}/settings/")
    assert page.status_code == 200 and b'name="keep_deployments"' in page.content
    form = {
        name: value
        for name, value in page.context["form"].initial.items()
        if value is not None and not isinstance(value, bool)
    }
    form["enabled"] = "on"
    response = client.post(f"/sites/{site.id}/settings/", {**form, "keep_deployments": "1001"})
    assert response.status_code == 400
    site.refresh_from_db()
    assert site.keep_deployments is None
    response = client.post(f"/sites/{site.id}/settings/", {**form, "keep_deployments": "3"})
    assert response.status_code == 302, response.content[:2000]
    site.refresh_from_db()
    assert site.keep_deployments == 3


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_a_deployment_activated_meanwhile_is_not_deleted(site_with_history):
    """The cleanup reads the site's active deployment with the site's row locked, so a
    rollback to an old deployment before it runs keeps that one."""
    _, _, made = site_with_history
    deployment_activate(deployment=made["p1"])
    with eager_builds():
        tasks.cleanup_deployments()
    kept = set(Deployment.objects.values_list("id", flat=True))
    assert made["p1"].id in kept
    assert made["p2"].id not in kept  # no longer active, and older than the two kept


@pytest.mark.parametrize("stored", ["s3"], indirect=True)
def test_the_edges_read_through_copies_of_deleted_deployments_go(
    site_with_history, stored, settings, tmp_path
):
    """With S3, the edge keeps a local copy of each file it served: those of deleted
    deployments go too, so the disk cache holds only what can still be served."""
    from edge.served import local_path

    _, _, made = site_with_history
    settings.SHIPWAY_EDGE_CACHE_DIR = tmp_path / "edge-cache"
    for deployment in made.values():  # as if every deployment had been visited
        for name in files_of(stored(), [deployment]):
            assert local_path(name).is_file()
    with eager_builds():
        tasks.cleanup_deployments()
    cache = tmp_path / "edge-cache"
    copies = {str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file()}
    assert copies == files_of(stored(), [made[name] for name in KEPT])


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_only_sites_with_something_to_delete_are_looked_at(stored):
    from deployments.retention import sites_to_clean

    def site_with(ready: int, failed: int = 0, keep: int = 2) -> Site:
        site = make_site(make_team(make_user()), framework="static")
        Site.objects.filter(pk=site.pk).update(keep_deployments=keep)
        for n in range(ready):
            publish(site, {"index.html": str(n)}, activate=n == 0)
        for _ in range(failed):
            deployment_fail(waiting(site).id, ErrorCode.INTERNAL, "made to fail")
        return site

    fits = site_with(ready=2)  # the active one and one more: both kept
    over = site_with(ready=4)
    with_failed = site_with(ready=1, failed=1)
    age_everything()
    young = site_with(ready=4, failed=1)  # all within the grace
    listed = set(sites_to_clean(timezone.now()))
    assert listed == {over.id, with_failed.id}
    assert fits.id not in listed and young.id not in listed
    with eager_builds():
        assert tasks.cleanup_deployments() == 2  # over's oldest non-active, the failed one
