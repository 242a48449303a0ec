"""Push to deploy end to end: a repository on loopback over smart HTTP, real commits, the
forge's signed push events, a real worker building in Docker, and the edge serving the
production address, the branch's stable address and each deployment's own."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from deployments.models import Deployment
from sites.hosts import branch_host
from sites.services import variable_create
from tests.e2e.helpers import log_of, wait_for
from tests.factories import make_site, make_team
from tests.forges import PAYLOAD, PUSH_EVENT, Forge, delivery
from tests.live import SITES_DOMAIN

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

# The build writes what it was given into the page it publishes.
BUILD = (
    "mkdir -p out && node -e \"const e = process.env; require('fs').writeFileSync("
    "'out/index.html', [e.ONLY_PRODUCTION, e.ONLY_PREVIEW, e.EVERYWHERE, "
    "e.SHIPWAY_ENVIRONMENT, e.SHIPWAY_GIT_BRANCH, e.SHIPWAY_GIT_COMMIT_SHA, "
    "require('fs').readFileSync('page.txt', 'utf8')].join(' '))\""
)


@pytest.fixture
def live_database_env(live_storage, live_database_env, settings):  # type: ignore[no-untyped-def]
    """The worker writes where the edge reads, and may fetch from the loopback forge."""
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    return {**live_database_env, "SHIPWAY_OUTBOUND_ALLOW": "127.0.0.0/8"}


@pytest.fixture
def forge(tmp_path):  # type: ignore[no-untyped-def]
    repository = Forge(tmp_path / "forge")
    repository.push("main", {"page.txt": "first"}, "First")
    with repository.serving():
        yield repository


def _deliver(linked, provider, pushed, url):  # type: ignore[no-untyped-def]
    body, headers = delivery(
        provider, linked["webhookSecret"], PAYLOAD[provider](pushed, url), PUSH_EVENT[provider]
    )
    path = linked["webhookUrl"].split("://", 1)[1].split("/", 1)[1]
    answer = APIClient().post(f"/{path}", body, content_type="application/json", headers=headers)
    assert answer.status_code == 202, answer.json()
    return Deployment.objects.get(pk=answer.json()["deployments"][0]["id"])


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_push_preview_supersede_and_hook(worker, owner, client, edge, forge, provider):
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command=BUILD,
        output_directory="out",
        access="public",
    )
    variable_create(site=site, key="ONLY_PRODUCTION", value="p", environment="production")
    variable_create(site=site, key="ONLY_PREVIEW", value="v", environment="preview")
    variable_create(site=site, key="EVERYWHERE", value="e")
    linked = client.put(
        f"/v1/sites/{site.id}/repository",
        {"url": forge.url, "provider": provider},
        format="json",
    ).json()

    # A production push goes live at its commit, with production's variables only.
    live = forge.push("main", {"page.txt": "second"}, "Second")
    production = wait_for(_deliver(linked, provider, live, forge.url))
    assert production.status == "ready", log_of(client, production)
    home = edge.get(f"{site.id}.{SITES_DOMAIN}")
    assert home.status == 200
    expected = f"p  e production main {live.after} second"
    assert home.body.decode() == expected

    # A branch push: a preview on its own address and the branch's, production unchanged.
    topic = forge.push("feature/login", {"page.txt": "login"}, "Login")
    preview = wait_for(_deliver(linked, provider, topic, forge.url))
    assert preview.status == "ready", log_of(client, preview)
    page = f" v e preview feature/login {topic.after} login"
    branch = branch_host(preview.branch_label, site.id, SITES_DOMAIN)
    assert edge.get(branch).body.decode() == page
    assert edge.get(preview.hostname).body.decode() == page
    assert edge.get(f"{site.id}.{SITES_DOMAIN}").body.decode() == expected

    # Two pushes in a row: the newer one supersedes the older, the branch shows it.
    first = forge.push("feature/login", {"page.txt": "a"}, "A")
    older = _deliver(linked, provider, first, forge.url)
    newest = forge.push("feature/login", {"page.txt": "b"}, "B")
    newer = wait_for(_deliver(linked, provider, newest, forge.url))
    older.refresh_from_db()
    assert older.status == "canceled" and older.error_code == "superseded"
    assert f"Superseded by {newest.after[:12]}" in log_of(client, older)
    assert newer.status == "ready", log_of(client, newer)
    assert edge.get(branch).body.decode() == f" v e preview feature/login {newest.after} b"

    # A deploy hook builds the production branch's head and it goes live.
    head = forge.push("main", {"page.txt": "from the cms"}, "CMS")
    hook = client.post(f"/v1/sites/{site.id}/hooks", {"name": "CMS", "branch": "main"}).json()
    called = APIClient().post("/" + hook["url"].split("://", 1)[1].split("/", 1)[1])
    assert called.status_code == 202, called.json()
    built = wait_for(Deployment.objects.get(pk=called.json()["deployments"][0]["id"]))
    assert built.status == "ready", log_of(client, built)
    assert built.trigger == "hook" and built.commit_hash == head.after
    assert edge.get(f"{site.id}.{SITES_DOMAIN}").body.decode().endswith("from the cms")
