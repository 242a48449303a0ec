"""The build figures of each site and hour, read from the deployments' rows: the seconds
its builds ran (by the hour each build ended) and the deployments made (by the hour each
was created)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncHour

from deployments.models import Deployment


def floor_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def build_figures(
    *, since: datetime | None, site_ids: Iterable[str] | None = None
) -> dict[tuple[str, datetime], tuple[float, int]]:
    """{(siteId, hour): (build seconds, deployments)} for the hours from `since` (all
    hours when None), for the sites named (all when None). Deleted deployments too:
    retention removing one later does not undo the build it was."""
    deployments = Deployment.all_objects.all()
    if site_ids is not None:
        deployments = deployments.filter(site_id__in=list(site_ids))
    figures: dict[tuple[str, datetime], tuple[float, int]] = {}
    made = deployments.filter(**({"created_at__gte": since} if since else {}))
    for row in (
        made.annotate(hour=TruncHour("created_at"))
        .values("site_id", "hour")
        .annotate(n=Count("id"))
        .order_by()
    ):
        figures[(row["site_id"], row["hour"])] = (0.0, row["n"])
    built = deployments.filter(
        build_started_at__isnull=False,
        build_ended_at__isnull=False,
        **({"build_ended_at__gte": since} if since else {}),
    )
    for took in (
        built.annotate(hour=TruncHour("build_ended_at"))
        .values("site_id", "hour")
        .annotate(
            took=Sum(
                ExpressionWrapper(
                    F("build_ended_at") - F("build_started_at"), output_field=DurationField()
                )
            )
        )
        .order_by()
    ):
        key = (took["site_id"], took["hour"])
        seconds = max(0.0, took["took"].total_seconds()) if took["took"] else 0.0
        figures[key] = (seconds, figures.get(key, (0.0, 0))[1])
    return figures
