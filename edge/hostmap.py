"""The front proxy's host map: which hosts nginx (or Caddy) answers from disk by itself.

With SHIPWAY_FRONT_PROXY on, Shipway keeps under SHIPWAY_EDGE_ROOT:

    deployments/{deploymentId}/...     a deployment's output, each file's precompressed
                                       variants beside it (app.js, app.js.gz, app.js.br),
                                       made of hard links to the stored files (copies
                                       across filesystems, downloads from S3)
    hosts/{hostname}                   symlink to ../deployments/{deploymentId}, replaced
                                       atomically (a new symlink os.replace'd over it)
    meta/{siteId}/{deploymentId}.json  what a deployment's manifest said (rules or not)
    sites/{siteId}.json                the hosts linked for the site (to unlink them later)
    locks/, tmp/                       per-site locks; work in progress (same filesystem)

The proxy's document root is `hosts/$host` (deploy/nginx.conf, deploy/Caddyfile): a file
found there is sent from disk; everything else (a missing file, a directory without its
slash, the SPA fallback and 404 page, a host without a link) goes to the Python edge.
A host gets no link, so that every request reaches the edge, whenever a request needs a
decision: the site is disabled, the host is protected (access "team", or "previews" for
deployment and branch hosts), the deployment is not ready, it has `_redirects`/`_headers`
rules, or it is server-rendered (its manifest has a `server`: the edge proxies it). A
branch host links to the branch's newest ready preview, or to nothing while that one
may not be linked (an older preview never stands in for it).

`site_serving_changed` (sent after commit on activation, rollback, status changes, site
changes and deletion) re-publishes the site here; `manage.py edgemap sync` rebuilds all.
The proxy's own configuration is edge/proxy_config.py's.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import structlog
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage

from deployments.artifacts import (
    VARIANTS,
    artifacts,
    compressed_path,
    created_at,
    deployment_prefix,
    has_rules,
    output_path,
    read_manifest,
)
from deployments.models import Deployment, Environment, Status
from sites.hosts import HostKind, branch_host, deployment_host, parse, site_host
from sites.models import Access, Site
from sites.selectors import verified_domains_for_site

log = structlog.get_logger(__name__)

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_LINK_ERRORS = {errno.EXDEV, errno.EPERM, errno.EACCES, errno.EMLINK, errno.EOPNOTSUPP}
_STALE_WORK = 3600  # seconds after which tmp/ leftovers of a crashed process are removed


# --- layout ----------------------------------------------------------------------------


def edge_root() -> Path:
    return Path(settings.SHIPWAY_EDGE_ROOT)


def _dir(name: str) -> Path:
    path = edge_root() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def tree_path(deployment_id: str) -> Path:
    return edge_root() / "deployments" / deployment_id


def host_link(hostname: str) -> Path:
    return edge_root() / "hosts" / hostname


def _meta_path(site_id: str, deployment_id: str) -> Path:
    return edge_root() / "meta" / site_id / f"{deployment_id}.json"


def _index_path(site_id: str) -> Path:
    return edge_root() / "sites" / f"{site_id}.json"


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    partial.write_text(json.dumps(value))
    os.replace(partial, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """An exclusive lock between every process of this machine (web, worker, commands),
    so that publications of one site apply in the order they read the database."""
    with open(_dir("locks") / f"{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- deployment trees ------------------------------------------------------------------


def materialize(deployment_id: str) -> Path:
    """The deployment's tree under SHIPWAY_EDGE_ROOT/deployments/, made if missing."""
    deployment = Deployment.objects.filter(pk=deployment_id).values("site_id", "status").first()
    if deployment is None or deployment["status"] != Status.READY:
        raise LookupError(f"deployment {deployment_id} is not a ready deployment")
    site_id = deployment["site_id"]
    manifest = _manifest(site_id, deployment_id)
    path = _build_tree(site_id, deployment_id, manifest)
    _write_json(_meta_path(site_id, deployment_id), _describe(site_id, deployment_id, manifest))
    return path


def _manifest(site_id: str, deployment_id: str) -> dict[str, Any]:
    return read_manifest(deployment_prefix(site_id, deployment_id))


def _describe(site_id: str, deployment_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """What publishing needs to know of a deployment, kept so the manifest is read once."""
    reason = ""
    if manifest.get("server"):
        # ssr: which deployment answers (live_server), methods other than GET/HEAD and
        # request bodies are the edge's (its proxy); the proxy never answers alone.
        reason = "ssr"
    elif has_rules(manifest):
        reason = "rules"
    elif not _variants_agree(site_id, deployment_id, manifest):
        reason = "variant-clash"
    return {"site": site_id, "deployment": deployment_id, "linkable": not reason, "why": reason}


def _variants_agree(site_id: str, deployment_id: str, manifest: dict[str, Any]) -> bool:
    """An output that ships both `x` and `x.gz` (or `x.br`): the proxy would send that
    `x.gz` as the compressed `x`, so it must really be `x` compressed."""
    files = manifest["files"]
    storage = artifacts()
    prefix = deployment_prefix(site_id, deployment_id)
    for path, entry in files.items():
        for suffix in VARIANTS.values():
            if f"{path}.{suffix}" not in files:
                continue
            name = output_path(prefix, f"{path.lstrip('/')}.{suffix}")
            with storage.open(name, "rb") as handle:
                data = handle.read()
            try:
                plain = gzip.decompress(data) if suffix == "gz" else brotli.decompress(data)
            except Exception:
                return False
            if hashlib.sha256(plain).hexdigest() != entry["hash"]:
                return False
    return True


def _relative(url_path: str) -> str:
    relative = url_path.lstrip("/")
    parts = relative.split("/")
    if not relative or any(part in ("", ".", "..") for part in parts) or "\x00" in relative:
        raise ValueError(f"unsafe path in manifest: {url_path!r}")
    return relative


def _build_tree(site_id: str, deployment_id: str, manifest: dict[str, Any]) -> Path:
    final = tree_path(deployment_id)
    if final.is_dir():
        return final
    _dir("deployments")
    work = Path(tempfile.mkdtemp(prefix=f"{deployment_id}.", dir=_dir("tmp")))
    storage = artifacts()
    prefix = deployment_prefix(site_id, deployment_id)
    created = created_at(manifest)
    mtime = created.timestamp() if created else time.time()
    files = manifest["files"]
    try:
        for url_path, entry in files.items():
            relative = _relative(url_path)
            _place(storage, output_path(prefix, relative), work / relative, mtime)
            for variant, suffix in VARIANTS.items():
                # A variant never takes the place of a real output file of that name.
                if entry.get(variant) and f"{url_path}.{suffix}" not in files:
                    stored = compressed_path(prefix, relative, variant)
                    _place(storage, stored, work / f"{relative}.{suffix}", mtime)
        work.chmod(0o755)  # mkdtemp's 0700 would keep the proxy's workers out
        try:
            os.rename(work, final)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not final.is_dir():
                raise
            shutil.rmtree(work, ignore_errors=True)  # another process finished first
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("edge.tree_materialized", site_id=site_id, deployment_id=deployment_id)
    return final


def _place(storage: Storage, name: str, destination: Path, mtime: float) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(storage, FileSystemStorage):
        source = storage.path(name)
        try:
            os.link(source, destination)
            return
        except OSError as exc:
            if exc.errno not in _LINK_ERRORS:
                raise
        shutil.copy2(source, destination)
        return
    with storage.open(name, "rb") as src, open(destination, "wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    os.utime(destination, (mtime, mtime))  # Last-Modified: when the deployment was built


def _linkable(site_id: str, deployment_id: str) -> bool:
    """Whether the deployment may be served from disk (its tree made if so)."""
    meta = _read_json(_meta_path(site_id, deployment_id))
    if meta is None:
        manifest = _manifest(site_id, deployment_id)
        meta = _describe(site_id, deployment_id, manifest)
        if meta["linkable"]:
            _build_tree(site_id, deployment_id, manifest)
        _write_json(_meta_path(site_id, deployment_id), meta)
    elif meta["linkable"] and not tree_path(deployment_id).is_dir():
        _build_tree(site_id, deployment_id, _manifest(site_id, deployment_id))
    return bool(meta["linkable"])


# --- host links ------------------------------------------------------------------------


def _link(hostname: str, deployment_id: str) -> None:
    target = f"../deployments/{deployment_id}"
    link = host_link(hostname)
    with contextlib.suppress(OSError):
        if os.readlink(link) == target:
            return
    _dir("hosts")
    temporary = _dir("tmp") / f"{hostname}.{uuid.uuid4().hex}.link"
    os.symlink(target, temporary)
    os.replace(temporary, link)  # atomic: the old target or the new one, never nothing


def _unlink(hostname: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        host_link(hostname).unlink()


def _linked_deployment(hostname: str) -> str | None:
    try:
        return os.readlink(host_link(hostname)).rsplit("/", 1)[-1]
    except OSError:
        return None


def _custom_domains(site_id: str) -> list[str]:
    names = []
    suffix = "." + settings.SITES_DOMAIN
    for raw in verified_domains_for_site(site_id):
        name = raw.strip().lower().rstrip(".")
        if _HOSTNAME.match(name) and not name.endswith(suffix) and name != settings.SITES_DOMAIN:
            names.append(name)
    return names


def desired_links(site_id: str) -> dict[str, str]:
    """host -> deployment id, for every host of the site the proxy may serve from disk."""
    site = Site.objects.filter(pk=site_id).values("enabled", "access", "deployment_id").first()
    if site is None or not site["enabled"] or site["access"] == Access.TEAM:
        return {}
    ready = list(
        Deployment.objects.filter(site_id=site_id, status=Status.READY)
        .order_by("-created_at")
        .values_list("id", "environment", "branch_label")
    )
    links: dict[str, str] = {}
    active = site["deployment_id"]
    if any(row[0] == active for row in ready) and _safe_linkable(site_id, active):
        links[site_host(site_id, settings.SITES_DOMAIN)] = active
        for domain in _custom_domains(site_id):
            links[domain] = active
    if site["access"] == Access.PUBLIC:  # "previews" protects deployment and branch hosts
        branches: set[str] = set()  # the labels whose newest ready preview was seen
        for deployment_id, environment, label in ready:  # newest first
            linkable = _safe_linkable(site_id, deployment_id)
            if linkable:
                host = deployment_host(deployment_id, site_id, settings.SITES_DOMAIN)
                links[host] = deployment_id
            # A branch's address serves its newest ready preview (edge/served.py): from
            # disk, or from the edge when that one may not be linked.
            if environment == Environment.PREVIEW and label and label not in branches:
                branches.add(label)
                if linkable:
                    links[branch_host(label, site_id, settings.SITES_DOMAIN)] = deployment_id
    return links


def _safe_linkable(site_id: str, deployment_id: str) -> bool:
    try:
        return _linkable(site_id, deployment_id)
    except Exception:  # a missing manifest or file: the edge serves (or refuses) it
        log.warning("edge.tree_failed", site_id=site_id, deployment_id=deployment_id, exc_info=True)
        return False


def _own_host(site_id: str, hostname: str) -> bool:
    """Whether `hostname` is one of the site's own addresses under SITES_DOMAIN (or a
    deployment address of the two-label form used before, {deploymentId}.{siteId})."""
    parsed = parse(hostname, settings.SITES_DOMAIN, frozenset())
    if parsed.kind in (HostKind.PRODUCTION, HostKind.DEPLOYMENT, HostKind.BRANCH):
        return parsed.site_id == site_id
    return hostname.endswith(f".{site_host(site_id, settings.SITES_DOMAIN)}")


def _site_owns(site_id: str, hostname: str) -> bool:
    """Whether the host's current link is this site's to remove (a custom domain may have
    moved to another site, which linked it since)."""
    if _own_host(site_id, hostname):
        return True
    deployment_id = _linked_deployment(hostname)
    return deployment_id is None or _meta_path(site_id, deployment_id).exists()


def publish_site(site_id: str) -> dict[str, str]:
    """Make the site's host links match the database; returns host -> deployment id."""
    with _locked(site_id):
        try:
            links = desired_links(site_id)
            previous = set((_read_json(_index_path(site_id)) or {}).get("hosts", []))
            # The index lists every host that may have a link, before any is made.
            _write_json(_index_path(site_id), {"hosts": sorted(previous | set(links))})
            for hostname, deployment_id in links.items():
                _link(hostname, deployment_id)
            for hostname in previous - set(links):
                if _site_owns(site_id, hostname):
                    _unlink(hostname)
            _write_json(_index_path(site_id), {"hosts": sorted(links)})
        except BaseException:
            # Never leave the proxy serving what may no longer be right: the edge decides.
            _unlink_site(site_id)
            raise
    log.info("edge.site_published", site_id=site_id, hosts=len(links))
    return links


def _unlink_site(site_id: str) -> None:
    index = _read_json(_index_path(site_id)) or {}
    names = set(index.get("hosts", []))
    hosts = edge_root() / "hosts"
    if hosts.is_dir():
        names |= {n for n in os.listdir(hosts) if _own_host(site_id, n)}
    for hostname in names:
        if _site_owns(site_id, hostname):
            _unlink(hostname)
    with contextlib.suppress(FileNotFoundError):
        _index_path(site_id).unlink()


def unpublish_site(site_id: str) -> None:
    """Remove every host link of the site: all its hosts go to the Python edge."""
    with _locked(site_id):
        _unlink_site(site_id)


def prune_site(site_id: str) -> int:
    """Remove the trees of the site's deployments that no longer exist and that no host
    links to; returns how many were removed."""
    meta_dir = edge_root() / "meta" / site_id
    if not meta_dir.is_dir():
        return 0
    with _locked(site_id):
        existing = set(Deployment.objects.filter(site_id=site_id).values_list("id", flat=True))
        linked = {
            _linked_deployment(h) for h in (_read_json(_index_path(site_id)) or {}).get("hosts", [])
        }
        removed = 0
        for meta in meta_dir.glob("*.json"):
            deployment_id = meta.stem
            if deployment_id in existing or deployment_id in linked:
                continue
            _remove_tree(deployment_id)
            meta.unlink(missing_ok=True)
            removed += 1
        with contextlib.suppress(OSError):
            meta_dir.rmdir()  # only when empty: the site is gone
    if removed:
        log.info("edge.trees_pruned", site_id=site_id, trees=removed)
    return removed


def _remove_tree(deployment_id: str) -> None:
    tree = tree_path(deployment_id)
    if not tree.is_dir():
        return
    # Renamed away first, so that the tree is whole or absent, never half removed.
    doomed = _dir("tmp") / f"{deployment_id}.{uuid.uuid4().hex}.removed"
    with contextlib.suppress(FileNotFoundError):
        os.rename(tree, doomed)
        shutil.rmtree(doomed, ignore_errors=True)


def sync_all() -> dict[str, int]:
    """Rebuild the whole map from the database: every site published, every link and
    tree that nothing accounts for removed."""
    site_ids = list(Site.objects.values_list("id", flat=True))
    wanted: dict[str, str] = {}
    failed = 0
    for site_id in site_ids:
        try:
            wanted.update(publish_site(site_id))
        except Exception:
            failed += 1
            log.warning("edge.site_publish_failed", site_id=site_id, exc_info=True)
    hosts = _dir("hosts")
    stray = 0
    for name in os.listdir(hosts):
        if name not in wanted:
            _unlink(name)
            stray += 1
    known_sites = set(site_ids)
    for index in _dir("sites").glob("*.json"):
        if index.stem not in known_sites:
            index.unlink(missing_ok=True)
    pruned = 0
    for meta_dir in list(_dir("meta").iterdir()):
        pruned += prune_site(meta_dir.name)
    existing = set(Deployment.objects.values_list("id", flat=True))
    in_use = set(wanted.values())
    for tree in list(_dir("deployments").iterdir()):
        if tree.name not in existing and tree.name not in in_use:
            _remove_tree(tree.name)
            pruned += 1
    now = time.time()
    for leftover in list(_dir("tmp").iterdir()):
        with contextlib.suppress(OSError):
            if now - leftover.lstat().st_mtime > _STALE_WORK:
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink()
    summary = {
        "sites": len(site_ids),
        "hosts": len(wanted),
        "failed": failed,
        "stray_links": stray,
        "pruned": pruned,
    }
    log.info("edge.map_synced", **summary)
    return summary


def on_site_serving_changed(sender: Any, site_id: str, **kwargs: Any) -> None:
    """`site_serving_changed`'s receiver (connected in edge/apps.py): re-publish the site."""
    if not settings.SHIPWAY_FRONT_PROXY:
        return
    try:
        publish_site(site_id)
        prune_site(site_id)
    except Exception:  # the site's hosts fell back to the edge; the caller's work stands
        log.exception("edge.hostmap_failed", site_id=site_id)
