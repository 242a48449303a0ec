"""What one host serves right now, loaded once and kept until invalidated.

Loading (on a cache miss only) reads the database and the deployment's manifest; the
result holds everything a request needs, so the steady state runs no SQL at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.dateparse import parse_datetime

from deployments.models import Deployment
from deployments.rules import Rules
from deployments.storage import MANIFEST_FILE, artifacts
from sites.domains import verified_site_for_domain
from sites.hosts import HostKind, ParsedHost
from sites.models import Access, Site


@dataclass
class Served:
    """A host's site, deployment and files (or the reason it serves none)."""

    host: str
    kind: HostKind
    site_id: str = ""
    site_uid: str = ""  # the site's server-made identity: what preview cookies name
    deployment_id: str = ""
    status: str = ""  # the deployment's status, "" when there is none
    enabled: bool = True
    protected: bool = False  # team members only (preview protection)
    fallback_file: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: Rules | None = None
    prefix: str = ""
    last_modified: str = ""

    @property
    def serves_files(self) -> bool:
        return self.enabled and self.status == "ready" and bool(self.files)


NOT_EDGE = Served(host="", kind=HostKind.PLATFORM)


def load(parsed: ParsedHost) -> Served:
    """Resolve a host from the database and storage (runs in a thread, on a miss only)."""
    site_id = parsed.site_id
    if parsed.kind == HostKind.CUSTOM:
        site_id = verified_site_for(parsed.host) or ""
        if not site_id:  # a name pointed at the server that no site has verified
            return Served(host=parsed.host, kind=HostKind.UNKNOWN)
    if parsed.kind == HostKind.UNKNOWN:
        return Served(host=parsed.host, kind=parsed.kind)
    site = (
        Site.objects.filter(pk=site_id)
        .values("id", "uid", "enabled", "access", "fallback_file", "deployment_id")
        .first()
    )
    if site is None:  # named by the site id, so that a site made with it is seen at once
        return Served(host=parsed.host, kind=HostKind.UNKNOWN, site_id=site_id)
    deployment_id = (
        parsed.deployment_id if parsed.kind == HostKind.DEPLOYMENT else site["deployment_id"]
    )
    deployment = (
        Deployment.objects.filter(pk=deployment_id, site_id=site_id)
        .values("id", "status", "build_ended_at")
        .first()
        if deployment_id
        else None
    )
    if parsed.kind == HostKind.DEPLOYMENT and deployment is None:
        return Served(host=parsed.host, kind=HostKind.UNKNOWN, site_id=site_id)
    access = site["access"]
    protected = access == Access.TEAM or (
        access == Access.PREVIEWS and parsed.kind == HostKind.DEPLOYMENT
    )
    served = Served(
        host=parsed.host,
        kind=parsed.kind,
        site_id=site_id,
        site_uid=site["uid"].hex,
        deployment_id=deployment["id"] if deployment else "",
        status=deployment["status"] if deployment else "",
        enabled=site["enabled"],
        protected=protected,
        fallback_file=site["fallback_file"],
    )
    if deployment and deployment["status"] == "ready":
        served.prefix = f"sites/{site_id}/deployments/{deployment['id']}"
        manifest = _read_manifest(served.prefix)
        served.files = manifest["files"]
        rules = manifest.get("rules") or {}
        if rules.get("redirects") or rules.get("headers"):
            served.rules = Rules.from_json(rules.get("redirects", []), rules.get("headers", []))
        created = parse_datetime(manifest.get("createdAt", "")) or deployment["build_ended_at"]
        served.last_modified = format_datetime(created, usegmt=True) if created else ""
    return served


def verified_site_for(host: str) -> str | None:
    return verified_site_for_domain(host)


def _read_manifest(prefix: str) -> dict[str, Any]:
    with artifacts().open(f"{prefix}/{MANIFEST_FILE}", "rb") as handle:
        return json.loads(handle.read())


def local_path(prefix: str, relative: str) -> Path:
    """A local file holding a stored artifact: the file itself on a filesystem storage,
    or a read-through copy in the edge's disk cache for any other storage (S3)."""
    name = f"{prefix}/{relative}"
    storage = artifacts()
    if isinstance(storage, FileSystemStorage):
        return Path(storage.path(name))
    cached = Path(settings.SHIPWAY_EDGE_CACHE_DIR) / name
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(cached.name + f".{os.getpid()}.part")
        with storage.open(name, "rb") as src, open(partial, "wb") as dst:
            while chunk := src.read(1024 * 1024):
                dst.write(chunk)
        partial.rename(cached)  # deployments are immutable: a copy never goes stale
    return cached
