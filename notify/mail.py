"""Mail to a site's owners when one of its production deployments fails.

deployments sends `deployment_status_changed` after each status change commits;
`on_status_changed` (connected in notify/apps.py) picks out the failures of production
deployments (a static or ssr build that failed: not previews, not cancellations or
superseded builds, which end `canceled`, nor skipped pushes) and queues one mail per
owner of the site's team through core/mail.py: the site, the deployment id, the error
code and its sentence (deployments/errors.py), the log's last lines and the
deployment's dashboard page.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from django.conf import settings
from django.urls import reverse

from accounts.models import Role
from core import mail
from core.masking import SecretMasker
from deployments.environment import log_secrets
from deployments.errors import ErrorCode, message_for
from deployments.models import Deployment, Environment, Status
from deployments.selectors import log_text

log = structlog.get_logger(__name__)

TEMPLATE = "deployment_failed"
LOG_TAIL_LINES = 20
LOG_TAIL_CHARS = 4000
# Failures that are not news to the owners: nothing was built, or a person stopped it.
QUIET_CODES = frozenset({ErrorCode.CANCELED, ErrorCode.SUPERSEDED, ErrorCode.BUILD_SKIPPED})
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def on_status_changed(sender: Any, *, deployment_id: str, status: str, **kwargs: Any) -> None:
    """deployment_status_changed's receiver: failures only (the rest costs nothing)."""
    if status == Status.FAILED:
        mail_deployment_failed(deployment_id)


def owners_addresses(deployment: Deployment) -> list[str]:
    """The email addresses of the active owners of the deployment's site's team (the
    first MAX_RECIPIENTS by username)."""
    return list(
        deployment.site.team.memberships.filter(role=Role.OWNER, user__is_active=True)
        .exclude(user__email="")
        .order_by("user__username")
        .values_list("user__email", flat=True)[: mail.MAX_RECIPIENTS]
    )


def log_tail(deployment: Deployment) -> str:
    """The build log's last lines: at most LOG_TAIL_LINES lines and LOG_TAIL_CHARS
    characters, without terminal colours, and with the site's secret variables masked
    (again: the log is masked as it is written; a mail leaves the platform)."""
    start = max(0, deployment.log_size - 4 * LOG_TAIL_CHARS)
    text = _CONTROL.sub("", _ANSI.sub("", log_text(deployment, start)))
    lines = text.rstrip("\n").splitlines()[-LOG_TAIL_LINES:]
    tail = "\n".join(lines)[-LOG_TAIL_CHARS:]
    return SecretMasker(log_secrets(deployment))(tail)


def dashboard_link(deployment: Deployment) -> str:
    path = reverse(
        "dashboard:deployment",
        kwargs={"site_id": deployment.site_id, "deployment_id": deployment.id},
    )
    return settings.SHIPWAY_PUBLIC_URL.rstrip("/") + path


def mail_deployment_failed(deployment_id: str) -> list[str]:
    """Queue the failure mail to each owner, if the deployment is a failed production
    one; returns the mails' ids (none otherwise)."""
    deployment = Deployment.objects.select_related("site__team").filter(pk=deployment_id).first()
    if (
        deployment is None
        or deployment.status != Status.FAILED
        or deployment.environment != Environment.PRODUCTION
        or deployment.error_code in QUIET_CODES
    ):
        return []
    site = deployment.site
    context = {
        "site_id": site.id,
        "site_name": site.name,
        "team_name": site.team.name,
        "deployment_id": deployment.id,
        "error_code": deployment.error_code or ErrorCode.INTERNAL,
        "error_message": message_for(deployment.error_code or ErrorCode.INTERNAL),
        "log_tail": log_tail(deployment) or "(the log is empty)",
        "link": dashboard_link(deployment),
    }
    ids = mail.queue_mail(template=TEMPLATE, to=owners_addresses(deployment), context=context)
    log.info(
        "mail.deployment_failed",
        site_id=site.id,
        deployment_id=deployment.id,
        error_code=deployment.error_code,
        mails=len(ids),
    )
    return ids
