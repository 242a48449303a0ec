"""Which Host header names what: a site, one deployment, a custom domain, or Django."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum

_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class HostKind(Enum):
    PRODUCTION = "production"  # {siteId}.{SITES_DOMAIN}
    DEPLOYMENT = "deployment"  # {deploymentId}.{siteId}.{SITES_DOMAIN}
    CUSTOM = "custom"  # maybe a verified custom domain
    UNKNOWN = "unknown"  # under SITES_DOMAIN but names nothing (or the bare domain)
    PLATFORM = "platform"  # Django: the dashboard, admin, API, realtime


@dataclass(frozen=True)
class ParsedHost:
    kind: HostKind
    host: str
    site_id: str = ""
    deployment_id: str = ""


def normalize(raw: str) -> str:
    """Lowercase, without port or trailing dot."""
    host = raw.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def parse(raw: str, sites_domain: str, platform_hosts: frozenset[str]) -> ParsedHost:
    host = normalize(raw)
    if not host or host in platform_hosts or _is_ip(host) or host == "localhost":
        return ParsedHost(HostKind.PLATFORM, host)
    if host == sites_domain:
        return ParsedHost(HostKind.UNKNOWN, host)
    suffix = "." + sites_domain
    if host.endswith(suffix):
        labels = host[: -len(suffix)].split(".")
        if not all(_LABEL.match(label) for label in labels):
            return ParsedHost(HostKind.UNKNOWN, host)
        if len(labels) == 1:
            return ParsedHost(HostKind.PRODUCTION, host, site_id=labels[0])
        if len(labels) == 2:
            return ParsedHost(HostKind.DEPLOYMENT, host, labels[1], labels[0])
        return ParsedHost(HostKind.UNKNOWN, host)
    return ParsedHost(HostKind.CUSTOM, host)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
