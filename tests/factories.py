"""Small factories: every object is made through the services, as the product makes it."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Role, Team
from config.celery import app as celery_app
from sites import services as site_services
from sites.models import Site

_counter = itertools.count(1)


def make_user(username: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password="pw-for-tests-1", **extra
    )


def make_team(owner=None, team_id: str | None = None, name: str = "Team") -> Team:  # type: ignore[no-untyped-def]
    return account_services.team_create(user=owner or make_user(), name=name, team_id=team_id)


def add_member(team: Team, user=None, role: str = Role.VIEWER):  # type: ignore[no-untyped-def]
    user = user or make_user()
    account_services.membership_create(team=team, user=user, role=role)
    return user


def make_site(team: Team, site_id: str | None = None, **fields: Any) -> Site:
    fields.setdefault("name", "Site")
    fields.setdefault("framework", "static")
    return site_services.site_create(team=team, site_id=site_id, **fields)


def api_client(user=None) -> APIClient:  # type: ignore[no-untyped-def]
    """A client that authenticates as `user` with a real API key (anonymous without one)."""
    client = APIClient()
    if user is not None:
        _key, secret = account_services.api_key_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@contextlib.contextmanager
def eager_builds() -> Iterator[None]:
    """Builds queued meanwhile run at once in this process (no worker)."""
    # Deployments send the build task by name, which eager mode runs here only once the
    # task is loaded: load the installed apps' tasks, as a worker does when it starts.
    celery_app.autodiscover_tasks(force=True)
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False
