"""Celery tasks: thin wrappers that hand over to the director and the reaper. The build
and the cache removal are registered under the names their senders own and send them by
(deployments.services.BUILD_TASK, sites.services.REMOVE_BUILD_CACHE_TASK)."""

from __future__ import annotations

from typing import Any

import requests
import structlog
from celery import Task, shared_task
from celery.signals import worker_ready
from docker.errors import DockerException

from builds import director, reaper
from builds.cache import remove_build_cache as remove_cache
from deployments.services import BUILD_TASK
from sites.services import REMOVE_BUILD_CACHE_TASK

log = structlog.get_logger(__name__)


@shared_task(name=BUILD_TASK, bind=True, acks_late=True, ignore_result=True)
def build_deployment(self: Task, deployment_id: str) -> None:
    """Build one deployment (a redelivered message for a claimed build does nothing)."""
    director.build(deployment_id, worker=self.request.hostname or "")


@shared_task(ignore_result=True)
def reap_stuck_deployments() -> None:
    reaper.reap()


@worker_ready.connect
def sweep_when_ready(**kwargs: Any) -> None:
    """A worker that starts (again, after a crash) removes what its machine's dead builds
    left; the periodic reaper reaches only the engine of the worker that runs it."""
    log.info("worker.swept", **reaper.sweep_machine())


@shared_task(
    name=REMOVE_BUILD_CACHE_TASK,
    ignore_result=True,
    autoretry_for=(DockerException, requests.RequestException),
    retry_backoff=10,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
)
def remove_build_cache(cache_id: str) -> None:
    """A deleted site's build cache (sent by name from sites.services.site_delete, to the
    maintenance queue); tried again with backoff while the Docker engine fails."""
    remove_cache(cache_id)
