"""Celery tasks: thin wrappers that hand over to the director and the reaper."""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings

from builds import director, reaper
from builds.cache import remove_build_cache as remove_cache


@shared_task(bind=True, acks_late=True, ignore_result=True)
def build_deployment(self: Task, deployment_id: str) -> None:
    """Build one deployment (a redelivered message for a claimed build does nothing)."""
    director.build(deployment_id, worker=self.request.hostname or "")


@shared_task(ignore_result=True)
def reap_stuck_deployments() -> None:
    reaper.reap()


@shared_task(ignore_result=True)
def remove_build_cache(cache_id: str) -> None:
    """A deleted site's build cache (sent by name from sites.services.site_delete)."""
    remove_cache(cache_id)


def enqueue_build(deployment_id: str) -> None:
    """Queue a deployment's build on the builds queue (named in settings, read now)."""
    build_deployment.apply_async((deployment_id,), queue=settings.SHIPWAY_BUILD_QUEUE)
