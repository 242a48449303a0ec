"""A live server for tests: the web's server as runplatform starts it (granian by default,
core/serving.py; SHIPWAY_TEST_WEB_SERVER=uvicorn for uvicorn) serving config.asgi on
loopback, against the test database and a storage directory shared by the whole session
(the edge, realtime)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.storage import storages

from core import serving

SITES_DOMAIN = "sites.localhost"


def test_database_url() -> str:
    """A URL for other processes (servers, workers) to reach the test database with."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    host = quote(db.get("HOST") or "127.0.0.1", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{db['USER']}@{host}{port}/{db['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def edge_storage(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("edge-storage")


@pytest.fixture
def live_storage(settings, edge_storage):
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


class LiveServer:
    """The web's server serving config.asgi on a free loopback port, against the test
    database.

    The server caches content type and permission ids (Django and guardian do); a
    transactional test's flush recreates those rows with new ids, so the server is
    restarted whenever they changed since it started.
    """

    def __init__(self, storage: Path, log_dir: Path) -> None:
        self.storage = storage
        self.log_dir = log_dir
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.ids: tuple[int, ...] = ()

    def ensure_fresh(self) -> int:
        ids = _cached_ids()
        if self.process is None or ids != self.ids:
            self.stop()
            self._start()
            self.ids = ids
        return self.port

    def _start(self) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "SHIPWAY_STORAGE_ROOT": str(self.storage),
            "SITES_DOMAIN": SITES_DOMAIN,
            "SITES_URL_TEMPLATE": f"http://{{host}}:{self.port}",
            "SHIPWAY_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "DATABASE_CONN_MAX_AGE": "0",
            # Builds it queues go where tests/conftest.py sends this session's (no worker).
            "SHIPWAY_BUILD_QUEUE": f"builds-test-{os.getpid()}",
            "SHIPWAY_SERVER_QUEUE": f"servers-test-{os.getpid()}",
            "SHIPWAY_NOTIFY_QUEUE": f"notify-test-{os.getpid()}",
            "SHIPWAY_MAINTENANCE_QUEUE": f"maintenance-test-{os.getpid()}",
        }
        log = open(self.log_dir / f"uvicorn-{self.port}.log", "wb")  # noqa: SIM115  # any server
        server = os.environ.get("SHIPWAY_TEST_WEB_SERVER") or serving.DEFAULT_WEB_SERVER
        self.process = subprocess.Popen(
            without_dns(
                serving.web_server_command(
                    server,
                    host="127.0.0.1",
                    port=self.port,
                    workers=1,
                    extra=["--lifespan", "off"] if server == "uvicorn" else [],
                ),
                self.log_dir,
            ),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError(f"the live server did not start; see {log.name}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def without_dns(command: list[str], directory: Path) -> list[str]:
    """`command` in a mount namespace of its own whose /etc/resolv.conf names a resolver on
    loopback that does not exist: whatever names the tests (or a fuzzer) make it look
    up, custom domains' records or webhook and repository hosts, no query leaves the
    machine; each fails at once, as an unreachable resolver does. As root only (the
    project's machines and CI); elsewhere the command runs as it is."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return command
    resolv = directory / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
    script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
            str(resolv), *command]  # fmt: skip


def _cached_ids() -> tuple[int, ...]:
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    return (
        *ContentType.objects.order_by("id").values_list("id", flat=True)[:1],
        *Permission.objects.order_by("id").values_list("id", flat=True)[:1],
    )


@pytest.fixture(scope="session")
def _live_server(django_db_setup, django_db_blocker, edge_storage, tmp_path_factory):
    server = LiveServer(edge_storage, tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture
def edge_server(_live_server, transactional_db) -> int:
    """The live server's port, for a transactional test."""
    return _live_server.ensure_fresh()


@contextmanager
def serve_in_thread(app: Any, proxy_headers: bool = True) -> Iterator[int]:
    """Serve an ASGI app instance of the test's own over real HTTP (uvicorn in a thread of
    this process), so that the test can look inside it afterwards. Yields the port.
    Without `proxy_headers`, uvicorn leaves X-Forwarded-* alone (as runplatform without
    SHIPWAY_TRUSTED_PROXIES): the app sees the real peer."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        access_log=False,
        log_level="warning",
        proxy_headers=proxy_headers,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-process uvicorn did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def rss_bytes(pid: int) -> int:
    """A process's resident memory (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


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
def edge(edge_server, live_storage) -> EdgeClient:
    return EdgeClient(edge_server)
