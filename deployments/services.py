"""Every write to deployments: create, move through the state machine, activate,
cancel, redeploy, delete; and to the chunked uploads that become them."""

from __future__ import annotations

import functools
import random
import shutil
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import IO, Any, BinaryIO

import structlog
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from accounts import audit
from core import channels, events, readcache
from core.errors import Conflict, Invalid
from deployments import buildline, forge, intake, retention, servers, vcs
from deployments.artifacts import (
    artifacts,
    delete_prefix,
    site_prefix,
    source_path,
    stored_under,
    upload_piece_path,
    upload_prefix,
)
from deployments.errors import ErrorCode, message_for
from deployments.models import (
    FINAL_STATUSES,
    TRANSITIONS,
    Deployment,
    Environment,
    LogChunk,
    Purge,
    RuntimeState,
    Server,
    ServerLogChunk,
    SourceType,
    Status,
    Trigger,
    Upload,
)
from deployments.serializers import DeploymentSerializer
from deployments.signals import notify_status_changed
from sites import crypto
from sites.hosts import branch_label
from sites.models import Site
from sites.services import site_payload
from sites.signals import notify_serving_changed

log = structlog.get_logger(__name__)

# The Celery task that builds a deployment (builds/tasks.py registers it under this name).
BUILD_TASK = "builds.tasks.build_deployment"
# runtime/tasks.py's: stop a server replaced by another unless it is live or active again
# (sent SHIPWAY_SSR_GRACE_SECONDS after the switch); remove deleted deployments' servers.
RETIRE_SERVER_TASK = "runtime.tasks.retire_server"
REMOVE_SERVERS_TASK = "runtime.tasks.remove_servers"
# deployments/tasks.py's: empty a Purge's prefixes, retried with backoff until storage
# confirms (on SHIPWAY_MAINTENANCE_QUEUE).
PURGE_TASK = "deployments.tasks.purge_stored"
# A purge's retries: the first after SHIPWAY_PURGE_RETRY_SECONDS, doubling up to this,
# this many times; after that the cleanup sends it again (deployment_cleanup).
PURGE_MAX_DELAY = 3600
PURGE_MAX_RETRIES = 10
# Waiting deployments told their new place when one ahead of them leaves the line.
LINE_UPDATES = 50


def deployment_payload(deployment: Deployment) -> dict[str, Any]:
    """The deployment as the API shows it, which is what its events carry."""
    return DeploymentSerializer(deployment).data


def _announce(deployment: Deployment, action: str) -> None:
    own = channels.deployment(deployment.site_id, deployment.id)
    events.publish(
        events=[channels.event(own, action)],
        channels=[
            channels.site(deployment.site_id),
            channels.site_deployments(deployment.site_id),
            own,
        ],
        payload=deployment_payload(deployment),
    )


def _queue_build(deployment_id: str) -> None:
    """Queue a deployment's build on the builds queue (named in settings, read now).

    By name: builds registers its task under BUILD_TASK, and deployments does not import
    builds. (Eager mode runs it here only where the task is loaded: tests/factories.py's
    eager_builds loads it.)
    """
    # ignore_result as the task has it, so the message is the same whether or not the
    # task is loaded in this process.
    current_app.signature(
        BUILD_TASK, args=(deployment_id,), queue=settings.SHIPWAY_BUILD_QUEUE, ignore_result=True
    ).apply_async()


def _dispatch_after_commit() -> None:
    """Run the build line once this transaction commits (a new deployment joined it, or
    one left it and freed a place)."""
    transaction.on_commit(deployment_dispatch, robust=True)


def deployment_dispatch() -> list[str]:
    """Send to the workers every waiting deployment the build line allows now (one per
    site, a team's limit at most: deployments/buildline.py); returns their ids."""
    with transaction.atomic():
        buildline.lock()
        chosen = buildline.next_to_send()
        if chosen:
            Deployment.objects.filter(pk__in=chosen).update(dispatched_at=timezone.now())
        for deployment_id in chosen:
            transaction.on_commit(functools.partial(_queue_build, deployment_id))
    if chosen:
        log.info("deployment.dispatched", deployment_ids=chosen)
    return chosen


def _announce_line(team_id: str, after: datetime) -> None:
    """The team's waiting deployments behind one that just left the line moved up: each
    one's feed gets its new `queuePosition` (the first LINE_UPDATES of them)."""
    behind = buildline.with_line_positions(
        Deployment.objects.filter(
            status=Status.WAITING, site__team_id=team_id, created_at__gt=after
        ).select_related("site", "server")
    ).order_by("created_at", "id")[:LINE_UPDATES]
    for deployment in behind:
        _announce(deployment, "update")


def _record_created(deployment: Deployment, **data: Any) -> None:
    """The `deployment.create` entry of a new deployment (in its transaction)."""
    audit.record(
        action="deployment.create",
        team_id=deployment.site.team_id,
        resource_id=deployment.id,
        data={
            "siteId": deployment.site_id,
            "sourceType": deployment.source_type,
            "trigger": deployment.trigger,
            "environment": deployment.environment,
            "activate": deployment.activate,
            **{name: value for name, value in data.items() if value},
        },
    )


def deployment_requeue(deployment_id: str) -> None:
    """Send the build of a deployment the line sent before and no worker claimed (its
    message was lost) again; claiming is atomic, so a duplicate builds nothing twice."""
    if Deployment.objects.filter(
        pk=deployment_id, status=Status.WAITING, dispatched_at__isnull=False
    ).update(dispatched_at=timezone.now()):
        _queue_build(deployment_id)


def deployment_create_from_upload(
    *, site: Site, archive: BinaryIO, activate: bool = True, user: User | None = None
) -> Deployment:
    """Check the archive, store it as the new deployment's source and queue its build.

    A refused archive raises Invalid (naming `code`) and leaves no row and no file.
    """
    try:
        source = intake.check_and_repack(archive, root_directory=site.root_directory)
    except intake.ArchiveRejected as exc:
        raise Invalid({"code": str(exc)}) from None
    try:
        with open(source.path, "rb") as handle:
            return _create(
                site, handle, source.size, SourceType.UPLOAD, activate, user, trigger=Trigger.UPLOAD
            )
    finally:
        source.discard()


def environment_for(activate: bool) -> str:
    """A deployment made to go live is a production one; any other is a preview."""
    return Environment.PRODUCTION if activate else Environment.PREVIEW


def _create(
    site: Site,
    source: IO[bytes],
    size: int,
    source_type: str,
    activate: bool,
    user: User | None,
    audit_data: dict[str, Any] | None = None,
    **fields: Any,
) -> Deployment:
    fields.setdefault("environment", environment_for(activate))
    deployment = Deployment(
        site=site,
        source_type=source_type,
        source_size=size,
        activate=activate,
        created_by=user,
        framework=site.framework,
        build_runtime=site.build_runtime,
        **fields,
    )
    try:
        with transaction.atomic():
            deployment.save(force_insert=True)
            artifacts().save(source_path(deployment.storage_prefix), File(source))
            _announce(deployment, "create")
            _dispatch_after_commit()
            _record_created(deployment, **(audit_data or {}))
    except BaseException:
        delete_prefix(deployment.storage_prefix)  # the row rolled back; leave no file either
        raise
    log.info(
        "deployment.created",
        site_id=site.id,
        deployment_id=deployment.id,
        source_type=source_type,
        source_size=size,
    )
    return deployment


def deployment_create_from_vcs(
    *,
    site: Site,
    repository: str,
    reference: str,
    reference_type: str,
    activate: bool = True,
    user: User | None = None,
    trigger: str = Trigger.API,
    commit_hash: str = "",
    commit_message: str = "",
    credentials: str = "",
) -> Deployment:
    """Queue a deployment of a git reference; the worker fetches it (the log shows it).

    With `commit_hash` (a push names the commit it made) that commit is built, whatever
    the branch points at by then. `credentials` is a `user:token` for the fetch, when
    the address carries none. A refused address (its host resolves to a loopback,
    private or link-local address, or to this server: core/outbound.py) or reference
    raises Invalid and leaves no row.
    """
    try:
        vcs.check(repository, reference, reference_type)
    except vcs.RepositoryRejected as exc:
        raise Invalid({exc.field: str(exc)}) from None
    address, userinfo = vcs.split_credentials(repository)
    userinfo = userinfo or credentials
    with transaction.atomic():
        deployment = Deployment.objects.create(
            site=site,
            source_type=SourceType.VCS,
            activate=activate,
            created_by=user,
            framework=site.framework,
            build_runtime=site.build_runtime,
            repository=address,
            repository_credentials=crypto.encrypt(userinfo) if userinfo else "",
            reference=reference,
            reference_type=reference_type,
            commit_hash=commit_hash,
            commit_message=commit_message,
            trigger=trigger,
            environment=environment_for(activate),
            **branch_fields(site, reference if reference_type == "branch" else ""),
        )
        _announce(deployment, "create")
        _dispatch_after_commit()
        _record_created(deployment, repository=address, reference=reference, commit=commit_hash)
    log.info(
        "deployment.created",
        site_id=site.id,
        deployment_id=deployment.id,
        source_type=SourceType.VCS,
        repository=address,
    )
    return deployment


def branch_fields(site: Site, branch: str) -> dict[str, str]:
    """A deployment's `branch` and the label of that branch's stable address."""
    return {"branch": branch, "branch_label": branch_label(branch, site.id) if branch else ""}


def repository_address(deployment: Deployment) -> str:
    """The address git fetches the deployment's source from, credentials included."""
    secret = deployment.repository_credentials
    return vcs.with_credentials(deployment.repository, crypto.decrypt(secret) if secret else "")


def deployment_store_fetched_source(
    *, deployment: Deployment, archive: BinaryIO, size: int, commit_hash: str, commit_message: str
) -> None:
    """Keep a git deployment's fetched tree as its source, with the commit it came from.
    Its repository's credentials are not needed any more, so they are dropped."""
    artifacts().save(source_path(deployment.storage_prefix), File(archive))
    Deployment.objects.filter(pk=deployment.pk).update(
        source_size=size,
        commit_hash=commit_hash,
        commit_message=commit_message,
        repository_credentials="",
    )
    deployment.repository_credentials = ""
    deployment.source_size, deployment.commit_hash = size, commit_hash
    deployment.commit_message = commit_message
    _announce(deployment, "update")
    forge.report_status_later(deployment)  # a deploy hook's commit is known only now


def deployment_redeploy(
    *, deployment: Deployment, use_cache: bool = True, user: User | None = None
) -> Deployment:
    """A new deployment built from the same source (deployments are immutable)."""
    with artifacts().open(source_path(deployment.storage_prefix), "rb") as source:
        return _create(
            deployment.site,
            source,
            deployment.source_size,
            deployment.source_type,
            deployment.activate,
            user,
            audit_data={"redeployOf": deployment.id},
            use_cache=use_cache,
            repository=deployment.repository,
            reference=deployment.reference,
            reference_type=deployment.reference_type,
            commit_hash=deployment.commit_hash,
            commit_message=deployment.commit_message,
            trigger=Trigger.REDEPLOY,
            environment=deployment.environment,
            branch=deployment.branch,
            branch_label=deployment.branch_label,
        )


def deployment_transition(
    deployment_id: str,
    to: Status,
    *,
    error_code: str = "",
    audit_action: str = "",
    audit_data: dict[str, Any] | None = None,
    **fields: Any,
) -> Deployment | None:
    """Move a deployment to `to` if its state machine allows it from where it is now.

    Returns the updated deployment, or None when the move is not allowed (it was
    canceled or finished meanwhile) or the deployment is gone. Reaching `ready` with
    `activate` set makes it the site's active deployment in the same transaction (and
    records `deployment.activate`). A build's own moves are not audited (the
    deployment's status and log are their record); a move someone asked for names its
    `audit_action`, recorded in the same transaction.
    """
    with transaction.atomic():
        deployment = (
            Deployment.objects.select_for_update().select_related("site").filter(pk=deployment_id)
        ).first()
        if deployment is None or to not in TRANSITIONS[deployment.status]:
            return None
        status_before = deployment.status
        deployment.status = to
        if to in FINAL_STATUSES:
            deployment.build_ended_at = deployment.build_ended_at or timezone.now()
            deployment.error_code = error_code
        for name, value in fields.items():
            setattr(deployment, name, value)
        deployment.save()
        if to == Status.READY and deployment.activate:
            _make_active(deployment)  # first, so the `ready` event already says `active`
        _announce(deployment, "update")
        notify_serving_changed(deployment.site_id)  # its own address shows its status
        forge.report_status_later(deployment)
        if audit_action:
            audit.record(
                action=audit_action,
                team_id=deployment.site.team_id,
                resource_id=deployment.id,
                data={
                    "siteId": deployment.site_id,
                    "status": [status_before, to],
                    **(audit_data or {}),
                },
            )
        notify_status_changed(deployment)  # e.g. notify's mail to the owners on a failure
        if to in FINAL_STATUSES:
            _dispatch_after_commit()  # its place in the line is free
        if status_before == Status.WAITING:
            team_id, created_at = deployment.site.team_id, deployment.created_at
            transaction.on_commit(lambda: _announce_line(team_id, created_at), robust=True)
    log.info(
        "deployment.status_changed",
        site_id=deployment.site_id,
        deployment_id=deployment.id,
        status=to,
        error_code=error_code or None,
    )
    return deployment


def deployment_fail(deployment_id: str, code: ErrorCode, detail: str = "") -> Deployment | None:
    """Fail a deployment with a stable code; the log says why in words."""
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if deployment is None or deployment.status in FINAL_STATUSES:
        return None
    log_append(deployment, f"\nError ({code}): {detail or message_for(code)}\n")
    return deployment_transition(deployment_id, Status.FAILED, error_code=code)


def _make_active(deployment: Deployment) -> None:
    """The site's domains serve this deployment. For an ssr one, its server is asked for
    and takes the traffic once healthy (`server_promote`); until then `live_server` stays
    where it is. A static one serves at once and its site has no live server."""
    site = deployment.site
    fields: dict[str, Any] = {"deployment": deployment, "updated_at": timezone.now()}
    retired = None
    if deployment.adapter == "ssr":
        running = Server.objects.filter(pk=deployment.pk, state=RuntimeState.RUNNING).exists()
        if running and site.live_server_id != deployment.id:  # a warm rollback: switch now
            fields["live_server"], retired = deployment, site.live_server_id
        transaction.on_commit(lambda: servers.want_server(deployment.id))
    elif site.live_server_id:
        fields["live_server"], retired = None, site.live_server_id
    previous = site.deployment_id
    Site.objects.filter(pk=site.pk).update(**fields)
    audit.record(
        action="deployment.activate",
        team_id=site.team_id,
        resource_id=deployment.id,
        data={"siteId": site.id, "deployment": [previous, deployment.id]},
    )
    site.deployment = deployment
    if "live_server" in fields:
        site.live_server = fields["live_server"]
    _site_serving_changed(site, retired)
    log.info("deployment.activated", site_id=site.id, deployment_id=deployment.id)


def _site_serving_changed(site: Site, retired: str | None) -> None:
    """What the site's domains serve was just written (with update(), which sends no
    post_save): drop the read cache, stop the server it replaced after the grace period,
    tell the edges and the site's feed."""
    readcache.invalidate()
    if retired:
        _retire_later(retired)
    notify_serving_changed(site.id)
    channel = channels.site(site.id)
    events.publish(
        events=[channels.event(channel, "update")], channels=[channel], payload=site_payload(site)
    )


def deployment_activate(*, deployment: Deployment) -> Site:
    """Serve this ready deployment on the site's domains (roll back or forward)."""
    with transaction.atomic():
        # The site first, as the cleanup and deletes lock it: a deployment they have just
        # marked deleted is then not found here (DoesNotExist: the API's 404).
        Site.objects.select_for_update().filter(pk=deployment.site_id).first()
        deployment = (
            Deployment.objects.select_for_update().select_related("site").get(pk=deployment.pk)
        )
        if deployment.status != Status.READY:
            raise Conflict(
                f"Only a ready deployment can be activated; this one is {deployment.status}."
            )
        _make_active(deployment)
    return deployment.site


def deployment_cancel(*, deployment: Deployment) -> Deployment:
    """Cancel a waiting or building deployment; the worker stops its container."""
    if deployment.status in FINAL_STATUSES:
        raise Conflict(f"The deployment is already {deployment.status}.")
    log_append(deployment, "\nThe deployment was canceled.\n")
    updated = deployment_transition(
        deployment.id,
        Status.CANCELED,
        error_code=ErrorCode.CANCELED,
        audit_action="deployment.cancel",
    )
    if updated is None:  # it finished between our read and our write
        deployment.refresh_from_db()
        raise Conflict(f"The deployment is already {deployment.status}.")
    return updated


def deployment_supersede(*, deployment: Deployment, by: Deployment) -> None:
    """Cancel a waiting or building deployment that a newer one of its branch replaces;
    its log says which commit did. Nothing happens if it finished meanwhile."""
    commit = by.commit_hash[:12] or "the branch's newest commit"
    log_append(deployment, f"\nSuperseded by {commit} (deployment {by.id}).\n")
    deployment_transition(
        deployment.id,
        Status.CANCELED,
        error_code=ErrorCode.SUPERSEDED,
        audit_action="deployment.supersede",
        audit_data={"by": by.id},
    )


def deployment_record_skipped(
    *, site: Site, reason: str, user: User | None = None, **fields: Any
) -> Deployment:
    """A push that builds nothing (it touched no watched path), kept as a canceled
    deployment with code `build_skipped` and `reason` in its log, so it is seen."""
    with transaction.atomic():
        deployment = Deployment.objects.create(
            site=site,
            source_type=SourceType.VCS,
            status=Status.CANCELED,
            error_code=ErrorCode.BUILD_SKIPPED,
            created_by=user,
            framework=site.framework,
            build_runtime=site.build_runtime,
            **fields,
        )
        log_append(deployment, f"Skipped: {reason}\n")
        _announce(deployment, "create")
        _record_created(
            deployment,
            status=deployment.status,
            errorCode=deployment.error_code,
            reference=deployment.reference,
            commit=deployment.commit_hash,
        )
    log.info("deployment.skipped", site_id=site.id, deployment_id=deployment.id)
    return deployment


def forget_deleted_site(
    sender: type[Site], site_id: str, deployments: list[Deployment], **kwargs: Any
) -> None:
    """On sites.signals.site_deleted (inside its transaction): the deleted site's stored
    files, and its servers, go in the background once it commits."""
    # Each deployment's own prefix, then the site's only while no new site has its id.
    _purge_later(site_id, deployments, site_gone=True)


def _purge_later(
    site_id: str, deployments: Iterable[Deployment], *, site_gone: bool, delay: float = 0
) -> Purge:
    """Record what to remove (in this transaction) and, after commit, send the purge of
    the stored files (`delay` seconds later) and the removal of the servers to the
    maintenance queue."""
    deployments = list(deployments)
    purge = Purge.objects.create(
        site_id=site_id,
        prefixes=[d.storage_prefix for d in deployments],
        site_gone=site_gone,
        deployment_ids=[d.id for d in deployments],
    )
    transaction.on_commit(lambda: send_purge(purge.id, countdown=delay))
    # A deleted site's servers all go; a deployment's only if it has one (ssr).
    with_servers = [d.id for d in deployments if site_gone or d.adapter == "ssr"]
    transaction.on_commit(lambda: remove_servers(with_servers))
    return purge


def send_purge(purge_id: str, countdown: float = 0) -> None:
    """Queue a purge's run on the maintenance queue (by name: tasks are not imported)."""
    current_app.signature(
        PURGE_TASK,
        args=(purge_id,),
        queue=settings.SHIPWAY_MAINTENANCE_QUEUE,
        ignore_result=True,
    ).apply_async(countdown=countdown)


def purge_delay(retries: int) -> float:
    """How long a purge waits before its next try: doubling from
    SHIPWAY_PURGE_RETRY_SECONDS up to PURGE_MAX_DELAY, with up to a tenth of jitter."""
    base = min(settings.SHIPWAY_PURGE_RETRY_SECONDS * 2**retries, PURGE_MAX_DELAY)
    return float(base) * (1 + random.random() / 10)  # noqa: S311 (spreading, not secrecy)


def purge_run(*, purge_id: str) -> bool:
    """Delete what the purge names from storage, list each prefix again, and record the
    attempt; returns whether storage confirmed everything gone (then it is done). A
    storage that fails or still lists files leaves it pending, with the reason."""
    purge = Purge.objects.filter(pk=purge_id, done_at__isnull=True).first()
    if purge is None:
        return True
    prefixes = list(purge.prefixes)
    if purge.site_gone and not Site.objects.filter(pk=purge.site_id).exists():
        prefixes.append(site_prefix(purge.site_id))
    problem = ""
    try:
        for prefix in prefixes:
            delete_prefix(prefix)
        left = next((name for prefix in prefixes for name in stored_under(prefix)), None)
        if left is not None:
            problem = f"Still stored after deleting: {left}"
    # Whatever the storage raises (OSError on a filesystem, botocore's errors on S3): the
    # purge stays pending and is tried again; it never fails its caller.
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"[:2000]
    now = timezone.now()
    Purge.objects.filter(pk=purge_id).update(
        attempts=F("attempts") + 1,
        attempted_at=now,
        last_error=problem,
        done_at=None if problem else now,
    )
    if problem:
        log.warning("purge.failed", purge_id=purge_id, site_id=purge.site_id, error=problem)
    else:
        log.info("purge.done", purge_id=purge_id, site_id=purge.site_id, prefixes=len(prefixes))
    return not problem


def _mark_deleted(site: Site, deployments: list[Deployment], purge_delay: float = 0) -> None:
    """Hide the deployments from every read (deleted_at), tell the edges, and purge
    their files and servers in the background. Inside the caller's transaction, with
    the site's row locked."""
    ids = [d.id for d in deployments]
    Deployment.objects.filter(pk__in=ids).update(deleted_at=timezone.now())
    # What hangs off the rows goes now (the rows stay, for the record): the logs, and
    # the server rows, so that no sweep takes a deleted deployment's server for a live one.
    LogChunk.objects.filter(deployment_id__in=ids).delete()
    ServerLogChunk.objects.filter(deployment_id__in=ids).delete()
    Server.objects.filter(deployment_id__in=ids).delete()
    _purge_later(site.id, deployments, site_gone=False, delay=purge_delay)
    notify_serving_changed(site.id)  # their addresses (and a branch's) answer 404 now
    for deployment in deployments:
        own = channels.deployment(site.id, deployment.id)
        events.publish(
            events=[channels.event(own, channels.DELETE)],
            channels=[channels.site(site.id), channels.site_deployments(site.id), own],
            payload={"id": deployment.id, "siteId": site.id},
        )


def deployment_delete(*, deployment: Deployment) -> None:
    """Delete a deployment: no read finds it from now on, and its files (and server, if
    any) are removed in the background. The active one must be replaced first."""
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=deployment.site_id)
        if site.deployment_id == deployment.id:
            raise Conflict("This is the site's active deployment; activate another first.")
        delay = 0
        if deployment.status not in FINAL_STATUSES:
            deployment_transition(deployment.id, Status.CANCELED, error_code=ErrorCode.CANCELED)
            # Its worker may still be writing files until it sees the cancel (within
            # seconds) or is found dead: the purge waits that long.
            delay = settings.SHIPWAY_BUILD_STALE_AFTER
        _mark_deleted(site, [deployment], purge_delay=delay)
        audit.record(
            action="deployment.delete",
            team_id=site.team_id,
            resource_id=deployment.id,
            data={"siteId": site.id},
        )
    log.info("deployment.deleted", site_id=site.id, deployment_id=deployment.pk)


def deployment_cleanup(*, site: Site | None = None, dry_run: bool = False) -> list[Deployment]:
    """Retention (deployments/retention.py) on every site, or on `site`: delete each
    deployment it does not keep, as deployment_delete does; returns them. Each site is
    one transaction with its row locked (an activation waits, then finds a deleted
    deployment gone). With `dry_run`, only says which. Then sends again the purges left
    undone (a lost message, or retries used up while storage was down)."""
    site_ids = [site.pk] if site is not None else retention.sites_to_clean(timezone.now())
    removed: list[Deployment] = []
    for site_id in site_ids:
        removed.extend(_clean_site(site_id, dry_run))
    if not dry_run:
        purge_resend()
    return removed


def _clean_site(site_id: str, dry_run: bool) -> list[Deployment]:
    with transaction.atomic():
        sites = Site.objects.filter(pk=site_id)
        found = (sites if dry_run else sites.select_for_update()).first()
        if found is None:  # deleted meanwhile
            return []
        doomed = retention.doomed(found, retention.candidates(found), timezone.now())
        if doomed and not dry_run:
            _mark_deleted(found, doomed)
            for deployment in doomed:
                audit.record(
                    action="deployment.delete",
                    team_id=found.team_id,
                    resource_id=deployment.id,
                    data={"siteId": found.id, "reason": "retention"},
                )
    for deployment in doomed if not dry_run else ():
        log.info(
            "deployment.deleted",
            site_id=site_id,
            deployment_id=deployment.id,
            reason="retention",
        )
    return doomed


def purge_resend() -> int:
    """Send again each purge not done whose last try (or creation) is older than the
    longest retry delay; returns how many. A duplicate run is harmless."""
    stale = timezone.now() - timedelta(seconds=PURGE_MAX_DELAY)
    pending = list(
        Purge.objects.filter(done_at__isnull=True)
        .filter(models.Q(attempted_at__lt=stale) | models.Q(attempted_at__isnull=True))
        .filter(created_at__lt=stale)
        .values_list("pk", flat=True)
    )
    for purge_id in pending:
        send_purge(purge_id)
    if pending:
        log.info("purge.resent", count=len(pending))
    return len(pending)


# -- chunked uploads (deployments/uploads.py checks the ranges and writes the bytes) ----


def upload_open(*, site: Site, user: User | None, total_size: int, activate: bool) -> Upload:
    """A new chunked upload of `total_size` bytes, none of them received yet."""
    return Upload.objects.create(site=site, user=user, total_size=total_size, activate=activate)


def upload_received(*, upload: Upload, start: int, chunk: BinaryIO) -> None:
    """Store a chunk that starts at byte `start` (at most the bytes received so far) as
    the upload's next piece in the artifacts storage, so any web process can take the
    next chunk. Bytes a retry resends are skipped; the caller holds the row's lock."""
    skip = upload.received_size - start
    chunk.seek(skip)
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as rest:
        shutil.copyfileobj(chunk, rest)
        if not rest.tell():
            return  # all of it had arrived already
        size = rest.tell()
        name = upload_piece_path(upload.id, upload.received_size)
        storage = artifacts()
        # A piece left by a chunk whose transaction rolled back is replaced, not renamed.
        if storage.exists(name):
            storage.delete(name)
        rest.seek(0)
        storage.save(name, File(rest))
    upload.received_size += size
    upload.save(update_fields=["received_size", "updated_at"])


def upload_discard(*, upload: Upload) -> None:
    """Remove an upload's row and, once that is committed, its pieces."""
    prefix = upload_prefix(upload.id)
    upload.delete()
    transaction.on_commit(lambda: delete_prefix(prefix))


def log_append(deployment: Deployment, text: str) -> int:
    """Append `text` to the build log (chunks in the database); returns the offset it
    starts at. Publishes it too."""
    if not text:
        return deployment.log_size
    with transaction.atomic():
        offset = (
            Deployment.objects.select_for_update()
            .values_list("log_size", flat=True)
            .get(pk=deployment.pk)
        )
        LogChunk.objects.create(deployment=deployment, offset=offset, text=text)
        Deployment.objects.filter(pk=deployment.pk).update(log_size=F("log_size") + len(text))
        channel = channels.deployment_logs(deployment.site_id, deployment.id)
        events.publish(
            events=[channels.event(channel, "create")],
            channels=[channel],
            payload={"deploymentId": deployment.id, "offset": offset, "text": text},
        )
    deployment.log_size = offset + len(text)
    return offset


def deployment_heartbeat(deployment_id: str) -> None:
    """The build's worker is alive (the reaper fails builds whose heartbeat stops)."""
    Deployment.objects.filter(pk=deployment_id).update(heartbeat_at=timezone.now())


def deployment_set_framework(deployment_id: str, framework: str) -> None:
    """The framework the build resolved (the site's, or detected)."""
    Deployment.objects.filter(pk=deployment_id).update(framework=framework)


# -- servers of ssr deployments (written by runtime/ only; the edge routes by them) ------


def _retire_later(deployment_id: str) -> None:
    """After commit, stop this replaced server once the grace period has passed.

    Sent to a worker always (send_task, never run eagerly in this process): the grace
    is for the requests still on it, here and on every edge."""
    transaction.on_commit(
        lambda: current_app.send_task(
            RETIRE_SERVER_TASK,
            args=[deployment_id],
            countdown=settings.SHIPWAY_SSR_GRACE_SECONDS,
            queue=settings.SHIPWAY_SERVER_QUEUE,
            ignore_result=True,
        )
    )


def remove_servers(deployment_ids: list[str]) -> None:
    """Stop deleted deployments' servers and drop their files (a maintenance worker)."""
    if deployment_ids:
        current_app.signature(
            REMOVE_SERVERS_TASK,
            args=(deployment_ids,),
            queue=settings.SHIPWAY_MAINTENANCE_QUEUE,
            ignore_result=True,
        ).apply_async()


def _server_write(deployment_id: str, **fields: Any) -> Deployment | None:
    """Write the server's row (made on first use), announce the deployment's update and
    tell the edges (what its hosts serve depends on it). None if the deployment is gone."""
    # Locks the server's row only (as server_log_append does, which a follower runs
    # meanwhile): locking the deployment's too would deadlock with the chunk's insert.
    try:
        with transaction.atomic():
            server, _ = Server.objects.select_for_update().get_or_create(
                deployment_id=deployment_id
            )
            deployment = _write_server(server, fields)
    except (IntegrityError, Deployment.DoesNotExist):  # the deployment was deleted
        return None
    log.info(
        "server.state_changed",
        site_id=deployment.site_id,
        deployment_id=deployment_id,
        state=server.state,
        error=server.error or None,
    )
    return deployment


def _write_server(server: Server, fields: dict[str, Any]) -> Deployment:
    for name, value in fields.items():
        setattr(server, name, value)
    server.save()
    deployment = Deployment.objects.select_related("site", "server").get(pk=server.pk)
    _announce(deployment, "update")
    notify_serving_changed(deployment.site_id)
    return deployment


def server_starting(deployment_id: str) -> Deployment | None:
    return _server_write(
        deployment_id, state=RuntimeState.STARTING, error="", address="", handle=""
    )


def server_running(deployment_id: str, *, handle: str, address: str) -> Deployment | None:
    return _server_write(
        deployment_id,
        state=RuntimeState.RUNNING,
        handle=handle,
        address=address,
        error="",
        started_at=timezone.now(),
    )


def server_failed(deployment_id: str, error: str) -> Deployment | None:
    """It could not start, or it exited: `error` says why in a sentence."""
    return _server_write(
        deployment_id, state=RuntimeState.FAILED, error=error, address="", handle=""
    )


def server_stopped(deployment_id: str, *, last_request_at: Any = None) -> Deployment | None:
    fields: dict[str, Any] = {"state": RuntimeState.STOPPED, "address": "", "handle": ""}
    if last_request_at is not None:
        fields["last_request_at"] = last_request_at
    return _server_write(deployment_id, **fields)


def server_promote(deployment_id: str) -> bool:
    """The deployment's server passed its health check: if the deployment is its site's
    active one, its server takes the site's traffic now and the one it replaces stops
    after the grace period. Returns whether it is the live server."""
    with transaction.atomic():
        deployment = Deployment.objects.filter(pk=deployment_id).only("site_id").first()
        if deployment is None:
            return False
        # Locked like an activation, so that one in progress is seen once it commits.
        site = Site.objects.select_for_update().get(pk=deployment.site_id)
        if site.deployment_id != deployment_id:
            return site.live_server_id == deployment_id
        if site.live_server_id == deployment_id:
            return True
        retired = site.live_server_id
        Site.objects.filter(pk=site.pk).update(live_server=deployment_id, updated_at=timezone.now())
        site.live_server_id = deployment_id
        _site_serving_changed(site, retired)
    log.info("server.live", site_id=site.id, deployment_id=deployment_id, replaced=retired or None)
    return True


def server_log_append(deployment: Deployment, text: str) -> int:
    """Append the server's output (masked lines); returns the offset it starts at.

    Only the newest SHIPWAY_RUNTIME_LOG_MAX_CHARS are kept: older chunks are dropped and
    offsets keep counting, so a reader's offset still means the same character."""
    if not text:
        return 0
    limit = settings.SHIPWAY_RUNTIME_LOG_MAX_CHARS
    with transaction.atomic():
        server, _ = Server.objects.select_for_update().get_or_create(deployment_id=deployment.pk)
        offset = server.log_size
        if len(text) > limit:  # one read longer than the whole bound: its newest part
            offset, text = offset + len(text) - limit, text[-limit:]
        ServerLogChunk.objects.create(deployment_id=deployment.pk, offset=offset, text=text)
        end = offset + len(text)
        Server.objects.filter(pk=deployment.pk).update(log_size=end)
        if end > limit:
            ServerLogChunk.objects.filter(
                deployment_id=deployment.pk, offset__lt=end - limit
            ).delete()
        channel = channels.deployment_runtime_logs(deployment.site_id, deployment.pk)
        events.publish(
            events=[channels.event(channel, "create")],
            channels=[channel],
            payload={"deploymentId": deployment.pk, "offset": offset, "text": text},
        )
    return offset
