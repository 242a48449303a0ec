"""API keys are not all-powerful forever: they can expire, be limited to one team and
to reads, and cannot mint more keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, Role
from tests.factories import add_member, make_site, make_team, make_user

pytestmark = pytest.mark.django_db


def session(user) -> APIClient:  # type: ignore[no-untyped-def]
    """Signed in, as in the dashboard or the browsable API."""
    client = APIClient()
    client.force_login(user)
    return client


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def new_key(user, **fields) -> dict:  # type: ignore[no-untyped-def]
    response = session(user).post("/v1/account/keys", {"name": "k", **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def two_teams():  # type: ignore[no-untyped-def]
    """A user who owns team `alpha` and develops in team `beta`, a site in each."""
    user = make_user("pat")
    alpha = make_team(user, team_id="alpha")
    beta = make_team(make_user(), team_id="beta")
    add_member(beta, user, Role.DEVELOPER)
    return user, make_site(alpha, site_id="alpha-site"), make_site(beta, site_id="beta-site")


# -- a key cannot mint keys -------------------------------------------------------------


def test_an_api_key_cannot_create_api_keys() -> None:
    user = make_user()
    secret = new_key(user)["secret"]
    minted = bearer(secret).post("/v1/account/keys", {"name": "another"}, format="json")
    assert minted.status_code == 403
    assert minted.json()["type"] == "forbidden"
    assert "session" in minted.json()["message"] or "dashboard" in minted.json()["message"]
    assert ApiKey.objects.filter(user=user).count() == 1


def test_an_api_key_may_revoke_itself_but_not_the_users_other_keys() -> None:
    user = make_user()
    first, second = new_key(user), new_key(user)
    assert bearer(second["secret"]).delete(f"/v1/account/keys/{first['id']}").status_code == 403
    assert bearer(second["secret"]).delete(f"/v1/account/keys/{second['id']}").status_code == 204
    assert list(ApiKey.objects.values_list("pk", flat=True)) == [first["id"]]


# -- expiry -----------------------------------------------------------------------------


def test_a_key_made_to_expire_in_days_stops_working_then(monkeypatch) -> None:
    user = make_user()
    created = new_key(user, expiresIn=7)
    expires = timezone.datetime.fromisoformat(created["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    client = bearer(created["secret"])
    assert client.get("/v1/account").status_code == 200
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=7, minutes=1))
    expired = client.get("/v1/account")
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


def test_a_key_can_expire_at_a_given_time() -> None:
    when = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    created = new_key(make_user(), expiresAt=when.isoformat())
    assert ApiKey.objects.get(pk=created["id"]).expires_at == when


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expiresIn": 0}, "expiresIn"),
        ({"expiresIn": True}, "expiresIn"),
        ({"expiresIn": 3651}, "expiresIn"),
        ({"expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
        ({"expiresIn": 7, "expiresAt": "2999-01-01T00:00:00Z"}, "expiresIn"),
        ({"readOnly": "yes"}, "readOnly"),
        ({"teamId": "nosuch"}, "teamId"),
    ],
)
def test_bad_expiry_or_scope_is_refused(fields, field) -> None:
    response = session(make_user()).post("/v1/account/keys", {"name": "k", **fields}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not ApiKey.objects.exists()


def test_a_key_cannot_be_scoped_to_a_team_its_user_is_not_in(two_teams) -> None:
    _user, _alpha_site, _beta_site = two_teams
    stranger = make_user()
    response = session(stranger).post(
        "/v1/account/keys", {"name": "k", "teamId": "alpha"}, format="json"
    )
    assert response.status_code == 400 and "teamId" in response.json()["fields"]


# -- one team ---------------------------------------------------------------------------


def test_a_team_scoped_key_sees_only_its_team(two_teams) -> None:
    user, alpha_site, beta_site = two_teams
    created = new_key(user, teamId="alpha")
    assert created["teamId"] == "alpha" and created["readOnly"] is False
    client = bearer(created["secret"])

    sites = client.get("/v1/sites").json()
    assert [s["id"] for s in sites["sites"]] == [alpha_site.id] and sites["total"] == 1
    assert [t["id"] for t in client.get("/v1/teams").json()["teams"]] == ["alpha"]
    assert client.get(f"/v1/sites/{alpha_site.id}").status_code == 200
    for path in [
        f"/v1/sites/{beta_site.id}",
        f"/v1/sites/{beta_site.id}/deployments",
        f"/v1/sites/{beta_site.id}/variables",
        f"/v1/sites/{beta_site.id}/domains",
        "/v1/teams/beta",
        "/v1/teams/beta/memberships",
    ]:
        assert client.get(path).status_code == 404, path
    # Writes too: nothing in the other team, nothing outside the team.
    renamed = client.patch(f"/v1/sites/{beta_site.id}", {"name": "x"}, format="json")
    assert renamed.status_code == 404
    other = client.post(
        "/v1/sites", {"teamId": "beta", "name": "x", "framework": "static"}, format="json"
    )
    assert other.status_code == 404
    new_team = client.post("/v1/teams", {"name": "elsewhere"}, format="json")
    assert new_team.status_code == 403 and "alpha" in new_team.json()["message"]
    inside = client.post(
        "/v1/sites", {"teamId": "alpha", "name": "y", "framework": "static"}, format="json"
    )
    assert inside.status_code == 201, inside.json()
    # The same user's unscoped key still sees both.
    everything = bearer(new_key(user)["secret"]).get("/v1/sites").json()
    assert everything["total"] == 3


def test_a_superusers_team_scoped_key_is_limited_too(two_teams) -> None:
    _user, _alpha_site, beta_site = two_teams
    admin = make_user("root", is_superuser=True, is_staff=True)
    client = bearer(new_key(admin, teamId="alpha")["secret"])
    assert client.get(f"/v1/sites/{beta_site.id}").status_code == 404
    assert [t["id"] for t in client.get("/v1/teams").json()["teams"]] == ["alpha"]


# -- read-only --------------------------------------------------------------------------


def test_a_read_only_key_reads_but_writes_nothing(two_teams) -> None:
    user, alpha_site, _beta_site = two_teams
    created = new_key(user, readOnly=True)
    assert created["readOnly"] is True and created["teamId"] is None
    client = bearer(created["secret"])
    assert client.get("/v1/sites").json()["total"] == 2
    assert client.get(f"/v1/sites/{alpha_site.id}/deployments").status_code == 200
    for method, path, body in [
        ("patch", f"/v1/sites/{alpha_site.id}", {"name": "renamed"}),
        ("delete", f"/v1/sites/{alpha_site.id}", None),
        ("post", "/v1/sites", {"teamId": "alpha", "name": "n", "framework": "static"}),
        ("post", f"/v1/sites/{alpha_site.id}/variables", {"key": "A", "value": "b"}),
        ("post", "/v1/teams", {"name": "t"}),
        ("delete", f"/v1/account/keys/{created['id']}", None),
    ]:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 403, (method, path, response.json())
        assert "read-only" in response.json()["message"]
    alpha_site.refresh_from_db()
    assert alpha_site.name != "renamed"
    # Realtime tokens are for reading: a read-only key may ask for one.
    assert client.post("/v1/realtime/tokens").status_code == 201


def test_createapikey_makes_scoped_expiring_keys(two_teams, capsys) -> None:
    user, _alpha_site, _beta_site = two_teams
    call_command(
        "createapikey", user.username, "--name", "ci", "--team", "alpha", "--read-only",
        "--expires-in", "30",
    )  # fmt: skip
    secret = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(name="ci")
    assert key.team_id == "alpha" and key.read_only
    assert key.expires_at - timezone.now() > timedelta(days=29)
    assert bearer(secret).get("/v1/sites").json()["total"] == 1
