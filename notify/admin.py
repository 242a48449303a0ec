"""Webhooks, deliveries and attempts in the admin: lists to read, nothing to change
(writes go through the API and the dashboard, which call notify.services)."""

from django.contrib import admin

from core.adminwrites import RecordsAdmin
from notify.models import Webhook, WebhookAttempt, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(RecordsAdmin):
    list_display = ["id", "team", "url", "enabled", "created_at", "updated_at"]
    list_filter = ["enabled", "created_at"]
    search_fields = ["id", "team__id", "team__name", "url"]
    list_select_related = ["team"]
    exclude = ["encrypted_secret"]  # encrypted, and never shown again


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RecordsAdmin):
    list_display = [
        "id",
        "webhook",
        "event",
        "status",
        "series",
        "attempts",
        "response_status",
        "duration_ms",
        "created_at",
        "last_attempt_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "webhook__id", "webhook__team__id", "event"]
    list_select_related = ["webhook"]
    date_hierarchy = "created_at"


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(RecordsAdmin):
    list_display = [
        "delivery",
        "series",
        "number",
        "outcome",
        "response_status",
        "duration_ms",
        "error",
        "started_at",
    ]
    list_filter = ["outcome", "started_at"]
    search_fields = ["delivery__id", "delivery__webhook__id"]
    list_select_related = ["delivery"]
