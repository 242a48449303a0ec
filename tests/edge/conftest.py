"""Edge fixtures: a real uvicorn serving config.asgi on loopback, against the test
database and a storage directory shared by the whole session."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.storage import storages

from config.celery import app as celery_app
from deployments.models import Deployment
from deployments.services import deployment_create_from_upload
from tests.archives import tar_gz, upload
from tests.factories import make_site, make_team, make_user

SITES_DOMAIN = "sites.localhost"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def edge_storage(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("edge-storage")


@pytest.fixture(autouse=True)
def _edge_storage_for_this_test(settings, edge_storage):
    """Every edge test writes where the session's server reads."""
    settings.MEDIA_ROOT = edge_storage
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": edge_storage},
        },
    }
    storages._storages.pop("artifacts", None)
    settings.SITES_DOMAIN = SITES_DOMAIN


@pytest.fixture(scope="session")
def edge_server(django_db_setup, django_db_blocker, edge_storage, tmp_path_factory):
    """uvicorn with config.asgi on a free loopback port."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        reason = "edge tests need DATABASE_URL (PostgreSQL) shared with the server"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}",
        "SHIPWAY_STORAGE_ROOT": str(edge_storage),
        "SITES_DOMAIN": SITES_DOMAIN,
        "SITES_URL_TEMPLATE": f"http://{{host}}:{port}",
        "SHIPWAY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DATABASE_CONN_MAX_AGE": "0",
    }
    log = open(tmp_path_factory.mktemp("edge") / "uvicorn.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--lifespan",
            "off",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("uvicorn did not start")
    yield port
    process.terminate()
    process.wait(timeout=10)


class EdgeClient:
    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, host: str, path: str = "/", method: str = "GET", **headers: str):  # type: ignore[no-untyped-def]
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        names = {k.replace("_", "-"): v for k, v in headers.items()}
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host)
        for name, value in names.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response


@pytest.fixture
def edge(edge_server) -> EdgeClient:
    return EdgeClient(edge_server)


def publish(site, files: dict[str, str | bytes], activate: bool = True) -> Deployment:
    """A ready deployment of `files`, built at once in this process (a no-build static
    site needs no container)."""
    celery_app.conf.task_always_eager = True
    try:
        deployment = deployment_create_from_upload(
            site=site, archive=upload(tar_gz(files)), activate=activate
        )
    finally:
        celery_app.conf.task_always_eager = False
    deployment.refresh_from_db()
    assert deployment.status == "ready", deployment.error_code
    return deployment


@pytest.fixture
def static_site(transactional_db):
    owner = make_user()
    site = make_site(make_team(owner), framework="static", access="public")
    return site, owner
