"""Celery tasks of deployments: housekeeping (expired uploads, retention, purges of
deleted files), and commit statuses sent to forges."""

from celery import Task, shared_task
from django.conf import settings

from deployments import forge, services, uploads


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


@shared_task(ignore_result=True)
def cleanup_deployments() -> int:
    """Retention on every site (beat, every SHIPWAY_CLEANUP_SECONDS)."""
    return len(services.deployment_cleanup())


@shared_task(
    name=services.PURGE_TASK, bind=True, ignore_result=True, max_retries=services.PURGE_MAX_RETRIES
)
def purge_stored(self: Task, purge_id: str) -> None:
    """Empty a purge's prefixes; while storage fails or still lists files, tried again
    with backoff on the maintenance queue (then the cleanup sends it again)."""
    if not services.purge_run(purge_id=purge_id):
        raise self.retry(
            countdown=services.purge_delay(self.request.retries),
            queue=settings.SHIPWAY_MAINTENANCE_QUEUE,
        )
