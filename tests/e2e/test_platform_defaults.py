"""The platform as `make run` starts it, with nothing configured: runplatform's web
processes, a real worker and beat on the embedded PostgreSQL and Redis. Builds under
concurrent uploads, activations and redeploys all end `ready`; data outlives a restart."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from core.embedded import free_port
from tests.archives import tar_gz

pytestmark = pytest.mark.docker

FINAL = {"ready", "failed", "canceled"}


class Platform:
    """`manage.py runplatform` in a fresh var directory, as a new user's `make run`."""

    def __init__(self, var_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.var_dir = var_dir
        self.log_path = log_path
        self.env = {
            name: value
            for name, value in os.environ.items()
            if name not in {"DATABASE_URL", "REDIS_URL", "SHIPWAY_READ_CACHE_URL"}
        } | {
            "SHIPWAY_VAR_DIR": str(var_dir),
            "SHIPWAY_ADMIN_PASSWORD": "a-platform-password-1",
            "SHIPWAY_EMBEDDED_REDIS_PORT": str(free_port()),
            "SITES_URL_TEMPLATE": f"http://{{host}}:{self.port}",
            "SHIPWAY_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
        }
        self.process: subprocess.Popen | None = None
        self.session = requests.Session()

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runplatform", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300  # a first start collects and compresses static files
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            if "Shipway is up" in self.log():
                try:
                    requests.get(self.url("/v1/"), timeout=2)
                    return
                except requests.ConnectionError:
                    pass
            time.sleep(0.3)
        raise AssertionError(f"the platform did not come up:\n{self.log()}")

    def stop(self) -> None:
        """Ctrl-C, as a person at the terminal would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def use_new_key(self) -> None:
        secret = subprocess.run(
            [sys.executable, "manage.py", "createapikey", "admin"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        self.session.headers["Authorization"] = f"Bearer {secret}"

    def api(self, method: str, path: str, expect: int, **kwargs) -> dict:  # type: ignore[no-untyped-def]
        response = self.session.request(method, self.url(path), timeout=30, **kwargs)
        assert response.status_code == expect, (response.status_code, response.text)
        return response.json() if response.content else {}


@pytest.fixture
def platform(docker_ready, tmp_path):
    # Not under pytest's own temporary root: pytest makes that private again (0700) when
    # another session starts, and the embedded PostgreSQL runs as a user of its own.
    var_dir = Path(tempfile.mkdtemp(prefix="shipway-platform-"))
    platform = Platform(var_dir / "var", tmp_path / "platform.log")
    try:
        platform.start()
        yield platform
    finally:  # also when it never came up: nothing of it may outlive the test
        platform.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


def _upload(platform: Platform, site_id: str, body: str) -> str:
    archive = tar_gz({"index.html": body})
    answer = platform.api(
        "POST",
        f"/v1/sites/{site_id}/deployments",
        202,
        files={"code": ("site.tar.gz", archive, "application/gzip")},
        data={"activate": "false"},
    )
    return answer["id"]


def _wait_final(platform: Platform, site_id: str, deployment_ids: list[str]) -> dict[str, dict]:
    deadline = time.monotonic() + 300
    final: dict[str, dict] = {}
    while time.monotonic() < deadline and len(final) < len(deployment_ids):
        for deployment_id in deployment_ids:
            if deployment_id not in final:
                answer = platform.api(
                    "GET", f"/v1/sites/{site_id}/deployments/{deployment_id}", 200
                )
                if answer["status"] in FINAL:
                    final[deployment_id] = answer
        time.sleep(0.3)
    assert len(final) == len(deployment_ids), f"not final in time:\n{platform.log()[-3000:]}"
    return final


def test_concurrent_uploads_activations_and_redeploys_all_end_ready(platform):
    assert "PostgreSQL (embedded" in platform.log() and "Redis (embedded" in platform.log()
    platform.use_new_key()
    team = platform.api("POST", "/v1/teams", 201, json={"name": "Concurrency"})
    sites = [f"busy-{i}" for i in range(5)]
    for site_id in sites:
        platform.api(
            "POST",
            "/v1/sites",
            201,
            json={
                "siteId": site_id,
                "name": site_id,
                "teamId": team["id"],
                "framework": "other",
                "installCommand": "",
                "buildCommand": "mkdir -p out && cp index.html out/",
                "outputDirectory": "out",
            },
        )
    # The feed, on one of the web processes, hears the worker's events (through Redis).
    feed = connect(
        f"ws://127.0.0.1:{platform.port}/v1/realtime?channels=sites.{sites[0]}.deployments",
        open_timeout=10,
        additional_headers={"Authorization": platform.session.headers["Authorization"]},
    )
    with feed:
        assert json.loads(feed.recv(timeout=10))["type"] == "connected"
        first = {site_id: _upload(platform, site_id, f"first {site_id}") for site_id in sites}
        heard = []
        while "ready" not in heard:
            heard.append(json.loads(feed.recv(timeout=60))["data"]["payload"].get("status"))
    for site_id, deployment_id in first.items():
        assert _wait_final(platform, site_id, [deployment_id])[deployment_id]["status"] == "ready"

    # Ten uploads at once (two per site), and while they build, every site's first
    # deployment is activated and redeployed.
    with ThreadPoolExecutor(max_workers=10) as pool:
        uploads = [
            (site_id, pool.submit(_upload, platform, site_id, f"{n} {site_id}"))
            for site_id in sites
            for n in ("second", "third")
        ]
        made = {site_id: [] for site_id in sites}  # type: dict[str, list[str]]
        for site_id, future in uploads:
            made[site_id].append(future.result())
        activations = [
            pool.submit(
                platform.api,
                "PATCH",
                f"/v1/sites/{site_id}/deployments/{first[site_id]}/activate",
                200,
            )
            for site_id in sites
        ]
        redeploys = [
            (
                site_id,
                pool.submit(
                    platform.api,
                    "POST",
                    f"/v1/sites/{site_id}/deployments/{first[site_id]}/redeploy",
                    202,
                ),
            )
            for site_id in sites
        ]
        for future in activations:
            future.result()
        for site_id, future in redeploys:
            made[site_id].append(future.result()["id"])

    for site_id, deployment_ids in made.items():
        final = _wait_final(platform, site_id, deployment_ids)
        problems = {
            d: (a["status"], a.get("errorCode")) for d, a in final.items() if a["status"] != "ready"
        }
        assert not problems, f"{site_id}: {problems}\n{platform.log()[-3000:]}"
        site = platform.api("GET", f"/v1/sites/{site_id}", 200)
        assert site["deploymentId"] == first[site_id]
        page = requests.get(
            platform.url("/"), headers={"Host": f"{site_id}.sites.localhost"}, timeout=10
        )
        assert page.status_code == 200 and page.text == f"first {site_id}"

    # Ctrl-C and a second start: the embedded PostgreSQL kept everything.
    platform.stop()
    postgres_pid = platform.var_dir / "postgres" / "postmaster.pid"
    assert not postgres_pid.exists(), "the embedded PostgreSQL is still running after Ctrl-C"
    platform.start()
    listed = platform.api("GET", "/v1/sites", 200)
    assert sorted(site["id"] for site in listed["sites"]) == sites
    deployments = platform.api("GET", f"/v1/sites/{sites[0]}/deployments", 200)
    assert deployments["total"] == 4
    page = requests.get(
        platform.url("/"), headers={"Host": f"{sites[0]}.sites.localhost"}, timeout=10
    )
    assert page.text == f"first {sites[0]}"
