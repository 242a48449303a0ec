"""Celery tasks: thin wrappers around the manager, registered under the names their
senders use (deployments.servers.START_TASK from the edge and activations,
deployments.services' RETIRE_SERVER_TASK and REMOVE_SERVERS_TASK)."""

from __future__ import annotations

from celery import shared_task

from deployments.servers import START_TASK
from deployments.services import REMOVE_SERVERS_TASK, RETIRE_SERVER_TASK
from runtime import manager


@shared_task(name=START_TASK, ignore_result=True)
def start_server(deployment_id: str) -> None:
    manager.start_server(deployment_id)


@shared_task(name=RETIRE_SERVER_TASK, ignore_result=True)
def retire_server(deployment_id: str) -> None:
    manager.retire_server(deployment_id)


@shared_task(name=REMOVE_SERVERS_TASK, ignore_result=True)
def remove_servers(deployment_ids: list[str]) -> None:
    manager.remove_servers(deployment_ids)


@shared_task(ignore_result=True)
def sweep_servers() -> None:
    manager.sweep()
