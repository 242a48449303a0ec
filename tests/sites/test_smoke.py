import pytest

from tests.factories import api_client, make_team, make_user

pytestmark = pytest.mark.django_db


def test_create_and_list_site():
    owner = make_user()
    team = make_team(owner, team_id="acme")
    client = api_client(owner)
    r = client.post(
        "/v1/sites",
        {"siteId": "blog", "name": "Blog", "teamId": team.id, "framework": "react"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["outputDirectory"] == "dist" and body["buildRuntime"] == "node-22"
    r = client.get("/v1/sites")
    assert r.json()["total"] == 1
    assert api_client(make_user()).get("/v1/sites/blog").status_code == 404
