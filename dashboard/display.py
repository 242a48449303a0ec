"""How the dashboard words things: durations, statuses, error sentences.

Kept in Python (the dashboard is not an app of its own, so it has no template tags):
views attach these to the objects they render.
"""

from __future__ import annotations

from collections.abc import Iterable

from deployments.errors import ErrorCode, message_for
from deployments.models import FINAL_STATUSES, Deployment
from sites.models import Site

RUNNING = "running"  # waiting, processing or building: the buttons and styles say so


def duration(seconds: float | None) -> str:
    """42s, 3m 12s, 1h 02m; an em dash when there is none."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def error_sentence(code: str) -> str:
    """The sentence for an error code ("" for none or an unknown one)."""
    try:
        # The enum member, not the bare string: `str in StrEnum` raises on Python 3.11.
        return message_for(ErrorCode(code)) if code else ""
    except ValueError:
        return ""


def present(deployments: Iterable[Deployment], site: Site) -> None:
    """Attach what the templates show: duration text, whether it is running, active or
    older than the active one (activating it is a rollback), the error's sentence.
    At most one query (the site's active deployment, for its age)."""
    active = site.deployment if site.deployment_id else None
    # attr-defined: what the templates show, set on these instances (not model fields).
    for deployment in deployments:
        deployment.duration_text = duration(deployment.build_duration)  # type: ignore[attr-defined]
        deployment.is_running = deployment.status not in FINAL_STATUSES  # type: ignore[attr-defined]
        deployment.is_active = deployment.id == site.deployment_id  # type: ignore[attr-defined]
        older = active is not None and deployment.created_at < active.created_at
        deployment.is_older = older  # type: ignore[attr-defined]
        deployment.error_text = error_sentence(deployment.error_code)  # type: ignore[attr-defined]
