"""What one host serves right now, loaded once and kept until invalidated.

Loading (on a cache miss only) reads the database and the deployment's manifest; the
result holds everything a request needs, so the steady state runs no SQL at all.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.core.files.storage import FileSystemStorage

from deployments.artifacts import (
    artifacts,
    created_at,
    deployment_prefix,
    deployments_prefix,
    has_rules,
    read_manifest,
    site_prefix,
)
from deployments.models import Deployment, Environment, Status
from deployments.rules import Rules
from sites.hosts import HostKind, ParsedHost
from sites.models import Access, Site
from sites.selectors import verified_site_for_domain

log = structlog.get_logger(__name__)


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
    # Server-rendered (ssr) deployments: what the edge needs to reach the server.
    adapter: str = ""  # the deployment's ("static", "ssr"; "" for older ones: static)
    server_state: str = ""  # "stopped" (also: no Server row yet), "starting", ...
    server_address: str = ""  # "host:port" while running
    server_error: str = ""  # why it failed, a sentence
    server_changed_at: float = 0.0  # Unix time of the Server row's last change
    # The active deployment, while another's server keeps the site's traffic and its
    # own is stopped: the edge asks for it to start (the switch follows once healthy).
    pending_start: str = ""

    @property
    def serves_files(self) -> bool:
        return self.enabled and self.status == "ready" and bool(self.files)

    @property
    def ssr(self) -> bool:
        """A ready server-rendered deployment: its files from the manifest, the rest
        from its server."""
        return self.enabled and self.status == "ready" and self.adapter == "ssr"


NOT_EDGE = Served(host="", kind=HostKind.PLATFORM)

# What a host's Served needs of its deployment and of the deployment's server.
_DEPLOYMENT_FIELDS = (
    "id",
    "status",
    "build_ended_at",
    "adapter",
    "server__state",
    "server__address",
    "server__error",
    "server__updated_at",
)


def load(parsed: ParsedHost) -> Served:
    """Resolve a host from the database and storage (runs in a thread, on a miss only)."""
    site_id = parsed.site_id
    if parsed.kind == HostKind.CUSTOM:
        site_id = verified_site_for_domain(parsed.host) or ""
        if not site_id:  # a name pointed at the server that no site has verified
            return Served(host=parsed.host, kind=HostKind.UNKNOWN)
    if parsed.kind == HostKind.UNKNOWN:
        return Served(host=parsed.host, kind=parsed.kind)
    site = (
        Site.objects.filter(pk=site_id)
        .values(
            "id", "uid", "enabled", "access", "fallback_file", "deployment_id", "live_server_id"
        )
        .first()
    )
    if site is None:  # named by the site id, so that a site made with it is seen at once
        return Served(host=parsed.host, kind=HostKind.UNKNOWN, site_id=site_id)
    pending_start = ""
    if parsed.kind == HostKind.BRANCH:
        deployment = _newest_ready_preview(site_id, parsed.branch_label)
    elif parsed.kind == HostKind.DEPLOYMENT:
        deployment = (
            Deployment.objects.filter(pk=parsed.deployment_id, site_id=site_id)
            .values(*_DEPLOYMENT_FIELDS)
            .first()
        )
        if deployment is None:
            return Served(host=parsed.host, kind=HostKind.UNKNOWN, site_id=site_id)
    else:
        deployment, pending_start = _site_deployment(
            site_id, site["deployment_id"], site["live_server_id"]
        )
    access = site["access"]
    # A deployment's and a branch's addresses are previews; a site's domains are not.
    protected = access == Access.TEAM or (
        access == Access.PREVIEWS and parsed.kind in (HostKind.DEPLOYMENT, HostKind.BRANCH)
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
    if deployment and deployment["adapter"] == "ssr":
        served.adapter = "ssr"
        served.server_state = deployment["server__state"] or "stopped"
        served.server_address = deployment["server__address"] or ""
        served.server_error = deployment["server__error"] or ""
        changed = deployment["server__updated_at"]
        served.server_changed_at = changed.timestamp() if changed else 0.0
        served.pending_start = pending_start
    if deployment and deployment["status"] == "ready":
        served.prefix = deployment_prefix(site_id, deployment["id"])
        manifest = read_manifest(served.prefix)
        served.files = manifest["files"]  # ssr: its static assets, at their URL paths
        if has_rules(manifest):
            rules = manifest["rules"]
            served.rules = Rules.from_json(rules.get("redirects", []), rules.get("headers", []))
        created = created_at(manifest) or deployment["build_ended_at"]
        served.last_modified = format_datetime(created, usegmt=True) if created else ""
    return served


def _newest_ready_preview(site_id: str, label: str) -> dict[str, Any] | None:
    """What a branch's address serves: the branch's newest ready preview, in one query. A
    newer one still building, failed or canceled does not take its place, and production
    deployments built from the branch are not its."""
    return (
        Deployment.objects.filter(
            site_id=site_id,
            branch_label=label,
            environment=Environment.PREVIEW,
            status=Status.READY,
        )
        .order_by("-created_at")
        .values(*_DEPLOYMENT_FIELDS)
        .first()
    )


def _site_deployment(
    site_id: str, active_id: str | None, live_id: str | None
) -> tuple[dict[str, Any] | None, str]:
    """What a site's own domains serve, in one query: (the deployment, or None; the id of
    the active deployment when its server must be asked to start, else "")."""
    rows = {
        row["id"]: row
        for row in Deployment.objects.filter(
            pk__in=[d for d in (active_id, live_id) if d], site_id=site_id
        ).values(*_DEPLOYMENT_FIELDS)
    }
    deployment = rows.get(active_id) if active_id else None
    live = rows.get(live_id) if live_id else None
    # An ssr site keeps its traffic on the server that runs (the old one during a
    # switch) until the active deployment's passes its health check; the runtime
    # manager then moves live_server. A static active deployment ignores it.
    if (
        deployment is not None
        and deployment["adapter"] == "ssr"
        and live is not None
        and live["id"] != deployment["id"]
        and live["status"] == "ready"
        and live["adapter"] == "ssr"
        and live["server__state"] == "running"
    ):
        stopped = (deployment["server__state"] or "stopped") == "stopped"
        return live, deployment["id"] if stopped else ""
    return deployment, ""


def local_path(name: str) -> Path:
    """A local file holding a stored artifact: the file itself on a filesystem storage,
    or a read-through copy in the edge's disk cache for any other storage (S3)."""
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


def prune_copies(site_id: str) -> int:
    """Remove this machine's read-through copies (S3) of the site's deployments that no
    longer exist (deleted by hand, by retention, or with their site), so that the disk
    cache holds no more than what is served. Returns how many deployments' went."""
    if isinstance(artifacts(), FileSystemStorage):
        return 0
    cache = Path(settings.SHIPWAY_EDGE_CACHE_DIR)
    holder = cache / deployments_prefix(site_id)
    if not holder.is_dir():
        return 0
    existing = set(Deployment.objects.filter(site_id=site_id).values_list("id", flat=True))
    removed = 0
    for entry in list(holder.iterdir()):
        if entry.is_dir() and entry.name not in existing:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    if not existing and not Site.objects.filter(pk=site_id).exists():
        shutil.rmtree(cache / site_prefix(site_id), ignore_errors=True)
    return removed


def on_site_serving_changed(sender: Any, site_id: str, **kwargs: Any) -> None:
    """`site_serving_changed`'s receiver (edge/apps.py): drop deleted deployments' copies.
    A failure here never fails the write that sent it."""
    try:
        prune_copies(site_id)
    except OSError:
        log.warning("edge.copies_not_pruned", site_id=site_id, exc_info=True)
