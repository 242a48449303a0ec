"""Commit statuses on the forge (issue 14, item 7): a push or deploy hook deployment
reports pending, building, ready, failed or canceled on its commit through the
provider's commit status API, checked by core/outbound.py, retried on 5xx and no answer,
never with its token in a log line.

The forge is a stand-in on 127.0.0.1 (a tiny threaded HTTP server that records every
request), allowed by SHIPWAY_OUTBOUND_ALLOW=127.0.0.0/8 as a lab's private forge would
be; no test traffic leaves the machine. Reports run eagerly in this process.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from structlog.testing import capture_logs

from core import outbound
from deployments import forge
from deployments import services as deployment_services
from deployments.errors import ErrorCode
from deployments.models import Deployment, Environment, SourceType, Status, Trigger
from sites import crypto
from sites.models import Provider, Repository, new_webhook_secret
from tests.factories import eager_builds, make_site, make_team

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "forge-token-4f9c2e7a1b"
SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"


# -- A stand-in forge API ------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    answers: list[int]  # statuses to answer in turn; the last one again after that
    seen: list[Seen]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ForgeAPI(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.seen.append(Seen(self.command, self.path, headers, body))
        answers = self.server.answers
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        # An answer that quotes the token, as a careless forge's error might.
        payload = json.dumps({"message": f"no ({headers.get('authorization', '')})"}).encode()
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", f"{self.server.base}/elsewhere{self.path}")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), handler)
    server.answers, server.seen = [201], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def forge_api(settings) -> Iterator[_Server]:
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    with _serving(_ForgeAPI) as server:
        yield server


@pytest.fixture(autouse=True)
def _eager() -> Iterator[None]:
    with eager_builds():
        yield


# -- Rows ----------------------------------------------------------------------------


def linked_site(url: str, provider: str = Provider.GITHUB, token: str = TOKEN):  # type: ignore[no-untyped-def]
    site = make_site(make_team())
    Repository.objects.create(
        site=site,
        url=url,
        provider=provider,
        encrypted_token=crypto.encrypt(token) if token else "",
        encrypted_webhook_secret=crypto.encrypt(new_webhook_secret()),
    )
    return site


def pushed(site, url: str, **fields: Any) -> Deployment:  # type: ignore[no-untyped-def]
    """A deployment as a push makes it (commit known); a waiting one is reported as the
    push that makes it reports it."""
    fields = {
        "source_type": SourceType.VCS,
        "repository": url,
        "reference": SHA,
        "reference_type": "commit",
        "commit_hash": SHA,
        "trigger": Trigger.PUSH,
        "branch": "main",
        **fields,
    }
    deployment = Deployment.objects.create(site=site, **fields)
    if deployment.status == Status.WAITING:
        forge.report_status_later(deployment)
    return deployment


def move(deployment: Deployment, *statuses: Status) -> None:
    for status in statuses:
        assert deployment_services.deployment_transition(deployment.id, status) is not None


def states(server: _Server) -> list[str]:
    return [seen.body["state"] for seen in server.seen]


# -- Each provider's request ---------------------------------------------------------

REPORT = forge.Report(
    forge.Phase.BUILDING, "https://shipway.example/d/1", "Building.", "shipway/preview"
)


def test_github_com_goes_to_api_github_com() -> None:
    request = forge.github_request("https://github.com/acme/app.git", TOKEN, SHA, REPORT)
    assert request.url == f"https://api.github.com/repos/acme/app/statuses/{SHA}"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.body == {
        "state": "pending",
        "target_url": "https://shipway.example/d/1",
        "description": "Building.",
        "context": "shipway/preview",
    }


def test_github_enterprise_is_asked_on_its_own_host() -> None:
    request = forge.github_request("https://git.corp.example:8443/acme/app/", TOKEN, SHA, REPORT)
    assert request.url == f"https://git.corp.example:8443/api/v3/repos/acme/app/statuses/{SHA}"


def test_gitea() -> None:
    request = forge.gitea_request("http://gitea.example:3000/acme/app.git", TOKEN, SHA, REPORT)
    assert request.url == f"http://gitea.example:3000/api/v1/repos/acme/app/statuses/{SHA}"
    assert request.headers["Authorization"] == f"token {TOKEN}"
    assert request.body["state"] == "pending"
    assert request.body["context"] == "shipway/preview"


def test_gitlab_names_the_project_by_its_encoded_path() -> None:
    request = forge.gitlab_request("https://gitlab.example/group/sub/app.git", TOKEN, SHA, REPORT)
    assert request.url == (
        f"https://gitlab.example/api/v4/projects/group%2Fsub%2Fapp/statuses/{SHA}"
    )
    assert request.headers["PRIVATE-TOKEN"] == TOKEN
    assert "Authorization" not in request.headers
    assert request.body == {
        "state": "running",
        "target_url": "https://shipway.example/d/1",
        "description": "Building.",
        "name": "shipway/preview",
    }


@pytest.mark.parametrize(
    ("phase", "github", "gitlab"),
    [
        (forge.Phase.QUEUED, "pending", "pending"),
        (forge.Phase.BUILDING, "pending", "running"),
        (forge.Phase.READY, "success", "success"),
        (forge.Phase.FAILED, "failure", "failed"),
        (forge.Phase.CANCELED, "error", "canceled"),
    ],
)
def test_each_phase_in_each_providers_words(phase, github: str, gitlab: str) -> None:  # type: ignore[no-untyped-def]
    report = forge.Report(phase, "https://x.example/", "Words.", "shipway/production")
    url = "https://forge.example/acme/app"
    assert forge.status_request(Provider.GITHUB, url, TOKEN, SHA, report).body["state"] == github
    assert forge.status_request(Provider.GITEA, url, TOKEN, SHA, report).body["state"] == github
    assert forge.status_request(Provider.GITLAB, url, TOKEN, SHA, report).body["state"] == gitlab


def test_a_long_description_is_cut_to_140_characters() -> None:
    report = forge.Report(forge.Phase.FAILED, "https://x.example/", "x" * 300, "shipway/preview")
    body = forge.github_request("https://github.com/a/b", TOKEN, SHA, report).body
    assert len(body["description"]) == 140


@pytest.mark.parametrize(
    "url", ["https://github.com/acme", "https://github.com/a/b/c", "ftp://github.com/a/b"]
)
def test_an_address_without_owner_and_repository_names_no_status(url: str) -> None:
    with pytest.raises(ValueError):
        forge.github_request(url, TOKEN, SHA, REPORT)


# -- Through a deployment's life -----------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "api_path", "expected"),
    [
        (Provider.GITHUB, "/api/v3/repos/acme/app", ["pending", "pending", "success"]),
        (Provider.GITEA, "/api/v1/repos/acme/app", ["pending", "pending", "success"]),
        (Provider.GITLAB, "/api/v4/projects/acme%2Fapp", ["pending", "running", "success"]),
    ],
)
def test_a_push_reports_queued_building_and_ready(
    forge_api: _Server, provider: str, api_path: str, expected: list[str]
) -> None:
    url = f"{forge_api.base}/acme/app.git"
    site = linked_site(url, provider)
    deployment = pushed(site, url, environment=Environment.PREVIEW)
    move(deployment, Status.PROCESSING, Status.BUILDING, Status.READY)

    assert states(forge_api) == expected  # nothing new to say at `processing`
    assert {seen.method for seen in forge_api.seen} == {"POST"}
    assert {seen.path for seen in forge_api.seen} == {f"{api_path}/statuses/{SHA}"}
    name = "name" if provider == Provider.GITLAB else "context"
    assert {seen.body[name] for seen in forge_api.seen} == {"shipway/preview"}
    first, building, ready = forge_api.seen
    assert "waiting" in first.body["description"]
    assert first.body["target_url"].endswith(f"/sites/{site.id}/deployments/{deployment.id}/")
    assert "building" in building.body["description"]
    deployment.refresh_from_db()
    assert ready.body["target_url"] == deployment.url
    assert ready.body["description"] == "The preview deployment is ready."
    assert ready.headers["content-type"] == "application/json"
    assert ready.headers["host"] == forge_api.base.removeprefix("http://")


def test_a_failed_build_reports_failure_with_its_reason(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    deployment = pushed(linked_site(url), url)
    move(deployment, Status.PROCESSING, Status.BUILDING)
    deployment_services.deployment_fail(deployment.id, ErrorCode.COMMAND_FAILED)

    assert states(forge_api) == ["pending", "pending", "failure"]
    failed = forge_api.seen[-1].body
    assert failed["description"] == "A build command exited with an error; the log shows which."
    assert failed["context"] == "shipway/production"


@pytest.mark.parametrize(
    ("provider", "word"), [(Provider.GITHUB, "error"), (Provider.GITLAB, "canceled")]
)
def test_a_canceled_deployment_reports_the_closest_state(
    forge_api: _Server, provider: str, word: str
) -> None:
    url = f"{forge_api.base}/acme/app"
    deployment = pushed(linked_site(url, provider), url)
    deployment_services.deployment_cancel(deployment=deployment)
    assert states(forge_api) == ["pending", word]
    assert forge_api.seen[-1].body["description"] == "The deployment was canceled."


def test_a_superseded_deployment_says_so(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    site = linked_site(url)
    older = pushed(site, url)
    deployment_services.deployment_supersede(deployment=older, by=pushed(site, url))
    # The newer push then takes the site's place in the build line and builds (its fetch
    # from this fake forge fails), so only the older deployment's own reports are read.
    about_older = [seen.body for seen in forge_api.seen if older.id in seen.body["target_url"]]
    assert [body["state"] for body in about_older] == ["pending", "error"]
    assert about_older[-1]["description"] == (
        "A newer push to the same branch replaced it before it was built."
    )


def test_a_deploy_hook_reports_once_its_fetch_found_the_commit(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    site = linked_site(url)
    deployment = pushed(
        site, url, trigger=Trigger.HOOK, commit_hash="", reference="main", reference_type="branch"
    )
    move(deployment, Status.PROCESSING)
    assert forge_api.seen == []  # no commit to report on yet

    deployment.refresh_from_db()
    deployment_services.deployment_store_fetched_source(
        deployment=deployment,
        archive=io.BytesIO(b"source"),
        size=6,
        commit_hash=SHA,
        commit_message="Update",
    )
    move(deployment, Status.BUILDING, Status.READY)
    assert states(forge_api) == ["pending", "pending", "success"]
    assert {seen.path for seen in forge_api.seen} == {f"/api/v3/repos/acme/app/statuses/{SHA}"}


def test_nothing_is_sent_without_a_token(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    deployment = pushed(linked_site(url, token=""), url)
    move(deployment, Status.PROCESSING, Status.BUILDING, Status.READY)
    assert forge_api.seen == []


def test_nothing_is_sent_for_uploads_or_other_repositories(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    site = linked_site(url)
    upload = Deployment.objects.create(site=site, source_type=SourceType.UPLOAD, commit_hash=SHA)
    move(upload, Status.PROCESSING, Status.BUILDING, Status.READY)
    other = pushed(site, f"{forge_api.base}/acme/other", trigger=Trigger.API)
    move(other, Status.PROCESSING, Status.FAILED)
    elsewhere = pushed(site, f"{forge_api.base}/someone/else")
    move(elsewhere, Status.PROCESSING, Status.CANCELED)
    assert forge_api.seen == []


def test_a_report_for_a_status_left_behind_is_not_sent(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    deployment = pushed(linked_site(url), url)
    move(deployment, Status.PROCESSING, Status.BUILDING, Status.READY)
    sent = len(forge_api.seen)
    assert forge.report_status(deployment.id, Status.BUILDING) is None  # a late retry
    assert len(forge_api.seen) == sent


# -- When the forge cannot be reached or says no -------------------------------------


def test_a_refused_address_sends_nothing_and_says_so(forge_api: _Server, settings) -> None:
    settings.SHIPWAY_OUTBOUND_ALLOW = []  # 127.0.0.1 is loopback: refused
    url = f"{forge_api.base}/acme/app"
    with capture_logs() as logs:
        deployment = pushed(linked_site(url), url)
        move(deployment, Status.PROCESSING, Status.BUILDING)
    assert forge_api.seen == []
    refused = [entry for entry in logs if entry["event"] == "forge.status_refused"]
    assert len(refused) == 2  # queued, building
    assert refused[0]["site_id"] == deployment.site_id
    assert refused[0]["deployment_id"] == deployment.id
    assert refused[0]["provider"] == Provider.GITHUB
    assert "loopback" in refused[0]["reason"]


def test_a_5xx_is_tried_again_then_given_up(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    deployment = pushed(linked_site(url), url, status=Status.PROCESSING)
    forge_api.answers = [502]
    with capture_logs() as logs:
        move(deployment, Status.BUILDING)
    assert len(forge_api.seen) == 1 + len(forge.RETRY_DELAYS)
    failed = [entry for entry in logs if entry["event"] == "forge.status_failed"]
    assert [entry["attempt"] for entry in failed] == [1, 2, 3, 4]
    assert [entry["retry_in"] for entry in failed] == [*forge.RETRY_DELAYS, None]
    assert [entry["gave_up"] for entry in failed] == [False, False, False, True]
    assert {entry["status_code"] for entry in failed} == {502}
    assert {entry["deployment_id"] for entry in failed} == {deployment.id}
    assert {entry["site_id"] for entry in failed} == {deployment.site_id}
    assert {entry["provider"] for entry in failed} == {Provider.GITHUB}
    deployment.refresh_from_db()
    assert deployment.status == Status.BUILDING  # a report never changes the deployment


def test_a_5xx_then_an_answer_is_reported(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    deployment = pushed(linked_site(url), url, status=Status.BUILDING)
    forge_api.answers = [500, 201]
    with capture_logs() as logs:
        move(deployment, Status.READY)
    assert states(forge_api) == ["success", "success"]
    assert [entry["event"] for entry in logs if entry["event"].startswith("forge.")] == [
        "forge.status_failed",
        "forge.status_reported",
    ]


def test_no_connection_is_tried_again(settings) -> None:
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    with socket.socket() as unused:  # a port where nothing listens
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/acme/app"
        deployment = pushed(linked_site(url), url, status=Status.BUILDING)
        with capture_logs() as logs:
            move(deployment, Status.READY)
    failed = [entry for entry in logs if entry["event"] == "forge.status_failed"]
    assert len(failed) == 1 + len(forge.RETRY_DELAYS)
    assert failed[0]["error"] == "connection refused"
    assert failed[-1]["gave_up"] is True


@pytest.mark.parametrize("status", [401, 404, 422, 301])
def test_a_4xx_or_a_redirect_is_not_tried_again(forge_api: _Server, status: int) -> None:
    url = f"{forge_api.base}/acme/app"
    deployment = pushed(linked_site(url), url, status=Status.BUILDING)
    forge_api.answers = [status]
    with capture_logs() as logs:
        move(deployment, Status.READY)
    assert len(forge_api.seen) == 1  # a redirect is never followed either
    rejected = [entry for entry in logs if entry["event"] == "forge.status_rejected"]
    assert [entry["status_code"] for entry in rejected] == [status]
    assert rejected[0]["deployment_id"] == deployment.id


def test_the_token_is_never_logged(forge_api: _Server) -> None:
    url = f"{forge_api.base}/acme/app"
    deployment = pushed(linked_site(url), url, status=Status.PROCESSING)
    forge_api.answers = [500, 401]  # a failure, then an answer that quotes the token
    with capture_logs() as logs:
        move(deployment, Status.BUILDING, Status.READY)
    assert forge_api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert {entry["event"] for entry in logs} >= {"forge.status_failed", "forge.status_rejected"}
    assert TOKEN not in repr(logs)


# -- The request itself (core/outbound.request) --------------------------------------


class _Trickle(BaseHTTPRequestHandler):
    """Answers one header byte every 0.2 s, forever (each read alone is quick)."""

    server: _Server

    def do_POST(self) -> None:
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            while True:
                self.wfile.write(b"X")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_request_ends_within_its_time_limit(settings) -> None:
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    with _serving(_Trickle) as server:
        started = time.monotonic()
        with pytest.raises(outbound.OutboundFailed, match="timed out"):
            outbound.request("POST", f"{server.base}/x", body=b"{}", timeout=1)
        assert time.monotonic() - started < 3


def test_a_request_reads_a_bounded_body(forge_api: _Server) -> None:
    answer = outbound.request("POST", f"{forge_api.base}/x", body=b"{}", timeout=5, max_body=10)
    assert answer.status == 201
    assert len(answer.body) == 10


def test_a_request_to_a_refused_address_connects_to_nothing(forge_api: _Server, settings) -> None:
    settings.SHIPWAY_OUTBOUND_ALLOW = []
    with pytest.raises(outbound.OutboundRefused, match="loopback"):
        outbound.request("POST", f"{forge_api.base}/x", timeout=5)
    with pytest.raises(outbound.OutboundRefused, match="http"):
        outbound.request("POST", "file:///etc/passwd", timeout=5)
    assert forge_api.seen == []
