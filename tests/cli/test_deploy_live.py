"""`shipway` against a live platform: the web server (REST and the websocket feed) and a
real Celery worker. Static sites publish without a container, so these are quick; the
failing build runs one."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import httpx
import pytest

from accounts.services import api_key_create
from cli.api import Client
from cli.config import Credentials
from cli.pack import pack
from cli.upload import upload
from deployments.models import Deployment
from sites.models import Site
from tests.cli.helpers import cli_env, shipway
from tests.factories import make_site, make_team
from tests.live import SITES_DOMAIN, EdgeClient

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def platform(edge_server, live_storage, worker, owner, tmp_path) -> dict[str, str]:
    """The CLI's environment for the live platform, with a key of `owner`'s."""
    _key, secret = api_key_create(user=owner, name="cli")
    return cli_env(tmp_path, SHIPWAY_URL=f"http://127.0.0.1:{edge_server}", SHIPWAY_TOKEN=secret)


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def served(port: int, site: Site, path: str = "/"):  # type: ignore[no-untyped-def]
    """What the site's production address serves (deployment addresses are for the
    team only, by default)."""
    return EdgeClient(port).get(f"{site.id}.{SITES_DOMAIN}", path)


def test_deploy_prints_the_address_follows_the_log_and_rolls_back_and_login(
    platform, edge_server, owner, tmp_path
):
    site = make_site(make_team(owner), site_id="clisite", framework="static")
    first = project(
        tmp_path / "first",
        {"index.html": "<h1>first</h1>", ".gitignore": "*.log\n", "debug.log": "no"},
    )
    result = shipway("deploy", str(first), "--site", site.id, env=platform)
    assert result.returncode == 0, result.stderr
    deployment = Deployment.objects.get(site=site)
    assert deployment.status == "ready"
    first_url = url_of(platform, site.id, deployment.id)
    assert result.stdout == f"{first_url}\n"
    assert "publishing the source as it is" in result.stderr  # the build log, streamed
    assert served(edge_server, site).body == b"<h1>first</h1>"
    assert served(edge_server, site, "/debug.log").status == 404

    # Linked, with --json and a chunked upload (chunks of 1 KiB).
    second = project(tmp_path / "second", {"index.html": "<h1>second</h1>" + "x" * 4000})
    (second / "big.bin").write_bytes(os.urandom(5000))  # incompressible: several chunks
    linked = shipway("link", site.id, env=platform, cwd=second)
    assert linked.returncode == 0, linked.stderr
    assert json.loads((second / ".shipway" / "project.json").read_text()) == {"siteId": site.id}
    result = shipway("deploy", "--json", env=platform | {"SHIPWAY_CHUNK_SIZE": "1024"}, cwd=second)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["status"], body["active"]) == ("ready", True)
    assert served(edge_server, site, "/big.bin").body == (second / "big.bin").read_bytes()
    site.refresh_from_db()
    assert site.deployment_id == body["id"]

    listed = shipway("deployments", "list", "--json", env=platform, cwd=second)
    assert [d["id"] for d in json.loads(listed.stdout)] == [body["id"], deployment.id]

    # Back to the first, the ready one before the active one.
    result = shipway("rollback", env=platform, cwd=second)
    assert result.returncode == 0, result.stderr
    site.refresh_from_db()
    assert site.deployment_id == deployment.id
    assert result.stdout == f"{first_url}\n"

    logs = shipway("logs", body["id"], env=platform, cwd=second)
    assert "publishing the source as it is" in logs.stdout

    assert shipway("env", "set", "GREETING", "hi", env=platform, cwd=second).returncode == 0
    assert shipway("env", "set", "GREETING", "hello", env=platform, cwd=second).returncode == 0
    variables = json.loads(shipway("env", "list", "--json", env=platform, cwd=second).stdout)
    assert [(v["key"], v["value"]) for v in variables] == [("GREETING", "hello")]
    assert shipway("env", "unset", "GREETING", env=platform, cwd=second).returncode == 0
    assert json.loads(shipway("env", "list", "--json", env=platform, cwd=second).stdout) == []

    whoami = shipway("whoami", env=platform)
    assert whoami.stdout == f"{owner.username}\n"

    # A site made from the command line (the user's only team), and a domain for it.
    made = shipway(
        "sites", "create", "Docs", "--id", "cli-docs", "--framework", "static", env=platform
    )
    assert (made.returncode, made.stdout) == (0, "cli-docs\n"), made.stderr
    listed = json.loads(shipway("sites", "list", "--json", env=platform).stdout)
    assert sorted(s["id"] for s in listed) == ["cli-docs", "clisite"]
    added = shipway("domains", "add", "www.example.com", "--site", "cli-docs", env=platform)
    assert added.returncode == 0, added.stderr
    assert "_shipway-challenge.www.example.com" in added.stdout  # the TXT record to add
    domains = shipway("domains", "list", "--site", "cli-docs", env=platform).stdout
    assert domains.split("\t")[:2] == ["www.example.com", "pending"]

    # login checks the key before it stores it; a bad key exits 3.
    stored = cli_env(tmp_path / "login")
    url = platform["SHIPWAY_URL"]
    result = shipway("login", "--url", url, "--token", "sw_not-a-key", env=stored)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "login" / "config" / "config.json").exists()
    result = shipway("login", "--url", url, "--token", platform["SHIPWAY_TOKEN"], env=stored)
    assert result.returncode == 0, result.stderr
    assert shipway("whoami", env=stored).stdout == f"{owner.username}\n"
    result = shipway(
        "deploy", "--site", site.id, env=stored | {"SHIPWAY_TOKEN": "sw_bad"}, cwd=second
    )
    assert result.returncode == 3, result.stderr
    # An API error is the API's message.
    result = shipway("deployments", "list", "--site", "nope", env=stored)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr


def url_of(env: dict[str, str], site_id: str, deployment_id: str) -> str:
    """The deployment's address as the API shows it."""
    with Client(Credentials(env["SHIPWAY_URL"], env["SHIPWAY_TOKEN"])) as client:
        return str(client.get(f"/v1/sites/{site_id}/deployments/{deployment_id}")["url"])


def test_a_failed_build_exits_1_with_its_log(platform, owner, tmp_path):
    site = make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command="echo about to fail; exit 3",
    )
    directory = project(tmp_path / "p", {"a.txt": "a"})
    result = shipway("deploy", str(directory), "--site", site.id, env=platform)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert "about to fail" in result.stderr and "exited with code 3" in result.stderr
    assert "failed (command_failed)" in result.stderr
    assert Deployment.objects.get(site=site).status == "failed"


class LoseOneAnswer(httpx.BaseTransport):
    """Forwards to the real server, but drops the answer to the second chunk once: the
    platform has the chunk; the client must ask where to go on from."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.chunks = 0
        self.asked = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if "/uploads/" in request.url.path:
            self.asked += 1
        if "Content-Range" in request.headers:
            self.chunks += 1
            if self.chunks == 2:
                response.read()
                raise httpx.ReadError("connection reset", request=request)
        return response


def test_a_chunked_upload_resumes_after_a_lost_answer(edge_server, live_storage, owner, tmp_path):
    site = make_site(make_team(owner), framework="static")
    _key, secret = api_key_create(user=owner, name="cli")
    directory = project(tmp_path / "p", {"index.html": "<h1>resumed</h1>"})
    (directory / "big.bin").write_bytes(os.urandom(6000))
    archive = pack(directory)
    transport = LoseOneAnswer()
    with Client(Credentials(f"http://127.0.0.1:{edge_server}", secret), transport) as client:
        body = upload(client, site.id, archive, size_of_chunk=2048)
        source = client.request(
            "GET", f"/v1/sites/{site.id}/deployments/{body['id']}/download?type=source"
        ).content
    assert transport.asked == 1  # it asked for sizeReceived once
    assert transport.chunks == -(-archive.stat().st_size // 2048)  # none sent twice
    archive.unlink()
    with tarfile.open(fileobj=io.BytesIO(source)) as tar:
        member = tar.extractfile("big.bin")
        assert member is not None and member.read() == (directory / "big.bin").read_bytes()
