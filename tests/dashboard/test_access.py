"""Who may open which dashboard page and press which button: every page and action for
five callers (anonymous, outsider, and each team role), each cell on fresh data.

As in the API: a site the caller cannot see is a 404 page (never 403); a role too low
for an action on a site it can see is a 403 page; anonymous callers go to sign-in.
Write actions are posted with an empty body where one is needed, so a caller who is
allowed gets the form back (400) instead of changing anything.
"""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import build_world

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "outsider", "viewer", "developer", "owner")


def row(outsider: int, viewer: int, developer: int, owner: int) -> dict[str, int]:
    return {
        "anonymous": 302,
        "outsider": outsider,
        "viewer": viewer,
        "developer": developer,
        "owner": owner,
    }


EVERYONE = row(200, 200, 200, 200)
MEMBERS = row(404, 200, 200, 200)

SITE = "/sites/{site}/"
DEPLOYMENT = SITE + "deployments/{deployment}/"
PAGES = [
    ("/", EVERYONE),
    ("/new/", EVERYONE),
    ("/new/team/", EVERYONE),
    ("/account/keys/", EVERYONE),
    ("/teams/{team}/", MEMBERS),
    ("/teams/{team}/activity/", row(404, 403, 200, 200)),  # the audit log
    (SITE, MEMBERS),
    (SITE + "settings/", MEMBERS),
    (SITE + "variables/", MEMBERS),
    (SITE + "variables/{variable}/", row(404, 403, 200, 200)),
    (SITE + "domains/", MEMBERS),
    (DEPLOYMENT, MEMBERS),
]

ACTIONS = [
    (SITE + "upload/", row(404, 403, 400, 400)),
    (SITE + "settings/", row(404, 403, 400, 400)),
    (SITE + "delete/", row(404, 403, 403, 302)),  # without the confirmation: nothing
    (SITE + "variables/", row(404, 403, 400, 400)),
    (SITE + "variables/{variable}/", row(404, 403, 400, 400)),
    (SITE + "variables/{variable}/delete/", row(404, 403, 302, 302)),
    (SITE + "domains/", row(404, 403, 403, 400)),
    (DEPLOYMENT + "activate/", row(404, 403, 302, 302)),
    (DEPLOYMENT + "cancel/", row(404, 403, 302, 302)),
    (DEPLOYMENT + "redeploy/", row(404, 403, 302, 302)),
    (DEPLOYMENT + "delete/", row(404, 403, 302, 302)),
    ("/teams/{team}/members/", row(404, 403, 403, 400)),
    ("/teams/{team}/rename/", row(404, 403, 403, 400)),
    ("/teams/{team}/delete/", row(404, 403, 403, 302)),  # it has a site: refused, kept
    ("/teams/{team}/members/{membership}/", row(404, 403, 403, 302)),
]


def _path(template: str, world) -> str:  # type: ignore[no-untyped-def]
    membership = world.team.memberships.get(user=world.users["viewer"])
    return template.format(
        site=world.site.id,
        deployment=world.deployment.id,
        variable=world.variable.id,
        team=world.team.id,
        membership=membership.id,
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("template", "expected"), PAGES, ids=[p for p, _ in PAGES])
def test_pages(template: str, expected: dict[str, int], caller: str) -> None:
    world = build_world()
    response = world.client(caller).get(_path(template, world))
    assert response.status_code == expected[caller], response.content[:500]
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("template", "expected"), ACTIONS, ids=[p for p, _ in ACTIONS])
def test_actions(template: str, expected: dict[str, int], caller: str) -> None:
    world = build_world()
    response = world.client(caller).post(_path(template, world), {})
    assert response.status_code == expected[caller], response.content[:500]
    if caller == "anonymous":
        assert response["Location"].startswith("/accounts/login/")


def test_refusals_are_pages_that_say_why() -> None:
    world = build_world()
    outsider = world.client("outsider").get(f"/sites/{world.site.id}/")
    assert outsider.status_code == 404
    assert b"Site &#x27;site-a&#x27; not found." in outsider.content
    assert b"<html" in outsider.content  # a page of the dashboard, not the API's JSON
    viewer = world.client("viewer").post(f"/sites/{world.site.id}/upload/")
    assert viewer.status_code == 403
    assert b"Your role does not allow this" in viewer.content


def test_refused_writes_change_nothing() -> None:
    world = build_world()
    viewer = world.client("viewer")
    viewer.post(f"/sites/{world.site.id}/deployments/{world.deployment.id}/cancel/")
    viewer.post(f"/sites/{world.site.id}/variables/{world.variable.id}/delete/")
    world.deployment.refresh_from_db()
    assert world.deployment.status == "waiting"
    assert world.site.variables.filter(pk=world.variable.id).exists()


def test_get_is_refused_on_buttons() -> None:
    world = build_world()
    path = f"/sites/{world.site.id}/deployments/{world.deployment.id}/cancel/"
    assert world.client("owner").get(path).status_code == 405
