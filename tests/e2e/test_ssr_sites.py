"""Server-rendered (ssr) sites end to end, on the real stack: a Celery worker (builds and
servers queues) builds tests/ssr_apps.py's Next.js and SvelteKit apps from source in
Docker and starts their servers in containers; the live web process (tests/live.py,
granian, one process) is the edge in front of them, reached with the site's Host.

Each app is built once in the whole suite (a build takes minutes): the test that builds
it checks the packaging, then serves it through the edge (per-request pages, the runtime
variable, static assets from the manifest without the server, a cold start after a
stop; for Next.js also a second build, without output: 'standalone', that fails with
the fix). The switch, rollback and crash tests use hand-made bundles (tests/runtime's
`make_ssr`: real Node servers in real containers, no build)."""

from __future__ import annotations

import http.client
import re
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployments.artifacts import artifacts, read_manifest, server_archive_path
from deployments.models import Deployment, RuntimeState, Server
from runtime import manager
from sites.models import Site
from tests.e2e.helpers import deploy, log_of, wait_for, wait_until
from tests.factories import make_site, make_team
from tests.live import SITES_DOMAIN
from tests.runtime.conftest import EXITS_JS, make_ssr  # noqa: F401  (a fixture)
from tests.ssr_apps import nextjs_app, sveltekit_app

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

BUILD_TIMEOUT = 900  # a cold npm install of Next.js
GREETING = "hello-from-runtime"


@pytest.fixture
def live_database_env(live_storage, live_database_env):  # type: ignore[no-untyped-def]
    """The worker's environment, made after live_storage: the worker then writes
    artifacts where the edge process reads them (the session's edge storage)."""
    assert live_database_env["SHIPWAY_STORAGE_ROOT"] == str(live_storage_root())
    return live_database_env


def live_storage_root() -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT)


def host(site: Site) -> str:
    return f"{site.id}.{SITES_DOMAIN}"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def fetch(port: int, site: Site, path: str = "/", timeout: float = 60) -> Answer:
    """One GET through the edge with the site's Host (a new connection each time)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host(site))
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, headers, body)
    finally:
        connection.close()


def field(page: str, name: str) -> str:
    """The text of <p id="name"> in a rendered page (React may add <!-- --> inside)."""
    match = re.search(rf'<p id="{name}">(.*?)</p>', page, re.S)
    assert match, page[:2000]
    return re.sub(r"<!--.*?-->", "", match.group(1))


def set_greeting(client, site: Site) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/sites/{site.id}/variables", {"key": "GREETING", "value": GREETING, "scope": "runtime"}
    )
    assert response.status_code == 201, response.content


def wait_live(site: Site, deployment: Deployment, worker_log: Path, timeout: float = 120) -> None:
    """Until the site's traffic goes to this deployment's server (started by the worker)."""

    def live() -> bool:
        return Site.objects.get(pk=site.pk).live_server_id == deployment.id

    try:
        wait_until(live, f"{deployment.id}'s server to take the traffic", timeout)
    except AssertionError:
        raise AssertionError(worker_log.read_text()[-4000:]) from None


def _server_archive(deployment: Deployment, tmp_path: Path) -> tuple[Path, list[tarfile.TarInfo]]:
    path = tmp_path / "server.tar.gz"
    with artifacts().open(server_archive_path(deployment.storage_prefix), "rb") as src:
        path.write_bytes(src.read())
    with tarfile.open(path, "r:gz") as archive:
        members = archive.getmembers()
    return path, members


def serve_through_the_edge(
    port: int, site: Site, deployment: Deployment, marker: str, assets: list[str], tmp_path: Path
) -> None:
    """The checks both apps share once built and active: per-request pages with the
    runtime variable, then (server stopped) static assets from the manifest that never
    wake the server, then a cold start."""
    wait_live(site, deployment, tmp_path / "worker.log")
    first, second = fetch(port, site), fetch(port, site)
    for answer in (first, second):
        assert answer.status == 200, answer.body[:2000]
        assert field(answer.body, "marker") == marker
        assert field(answer.body, "greeting") == GREETING  # read by the running server
    # Data computed per request: the process's counter moves with every render.
    assert int(field(second.body, "count")) == int(field(first.body, "count")) + 1
    assert int(field(second.body, "now")) >= int(field(first.body, "now"))

    # With the server stopped, static assets still come (from the edge, with its ETag
    # of the manifest's hash) and the server stays stopped: had any of them gone to the
    # server, the edge would have started it for that request.
    warm_started = Server.objects.get(pk=deployment.pk).started_at
    assert manager.stop_server(deployment.id)
    assert Server.objects.get(pk=deployment.pk).state == RuntimeState.STOPPED
    files = read_manifest(deployment.storage_prefix)["files"]
    for path in ["/static.txt", *assets]:
        answer = fetch(port, site, path)
        assert answer.status == 200, (path, answer.body[:500])
        assert answer.headers["etag"] == f'"{files[path]["hash"][:32]}"', (path, answer.headers)
        if path == "/static.txt":
            assert answer.body == f"{marker}\n"
    assert Server.objects.get(pk=deployment.pk).state == RuntimeState.STOPPED

    # Cold start: the first request after the stop waits for the server and succeeds.
    began = time.monotonic()
    cold = fetch(port, site)
    took = time.monotonic() - began
    assert cold.status == 200, cold.body[:2000]
    assert field(cold.body, "marker") == marker
    # A new process: its counter starts again (the health check's GET / rendered once).
    assert int(field(cold.body, "count")) < int(field(second.body, "count"))
    server = Server.objects.get(pk=deployment.pk)
    assert server.state == RuntimeState.RUNNING
    assert warm_started and server.started_at and server.started_at > warm_started
    print(
        f"\n{deployment.framework} cold start through the edge (request to response): {took:.2f} s"
    )


def test_nextjs_app_is_built_packaged_and_served_through_the_edge(
    edge, worker, owner, client, tmp_path
):
    marker = "ssr-next-e2e"
    site = make_site(make_team(owner), framework="auto")
    set_greeting(client, site)
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
    chunks = sorted(p for p in files if p.startswith("/_next/static/") and p.endswith(".js"))
    assert chunks
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

    site.refresh_from_db()
    serve_through_the_edge(edge.port, site, deployment, marker, chunks[:1], tmp_path)

    # Without output: 'standalone' the build fails with the fix. Built on the same site
    # (its node_modules cache: no second cold npm install of Next.js in the suite), and
    # the site keeps serving the deployment it had.
    files = nextjs_app("no-standalone")
    files["next.config.mjs"] = "export default {};\n"
    broken = wait_for(deploy(client, site, files), timeout=BUILD_TIMEOUT)
    log = log_of(client, broken)
    assert broken.status == "failed", log
    assert broken.error_code == "output_missing"
    assert "Next.js wrote no .next/standalone: set output: 'standalone' in next.config.js." in log
    assert "Restoring node_modules from the build cache" in log
    assert field(fetch(edge.port, site).body, "marker") == marker


def test_sveltekit_app_is_built_packaged_and_served_through_the_edge(
    edge, worker, owner, client, tmp_path
):
    marker = "ssr-svelte-e2e"
    site = make_site(make_team(owner), framework="sveltekit", adapter="ssr")
    assert site.start_command == "node build"  # the framework's default, filled in
    set_greeting(client, site)
    deployment = wait_for(deploy(client, site, sveltekit_app(marker)), timeout=BUILD_TIMEOUT)
    log = log_of(client, deployment)
    assert deployment.status == "ready", log
    assert "$ (package the server and its static assets)" in log
    assert deployment.adapter == "ssr"

    manifest = read_manifest(deployment.storage_prefix)
    files = manifest["files"]
    assert "/static.txt" in files
    immutable = sorted(p for p in files if p.startswith("/_app/immutable/"))
    assert immutable
    assert not any(p.startswith(("/src/", "/index.js", "/handler.js")) for p in files)
    assert manifest["server"]["command"] == "node build"

    _archive, members = _server_archive(deployment, tmp_path)
    names = {m.name for m in members}
    assert {"build/index.js", "build/handler.js", "package.json"} <= names
    assert "build/client/static.txt" in names
    assert "node_modules/ms/index.js" in names  # the app's runtime dependency
    # devDependencies were pruned (vite, the kit are build tools), and no source is kept.
    assert not any(n.startswith(("node_modules/vite/", "node_modules/@sveltejs/")) for n in names)
    assert not any(n.startswith(("src/", ".svelte-kit/")) for n in names)
    assert "svelte.config.js" not in names

    site.refresh_from_db()
    serve_through_the_edge(edge.port, site, deployment, marker, immutable[:1], tmp_path)


@dataclass
class Sent:
    began: float
    ended: float
    status: int  # 0: no answer (a connection error)
    body: str


class Load:
    """Requests sent one after another, without pause, through the edge to the site's
    host, each recorded with when it began and ended. (The test edge is one process, so
    every request meets the same routing state; with several, each process follows the
    same announcement on its own.)"""

    def __init__(self, port: int, site: Site) -> None:
        self.port, self.site = port, site
        self.sent: list[Sent] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="load", daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                answer = fetch(self.port, self.site, timeout=30)
                status, body = answer.status, answer.body
            except OSError as exc:
                status, body = 0, f"{exc.__class__.__name__}: {exc}"
            self.sent.append(Sent(began, time.monotonic(), status, body))

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join(60)

    def wait_for_answer(self, body: str, after: float = 0.0, timeout: float = 60) -> Sent:
        """The first request begun after `after` answered by `body` (waiting for it),
        once 20 more have been answered after it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((s for s in list(self.sent) if s.began > after and s.body == body), None)
            if found is not None:
                enough = len(self.sent) + 20
                wait_until(lambda: len(self.sent) >= enough, "more answers", 30)  # noqa: B023
                return found
            time.sleep(0.05)
        raise AssertionError(f"no answer {body!r} in {timeout} s; last: {self.sent[-1:]}")


def test_switch_and_rollback_under_load_fail_nothing_and_never_go_back(
    edge,
    worker,
    make_ssr,  # noqa: F811  (the fixture)
    owner,
    client,
    tmp_path,
):
    site = make_site(make_team(owner), framework="other", install_command="")
    a, b = make_ssr(site=site), make_ssr(site=site)
    said = {a.id: f"hello from {a.id}", b.id: f"hello from {b.id}"}

    def activate(deployment: Deployment) -> None:
        url = f"/v1/sites/{site.id}/deployments/{deployment.id}/activate"
        response = client.patch(url)
        assert response.status_code == 200, response.content

    activate(a)
    wait_live(site, a, tmp_path / "worker.log")
    with Load(edge.port, site) as load:
        load.wait_for_answer(said[a.id])
        activate(b)  # a cold switch: B's server starts while A keeps the traffic
        first_b = load.wait_for_answer(said[b.id])
        rollback_at = time.monotonic()
        activate(a)  # the rollback: A's server still runs (retired only after a grace)
        back = load.wait_for_answer(said[a.id], after=rollback_at)
    sent = load.sent
    failed = [s for s in sent if s.status != 200 or s.body not in said.values()]
    assert not failed, failed[:5]
    # Once an answer of the new deployment has come, no request begun after it gets the
    # old one (until the rollback is asked for, then the same the other way).
    after_b = [s for s in sent if first_b.ended < s.began < rollback_at]
    assert after_b and all(s.body == said[b.id] for s in after_b), [s.body for s in after_b][:5]
    after_back = [s for s in sent if s.began > back.ended]
    assert after_back and all(s.body == said[a.id] for s in after_back)
    print(f"\nswitch and rollback under load: {len(sent)} requests, 0 failed")


def test_a_server_that_crashes_on_start_gives_the_error_page_and_state_failed(
    edge,
    worker,
    make_ssr,  # noqa: F811  (the fixture)
    owner,
    client,
    tmp_path,
):
    site = make_site(make_team(owner), framework="other", install_command="")
    deployment = make_ssr(site=site, script=EXITS_JS)
    response = client.patch(f"/v1/sites/{site.id}/deployments/{deployment.id}/activate")
    assert response.status_code == 200, response.content
    reason = "The server exited with code 1 before it answered: Error: DATABASE_HOST is not set"

    # The first request waits for the start, which fails: it gets the page. The
    # contract's 15 s bound is the request's timeout (no answer by then: an error).
    answer = fetch(edge.port, site, timeout=15)
    assert answer.status == 502, (answer.status, answer.body[:1000])
    assert reason in answer.body

    body = client.get(f"/v1/sites/{site.id}/deployments/{deployment.id}").json()
    assert body["status"] == "ready"
    assert body["runtime"]["state"] == "failed"
    assert body["runtime"]["error"] == reason
