"""Deployments: the page with its live log, the upload form (no script), the git form,
and the buttons (activate, cancel, redeploy, delete), each one service call."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import channels
from dashboard import ansi
from dashboard.forms import GitDeployForm, RedeployForm, UploadForm
from dashboard.views.base import (
    dashboard_view,
    redirect_back,
    remember_team,
    render_page,
    showing_refusals,
)
from dashboard.views.sites import site_page
from deployments import services as deployment_services
from deployments.errors import MESSAGES
from deployments.models import Deployment, RuntimeState, Status
from deployments.selectors import deployment_for, log_text, server_log_from, server_of
from sites.models import Adapter
from sites.selectors import can, site_for

if TYPE_CHECKING:
    from core.http import AuthenticatedHttpRequest

# The page shows at most this much of a log (the end of it); the full log is a link.
LOG_TAIL = 200_000


def _page_of(deployment: Deployment) -> str:
    return reverse("dashboard:deployment", args=[deployment.site_id, deployment.id])


def _log_view(start: int, text: str) -> dict[str, object]:
    """What the page needs of a log: its HTML, the offsets it covers (in characters, as
    the log's offsets count) and the colour state its live part continues with."""
    log_html, state = ansi.to_html(text)
    return {
        "html": log_html,
        "start": start,
        "end": start + len(text),
        "state_json": json.dumps(state.as_dict()),
    }


def _runtime(deployment: Deployment) -> dict[str, object]:
    """The server of an ssr deployment as the page shows it: its state ("stopped" before
    it first starts: no row yet) and the end of its bounded log."""
    server = server_of(deployment)
    size = server.log_size if server else 0
    start, text = server_log_from(deployment, max(0, size - LOG_TAIL))
    state = server.state if server else RuntimeState.STOPPED
    return {
        "state": state,
        "started_at": server.started_at if server else None,
        "last_request_at": server.last_request_at if server else None,
        "error": server.error if server and state == RuntimeState.FAILED else "",
        "log": _log_view(start, text),
    }


@dashboard_view
def deployment_detail(request: HttpRequest, site_id: str, deployment_id: str) -> HttpResponse:
    deployment = deployment_for(request.user, site_id, deployment_id, "view")
    site = deployment.site
    remember_team(request, site.team_id)
    start = max(0, deployment.log_size - LOG_TAIL)
    log = _log_view(start, log_text(deployment, start))
    runtime = _runtime(deployment) if deployment.adapter == Adapter.SSR else None
    base = f"/v1/sites/{site.id}/deployments/{deployment.id}"
    feeds = [
        channels.deployment_logs(site.id, deployment.id),
        channels.deployment(site.id, deployment.id),
    ]
    if runtime:
        feeds.append(channels.deployment_runtime_logs(site.id, deployment.id))
    context = {
        "site": site,
        "deployment": deployment,
        "tab": "deployments",
        "log": log,
        "runtime": runtime,
        "error_sentences": {code.value: sentence for code, sentence in MESSAGES.items()},
        "statuses": [s.value for s in Status],
        "can_change": can(request.user, site, "change"),
        "redeploy_form": RedeployForm(),
        "api": {
            "deployment": base,
            "logs": f"{base}/logs",
            "runtime_logs": f"{base}/logs?type=runtime",
            "source": f"{base}/download?type=source",
            "output": f"{base}/download?type=output",
        },
        # What the page's feed subscribes to; each log names its own channel
        # (data-log-channel), which static/dashboard/log.js follows.
        "channels": feeds,
        "log_channels": {
            "build": feeds[0],
            "runtime": channels.deployment_runtime_logs(site.id, deployment.id),
        },
    }
    return render_page(request, "dashboard/deployment.html", context)


def _create_and_open(
    request: HttpRequest,
    form: forms.Form,
    create: Callable[[], Deployment],
    done: str,
    aliases: dict[str, str] | None = None,
) -> HttpResponse | None:
    """Run `create` (a service call reading the valid `form`) and open the new
    deployment's page with `done` flashed; None when the form or the service refused
    (the reasons are then on `form`)."""
    if form.is_valid():
        with showing_refusals(request, form, aliases):
            deployment = create()
            messages.success(request, done)
            return redirect(_page_of(deployment))
    return None


def _button(
    request: HttpRequest,
    site_id: str,
    deployment_id: str,
    press: Callable[[Deployment], object],
    done: str,
) -> HttpResponse:
    """A deployment's button: `press` (one service call), `done` flashed (with `{id}`)
    or the refusal instead, then back to the page the button was on."""
    deployment = deployment_for(request.user, site_id, deployment_id, "change")
    with showing_refusals(request):
        press(deployment)
        messages.success(request, done.format(id=deployment.id))
    return redirect_back(request, _page_of(deployment))


@require_POST
@dashboard_view
def deployment_upload(request: AuthenticatedHttpRequest, site_id: str) -> HttpResponse:
    """The upload box without a script: one multipart POST, then the deployment's page."""
    site = site_for(request.user, site_id, "change")
    form = UploadForm(request.POST, request.FILES)
    opened = _create_and_open(
        request,
        form,
        lambda: deployment_services.deployment_create_from_upload(
            site=site,
            archive=form.cleaned_data["code"],
            activate=form.cleaned_data["activate"],
            user=request.user,
        ),
        "Upload received; the build is queued.",
    )
    return opened or site_page(request, site, upload_form=form, status=400)


@require_POST
@dashboard_view
def deployment_from_git(request: AuthenticatedHttpRequest, site_id: str) -> HttpResponse:
    """The git form: a deployment of a branch, tag or commit, then its page."""
    site = site_for(request.user, site_id, "change")
    form = GitDeployForm(request.POST)
    opened = _create_and_open(
        request,
        form,
        lambda: deployment_services.deployment_create_from_vcs(
            site=site,
            repository=form.cleaned_data["repository"],
            reference=form.cleaned_data["reference"],
            reference_type=form.cleaned_data["reference_type"],
            activate=form.cleaned_data["activate"],
            user=request.user,
        ),
        "Deployment queued; the build fetches the repository.",
        aliases={"type": "reference_type"},
    )
    return opened or site_page(request, site, git_form=form, status=400)


@require_POST
@dashboard_view
def deployment_activate(request: HttpRequest, site_id: str, deployment_id: str) -> HttpResponse:
    """Serve this deployment on the site's domains: a rollback, or a roll forward."""
    return _button(
        request,
        site_id,
        deployment_id,
        lambda deployment: deployment_services.deployment_activate(deployment=deployment),
        "Deployment {id} is now live.",
    )


@require_POST
@dashboard_view
def deployment_cancel(request: HttpRequest, site_id: str, deployment_id: str) -> HttpResponse:
    return _button(
        request,
        site_id,
        deployment_id,
        lambda deployment: deployment_services.deployment_cancel(deployment=deployment),
        "Deployment {id} was canceled.",
    )


@require_POST
@dashboard_view
def deployment_redeploy(
    request: AuthenticatedHttpRequest, site_id: str, deployment_id: str
) -> HttpResponse:
    """A new deployment from the same source; its page follows the build."""
    deployment = deployment_for(request.user, site_id, deployment_id, "change")
    form = RedeployForm(request.POST)
    use_cache = not (form.is_valid() and form.cleaned_data["clear_cache"])
    try:
        with showing_refusals(request):
            new = deployment_services.deployment_redeploy(
                deployment=deployment, use_cache=use_cache, user=request.user
            )
            messages.success(request, f"Redeploying {deployment.id} as {new.id}.")
            return redirect(_page_of(new))
    except FileNotFoundError:
        messages.error(request, "This deployment's source is no longer stored; upload it again.")
    return redirect_back(request, _page_of(deployment))


@require_POST
@dashboard_view
def deployment_delete(request: HttpRequest, site_id: str, deployment_id: str) -> HttpResponse:
    deployment = deployment_for(request.user, site_id, deployment_id, "change")
    with showing_refusals(request):
        deployment_services.deployment_delete(deployment=deployment)
        messages.success(request, f"Deployment {deployment.id} was deleted.")
        return redirect("dashboard:site", site_id=site_id)
    return redirect(_page_of(deployment))
