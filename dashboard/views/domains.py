"""A site's custom domains: add one, see the DNS records to create, verify, remove."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from rest_framework.exceptions import NotFound, ValidationError

from core.api.errors import Conflict
from dashboard.forms import DomainForm
from dashboard.views.base import (
    apply_errors,
    dashboard_view,
    flash_error,
    posted,
    remember_team,
    render_page,
)
from sites import domains as domain_services
from sites.models import Site
from sites.selectors import can, site_for


def _domain(site: Site, domain_id: str) -> Any:
    domain = site.domains.filter(pk=domain_id).first()
    if domain is None:
        raise NotFound(f"Domain '{domain_id}' not found.")
    return domain


@dashboard_view
def domain_list(request: HttpRequest, site_id: str) -> HttpResponse:
    """The domains and the form that adds one (POST; owners only)."""
    action = "manage_domains" if request.method == "POST" else "view"
    site = site_for(request.user, site_id, action)
    remember_team(request, site.team_id)
    form = DomainForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            domain = domain_services.domain_create(site=site, domain=form.cleaned_data["domain"])
        except (ValidationError, Conflict) as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, f"{domain.domain} added. Create its DNS records, then verify it."
            )
            return redirect("dashboard:domains", site_id=site.id)
    domains = list(site.domains.all())
    for domain in domains:
        # The DNS records the domain's owner must create (the same list the API shows).
        domain.records = domain_services.domain_records(domain)
    context = {
        "site": site,
        "tab": "domains",
        "domains": domains,
        "form": form,
        "can_manage": action == "manage_domains" or can(request.user, site, "manage_domains"),
    }
    return render_page(
        request, "dashboard/site_domains.html", context, status=400 if form.errors else 200
    )


@require_POST
@dashboard_view
def domain_verify(request: HttpRequest, site_id: str, domain_id: str) -> HttpResponse:
    site = site_for(request.user, site_id, "manage_domains")
    domain = _domain(site, domain_id)
    try:
        domain = domain_services.domain_verify(domain=domain)
    except (ValidationError, Conflict) as exc:
        flash_error(request, exc)
    else:
        if getattr(domain, "status", "") == "verified":
            messages.success(request, f"{domain.domain} is verified and serves the site.")
        else:
            detail = getattr(domain, "last_error", "") or "The DNS records are not there yet."
            messages.error(request, f"{domain.domain} is not verified yet: {detail}")
    return redirect("dashboard:domains", site_id=site.id)


@require_POST
@dashboard_view
def domain_delete(request: HttpRequest, site_id: str, domain_id: str) -> HttpResponse:
    site = site_for(request.user, site_id, "manage_domains")
    domain = _domain(site, domain_id)
    try:
        domain_services.domain_delete(domain=domain)
    except (ValidationError, Conflict) as exc:
        flash_error(request, exc)
    else:
        messages.success(request, f"{domain.domain} removed; it no longer serves the site.")
    return redirect("dashboard:domains", site_id=site.id)
