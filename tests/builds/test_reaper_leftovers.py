"""The reaper removes the temporary directories dead builds left, and only those: this
installation's marked build directories whose build is over. (Its containers:
test_reaper_scope.py.)"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from builds import reaper
from builds.models import installation_id
from builds.scratch import PREFIX, prefix_for, scratch_directory
from deployments.models import Deployment, Status
from deployments.services import deployment_create_from_upload
from tests.archives import tar_gz, upload
from tests.factories import make_site, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tmp_root(tmp_path, monkeypatch) -> Path:
    """The temp directory builds (and the reaper) use, the test's own."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _deployment(status: str, minutes_ago: int = 0) -> Deployment:
    site = make_site(make_team(make_user()), framework="static")
    deployment = deployment_create_from_upload(site=site, archive=upload(tar_gz({"a": "b"})))
    then = timezone.now() - timedelta(minutes=minutes_ago)
    Deployment.objects.filter(pk=deployment.pk).update(
        status=status, updated_at=then, heartbeat_at=then
    )
    return deployment


def _dir(root: Path, name: str, minutes_ago: int = 10) -> Path:
    path = root / name
    path.mkdir()
    (path / "inside").mkdir()
    (path / "inside" / "file").write_text("left behind")
    then = time.time() - minutes_ago * 60
    os.utime(path, (then, then))
    return path


def test_only_this_installations_finished_builds_leftovers_go(tmp_root):
    ours = f"{PREFIX}{installation_id()}-"
    building = _deployment(Status.BUILDING)  # a live build: heartbeat now
    failed = _deployment(Status.FAILED, minutes_ago=10)
    just_failed = _deployment(Status.FAILED)
    gone = _dir(tmp_root, f"{ours}{failed.id}-x1y2z3")
    unknown = _dir(tmp_root, f"{ours}nosuchdeployment-abc")
    kept = {
        "building": _dir(tmp_root, f"{ours}{building.id}-aaa"),
        "just finished": _dir(tmp_root, f"{ours}{just_failed.id}-bbb"),
        "just made": _dir(tmp_root, f"{ours}{failed.id}-ccc", minutes_ago=0),
        "another installation": _dir(tmp_root, f"{PREFIX}0123456789ab-{failed.id}-ddd"),
        "not a build's": _dir(tmp_root, f"shipway-{failed.id}-eee"),
        "not ours at all": _dir(tmp_root, "something-else"),
    }
    (tmp_root / f"{ours}{failed.id}-file").write_text("a file, not a directory")

    counts = reaper.reap()

    assert counts["scratch_removed"] == 2
    assert not gone.exists() and not unknown.exists()
    for why, path in kept.items():
        assert path.exists(), why
    assert (tmp_root / f"{ours}{failed.id}-file").exists()


def test_a_dead_builds_directory_goes_once_the_reaper_failed_it(tmp_root, settings):
    """The director's scratch directory of a build whose worker died: the reaper fails
    the build first, and removes the directory on a later pass (not the same one, in
    case the worker was only slow)."""
    dead = _deployment(Status.BUILDING, minutes_ago=10)  # no heartbeat for ten minutes
    scratch = scratch_directory(prefix_for(dead.id))  # as the director makes it
    path = Path(scratch.name)
    assert path.parent == tmp_root and path.name.startswith(f"{PREFIX}{installation_id()}-")
    (path / "tree").mkdir()
    then = time.time() - 600
    os.utime(path, (then, then))

    reaper.reap()
    dead.refresh_from_db()
    assert dead.status == Status.FAILED
    assert path.exists()  # it moved a moment ago

    Deployment.objects.filter(pk=dead.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.SHIPWAY_BUILD_STALE_AFTER + 1)
    )
    assert reaper.reap()["scratch_removed"] == 1
    assert not path.exists()
    scratch.cleanup()  # the director's own cleanup, had it run: no error now
