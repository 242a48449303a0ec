"""A team's outgoing webhooks, their deliveries and every attempt at each delivery."""

from __future__ import annotations

from django.db import models

from core.ids import new_id
from sites import crypto


class Webhook(models.Model):
    """An address that receives the team's events whose names match one of `events`
    (realtime event names, `*` standing for one segment), signed with `secret`.

    The secret is encrypted at rest (sites/crypto.py, as variables are) and shown once,
    in the answer that created the webhook.
    """

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2048)
    events = models.JSONField(default=list)
    encrypted_secret = models.TextField(editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.team_id}: {self.url}"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.encrypted_secret)

    @secret.setter
    def secret(self, plain: str) -> None:
        self.encrypted_secret = crypto.encrypt(plain)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One event sent to one webhook: the exact body (signed again at each attempt, with
    the secret of the moment), where its current attempt series is, and when to try
    next. `series` counts the times it was sent by hand again (redeliver): each starts
    a new series of attempts, under the same delivery id and body."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=255)
    body = models.TextField(help_text="The JSON body, exactly as sent and signed.")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    series = models.PositiveIntegerField(default=1)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts in this series.")
    response_status = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["webhook", "-created_at"])]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.webhook_id}: {self.event} ({self.status})"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # another answer, no answer in time, or a refused address


class WebhookAttempt(models.Model):
    """One POST of a delivery: its answer's status (none when no answer came), how long
    it took, and the start of the error or of the answer's body."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    series = models.PositiveIntegerField()
    number = models.PositiveIntegerField(help_text="1 for the first attempt of its series.")
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=512, blank=True)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["series", "number", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.series}.{self.number}: {self.outcome}"
