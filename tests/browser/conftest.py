"""Browser fixtures: Debian's Chromium (driven by Playwright), a live server that also
serves the dashboard's static files and queues builds for this session's worker, a real
Celery worker building in Docker, and a directory for screenshots."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import global_settings

from tests.e2e.conftest import (  # noqa: F401 (fixtures)
    docker_ready,
    live_database_env,
    start_worker,
    stop_worker,
)
from tests.factories import make_team, make_user
from tests.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-results" / "browser"
PASSWORD = "a-browser-password-1"


@pytest.fixture(scope="session")
def chromium_available() -> None:
    """Debian's Chromium (Playwright cannot download its own here). Missing, the tests
    skip, except under CI=true (.ci/run installs it), where they fail. Used as a mark,
    so that they skip before the server and the worker start."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


@pytest.fixture
def chromium(chromium_available, transactional_db) -> Iterator:  # type: ignore[no-untyped-def, type-arg]
    """The browser, for one test. Request it after the fixtures that use the database:
    Playwright's sync API keeps an event loop running in this thread, and Django
    refuses the ORM there, so that check is off while the browser runs; the browser
    stops before the database is flushed."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def context(chromium) -> Iterator:  # type: ignore[no-untyped-def, type-arg]
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """`screenshot(page, "name")` saves test-results/browser/<name>.png (the whole page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def _dashboard_var_dir(tmp_path_factory) -> Path:
    """A var directory for the dashboard's server, its static/ holding the project's
    static files: without DEBUG, WhiteNoise serves only what STATIC_ROOT holds (`make
    run` collects them), and the upload box and the live log are scripts. They are
    copied rather than collected: collectstatic also compresses every file of the
    admin and the API docs, some 20 s, for pages this test does not open."""
    from django.conf import settings

    var_dir = tmp_path_factory.mktemp("dashboard-var")
    for source in settings.STATICFILES_DIRS:
        shutil.copytree(source, var_dir / "static", dirs_exist_ok=True)
    return var_dir


def _shared_secrets() -> dict[str, str]:
    """The server gets another var directory: it must still sign and encrypt with the
    keys of this process and of the worker."""
    from django.conf import settings

    return {
        "SECRET_KEY": settings.SECRET_KEY,
        "SHIPWAY_ENCRYPTION_KEY": settings.SHIPWAY_ENCRYPTION_KEY,
    }


@pytest.fixture(scope="session")
def _dashboard_server(_live_server, _dashboard_var_dir, edge_storage, tmp_path_factory):
    """A LiveServer of its own (tests.live's, which skips or fails without PostgreSQL,
    stays as the edge tests start it): this one has the static files and queues builds
    on this session's queue."""
    server = LiveServer(edge_storage, tmp_path_factory.mktemp("dashboard-live"))
    yield server
    server.stop()


@pytest.fixture
def dashboard(
    _dashboard_server, _dashboard_var_dir, transactional_db, live_storage, settings, monkeypatch
) -> str:
    """The dashboard's base URL, e.g. http://127.0.0.1:PORT. Sites answer on
    http://{siteId}.sites.localhost:PORT there (SITES_URL_TEMPLATE), and Chromium
    resolves every *.localhost name to the loopback."""
    with monkeypatch.context() as env:
        env.setenv("SHIPWAY_VAR_DIR", str(_dashboard_var_dir))
        env.setenv("SHIPWAY_BUILD_QUEUE", settings.SHIPWAY_BUILD_QUEUE)
        env.setenv("SHIPWAY_SERVER_QUEUE", settings.SHIPWAY_SERVER_QUEUE)
        env.setenv("SHIPWAY_NOTIFY_QUEUE", settings.SHIPWAY_NOTIFY_QUEUE)
        env.setenv("SHIPWAY_MAINTENANCE_QUEUE", settings.SHIPWAY_MAINTENANCE_QUEUE)
        for name, value in _shared_secrets().items():
            env.setenv(name, value)
        port = _dashboard_server.ensure_fresh()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def build_worker(live_storage, live_database_env, edge_storage, tmp_path):  # noqa: F811
    """A real Celery worker building in Docker, reading and writing the storage the
    server uses (live_database_env alone would point it at this test's own)."""
    env = {**live_database_env, "SHIPWAY_STORAGE_ROOT": str(edge_storage)}
    process = start_worker(env, tmp_path)
    yield process
    stop_worker(process)


@pytest.fixture
def member(transactional_db, settings):
    """A user who owns a team, with a password the server can check (tests/conftest.py
    hashes with MD5 for speed, which the server does not accept)."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = make_user()
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    make_team(user, name="Browser Team")
    return user
