"""Reads: a team's webhooks and deliveries, with the permission check.

Webhooks are the team owners' (action `manage`): their addresses may carry tokens and
their deliveries carry every site's events. Developers and viewers see the team but
are refused its webhooks (403); anyone outside the team gets 404.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet

from accounts.models import Team
from accounts.selectors import team_for
from core.errors import NotFound
from notify.models import Webhook, WebhookAttempt, WebhookDelivery

ACTION = "manage"


def webhooks_team(user: User | AnonymousUser, team_id: str) -> Team:
    """The team, if `user` may manage its webhooks (team_for's refusals)."""
    return team_for(user, team_id, ACTION)


def webhooks_of(team: Team) -> QuerySet[Webhook]:
    """The team's webhooks, oldest first (the API's list and the dashboard's)."""
    return Webhook.objects.filter(team=team).order_by("created_at", "id")


def webhook_for(user: User | AnonymousUser, team_id: str, webhook_id: str) -> Webhook:
    team = webhooks_team(user, team_id)
    webhook = Webhook.objects.filter(team=team, pk=webhook_id).first()
    if webhook is None:
        raise NotFound(f"Webhook '{webhook_id}' not found.")
    webhook.team = team
    return webhook


def deliveries_of(webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """The webhook's deliveries, newest first, each with its attempts."""
    return webhook.deliveries.prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("series", "number", "id"))
    ).order_by("-created_at", "-id")


def delivery_for(
    user: User | AnonymousUser, team_id: str, webhook_id: str, delivery_id: str
) -> WebhookDelivery:
    webhook = webhook_for(user, team_id, webhook_id)
    delivery = webhook.deliveries.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"Delivery '{delivery_id}' not found.")
    delivery.webhook = webhook
    return delivery
