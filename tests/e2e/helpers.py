"""Helpers for end-to-end tests: upload through the API, wait for a final status, find a
deployment's build containers, wait for a condition."""

from __future__ import annotations

import time

import docker

from deployments.models import FINAL_STATUSES, Deployment
from tests.archives import tar_gz, upload


def deploy(client, site, files: dict[str, str], **fields) -> Deployment:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/sites/{site.id}/deployments",
        {"code": upload(tar_gz(files)), **fields},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return Deployment.objects.get(pk=response.json()["id"])


def wait_for(deployment: Deployment, statuses=FINAL_STATUSES, timeout: float = 180) -> Deployment:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment.refresh_from_db()
        if deployment.status in statuses:
            return deployment
        time.sleep(0.2)
    raise AssertionError(f"deployment still {deployment.status} after {timeout} s")


def log_of(client, deployment: Deployment) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/sites/{deployment.site_id}/deployments/{deployment.id}/logs")
    assert response.status_code == 200
    return response.content.decode()


def containers_of(deployment: Deployment) -> list:  # type: ignore[type-arg]
    """The deployment's build containers, running or not (by their label). Sparse: no
    inspect of each, which fails when the build removes one meanwhile."""
    label = f"shipway.deployment={deployment.id}"
    return docker.from_env().containers.list(all=True, sparse=True, filters={"label": label})


def wait_until(condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
