"""Builds' temporary directories: named so that the reaper can tell a dead build's
leftovers from anything else in the temp directory.

A build's scratch directory (the director's, and the local runner's) is
`{tempdir}/shipway-build-{installationId}-{deploymentId}-{random}`: Shipway's marker,
this installation (two installations on one machine never remove each other's), and
whose build it is. A git fetch works inside the director's. Nothing else is named so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import structlog
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from builds.models import installation_id
from deployments.models import Deployment, Status

log = structlog.get_logger(__name__)

PREFIX = "shipway-build-"
BUILDING = (Status.PROCESSING, Status.BUILDING)


def _mine() -> str:
    return f"{PREFIX}{installation_id()}-"


def prefix_for(deployment_id: str) -> str:
    """The name a scratch directory of this deployment's build starts with (read once by
    the director, which hands it to the runner: runners read no database)."""
    return f"{_mine()}{deployment_id}-"


def scratch_directory(prefix: str = PREFIX) -> tempfile.TemporaryDirectory[str]:
    """A new scratch directory named `prefix`… (removed when the block ends). A reaper
    that removed it first (the build was dead) is no error here."""
    return tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True)


def remove_leftovers(root: Path | None = None) -> int:
    """Remove this installation's build directories whose build is over (its deployment
    is not being built and has not moved for SHIPWAY_BUILD_STALE_AFTER, or is gone) and
    which have not changed for as long. Returns how many were removed."""
    root = Path(root or tempfile.gettempdir())
    mine = _mine()
    found: dict[str, list[os.DirEntry[str]]] = {}
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith(mine) and entry.is_dir(follow_symlinks=False):
                deployment_id = entry.name[len(mine) :].split("-", 1)[0]
                found.setdefault(deployment_id, []).append(entry)
    if not found:
        return 0
    stale_after = timedelta(seconds=settings.SHIPWAY_BUILD_STALE_AFTER)
    cutoff = time.time() - stale_after.total_seconds()
    # Still in use: being built (a dead build is failed by the reaper first), or it moved
    # a moment ago (its worker may still be leaving the directory).
    in_use = set(
        Deployment.all_objects.filter(pk__in=list(found))
        .filter(Q(status__in=BUILDING) | Q(updated_at__gte=timezone.now() - stale_after))
        .values_list("pk", flat=True)
    )
    removed = 0
    for deployment_id, directories in found.items():
        if deployment_id in in_use:
            continue
        for entry in directories:
            if entry.stat(follow_symlinks=False).st_mtime > cutoff:
                continue  # made a moment ago: its build may not be claimed in our read yet
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
            log.info("reaper.removed_scratch", deployment_id=deployment_id, path=entry.path)
    return removed
