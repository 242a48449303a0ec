"""REST API for a team's outgoing webhooks and their deliveries (owners only: see
notify/selectors.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.viewsets import ApiViewSet
from core.api.fields import StrictBooleanField, StrictCharField
from notify import patterns, selectors, services
from notify.models import Webhook, WebhookDelivery


class WebhookSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    teamId = serializers.CharField(source="team_id", read_only=True)
    url = StrictCharField(max_length=services.MAX_URL_LENGTH)
    events = serializers.ListField(
        child=StrictCharField(max_length=patterns.MAX_PATTERN_LENGTH),
        max_length=patterns.MAX_PATTERNS,
    )
    enabled = StrictBooleanField(required=False, default=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


class WebhookCreateSerializer(WebhookSerializer):
    secret = StrictCharField(
        required=False,
        max_length=services.MAX_SECRET_LENGTH,
        help_text="Signs every delivery; made at random when left out. Shown only in "
        "the answer to this request.",
    )


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True)


class WebhookUpdateSerializer(serializers.Serializer):
    url = StrictCharField(required=False, max_length=services.MAX_URL_LENGTH)
    events = serializers.ListField(
        required=False,
        child=StrictCharField(max_length=patterns.MAX_PATTERN_LENGTH),
        max_length=patterns.MAX_PATTERNS,
    )
    secret = StrictCharField(required=False, max_length=services.MAX_SECRET_LENGTH)
    enabled = StrictBooleanField(required=False)


class AttemptSerializer(serializers.Serializer):
    series = serializers.IntegerField(read_only=True)
    number = serializers.IntegerField(read_only=True)
    status = serializers.CharField(source="outcome", read_only=True)
    responseStatus = serializers.IntegerField(
        source="response_status", read_only=True, allow_null=True
    )
    durationMs = serializers.IntegerField(source="duration_ms", read_only=True)
    error = serializers.CharField(read_only=True)
    startedAt = serializers.DateTimeField(source="started_at", read_only=True)


class DeliverySerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    event = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    attempts = serializers.IntegerField(read_only=True)
    series = serializers.IntegerField(read_only=True)
    responseStatus = serializers.IntegerField(
        source="response_status", read_only=True, allow_null=True
    )
    durationMs = serializers.IntegerField(source="duration_ms", read_only=True, allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    lastAttemptAt = serializers.DateTimeField(
        source="last_attempt_at", read_only=True, allow_null=True
    )
    nextAttemptAt = serializers.DateTimeField(
        source="next_attempt_at", read_only=True, allow_null=True
    )
    attemptLog = AttemptSerializer(source="attempt_log.all", many=True, read_only=True)


class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """A team's outgoing webhooks (docs/api.md, "Outgoing webhooks"): owners only."""

    envelope_key = "webhooks"
    serializer_class = WebhookSerializer
    lookup_url_kwarg = "webhook_id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Webhook]:
        team = selectors.webhooks_team(self.request.user, self.kwargs["team_id"])
        return selectors.webhooks_of(team)

    def get_object(self) -> Webhook:
        return selectors.webhook_for(
            self.request.user, self.kwargs["team_id"], self.kwargs["webhook_id"]
        )

    @extend_schema(request=WebhookCreateSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = selectors.webhooks_team(request.user, self.kwargs["team_id"])
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        webhook, secret = services.webhook_create(
            team=team,
            url=data["url"],
            events=data["events"],
            secret=data.get("secret"),
            enabled=data["enabled"],
        )
        answer = WebhookSerializer(webhook).data | {"secret": secret}
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookUpdateSerializer, responses=WebhookSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        webhook = self.get_object()
        serializer = WebhookUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        webhook = services.webhook_update(
            webhook=webhook,
            url=data.get("url"),
            events=data.get("events"),
            secret=data.get("secret"),
            enabled=data.get("enabled"),
        )
        return Response(WebhookSerializer(webhook).data)

    def perform_destroy(self, instance: Webhook) -> None:
        services.webhook_delete(webhook=instance)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"], url_path="deliveries", envelope_key="deliveries")
    def deliveries(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The webhook's deliveries, newest first, each with every attempt."""
        page = self.paginate_queryset(selectors.deliveries_of(self.get_object()))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[^/]+)/redeliver",
    )
    def redeliver(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send the delivery again: a new series of attempts, same id and body."""
        delivery = selectors.delivery_for(
            request.user, kwargs["team_id"], kwargs["webhook_id"], kwargs["delivery_id"]
        )
        delivery = services.webhook_delivery_redeliver(delivery=delivery)
        fresh = selectors.deliveries_of(delivery.webhook).get(pk=delivery.pk)
        return Response(_delivery(fresh), status=status.HTTP_202_ACCEPTED)


def _delivery(delivery: WebhookDelivery) -> dict[str, Any]:
    return dict(DeliverySerializer(delivery).data)
