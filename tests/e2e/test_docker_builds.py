"""Real builds: a Celery worker process runs each in a Docker container."""

import pytest

from tests.e2e.helpers import deploy, log_of, wait_for
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def client(owner):
    return api_client(owner)


def test_build_command_output_is_packaged_and_activated(worker, owner, client):
    site = make_site(
        make_team(owner),
        framework="other",
        build_command="mkdir -p out && node -e "
        "\"require('fs').writeFileSync('out/index.html', '<p>built by '+process.version+'</p>')\"",
        output_directory="out",
        install_command="",
    )
    deployment = wait_for(deploy(client, site, {"README.md": "hi"}))
    log = log_of(client, deployment)
    assert deployment.status == "ready", log
    site.refresh_from_db()
    assert site.deployment_id == deployment.id
    assert "$ mkdir -p out" in log
    output = client.get(
        f"/v1/sites/{site.id}/deployments/{deployment.id}/download", {"type": "output"}
    )
    assert output.status_code == 200
