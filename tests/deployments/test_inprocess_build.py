"""A no-build static site goes from upload to ready through the API and the real task
(run eagerly in-process: no container is needed when there is nothing to run)."""

import json

import pytest

from deployments.artifacts import artifacts
from deployments.models import Deployment
from tests.archives import tar_gz, upload
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_static_site_upload_to_ready(eager):
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    client = api_client(owner)
    archive = tar_gz({"index.html": "<h1>Hello</h1>" * 200, "about/index.html": "about"})
    response = client.post(
        f"/v1/sites/{site.id}/deployments", {"code": upload(archive)}, format="multipart"
    )
    assert response.status_code == 202, response.json()
    deployment = Deployment.objects.get(pk=response.json()["id"])
    assert deployment.status == "ready", client.get(
        f"/v1/sites/{site.id}/deployments/{deployment.id}/logs"
    ).content
    site.refresh_from_db()
    assert site.deployment_id == deployment.id
    prefix = deployment.storage_prefix
    assert artifacts().exists(f"{prefix}/output/index.html")
    assert artifacts().exists(f"{prefix}/compressed/index.html.br")
    assert artifacts().exists(f"{prefix}/manifest.json")
    log = client.get(f"/v1/sites/{site.id}/deployments/{deployment.id}/logs").content.decode()
    assert "Packaged 2 files" in log
    # Asking for text gets the same text (DRF would answer 406 without a text renderer).
    as_text = client.get(
        f"/v1/sites/{site.id}/deployments/{deployment.id}/logs", HTTP_ACCEPT="text/plain"
    )
    assert as_text.status_code == 200
    assert as_text["Content-Type"] == "text/plain; charset=utf-8"
    assert as_text.content.decode() == log
    missing = client.get(f"/v1/sites/{site.id}/deployments/nope/logs", HTTP_ACCEPT="text/plain")
    assert missing.status_code == 404
    assert json.loads(missing.content)["code"] == 404
