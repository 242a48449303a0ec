"""Celery tasks: thin wrappers around the manager, registered under the names their
senders use (deployments.servers.START_TASK from the edge and activations,
deployments.services' RETIRE_SERVER_TASK and REMOVE_SERVERS_TASK)."""

from __future__ import annotations

from celery import shared_task

from deployments.servers import START_TASK
from deployments.services import REMOVE_SERVERS_TASK, RETIRE_SERVER_TASK
from runtime import manager
from runtime.schedulers.base import SchedulerError


@shared_task(name=START_TASK, ignore_result=True)
def start_server(deployment_id: str) -> None:
    manager.start_server(deployment_id)


@shared_task(name=RETIRE_SERVER_TASK, ignore_result=True)
def retire_server(deployment_id: str) -> None:
    manager.retire_server(deployment_id)


@shared_task(
    name=REMOVE_SERVERS_TASK,
    ignore_result=True,
    autoretry_for=(SchedulerError,),
    retry_backoff=10,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
)
def remove_servers(deployment_ids: list[str]) -> None:
    """Deleted deployments' servers and files (maintenance queue); tried again with
    backoff while the scheduler fails (the sweeper removes what is still left)."""
    manager.remove_servers(deployment_ids)


@shared_task(ignore_result=True)
def sweep_servers() -> None:
    manager.sweep()
