"""Every write of push to deploy: a site's linked repository and its webhook secret, its
deploy hooks, and the deployments a push or a hook makes (docs/api.md, "Git").

deployments.services holds the deployments' own writes; these call it. What a delivery
says and whether it is signed is deployments/webhooks.py's to read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from core.errors import Conflict, Invalid, NotFound, TooMany
from deployments import forge, services, vcs
from deployments.models import FINAL_STATUSES, Delivery, Deployment, Environment, Trigger
from deployments.webhooks import BRANCH, Push, Received, touches
from sites import crypto
from sites.models import (
    DeployHook,
    Provider,
    Repository,
    Site,
    new_webhook_secret,
    validate_relative_path,
)

log = structlog.get_logger(__name__)

MAX_WATCH_PATHS = 50
MAX_TOKEN_LENGTH = 1024
MAX_DEPLOY_HOOKS = 20
KEPT_DELIVERIES = 200
# The user name each forge expects beside a token in a git address.
_TOKEN_USER = {
    Provider.GITHUB: "x-access-token",
    Provider.GITLAB: "oauth2",
    Provider.GITEA: "shipway",
}


@dataclass(frozen=True)
class Linked:
    repository: Repository
    webhook_secret: str | None  # set only when a secret was made: it is shown once


@dataclass(frozen=True)
class Outcome:
    """What a delivery did: a sentence, and the deployments it made."""

    summary: str
    deployments: list[Deployment] = field(default_factory=list)
    repeated: bool = False


def webhook_url(repository: Repository) -> str:
    return f"{settings.SHIPWAY_PUBLIC_URL}/v1/hooks/git/{repository.hook_id}"


def _deploy_hook_url(secret: str) -> str:
    return f"{settings.SHIPWAY_PUBLIC_URL}/v1/hooks/deploy/{secret}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# What an entry shows of a link (the token only as set or not).
_LINK_FIELDS = (
    "url",
    "provider",
    "production_branch",
    "watch_paths",
    "build_tags",
    "remove_deleted_branches",
)


def _link_values(repository: Repository | None) -> dict[str, Any]:
    if repository is None:
        return {}
    return {
        **audit.values(repository, _LINK_FIELDS),
        "token": repository.encrypted_token,
    }


# -- the link -------------------------------------------------------------------------


def repository_link(
    *,
    site: Site,
    url: str,
    provider: str = Provider.GITHUB,
    production_branch: str = "main",
    token: str | None = None,
    watch_paths: list[str] | None = None,
    build_tags: bool | None = None,
    remove_deleted_branches: bool | None = None,
    user: User | None = None,
) -> Linked:
    """Link the site to a repository, or change its link. A new link gets a webhook
    secret (returned once); a changed one keeps its secret. `token` None keeps the
    stored token, "" removes it. Refusals raise Invalid naming the field."""
    _check_link(url, provider, production_branch, token, watch_paths)
    with transaction.atomic():
        repository = Repository.objects.select_for_update().filter(site=site).first()
        secret = None
        before = _link_values(repository)
        if repository is None:
            secret = new_webhook_secret()
            repository = Repository(site=site, encrypted_webhook_secret=crypto.encrypt(secret))
        repository.url, repository.provider = url, provider
        repository.production_branch = production_branch
        if token is not None:
            repository.encrypted_token = crypto.encrypt(token) if token else ""
        if watch_paths is not None:
            repository.watch_paths = [p.strip().strip("/") for p in watch_paths]
        if build_tags is not None:
            repository.build_tags = build_tags
        if remove_deleted_branches is not None:
            repository.remove_deleted_branches = remove_deleted_branches
        repository.save()
        after = _link_values(repository)
        if secret is not None:  # a new link: what it is
            data = audit.changes(dict.fromkeys(after, None), after, secret=["token"])
            data = {name: new for name, (_old, new) in data.items()}
        else:
            data = audit.changes(before, after, secret=["token"])
        action = "repository.link" if secret is not None else "repository.update"
        audit.record(action=action, team_id=site.team_id, resource_id=site.id, data=data)
    log.info(
        "repository.linked",
        site_id=site.id,
        provider=provider,
        url=url,
        new=secret is not None,
        user_id=user.pk if user else None,
    )
    return Linked(repository, secret)


def _check_link(
    url: str, provider: str, branch: str, token: str | None, watch_paths: list[str] | None
) -> None:
    if provider not in Provider.values:
        raise Invalid({"provider": "Use 'github', 'gitlab' or 'gitea'."})
    if vcs.split_credentials(url)[1]:
        raise Invalid({"url": "Give the token in 'token', not in the address."})
    try:
        vcs.check(url, branch, "branch")
    except vcs.RepositoryRejected as exc:
        named = "url" if exc.field == "repository" else "productionBranch"
        raise Invalid({named: str(exc)}) from None
    if token and (len(token) > MAX_TOKEN_LENGTH or not token.isprintable() or " " in token):
        raise Invalid({"token": f"A token is up to {MAX_TOKEN_LENGTH} characters, no spaces."})
    if len(watch_paths or []) > MAX_WATCH_PATHS:
        raise Invalid({"watchPaths": f"Watch at most {MAX_WATCH_PATHS} paths."})
    for path in watch_paths or []:
        try:
            validate_relative_path(path.strip())
        except ValidationError:
            message = f"'{path[:100]}' is not a path inside the repository."
            raise Invalid({"watchPaths": message}) from None
        if not path.strip().strip("/") or len(path) > 255:
            raise Invalid({"watchPaths": "A watched path is 1 to 255 characters."})


def repository_unlink(*, site: Site, user: User | None = None) -> None:
    """Unlink the repository: its webhook and deploy hooks stop building. The
    deployments it made stay."""
    with transaction.atomic():
        deleted, _ = Repository.objects.filter(site=site).delete()
        if not deleted:
            raise NotFound("The site has no linked repository.")
        site.deploy_hooks.all().delete()
        audit.record(action="repository.unlink", team_id=site.team_id, resource_id=site.id)
    log.info("repository.unlinked", site_id=site.id, user_id=user.pk if user else None)


def repository_rotate_secret(*, site: Site, user: User | None = None) -> str:
    """A new webhook secret (the old one stops working at once); returned once."""
    secret = new_webhook_secret()
    with transaction.atomic():
        updated = Repository.objects.filter(site=site).update(
            encrypted_webhook_secret=crypto.encrypt(secret), updated_at=timezone.now()
        )
        if not updated:
            raise NotFound("The site has no linked repository.")
        audit.record(
            action="repository.rotate_secret",
            team_id=site.team_id,
            resource_id=site.id,
            data={"webhookSecret": [audit.MASK, audit.MASK]},
        )
    log.info("repository.secret_rotated", site_id=site.id, user_id=user.pk if user else None)
    return secret


# -- deploy hooks ---------------------------------------------------------------------


def deploy_hook_create(
    *, site: Site, name: str, branch: str, user: User | None = None
) -> tuple[DeployHook, str]:
    """A hook that builds `branch`'s head of the linked repository; returns it and its
    secret address (shown once: only its hash is kept)."""
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise Invalid({"name": "A name is 1 to 128 characters."})
    try:
        vcs.check_reference(branch, "branch")
    except vcs.RepositoryRejected as exc:
        raise Invalid({"branch": str(exc)}) from None
    if not Repository.objects.filter(site=site).exists():
        raise Conflict("Link a repository first: a deploy hook builds one of its branches.")
    if site.deploy_hooks.count() >= MAX_DEPLOY_HOOKS:
        raise TooMany(f"A site has at most {MAX_DEPLOY_HOOKS} deploy hooks.")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        hook = DeployHook.objects.create(
            site=site, name=name, branch=branch, secret_hash=_hash(secret)
        )
        audit.record(
            action="deploy_hook.create",
            team_id=site.team_id,
            resource_id=hook.id,
            data={"siteId": site.id, "name": name, "branch": branch},
        )
    log.info("deploy_hook.created", site_id=site.id, hook_id=hook.id, branch=branch)
    return hook, _deploy_hook_url(secret)


def deploy_hook_delete(*, hook: DeployHook, user: User | None = None) -> None:
    hook_id = hook.id
    with transaction.atomic():
        hook.delete()
        audit.record(
            action="deploy_hook.delete",
            team_id=hook.site.team_id,
            resource_id=hook_id,
            data={"siteId": hook.site_id, "name": hook.name, "branch": hook.branch},
        )
    log.info("deploy_hook.deleted", site_id=hook.site_id, hook_id=hook_id)


def deploy_hook_called(*, secret: str) -> Deployment:
    """Build the hook's branch head (NotFound for an address that is no hook's)."""
    hook = (
        DeployHook.objects.select_related("site__repository")
        .filter(secret_hash=_hash(secret))
        .first()
    )
    if hook is None or not hasattr(hook.site, "repository"):
        raise NotFound("No deploy hook has this address.")
    # The deployment it makes is recorded as the hook's (the caller has no account); the
    # hook counts as used only if that deployment is made.
    with audit.as_system(f"deploy hook {hook.name}", hook.id), transaction.atomic():
        site = Site.objects.select_for_update().get(pk=hook.site_id)
        deployment = _build(site.repository, site, BRANCH, hook.branch, Trigger.HOOK)
        DeployHook.objects.filter(pk=hook.pk).update(last_used_at=timezone.now())
    log.info("deploy_hook.called", site_id=site.id, hook_id=hook.id, deployment_id=deployment.id)
    return deployment


# -- pushes ---------------------------------------------------------------------------


def delivery_received(*, repository: Repository, received: Received) -> Outcome:
    """Act on a signed delivery once: a repeated delivery id does nothing more.

    What it writes (deployments made, superseded, removed) is recorded as the system's,
    named after the forge's webhook."""
    with audit.as_system(f"{repository.provider} webhook"), transaction.atomic():
        site = Site.objects.select_for_update().get(pk=repository.site_id)
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    site=site, delivery_id=received.delivery_id, event=received.event[:64]
                )
        except IntegrityError:
            said = "This delivery was received before; nothing more was built."
            return Outcome(said, repeated=True)
        outcome = _act(repository, site, received)
        delivery.summary = outcome.summary[:512]
        delivery.save(update_fields=["summary"])
        delivery.deployments.set(outcome.deployments)
        # Bounded: the newest KEPT_DELIVERIES per site (older ids may come again as
        # new: a forge re-delivers only recent ones).
        older = site.deliveries.order_by("-received_at", "-id")[KEPT_DELIVERIES:]
        Delivery.objects.filter(pk__in=list(older.values_list("pk", flat=True))).delete()
    log.info(
        "delivery.received",
        site_id=site.id,
        forge_event=received.event,
        delivery_id=received.delivery_id,
        deployment_ids=[d.id for d in outcome.deployments],
        summary=outcome.summary,
    )
    return outcome


def _act(repository: Repository, site: Site, received: Received) -> Outcome:
    if received.event == "ping":
        return Outcome("Ping: the webhook reaches Shipway.")
    if received.deleted_branch:
        return _branch_deleted(repository, site, received.deleted_branch)
    push = received.push
    if push is None:
        return Outcome(f"Ignored: a '{received.event[:64]}' event builds nothing.")
    if push.deleted:
        if push.ref_type == BRANCH:
            return _branch_deleted(repository, site, push.name)
        return Outcome(f"Ignored: tag {push.name} was deleted.")
    if push.ref_type != BRANCH and not repository.build_tags:
        return Outcome(f"Ignored: tag {push.name} (tags build only with buildTags on).")
    watched = repository.watch_paths
    if watched and push.changed is not None and not touches(push.changed, watched):
        return _skipped(repository, site, push)
    deployment = _build(
        repository, site, push.ref_type, push.name, Trigger.PUSH, push.after, push.message
    )
    kind = "production" if deployment.environment == Environment.PRODUCTION else "preview"
    return Outcome(f"Building {push.name} at {push.after[:12]} ({kind}).", [deployment])


def _build(
    repository: Repository,
    site: Site,
    ref_type: str,
    name: str,
    trigger: str,
    commit: str = "",
    message: str = "",
) -> Deployment:
    """The deployment of a branch (or tag) of the linked repository: production for the
    production branch, else a preview. Older ones of the same branch still waiting or
    building are superseded. Runs in the caller's transaction, the site locked."""
    production = _is_production(repository, ref_type, name)
    token = repository.token
    deployment = services.deployment_create_from_vcs(
        site=site,
        repository=repository.url,
        reference=name,
        reference_type=ref_type,
        activate=production,
        trigger=trigger,
        commit_hash=commit,
        commit_message=message,
        credentials=f"{_TOKEN_USER[Provider(repository.provider)]}:{token}" if token else "",
    )
    older = site.deployments.filter(reference=name, reference_type=ref_type).exclude(
        status__in=FINAL_STATUSES
    )
    for previous in older.exclude(pk=deployment.pk):
        services.deployment_supersede(deployment=previous, by=deployment)
    forge.report_status_later(deployment)  # `pending` on the pushed commit
    return deployment


def _is_production(repository: Repository, ref_type: str, name: str) -> bool:
    """A push to (or a hook on) the production branch goes live; anything else is a preview."""
    return ref_type == BRANCH and name == repository.production_branch


def _skipped(repository: Repository, site: Site, push: Push) -> Outcome:
    watched = ", ".join(repository.watch_paths[:5])
    reason = (
        f"the push to {push.name} at {push.after[:12]} touched none of the watched paths "
        f"({watched})."
    )
    production = _is_production(repository, push.ref_type, push.name)
    branch: dict[str, Any] = services.branch_fields(
        site, push.name if push.ref_type == BRANCH else ""
    )
    deployment = services.deployment_record_skipped(
        site=site,
        reason=reason,
        repository=repository.url,
        reference=push.name,
        reference_type=push.ref_type,
        commit_hash=push.after,
        commit_message=push.message,
        trigger=Trigger.PUSH,
        activate=production,
        environment=services.environment_for(production),
        **branch,
    )
    return Outcome(f"Skipped: {reason}", [deployment])


def _branch_deleted(repository: Repository, site: Site, branch: str) -> Outcome:
    if not repository.remove_deleted_branches or branch == repository.production_branch:
        return Outcome(f"Ignored: branch {branch} was deleted (its previews are kept).")
    previews = site.deployments.filter(branch=branch, environment=Environment.PREVIEW).exclude(
        pk=site.deployment_id
    )
    removed = 0
    for deployment in previews:
        services.deployment_delete(deployment=deployment)
        removed += 1
    return Outcome(f"Branch {branch} was deleted: removed its {removed} preview(s).")
