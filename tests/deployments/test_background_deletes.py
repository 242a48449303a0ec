"""Deleting a site or a deployment answers at once and removes the stored files, the
build cache and the servers in the background, on the maintenance queue, trying again
with backoff until storage, listed again, shows the prefix empty (filesystem and S3)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery.exceptions import Retry
from django.conf import settings as django_settings

from deployments import services, tasks
from deployments.models import Deployment, Purge, Status
from deployments.services import deployment_create_from_upload, deployment_delete
from sites.services import REMOVE_BUILD_CACHE_TASK, site_delete
from tests.archives import tar_gz, upload
from tests.e2e.conftest import start_worker, stop_worker
from tests.edge.conftest import publish
from tests.factories import api_client, make_site, make_team, make_user
from tests.live import test_database_url
from tests.s3 import S3Bucket, moto_s3, s3_storage  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def queued(task: str, with_eta: bool = False) -> list:  # type: ignore[type-arg]
    """The arguments of each `task` message in this session's maintenance queue (no
    worker reads it in these tests), taken off the queue; with `with_eta`, each as
    (arguments, the message's eta or None)."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    found = []
    for raw in client.lrange(django_settings.SHIPWAY_MAINTENANCE_QUEUE, 0, -1):
        message = json.loads(raw)
        headers = message.get("headers", {})
        if headers.get("task") == task:
            args, _, _ = json.loads(base64.b64decode(message["body"]))
            found.append((args, headers.get("eta")) if with_eta else args)
            client.lrem(django_settings.SHIPWAY_MAINTENANCE_QUEUE, 1, raw)
    return found


@pytest.fixture(autouse=True)
def _empty_maintenance_queue():
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(
        django_settings.SHIPWAY_MAINTENANCE_QUEUE
    )


def site_with_two():  # type: ignore[no-untyped-def]
    owner = make_user()
    site = make_site(make_team(owner), framework="static", access="public")
    first = publish(site, {"index.html": "one", "app.js": "x" * 3000})
    second = publish(site, {"index.html": "two"})
    return owner, site, first, second


def test_a_deleted_site_s_files_go_in_the_background(stored):
    owner, site, first, second = site_with_two()
    assert any(name.startswith(f"sites/{site.id}/") for name in stored())
    cache_id = site.uid.hex

    assert api_client(owner).delete(f"/v1/sites/{site.id}").status_code == 204
    assert any(name.startswith(f"sites/{site.id}/") for name in stored())  # not yet
    [[purge_id]] = queued(services.PURGE_TASK)
    assert queued(REMOVE_BUILD_CACHE_TASK) == [[cache_id]]
    assert queued(services.REMOVE_SERVERS_TASK) == [[[second.id, first.id]]]
    purge = Purge.objects.get(pk=purge_id)
    assert purge.site_gone and purge.done_at is None
    assert set(purge.deployment_ids) == {first.id, second.id}

    tasks.purge_stored(purge_id)  # what the maintenance worker runs
    assert stored() == set()
    purge.refresh_from_db()
    assert purge.done_at is not None and purge.attempts == 1


def test_a_deleted_deployment_s_files_go_in_the_background(stored):
    owner, site, first, second = site_with_two()
    before = stored()
    response = api_client(owner).delete(f"/v1/sites/{site.id}/deployments/{first.id}")
    assert response.status_code == 204
    assert stored() == before  # not yet
    assert Deployment.all_objects.get(pk=first.id).deleted_at is not None
    [[purge_id]] = queued(services.PURGE_TASK)
    assert queued(services.REMOVE_SERVERS_TASK) == []  # a static deployment has none

    tasks.purge_stored(purge_id)
    assert stored() == {n for n in before if n.startswith(f"{second.storage_prefix}/")}


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_a_deployment_deleted_while_building_is_purged_once_its_worker_stopped(stored):
    """Its worker may write files until it sees the cancel: the purge waits
    SHIPWAY_BUILD_STALE_AFTER; a finished one's goes at once."""
    _, site, first, _ = site_with_two()
    building = deployment_create_from_upload(site=site, archive=upload(tar_gz({"a": "b"})))
    deployment_delete(deployment=building)
    [(_, eta)] = queued(services.PURGE_TASK, with_eta=True)
    assert eta is not None
    assert Deployment.all_objects.get(pk=building.pk).status == Status.CANCELED
    deployment_delete(deployment=first)
    [(_, eta)] = queued(services.PURGE_TASK, with_eta=True)
    assert eta is None


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_a_reused_site_id_keeps_its_new_files(stored):
    """A site deleted and made again under the same id before the purge runs: the purge
    removes the old deployments' prefixes only, never the new site's files."""
    owner, site, _, _ = site_with_two()
    site_delete(site=site)
    [[purge_id]] = queued(services.PURGE_TASK)
    again = make_site(make_team(owner), site_id=site.id, framework="static")
    fresh = publish(again, {"index.html": "new"})
    tasks.purge_stored(purge_id)
    left = stored()
    assert left and all(name.startswith(f"{fresh.storage_prefix}/") for name in left)


def test_a_failing_storage_is_tried_again_until_it_confirms(s3_storage: S3Bucket, moto_s3):  # noqa: F811
    """A real outage (the S3 server stopped): the purge records it and asks for a retry
    with backoff; once the server is back, the retry empties the prefix."""
    _, _, first, second = site_with_two()
    before = s3_storage.keys()
    moto_s3.stop()
    try:
        deployment_delete(deployment=first)
        [[purge_id]] = queued(services.PURGE_TASK)
        with pytest.raises(Retry):
            tasks.purge_stored(purge_id)
        purge = Purge.objects.get(pk=purge_id)
        assert purge.done_at is None and purge.attempts == 1
        assert "connect" in purge.last_error.lower(), purge.last_error
    finally:
        moto_s3.start()
    assert s3_storage.keys() == before  # nothing was removed while it was down
    tasks.purge_stored(purge_id)
    purge.refresh_from_db()
    assert purge.done_at is not None and purge.attempts == 2 and not purge.last_error
    assert s3_storage.keys() == {n for n in before if n.startswith(f"{second.storage_prefix}/")}


def _immutable(path: Path, on: bool) -> bool:
    """chattr ±i: even root cannot remove the entries of an immutable directory."""
    flag = "+i" if on else "-i"
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_a_failing_filesystem_is_tried_again_until_it_confirms(stored, tmp_path):
    """A real failure on the filesystem: a directory of the prefix made immutable, so
    deleting its files fails (for root too). The purge records it and asks for a retry;
    once the directory is writable again, the retry empties the prefix."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    _, _, first, second = site_with_two()
    before = stored()
    deployment_delete(deployment=first)
    [[purge_id]] = queued(services.PURGE_TASK)
    stuck = tmp_path / "storage" / first.storage_prefix / "output"
    if not _immutable(stuck, True):
        pytest.skip("this filesystem has no immutable flag")
    try:
        with pytest.raises(Retry):
            tasks.purge_stored(purge_id)
        purge = Purge.objects.get(pk=purge_id)
        assert purge.done_at is None and purge.attempts == 1
        assert purge.last_error.startswith("PermissionError"), purge.last_error
        assert files_of(stored(), first)  # its output is still there
    finally:
        _immutable(stuck, False)
    tasks.purge_stored(purge_id)
    purge.refresh_from_db()
    assert purge.done_at is not None and purge.attempts == 2
    assert stored() == files_of(before, second)


def files_of(listing: set[str], deployment: Deployment) -> set[str]:
    return {name for name in listing if name.startswith(f"{deployment.storage_prefix}/")}


def test_the_retry_delay_doubles_up_to_an_hour(settings):
    settings.SHIPWAY_PURGE_RETRY_SECONDS = 30
    delays = [services.purge_delay(n) for n in range(10)]
    assert 30 <= delays[0] <= 33 and 60 <= delays[1] <= 66
    assert all(3600 <= d <= 3960 for d in delays[7:])


@pytest.mark.parametrize("stored", ["filesystem"], indirect=True)
def test_files_still_listed_keep_the_purge_pending(stored, tmp_path):
    """Only an empty listing confirms: a file that comes back (or survives) under the
    prefix leaves the purge pending, and the cleanup sends it again later."""
    _, site, first, _ = site_with_two()
    deployment_delete(deployment=first)
    [[purge_id]] = queued(services.PURGE_TASK)
    tasks.purge_stored(purge_id)
    straggler = tmp_path / "storage" / first.storage_prefix / "late.txt"
    straggler.parent.mkdir(parents=True)
    straggler.write_text("written by a build that was still finishing")
    Purge.objects.filter(pk=purge_id).update(done_at=None)  # as if it had not confirmed
    assert services.purge_run(purge_id=purge_id) is True  # deleted and listed empty
    assert not straggler.exists()

    # A purge whose message was lost (never tried) is sent again by the cleanup once
    # it is older than the longest retry delay; a recent one is left to its retries.
    lost = Purge.objects.create(site_id=site.id, prefixes=[first.storage_prefix])
    assert services.purge_resend() == 0
    Purge.objects.filter(pk=lost.pk).update(created_at=lost.created_at - timedelta(hours=2))
    queued(services.PURGE_TASK)
    assert services.purge_resend() == 1
    assert queued(services.PURGE_TASK) == [[lost.pk]]


def test_a_worker_retries_with_backoff_through_an_outage(s3_storage, moto_s3, settings, tmp_path):  # noqa: F811
    """The whole path with a real Celery worker on the maintenance queue: the S3 server
    is down when the purge first runs; the worker tries again (1 s, 2 s, ...) and,
    once the server is back, storage lists the prefix empty and the purge is done."""
    _, _, first, second = site_with_two()
    before = s3_storage.keys()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "SHIPWAY_STORAGE": "s3",
        "SHIPWAY_S3_BUCKET": s3_storage.name,
        "SHIPWAY_S3_ENDPOINT_URL": moto_s3.endpoint,
        "SHIPWAY_S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_MAX_ATTEMPTS": "1",
        "SHIPWAY_PURGE_RETRY_SECONDS": "1",
        "SHIPWAY_BUILD_QUEUE": settings.SHIPWAY_BUILD_QUEUE,
        "SHIPWAY_SERVER_QUEUE": settings.SHIPWAY_SERVER_QUEUE,
        "SHIPWAY_NOTIFY_QUEUE": settings.SHIPWAY_NOTIFY_QUEUE,
        "SHIPWAY_MAINTENANCE_QUEUE": settings.SHIPWAY_MAINTENANCE_QUEUE,
        "LOG_FORMAT": "console",
    }
    moto_s3.stop()
    worker = start_worker(env, tmp_path)
    try:
        deployment_delete(deployment=first)
        purge = Purge.objects.get()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and purge.attempts < 2:
            time.sleep(0.2)
            purge.refresh_from_db()
        assert purge.attempts >= 2, (tmp_path / "worker.log").read_text()[-3000:]
        assert purge.done_at is None
        assert purge.last_error
        moto_s3.start()
        while time.monotonic() < deadline and purge.done_at is None:
            time.sleep(0.2)
            purge.refresh_from_db()
        assert purge.done_at is not None, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        moto_s3.start()
        stop_worker(worker)
    assert s3_storage.keys() == {n for n in before if n.startswith(f"{second.storage_prefix}/")}
