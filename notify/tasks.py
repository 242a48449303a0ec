"""Celery tasks of notify, on SHIPWAY_NOTIFY_QUEUE: one attempt of one webhook delivery;
the sweep of deliveries whose message was lost."""

from celery import shared_task

from notify import services


@shared_task(name=services.DELIVER_TASK, ignore_result=True)
def deliver_webhook(delivery_id: str, series: int, number: int) -> None:
    """Attempt `number` of the delivery's `series`; the service records it and queues
    the next attempt when this one failed and attempts remain."""
    services.webhook_delivery_attempt(delivery_id=delivery_id, series=series, number=number)


@shared_task(ignore_result=True)
def requeue_lost_deliveries() -> int:
    """Beat: queue again the attempts of pending deliveries whose message was lost."""
    return services.webhook_deliveries_requeue_lost()
