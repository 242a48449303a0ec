"""How the dashboard words things: durations, statuses, error sentences.

Filters, so that templates ask for what they show instead of views attaching it to the
objects they render. `{% load dashboard_tags %}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import template
from django.contrib.humanize.templatetags.humanize import ordinal
from django.core.exceptions import ObjectDoesNotExist

from deployments import buildline
from deployments.errors import ErrorCode, message_for
from deployments.models import FINAL_STATUSES, Deployment, RuntimeState
from sites.models import Adapter, Site

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """42s, 3m 12s, 1h 02m; an em dash when there is none."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


@register.filter
def error_sentence(code: str) -> str:
    """The sentence for an error code ("" for none or an unknown one)."""
    try:
        # The enum member, not the bare string: `str in StrEnum` raises on Python 3.11.
        return message_for(ErrorCode(code)) if code else ""
    except ValueError:
        return ""


@register.filter
def first_line(text: str) -> str:
    """The first line of a text that has any (a commit message's subject), stripped."""
    return next(iter(text.strip().splitlines()), "")


@register.filter
def running(status: str) -> bool:
    """Waiting, processing or building: it can be canceled, its log may still come."""
    return status not in FINAL_STATUSES


@register.filter
def is_active(deployment: Deployment, site: Site) -> bool:
    """The deployment the site serves (the Live badge)."""
    return deployment.id == site.deployment_id


@register.filter
def older_than_active(deployment: Deployment, site: Site) -> bool:
    """Older than the site's active deployment: activating it is a rollback.
    One query for the active deployment at most, as `site` caches it for the next call."""
    active = site.deployment
    return active is not None and deployment.created_at < active.created_at


@register.filter
def line_place(deployment: Deployment) -> str:
    """A waiting deployment's place in its team's build line ("3rd in line"); empty for
    any other. The page's script writes the same words as the place changes."""
    position = buildline.line_position(deployment)
    return f"{ordinal(position)} in line" if position else ""


@register.filter
def runtime_state(deployment: Deployment) -> str:
    """The state of an ssr deployment's server ("stopped" before its first start, when
    it has no row yet); "" for a deployment without one. Select the server with the
    deployment (`select_related("server")`), or this is a query per deployment."""
    if deployment.adapter != Adapter.SSR:
        return ""
    try:
        return deployment.server.state
    except ObjectDoesNotExist:
        return RuntimeState.STOPPED


class _Latest(TypedDict):
    # What `site_list` annotates each site with: its newest deployment.
    latest_id: str | None
    latest_status: str | None


@register.filter
def new_build_running(site: WithAnnotations[Site, _Latest]) -> bool:
    """The site's newest deployment is still building while an older one serves (a row
    of `site_list`: no query)."""
    return (
        site.latest_id is not None
        and site.latest_id != site.deployment_id
        and site.latest_status not in FINAL_STATUSES
    )
