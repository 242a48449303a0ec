"""A site's Git tab: the linked repository and what to paste into its forge's webhook
settings, the deploy hooks, and the recent deliveries.

A webhook secret and a deploy hook's address are shown once, in the answer to the POST
that made them (as API keys are: never stored in the clear, never in a redirect or the
session); the pages that show them are never cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dashboard.forms import DeployHookForm, RepositoryForm
from dashboard.views.base import (
    dashboard_view,
    posted,
    render_page,
    showing_refusals,
    site_with_form,
)
from deployments import git_services
from deployments.selectors import (
    deploy_hook_for,
    deploy_hooks_of,
    recent_deliveries,
    repository_of,
)

if TYPE_CHECKING:
    from core.http import AuthenticatedHttpRequest
    from sites.models import Repository, Site


def git_page(
    request: HttpRequest,
    site: Site,
    repository: Repository | None,
    can_change: bool,
    *,
    form: RepositoryForm | None = None,
    hook_form: DeployHookForm | None = None,
    shown: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The tab, with the forms as given (a refused one with its errors) and `shown`, what
    this answer alone shows: {"secret": the new webhook secret} or {"hook": a new deploy
    hook, "url": its address}."""
    if form is None:
        form = RepositoryForm(repository=repository)
    context = {
        "site": site,
        "tab": "git",
        "repository": repository,
        "webhook_url": git_services.webhook_url(repository) if repository else "",
        "form": form,
        "hook_form": hook_form or DeployHookForm(),
        "hooks": deploy_hooks_of(site) if repository else [],
        "deliveries": recent_deliveries(site),
        "shown": shown or {},
        "can_change": can_change,
    }
    return render_page(request, "dashboard/site_git.html", context, status=status)


@never_cache
@dashboard_view
def repository_detail(request: AuthenticatedHttpRequest, site_id: str) -> HttpResponse:
    """The tab; its POST links the repository, or changes the link."""
    site, can_change = site_with_form(request, site_id, "change")
    repository = repository_of(site)
    form = RepositoryForm(posted(request), repository=repository)
    if request.method == "POST" and form.is_valid():
        with showing_refusals(request, form):
            linked = git_services.repository_link(
                site=site, user=request.user, **form.link_fields()
            )
            if linked.webhook_secret is None:
                messages.success(request, "Repository settings saved.")
                return redirect("dashboard:git", site_id=site.id)
            messages.success(request, "Repository linked. Add its webhook to start building.")
            shown = {"secret": linked.webhook_secret}
            return git_page(request, site, linked.repository, True, shown=shown)
    status = 400 if form.errors else 200
    return git_page(request, site, repository, can_change, form=form, status=status)


@never_cache
@require_POST
@dashboard_view
def repository_secret(request: AuthenticatedHttpRequest, site_id: str) -> HttpResponse:
    """A new webhook secret, shown in this answer only: the old one stops working."""
    site, _ = site_with_form(request, site_id, "change")
    secret = git_services.repository_rotate_secret(site=site, user=request.user)
    messages.success(request, "New secret made; the old one no longer works. Paste it below.")
    return git_page(request, site, repository_of(site), True, shown={"secret": secret})


@require_POST
@dashboard_view
def repository_unlink(request: AuthenticatedHttpRequest, site_id: str) -> HttpResponse:
    site, _ = site_with_form(request, site_id, "change")
    git_services.repository_unlink(site=site, user=request.user)
    messages.success(
        request,
        "Repository unlinked: pushes and deploy hooks build nothing now. Remove the "
        "webhook from its settings too.",
    )
    return redirect("dashboard:git", site_id=site.id)


@never_cache
@require_POST
@dashboard_view
def deploy_hook_create(request: AuthenticatedHttpRequest, site_id: str) -> HttpResponse:
    """A new deploy hook; its address is shown in this answer only."""
    site, _ = site_with_form(request, site_id, "change")
    repository = repository_of(site)
    hook_form = DeployHookForm(request.POST)
    if hook_form.is_valid():
        with showing_refusals(request, hook_form):
            hook, url = git_services.deploy_hook_create(
                site=site, user=request.user, **hook_form.cleaned_data
            )
            messages.success(request, f"Deploy hook “{hook.name}” created.")
            shown = {"hook": hook, "url": url}
            return git_page(request, site, repository, True, shown=shown)
    return git_page(request, site, repository, True, hook_form=hook_form, status=400)


@require_POST
@dashboard_view
def deploy_hook_delete(
    request: AuthenticatedHttpRequest, site_id: str, hook_id: str
) -> HttpResponse:
    hook = deploy_hook_for(request.user, site_id, hook_id, "change")
    git_services.deploy_hook_delete(hook=hook, user=request.user)
    messages.success(request, f"Deploy hook “{hook.name}” deleted; its address builds nothing now.")
    return redirect("dashboard:git", site_id=site_id)
