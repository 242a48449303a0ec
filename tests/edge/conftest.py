"""Edge test helpers: publish static deployments without Docker."""

from __future__ import annotations

from typing import Any

import pytest

from config.celery import app as celery_app
from deployments.models import Deployment
from deployments.services import deployment_create_from_upload
from tests.archives import tar_gz, upload
from tests.factories import make_site, make_team, make_user
from tests.live import SITES_DOMAIN

__all__ = ["SITES_DOMAIN", "publish"]


def publish(
    site, files: dict[str, str | bytes], activate: bool = True, user: Any = None
) -> Deployment:
    """A ready deployment of `files`, built at once in this process (a no-build static
    site needs no container)."""
    celery_app.conf.task_always_eager = True
    try:
        deployment = deployment_create_from_upload(
            site=site, archive=upload(tar_gz(files)), activate=activate, user=user
        )
    finally:
        celery_app.conf.task_always_eager = False
    deployment.refresh_from_db()
    assert deployment.status == "ready", deployment.error_code
    return deployment


@pytest.fixture
def static_site(transactional_db, live_storage):
    owner = make_user()
    site = make_site(make_team(owner), framework="static", access="public")
    return site, owner
