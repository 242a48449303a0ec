"""Every write to webhooks, their deliveries and attempts.

A delivery is made (by notify/matching.py) for each webhook whose patterns match an
event the platform sent, and queued on SHIPWAY_NOTIFY_QUEUE once its row is committed.
Each message names the attempt it is for (delivery, series, number): a message for an
attempt already made, or of a series that a redelivery replaced, does nothing, so a
message the broker hands out twice never sends twice.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import audit
from accounts.models import Team
from core import outbound
from core.errors import Invalid, TooMany
from notify import patterns, signing
from notify.models import (
    AttemptOutcome,
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

log = structlog.get_logger(__name__)

# notify/tasks.py registers the task under this name.
DELIVER_TASK = "notify.tasks.deliver_webhook"
MAX_URL_LENGTH = 2048
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 256
RESPONSE_LIMIT = 16 * 1024  # bytes of a receiver's answer read
ERROR_EXCERPT = 500  # characters of an error (or of a refusing answer's body) recorded
LOST_AFTER = 300  # seconds past due before a pending delivery's message counts as lost
LOST_PER_SWEEP = 1000
ATTEMPTS_KEPT = 50  # attempts kept per delivery, over all its series (the newest)
URL_SUBJECT = "The webhook's address"
URL_VERB = "deliver webhooks to"


# -- Checks ----------------------------------------------------------------------------


def _checked_url(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise Invalid({"url": f"Use at most {MAX_URL_LENGTH} characters."})
    parts = urlsplit(url)
    if parts.scheme not in outbound.DEFAULT_PORTS or not parts.netloc:
        raise Invalid({"url": "Give an http:// or https:// address."})
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise Invalid({"url": "The address may not contain spaces or control characters."})
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            {"url": "Leave credentials out of the address: receivers check the signature."}
        )
    try:
        outbound.check_url(url, subject=URL_SUBJECT, verb=URL_VERB)
    except outbound.OutboundRefused as exc:
        raise Invalid({"url": str(exc)}) from None
    return url


def _checked_events(events: Any) -> list[str]:
    try:
        return patterns.check(events)
    except patterns.PatternError as exc:
        raise Invalid({"events": str(exc)}) from None


def _checked_secret(secret: str) -> str:
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise Invalid({"secret": f"Use {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters."})
    if any(c.isspace() or ord(c) < 32 for c in secret):
        raise Invalid({"secret": "The secret may not contain spaces or control characters."})
    return secret


def _audited(webhook: Webhook) -> dict[str, Any]:
    """What an entry shows of a webhook: the address's host only (its path or query may
    be the receiver's secret, and developers read the log), the secret as set."""
    return {
        "host": urlsplit(webhook.url).hostname or "",
        "url": webhook.url,
        "events": list(webhook.events),
        "enabled": webhook.enabled,
        "secret": webhook.encrypted_secret,
    }


_AUDIT_SECRET = ("url", "secret")


# -- Webhooks --------------------------------------------------------------------------


def webhook_create(
    *,
    team: Team,
    url: str,
    events: list[str],
    secret: str | None = None,
    enabled: bool = True,
) -> tuple[Webhook, str]:
    """Add a webhook to the team; returns it and its secret (the one given, or a new
    random one), which is stored encrypted and never shown again."""
    url = _checked_url(url)
    events = _checked_events(events)
    secret = _checked_secret(secret) if secret is not None else secrets.token_hex(32)
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()  # serialize the count
        if Webhook.objects.filter(team=team).count() >= settings.SHIPWAY_WEBHOOKS_PER_TEAM:
            raise TooMany(
                f"A team has at most {settings.SHIPWAY_WEBHOOKS_PER_TEAM} webhooks; "
                "delete one first."
            )
        webhook = Webhook(team=team, url=url, events=events, enabled=enabled)
        webhook.secret = secret
        webhook.save(force_insert=True)
        shown = audit.changes(
            dict.fromkeys(_audited(webhook)), _audited(webhook), secret=_AUDIT_SECRET
        )
        audit.record(
            action="webhook.create",
            team_id=team.id,
            resource_id=webhook.id,
            data={name: new for name, (_old, new) in shown.items()},
        )
    log.info("webhook.created", team_id=team.id, webhook_id=webhook.id)
    return webhook, secret


@transaction.atomic
def webhook_update(
    *,
    webhook: Webhook,
    url: str | None = None,
    events: list[str] | None = None,
    secret: str | None = None,
    enabled: bool | None = None,
) -> Webhook:
    """Change a webhook's address, events, secret or whether it is enabled (None: left
    as it is). Deliveries already made keep their body; their next attempts are signed
    with the new secret and sent to the new address."""
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    before = _audited(webhook)
    if url is not None:
        webhook.url = _checked_url(url)
    if events is not None:
        webhook.events = _checked_events(events)
    if secret is not None:
        webhook.secret = _checked_secret(secret)
    if enabled is not None:
        webhook.enabled = enabled
    webhook.save()
    audit.record(
        action="webhook.update",
        team_id=webhook.team_id,
        resource_id=webhook.id,
        data=audit.changes(before, _audited(webhook), secret=_AUDIT_SECRET),
    )
    log.info("webhook.updated", team_id=webhook.team_id, webhook_id=webhook.id)
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    """Remove the webhook with its deliveries and their attempts (queued attempts then
    find nothing to send)."""
    team_id, webhook_id = webhook.team_id, webhook.id
    host = _audited(webhook)["host"]
    with transaction.atomic():
        webhook.delete()
        audit.record(
            action="webhook.delete", team_id=team_id, resource_id=webhook_id, data={"host": host}
        )
    log.info("webhook.deleted", team_id=team_id, webhook_id=webhook_id)


# -- Deliveries ------------------------------------------------------------------------


def webhook_delivery_create(
    *, webhook_id: str, event: str, timestamp: str, payload: dict[str, Any]
) -> WebhookDelivery:
    """Record one event for one webhook and queue its first attempt (after commit).
    Only the newest SHIPWAY_WEBHOOK_KEEP_DELIVERIES of the webhook's deliveries stay."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            webhook_id=webhook_id, event=event, body=signing.body(event, timestamp, payload)
        )
        keep = settings.SHIPWAY_WEBHOOK_KEEP_DELIVERIES
        older = list(
            WebhookDelivery.objects.filter(webhook_id=webhook_id)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[keep : keep + 1000]
        )
        if older:
            WebhookDelivery.objects.filter(pk__in=older).delete()
        _queue_later(delivery.id, delivery.series, 1)
    log.info("webhook.delivery_created", webhook_id=webhook_id, delivery_id=delivery.id)
    return delivery


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery again: a new series of attempts (retried as the first was),
    with the same delivery id and body, signed with the webhook's secret of now. A
    pending delivery may be sent again too (one whose worker was lost would otherwise
    stay pending): the rest of its current series is dropped, since every queued
    message names its series, and an attempt already under way is recorded under it."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("webhook")
            .get(pk=delivery.pk)
        )
        series_before = delivery.series
        delivery.series += 1
        delivery.attempts = 0
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.save()
        _queue_later(delivery.id, delivery.series, 1)
        audit.record(
            action="webhook_delivery.redeliver",
            team_id=delivery.webhook.team_id,
            resource_id=delivery.id,
            data={
                "webhookId": delivery.webhook_id,
                "event": delivery.event,
                "series": [series_before, delivery.series],
            },
        )
    log.info(
        "webhook.delivery_redelivered",
        webhook_id=delivery.webhook_id,
        delivery_id=delivery.id,
        series=delivery.series,
    )
    return delivery


def _queue_later(delivery_id: str, series: int, number: int, delay: float | None = None) -> None:
    # robust: a broker that is down loses the attempt (the delivery stays pending, and the
    # sweep, webhook_deliveries_requeue_lost, queues it again), never the write.
    transaction.on_commit(lambda: queue_attempt(delivery_id, series, number, delay), robust=True)


def queue_attempt(delivery_id: str, series: int, number: int, delay: float | None = None) -> None:
    """Send the message for one attempt to SHIPWAY_NOTIFY_QUEUE (after `delay` seconds)."""
    current_app.signature(
        DELIVER_TASK,
        args=(delivery_id, series, number),
        queue=settings.SHIPWAY_NOTIFY_QUEUE,
        ignore_result=True,
    ).apply_async(countdown=delay or 0)


def webhook_deliveries_requeue_lost() -> int:
    """Queue the next attempt again of each pending delivery whose message was lost (a
    broker that lost its queue, a worker lost in the middle of an attempt): one that
    was due (its next attempt, else its last attempt's start, else its creation) more
    than LOST_AFTER seconds and a timeout ago. A lost last attempt fails the delivery.
    A message that was only late finds its attempt made and does nothing. Returns how
    many were queued or failed."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=LOST_AFTER + settings.SHIPWAY_WEBHOOK_TIMEOUT_SECONDS)
    lost = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
        .alias(due=Coalesce("next_attempt_at", "last_attempt_at", "created_at"))
        .filter(due__lt=cutoff)
        .values_list("id", "series", "attempts")[:LOST_PER_SWEEP]
    )
    for delivery_id, series, attempts in lost:
        changed = WebhookDelivery.objects.filter(
            pk=delivery_id, series=series, attempts=attempts, status=DeliveryStatus.PENDING
        )
        if attempts >= settings.SHIPWAY_WEBHOOK_MAX_ATTEMPTS:
            changed.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        elif changed.update(next_attempt_at=now):  # due now: the next sweep waits again
            queue_attempt(delivery_id, series, attempts + 1)
        log.warning(
            "webhook.delivery_lost", delivery_id=delivery_id, series=series, attempts=attempts
        )
    return len(lost)


def webhook_delivery_attempt(*, delivery_id: str, series: int, number: int) -> float | None:
    """Make attempt `number` of the delivery's `series` and record it: POST the body,
    signed, within SHIPWAY_WEBHOOK_TIMEOUT_SECONDS. When it failed and attempts remain,
    the next one is queued with its backoff once the record commits, and its delay is
    returned; else None. Nothing is sent if the delivery is gone, was sent again since (another
    series), or this attempt was made already."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if (
            delivery is None
            or delivery.series != series
            or delivery.status != DeliveryStatus.PENDING
            or delivery.attempts != number - 1
        ):
            return None
        started_at = timezone.now()
        delivery.attempts = number
        delivery.last_attempt_at = started_at
        delivery.next_attempt_at = None  # under way: due again only once recorded
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    webhook = delivery.webhook
    where = {
        "webhook_id": webhook.id,
        "delivery_id": delivery.id,
        "series": series,
        "attempt": number,
    }
    raw = delivery.body.encode()
    status_code: int | None = None
    final = False
    started = time.monotonic()
    if not webhook.enabled:
        error, final = "The webhook is disabled.", True
    else:
        try:
            answer = outbound.request(
                "POST",
                webhook.url,
                body=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Shipway-Event": delivery.event,
                    "X-Shipway-Delivery": delivery.id,
                    "X-Shipway-Signature": signing.signature(webhook.secret, raw),
                },
                timeout=settings.SHIPWAY_WEBHOOK_TIMEOUT_SECONDS,
                max_body=RESPONSE_LIMIT,
                subject=URL_SUBJECT,
                verb=URL_VERB,
            )
        except outbound.OutboundRefused as exc:  # the address resolves elsewhere now
            error, final = str(exc), True
        except outbound.OutboundFailed as exc:
            error = f"No answer: {exc}."
        else:
            status_code = answer.status
            said = answer.body[:ERROR_EXCERPT].decode(errors="replace")
            error = "" if 200 <= answer.status < 300 else f"HTTP {answer.status}: {said}"
    duration_ms = round((time.monotonic() - started) * 1000)
    delivered = status_code is not None and 200 <= status_code < 300
    retry = not delivered and not final and number < settings.SHIPWAY_WEBHOOK_MAX_ATTEMPTS
    delay = (
        signing.backoff(number, base=settings.SHIPWAY_WEBHOOK_BACKOFF_SECONDS) if retry else None
    )
    status = (
        DeliveryStatus.DELIVERED
        if delivered
        else DeliveryStatus.PENDING
        if retry
        else DeliveryStatus.FAILED
    )
    _record(delivery, series, number, status, status_code, duration_ms, error, started_at, delay)
    log.info(
        "webhook.attempted",
        outcome=status,
        status_code=status_code,
        duration_ms=duration_ms,
        retry_in=delay,
        **where,
    )
    return delay


def _record(
    delivery: WebhookDelivery,
    series: int,
    number: int,
    status: str,
    status_code: int | None,
    duration_ms: int,
    error: str,
    started_at: Any,
    delay: float | None,
) -> None:
    with transaction.atomic():
        if not WebhookDelivery.objects.filter(pk=delivery.pk).exists():
            return  # deleted meanwhile (with its webhook, or trimmed)
        WebhookAttempt.objects.create(
            delivery_id=delivery.pk,
            series=series,
            number=number,
            outcome=AttemptOutcome.DELIVERED
            if status == DeliveryStatus.DELIVERED
            else AttemptOutcome.FAILED,
            response_status=status_code,
            duration_ms=duration_ms,
            error=error[:ERROR_EXCERPT],
            started_at=started_at,
        )
        old = list(
            WebhookAttempt.objects.filter(delivery_id=delivery.pk)
            .order_by("-series", "-number", "-id")
            .values_list("id", flat=True)[ATTEMPTS_KEPT : ATTEMPTS_KEPT + 1000]
        )
        if old:
            WebhookAttempt.objects.filter(pk__in=old).delete()
        next_at = timezone.now() + timedelta(seconds=delay) if delay is not None else None
        # Only the series this attempt belongs to (a redelivery meanwhile starts afresh).
        WebhookDelivery.objects.filter(pk=delivery.pk, series=series).update(
            status=status,
            response_status=status_code,
            duration_ms=duration_ms,
            next_attempt_at=next_at,
        )
        if delay is not None:
            _queue_later(delivery.pk, series, number + 1, delay)
