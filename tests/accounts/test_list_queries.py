"""The teams and memberships lists cost the same number of SQL queries for 1 item as for
200 (no N+1), counted as tests/sites/test_list_queries.py counts the sites' lists."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.api_checks import PAGE, _same_count
from tests.factories import add_member, api_client, make_team, make_user

pytestmark = pytest.mark.django_db


def test_team_list():
    user = make_user()
    make_team(user, name="Team 0")
    make_team(name="Not mine")

    def add_199() -> None:
        for index in range(1, 200):
            team = make_team(make_user(), name=f"Team {index}")
            add_member(team, user, Role.VIEWER)

    _same_count(api_client(user), "/v1/teams" + PAGE, "teams", add_199)


def test_membership_list():
    owner = make_user()
    team = make_team(owner)

    def add_199() -> None:
        for index in range(1, 200):
            add_member(team, make_user(), [Role.VIEWER, Role.DEVELOPER, Role.OWNER][index % 3])

    path = f"/v1/teams/{team.id}/memberships" + PAGE
    _same_count(api_client(owner), path, "memberships", add_199)
