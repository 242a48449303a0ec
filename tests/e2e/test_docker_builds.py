"""Real builds: a Celery worker process runs each in a Docker container."""

import os
import signal
import time

import pytest

from builds import reaper
from deployments.artifacts import artifacts, read_manifest
from deployments.models import Deployment
from sites.services import variable_create
from tests.archives import vite_app
from tests.e2e.conftest import start_worker
from tests.e2e.helpers import containers_of, deploy, log_of, wait_for, wait_until
from tests.factories import make_site, make_team

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def test_build_command_output_is_packaged_and_activated(worker, owner, client):
    site = make_site(
        make_team(owner),
        framework="other",
        build_command="mkdir -p out && node -e "
        "\"require('fs').writeFileSync('out/index.html', '<p>built by '+process.version+'</p>')\"",
        output_directory="out",
        install_command="",
    )
    deployment = wait_for(deploy(client, site, {"README.md": "hi"}))
    log = log_of(client, deployment)
    assert deployment.status == "ready", log
    site.refresh_from_db()
    assert site.deployment_id == deployment.id
    assert "$ mkdir -p out" in log
    output = client.get(
        f"/v1/sites/{site.id}/deployments/{deployment.id}/download", {"type": "output"}
    )
    assert output.status_code == 200
    # Removed after `ready`, in the background: nothing of the build is left behind.
    wait_until(lambda: not containers_of(deployment), "the build's container to go")


def test_static_site_without_build(worker, owner, client):
    site = make_site(make_team(owner), framework="static")
    deployment = wait_for(deploy(client, site, {"index.html": "<h1>static</h1>"}))
    assert deployment.status == "ready", log_of(client, deployment)
    assert "publishing the source as it is" in log_of(client, deployment)


VITE_APP = vite_app("e2e-vite")


def test_vite_app_detected_installed_built_and_cached(worker, owner, client):
    site = make_site(make_team(owner), framework="auto")
    first = wait_for(deploy(client, site, VITE_APP), timeout=300)
    log = log_of(client, first)
    assert first.status == "ready", log
    assert "Detected framework: vite" in log
    assert "$ npm install" in log and "$ npm run build" in log
    assert "Saved node_modules to the build cache" in log
    manifest = read_manifest(first.storage_prefix)
    assert "/index.html" in manifest["files"]
    assert any(p.startswith("/assets/") and p.endswith(".js") for p in manifest["files"])

    second = client.post(f"/v1/sites/{site.id}/deployments/{first.id}/redeploy", {}, format="json")
    second = wait_for(Deployment.objects.get(pk=second.json()["id"]), timeout=300)
    assert second.status == "ready"
    assert "Restoring node_modules from the build cache" in log_of(client, second)

    third = client.post(
        f"/v1/sites/{site.id}/deployments/{first.id}/redeploy", {"cache": False}, format="json"
    )
    third = wait_for(Deployment.objects.get(pk=third.json()["id"]), timeout=300)
    assert third.status == "ready"
    assert "Restoring node_modules" not in log_of(client, third)


def test_failing_command_fails_with_its_output(worker, owner, client):
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command="echo about to fail; exit 3",
    )
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert (deployment.status, deployment.error_code) == ("failed", "command_failed")
    assert "about to fail" in log and "exited with code 3" in log


def test_build_over_its_timeout_is_stopped(worker, owner, client):
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command="sleep 60",
        timeout=3,
    )
    started = time.monotonic()
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}), timeout=60)
    assert (deployment.status, deployment.error_code) == ("failed", "build_timeout")
    assert time.monotonic() - started < 30
    assert "timeout of 3 s" in log_of(client, deployment)
    assert not containers_of(deployment)


def test_cancel_in_mid_build_stops_the_container(worker, owner, client):
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command="echo build-started; sleep 120",
    )
    deployment = deploy(client, site, {"a.txt": "a"})
    _wait_for_log(client, deployment, "build-started")
    response = client.patch(
        f"/v1/sites/{site.id}/deployments/{deployment.id}/status",
        {"status": "canceled"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "canceled"
    wait_until(lambda: not containers_of(deployment), "the build container to go")
    deployment.refresh_from_db()
    assert (deployment.status, deployment.error_code) == ("canceled", "canceled")
    assert "canceled" in log_of(client, deployment)


def test_build_over_its_memory_limit_fails_as_out_of_memory(worker, owner, client):
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        specification="s-0.5vcpu-512mb",
        build_command='node -e "const a=[];for(;;)a.push(Buffer.alloc(64*1024*1024,1))"',
    )
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}), timeout=120)
    assert (deployment.status, deployment.error_code) == ("failed", "out_of_memory"), log_of(
        client, deployment
    )
    assert "512 MB" in log_of(client, deployment)


def test_build_cannot_reach_host_files_or_the_docker_socket(worker, owner, client, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host-only")
    probe = "; ".join(
        [
            "mkdir -p out",
            "id -u > out/uid.txt",
            f"(cat {secret} > /tmp/s 2>/dev/null && cp /tmp/s out/secret.txt && echo read "
            "|| echo denied) > out/host.txt",
            "(test -e /var/run/docker.sock && echo present || echo absent) > out/socket.txt",
            "(mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo denied) > out/mount.txt",
            "(grep CapEff /proc/self/status | awk '{print $2}') > out/caps.txt",
        ]
    )
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command=probe,
        output_directory="out",
    )
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    assert deployment.status == "ready", log_of(client, deployment)
    files = read_manifest(deployment.storage_prefix)["files"]
    assert "/secret.txt" not in files

    def read(name: str) -> str:
        with artifacts().open(f"{deployment.storage_prefix}/output/{name}") as handle:
            return handle.read().decode().strip()

    assert read("uid.txt") == "10001"
    assert read("host.txt") == "denied"
    assert read("socket.txt") == "absent"
    assert read("mount.txt") == "denied"
    assert read("caps.txt") == "0000000000000000"


def test_secret_variables_are_masked_in_the_log(worker, owner, client):
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command='mkdir -p out && echo "token is $API_TOKEN, public is $PUBLIC" '
        "&& touch out/index.html",
        output_directory="out",
    )
    variable_create(site=site, key="API_TOKEN", value="s3cr3t-value-123", secret=True)
    variable_create(site=site, key="PUBLIC", value="visible-value")
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert "s3cr3t-value-123" not in log
    assert "token is ********, public is visible-value" in log


def test_killed_worker_leaves_no_deployment_stuck(
    live_database_env, owner, client, tmp_path, settings
):
    process = start_worker(live_database_env, tmp_path)
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command="echo build-started; sleep 120",
    )
    deployment = deploy(client, site, {"a.txt": "a"})
    _wait_for_log(client, deployment, "build-started")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    settings.SHIPWAY_BUILD_STALE_AFTER = 2
    time.sleep(3)
    counts = reaper.reap()
    deployment.refresh_from_db()
    assert (deployment.status, deployment.error_code) == ("failed", "internal")
    assert "stopped responding" in log_of(client, deployment)
    assert counts["failed"] == 1
    assert not containers_of(deployment)


def _wait_for_log(client, deployment, text: str) -> None:  # type: ignore[no-untyped-def]
    wait_until(lambda: text in log_of(client, deployment), f"'{text}' in the log", timeout=120)
