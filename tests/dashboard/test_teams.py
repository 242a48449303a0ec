"""Teams: create one, then owners add members, change roles and remove them."""

from __future__ import annotations

import pytest

from accounts.models import Membership, Role, Team
from tests.dashboard.conftest import build_world, client_for
from tests.factories import make_team, make_user

pytestmark = pytest.mark.django_db


def test_create_a_team_becomes_its_owner_and_its_current_team() -> None:
    user = make_user()
    client = client_for(user)
    response = client.post("/new/team/", {"name": "Rocket", "team_id": "rocket"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert Membership.objects.get(team_id="rocket", user=user).role == Role.OWNER
    home = client.get("/").content.decode()
    assert "No sites yet" in home and "Rocket" in home


def test_a_taken_team_id_is_refused_on_the_form() -> None:
    make_team(team_id="taken")
    response = client_for(make_user()).post("/new/team/", {"name": "X", "team_id": "taken"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_members_see_the_team_owners_manage_it() -> None:
    world = build_world()
    viewer_page = world.client("viewer").get("/teams/team-a/").content.decode()
    assert "developer" in viewer_page and "Add a member" not in viewer_page
    owner_page = world.client("owner").get("/teams/team-a/").content.decode()
    assert "Add a member" in owner_page


def test_add_a_member_by_email() -> None:
    world = build_world()
    newcomer = make_user("newcomer")
    response = world.client("owner").post(
        "/teams/team-a/members/", {"identifier": "newcomer@example.com", "role": "developer"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(team_id="team-a", user=newcomer).role == Role.DEVELOPER


def test_adding_an_unknown_or_existing_member_says_why() -> None:
    world = build_world()
    client = world.client("owner")
    unknown = client.post("/teams/team-a/members/", {"identifier": "ghost", "role": "viewer"})
    assert unknown.status_code == 400
    assert "No user has that username or email address." in unknown.content.decode()
    again = client.post("/teams/team-a/members/", {"identifier": "viewer", "role": "viewer"})
    assert again.status_code == 400
    assert "already a member of this team" in again.content.decode()


def test_change_a_role_and_keep_an_owner() -> None:
    world = build_world()
    client = world.client("owner")
    viewer = Membership.objects.get(team_id="team-a", user=world.users["viewer"])
    client.post(f"/teams/team-a/members/{viewer.id}/", {"role": "developer"})
    viewer.refresh_from_db()
    assert viewer.role == Role.DEVELOPER
    owner = Membership.objects.get(team_id="team-a", user=world.users["owner"])
    response = client.post(f"/teams/team-a/members/{owner.id}/", {"role": "viewer"}, follow=True)
    assert "A team must keep at least one owner." in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_remove_a_member() -> None:
    world = build_world()
    viewer = Membership.objects.get(team_id="team-a", user=world.users["viewer"])
    world.client("owner").post(f"/teams/team-a/members/{viewer.id}/delete/")
    assert not Membership.objects.filter(pk=viewer.id).exists()
    assert world.client("viewer").get("/sites/site-a/").status_code == 404


def test_rename_and_delete_a_team_without_sites() -> None:
    owner = make_user()
    make_team(owner, team_id="empty", name="Empty")
    client = client_for(owner)
    client.post("/teams/empty/rename/", {"name": "Still empty"})
    assert Team.objects.get(pk="empty").name == "Still empty"
    response = client.post("/teams/empty/delete/")
    assert response["Location"] == "/"
    assert not Team.objects.filter(pk="empty").exists()


def test_a_team_with_sites_is_not_deleted() -> None:
    world = build_world()
    response = world.client("owner").post("/teams/team-a/delete/", follow=True)
    assert "The team still owns sites" in response.content.decode()
    assert Team.objects.filter(pk="team-a").exists()
