"""Server-rendered builds from source in Docker: a Celery worker builds tests/ssr_apps.py's
Next.js and SvelteKit apps; each deployment keeps its static assets at their URL paths
and its server as server.tar.gz, which then runs, locked down, in the runtime image."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from deployments.artifacts import artifacts, read_manifest, server_archive_path
from deployments.models import Deployment
from tests.e2e.conftest import RUNTIME_IMAGE
from tests.e2e.helpers import deploy, log_of, wait_for
from tests.factories import make_site, make_team
from tests.ssr_apps import nextjs_app, sveltekit_app

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

BUILD_TIMEOUT = 900  # a cold npm install of Next.js


def _server_archive(deployment: Deployment, tmp_path: Path) -> tuple[Path, list[tarfile.TarInfo]]:
    path = tmp_path / "server.tar.gz"
    with artifacts().open(server_archive_path(deployment.storage_prefix), "rb") as src:
        path.write_bytes(src.read())
    with tarfile.open(path, "r:gz") as archive:
        members = archive.getmembers()
    return path, members


def _run_bundle(archive: Path, command: str, name: str) -> str:
    """Extract the bundle in a locked-down container of the runtime image (read-only
    root, tmpfs only, user builder, no network, no capabilities), start it with its
    command (PORT=3000, HOSTNAME=0.0.0.0) and fetch `/` twice from inside; the output
    is the two pages."""
    fetch = (
        "const get = async () => { for (let i = 0; i < 300; i++) { try { const r = await "
        "fetch('http://127.0.0.1:3000/'); if (r.ok) return await r.text(); } catch {} "
        "await new Promise((ok) => setTimeout(ok, 100)); } throw new Error('no answer'); };"
        "(async () => { console.log(await get()); console.log('=====');"
        " console.log(await get()); })().catch((e) => { console.error(e); process.exit(1); });"
    )
    script = (
        "set -e; tar xzf - -C /srv/app; cd /srv/app; "
        f"( {command} > /tmp/server.log 2>&1 & ); "
        f'node -e "{fetch}" || {{ cat /tmp/server.log; exit 1; }}'
    )
    result = subprocess.run(
        [
            "docker", "run", "--rm", "-i", "--name", name,
            "--read-only", "--tmpfs", "/tmp:rw,exec,mode=1777",
            "--tmpfs", "/srv/app:rw,exec,mode=1777,size=1g",
            "--user", "builder", "--network", "none", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--pids-limit", "256", "--memory", "1g",
            "-e", "PORT=3000", "-e", "HOSTNAME=0.0.0.0", "-e", "HOST=0.0.0.0",
            "-e", "GREETING=hello-from-runtime", "-e", "ORIGIN=http://127.0.0.1:3000",
            "-e", "NODE_ENV=production",
            RUNTIME_IMAGE, "sh", "-c", script,
        ],
        stdin=archive.open("rb"),
        capture_output=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    return result.stdout.decode()


def _assert_rendered_per_request(pages: str, marker: str) -> None:
    first, second = pages.split("=====")
    for page in (first, second):
        assert marker in page
        assert "hello-from-runtime" in page  # GREETING, read by the running server
    assert 'id="count">1<' in first and 'id="count">2<' in second, pages


def test_nextjs_app_is_detected_built_and_packaged_as_a_server(worker, owner, client, tmp_path):
    marker = "ssr-next-e2e"
    site = make_site(make_team(owner), framework="auto")
    deployment = wait_for(deploy(client, site, nextjs_app(marker)), timeout=BUILD_TIMEOUT)
    log = log_of(client, deployment)
    assert deployment.status == "ready", log
    assert "Detected framework: nextjs" in log
    assert "server-rendered: next.config.mjs has no output: 'export'" in log
    assert deployment.adapter == "ssr"
    body = client.get(f"/v1/sites/{site.id}/deployments/{deployment.id}").json()
    assert body["adapter"] == "ssr" and body["framework"] == "nextjs"

    manifest = read_manifest(deployment.storage_prefix)
    files = manifest["files"]
    assert "/static.txt" in files
    assert any(p.startswith("/_next/static/") and p.endswith(".js") for p in files)
    assert not any(p.startswith(("/app/", "/.next/server", "/server.js")) for p in files)
    assert manifest["server"]["command"] == "node server.js"

    archive, members = _server_archive(deployment, tmp_path)
    assert manifest["server"]["size"] == archive.stat().st_size
    names = {m.name for m in members}
    assert {"server.js", "public/static.txt", "package.json"} <= names
    assert any(n.startswith(".next/static/") for n in names)
    assert not names & {"app/page.js", "app/layout.js", "package-lock.json"}  # no source
    assert not any(n.startswith((".shipway", "node_modules/.cache")) for n in names)
    assert all(m.uid == 0 and m.gid == 0 and not m.mode & 0o7000 for m in members)

    pages = _run_bundle(archive, manifest["server"]["command"], f"shipway-test-ssr-{deployment.id}")
    _assert_rendered_per_request(pages, marker)


def test_sveltekit_app_with_adapter_node_is_packaged_with_production_modules(
    worker, owner, client, tmp_path
):
    marker = "ssr-svelte-e2e"
    site = make_site(make_team(owner), framework="sveltekit", adapter="ssr")
    assert site.start_command == "node build"  # the framework's default, filled in
    deployment = wait_for(deploy(client, site, sveltekit_app(marker)), timeout=BUILD_TIMEOUT)
    log = log_of(client, deployment)
    assert deployment.status == "ready", log
    assert "$ (package the server and its static assets)" in log
    assert deployment.adapter == "ssr"

    manifest = read_manifest(deployment.storage_prefix)
    files = manifest["files"]
    assert "/static.txt" in files
    assert any(p.startswith("/_app/immutable/") for p in files)
    assert not any(p.startswith(("/src/", "/index.js", "/handler.js")) for p in files)
    assert manifest["server"]["command"] == "node build"

    archive, members = _server_archive(deployment, tmp_path)
    names = {m.name for m in members}
    assert {"build/index.js", "build/handler.js", "package.json"} <= names
    assert "build/client/static.txt" in names
    assert "node_modules/ms/index.js" in names  # the app's runtime dependency
    # devDependencies were pruned (vite, the kit are build tools), and no source is kept.
    assert not any(n.startswith(("node_modules/vite/", "node_modules/@sveltejs/")) for n in names)
    assert not any(n.startswith(("src/", ".svelte-kit/")) for n in names)
    assert "svelte.config.js" not in names

    pages = _run_bundle(archive, manifest["server"]["command"], f"shipway-test-ssr-{deployment.id}")
    _assert_rendered_per_request(pages, marker)


def test_ssr_build_without_the_server_output_fails_with_the_fix(worker, owner, client):
    files = nextjs_app("no-standalone")
    files["next.config.mjs"] = "export default {};\n"  # no output: 'standalone'
    site = make_site(make_team(owner), framework="nextjs", adapter="ssr")
    deployment = wait_for(deploy(client, site, files), timeout=BUILD_TIMEOUT)
    log = log_of(client, deployment)
    assert deployment.status == "failed", log
    assert deployment.error_code == "output_missing"
    assert "Next.js wrote no .next/standalone: set output: 'standalone' in next.config.js." in log
