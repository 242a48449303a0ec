"""The team's Activity page: its audit log, newest first, filtered, paginated; for
owners and developers, linked from the team's page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from accounts import audit
from accounts.models import Role
from dashboard.views.activity import ENTRIES_PER_PAGE
from sites import services as site_services
from tests.dashboard.conftest import client_for
from tests.factories import add_member, make_site, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene() -> dict[str, Any]:
    owner = make_user("owner")
    team = make_team(owner, team_id="acme", name="Acme")
    site = make_site(team, "blog", name="Blog")
    with audit.acting(user=owner, ip="192.0.2.8"):
        site_services.site_update(site=site, name="Blog 2")
        site_services.variable_create(site=site, key="TOKEN", value="very-secret", secret=True)
    viewer = add_member(team, make_user("viewer"), Role.VIEWER)
    developer = add_member(team, make_user("developer"), Role.DEVELOPER)
    return {"owner": owner, "team": team, "site": site, "viewer": viewer, "dev": developer}


def actions(html: str) -> list[str]:
    return re.findall(r'<th scope="row" data-label="Action"><span class="mono">([a-z_.]+)<', html)


def test_owners_see_every_change_newest_first(scene: dict[str, Any]) -> None:
    html = client_for(scene["owner"]).get("/teams/acme/activity/").content.decode()
    assert actions(html)[:3] == ["membership.create", "membership.create", "variable.create"]
    assert "site.update" in actions(html)
    assert "Blog → Blog 2" in html  # the diff
    assert "from 192.0.2.8" in html
    assert "very-secret" not in html


def test_filters_by_resource_and_action(scene: dict[str, Any]) -> None:
    client = client_for(scene["dev"])
    by_resource = client.get("/teams/acme/activity/?resource=site").content.decode()
    assert actions(by_resource) == ["site.update", "site.create"]
    by_action = client.get("/teams/acme/activity/?action=variable.create").content.decode()
    assert actions(by_action) == ["variable.create"]
    bad = client.get("/teams/acme/activity/?action=not-an-action")
    assert bad.status_code == 400
    assert "An action is" in bad.content.decode()


def test_pages_keep_the_filter(scene: dict[str, Any]) -> None:
    for n in range(ENTRIES_PER_PAGE + 5):
        site_services.site_update(site=scene["site"], name=f"Name {n}")
    client = client_for(scene["owner"])
    first = client.get("/teams/acme/activity/?resource=site").content.decode()
    assert len(actions(first)) == ENTRIES_PER_PAGE
    assert "?resource=site&amp;page=2" in first
    second = client.get("/teams/acme/activity/?resource=site&page=2").content.decode()
    assert actions(second)[-2:] == ["site.update", "site.create"]
    assert len(actions(second)) == 7  # 55 updates and the create, minus the first page


def test_viewers_are_refused_and_outsiders_see_nothing(scene: dict[str, Any]) -> None:
    assert client_for(scene["viewer"]).get("/teams/acme/activity/").status_code == 403
    assert client_for(make_user("outsider")).get("/teams/acme/activity/").status_code == 404
    assert client_for(None).get("/teams/acme/activity/").status_code == 302  # sign in


def test_the_team_page_links_to_it_for_those_who_may_read_it(scene: dict[str, Any]) -> None:
    link = 'href="/teams/acme/activity/"'
    assert link in client_for(scene["owner"]).get("/teams/acme/").content.decode()
    assert link in client_for(scene["dev"]).get("/teams/acme/").content.decode()
    assert link not in client_for(scene["viewer"]).get("/teams/acme/").content.decode()


def test_the_page_only_reads(scene: dict[str, Any]) -> None:
    assert client_for(scene["owner"]).post("/teams/acme/activity/").status_code == 405
