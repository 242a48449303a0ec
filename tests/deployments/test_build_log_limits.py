"""The build log's cap, and secrets in failures' sentences, through the API and the real
build task run in-process (no container: the no-build path and a git source)."""

import pytest

from builds.logwriter import LogWriter
from deployments.errors import BuildError, ErrorCode
from deployments.models import Deployment
from deployments.selectors import log_text
from sites.services import variable_create
from tests.archives import tar_gz, upload
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cr3t-value-123"


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def client(owner):
    return api_client(owner)


def upload_to(client, site, files) -> Deployment:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/sites/{site.id}/deployments", {"code": upload(tar_gz(files))}, format="multipart"
    )
    assert response.status_code == 202, response.content
    return Deployment.objects.get(pk=response.json()["id"])


def log_of(client, deployment: Deployment) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/sites/{deployment.site_id}/deployments/{deployment.id}/logs")
    assert response.status_code == 200
    return response.content.decode()


def test_the_log_keeps_its_cap_then_one_note_and_shipways_own_lines(owner, client):
    deployment = upload_to(client, make_site(make_team(owner)), {"index.html": "x"})
    with LogWriter(deployment, max_bytes=1000) as output:
        output.note("Shipway says hello.\n")
        for i in range(500):
            output.write(f"build line {i:04}\n")
        output.note("Packaged 1 file.\n")
    text = log_text(deployment)
    assert text.startswith("Shipway says hello.\nbuild line 0000\n")
    kept = [line for line in text.splitlines() if line.startswith("build line")]
    assert len(kept) == 1000 // len("build line 0000\n")  # whole lines only
    assert (
        "The log was cut at 1000 bytes (SHIPWAY_BUILD_LOG_MAX_BYTES): the build goes on, "
        "its further output is not kept.\nPackaged 1 file.\n"
    ) in text
    assert len(text.encode()) < 1200
    assert log_of(client, deployment) == text


def test_a_secret_quoted_by_a_rules_error_is_masked(eager, owner, client):
    site = make_site(make_team(owner), framework="static")
    variable_create(site=site, key="API_TOKEN", value=SECRET, secret=True, scope="runtime")
    deployment = upload_to(
        client, site, {"index.html": "hi", "_headers": f"/*\n  X-Token {SECRET}\n"}
    )
    log = log_of(client, deployment)
    assert (deployment.status, deployment.error_code) == ("failed", "rules_invalid"), log
    assert SECRET not in log
    assert "got 'X-Token ********'" in log


def test_gits_error_is_masked_of_the_addresss_credentials(
    eager, owner, client, monkeypatch, fake_dns
):
    fake_dns.answer("example.com", "93.184.215.14")  # a public address; never connected to

    def failing_fetch(repository, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert "tok3n-s3cret" in repository  # git gets the credentials...
        raise BuildError(
            ErrorCode.SOURCE_INVALID,
            f"git fetch failed: fatal: unable to access '{repository}': \x1b[31mrefused",
        )

    monkeypatch.setattr("deployments.vcs.fetch", failing_fetch)
    site = make_site(make_team(owner), framework="static")
    response = client.post(
        f"/v1/sites/{site.id}/deployments/vcs",
        {
            "repository": "https://bob:tok3n-s3cret@example.com/r.git",
            "reference": "main",
            "type": "branch",
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    deployment = Deployment.objects.get(pk=response.json()["id"])
    log = log_of(client, deployment)
    assert deployment.error_code == "source_invalid", log
    assert "tok3n-s3cret" not in log  # ...the log never does
    assert "unable to access 'https://********@example.com/r.git': \\x1b[31mrefused" in log
