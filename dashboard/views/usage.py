"""A site's Usage tab: requests, bandwidth and build minutes over 24 hours, 7 or 30 days,
drawn from the same answer as `GET /v1/sites/{siteId}/usage`."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat

from core.errors import Invalid
from dashboard.charts import bar_chart
from dashboard.views.base import dashboard_view, remember_team, render_page
from sites.selectors import site_for
from usage.selectors import RANGES, parse_range, site_usage


def _count(value: float) -> str:
    return f"{int(value):,}"


def _bytes(value: float) -> str:
    return str(filesizeformat(int(value)))


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


@dashboard_view
def site_usage_page(request: HttpRequest, site_id: str) -> HttpResponse:
    """The charts (whoever reads the site sees them)."""
    site = site_for(request.user, site_id, "view")
    remember_team(request, site.team_id)
    status = 200
    try:
        period = parse_range(request.GET.get("range"))
    except Invalid:
        period, status = RANGES["24h"], 400
    usage = site_usage(site=site, period=period)
    series = usage["series"]
    hourly = period.name == "24h"
    charts = [
        bar_chart(title, series[key], hourly=hourly, show=show, total=usage[key])
        for title, key, show in (
            ("Requests", "requests", _count),
            ("Bandwidth", "bandwidthBytes", _bytes),
            ("Build minutes", "buildSeconds", _minutes),
        )
    ]
    context = {
        "site": site,
        "tab": "usage",
        "usage": usage,
        "charts": charts,
        "ranges": list(RANGES),
        "period": period.name,
        "storage": _bytes(usage["storageBytes"]),
        "flush_seconds": settings.SHIPWAY_USAGE_FLUSH_SECONDS,
    }
    return render_page(request, "dashboard/site_usage.html", context, status=status)
