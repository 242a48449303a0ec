"""Schemathesis against the live stack: the web server (tests/live.py) on the test
PostgreSQL and Redis, a real Celery worker building in Docker, a user with a team, a
site with a ready deployment and an API key. Every operation of `/v1/openapi.json` is
called with generated input (valid, then invalid) and every answer must be no 5xx and
match the schema: its status, content type, headers and body.

Path parameters are the fixture's real objects (a generated id only ever reaches a
404), except in one extra pass per operation with generated ids. Each DELETE gets an
object of its own to delete, so the others keep something to act on.

SCHEMATHESIS_EXAMPLES (default 20) sets the examples per operation and mode.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from accounts.models import Membership, Role
from core import outbound
from core.management.commands.runplatform import celery_worker_command
from deployments import git_services
from deployments.models import Deployment
from notify import services as notify_services
from sites import services as site_services
from tests.archives import tar_gz
from tests.e2e.conftest import stop_worker
from tests.e2e.helpers import wait_for
from tests.factories import add_member, make_site, make_team, make_user

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Not fuzzed, and why:
EXCLUDED = {
    # The worker would `git fetch` whatever repository URL is generated: real outbound
    # requests to arbitrary hosts (tests/e2e/test_push_to_deploy.py covers it with a
    # local git server).
    ("POST", "/v1/sites/{site_id}/deployments/vcs"),
}


def _start_worker(env: dict[str, str], log_path: Any) -> Any:
    """A worker for builds, servers and maintenance, and not for the notify queue: the
    outgoing webhooks generated here point at arbitrary addresses, so their deliveries
    are queued and never sent."""
    import subprocess

    queues = ",".join(env[f"SHIPWAY_{name}_QUEUE"] for name in ("BUILD", "SERVER", "MAINTENANCE"))
    log = open(log_path, "wb")  # noqa: SIM115 (the process owns it)
    process = subprocess.Popen(
        [
            *celery_worker_command(queues, 2),
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(1.5)
    return process


@pytest.fixture
def world(edge_server, live_storage, live_database_env, tmp_path, monkeypatch):
    """The live server's base URL, an API key's secret and the real objects' ids."""
    worker = _start_worker(live_database_env, tmp_path / "worker.log")
    try:
        yield _world(edge_server, monkeypatch)
    finally:
        stop_worker(worker)


def _world(edge_server: int, monkeypatch: Any) -> dict[str, Any]:
    base = f"http://127.0.0.1:{edge_server}"
    owner = make_user("fuzz-owner")
    team = make_team(owner, team_id="fuzz-team", name="Fuzz")
    site = make_site(team, site_id="fuzz-site", name="Fuzz site")
    _key, secret = account_services.api_key_create(user=owner, name="fuzz")
    auth = {"Authorization": f"Bearer {secret}"}

    answer = requests.post(
        f"{base}/v1/sites/{site.id}/deployments",
        files={"code": ("site.tar.gz", tar_gz({"index.html": "<h1>fuzz</h1>"}))},
        headers=auth,
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    deployment = wait_for(Deployment.objects.get(pk=answer.json()["id"]), timeout=180)
    assert deployment.status == "ready", deployment.status

    # Webhook and repository addresses are checked against DNS; the fixture's (in this
    # process, not the server) need no resolver.
    monkeypatch.setattr(outbound, "check_url", lambda *a, **k: None)
    git_services.repository_link(site=site, url="https://git.example.com/fuzz/site.git")
    webhook, _ = notify_services.webhook_create(
        team=team, url="https://hooks.example.com/fuzz", events=["sites.*.deployments.*.update"]
    )
    member = add_member(team, role=Role.DEVELOPER)
    membership = Membership.objects.get(team=team, user=member)
    variable = site_services.variable_create(site=site, key="FUZZ", value="1")
    domain = site_services.domain_create(site=site, domain="www.fuzz.example.com")
    hook, _url = git_services.deploy_hook_create(site=site, name="fuzz", branch="main")
    invitation, _token = account_services.invitation_create(
        team=team, email="invitee@example.com", role=Role.VIEWER, invited_by=owner
    )

    real = {
        "team_id": team.id,
        "site_id": site.id,
        "deployment_id": deployment.id,
        "variable_id": variable.id,
        "domain_id": domain.id,
        "hook_id": hook.id,
        "membership_id": membership.id,
        "invitation_id": invitation.id,
        "webhook_id": webhook.id,
        "key_id": _key.id,
    }

    # Objects of their own for the DELETEs to remove, made now: by the time a DELETE
    # runs, the POSTs may have filled a collection to its limit.
    doomed_webhook, _ = notify_services.webhook_create(
        team=team, url=webhook.url, events=webhook.events
    )
    doomed_member = add_member(team, role=Role.VIEWER)
    doomed = {
        "team_id": make_team(owner, team_id="doomed-team").id,
        "site_id": make_site(team, site_id="doomed-site").id,
        "key_id": account_services.api_key_create(user=owner, name="doomed")[0].id,
        "variable_id": site_services.variable_create(site=site, key="DOOMED", value="x").id,
        "domain_id": site_services.domain_create(site=site, domain="d.fuzz.example.com").id,
        "hook_id": git_services.deploy_hook_create(site=site, name="doomed", branch="main")[0].id,
        "membership_id": Membership.objects.get(team=team, user=doomed_member).id,
        "webhook_id": doomed_webhook.id,
    }
    return {"base": base, "auth": auth, "real": real, "doomed": doomed}


def _fuzz(operation: Any, world: dict[str, Any], mode: GenerationMode, real_ids: bool) -> str:
    """Run one operation's examples; "" when they all pass, else the first failure."""
    names = re.findall(r"{(\w+)}", operation.path)
    path_parameters: dict[str, Any] | None = None
    if real_ids and names:
        path_parameters = {n: world["real"][n] for n in names if n in world["real"]}
        if operation.method.upper() == "DELETE" and names[-1] in world["doomed"]:
            path_parameters[names[-1]] = world["doomed"][names[-1]]
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            base_url=world["base"], headers=world["auth"], checks=CHECKS, timeout=30
        )

    try:
        run()
    except Unsatisfiable:  # nothing of this operation can be made invalid (no input)
        return ""
    except (Exception, BaseExceptionGroup) as exc:  # the checks' failures, with the request
        return f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}"
    return ""


def test_every_operation_conforms_to_the_schema(world):
    schema = schemathesis.openapi.from_url(f"{world['base']}/v1/openapi.json")
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        for mode, real_ids in (
            (GenerationMode.POSITIVE, True),
            (GenerationMode.NEGATIVE, True),
            (GenerationMode.POSITIVE, False),
        ):
            if not real_ids and "{" not in operation.path:
                continue
            failure = _fuzz(operation, world, mode, real_ids)
            if failure:
                failures.append(failure)
    report = "\n\n".join(failures)
    print(report)  # whole: pytest's assertion message is cut short
    assert not failures, f"{len(failures)} failing operations:\n\n" + "\n\n".join(failures)
