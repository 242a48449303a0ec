"""The sites list (home), the team switcher, creating a site, its settings, deleting it."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from deployments.models import Status
from deployments.services import deployment_transition
from sites.models import Site
from tests.dashboard.conftest import build_world, client_for, waiting_deployment
from tests.factories import add_member, make_site, make_team, make_user

pytestmark = pytest.mark.django_db


def make_live(site: Site) -> None:
    """Give the site an active (ready) deployment through the state machine."""
    deployment = waiting_deployment(site)
    for status in (Status.PROCESSING, Status.BUILDING, Status.READY):
        deployment_transition(deployment.id, status)


# -- home and the first steps --------------------------------------------------------


def test_a_new_user_is_told_to_create_a_team_first() -> None:
    response = client_for(make_user()).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Welcome to Shipway" in html
    assert 'href="/new/team/"' in html


def test_a_team_without_sites_is_told_to_create_one() -> None:
    owner = make_user()
    make_team(owner, name="Fresh")
    html = client_for(owner).get("/").content.decode()
    assert "No sites yet" in html
    assert 'href="/new/"' in html


def test_a_viewer_without_sites_is_told_whom_to_ask() -> None:
    team = make_team(make_user())
    viewer = add_member(team, make_user(), Role.VIEWER)
    html = client_for(viewer).get("/").content.decode()
    assert "ask an owner" in html
    assert 'href="/new/"' not in html


def test_the_list_shows_each_site_with_its_active_deployment() -> None:
    owner = make_user()
    team = make_team(owner)
    live = make_site(team, site_id="live-site", name="Live")
    make_live(live)
    waiting_deployment(live)  # a newer build on its way
    make_site(team, site_id="empty-site", name="Empty")
    html = client_for(owner).get("/").content.decode()
    assert "live-site.sites.localhost" in html
    assert "Waiting a new one" in html
    assert 'href="/sites/empty-site/#upload"' in html
    assert html.index("Empty") < html.index("Live")  # newest first


def test_the_list_costs_the_same_queries_for_1_and_30_sites() -> None:
    owner = make_user()
    team = make_team(owner)
    make_site(make_team(), name="Someone else's")  # invisible rows cost nothing either
    client = client_for(owner)

    def measure(expected: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/")
        assert response.status_code == 200
        assert len(re.findall(r'class="row-link"', response.content.decode())) == expected
        return len(queries)

    make_live(make_site(team, name="Site 0"))
    client.get("/")  # warm up (the session, content types)
    one = measure(1)
    for index in range(1, 30):
        site = make_site(team, name=f"Site {index}")
        if index % 2:
            make_live(site)
        if index % 3 == 0:
            waiting_deployment(site)
    many = measure(30)
    print(f"\nGET /: 1 site -> {one} queries, 30 sites -> {many} queries")
    assert one == many, f"{one} queries for 1 site but {many} for 30"


# -- the team switcher ---------------------------------------------------------------


def test_the_team_switcher_keeps_the_choice_in_the_session() -> None:
    user = make_user()
    first = make_team(user, team_id="first", name="First")
    second = make_team(user, team_id="second", name="Second")
    make_site(first, name="Alpha site")
    make_site(second, name="Beta site")
    client = client_for(user)
    assert "Alpha site" in client.get("/").content.decode()
    switched = client.get("/?team=second").content.decode()
    assert "Beta site" in switched and "Alpha site" not in switched
    assert "Beta site" in client.get("/").content.decode()  # remembered
    assert client.get("/?team=nobodys").status_code == 404


def test_a_site_page_makes_its_team_the_current_one() -> None:
    user = make_user()
    make_team(user, team_id="first", name="First")
    second = make_team(user, team_id="second", name="Second")
    make_site(second, site_id="beta", name="Beta site")
    client = client_for(user)
    client.get("/sites/beta/")
    assert "Beta site" in client.get("/").content.decode()


# -- creating a site -----------------------------------------------------------------


def test_create_without_commands_takes_the_frameworks_defaults() -> None:
    world = build_world()
    client = world.client("developer")
    page = client.get("/new/").content.decode()
    catalog = json.loads(
        re.search(r'<script id="framework-catalog" type="application/json">(.*?)</script>', page)[1]
    )
    assert {f["key"] for f in catalog} >= {"react", "static", "nextjs"}
    response = client.post(
        "/new/", {"team": "team-a", "name": "Shop", "site_id": "shop", "framework": "react"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/sites/shop/"
    site = Site.objects.get(pk="shop")
    assert (site.install_command, site.build_command, site.output_directory) == (
        "npm install",
        "npm run build",
        "dist",
    )


def test_create_with_commands_filled_by_the_script_keeps_them_as_given() -> None:
    world = build_world()
    response = world.client("owner").post(
        "/new/",
        {
            "team": "team-a",
            "name": "Prebuilt",
            "site_id": "prebuilt",
            "framework": "react",
            "adapter": "static",
            "install_command": "",
            "build_command": "",
            "output_directory": "public",
            "commands_filled": "True",
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(pk="prebuilt")
    assert (site.install_command, site.build_command, site.output_directory) == ("", "", "public")


def test_create_shows_the_services_errors_on_the_form() -> None:
    world = build_world()
    client = world.client("owner")
    taken = client.post(
        "/new/", {"team": "team-a", "name": "Dup", "site_id": "site-a", "framework": "static"}
    )
    assert taken.status_code == 400
    assert "A site with id &#x27;site-a&#x27; already exists." in taken.content.decode()
    bad = client.post(
        "/new/", {"team": "team-a", "name": "X", "framework": "static", "adapter": "ssr"}
    )
    assert bad.status_code == 400
    assert "supports the adapters: static" in bad.content.decode()
    assert Site.objects.count() == 1


def test_a_viewer_cannot_create_a_site_in_the_team() -> None:
    world = build_world()
    response = world.client("viewer").post(
        "/new/", {"team": "team-a", "name": "Nope", "framework": "static"}
    )
    assert response.status_code == 200 or response.status_code == 400
    assert not Site.objects.filter(name="Nope").exists()


# -- settings and deletion -----------------------------------------------------------


def test_settings_change_only_what_differs() -> None:
    world = build_world()
    client = world.client("developer")
    form = client.get("/sites/site-a/settings/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(name="Renamed", framework="vite", enabled="on")
    response = client.post("/sites/site-a/settings/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    site = Site.objects.get(pk="site-a")
    assert site.name == "Renamed"
    # The commands were left as they were, so the new framework brought its own.
    assert (site.build_command, site.output_directory) == ("npm run build", "dist")


def test_settings_errors_come_back_on_the_form() -> None:
    world = build_world()
    client = world.client("developer")
    initial = client.get("/sites/site-a/settings/").context["form"].initial
    data = {name: "" if value is None else value for name, value in initial.items()}
    data.update(output_directory="../etc", enabled="on")
    response = client.post("/sites/site-a/settings/", data)
    assert response.status_code == 400
    assert "without &#x27;..&#x27;" in response.content.decode()


def test_viewers_read_settings_in_a_disabled_form() -> None:
    world = build_world()
    html = world.client("viewer").get("/sites/site-a/settings/").content.decode()
    assert "<fieldset disabled>" in html
    assert "Save settings" not in html
    assert "Delete this site" not in html


def test_owner_deletes_a_site_after_typing_its_id() -> None:
    world = build_world()
    client = world.client("owner")
    unconfirmed = client.post("/sites/site-a/delete/", {"confirm": "nope"})
    assert unconfirmed.status_code == 302 and Site.objects.filter(pk="site-a").exists()
    response = client.post("/sites/site-a/delete/", {"confirm": "site-a"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Site.objects.filter(pk="site-a").exists()
