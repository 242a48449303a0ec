"""Sites: the list (the dashboard's home), create, the site page, settings, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.selectors import team_for
from dashboard.forms import GitDeployForm, SiteCreateForm, SiteSettingsForm, UploadForm
from dashboard.views.base import (
    dashboard_view,
    navigation,
    posted,
    remember_team,
    render_page,
    showing_refusals,
    site_with_form,
)
from deployments import buildline
from deployments.models import Deployment, Environment
from sites import frameworks
from sites import services as site_services
from sites.models import Site
from sites.selectors import can, site_for

if TYPE_CHECKING:
    from core.http import AuthenticatedHttpRequest

SITES_PER_PAGE = 50
DEPLOYMENTS_PER_PAGE = 20


def site_list(user: User, team_id: str) -> QuerySet[Site]:
    """The team's sites the user may read, newest first, each with its active deployment
    and its latest deployment's id and status: one query however many sites."""
    latest = Deployment.objects.filter(site=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Site.objects.for_user(user, "view")
        .filter(team_id=team_id)
        .select_related("deployment")
        .annotate(
            latest_id=Subquery(latest.values("id")[:1]),
            latest_status=Subquery(latest.values("status")[:1]),
        )
    )


@dashboard_view
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The current team's sites; for a new user, what to do first."""
    nav = navigation(request)
    page = None
    if nav.current is not None:
        page = Paginator(site_list(request.user, nav.current.id), SITES_PER_PAGE).get_page(
            request.GET.get("page")
        )
    return render_page(request, "dashboard/home.html", {"page": page}, nav=nav)


@dashboard_view
def site_create(request: HttpRequest) -> HttpResponse:
    nav = navigation(request)
    teams = [(t.id, t.name) for t in nav.teams if nav.allows(t, "deploy")]
    current = nav.current.id if nav.current else None
    form = SiteCreateForm(posted(request), teams=teams, initial={"team": current})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = team_for(request.user, data["team"], "deploy")
        with showing_refusals(request, form, {"teamId": "team"}):
            site = site_services.site_create(
                team=team, site_id=data["site_id"] or None, **form.site_fields()
            )
            messages.success(
                request, f"Site “{site.name}” created. Upload its source to deploy it."
            )
            return redirect("dashboard:site", site_id=site.id)
    context = {"form": form, "catalog": frameworks.catalog(), "teams_allowed": teams}
    return render_page(
        request, "dashboard/site_create.html", context, nav=nav, status=400 if form.errors else 200
    )


def site_page(
    request: HttpRequest,
    site: Site,
    upload_form: UploadForm | None = None,
    git_form: GitDeployForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """The site's deployments with the upload box and the git form (also after one of
    them was refused: that one comes back with its errors)."""
    remember_team(request, site.team_id)
    # With each one's server (an ssr deployment's runtime state): no query per row.
    # And each waiting one's place in the build line, in the same query.
    rows = buildline.with_line_positions(site.deployments.select_related("created_by", "server"))
    # `?environment=production|preview` narrows the list; any other value shows all.
    environment = request.GET.get("environment", "")
    if environment in Environment.values:
        rows = rows.filter(environment=environment)
    else:
        environment = ""
    deployments = Paginator(rows, DEPLOYMENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "site": site,
        "tab": "deployments",
        "deployments": deployments,
        "environment": environment,
        "environments": Environment.choices,
        "filter_params": urlencode({"environment": environment}) if environment else "",
        "upload_form": upload_form or UploadForm(),
        "git_form": git_form or GitDeployForm(),
        "git_open": git_form is not None,  # the refused git form is shown unfolded
        "can_change": can(request.user, site, "change"),
        "api_base": request.build_absolute_uri("/v1/")[:-1],
    }
    return render_page(request, "dashboard/site_deployments.html", context, status=status)


@dashboard_view
def site_detail(request: HttpRequest, site_id: str) -> HttpResponse:
    site = site_for(request.user, site_id, "view")
    return site_page(request, site)


@dashboard_view
def site_settings(request: HttpRequest, site_id: str) -> HttpResponse:
    site, can_change = site_with_form(request, site_id, "change")
    initial = {name: getattr(site, name) for name in SiteSettingsForm.base_fields}
    form = SiteSettingsForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = form.changes(site)
        with showing_refusals(request, form):
            if changes:
                site = site_services.site_update(site=site, **changes)
            messages.success(request, "Settings saved." if changes else "Nothing changed.")
            return redirect("dashboard:site-settings", site_id=site.id)
    context = {
        "site": site,
        "tab": "settings",
        "form": form,
        "catalog": frameworks.catalog(),
        "can_change": can_change,
        "can_delete": can(request.user, site, "delete"),
        "deployment_count": site.deployments.count(),
    }
    return render_page(
        request, "dashboard/site_settings.html", context, status=400 if form.errors else 200
    )


@require_POST
@dashboard_view
def site_delete(request: HttpRequest, site_id: str) -> HttpResponse:
    site = site_for(request.user, site_id, "delete")
    if request.POST.get("confirm", "").strip() != site.id:
        messages.error(request, f"Type the site id “{site.id}” to confirm the deletion.")
        return redirect(reverse("dashboard:site-settings", args=[site.id]) + "#delete")
    with showing_refusals(request):
        site_services.site_delete(site=site)
        messages.success(request, f"Site “{site.name}” and its deployments were deleted.")
        return redirect("dashboard:home")
    return redirect("dashboard:site-settings", site_id=site.id)
