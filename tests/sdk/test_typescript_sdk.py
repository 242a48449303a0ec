"""The TypeScript SDK (sdk/typescript) built and its own test (Node's test runner) run
against a live platform."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.sdk.conftest import SDK_DIR, Platform

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

PACKAGE = SDK_DIR / "typescript"


@pytest.fixture(scope="session")
def built_sdk() -> None:
    if shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but npm is not installed")
        pytest.skip("npm is not installed")
    lock = PACKAGE / "package-lock.json"
    installed = PACKAGE / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PACKAGE, check=True)
    subprocess.run(["npm", "run", "build"], cwd=PACKAGE, check=True, capture_output=True)


def test_the_typescript_sdk_deploys_follows_and_rolls_back(built_sdk, platform: Platform) -> None:
    env = {
        **os.environ,
        "SHIPWAY_URL": platform.url,
        "SHIPWAY_TOKEN": platform.token,
        "SHIPWAY_TEAM": platform.team_id,
        "SHIPWAY_ARCHIVES": ",".join(str(path) for path in platform.archives),
    }
    done = subprocess.run(
        ["npm", "test"], cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# pass 3" in done.stdout and "# fail 0" in done.stdout, done.stdout
