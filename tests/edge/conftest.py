"""Edge test helpers: publish static deployments without Docker."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from builds import director
from deployments.models import Deployment
from deployments.services import deployment_create_from_upload
from tests.archives import tar_gz, upload
from tests.factories import eager_builds, make_site, make_team, make_user
from tests.live import SITES_DOMAIN

__all__ = ["SITES_DOMAIN", "asgi_request", "publish"]


def asgi_request(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one bodiless HTTP request through the ASGI `app`; the messages it sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def publish(
    site, files: dict[str, str | bytes], activate: bool = True, user: Any = None
) -> Deployment:
    """A ready deployment of `files`, built at once in this process (a no-build static
    site needs no container)."""
    with eager_builds():
        deployment = deployment_create_from_upload(
            site=site, archive=upload(tar_gz(files)), activate=activate, user=user
        )
    # Built now even when the build line holds it back (the site has a waiting one).
    director.build(deployment.id)
    deployment.refresh_from_db()
    assert deployment.status == "ready", deployment.error_code
    return deployment


@pytest.fixture
def static_site(transactional_db, live_storage):
    owner = make_user()
    site = make_site(make_team(owner), framework="static", access="public")
    return site, owner
