"""Which Host header names what: a site, one deployment, a custom domain, or Django.

Every host under SITES_DOMAIN is one label deep, so that one wildcard certificate
(`*.SITES_DOMAIN`) covers them all: `{siteId}` for a site, `{deploymentId}--{siteId}` for
one of its deployments, `git-{branch}--{siteId}` for a branch's newest preview
(branch_label). Site ids never hold "--" (core/ids.py), so the label's first "--" ends
what comes before the site id; deployment ids never hold "-", so a head that starts
with "git-" names a branch.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from enum import Enum

_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DEPLOYMENT_ID = re.compile(r"^[a-z0-9]{1,36}$")  # server-made: lowercase alphanumeric
SEPARATOR = "--"
BRANCH_PREFIX = "git-"
# What branch_label makes: the prefix, then words of lowercase letters and digits
# joined by single "-".
_BRANCH_LABEL = re.compile(rf"^{BRANCH_PREFIX}[a-z0-9]+(?:-[a-z0-9]+)*$")
_MAX_LABEL = 63


class HostKind(Enum):
    PRODUCTION = "production"  # {siteId}.{SITES_DOMAIN}
    DEPLOYMENT = "deployment"  # {deploymentId}--{siteId}.{SITES_DOMAIN}
    BRANCH = "branch"  # git-{branch}--{siteId}.{SITES_DOMAIN}: its newest ready preview
    CUSTOM = "custom"  # maybe a verified custom domain
    UNKNOWN = "unknown"  # under SITES_DOMAIN but names nothing (or the bare domain)
    PLATFORM = "platform"  # Django: the dashboard, admin, API, realtime


@dataclass(frozen=True)
class ParsedHost:
    kind: HostKind
    host: str
    site_id: str = ""
    deployment_id: str = ""
    branch_label: str = ""  # BRANCH: the head of the label, as Deployment.branch_label


def normalize(raw: str) -> str:
    """Lowercase, without port or trailing dot."""
    host = raw.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def parse(raw: str, sites_domain: str, platform_hosts: frozenset[str]) -> ParsedHost:
    """What the Host header `raw` names, from its text alone (no database)."""
    host = normalize(raw)
    if not host or host in platform_hosts or _is_ip(host) or host == "localhost":
        return ParsedHost(HostKind.PLATFORM, host)
    if host == sites_domain:
        return ParsedHost(HostKind.UNKNOWN, host)
    suffix = "." + sites_domain
    if host.endswith(suffix):
        label = host[: -len(suffix)]
        if not _LABEL.match(label):  # also refuses a second label: outside the wildcard
            return ParsedHost(HostKind.UNKNOWN, host)
        head, separator, site_id = label.partition(SEPARATOR)
        if not separator:
            return ParsedHost(HostKind.PRODUCTION, host, site_id=label)
        if not _LABEL.match(site_id) or SEPARATOR in site_id:
            return ParsedHost(HostKind.UNKNOWN, host)
        if _DEPLOYMENT_ID.match(head):
            return ParsedHost(HostKind.DEPLOYMENT, host, site_id, deployment_id=head)
        if _BRANCH_LABEL.match(head):
            return ParsedHost(HostKind.BRANCH, host, site_id, branch_label=head)
        return ParsedHost(HostKind.UNKNOWN, host)
    return ParsedHost(HostKind.CUSTOM, host)


def site_host(site_id: str, sites_domain: str) -> str:
    """A site's own address."""
    return f"{site_id}.{sites_domain}".lower()


def deployment_host(deployment_id: str, site_id: str, sites_domain: str) -> str:
    """A deployment's own address, one label under SITES_DOMAIN."""
    return f"{deployment_id}{SEPARATOR}{site_id}.{sites_domain}".lower()


def branch_label(branch: str, site_id: str) -> str:
    """The head of a branch's stable address: `git-` and the branch's name when that is
    already a DNS label's lowercase letters, digits and '-' and fits; otherwise what of
    it fits, made so, and 8 hex digits of its hash (so `feature/a` and `feature-a`
    differ). The whole label, `{head}--{siteId}`, fits DNS's 63 characters."""
    budget = _MAX_LABEL - len(SEPARATOR) - len(site_id) - len(BRANCH_PREFIX)
    slug = re.sub(r"[^a-z0-9]+", "-", branch.lower()).strip("-")
    if slug != branch or len(slug) > budget:
        digest = hashlib.sha256(branch.encode()).hexdigest()[:8]
        slug = slug[: budget - len(digest) - 1].strip("-")
        slug = f"{slug}-{digest}" if slug else digest
    return BRANCH_PREFIX + slug


def branch_host(label: str, site_id: str, sites_domain: str) -> str:
    """A branch's stable address (`label` from branch_label)."""
    return f"{label}{SEPARATOR}{site_id}.{sites_domain}".lower()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
