"""Celery tasks of deployments: housekeeping, and commit statuses sent to forges."""

from celery import Task, shared_task
from django.conf import settings

from deployments import forge, uploads


@shared_task(ignore_result=True)
def discard_expired_uploads() -> int:
    return uploads.discard_expired()


@shared_task(
    name=forge.REPORT_TASK, bind=True, ignore_result=True, max_retries=len(forge.RETRY_DELAYS)
)
def report_commit_status(self: Task, deployment_id: str, status: str) -> None:
    """Report a deployment's status on its commit (sent by deployments.forge); tried
    again later, on the same queue, while the forge does not answer or answers 5xx."""
    delay = forge.report_status(deployment_id, status, attempt=self.request.retries)
    if delay is not None:
        raise self.retry(countdown=delay, queue=settings.SHIPWAY_NOTIFY_QUEUE)
