"""API keys: the secret is shown once, right after creation; deleting one ends it."""

from __future__ import annotations

import re

import pytest

from accounts.models import ApiKey
from accounts.services import api_key_create
from tests.dashboard.conftest import client_for
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_new_keys_secret_is_shown_once_and_works() -> None:
    user = make_user()
    client = client_for(user)
    created = client.post("/account/keys/", {"name": "CI deploys"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    html = created.content.decode()
    secret = re.search(r'id="new-key" class="mono" value="(sw_[^"]+)"', html)[1]
    later = client.get("/account/keys/").content.decode()
    assert "CI deploys" in later and secret not in later
    api = client_for(None)
    assert api.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_a_key_needs_a_name() -> None:
    response = client_for(make_user()).post("/account/keys/", {"name": ""})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_delete_your_key_but_not_someone_elses() -> None:
    user, other = make_user(), make_user()
    mine, _ = api_key_create(user=user, name="mine")
    theirs, _ = api_key_create(user=other, name="theirs")
    client = client_for(user)
    assert client.post(f"/account/keys/{theirs.id}/delete/").status_code == 404
    assert client.post(f"/account/keys/{mine.id}/delete/").status_code == 302
    assert list(ApiKey.objects.values_list("name", flat=True)) == ["theirs"]


def test_the_list_shows_only_your_keys() -> None:
    user, other = make_user(), make_user()
    api_key_create(user=user, name="laptop")
    api_key_create(user=other, name="someone else's")
    html = client_for(user).get("/account/keys/").content.decode()
    assert "laptop" in html and "someone else" not in html


def test_a_key_made_in_the_dashboard_can_expire_and_be_limited() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import make_site, make_team

    user = make_user()
    team = make_team(user, team_id="ours", name="Ours")
    make_site(team, site_id="ours-site")
    make_site(make_team(user, team_id="theirs"), site_id="theirs-site")
    client = client_for(user)
    page = client.get("/account/keys/").content.decode()
    assert 'name="expires_in"' in page and 'name="team"' in page and 'name="read_only"' in page
    assert '<option value="ours">Ours</option>' in page
    created = client.post(
        "/account/keys/",
        {"name": "CI reads", "expires_in": "30", "team": "ours", "read_only": "on"},
    )
    assert created.status_code == 200, created.content.decode()
    secret = re.search(r'id="new-key" class="mono" value="(sw_[^"]+)"', created.content.decode())[1]
    key = ApiKey.objects.get(name="CI reads")
    assert key.team_id == "ours" and key.read_only
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    listed = client.get("/account/keys/").content.decode()
    assert "Read-only" in listed and "Ours" in listed
    api = client_for(None)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert [s["id"] for s in api.get("/v1/sites", **auth).json()["sites"]] == ["ours-site"]
    write = api.patch(
        "/v1/sites/ours-site", '{"name": "x"}', content_type="application/json", **auth
    )
    assert write.status_code == 403


def test_the_dashboard_refuses_a_team_the_user_is_not_in() -> None:
    from tests.factories import make_team

    make_team(make_user(), team_id="not-mine")
    response = client_for(make_user()).post("/account/keys/", {"name": "x", "team": "not-mine"})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()
