"""A site's custom domains: add one, see the DNS records to create, verify, remove."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from dashboard.forms import DomainForm
from dashboard.views.base import (
    dashboard_view,
    posted,
    render_page,
    showing_refusals,
    site_with_form,
)
from sites import services as site_services
from sites.domains import domain_records
from sites.models import DomainStatus
from sites.selectors import domain_for


@dashboard_view
def domain_list(request: HttpRequest, site_id: str) -> HttpResponse:
    """The domains and the form that adds one (POST; owners only)."""
    site, can_manage = site_with_form(request, site_id, "manage_domains")
    form = DomainForm(posted(request))
    if request.method == "POST" and form.is_valid():
        with showing_refusals(request, form):
            domain = site_services.domain_create(site=site, domain=form.cleaned_data["domain"])
            messages.success(
                request, f"{domain.domain} added. Create its DNS records, then verify it."
            )
            return redirect("dashboard:domains", site_id=site.id)
    domains = list(site.domains.all())
    for domain in domains:
        # The DNS records the domain's owner must create (the same list the API shows).
        domain.records = domain_records(domain)
    context = {
        "site": site,
        "tab": "domains",
        "domains": domains,
        "form": form,
        "can_manage": can_manage,
    }
    return render_page(
        request, "dashboard/site_domains.html", context, status=400 if form.errors else 200
    )


@require_POST
@dashboard_view
def domain_verify(request: HttpRequest, site_id: str, domain_id: str) -> HttpResponse:
    domain = domain_for(request.user, site_id, domain_id, "manage_domains")
    with showing_refusals(request):
        domain = site_services.domain_verify(domain=domain)
        if domain.status == DomainStatus.VERIFIED:
            messages.success(request, f"{domain.domain} is verified and serves the site.")
        else:
            detail = domain.last_error or "The DNS records are not there yet."
            messages.error(request, f"{domain.domain} is not verified yet: {detail}")
    return redirect("dashboard:domains", site_id=site_id)


@require_POST
@dashboard_view
def domain_delete(request: HttpRequest, site_id: str, domain_id: str) -> HttpResponse:
    domain = domain_for(request.user, site_id, domain_id, "manage_domains")
    with showing_refusals(request):
        site_services.domain_delete(domain=domain)
        messages.success(request, f"{domain.domain} removed; it no longer serves the site.")
    return redirect("dashboard:domains", site_id=site_id)
