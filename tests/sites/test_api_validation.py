"""Bad input is a 400 naming the field and writes nothing; and the foundation's other
promises: framework defaults, encrypted secrets, list envelopes, API keys, the docs, the
browsable API, and a site's deletion taking its deployments and files with it."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import ApiKey, Membership, Role, Team
from deployments.models import Deployment
from sites import crypto
from sites import services as site_services
from sites.models import Site, SiteGroupObjectPermission, SiteUserObjectPermission, Variable
from tests.api_matrix import envelope_problem, snapshot
from tests.factories import add_member, api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db

SECRET_VALUE = "correct-horse-battery-staple"


def row_counts() -> dict[str, int]:
    models = [
        Team,
        Group,
        Membership,
        ApiKey,
        Site,
        SiteGroupObjectPermission,
        SiteUserObjectPermission,
        Variable,
        Deployment,
    ]
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def world() -> dict[str, Any]:
    """Owner of teams `acme` and `beta`; site `blog` (react) in acme with a plain and a
    secret variable."""
    owner = make_user("owner")
    acme = make_team(owner, team_id="acme", name="Acme")
    make_team(owner, team_id="beta", name="Beta")
    site = make_site(acme, "blog", name="Blog", framework="react")
    plain = site_services.variable_create(site=site, key="PLAIN", value="hello")
    secret = site_services.variable_create(site=site, key="SECRET", value=SECRET_VALUE, secret=True)
    return {
        "owner": owner,
        "client": api_client(owner),
        "team": acme,
        "site": site,
        "plain": plain,
        "secret": secret,
    }


def refused(
    client,  # type: ignore[no-untyped-def]
    method: str,
    path: str,
    body: Any,
    field: str,
    status: int = 400,
    kind: str = "validation_error",
) -> dict[str, Any]:
    """Send the request; it must be refused with `status`, the envelope, a message that
    names `field`, and no row added, removed or changed."""
    counts, rows = row_counts(), snapshot()
    call = getattr(client, method.lower())
    response = call(path, body, format="json") if body is not None else call(path)
    answer = response.json()
    where = f"{method} {path} {body!r} -> {response.status_code} {answer}"
    assert response.status_code == status, where
    assert envelope_problem(status, answer) is None, (envelope_problem(status, answer), where)
    assert answer["type"] == kind, where
    assert re.search(rf"(?<![\w.]){re.escape(field)}\b", answer["message"]), (
        f"the message does not name {field!r}: {where}"
    )
    assert row_counts() == counts, where
    assert snapshot() == rows, f"a refused request changed rows: {where}"
    return answer


# -- sites ---------------------------------------------------------------------------

NEW_SITE = {"name": "New", "teamId": "acme", "framework": "react"}

BAD_SITES = [
    ({"framework": "cobol"}, "framework"),
    ({"specification": "s-64vcpu-1tb"}, "specification"),
    ({"buildRuntime": "node-8"}, "buildRuntime"),
    ({"buildRuntime": "python-3.12"}, "buildRuntime"),
    ({"adapter": "ssr"}, "adapter"),  # react (Vite) builds static sites only
    ({"framework": "gatsby", "adapter": "ssr"}, "adapter"),
    ({"adapter": "edge"}, "adapter"),
    ({"siteId": "MySite"}, "siteId"),
    ({"siteId": "a" * 37}, "siteId"),
    ({"siteId": "-blog"}, "siteId"),
    ({"siteId": "my_site"}, "siteId"),
    ({"siteId": "my--site"}, "siteId"),  # "--" separates a deployment id from a site id
    ({"siteId": "xn--site"}, "siteId"),
    ({"siteId": ""}, "siteId"),
    ({"siteId": "frameworks"}, "siteId"),
    ({"siteId": "specifications"}, "siteId"),
    ({"siteId": "blog"}, "siteId"),  # taken
    ({"siteId": 7}, "siteId"),
    ({"name": "n" * 129}, "name"),
    ({"name": 123}, "name"),
    ({"name": ""}, "name"),
    ({"timeout": "abc"}, "timeout"),
    ({"timeout": True}, "timeout"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": 3601}, "timeout"),
    ({"timeout": 1.5}, "timeout"),
    ({"enabled": "maybe"}, "enabled"),
    ({"enabled": 1}, "enabled"),
    ({"outputDirectory": "../x"}, "outputDirectory"),
    ({"outputDirectory": "/abs"}, "outputDirectory"),
    ({"outputDirectory": "dist/../../x"}, "outputDirectory"),
    ({"rootDirectory": "../x"}, "rootDirectory"),
    ({"rootDirectory": "/abs"}, "rootDirectory"),
    ({"fallbackFile": "../index.html"}, "fallbackFile"),
    ({"installCommand": 5}, "installCommand"),
]


@pytest.mark.parametrize(("change", "field"), BAD_SITES, ids=[repr(c) for c, _ in BAD_SITES])
def test_bad_site_is_refused(world, change, field):
    refused(world["client"], "POST", "/v1/sites", {**NEW_SITE, **change}, field)


@pytest.mark.parametrize("missing", ["name", "teamId", "framework"])
def test_site_without_a_required_field_is_refused(world, missing):
    body = {key: value for key, value in NEW_SITE.items() if key != missing}
    refused(world["client"], "POST", "/v1/sites", body, missing)


BAD_SITE_CHANGES = [
    ({"teamId": "beta"}, "teamId"),  # the caller owns beta too: still not movable
    ({"framework": "cobol"}, "framework"),
    ({"adapter": "ssr"}, "adapter"),
    ({"buildRuntime": "node-8"}, "buildRuntime"),
    ({"specification": "huge"}, "specification"),
    ({"name": 123}, "name"),
    ({"name": "n" * 129}, "name"),
    ({"timeout": "abc"}, "timeout"),
    ({"timeout": True}, "timeout"),
    ({"enabled": "maybe"}, "enabled"),
    ({"outputDirectory": "../x"}, "outputDirectory"),
    ({"rootDirectory": "/abs"}, "rootDirectory"),
]


@pytest.mark.parametrize(
    ("change", "field"), BAD_SITE_CHANGES, ids=[repr(c) for c, _ in BAD_SITE_CHANGES]
)
def test_bad_site_change_is_refused(world, change, field):
    refused(world["client"], "PATCH", "/v1/sites/blog", change, field)


def test_good_site_change_is_kept(world):
    """The PATCH above is refused for its values, not for being a PATCH."""
    client = world["client"]
    response = client.patch(
        "/v1/sites/blog",
        {"teamId": "acme", "name": "Renamed", "timeout": 60, "rootDirectory": "web/app"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    site = Site.objects.get(pk="blog")
    assert (site.name, site.timeout, site.root_directory, site.team_id) == (
        "Renamed",
        60,
        "web/app",
        "acme",
    )


def test_framework_defaults_fill_omitted_commands(world):
    response = world["client"].post("/v1/sites", {**NEW_SITE, "siteId": "spa"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    expected = {
        "id": "spa",
        "teamId": "acme",
        "adapter": "static",
        "buildRuntime": "node-22",
        "installCommand": "npm install",
        "buildCommand": "npm run build",
        "outputDirectory": "dist",
        "fallbackFile": "index.html",
        "enabled": True,
        "deploymentId": None,
    }
    assert {key: body[key] for key in expected} == expected
    site = Site.objects.get(pk="spa")
    assert (site.install_command, site.build_command, site.output_directory) == (
        "npm install",
        "npm run build",
        "dist",
    )
    assert body["url"].startswith("http") and "spa." in body["url"]


def test_given_commands_win_over_defaults(world):
    response = world["client"].post(
        "/v1/sites",
        {**NEW_SITE, "siteId": "custom", "buildCommand": "make site", "outputDirectory": "out"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["buildCommand"], body["outputDirectory"]) == ("make site", "out")
    assert body["installCommand"] == "npm install"  # still the default where not given


def test_a_new_site_grants_the_team_its_permissions(world):
    before = SiteGroupObjectPermission.objects.count()
    response = world["client"].post("/v1/sites", {**NEW_SITE, "siteId": "perm"}, format="json")
    assert response.status_code == 201
    # viewer: view; developer: view, change; owner: view, change, delete, manage_domains
    assert SiteGroupObjectPermission.objects.count() == before + 7
    viewer = add_member(world["team"], make_user(), Role.VIEWER)
    assert api_client(viewer).get("/v1/sites/perm").status_code == 200


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


# -- variables -----------------------------------------------------------------------

VARIABLES = "/v1/sites/blog/variables"

BAD_VARIABLES = [
    ({"key": "PLAIN"}, "key"),  # taken on this site
    ({"key": "1ABC"}, "key"),
    ({"key": "MY-KEY"}, "key"),
    ({"key": "WITH SPACE"}, "key"),
    ({"key": ""}, "key"),
    ({"key": 5}, "key"),
    ({"value": "v" * 8193}, "value"),
    ({"value": 5}, "value"),
    ({"secret": 1}, "secret"),
    ({"secret": "yes"}, "secret"),
    ({"scope": "everywhere"}, "scope"),
]


@pytest.mark.parametrize(
    ("change", "field"), BAD_VARIABLES, ids=[repr(c) for c, _ in BAD_VARIABLES]
)
def test_bad_variable_is_refused(world, change, field):
    refused(world["client"], "POST", VARIABLES, {"key": "NEW", "value": "v", **change}, field)


@pytest.mark.parametrize("missing", ["key", "value"])
def test_variable_without_a_required_field_is_refused(world, missing):
    body = {key: value for key, value in {"key": "NEW", "value": "v"}.items() if key != missing}
    refused(world["client"], "POST", VARIABLES, body, missing)


def test_bad_variable_changes_are_refused(world):
    client, secret, plain = world["client"], world["secret"], world["plain"]
    refused(client, "PATCH", f"{VARIABLES}/{secret.id}", {"key": "PLAIN"}, "key")  # rename clash
    refused(client, "PATCH", f"{VARIABLES}/{plain.id}", {"key": "bad-key"}, "key")
    refused(client, "PATCH", f"{VARIABLES}/{plain.id}", {"value": "v" * 8193}, "value")
    refused(client, "PATCH", f"{VARIABLES}/{secret.id}", {"secret": False}, "secret")
    assert Variable.objects.get(pk=secret.id).secret is True


def test_values_at_the_limits_are_accepted(world):
    client = world["client"]
    response = client.post(VARIABLES, {"key": "_LONG_1", "value": "v" * 8192}, format="json")
    assert response.status_code == 201, response.json()
    assert Variable.objects.get(site_id="blog", key="_LONG_1").value == "v" * 8192
    response = client.post(
        "/v1/sites", {**NEW_SITE, "siteId": "n" * 36, "name": "n" * 128}, format="json"
    )
    assert response.status_code == 201, response.json()


def test_a_key_is_unique_per_site_not_globally(world):
    other = make_site(world["team"], "other")
    response = world["client"].post(
        f"/v1/sites/{other.id}/variables", {"key": "PLAIN", "value": "x"}, format="json"
    )
    assert response.status_code == 201, response.json()


def test_secret_values_are_encrypted_at_rest_and_never_returned(world):
    client = world["client"]
    response = client.post(
        VARIABLES, {"key": "API_TOKEN", "value": SECRET_VALUE, "secret": True}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["value"] is None and response.json()["secret"] is True
    variable_id = response.json()["id"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_value FROM sites_variable WHERE id = %s", [variable_id])
        (stored,) = cursor.fetchone()
    assert SECRET_VALUE not in stored
    assert crypto.decrypt(stored) == SECRET_VALUE  # stored, encrypted, not dropped

    renamed = client.patch(f"{VARIABLES}/{variable_id}", {"scope": "build"}, format="json")
    answers = [
        response,
        renamed,
        client.get(f"{VARIABLES}/{variable_id}"),
        client.get(VARIABLES),
        client.get(f"{VARIABLES}/{world['secret'].id}"),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.content
        assert SECRET_VALUE.encode() not in answer.content
    assert renamed.json()["value"] is None
    listed = {item["key"]: item["value"] for item in client.get(VARIABLES).json()["variables"]}
    assert listed == {"API_TOKEN": None, "PLAIN": "hello", "SECRET": None}

    # A plain variable is encrypted at rest too, and reads back as written.
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_value FROM sites_variable WHERE key = 'PLAIN'")
        (stored_plain,) = cursor.fetchone()
    assert "hello" not in stored_plain


def test_a_variable_can_be_made_secret_but_not_public_again(world):
    client, plain = world["client"], world["plain"]
    response = client.patch(f"{VARIABLES}/{plain.id}", {"secret": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["value"] is None
    refused(client, "PATCH", f"{VARIABLES}/{plain.id}", {"secret": False}, "secret")


# -- lists ---------------------------------------------------------------------------

LISTS = [
    ("/v1/sites", "sites"),
    ("/v1/teams", "teams"),
    ("/v1/sites/blog/variables", "variables"),
    ("/v1/teams/acme/memberships", "memberships"),
    ("/v1/account/keys", "keys"),
]
BAD_PAGES = [("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit")]
BAD_PAGES += [("offset=-1", "offset"), ("offset=x", "offset"), ("limit=1.5", "limit")]


@pytest.mark.parametrize(("path", "key"), LISTS)
@pytest.mark.parametrize(("query", "field"), BAD_PAGES)
def test_bad_paging_is_refused(world, path, key, query, field):
    refused(world["client"], "GET", f"{path}?{query}", None, field)


@pytest.mark.parametrize(("path", "key"), LISTS)
def test_list_envelope(world, path, key):
    response = world["client"].get(path + "?limit=100")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"total", key}
    assert body["total"] == len(body[key]) >= 1


def _ids(client, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()[_key(path)]]


def _key(path: str) -> str:
    return path.split("?")[0].rstrip("/").split("/")[-1]


def _paging_works(client, path: str, total: int, search: str, found: int) -> None:  # type: ignore[no-untyped-def]
    everything = _ids(client, f"{path}?limit=100")
    assert len(everything) == total
    body = client.get(f"{path}?limit=2").json()
    assert body["total"] == total and len(body[_key(path)]) == 2
    pages = [_ids(client, f"{path}?limit=2&offset={offset}") for offset in range(0, total, 2)]
    assert [item for page in pages for item in page] == everything  # in order, no overlap
    assert _ids(client, f"{path}?offset={total - 1}") == everything[-1:]
    assert _ids(client, f"{path}?offset={total}") == []
    searched = client.get(f"{path}?search={search}").json()
    assert searched["total"] == found == len(searched[_key(path)])


def test_sites_list_pages_and_searches(world):
    for name in ["Alpha", "Bravo", "Charlie", "Alpine"]:
        make_site(world["team"], name=name)
    _paging_works(world["client"], "/v1/sites", total=5, search="alp", found=2)


def test_default_page_is_25(world):
    for index in range(29):
        make_site(world["team"], name=f"Site {index}")
    body = world["client"].get("/v1/sites").json()
    assert body["total"] == 30 and len(body["sites"]) == 25


def test_teams_list_pages_and_searches(world):
    for name in ["Gamma", "Delta", "Gammy"]:
        make_team(world["owner"], name=name)
    make_team(name="Gamma elsewhere")  # not the caller's: neither listed nor found
    _paging_works(world["client"], "/v1/teams", total=5, search="gamm", found=2)


def test_variables_list_pages_and_searches(world):
    for key in ["DB_URL", "DB_USER", "PORT"]:
        site_services.variable_create(site=world["site"], key=key, value="v")
    _paging_works(world["client"], VARIABLES, total=5, search="DB_", found=2)


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
    refused(
        client, "POST", MEMBERSHIPS, {"email": "ghost@example.com", "roles": ["viewer"]}, "email"
    )
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


# -- API keys, the command, docs and the browsable API ---------------------------------


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


def test_openapi_schema_and_docs(world):
    response = world["client"].get("/v1/openapi.json")
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    schema = json.loads(response.content)
    assert "/v1/sites" in schema["paths"]
    assert "/v1/sites/{site_id}/variables" in schema["paths"]
    docs = world["client"].get("/v1/docs")
    assert docs.status_code == 200 and docs["Content-Type"].startswith("text/html")
    assert b"<html" in docs.content.lower()


def test_browsable_api_for_a_session_user(world, client):
    client.force_login(world["owner"])
    response = client.get("/v1/sites", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"<html" in response.content.lower() and b"blog" in response.content
    # A session works for JSON too, and anonymous browsers still get nothing.
    assert client.get("/v1/sites/blog").json()["id"] == "blog"
    client.logout()
    assert client.get("/v1/sites/blog").status_code == 401


# -- deleting a site -------------------------------------------------------------------


def test_site_delete_removes_deployments_variables_and_files(
    world, django_capture_on_commit_callbacks
):
    site = world["site"]
    artifacts = storages["artifacts"]
    deployment = Deployment.objects.create(site=site, source_type="upload", status="ready")
    Site.objects.filter(pk=site.pk).update(deployment=deployment)
    stored = [
        f"sites/{site.id}/deployments/{deployment.id}/source.tar.gz",
        f"sites/{site.id}/deployments/{deployment.id}/output/index.html",
        f"sites/{site.id}/cache/leftover.bin",
    ]
    for name in stored:
        artifacts.save(name, ContentFile(b"data"))
    neighbour = make_site(world["team"], "blog-2")  # a prefix of the same letters: kept
    artifacts.save("sites/blog-2/keep.txt", ContentFile(b"keep"))

    with django_capture_on_commit_callbacks(execute=True):
        response = world["client"].delete(f"/v1/sites/{site.id}")
    assert response.status_code == 204

    assert not Site.objects.filter(pk=site.id).exists()
    assert not Deployment.objects.filter(site_id=site.id).exists()
    assert not Variable.objects.filter(site_id=site.id).exists()
    assert not SiteGroupObjectPermission.objects.filter(content_object_id=site.id).exists()
    for name in stored:
        assert not artifacts.exists(name), name
    assert not artifacts.exists(f"sites/{site.id}")
    assert artifacts.exists("sites/blog-2/keep.txt")
    assert Site.objects.filter(pk=neighbour.pk).exists()
    assert world["client"].get(f"/v1/sites/{site.id}").status_code == 404


def test_a_team_with_sites_is_not_deleted(world):
    refused(world["client"], "DELETE", "/v1/teams/acme", None, "sites", 409, "conflict")
    world["client"].delete("/v1/sites/blog")
    assert world["client"].delete("/v1/teams/acme").status_code == 204
    assert not Group.objects.filter(name__startswith="team:acme:").exists()


# -- the error envelope outside validation ----------------------------------------------


def test_malformed_json_unknown_paths_and_methods_answer_the_envelope(world):
    client = world["client"]
    bad_json = client.post("/v1/sites", "{not json", content_type="application/json")
    assert bad_json.status_code == 400
    assert envelope_problem(400, bad_json.json()) is None
    assert bad_json.json()["type"] == "invalid_body"

    unknown = client.get("/v1/no-such-collection")
    assert unknown.status_code == 404 and envelope_problem(404, unknown.json()) is None

    put = client.put("/v1/sites/blog", {"name": "x"}, format="json")
    assert put.status_code == 405 and envelope_problem(405, put.json()) is None
    assert put.json()["type"] == "method_not_allowed"
    assert Site.objects.get(pk="blog").name == "Blog"
