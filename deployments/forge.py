"""Commit statuses: a push or deploy hook deployment's state, shown on the commit it builds.

When the site's linked repository has a token, each such deployment reports itself on
its commit through the forge's commit status API, under the name `shipway/production`
or `shipway/preview`: pending while it waits and builds (GitLab: `running` while it
builds), success with its address when ready, failure when it failed, and the forge's
closest word for canceled (GitHub and Gitea `error`, GitLab `canceled`). A report is
queued when the status changes and sent by a worker on SHIPWAY_NOTIFY_QUEUE, after the
transaction that changed it commits; the token is read from the database there, never
carried in the message. The forge's API is a user's choice of address, so the request
goes through `core.outbound.request` (checked, pinned, time-limited, no redirects).
A forge that does not answer, or answers 5xx, is asked again after RETRY_DELAYS; any
other failure is only logged. Nothing here ever changes the deployment.

GitLab refuses a state its status already has (pending after pending), so a deployment
reports each state once: pending when it is made (a push knows its commit then) or, for
a deploy hook, when its fetch has found the commit; then building; then how it ended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit

import structlog
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from core import outbound
from deployments.errors import ErrorCode, message_for
from deployments.models import Deployment, Status, Trigger
from sites.models import Provider, Repository

log = structlog.get_logger(__name__)

# deployments/tasks.py registers the task under this name; it is sent by name, as the
# builds are, so that this module need not import the tasks.
REPORT_TASK = "deployments.tasks.report_commit_status"
TIMEOUT = 10  # seconds for the whole request
RETRY_DELAYS = (10, 60, 300)  # seconds before each new try after no answer or a 5xx
DESCRIPTION_LIMIT = 140  # GitHub's cap on a status's description
_ANSWER_LIMIT = 16 * 1024  # bytes of the forge's answer read (a few of them are logged)


class Phase(StrEnum):
    """Where a deployment is, in the words every forge has one state for."""

    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


_PHASES = {
    Status.WAITING: Phase.QUEUED,
    Status.PROCESSING: Phase.QUEUED,
    Status.BUILDING: Phase.BUILDING,
    Status.READY: Phase.READY,
    Status.FAILED: Phase.FAILED,
    Status.CANCELED: Phase.CANCELED,
}
_GITHUB_STATES = {
    Phase.QUEUED: "pending",
    Phase.BUILDING: "pending",
    Phase.READY: "success",
    Phase.FAILED: "failure",
    Phase.CANCELED: "error",
}
_STATES: dict[str, dict[Phase, str]] = {
    Provider.GITHUB: _GITHUB_STATES,
    Provider.GITEA: _GITHUB_STATES,  # the same states as GitHub's
    Provider.GITLAB: {
        Phase.QUEUED: "pending",
        Phase.BUILDING: "running",
        Phase.READY: "success",
        Phase.FAILED: "failed",
        Phase.CANCELED: "canceled",
    },
}


@dataclass(frozen=True)
class Report:
    """What a status says, before any provider's words for it."""

    phase: Phase
    target_url: str
    description: str
    context: str


@dataclass(frozen=True)
class StatusRequest:
    """One commit status, as a provider's API takes it: POST `body` (JSON) to `url`."""

    url: str
    headers: dict[str, str]
    body: dict[str, str]


# -- Queueing (in the transaction that changed the deployment) -------------------------


def report_status_later(deployment: Deployment) -> None:
    """Queue a report of the deployment's current status on its commit, sent once the
    current transaction commits (at once outside one), if it gets one at all: it was made
    by a push or a deploy hook, its commit is known, and its site's linked repository is
    the one it builds and has a token. `processing` is reported for a deploy hook's
    deployment only: a push's was reported pending when it was made."""
    status = deployment.status
    if status == Status.PROCESSING and deployment.trigger != Trigger.HOOK:
        return
    if _linked_repository(deployment) is None:
        return
    deployment_id = deployment.id
    # robust: a broker that is down loses the report, never the status change.
    transaction.on_commit(lambda: _queue(deployment_id, status), robust=True)


def _queue(deployment_id: str, status: str) -> None:
    current_app.signature(
        REPORT_TASK,
        args=(deployment_id, status),
        queue=settings.SHIPWAY_NOTIFY_QUEUE,
        ignore_result=True,
    ).apply_async()


def _linked_repository(deployment: Deployment) -> Repository | None:
    """The repository whose commit the deployment builds and reports on, or None: the
    deployment was made by a push or a deploy hook, its commit is known, and its site's
    repository is the same address and has a token."""
    if deployment.trigger not in (Trigger.PUSH, Trigger.HOOK) or not deployment.commit_hash:
        return None
    repository = Repository.objects.filter(site_id=deployment.site_id).first()
    if repository is None or not repository.encrypted_token:
        return None
    return repository if repository.url == deployment.repository else None


# -- Sending (in the worker) -----------------------------------------------------------


def report_status(deployment_id: str, status: str, *, attempt: int = 0) -> float | None:
    """Send the report queued for the deployment's `status` (`attempt` counts the tries
    before this one). Nothing is sent if the deployment is gone, has moved on (its newer
    status has a report of its own) or no longer reports. Returns the seconds after which
    to try again when the forge did not answer or answered 5xx and tries remain, else
    None; every failure is logged. Never changes the deployment."""
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if deployment is None or deployment.status != status:
        return None
    repository = _linked_repository(deployment)
    if repository is None:
        return None
    where = {
        "site_id": deployment.site_id,
        "deployment_id": deployment.id,
        "provider": repository.provider,
        "deployment_status": status,
        "attempt": attempt + 1,
    }
    token = repository.token
    try:
        wanted = status_request(
            repository.provider, repository.url, token, deployment.commit_hash, _report(deployment)
        )
    except ValueError as exc:
        log.warning("forge.status_unaddressable", reason=str(exc), **where)
        return None
    try:
        answer = outbound.request(
            "POST",
            wanted.url,
            body=json.dumps(wanted.body).encode(),
            headers=wanted.headers,
            timeout=TIMEOUT,
            max_body=_ANSWER_LIMIT,
            subject="The forge's API",
            verb="report commit statuses to",
        )
    except outbound.OutboundRefused as exc:
        log.warning("forge.status_refused", reason=str(exc), **where)
        return None
    except outbound.OutboundFailed as exc:
        return _failed(attempt, where, error=str(exc))
    if answer.status >= 500:
        return _failed(attempt, where, status_code=answer.status)
    if answer.status >= 300:  # a redirect (never followed), or the forge said no
        said = answer.body[:300].decode(errors="replace")
        said = said.replace(token, "***") if token else said  # should a forge echo it
        log.warning("forge.status_rejected", status_code=answer.status, answer=said, **where)
        return None
    log.info("forge.status_reported", status_code=answer.status, **where)
    return None


def _failed(attempt: int, where: dict[str, object], **why: object) -> float | None:
    """Log a try that got no answer or a 5xx; the delay before the next, if any is left."""
    delay = RETRY_DELAYS[attempt] if attempt < len(RETRY_DELAYS) else None
    log.warning("forge.status_failed", **why, retry_in=delay, gave_up=delay is None, **where)
    return delay


def _report(deployment: Deployment) -> Report:
    """What the deployment's status says on its commit."""
    phase = _PHASES[Status(deployment.status)]
    environment = deployment.environment
    if phase == Phase.READY:
        target, description = deployment.url, f"The {environment} deployment is ready."
    else:
        # Its page in the dashboard: the build log, and why it failed.
        path = reverse("dashboard:deployment", args=[deployment.site_id, deployment.id])
        target = f"{settings.SHIPWAY_PUBLIC_URL}{path}"
        description = {
            Phase.QUEUED: f"The {environment} deployment is waiting to build.",
            Phase.BUILDING: f"The {environment} deployment is building.",
            # The code's sentence: why it failed, or that a newer push superseded it.
            Phase.FAILED: message_for(deployment.error_code) or "The build failed.",
            Phase.CANCELED: message_for(deployment.error_code) or message_for(ErrorCode.CANCELED),
        }[phase]
    return Report(phase, target, description, f"shipway/{environment}")


# -- Each provider's request (pure) ----------------------------------------------------


def status_request(
    provider: str, repository_url: str, token: str, sha: str, report: Report
) -> StatusRequest:
    """The request that sets `report` on commit `sha` of the repository at
    `repository_url`. Raises ValueError if the address names no repository the
    provider's API can be asked about."""
    build = {
        Provider.GITHUB: github_request,
        Provider.GITEA: gitea_request,
        Provider.GITLAB: gitlab_request,
    }[Provider(provider)]
    return build(repository_url, token, sha, report)


def github_request(repository_url: str, token: str, sha: str, report: Report) -> StatusRequest:
    """GitHub's POST /repos/{owner}/{repo}/statuses/{sha}: api.github.com for github.com,
    /api/v3 on the host for GitHub Enterprise Server."""
    origin = _origin(repository_url)
    github = urlsplit(repository_url).hostname == "github.com"
    base = "https://api.github.com" if github else f"{origin}/api/v3"
    return StatusRequest(
        f"{base}/repos/{_owner_and_name(repository_url)}/statuses/{quote(sha, safe='')}",
        {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "Content-Type": "application/json",
        },
        _github_body(Provider.GITHUB, report),
    )


def gitea_request(repository_url: str, token: str, sha: str, report: Report) -> StatusRequest:
    """Gitea's and Forgejo's POST /api/v1/repos/{owner}/{repo}/statuses/{sha}."""
    path = _owner_and_name(repository_url)
    return StatusRequest(
        f"{_origin(repository_url)}/api/v1/repos/{path}/statuses/{quote(sha, safe='')}",
        {
            "Authorization": f"token {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
        _github_body(Provider.GITEA, report),
    )


def gitlab_request(repository_url: str, token: str, sha: str, report: Report) -> StatusRequest:
    """GitLab's POST /api/v4/projects/{url-encoded path}/statuses/{sha} (subgroups too)."""
    project = quote(_repository_path(repository_url), safe="")
    return StatusRequest(
        f"{_origin(repository_url)}/api/v4/projects/{project}/statuses/{quote(sha, safe='')}",
        {"PRIVATE-TOKEN": token, "Accept": "application/json", "Content-Type": "application/json"},
        {
            "state": _STATES[Provider.GITLAB][report.phase],
            "target_url": report.target_url,
            "description": _short(report.description),
            "name": report.context,
        },
    )


def _github_body(provider: str, report: Report) -> dict[str, str]:
    return {
        "state": _STATES[provider][report.phase],
        "target_url": report.target_url,
        "description": _short(report.description),
        "context": report.context,
    }


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def _origin(repository_url: str) -> str:
    """scheme://host[:port] of the address (without any credentials)."""
    parts = urlsplit(repository_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("The repository's address is not an http(s) address with a host.")
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _repository_path(repository_url: str) -> str:
    """The address's path without slashes around it or a trailing `.git`: "group/repo"."""
    path = urlsplit(repository_url).path.strip("/").removesuffix(".git").strip("/")
    if path.count("/") < 1 or "" in path.split("/"):
        raise ValueError("The repository's address names no owner and repository.")
    return path


def _owner_and_name(repository_url: str) -> str:
    """GitHub's and Gitea's "owner/repo", each part escaped for the API's path."""
    parts = _repository_path(repository_url).split("/")
    if len(parts) != 2:
        raise ValueError("The repository's address is not owner/repository.")
    return "/".join(quote(part, safe="") for part in parts)
