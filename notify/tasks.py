"""Celery tasks of notify: one attempt of one webhook delivery, on SHIPWAY_NOTIFY_QUEUE."""

from celery import shared_task

from notify import services


@shared_task(name=services.DELIVER_TASK, ignore_result=True)
def deliver_webhook(delivery_id: str, series: int, number: int) -> None:
    """Attempt `number` of the delivery's `series`; the service records it and queues
    the next attempt when this one failed and attempts remain."""
    services.webhook_delivery_attempt(delivery_id=delivery_id, series=series, number=number)
