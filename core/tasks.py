"""Celery tasks of core: sending mail (core/mail.py)."""

from celery import Task, shared_task
from django.conf import settings

from core import mail


@shared_task(name=mail.SEND_TASK, bind=True, ignore_result=True, max_retries=len(mail.RETRY_DELAYS))
def send_mail(self: Task, message: mail.Mail) -> None:
    """Send one mail; tried again later, on the same queue, while the SMTP server fails
    for a reason that may pass (no answer, a dropped connection, a 4xx)."""
    delay = mail.send(message, attempt=self.request.retries)
    if delay is not None:
        raise self.retry(countdown=delay, queue=settings.SHIPWAY_NOTIFY_QUEUE)
