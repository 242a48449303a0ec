"""Who may do what with a site's linked repository and deploy hooks (docs/api.md,
"Push to deploy"), for all six callers (tests/api_matrix.py): members read, developers
link, rotate, unlink and manage hooks, another team's are hidden, and no answer ever
shows the webhook secret or the token except the one that made the secret."""

from __future__ import annotations

from typing import Any

import pytest

from deployments import git_services
from sites.models import DeployHook, Repository, Site
from tests import api_matrix
from tests.api_matrix import Answer, Case, PermissionMatrix, World, developers, hidden, members

URL = "https://93.184.215.14/octo/app.git"  # a public literal: linking resolves nothing
TOKEN = "forge-token-not-to-be-shown"


@pytest.fixture(autouse=True)
def snapshot_with_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix's write check also watches repositories and deploy hooks."""
    plain = api_matrix.snapshot

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        return {
            **plain(),
            "repository": sorted(Repository.objects.values_list(), key=repr),
            "deploy_hook": sorted(DeployHook.objects.values_list(), key=repr),
        }

    monkeypatch.setattr(api_matrix, "snapshot", snapshot)


def no_secrets(answer: Answer) -> str | None:
    shown = str(answer.body)
    for secret in (TOKEN, *answer.world.values["git_secrets"]):
        if secret in shown:
            return "the answer shows a secret"
    if answer.body.get("webhookSecret") is not None:
        return "a read shows webhookSecret"
    return None


def shows_a_new_secret(answer: Answer) -> str | None:
    secret = answer.body.get("webhookSecret")
    if not secret or secret in answer.world.values["git_secrets"]:
        return f"answered webhookSecret {secret!r}, not a new one"
    return None


def lists_hooks_without_urls(answer: Answer) -> str | None:
    if [hook["id"] for hook in answer.body["hooks"]] != [answer.world.ids["hook"]]:
        return f"lists {answer.body['hooks']}"
    if any(hook["url"] for hook in answer.body["hooks"]):
        return "a listed hook shows its address"
    return None


class TestGitMatrix(PermissionMatrix):
    cases = (
        Case("GET", "/v1/sites/{site}/repository", members(200), check=no_secrets),
        Case(
            "PUT",
            "/v1/sites/{site}/repository",
            developers(200),
            {"url": URL, "productionBranch": "release"},
            check=no_secrets,  # a change keeps the secret, and does not show it
        ),
        Case(
            "POST",
            "/v1/sites/{site}/repository/secret",
            developers(200),
            check=shows_a_new_secret,
        ),
        Case("DELETE", "/v1/sites/{site}/repository", developers(204)),
        Case("GET", "/v1/sites/{other_site}/repository", hidden(200)),
        Case("PUT", "/v1/sites/{other_site}/repository", hidden(200), {"url": URL}),
        Case("POST", "/v1/sites/{other_site}/repository/secret", hidden(200)),
        Case("DELETE", "/v1/sites/{other_site}/repository", hidden(204)),
        Case("GET", "/v1/sites/{site}/hooks", members(200), check=lists_hooks_without_urls),
        Case("POST", "/v1/sites/{site}/hooks", developers(201), {"name": "CMS", "branch": "main"}),
        Case("DELETE", "/v1/sites/{site}/hooks/{hook}", developers(204)),
        Case("GET", "/v1/sites/{other_site}/hooks", hidden(200)),
        Case("DELETE", "/v1/sites/{other_site}/hooks/{other_hook}", hidden(204)),
        # Another site's hook, through a site the caller may change.
        Case("DELETE", "/v1/sites/{site}/hooks/{other_hook}", developers(404)),
    )

    def extend_world(self, world: World) -> None:
        secrets = []
        for name, hook in (("site", "hook"), ("other_site", "other_hook")):
            site = Site.objects.get(pk=world.ids[name])
            linked = git_services.repository_link(site=site, url=URL, token=TOKEN)
            secrets.append(linked.webhook_secret)
            made, _url = git_services.deploy_hook_create(site=site, name="Nightly", branch="main")
            world.ids[hook] = made.id
        world.values["git_secrets"] = secrets
