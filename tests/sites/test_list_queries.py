"""Lists cost the same number of SQL queries for 1 item as for 200 (no N+1).

Each list is read once to warm up (an API key records its first use with one UPDATE,
content types are cached), then measured with 1 item, then with 200; the page size is
the maximum (100), so a query per item would show as 99 extra queries. The read cache is
dropped before each measurement, so these count the database path; a repeated read
from the cache costs none (test_site_list_repeated_reads_no_database).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from sites import services as site_services
from tests.api_checks import PAGE, _same_count
from tests.factories import add_member, api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db


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
