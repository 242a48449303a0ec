"""Push to deploy (docs/api.md, "Git"): a linked repository served over smart HTTP on
loopback, real commits pushed to it, and each forge's push event signed as it signs."""

from __future__ import annotations

import io
import json
import logging
import tarfile

import pytest
from rest_framework.test import APIClient

from accounts.services import membership_create
from config.logging import RedactHookSecrets
from deployments import webhooks
from deployments.artifacts import artifacts, source_path
from deployments.models import Delivery, Deployment
from sites.models import Repository
from tests.factories import api_client, make_site, make_team, make_user
from tests.forges import PAYLOAD, PUSH_EVENT, ZERO, Forge, delivery, github_push

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def forge(tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    repository = Forge(tmp_path / "forge")
    repository.push("main", {"index.html": "<h1>first</h1>"}, "First page")
    with repository.serving():
        yield repository


@pytest.fixture
def owner():  # type: ignore[no-untyped-def]
    return make_user()


@pytest.fixture
def site(owner):  # type: ignore[no-untyped-def]
    return make_site(make_team(owner), framework="static")


def link(site, owner, forge, **body):  # type: ignore[no-untyped-def]
    answer = api_client(owner).put(
        f"/v1/sites/{site.id}/repository", {"url": forge.url, **body}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def send(linked, provider, payload, event=None, secret=None):  # type: ignore[no-untyped-def]
    body, headers = delivery(
        provider, secret or linked["webhookSecret"], payload, event or PUSH_EVENT[provider]
    )
    path = linked["webhookUrl"].split("127.0.0.1:8000", 1)[-1]
    return APIClient().post(path, body, content_type="application/json", headers=headers)


def source_text(deployment: Deployment, name: str) -> str:
    with artifacts().open(source_path(deployment.storage_prefix), "rb") as stored:
        packed = io.BytesIO(stored.read())
    with tarfile.open(fileobj=packed, mode="r:gz") as archive:
        member = archive.extractfile(name)
        assert member is not None
        return member.read().decode()


def test_the_github_documentation_test_vector_verifies() -> None:
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    secret, body = "It's a Secret to Everybody", b"Hello, World!"
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    webhooks.verify("github", secret, {"X-Hub-Signature-256": signature}, body)
    with pytest.raises(webhooks.Unsigned):
        webhooks.verify("github", secret, {"X-Hub-Signature-256": signature}, body + b" ")
    with pytest.raises(webhooks.Unsigned):
        webhooks.verify("github", "another secret", {"X-Hub-Signature-256": signature}, body)
    with pytest.raises(webhooks.Unsigned):
        webhooks.verify("github", secret, {}, body)


# -- the link -------------------------------------------------------------------------


def test_linking_answers_the_webhook_address_and_a_secret_shown_once(site, owner, forge):
    linked = link(site, owner, forge, provider="gitea", productionBranch="main", token="tok-1")
    assert linked["webhookUrl"].endswith(f"/v1/hooks/git/{site.repository.hook_id}")
    assert len(linked["webhookSecret"]) >= 32 and linked["hasToken"] is True
    stored = Repository.objects.get(site=site)
    assert linked["webhookSecret"] not in stored.encrypted_webhook_secret  # encrypted
    assert "tok-1" not in stored.encrypted_token
    read = api_client(owner).get(f"/v1/sites/{site.id}/repository").json()
    assert read["webhookSecret"] is None and "token" not in read
    assert "tok-1" not in json.dumps(read) and linked["webhookSecret"] not in json.dumps(read)
    again = link(site, owner, forge, provider="gitea", productionBranch="release")
    assert again["webhookSecret"] is None  # a change keeps the secret (and the token)
    assert again["productionBranch"] == "release" and again["hasToken"] is True
    assert Repository.objects.get(site=site).webhook_secret == linked["webhookSecret"]


def test_a_new_secret_replaces_the_old_one_at_once(site, owner, forge):
    linked = link(site, owner, forge)
    rotated = api_client(owner).post(f"/v1/sites/{site.id}/repository/secret").json()
    assert rotated["webhookSecret"] and rotated["webhookSecret"] != linked["webhookSecret"]
    pushed = forge.push("main", {"index.html": "x"}, "Second")
    stale = send(linked, "github", github_push(pushed, forge.url))
    assert stale.status_code == 401 and stale.json()["type"] == "unauthorized"
    fresh = send(rotated, "github", github_push(pushed, forge.url))
    assert fresh.status_code == 202, fresh.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/app.git"}, "url"),
        ({"url": "http://user:secret@127.0.0.1/app.git"}, "url"),
        ({"productionBranch": "-upload-pack=evil"}, "productionBranch"),
        ({"provider": "bitbucket"}, "provider"),
        ({"watchPaths": ["../outside"]}, "watchPaths"),
        ({"token": "has space"}, "token"),
    ],
)
def test_a_bad_link_is_refused_and_changes_nothing(site, owner, forge, body, field):
    answer = api_client(owner).put(
        f"/v1/sites/{site.id}/repository", {"url": forge.url, **body}, format="json"
    )
    assert answer.status_code == 400 and field in answer.json()["fields"], answer.json()
    assert not Repository.objects.filter(site=site).exists()


def test_a_loopback_repository_is_refused_unless_its_network_is_allowed(
    site, owner, forge, settings
):
    settings.SHIPWAY_OUTBOUND_ALLOW = []
    answer = api_client(owner).put(
        f"/v1/sites/{site.id}/repository", {"url": forge.url}, format="json"
    )
    assert answer.status_code == 400 and "url" in answer.json()["fields"]
    assert not Repository.objects.filter(site=site).exists()


def test_viewers_read_the_link_and_outsiders_see_nothing(site, owner, forge):
    link(site, owner, forge)
    viewer, outsider = make_user(), make_user()
    membership_create(team=site.team, user=viewer, role="viewer")
    assert api_client(viewer).get(f"/v1/sites/{site.id}/repository").status_code == 200
    put = api_client(viewer).put(
        f"/v1/sites/{site.id}/repository", {"url": forge.url}, format="json"
    )
    assert put.status_code == 403
    assert api_client(outsider).get(f"/v1/sites/{site.id}/repository").status_code == 404
    secret = api_client(outsider).post(f"/v1/sites/{site.id}/repository/secret")
    assert secret.status_code == 404


def test_unlinking_stops_the_webhook(site, owner, forge):
    linked = link(site, owner, forge)
    assert api_client(owner).delete(f"/v1/sites/{site.id}/repository").status_code == 204
    pushed = forge.push("main", {"index.html": "x"}, "Second")
    assert send(linked, "github", github_push(pushed, forge.url)).status_code == 404
    assert api_client(owner).get(f"/v1/sites/{site.id}/repository").status_code == 404


# -- pushes ---------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["github", "gitea", "gitlab"])
def test_a_production_push_goes_live_at_its_commit(site, owner, forge, eager, provider):
    linked = link(site, owner, forge, provider=provider)
    pushed = forge.push("main", {"index.html": "<h1>second</h1>"}, "Second page")
    answer = send(linked, provider, PAYLOAD[provider](pushed, forge.url))
    assert answer.status_code == 202, answer.json()
    (made,) = answer.json()["deployments"]
    assert made["trigger"] == "push" and made["environment"] == "production"
    assert made["branch"] == "main" and made["branchUrl"] is None
    deployment = Deployment.objects.get(pk=made["id"])
    assert deployment.status == "ready", deployment.error_code
    assert deployment.commit_hash == pushed.after
    assert deployment.commit_message == "Second page"
    site.refresh_from_db()
    assert site.deployment_id == deployment.id
    assert source_text(deployment, "index.html") == "<h1>second</h1>"


def test_the_commit_built_is_the_one_the_event_names(site, owner, forge, eager):
    linked = link(site, owner, forge)
    first = forge.push("main", {"index.html": "<h1>A</h1>"}, "A")
    forge.push("main", {"index.html": "<h1>B</h1>"}, "B")  # the branch moved on since
    answer = send(linked, "github", github_push(first, forge.url))
    deployment = Deployment.objects.get(pk=answer.json()["deployments"][0]["id"])
    assert deployment.status == "ready" and deployment.commit_hash == first.after
    assert source_text(deployment, "index.html") == "<h1>A</h1>"


def test_a_branch_push_builds_a_preview_and_leaves_production(site, owner, forge, eager):
    linked = link(site, owner, forge)
    production = send(linked, "github", github_push(forge.push("main", {}, "Live"), forge.url))
    live_id = production.json()["deployments"][0]["id"]
    pushed = forge.push("feature/login", {"index.html": "<h1>login</h1>"}, "Login page")
    answer = send(linked, "github", github_push(pushed, forge.url))
    (made,) = answer.json()["deployments"]
    assert made["environment"] == "preview" and made["activate"] is False
    assert made["branch"] == "feature/login"
    assert made["branchUrl"].startswith("http://git-feature-login-")
    assert f"--{site.id}." in made["branchUrl"]
    preview = Deployment.objects.get(pk=made["id"])
    assert preview.status == "ready" and source_text(preview, "index.html") == "<h1>login</h1>"
    site.refresh_from_db()
    assert site.deployment_id == live_id


def test_a_newer_push_to_a_branch_supersedes_the_older_one(site, owner, forge):
    linked = link(site, owner, forge)  # no worker: the builds stay waiting
    first = send(linked, "github", github_push(forge.push("topic", {"a": "1"}, "One"), forge.url))
    second_push = forge.push("topic", {"a": "2"}, "Two")
    second = send(linked, "github", github_push(second_push, forge.url))
    other = send(linked, "github", github_push(forge.push("other", {"b": "1"}, "B"), forge.url))
    older = Deployment.objects.get(pk=first.json()["deployments"][0]["id"])
    assert older.status == "canceled" and older.error_code == "superseded"
    log = api_client(owner).get(f"/v1/sites/{site.id}/deployments/{older.id}/logs")
    newer_id = second.json()["deployments"][0]["id"]
    assert f"Superseded by {second_push.after[:12]} (deployment {newer_id})" in log.content.decode()
    assert Deployment.objects.get(pk=newer_id).status == "waiting"
    other_id = other.json()["deployments"][0]["id"]
    assert Deployment.objects.get(pk=other_id).status == "waiting"  # another branch


@pytest.mark.parametrize("provider", ["github", "gitea", "gitlab"])
def test_forged_missing_or_wrong_signatures_build_nothing(site, owner, forge, provider):
    linked = link(site, owner, forge, provider=provider)
    payload = PAYLOAD[provider](forge.push("main", {}, "Two"), forge.url)
    forged = send(linked, provider, payload, secret="not-the-secret")
    assert forged.status_code == 401, forged.json()
    body, headers = delivery(provider, linked["webhookSecret"], payload, PUSH_EVENT[provider])
    for name in ("X-Hub-Signature-256", "X-Gitea-Signature", "X-Gitlab-Token"):
        headers.pop(name, None)
    path = linked["webhookUrl"].split("127.0.0.1:8000", 1)[-1]
    missing = APIClient().post(path, body, content_type="application/json", headers=headers)
    assert missing.status_code == 401
    if provider != "gitlab":  # GitLab's token is the secret itself: it signs no body
        _, signed = delivery(provider, linked["webhookSecret"], payload, PUSH_EVENT[provider])
        tampered = body.replace(b"main", b"mainx")
        answer = APIClient().post(path, tampered, content_type="application/json", headers=signed)
        assert answer.status_code == 401
    assert not Deployment.objects.exists() and not Delivery.objects.exists()


def test_a_repeated_delivery_builds_nothing_more(site, owner, forge):
    linked = link(site, owner, forge)
    payload = github_push(forge.push("main", {}, "Two"), forge.url)
    body, headers = delivery("github", linked["webhookSecret"], payload)
    path = linked["webhookUrl"].split("127.0.0.1:8000", 1)[-1]
    first = APIClient().post(path, body, content_type="application/json", headers=headers)
    assert first.status_code == 202
    again = APIClient().post(path, body, content_type="application/json", headers=headers)
    assert again.status_code == 200 and again.json()["deployments"] == []
    assert "received before" in again.json()["message"]
    assert Deployment.objects.count() == 1 and Delivery.objects.count() == 1


def test_a_ping_answers_200_and_builds_nothing(site, owner, forge):
    linked = link(site, owner, forge)
    answer = send(linked, "github", {"zen": "Keep it logically awesome.", "hook_id": 1}, "ping")
    assert answer.status_code == 200 and answer.json()["deployments"] == []
    assert not Deployment.objects.exists()
    assert Delivery.objects.get().summary.startswith("Ping")


def test_tags_build_only_when_asked(site, owner, forge):
    linked = link(site, owner, forge)
    tag = github_push(forge.push_tag("v1.0"), forge.url)
    ignored = send(linked, "github", tag)
    assert ignored.status_code == 200 and not Deployment.objects.exists()
    link(site, owner, forge, buildTags=True)
    built = send(linked, "github", github_push(forge.push_tag("v1.1"), forge.url))
    (made,) = built.json()["deployments"]
    assert made["environment"] == "preview" and made["reference"] == "v1.1"
    assert made["referenceType"] == "tag" and made["branchUrl"] is None


def test_a_deleted_branch_keeps_its_previews_unless_asked(site, owner, forge, eager):
    linked = link(site, owner, forge)
    send(linked, "github", github_push(forge.push("topic", {"a": "1"}, "One"), forge.url))
    deleted = github_push(forge.delete_branch("topic"), forge.url)
    assert deleted["deleted"] and deleted["after"] == ZERO
    assert send(linked, "github", deleted).status_code == 200
    assert Deployment.objects.filter(branch="topic").count() == 1
    link(site, owner, forge, removeDeletedBranches=True)
    forge.push("topic", {"a": "2"}, "Two")
    again = github_push(forge.delete_branch("topic"), forge.url)
    answer = send(linked, "github", again)
    assert answer.status_code == 200 and "removed" in answer.json()["message"]
    assert not Deployment.objects.filter(branch="topic").exists()


def test_a_push_outside_the_watched_paths_is_recorded_as_skipped(site, owner, forge):
    linked = link(site, owner, forge, watchPaths=["web", "shared/"])
    skipped = send(
        linked, "github", github_push(forge.push("main", {"docs/a.md": "x"}, "Docs"), forge.url)
    )
    assert skipped.status_code == 200, skipped.json()
    (made,) = skipped.json()["deployments"]
    assert made["status"] == "canceled" and made["errorCode"] == "build_skipped"
    log = api_client(owner).get(f"/v1/sites/{site.id}/deployments/{made['id']}/logs")
    assert "touched none of the watched paths (web, shared)" in log.content.decode()
    built = send(
        linked, "github", github_push(forge.push("main", {"web/i.html": "x"}, "Web"), forge.url)
    )
    assert built.status_code == 202 and built.json()["deployments"][0]["status"] == "waiting"


def test_a_push_event_that_does_not_list_every_change_builds(site, owner, forge):
    linked = link(site, owner, forge, watchPaths=["web"])
    payload = github_push(forge.push("main", {"docs/a.md": "x"}, "Docs"), forge.url)
    payload["forced"] = True  # a forced push's commits do not say what changed
    assert send(linked, "github", payload).status_code == 202


def test_a_signed_body_that_is_not_a_push_is_refused_with_a_message(site, owner, forge):
    linked = link(site, owner, forge)
    for payload in ({"ref": "refs/heads/main", "after": "nothex"}, {"ref": "main"}):
        answer = send(linked, "github", payload)
        assert answer.status_code == 400, answer.json()
        assert answer.json()["type"] == "validation_error"
    answer = send(linked, "github", {"ref": "refs/heads/-x", "after": "a" * 40})
    assert answer.status_code == 400
    assert not Deployment.objects.exists() and not Delivery.objects.exists()


def test_a_body_past_the_bound_is_refused_before_its_signature(site, owner, forge, settings):
    linked = link(site, owner, forge)
    settings.SHIPWAY_WEBHOOK_MAX_BODY = 1000
    payload = github_push(forge.push("main", {}, "Two"), forge.url)
    payload["padding"] = "x" * 2000
    answer = send(linked, "github", payload)
    assert answer.status_code == 413 and answer.json()["code"] == 413
    assert not Deployment.objects.exists()


def test_hook_addresses_are_rate_limited(site, owner, forge, settings):
    linked = link(site, owner, forge)
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "hooks": "3/minute"},
    }
    answers = [send(linked, "github", {}, secret="guess").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]


# -- deploy hooks ---------------------------------------------------------------------


def test_a_deploy_hook_builds_its_branch_head(site, owner, forge, eager):
    link(site, owner, forge)
    head = forge.push("main", {"index.html": "<h1>cms</h1>"}, "Content")
    client = api_client(owner)
    made = client.post(f"/v1/sites/{site.id}/hooks", {"name": "CMS", "branch": "main"})
    assert made.status_code == 201, made.json()
    url = made.json()["url"]
    listed = client.get(f"/v1/sites/{site.id}/hooks").json()
    assert listed["total"] == 1 and listed["hooks"][0]["url"] is None
    path = url.split("127.0.0.1:8000", 1)[-1]
    answer = APIClient().post(path)
    assert answer.status_code == 202, answer.json()
    deployment = Deployment.objects.get(pk=answer.json()["deployments"][0]["id"])
    assert deployment.trigger == "hook" and deployment.status == "ready"
    assert deployment.commit_hash == head.after and deployment.environment == "production"
    site.refresh_from_db()
    assert site.deployment_id == deployment.id
    assert client.get(f"/v1/sites/{site.id}/hooks").json()["hooks"][0]["lastUsedAt"]
    hook_id = made.json()["id"]
    assert client.delete(f"/v1/sites/{site.id}/hooks/{hook_id}").status_code == 204
    assert APIClient().post(path).status_code == 404


def test_a_deploy_hook_needs_a_linked_repository_and_a_valid_branch(site, owner):
    client = api_client(owner)
    unlinked = client.post(f"/v1/sites/{site.id}/hooks", {"name": "CMS", "branch": "main"})
    assert unlinked.status_code == 409
    assert APIClient().post("/v1/hooks/deploy/not-a-hook").status_code == 404


def test_a_bad_deploy_hook_branch_is_refused(site, owner, forge):
    link(site, owner, forge)
    answer = api_client(owner).post(
        f"/v1/sites/{site.id}/hooks", {"name": "CMS", "branch": "--upload-pack=x"}
    )
    assert answer.status_code == 400 and "branch" in answer.json()["fields"]


def test_deliveries_kept_are_bounded(site, owner, forge, monkeypatch):
    monkeypatch.setattr("deployments.git_services.KEPT_DELIVERIES", 2)
    linked = link(site, owner, forge)
    for _ in range(4):
        send(linked, "github", {"zen": "hi"}, "ping")
    assert Delivery.objects.filter(site=site).count() == 2


def test_the_list_filters_by_environment_and_branch(site, owner, forge):
    linked = link(site, owner, forge)
    send(linked, "github", github_push(forge.push("main", {}, "Live"), forge.url))
    send(linked, "github", github_push(forge.push("topic", {}, "Topic"), forge.url))
    client = api_client(owner)
    base = f"/v1/sites/{site.id}/deployments"
    previews = client.get(base, {"environment": "preview"}).json()
    assert previews["total"] == 1 and previews["deployments"][0]["branch"] == "topic"
    assert client.get(base, {"branch": "main"}).json()["total"] == 1
    assert client.get(base).json()["total"] == 2
    bad = client.get(base, {"environment": "staging"})
    assert bad.status_code == 400 and "environment" in bad.json()["fields"]


def test_a_push_with_a_token_reports_its_status_on_the_pushed_commit(site, owner, forge, eager):
    linked = link(site, owner, forge, provider="gitea", token="forge-token")
    pushed = forge.push("main", {"index.html": "x"}, "Two")
    assert send(linked, "gitea", PAYLOAD["gitea"](pushed, forge.url)).status_code == 202
    # The forge's status API is on the repository's host (Gitea's /api/v1): the stand-in
    # git server answers it 404, which is logged and changes nothing.
    path = f"/api/v1/repos/octo/app/statuses/{pushed.after}"
    # pending (building) and success; the queued one's report comes after the eager
    # build here, finds the deployment moved on and is not sent.
    assert [p for p in forge.requests if p == path] == [path, path]
    assert Deployment.objects.get().status == "ready"


def test_a_deploy_hooks_address_is_masked_in_the_servers_log() -> None:
    # Django logs "Not Found: <path>" for every 4xx; the path of a hook is its secret.
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RedactHookSecrets) for h in handlers for f in h.filters)
    guess = "a-guessed-secret-0123456789"
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        "",
        0,
        "%s: %s",
        ("Not Found", f"/v1/hooks/deploy/{guess}"),
        None,
    )
    RedactHookSecrets().filter(record)
    assert record.getMessage() == "Not Found: /v1/hooks/deploy/***"
    event = logging.LogRecord(
        "x", logging.ERROR, "", 0, {"path": f"/v1/hooks/deploy/{guess}"}, None, None
    )
    RedactHookSecrets().filter(event)
    assert event.msg == {"path": "/v1/hooks/deploy/***"}


def test_a_signed_push_with_a_malformed_commit_count_is_a_400(site, owner, forge):
    from tests.forges import gitea_push

    linked = link(site, owner, forge, provider="gitea")
    payload = gitea_push(forge.push("main", {}, "Two"), forge.url)
    payload["total_commits"] = "many"
    answer = send(linked, "gitea", payload)
    assert answer.status_code == 400 and "total_commits" in answer.json()["fields"]
    assert not Deployment.objects.exists() and not Delivery.objects.exists()
