"""Periodic housekeeping for deployments."""

from celery import shared_task

from deployments import uploads


@shared_task(ignore_result=True)
def discard_expired_uploads() -> int:
    return uploads.discard_expired()
