"""A live platform for the SDKs' own tests: the web's real server and a real Celery
worker on the test database, a user with a team and an API key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from accounts import services as account_services
from tests.archives import tar_gz
from tests.e2e.conftest import docker_ready, live_database_env, worker  # noqa: F401  (fixtures)
from tests.factories import make_team, make_user
from tests.live import SITES_DOMAIN

SDK_DIR = Path(__file__).resolve().parents[2] / "sdk"


@dataclass
class Platform:
    url: str
    token: str
    team_id: str
    archives: list[Path]


@pytest.fixture
def platform(live_storage, edge_server, worker, tmp_path, settings) -> Platform:  # noqa: F811
    """live_storage first: the worker then writes artifacts where the server reads them."""
    settings.SITES_DOMAIN = SITES_DOMAIN
    owner = make_user()
    team = make_team(owner)
    _, token = account_services.api_key_create(user=owner, name="sdk")
    archives = []
    for n in (1, 2):
        path = tmp_path / f"site-{n}.tar.gz"
        path.write_bytes(tar_gz({"index.html": f"<h1>deployment {n}</h1>"}))
        archives.append(path)
    return Platform(f"http://127.0.0.1:{edge_server}", token, team.id, archives)
