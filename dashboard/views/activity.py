"""A team's Activity page: its audit log, newest first, filtered and paginated (the
same entries as `GET /v1/teams/{teamId}/audit`, for the same readers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.models import AuditEntry
from accounts.selectors import audit_entries, team_for
from dashboard.forms import ActivityFilterForm
from dashboard.views.base import dashboard_view, remember_team, render_page

ENTRIES_PER_PAGE = 50
# Resources offered as suggestions by the filter (any other name may be typed).
KNOWN_RESOURCES = (
    "team",
    "membership",
    "api_key",
    "site",
    "variable",
    "domain",
    "deployment",
    "repository",
    "deploy_hook",
)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value) or "—"
    return str(value)


def _changes(entry: AuditEntry) -> list[tuple[str, str]]:
    """The entry's data as lines: `field: old → new` for a change, `field: value` else."""
    lines = []
    data = entry.data if isinstance(entry.data, dict) else {}
    for name, value in data.items():
        if (
            isinstance(value, list)
            and len(value) == 2
            and entry.action.endswith(
                (".update", ".verify", ".recheck", ".activate", ".cancel", ".supersede")
            )
        ):
            lines.append((name, f"{_shown(value[0])} → {_shown(value[1])}"))
        else:
            lines.append((name, _shown(value)))
    return lines


@require_safe
@dashboard_view
def team_activity(request: HttpRequest, team_id: str) -> HttpResponse:
    team = team_for(request.user, team_id, "audit")
    remember_team(request, team.id)
    form = ActivityFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit_entries(team=team, **{k: v for k, v in filters.items() if v})
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"entry": entry, "changes": _changes(entry)} for entry in page]
    params = urlencode({name: value for name, value in filters.items() if value})
    context = {
        "team": team,
        "form": form,
        "page": page,
        "rows": rows,
        "params": params,
        "known_resources": KNOWN_RESOURCES,
    }
    return render_page(
        request, "dashboard/team_activity.html", context, status=400 if form.errors else 200
    )
