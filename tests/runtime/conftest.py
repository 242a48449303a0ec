"""SSR deployments without a build: a manifest with one static file and a server.tar.gz
holding a tiny Node server, stored for a ready `ssr` deployment; and cleanup of every
server container and volume the test made."""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
from django.core.files.base import ContentFile

from deployments.artifacts import artifacts, server_archive_path, write_manifest
from deployments.models import Deployment, Server, SourceType, Status
from deployments.services import environment_for
from runtime import manager
from sites.models import Site
from tests.e2e.conftest import docker_ready  # noqa: F401  (a fixture)
from tests.factories import make_site, make_team, make_user

# Prints a line per request; answers what the tests ask of it.
SERVER_JS = r"""
const http = require('http'), net = require('net'), fs = require('fs');
http.createServer((req, res) => {
  console.log('request ' + req.method + ' ' + req.url);
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/env') {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({env: process.env, uid: process.getuid()}));
  }
  if (url.pathname === '/write') {
    const results = {};
    for (const path of ['/app/new', '/etc/new', '/home/builder/new', '/tmp/new']) {
      try { fs.writeFileSync(path, 'x'); results[path] = 'written'; }
      catch (e) { results[path] = e.code; }
    }
    return res.end(JSON.stringify(results));
  }
  if (url.pathname === '/connect') {
    const s = net.connect(+url.searchParams.get('port'), url.searchParams.get('host'));
    s.setTimeout(2000);
    s.on('connect', () => { s.destroy(); res.end('REACHED'); });
    s.on('timeout', () => { s.destroy(); res.end('BLOCKED timeout'); });
    s.on('error', e => res.end('BLOCKED ' + e.code));
    return;
  }
  if (url.pathname === '/crash') {
    res.end('bye');
    console.log('crashing on purpose');
    return setTimeout(() => process.exit(3), 20);
  }
  if (url.pathname === '/say') {
    console.log(url.searchParams.get('text'));
    return res.end('said');
  }
  res.end('hello from ' + process.env.SHIPWAY_DEPLOYMENT_ID);
}).listen(+process.env.PORT, process.env.HOST,
  () => console.log('listening on ' + process.env.PORT));
"""

# The error comes a moment after the first line: Docker copies stdout and stderr
# separately, so two lines written at the same instant may reach the log in either order.
EXITS_JS = (
    "console.log('starting'); setTimeout(() => {"
    " console.error('Error: DATABASE_HOST is not set'); process.exit(1); }, 200);"
)
SILENT_JS = "console.log('never listening'); setInterval(() => {}, 1000);"


def bundle(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def store_ssr(deployment: Deployment, script: str, command: str = "node server.js") -> None:
    archive = bundle({"server.js": script, "package.json": '{"name": "tiny"}'})
    artifacts().save(server_archive_path(deployment.storage_prefix), ContentFile(archive))
    files = {
        "/robots.txt": {
            "size": 10,
            "sha256": "0" * 64,
            "type": "text/plain; charset=utf-8",
            "gzip": None,
            "br": None,
        }
    }
    server = {"command": command, "size": len(archive)}
    write_manifest(deployment.storage_prefix, files, {}, server=server)


MakeSsr = Callable[..., Deployment]


@pytest.fixture
def make_ssr(docker_ready, transactional_db) -> Iterator[MakeSsr]:  # noqa: F811
    """make_ssr(site=None, script=SERVER_JS, activate=False) -> a ready ssr deployment
    (not active: activate it with deployments.services.deployment_activate)."""
    made: list[str] = []

    def make(site: Site | None = None, script: str = SERVER_JS, **fields: Any) -> Deployment:
        site = site or make_site(make_team(make_user()), framework="other", install_command="")
        fields.setdefault("activate", False)
        # As deployments.services makes them: one not made to go live is a preview.
        fields.setdefault("environment", environment_for(fields["activate"]))
        deployment = Deployment.objects.create(
            site=site,
            status=Status.READY,
            source_type=SourceType.UPLOAD,
            adapter="ssr",
            build_runtime="node-22",
            **fields,
        )
        store_ssr(deployment, script)
        made.append(deployment.id)
        return deployment

    yield make
    _cleanup(made)


def _cleanup(deployment_ids: list[str]) -> None:
    client = docker.from_env()
    for deployment_id in deployment_ids:
        for container in client.containers.list(
            all=True, sparse=True, filters={"label": f"shipway.deployment={deployment_id}"}
        ):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                container.remove(force=True)
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            client.volumes.get(f"shipway-server-{deployment_id}").remove(force=True)


def server_of(deployment: Deployment) -> Server:
    return Server.objects.get(pk=deployment.pk)


def get(deployment: Deployment, path: str = "/") -> str:
    address = server_of(deployment).address
    with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as response:
        return response.read().decode()


def get_json(deployment: Deployment, path: str) -> Any:
    return json.loads(get(deployment, path))


def started(deployment: Deployment) -> Server:
    assert manager.start_server(deployment.id) == "running", server_of(deployment).error
    return server_of(deployment)
