"""The site's Git tab: link a repository (and change or remove the link), its webhook's
address and what to paste where, the secret shown once, deploy hooks (their address
shown once), recent deliveries; who may see and do what."""

from __future__ import annotations

import re
from typing import Any

import pytest

from deployments import git_services
from deployments.models import Delivery
from sites.models import DeployHook, Repository
from tests.dashboard.conftest import build_world, waiting_deployment

pytestmark = pytest.mark.django_db

URL = "https://git.example.com/team/site.git"
PAGE = "/sites/site-a/repository/"


@pytest.fixture
def public_forge(fake_dns) -> None:  # type: ignore[no-untyped-def]
    """The forge's host resolves to a public address (nothing connects to it)."""
    fake_dns.answer("git.example.com", "93.184.215.14")


def link_body(**fields: Any) -> dict[str, Any]:
    return {"url": URL, "provider": "github", "production_branch": "main", **fields}


def linked(world: Any, **fields: Any) -> git_services.Linked:
    """The site linked through the service, as the lead's API does it."""
    return git_services.repository_link(site=world.site, url=URL, **fields)


def secret_on(html: str) -> str | None:
    found = re.search(r'id="webhook-secret" class="mono" value="([^"]+)"', html)
    return found[1] if found else None


# -- who sees what --------------------------------------------------------------------


def test_the_tab_is_next_to_the_others() -> None:
    world = build_world()
    html = world.client("viewer").get("/sites/site-a/").content.decode()
    assert f'href="{PAGE}"' in html and ">Git</a>" in html


def test_outsiders_do_not_find_it() -> None:
    world = build_world()
    client = world.client("outsider")
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, link_body()).status_code == 404
    assert world.client("anonymous").get(PAGE).status_code == 302  # to sign in


def test_viewers_read_it_in_a_disabled_form_and_may_change_nothing(public_forge) -> None:
    world = build_world()
    linked(world, watch_paths=["apps/web"])
    hook, _url = git_services.deploy_hook_create(site=world.site, name="CMS", branch="main")
    client = world.client("viewer")
    html = client.get(PAGE).content.decode()
    assert "<fieldset disabled>" in html and URL in html and "apps/web" in html
    assert "CMS" in html and "/v1/hooks/git/" in html  # the webhook's address, not a secret
    for action in ("secret/", "unlink/", "hooks/", f"hooks/{hook.id}/delete/"):
        assert f'action="{PAGE}{action}"' not in html
    assert client.post(PAGE, link_body(url="https://git.example.com/x.git")).status_code == 403
    assert client.post(PAGE + "secret/").status_code == 403
    assert client.post(PAGE + "unlink/").status_code == 403
    assert client.post(PAGE + "hooks/", {"name": "x", "branch": "main"}).status_code == 403
    assert client.post(f"{PAGE}hooks/{hook.id}/delete/").status_code == 403
    repository = Repository.objects.get(site=world.site)
    assert repository.url == URL and DeployHook.objects.filter(pk=hook.pk).exists()


def test_a_site_without_a_repository_offers_the_link_form() -> None:
    world = build_world()
    html = world.client("developer").get(PAGE).content.decode()
    assert "Link a repository" in html and f'action="{PAGE}"' in html
    assert 'type="password" name="token"' in html
    assert "remove_token" not in html  # no token to remove
    assert "Deploy hooks" not in html  # they need a repository


# -- linking --------------------------------------------------------------------------


def test_linking_shows_the_secret_once_with_the_providers_steps(public_forge) -> None:
    world = build_world()
    client = world.client("developer")
    response = client.post(PAGE, link_body(token="ghp_private_token_1234"))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    repository = Repository.objects.get(site=world.site)
    assert secret_on(html) == repository.webhook_secret
    assert git_services.webhook_url(repository) in html
    assert "Payload URL" in html and "application/json" in html
    assert "Just the push event" in html
    assert "ghp_private_token_1234" not in html  # the token is never sent back
    assert repository.token == "ghp_private_token_1234"
    again = client.get(PAGE).content.decode()
    assert secret_on(again) is None and repository.webhook_secret not in again
    assert "the secret shown when the repository was linked" in again


@pytest.mark.parametrize(
    ("provider", "steps"),
    [
        ("gitlab", ["Secret token", "Push events", "Tag push events"]),
        ("gitea", ["Target URL", "HTTP method", "POST content type", "Forgejo", "Push events"]),
    ],
)
def test_each_provider_has_its_own_steps(public_forge, provider: str, steps: list[str]) -> None:
    world = build_world()
    linked(world, provider=provider, build_tags=True)
    html = world.client("developer").get(PAGE).content.decode()
    assert all(step in html for step in steps)
    assert "Payload URL" not in html


def test_gitlab_asks_for_tag_pushes_only_when_tags_build(public_forge) -> None:
    world = build_world()
    linked(world, provider="gitlab")
    assert "Tag push events" not in world.client("developer").get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"url": "ftp://git.example.com/x.git"}, "url", "Use a "),
        ({"url": "http://10.0.0.1/x.git"}, "url", "a private address"),
        ({"url": "https://token@git.example.com/x.git"}, "url", "not in the address"),
        ({"production_branch": "../etc"}, "production_branch", "not a valid git branch"),
        ({"watch_paths": "apps/web\n../outside"}, "watch_paths", "not a path inside"),
        ({"provider": "bitbucket"}, "provider", "Select a valid choice"),
    ],
)
def test_a_refused_link_shows_why_on_its_field_and_writes_nothing(
    public_forge, fields: dict[str, str], field: str, message: str
) -> None:
    world = build_world()
    response = world.client("developer").post(PAGE, link_body(**fields))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error1"' in html and message in html
    assert secret_on(html) is None
    assert not Repository.objects.filter(site=world.site).exists()


def test_editing_keeps_the_secret_and_the_token_unless_asked(public_forge) -> None:
    world = build_world()
    first = linked(world, token="kept-token")
    client = world.client("developer")
    page = client.get(PAGE).content.decode()
    assert "A token is stored: leave blank to keep it." in page and 'name="remove_token"' in page
    assert "kept-token" not in page
    body = link_body(production_branch="release", watch_paths="apps/web\n\n packages/ui \n")
    response = client.post(PAGE, body | {"build_tags": "on"})
    assert response.status_code == 302 and response["Location"] == PAGE
    repository = Repository.objects.get(site=world.site)
    assert repository.production_branch == "release" and repository.build_tags
    assert repository.watch_paths == ["apps/web", "packages/ui"]
    assert repository.token == "kept-token"
    assert repository.webhook_secret == first.webhook_secret  # not a new one
    assert secret_on(client.get(PAGE).content.decode()) is None
    client.post(PAGE, link_body(remove_token="on", token="ignored"))
    assert Repository.objects.get(site=world.site).token == ""


def test_rotate_shows_the_new_secret_once(public_forge) -> None:
    world = build_world()
    old = linked(world).webhook_secret
    client = world.client("developer")
    response = client.post(PAGE + "secret/")
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    new = Repository.objects.get(site=world.site).webhook_secret
    assert new != old and secret_on(response.content.decode()) == new
    assert "the old one no longer works" in response.content.decode()
    assert new not in client.get(PAGE).content.decode()


def test_rotate_without_a_repository_is_not_found() -> None:
    world = build_world()
    assert world.client("developer").post(PAGE + "secret/").status_code == 404


def test_unlink_removes_the_link_and_its_hooks(public_forge) -> None:
    world = build_world()
    linked(world)
    git_services.deploy_hook_create(site=world.site, name="CMS", branch="main")
    client = world.client("developer")
    response = client.post(PAGE + "unlink/")
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not Repository.objects.filter(site=world.site).exists()
    assert not DeployHook.objects.filter(site=world.site).exists()
    html = client.get(PAGE).content.decode()
    assert "Repository unlinked" in html and "Link a repository" in html


# -- deploy hooks ---------------------------------------------------------------------


def test_a_new_hook_shows_its_address_once(public_forge) -> None:
    world = build_world()
    linked(world)
    client = world.client("developer")
    response = client.post(PAGE + "hooks/", {"name": "CMS", "branch": "main"})
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    url = re.search(r'id="hook-url" class="mono" value="([^"]+)"', html)[1]
    assert "/v1/hooks/deploy/" in url and f"curl -X POST {url}" in html
    hook = DeployHook.objects.get(site=world.site)
    assert (hook.name, hook.branch) == ("CMS", "main")
    again = client.get(PAGE).content.decode()
    assert url not in again and "CMS" in again and "Never" in again  # listed, never used


def test_a_refused_hook_shows_why_and_makes_none(public_forge) -> None:
    world = build_world()
    linked(world)
    response = world.client("developer").post(PAGE + "hooks/", {"name": "x", "branch": "a..b"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="hook_branch_error1"' in html and "not a valid git branch" in html
    assert not DeployHook.objects.filter(site=world.site).exists()


def test_a_hook_past_the_limit_says_so(public_forge) -> None:
    world = build_world()
    linked(world)
    for index in range(git_services.MAX_DEPLOY_HOOKS):
        git_services.deploy_hook_create(site=world.site, name=f"hook {index}", branch="main")
    response = world.client("developer").post(PAGE + "hooks/", {"name": "x", "branch": "main"})
    assert response.status_code == 400
    assert f"at most {git_services.MAX_DEPLOY_HOOKS} deploy hooks" in response.content.decode()
    assert DeployHook.objects.filter(site=world.site).count() == git_services.MAX_DEPLOY_HOOKS


def test_a_hook_needs_a_linked_repository() -> None:
    world = build_world()
    response = world.client("developer").post(PAGE + "hooks/", {"name": "x", "branch": "main"})
    assert response.status_code == 400
    assert "Link a repository first" in response.content.decode()
    assert not DeployHook.objects.exists()


def test_delete_a_hook(public_forge) -> None:
    world = build_world()
    linked(world)
    hook, _url = git_services.deploy_hook_create(site=world.site, name="CMS", branch="main")
    client = world.client("developer")
    response = client.post(f"{PAGE}hooks/{hook.id}/delete/")
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not DeployHook.objects.filter(pk=hook.pk).exists()
    assert client.post(f"{PAGE}hooks/{hook.id}/delete/").status_code == 404


# -- deliveries -----------------------------------------------------------------------


def test_recent_deliveries_say_what_each_did_and_link_its_deployments(public_forge) -> None:
    world = build_world()
    linked(world)
    made = waiting_deployment(world.site)
    push = Delivery.objects.create(
        site=world.site, delivery_id="d-1", event="push", summary="Building <main> at 0123abcd."
    )
    push.deployments.set([made])
    Delivery.objects.create(site=world.site, delivery_id="d-2", event="ping", summary="Ping.")
    html = world.client("viewer").get(PAGE).content.decode()
    assert "Recent deliveries" in html and "d-1" in html and "d-2" in html
    assert "Building &lt;main&gt; at 0123abcd." in html
    assert f'href="/sites/site-a/deployments/{made.id}/"' in html
    assert html.index("d-2") < html.index("d-1")  # newest first


def test_the_tab_costs_the_same_queries_with_more_deliveries(
    public_forge, django_assert_max_num_queries
) -> None:
    world = build_world()
    linked(world)
    client = world.client("developer")
    Delivery.objects.create(site=world.site, delivery_id="d-0", event="push").deployments.set(
        [waiting_deployment(world.site)]
    )
    client.get(PAGE)  # warm up (the session, content types)
    with django_assert_max_num_queries(100) as few:
        client.get(PAGE)
    for index in range(1, 10):
        delivery = Delivery.objects.create(site=world.site, delivery_id=f"d-{index}", event="push")
        delivery.deployments.set([waiting_deployment(world.site) for _ in range(2)])
        git_services.deploy_hook_create(site=world.site, name=f"hook {index}", branch="main")
    with django_assert_max_num_queries(len(few)):
        html = client.get(PAGE).content.decode()
    assert "d-9" in html and "hook 9" in html
