"""Every realtime channel name, made and read here (docs/api.md, "Realtime").

A channel names what its subscribers follow: a site (`sites.{siteId}`), the site's
deployments (`sites.{siteId}.deployments`), one deployment
(`sites.{siteId}.deployments.{deploymentId}`), its build log (that and `.logs`) and,
for a server-rendered deployment, its server's output (`.runtime-logs`). An
event is named by its channel and what happened (`sites.{siteId}.delete`). Each channel
is the Channels group of the same name; `users.{userId}` is the group of one user's
open feeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SITE_ID = r"[a-z0-9][a-z0-9-]{0,35}"
_CHANNEL = re.compile(
    rf"^sites\.(?P<site>{_SITE_ID})"
    r"(?:\.deployments(?:\.(?P<deployment>[a-z0-9]{1,36})(?P<logs>\.logs|\.runtime-logs)?)?)?$"
)
_SITE_CHANNEL = re.compile(rf"^sites\.{_SITE_ID}$")
DELETE = "delete"


def site(site_id: str) -> str:
    return f"sites.{site_id}"


def site_deployments(site_id: str) -> str:
    return f"{site(site_id)}.deployments"


def deployment(site_id: str, deployment_id: str) -> str:
    return f"{site_deployments(site_id)}.{deployment_id}"


def deployment_logs(site_id: str, deployment_id: str) -> str:
    return f"{deployment(site_id, deployment_id)}.logs"


def deployment_runtime_logs(site_id: str, deployment_id: str) -> str:
    return f"{deployment(site_id, deployment_id)}.runtime-logs"


def event(channel: str, action: str) -> str:
    """An event's name: its channel and what happened (create, update, delete)."""
    return f"{channel}.{action}"


def group(channel: str) -> str:
    """The Channels group for a channel (groups allow letters, digits, '-_.')."""
    return channel


def user_group(user_id: int) -> str:
    """The group every open feed of one user joins, for access changes."""
    return f"users.{user_id}"


@dataclass(frozen=True)
class Channel:
    """What a channel name follows: a site, or one of its deployments."""

    site_id: str
    deployment_id: str = ""  # "" for the site's own channel and its `.deployments`


def parse(name: str) -> Channel | None:
    """The site (and deployment) a channel follows; None for a name that is no channel."""
    match = _CHANNEL.match(name)
    if not match:
        return None
    return Channel(match["site"], match["deployment"] or "")


def deleted_site(event_name: str) -> str | None:
    """The site channel that a site's delete event ends, or None for any other event."""
    channel, _, action = event_name.rpartition(".")
    return channel if action == DELETE and _SITE_CHANNEL.match(channel) else None


def within_site(channel: str, site_channel: str) -> bool:
    """Whether `channel` is the site's channel or one under it."""
    return channel == site_channel or channel.startswith(f"{site_channel}.")
