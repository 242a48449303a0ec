"""Deployments from git, with real git and a repository on disk."""

import subprocess

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from deployments import services
from deployments.models import Deployment
from tests.archives import tar_gz, upload
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

# A public address for example.com, so the API's outbound check passes without DNS;
# nothing connects to it (no worker reads this session's queue).
PUBLIC = "93.184.215.14"


def git(cwd, *args: str) -> str:  # type: ignore[no-untyped-def]
    env = {
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(cwd),
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repository(tmp_path, settings):
    settings.SHIPWAY_VCS_ALLOW_LOCAL = True
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "index.html").write_text("<h1>from main</h1>")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "First page\n\nWith a body.")
    git(work, "tag", "v1")
    (work / "index.html").write_text("<h1>second</h1>")
    git(work, "commit", "-q", "-am", "Second page")
    return f"file://{work}", git(work, "rev-parse", "HEAD")


def deploy(client, site, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/sites/{site.id}/deployments/vcs", body, format="json")


@pytest.mark.parametrize(
    ("reference", "kind", "expected"),
    [("main", "branch", "second"), ("v1", "tag", "from main")],
)
def test_branch_and_tag_build_and_record_the_commit(repository, eager, reference, kind, expected):
    url, head = repository
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    client = api_client(owner)
    response = deploy(client, site, repository=url, reference=reference, type=kind)
    assert response.status_code == 202, response.json()
    deployment = Deployment.objects.get(pk=response.json()["id"])
    assert deployment.status == "ready", client.get(
        f"/v1/sites/{site.id}/deployments/{deployment.id}/logs"
    ).content
    body = client.get(f"/v1/sites/{site.id}/deployments/{deployment.id}").json()
    assert body["sourceType"] == "vcs" and body["reference"] == reference
    assert len(body["commitHash"]) == 40
    if kind == "branch":
        assert body["commitHash"] == head and body["commitMessage"] == "Second page"
    log = client.get(f"/v1/sites/{site.id}/deployments/{deployment.id}/logs").content.decode()
    assert f"Fetching {kind} {reference}" in log
    source = client.get(f"/v1/sites/{site.id}/deployments/{deployment.id}/download")
    assert source.status_code == 200


def test_unknown_branch_fails_with_gits_reason(repository, eager):
    url, _ = repository
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    response = deploy(api_client(owner), site, repository=url, reference="nope", type="branch")
    deployment = Deployment.objects.get(pk=response.json()["id"])
    assert (deployment.status, deployment.error_code) == ("failed", "source_invalid")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"repository": "ftp://example.com/x.git", "reference": "main", "type": "branch"},
            "repository",
        ),
        ({"repository": "file:///etc", "reference": "main", "type": "branch"}, "repository"),
        (
            {"repository": "--upload-pack=touch /tmp/x", "reference": "main", "type": "branch"},
            "repository",
        ),
        (
            {"repository": "https://example.com/x.git", "reference": "--help", "type": "branch"},
            "reference",
        ),
        (
            {"repository": "https://example.com/x.git", "reference": "a..b", "type": "tag"},
            "reference",
        ),
        (
            {"repository": "https://example.com/x.git", "reference": "main", "type": "commit"},
            "reference",
        ),
        ({"repository": "https://example.com/x.git", "reference": "main", "type": "pr"}, "type"),
        ({"repository": "https://example.com/x.git", "type": "branch"}, "reference"),
    ],
)
def test_bad_sources_are_refused_and_write_nothing(body, field):
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    response = deploy(api_client(owner), site, **body)
    assert response.status_code == 400, response.json()
    assert response.json()["message"].startswith(f"{field}:")
    assert not Deployment.objects.exists()


def test_credentials_in_the_address_are_never_shown(fake_dns):
    fake_dns.answer("example.com", PUBLIC)
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    response = deploy(
        api_client(owner),
        site,
        repository="https://bob:tok3n@example.com/r.git",
        reference="main",
        type="branch",
    )
    assert response.status_code == 202
    assert "tok3n" not in response.content.decode()
    assert response.json()["repository"] == "https://example.com/r.git"


def test_a_token_in_the_address_is_encrypted_at_rest_and_dropped_once_fetched(fake_dns):
    fake_dns.answer("example.com", PUBLIC)
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    address = "https://bob:tok3n@example.com/r.git"
    response = deploy(api_client(owner), site, repository=address, reference="main", type="branch")
    assert response.status_code == 202
    deployment = Deployment.objects.get(pk=response.json()["id"])
    assert deployment.repository == "https://example.com/r.git"
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM deployments_deployment WHERE id = %s", [deployment.id])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "tok3n" not in row and "bob" not in row  # not in any column, in plain text
    assert services.repository_address(deployment) == address  # what git is given

    services.deployment_store_fetched_source(
        deployment=deployment,
        archive=upload(tar_gz({"index.html": "x"})),
        size=10,
        commit_hash="a" * 40,
        commit_message="m",
    )
    deployment.refresh_from_db()
    assert deployment.repository_credentials == ""
    assert services.repository_address(deployment) == "https://example.com/r.git"


def test_the_migration_moves_tokens_out_of_stored_addresses():
    site = make_site(make_team(make_user()), framework="static")
    before = [("deployments", "0004_vcs_reference_type")]
    after = [("deployments", "0005_repository_credentials")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("deployments", "Deployment")
    with_token = old.objects.create(
        site_id=site.id, source_type="vcs", repository="https://x-token:s3cret@git.example/r.git"
    )
    plain = old.objects.create(
        site_id=site.id, source_type="vcs", repository="https://git.example/p"
    )
    executor = MigrationExecutor(connection)  # a fresh graph, as `migrate` would load
    executor.migrate(after)
    # Read through the model as it was then: later migrations add columns.
    migrated = executor.loader.project_state(after).apps.get_model("deployments", "Deployment")
    moved = migrated.objects.get(pk=with_token.pk)
    assert moved.repository == "https://git.example/r.git"
    assert "s3cret" not in moved.repository_credentials
    assert services.repository_address(moved) == "https://x-token:s3cret@git.example/r.git"
    untouched = migrated.objects.get(pk=plain.pk)
    assert (untouched.repository, untouched.repository_credentials) == ("https://git.example/p", "")
