"""Dashboard-side views for the edge."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect

from core import pages
from core.errors import Refused
from edge import access
from sites.hosts import HostKind, parse
from sites.selectors import site_for, verified_site_for_domain

if TYPE_CHECKING:
    from core.http import AuthenticatedHttpRequest


@login_required
def edge_authorize(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send a signed-in team member back to a protected site's host with a ticket."""
    host = request.GET.get("host", "")
    next_path = request.GET.get("next", "/")
    parsed = parse(host, settings.SITES_DOMAIN, frozenset())
    site_id = parsed.site_id
    if parsed.kind == HostKind.CUSTOM:
        site_id = verified_site_for_domain(parsed.host) or ""
    if not site_id or not next_path.startswith("/") or next_path.startswith("//"):
        return HttpResponseBadRequest(pages.page("Bad request", "This address names no site."))
    try:
        site = site_for(request.user, site_id, "view")
    except Refused:
        body = pages.page("Not allowed", "Only members of this site's team may open this address.")
        return HttpResponse(body, status=403)
    ticket = access.issue_ticket(site_uid=site.uid.hex, host=parsed.host, user_id=request.user.pk)
    base = settings.SITES_URL_TEMPLATE.format(host=parsed.host)
    query = urlencode({"ticket": ticket, "next": next_path})
    return HttpResponseRedirect(f"{base}{access.CALLBACK_PATH}?{query}")
