"""Dashboard test data: a team with one user per role, an outsider, a site with a
deployment and variables, all made through the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from accounts.models import Role, Team
from deployments.models import Deployment
from deployments.services import deployment_create_from_upload
from sites import services as site_services
from sites.models import Site, Variable
from tests.archives import tar_gz, upload
from tests.edge.conftest import publish
from tests.factories import add_member, make_site, make_team, make_user

SECRET_VALUE = "sk_live_never_in_html_4f1c9b"
ARCHIVE = {"index.html": "<h1>Hello</h1>"}


def client_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def waiting_deployment(site: Site, user: Any = None, activate: bool = True) -> Deployment:
    """A deployment that stays `waiting`: in a test transaction its build is never queued
    (the enqueue waits for a commit that never comes)."""
    return deployment_create_from_upload(
        site=site, archive=upload(tar_gz(ARCHIVE)), activate=activate, user=user
    )


def ready_deployment(site: Site, files: dict[str, str] | None = None, **kw: Any) -> Deployment:
    """A ready deployment built at once in this process (a static site needs no
    container). Needs a transactional test: the build starts on commit."""
    return publish(site, files or ARCHIVE, **kw)


@dataclass
class World:
    team: Team
    site: Site
    deployment: Deployment
    variable: Variable
    secret: Variable
    users: dict[str, Any]

    def client(self, who: str) -> Client:
        return client_for(self.users.get(who))


def build_world() -> World:
    owner = make_user("owner")
    team = make_team(owner, team_id="team-a", name="Team A")
    users = {
        "owner": owner,
        "developer": add_member(team, make_user("developer"), Role.DEVELOPER),
        "viewer": add_member(team, make_user("viewer"), Role.VIEWER),
        "outsider": make_user("outsider"),
        "anonymous": None,
    }
    make_team(users["outsider"], team_id="team-b", name="Team B")  # teams of their own
    site = make_site(team, site_id="site-a", name="Site A", framework="static")
    deployment = waiting_deployment(site, owner)
    variable = site_services.variable_create(site=site, key="API_URL", value="https://api.test")
    secret = site_services.variable_create(site=site, key="TOKEN", value=SECRET_VALUE, secret=True)
    return World(team, site, deployment, variable, secret, users)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()
