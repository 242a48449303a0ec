"""The variables tab: add, edit, delete; a secret's value never reaches the browser."""

from __future__ import annotations

import pytest

from sites.models import Variable
from tests.dashboard.conftest import SECRET_VALUE, build_world

pytestmark = pytest.mark.django_db

NEW_SECRET = "ghp_second_secret_never_echoed_77"


def test_the_list_shows_values_but_masks_secrets() -> None:
    world = build_world()
    for who in ("viewer", "developer", "owner"):
        html = world.client(who).get("/sites/site-a/variables/").content.decode()
        assert "https://api.test" in html
        assert "TOKEN" in html
        assert SECRET_VALUE not in html


def test_the_edit_form_of_a_secret_starts_empty() -> None:
    world = build_world()
    html = world.client("developer").get(f"/sites/site-a/variables/{world.secret.id}/")
    html = html.content.decode()
    assert SECRET_VALUE not in html
    assert "Leave blank to keep the current value." in html
    assert "A secret cannot be made public again." in html


def test_a_refused_secret_is_not_echoed_back() -> None:
    world = build_world()
    client = world.client("developer")
    duplicate = client.post(
        "/sites/site-a/variables/",
        {"key": "TOKEN", "value": NEW_SECRET, "scope": "all", "environment": "all", "secret": "on"},
    )
    assert duplicate.status_code == 400
    html = duplicate.content.decode()
    assert "already exists on this site" in html
    assert NEW_SECRET not in html and SECRET_VALUE not in html
    edit = client.post(
        f"/sites/site-a/variables/{world.secret.id}/",
        {"key": "API_URL", "value": NEW_SECRET, "scope": "all", "environment": "all"},
    )
    assert edit.status_code == 400
    assert NEW_SECRET not in edit.content.decode()
    assert SECRET_VALUE not in edit.content.decode()


def test_add_a_variable_and_a_secret() -> None:
    world = build_world()
    client = world.client("developer")
    response = client.post(
        "/sites/site-a/variables/",
        {"key": "NODE_ENV", "value": "production", "scope": "build", "environment": "all"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/sites/site-a/variables/"
    variable = Variable.objects.get(site_id="site-a", key="NODE_ENV")
    assert (variable.value, variable.scope, variable.secret) == ("production", "build", False)
    client.post(
        "/sites/site-a/variables/",
        {
            "key": "DB_PASSWORD",
            "value": NEW_SECRET,
            "scope": "runtime",
            "environment": "all",
            "secret": "on",
        },
    )
    secret = Variable.objects.get(site_id="site-a", key="DB_PASSWORD")
    assert secret.secret and secret.value == NEW_SECRET
    assert NEW_SECRET not in client.get("/sites/site-a/variables/").content.decode()


def test_a_bad_key_is_refused_with_the_reason() -> None:
    world = build_world()
    response = world.client("developer").post(
        "/sites/site-a/variables/",
        {"key": "1BAD-KEY", "value": "x", "scope": "all", "environment": "all"},
    )
    assert response.status_code == 400
    assert "environment variable name" in response.content.decode()


def test_editing_a_secret_keeps_its_value_unless_a_new_one_is_given() -> None:
    world = build_world()
    client = world.client("developer")
    path = f"/sites/site-a/variables/{world.secret.id}/"
    client.post(path, {"key": "API_TOKEN", "value": "", "scope": "build", "environment": "all"})
    world.secret.refresh_from_db()
    assert (world.secret.key, world.secret.scope, world.secret.value) == (
        "API_TOKEN",
        "build",
        SECRET_VALUE,
    )
    client.post(
        path, {"key": "API_TOKEN", "value": NEW_SECRET, "scope": "build", "environment": "all"}
    )
    world.secret.refresh_from_db()
    assert world.secret.value == NEW_SECRET and world.secret.secret


def test_editing_a_plain_variable_and_making_it_secret() -> None:
    world = build_world()
    client = world.client("owner")
    path = f"/sites/site-a/variables/{world.variable.id}/"
    assert "https://api.test" in client.get(path).content.decode()
    client.post(
        path, {"key": "API_URL", "value": "https://new.test", "scope": "all", "environment": "all"}
    )
    world.variable.refresh_from_db()
    assert world.variable.value == "https://new.test" and not world.variable.secret
    client.post(
        path,
        {
            "key": "API_URL",
            "value": "https://new.test",
            "scope": "all",
            "environment": "all",
            "secret": "on",
        },
    )
    world.variable.refresh_from_db()
    assert world.variable.secret
    assert "https://new.test" not in client.get(path).content.decode()


def test_delete_a_variable() -> None:
    world = build_world()
    response = world.client("developer").post(
        f"/sites/site-a/variables/{world.variable.id}/delete/"
    )
    assert response.status_code == 302
    assert not Variable.objects.filter(pk=world.variable.id).exists()


def test_viewers_see_no_forms() -> None:
    world = build_world()
    html = world.client("viewer").get("/sites/site-a/variables/").content.decode()
    assert "Add a variable" not in html
    assert "/delete/" not in html


def test_the_list_shows_each_variables_environment_and_the_form_offers_them() -> None:
    world = build_world()
    client = world.client("developer")
    added = client.post(
        "/sites/site-a/variables/",
        {
            "key": "PREVIEW_API",
            "value": "https://staging.test",
            "scope": "all",
            "environment": "preview",
        },
    )
    assert added.status_code == 302
    assert Variable.objects.get(site_id="site-a", key="PREVIEW_API").environment == "preview"
    html = client.get("/sites/site-a/variables/").content.decode()
    assert '<th scope="col">Environment</th>' in html
    assert '<td data-label="Environment">Preview</td>' in html
    assert '<td data-label="Environment">Production and preview</td>' in html
    assert 'name="environment"' in html and '<option value="production">' in html


def test_editing_a_variables_environment() -> None:
    world = build_world()
    client = world.client("developer")
    path = f"/sites/site-a/variables/{world.variable.id}/"
    assert '<option value="all" selected>' in client.get(path).content.decode()
    response = client.post(
        path,
        {
            "key": "API_URL",
            "value": "https://api.test",
            "scope": "all",
            "environment": "production",
        },
    )
    assert response.status_code == 302
    world.variable.refresh_from_db()
    assert world.variable.environment == "production"
    assert '<option value="production" selected>' in client.get(path).content.decode()


def test_an_unknown_environment_is_refused() -> None:
    world = build_world()
    response = world.client("developer").post(
        "/sites/site-a/variables/",
        {"key": "NEW", "value": "x", "scope": "all", "environment": "staging"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Variable.objects.filter(site_id="site-a", key="NEW").exists()
