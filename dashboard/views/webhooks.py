"""A team's outgoing webhooks (owners only): list and create (the secret shown once, in
the answer to the POST that made it), edit, delete, each webhook's deliveries with
every attempt, and sending one again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import Team
from dashboard.forms import WebhookForm
from dashboard.views.base import (
    dashboard_view,
    posted,
    remember_team,
    render_page,
    showing_refusals,
)
from notify import selectors, services

DELIVERIES_SHOWN = 25


def _list_page(
    request: HttpRequest,
    team: Team,
    form: WebhookForm,
    created: dict[str, Any] | None = None,
) -> HttpResponse:
    remember_team(request, team.id)
    context = {
        "team": team,
        "webhooks": selectors.webhooks_of(team),
        "form": form,
        "created": created,
    }
    status = 400 if form.errors else 200
    return render_page(request, "dashboard/team_webhooks.html", context, status=status)


@never_cache
@dashboard_view
def webhook_list(request: HttpRequest, team_id: str) -> HttpResponse:
    team = selectors.webhooks_team(request.user, team_id)
    form = WebhookForm(posted(request))
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with showing_refusals(request, form):
            webhook, secret = services.webhook_create(
                team=team,
                url=data["url"],
                events=data["events"],
                secret=data["secret"] or None,
                enabled=data["enabled"],
            )
            created = {"webhook": webhook, "secret": secret}
            form = WebhookForm()
    return _list_page(request, team, form, created)


@never_cache
@dashboard_view
def webhook_detail(request: HttpRequest, team_id: str, webhook_id: str) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, team_id, webhook_id)
    initial = {"url": webhook.url, "events": "\n".join(webhook.events), "enabled": webhook.enabled}
    form = WebhookForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with showing_refusals(request, form):
            services.webhook_update(
                webhook=webhook,
                url=data["url"],
                events=data["events"],
                secret=data["secret"] or None,
                enabled=data["enabled"],
            )
            messages.success(request, "Webhook saved.")
            return redirect("dashboard:webhook", team_id=team_id, webhook_id=webhook.id)
    remember_team(request, team_id)
    context = {
        "team": webhook.team,
        "webhook": webhook,
        "form": form,
        "deliveries": list(selectors.deliveries_of(webhook)[:DELIVERIES_SHOWN]),
    }
    status = 400 if form.errors else 200
    return render_page(request, "dashboard/team_webhook.html", context, status=status)


@require_POST
@dashboard_view
def webhook_delete(request: HttpRequest, team_id: str, webhook_id: str) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, team_id, webhook_id)
    services.webhook_delete(webhook=webhook)
    messages.success(request, f"Webhook to {webhook.url} deleted.")
    return redirect("dashboard:webhooks", team_id=team_id)


@require_POST
@dashboard_view
def delivery_redeliver(
    request: HttpRequest, team_id: str, webhook_id: str, delivery_id: str
) -> HttpResponse:
    delivery = selectors.delivery_for(request.user, team_id, webhook_id, delivery_id)
    services.webhook_delivery_redeliver(delivery=delivery)
    messages.success(request, "Delivery queued to be sent again.")
    return redirect("dashboard:webhook", team_id=team_id, webhook_id=webhook_id)
