"""Which deployments a site keeps, and so which ones the cleanup deletes.

A site keeps:

- its active deployment, and the one whose server takes its traffic (ssr, during a switch);
- each branch's newest ready preview (what the branch's address serves);
- the newest `keep_deployments` other ready deployments (SHIPWAY_KEEP_DEPLOYMENTS when the
  site sets none), to roll back to;
- anything waiting or building;
- anything made or finished within SHIPWAY_CLEANUP_GRACE_SECONDS, so that a build that
  has just finished (or a rollback target just made) is never raced.

Everything else, ready, failed or canceled, is deleted (deployments.services.
deployment_cleanup marks it and purges its files). Pure reads: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce

from deployments.models import FINAL_STATUSES, Deployment, Environment, Status
from sites.models import Site


def doomed(site: Site, deployments: Iterable[Deployment], now: datetime) -> list[Deployment]:
    """Of the site's (not deleted) `deployments`, those retention deletes, newest first."""
    rows = sorted(deployments, key=lambda d: (d.created_at, d.id), reverse=True)
    grace = now - timedelta(seconds=settings.SHIPWAY_CLEANUP_GRACE_SECONDS)
    kept: set[str] = {d for d in (site.deployment_id, site.live_server_id) if d}
    branches: set[str] = set()
    others = site.kept_deployments
    for deployment in rows:
        if deployment.id in kept:
            continue
        if deployment.status not in FINAL_STATUSES or _young(deployment, grace):
            kept.add(deployment.id)
        elif deployment.status == Status.READY:
            if _is_branch_preview(deployment) and deployment.branch_label not in branches:
                branches.add(deployment.branch_label)  # the branch's newest ready preview
                kept.add(deployment.id)
            elif others > 0:
                others -= 1
                kept.add(deployment.id)
    return [d for d in rows if d.id not in kept]


def sites_to_clean(now: datetime) -> list[str]:
    """The ids of the sites where `doomed` may find something, in one query: those with a
    failed or canceled deployment older than the grace, or with more ready ones older
    than the grace than they keep besides (fewer all fit in the kept places)."""
    grace = now - timedelta(seconds=settings.SHIPWAY_CLEANUP_GRACE_SECONDS)
    old = (
        Q(deployments__deleted_at__isnull=True)  # a join: the default manager is not asked
        & Q(deployments__created_at__lt=grace)
        & (Q(deployments__build_ended_at__isnull=True) | Q(deployments__build_ended_at__lt=grace))
    )
    finished = [Status.FAILED, Status.CANCELED]
    keeps = Coalesce("keep_deployments", Value(settings.SHIPWAY_KEEP_DEPLOYMENTS))
    return list(
        Site.objects.annotate(
            ready_old=Count("deployments", filter=old & Q(deployments__status=Status.READY)),
            finished_old=Count("deployments", filter=old & Q(deployments__status__in=finished)),
        )
        .filter(Q(finished_old__gt=0) | Q(ready_old__gt=keeps))
        .order_by("id")
        .values_list("id", flat=True)
    )


def _young(deployment: Deployment, grace: datetime) -> bool:
    newest = max(deployment.created_at, deployment.build_ended_at or deployment.created_at)
    return newest >= grace


def _is_branch_preview(deployment: Deployment) -> bool:
    return deployment.environment == Environment.PREVIEW and bool(deployment.branch_label)


def candidates(site: Site) -> list[Deployment]:
    """The site's deployments retention looks at, with only the fields it reads."""
    return list(
        Deployment.objects.filter(site=site).only(
            "id",
            "site_id",
            "status",
            "environment",
            "branch_label",
            "adapter",
            "created_at",
            "build_ended_at",
        )
    )
