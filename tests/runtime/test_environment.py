"""A server's variables (runtime/manager.py, environment) without starting one: the site's
runtime variables of the deployment's environment, and every secret for its log to mask."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, SourceType
from runtime import manager
from sites.services import variable_create
from tests.factories import make_site, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("environment", "other"), [("production", "preview"), ("preview", "production")]
)
def test_a_server_gets_its_environments_runtime_variables_and_masks_every_secret(
    environment, other
):
    site = make_site(make_team(make_user()), framework="nextjs", adapter="ssr")
    variable_create(site=site, key="MINE", value="mine", scope="runtime", environment=environment)
    variable_create(site=site, key="SHARED", value="shared", scope="all", environment="all")
    variable_create(site=site, key="BUILD_ONLY", value="build", scope="build", environment="all")
    variable_create(
        site=site,
        key="THEIRS",
        value="their-secret-1",
        secret=True,
        scope="runtime",
        environment=other,
    )
    deployment = Deployment.objects.create(
        site=site,
        source_type=SourceType.UPLOAD,
        activate=environment == "production",
        environment=environment,
    )

    env, secrets = manager.environment(deployment)

    assert (env["MINE"], env["SHARED"]) == ("mine", "shared")
    assert "THEIRS" not in env and "BUILD_ONLY" not in env
    assert env["SHIPWAY_ENVIRONMENT"] == environment
    assert secrets == ["their-secret-1"]
