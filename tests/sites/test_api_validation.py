"""Bad input is a 400 naming the field and writes nothing; and the foundation's other
promises: framework defaults, encrypted secrets, list envelopes, the docs, the browsable
API, and a site's deletion taking its deployments and files with it. (Teams,
memberships and API keys: tests/accounts/test_api_validation.py.)"""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection

from accounts.models import Role
from deployments.models import Deployment, Purge
from deployments.tasks import purge_stored
from sites import crypto
from sites import services as site_services
from sites.models import Site, SiteGroupObjectPermission, Variable
from tests.api_checks import _paging_works, refused
from tests.api_matrix import envelope_problem
from tests.conftest import SECRET_VALUE
from tests.factories import add_member, api_client, make_site, make_user

pytestmark = pytest.mark.django_db


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
    ({"environment": "staging"}, "environment"),
    ({"environment": ""}, "environment"),
    ({"environment": 5}, "environment"),
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
    refused(client, "PATCH", f"{VARIABLES}/{plain.id}", {"environment": "dev"}, "environment")


def test_a_variable_has_an_environment_all_unless_told(world):
    client = world["client"]
    response = client.post(VARIABLES, {"key": "EVERYWHERE", "value": "v"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["environment"] == "all"
    response = client.post(
        VARIABLES,
        {"key": "PREVIEW_ONLY", "value": "v", "scope": "build", "environment": "preview"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["environment"], response.json()["scope"]) == ("preview", "build")
    path = f"{VARIABLES}/{response.json()['id']}"
    assert client.get(path).json()["environment"] == "preview"

    # A PATCH that leaves it out keeps it (no default applies); one that names it moves it.
    kept = client.patch(path, {"value": "w"}, format="json")
    assert kept.status_code == 200 and kept.json()["environment"] == "preview"
    moved = client.patch(path, {"environment": "production"}, format="json")
    assert moved.status_code == 200 and moved.json()["environment"] == "production"
    assert Variable.objects.get(pk=response.json()["id"]).environment == "production"
    listed = {v["key"]: v["environment"] for v in client.get(VARIABLES).json()["variables"]}
    assert listed == {
        "EVERYWHERE": "all",
        "PLAIN": "all",
        "PREVIEW_ONLY": "production",
        "SECRET": "all",
    }


def test_a_key_names_one_variable_whatever_its_environment(world):
    """Keys stay unique per site (docs/api.md): a key's production and preview values
    cannot differ, so a second environment for PLAIN is refused."""
    body = {"key": "PLAIN", "value": "preview-value", "environment": "preview"}
    refused(world["client"], "POST", VARIABLES, body, "key")


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
# Found by schemathesis: an offset past PostgreSQL's bigint was a 500.
BAD_PAGES += [("offset=10000000000000000000", "offset"), ("offset=2147483648", "offset")]


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


def test_sites_list_pages_and_searches(world):
    for name in ["Alpha", "Bravo", "Charlie", "Alpine"]:
        make_site(world["team"], name=name)
    _paging_works(world["client"], "/v1/sites", total=5, search="alp", found=2)


def test_default_page_is_25(world):
    for index in range(29):
        make_site(world["team"], name=f"Site {index}")
    body = world["client"].get("/v1/sites").json()
    assert body["total"] == 30 and len(body["sites"]) == 25


def test_variables_list_pages_and_searches(world):
    for key in ["DB_URL", "DB_USER", "PORT"]:
        site_services.variable_create(site=world["site"], key=key, value="v")
    _paging_works(world["client"], VARIABLES, total=5, search="DB_", found=2)


# -- the docs and the browsable API ---------------------------------------------------


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
    # The files go in the background: the purge the delete queued, as a maintenance
    # worker runs it.
    assert all(artifacts.exists(name) for name in stored)
    [purge] = Purge.objects.filter(site_id=site.id)
    purge_stored(purge.id)
    for name in stored:
        assert not artifacts.exists(name), name
    assert not artifacts.exists(f"sites/{site.id}")
    assert artifacts.exists("sites/blog-2/keep.txt")
    assert Site.objects.filter(pk=neighbour.pk).exists()
    assert world["client"].get(f"/v1/sites/{site.id}").status_code == 404


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
