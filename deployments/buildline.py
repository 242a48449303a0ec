"""The build line: which waiting deployments may go to the build workers now.

The limits hold across every worker because they are decided here, in the database,
under one PostgreSQL advisory lock, and never by a worker: a site has at most one
deployment in flight (sent to the workers, claimed or building), a team at most its
limit (`Team.build_limit`, else SHIPWAY_TEAM_BUILD_LIMIT); the rest wait, oldest first.
How many builds one machine runs at once is its worker's own concurrency (`-c`).

deployments.services.deployment_dispatch is the one writer (it marks `dispatched_at`
and sends the build task); this module decides and reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce

from accounts.models import Team
from deployments.models import Deployment, Status

# pg_advisory_xact_lock's key for "deciding the build line" (any constant of Shipway's).
LOCK_KEY = 0x5348_4950_4C49_4E45 >> 1  # "SHIPLINE", as a positive bigint
# Waiting deployments looked at per decision, oldest first: enough for every team's head
# of line on any installation this runs on, and a bound on the decision's work.
SCAN = 1000
# Sent to the workers (possibly still in the broker's queue), claimed, or building.
IN_FLIGHT = Q(status__in=[Status.PROCESSING, Status.BUILDING]) | Q(
    status=Status.WAITING, dispatched_at__isnull=False
)


@dataclass(frozen=True)
class Waiting:
    deployment_id: str
    site_id: str
    team_id: str


def lock() -> None:
    """Hold the line's lock until the caller's transaction ends: two deciders (web
    processes, workers) never count the same free place twice."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def choose(
    waiting: Iterable[Waiting],
    busy_sites: set[str],
    running: Counter[str],
    limit_of: Callable[[str], int],
) -> list[str]:
    """The deployments to send now, in line order: each one's site has nothing in flight
    and its team is under its limit, counting the ones chosen before it."""
    busy, counts = set(busy_sites), Counter(running)
    chosen = []
    for item in waiting:
        if item.site_id in busy or counts[item.team_id] >= limit_of(item.team_id):
            continue
        chosen.append(item.deployment_id)
        busy.add(item.site_id)
        counts[item.team_id] += 1
    return chosen


def next_to_send() -> list[str]:
    """What the line allows now (call under `lock()`): three queries whatever the
    number of deployments."""
    in_flight = list(Deployment.objects.filter(IN_FLIGHT).values_list("site_id", "site__team_id"))
    waiting = [
        Waiting(*row)
        for row in Deployment.objects.filter(status=Status.WAITING, dispatched_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("id", "site_id", "site__team_id")[:SCAN]
    ]
    if not waiting:
        return []
    limits = dict(
        Team.objects.filter(pk__in={item.team_id for item in waiting}).values_list(
            "id", "build_limit"
        )
    )
    default = settings.SHIPWAY_TEAM_BUILD_LIMIT
    return choose(
        waiting,
        {site_id for site_id, _ in in_flight},
        Counter(team_id for _, team_id in in_flight),
        lambda team_id: limits.get(team_id) or default,
    )


def with_line_positions(deployments: QuerySet[Deployment]) -> QuerySet[Deployment]:
    """Annotate `line_position`: a waiting deployment's place among its team's waiting
    ones (1 is next), None for any other; one subquery, not a query per row."""
    ahead = (
        Deployment.objects.filter(
            status=Status.WAITING,
            site__team_id=OuterRef("site__team_id"),
            created_at__lt=OuterRef("created_at"),
        )
        .order_by()
        .values("site__team_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return deployments.annotate(
        line_position=Case(
            When(status=Status.WAITING, then=Coalesce(Subquery(ahead), 0) + 1),
            default=None,
            output_field=IntegerField(),
        )
    )


def line_position(deployment: Deployment) -> int | None:
    """`line_position` of one deployment, annotated or read now."""
    if deployment.status != Status.WAITING:
        return None
    annotated: Deployment | None = deployment
    if not hasattr(deployment, "line_position"):  # not from a list: read it now
        annotated = with_line_positions(Deployment.objects.filter(pk=deployment.pk)).first()
    return getattr(annotated, "line_position", None)
