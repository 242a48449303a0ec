"""How the dashboard words things: durations, statuses, error sentences.

Filters, so that templates ask for what they show instead of views attaching it to the
objects they render. `{% load dashboard_tags %}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import template

from deployments.models import FINAL_STATUSES
from sites.models import Site

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

register = template.Library()


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
