"""Lists cost the same number of SQL queries for 1 item as for 200 (no N+1).

Each list is read once to warm up (an API key records its first use with one UPDATE,
content types are cached), then measured with 1 item, then with 200; the page size is
the maximum (100), so a query per item would show as 99 extra queries. The read cache is
dropped before each measurement, so these count the database path; a repeated read
from the cache costs none (test_site_list_repeated_reads_no_database).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from core import readcache
from sites import services as site_services
from tests.factories import add_member, api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db

PAGE = "?limit=100"


def _measure(client, path: str, key: str, expected_total: int) -> int:  # type: ignore[no-untyped-def]
    readcache.invalidate()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == expected_total
    assert len(body[key]) == min(expected_total, 100)
    return len(queries)


def _same_count(
    client,  # type: ignore[no-untyped-def]
    path: str,
    key: str,
    add_199: Callable[[], None],
    *,
    also_visible: int = 0,
    label: str = "",
) -> int:
    """Measure `path` with 1 item (+ `also_visible`), add 199, measure again."""
    client.get(path)  # warm up
    one = _measure(client, path, key, 1 + also_visible)
    add_199()
    many = _measure(client, path, key, 200 + also_visible)
    print(f"\nGET {path}{label}: 1 {key[:-1]} -> {one} queries, 200 -> {many} queries")
    assert one == many, f"GET {path}: {one} queries for 1 {key[:-1]} but {many} for 200"
    return many


@pytest.mark.parametrize("role", ["owner", "viewer", "staff"])
def test_site_list(role):
    owner = make_user()
    team = make_team(owner)
    caller = owner
    if role == "viewer":
        caller = add_member(team, make_user(), Role.VIEWER)
    elif role == "staff":
        caller = make_user(is_staff=True, is_superuser=True)
    make_site(team, name="Site 0")
    other_team = make_team()  # sites the caller may not see must not cost queries either
    make_site(other_team, name="Hidden")

    def add_199() -> None:
        for index in range(1, 200):
            make_site(team, name=f"Site {index}")

    also_visible = 1 if role == "staff" else 0  # staff sees the other team's site too
    queries = _same_count(
        api_client(caller),
        "/v1/sites" + PAGE,
        "sites",
        add_199,
        also_visible=also_visible,
        label=f" as {role}",
    )
    assert queries == 2  # the API key and the page (with its total), nothing else


def test_site_list_repeated_reads_no_database():
    """The second identical read comes from the read cache: same body, no SQL at all."""
    owner = make_user()
    team = make_team(owner)
    for index in range(30):
        make_site(team, name=f"Site {index}")
    client = api_client(owner)
    first = client.get("/v1/sites")
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/v1/sites")
    assert again.status_code == 200
    assert again.content == first.content
    for header in ("Content-Type", "Vary", "Allow", "X-Frame-Options"):
        assert again[header] == first[header], header
    assert again["Content-Type"] == "application/json"
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_team_list():
    user = make_user()
    make_team(user, name="Team 0")
    make_team(name="Not mine")

    def add_199() -> None:
        for index in range(1, 200):
            team = make_team(make_user(), name=f"Team {index}")
            add_member(team, user, Role.VIEWER)

    _same_count(api_client(user), "/v1/teams" + PAGE, "teams", add_199)


def test_variable_list():
    owner = make_user()
    site = make_site(make_team(owner))
    site_services.variable_create(site=site, key="KEY_0", value="v", secret=True)

    def add_199() -> None:
        for index in range(1, 200):
            site_services.variable_create(
                site=site, key=f"KEY_{index}", value="v", secret=index % 2 == 0
            )

    path = f"/v1/sites/{site.id}/variables" + PAGE
    _same_count(api_client(owner), path, "variables", add_199)


def test_membership_list():
    owner = make_user()
    team = make_team(owner)

    def add_199() -> None:
        for index in range(1, 200):
            add_member(team, make_user(), [Role.VIEWER, Role.DEVELOPER, Role.OWNER][index % 3])

    path = f"/v1/teams/{team.id}/memberships" + PAGE
    _same_count(api_client(owner), path, "memberships", add_199)
