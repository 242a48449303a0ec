"""Bad input to the teams, memberships and API keys endpoints is a 400 naming the field
and writes nothing; their lists page and search; an API key's secret is shown once and
works; `createapikey` prints a working key; the last owner stays; a team with sites is
not deleted."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import ApiKey, Membership, Role
from tests.api_checks import _paging_works, refused
from tests.api_matrix import envelope_problem
from tests.factories import add_member, api_client, make_team, make_user

pytestmark = pytest.mark.django_db


# -- teams ---------------------------------------------------------------------------

BAD_TEAMS = [
    ({"teamId": "Acme2"}, "teamId"),
    ({"teamId": "t" * 37}, "teamId"),
    ({"teamId": "-acme"}, "teamId"),
    ({"teamId": "acme"}, "teamId"),  # taken
    ({"teamId": 12}, "teamId"),
    ({"name": "n" * 129}, "name"),
    ({"name": 123}, "name"),
    ({"name": ""}, "name"),
]


@pytest.mark.parametrize(("body", "field"), BAD_TEAMS, ids=[repr(b) for b, _ in BAD_TEAMS])
def test_bad_team_is_refused(world, body, field):
    refused(world["client"], "POST", "/v1/teams", {"name": "Team", **body}, field)


def test_team_without_a_name_is_refused(world):
    refused(world["client"], "POST", "/v1/teams", {"teamId": "nameless"}, "name")


def test_team_id_of_36_characters_is_accepted(world):
    team_id = "t" + "0" * 34 + "z"
    response = world["client"].post("/v1/teams", {"teamId": team_id, "name": "Long"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == team_id
    assert Membership.objects.get(team_id=team_id).role == Role.OWNER


def test_bad_team_change_is_refused(world):
    refused(world["client"], "PATCH", "/v1/teams/acme", {"name": 123}, "name")
    refused(world["client"], "PATCH", "/v1/teams/acme", {"name": "n" * 129}, "name")


def test_a_team_with_sites_is_not_deleted(world):
    refused(world["client"], "DELETE", "/v1/teams/acme", None, "sites", 409, "conflict")
    world["client"].delete("/v1/sites/blog")
    assert world["client"].delete("/v1/teams/acme").status_code == 204
    assert not Group.objects.filter(name__startswith="team:acme:").exists()


# -- lists ---------------------------------------------------------------------------


def test_teams_list_pages_and_searches(world):
    for name in ["Gamma", "Delta", "Gammy"]:
        make_team(world["owner"], name=name)
    make_team(name="Gamma elsewhere")  # not the caller's: neither listed nor found
    _paging_works(world["client"], "/v1/teams", total=5, search="gamm", found=2)


def test_memberships_list_pages_and_searches(world):
    for name in ["zed", "zara", "amy"]:
        add_member(world["team"], make_user(name))
    _paging_works(world["client"], "/v1/teams/acme/memberships", total=4, search="za", found=1)


# -- memberships ---------------------------------------------------------------------

MEMBERSHIPS = "/v1/teams/acme/memberships"


def test_bad_memberships_are_refused(world):
    client = world["client"]
    make_user("carol")
    refused(client, "POST", MEMBERSHIPS, {"username": "ghost", "roles": ["viewer"]}, "username")
    # (An address no account has is invited: tests/accounts/test_invitations.py.)
    refused(client, "POST", MEMBERSHIPS, {"email": "ghost", "roles": ["viewer"]}, "email")
    refused(client, "POST", MEMBERSHIPS, {"roles": ["viewer"]}, "username")
    refused(client, "POST", MEMBERSHIPS, {"username": "carol", "roles": ["admin"]}, "roles")
    refused(
        client, "POST", MEMBERSHIPS, {"username": "carol", "roles": ["viewer", "owner"]}, "roles"
    )
    refused(client, "POST", MEMBERSHIPS, {"username": "carol", "roles": []}, "roles")
    refused(client, "POST", MEMBERSHIPS, {"username": "carol", "roles": "viewer"}, "roles")
    refused(client, "POST", MEMBERSHIPS, {"username": "carol"}, "roles")
    refused(client, "POST", MEMBERSHIPS, {"username": 5, "roles": ["viewer"]}, "username")


def test_membership_by_email_and_groups_follow_roles(world):
    client = world["client"]
    carol = make_user("carol")
    response = client.post(
        MEMBERSHIPS, {"email": "carol@example.com", "roles": ["viewer"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["roles"] == ["viewer"] and response.json()["username"] == "carol"
    assert api_client(carol).get("/v1/sites/blog").status_code == 200
    assert (
        api_client(carol).patch("/v1/sites/blog", {"name": "x"}, format="json").status_code == 403
    )
    membership_id = response.json()["id"]
    refused(client, "PATCH", f"{MEMBERSHIPS}/{membership_id}", {"roles": ["boss"]}, "roles")
    refused(
        client, "PATCH", f"{MEMBERSHIPS}/{membership_id}", {"roles": ["owner", "viewer"]}, "roles"
    )
    response = client.patch(
        f"{MEMBERSHIPS}/{membership_id}", {"roles": ["developer"]}, format="json"
    )
    assert response.status_code == 200 and response.json()["roles"] == ["developer"]
    assert (
        api_client(carol).patch("/v1/sites/blog", {"name": "x"}, format="json").status_code == 200
    )
    # Adding the same person twice is a conflict, not a second membership.
    refused(
        client,
        "POST",
        MEMBERSHIPS,
        {"username": "carol", "roles": ["viewer"]},
        "carol",
        409,
        "conflict",
    )


def test_the_last_owner_stays(world):
    client = world["client"]
    own = Membership.objects.get(team_id="acme", user=world["owner"])
    path = f"{MEMBERSHIPS}/{own.id}"
    refused(client, "DELETE", path, None, "owner", 409, "conflict")
    refused(client, "PATCH", path, {"roles": ["developer"]}, "owner", 409, "conflict")
    refused(client, "PATCH", path, {"roles": ["viewer"]}, "owner", 409, "conflict")

    # With a second owner, the first may step down, and then the second is the last.
    second = add_member(world["team"], make_user("second"), Role.OWNER)
    response = client.patch(path, {"roles": ["viewer"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["roles"] == ["viewer"]
    last = Membership.objects.get(team_id="acme", user=second)
    refused(
        api_client(second), "DELETE", f"{MEMBERSHIPS}/{last.id}", None, "owner", 409, "conflict"
    )


# -- API keys and the command ---------------------------------------------------------


def signed_in(user):  # type: ignore[no-untyped-def]
    """Keys are made with a session (an API key cannot mint keys)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)
    return client


def test_api_key_secret_is_shown_once(world):
    client = signed_in(world["owner"])
    response = client.post("/v1/account/keys", {"name": "deploy bot"}, format="json")
    assert response.status_code == 201
    created = response.json()
    secret = created["secret"]
    assert {"id", "name", "secret"} <= set(created) and created["name"] == "deploy bot"

    listing = client.get("/v1/account/keys")
    assert secret.encode() not in listing.content
    keys = {key["id"]: key for key in listing.json()["keys"]}
    assert created["id"] in keys
    assert all("secret" not in key for key in keys.values())
    row = ApiKey.objects.filter(pk=created["id"]).values().get()
    assert all(secret not in str(value) for value in row.values())  # only a hash is kept

    # The secret works, as the same user.
    assert api_client_with(secret).get("/v1/account").json()["username"] == "owner"


def test_bad_api_key_name_is_refused(world):
    client = signed_in(world["owner"])
    refused(client, "POST", "/v1/account/keys", {"name": "n" * 129}, "name")
    refused(client, "POST", "/v1/account/keys", {"name": 5}, "name")
    refused(client, "POST", "/v1/account/keys", {}, "name")


def api_client_with(secret: str):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_api_key_last_used_at_is_recorded(world):
    owner = world["owner"]
    _unused, _ = _make_key(owner, "unused")
    used, secret = _make_key(owner, "used")
    assert used.last_used_at is None
    assert api_client_with(secret).get("/v1/sites").status_code == 200
    used.refresh_from_db()
    assert used.last_used_at is not None
    keys = {
        key["name"]: key for key in api_client_with(secret).get("/v1/account/keys").json()["keys"]
    }
    assert keys["used"]["lastUsedAt"] is not None
    assert keys["unused"]["lastUsedAt"] is None


def _make_key(user, name: str):  # type: ignore[no-untyped-def]
    from accounts.services import api_key_create

    return api_key_create(user=user, name=name)


def test_a_deleted_or_wrong_key_is_refused(world):
    key, secret = _make_key(world["owner"], "short-lived")
    client = api_client_with(secret)
    assert client.delete(f"/v1/account/keys/{key.id}").status_code == 204
    answer = client.get("/v1/account")
    assert answer.status_code == 401 and envelope_problem(401, answer.json()) is None
    answer = api_client_with("sw_not-a-key").get("/v1/sites")
    assert answer.status_code == 401 and envelope_problem(401, answer.json()) is None


def test_createapikey_prints_a_working_key(world):
    out = io.StringIO()
    call_command("createapikey", "owner", "--name", "laptop", stdout=out)
    secret = out.getvalue().strip()
    assert secret and "\n" not in secret
    assert ApiKey.objects.filter(user=world["owner"], name="laptop").count() == 1
    answer = api_client_with(secret).get("/v1/account")
    assert answer.status_code == 200 and answer.json()["username"] == "owner"
    with pytest.raises(CommandError):
        call_command("createapikey", "nobody", stdout=io.StringIO())
