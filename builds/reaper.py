"""The reaper: the database, not the broker, is the truth about builds.

A deployment whose worker stopped sending heartbeats (the process died) is failed with
a reason and its container removed; a deployment still waiting long after it was
sent to the workers (its message was lost) is sent again, and the build line is run
once more (deployments/buildline.py); the temporary directories dead builds
left (builds/scratch.py: this installation's marker only) are removed. Nothing is left
hanging.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import structlog
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from builds import scratch
from builds.runners.docker import owned_labels
from deployments import services
from deployments.errors import ErrorCode
from deployments.models import Deployment, Status

log = structlog.get_logger(__name__)


def reap() -> dict[str, int]:
    """Fail dead builds, re-queue lost ones, remove leftover containers. Returns counts."""
    stale = timezone.now() - timedelta(seconds=settings.SHIPWAY_BUILD_STALE_AFTER)
    dead = Deployment.objects.filter(
        Q(status__in=[Status.PROCESSING, Status.BUILDING]),
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, updated_at__lt=stale),
    ).values_list("id", flat=True)
    failed = 0
    for deployment_id in list(dead):
        done = services.deployment_fail(
            deployment_id,
            ErrorCode.INTERNAL,
            "The worker building this deployment stopped responding (it was restarted or "
            "killed); the build was abandoned. Redeploy to try again.",
        )
        failed += done is not None
        log.warning("reaper.failed_dead_build", deployment_id=deployment_id)

    lost = list(
        Deployment.objects.filter(status=Status.WAITING, dispatched_at__lt=stale).values_list(
            "id", flat=True
        )
    )
    for deployment_id in lost:
        services.deployment_requeue(deployment_id)
        log.warning("reaper.requeued", deployment_id=deployment_id)
    # Places a lost dispatch (the broker down after a commit) never gave out.
    dispatched = len(services.deployment_dispatch())
    return {"failed": failed, "requeued": len(lost), "dispatched": dispatched, **sweep_machine()}


def sweep_machine() -> dict[str, int]:
    """Remove what dead builds left on this machine: containers on its engine, scratch
    directories on its disk. The reaper runs it where it runs; every worker runs it when
    it starts (builds/tasks.py), since on many machines each has its own engine."""
    return {
        "containers_removed": remove_orphan_containers(),
        "scratch_removed": scratch.remove_leftovers(),
    }


def remove_orphan_containers() -> int:
    """Remove this installation's build containers whose deployment is no longer
    building. Containers of another installation on the same engine, of another role
    (site servers) or not Shipway's at all are never touched."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        mine = [f"{key}={value}" for key, value in owned_labels("build").items()]
        # Sparse: no inspect per container, which fails the whole listing when a
        # build removes its own container meanwhile.
        containers = client.containers.list(all=True, sparse=True, filters={"label": mine})
    except Exception:  # no Docker here: nothing to clean
        return 0
    building = set(
        Deployment.objects.filter(status__in=[Status.PROCESSING, Status.BUILDING]).values_list(
            "id", flat=True
        )
    )
    removed = 0
    for container in containers:
        labels = container.attrs.get("Labels") or {}
        if labels.get("shipway.deployment") not in building:
            with contextlib.suppress(docker.errors.NotFound):  # gone by itself meanwhile
                container.remove(force=True)
            removed += 1
    return removed
