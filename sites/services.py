"""Every write to sites and their variables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import Team
from core import channels, events, readcache
from core.errors import Conflict, Invalid, NotFound
from core.ids import new_id
from core.validation import validate
from sites import domains
from sites.frameworks import get_framework
from sites.models import (
    MAX_VARIABLE_VALUE,
    Domain,
    DomainStatus,
    Site,
    SiteGroupObjectPermission,
    Variable,
)
from sites.permissions import ACTIONS, ROLE_SITE_PERMISSIONS
from sites.serializers import SiteSerializer
from sites.signals import notify_serving_changed, site_deleted

log = structlog.get_logger(__name__)

# The Celery task that removes a deleted site's build cache (builds/tasks.py registers it
# under this name; sites does not import builds).
REMOVE_BUILD_CACHE_TASK = "builds.tasks.remove_build_cache"

# Settings a site may change after creation (id and team are fixed).
SITE_SETTINGS = (
    "name",
    "framework",
    "adapter",
    "build_runtime",
    "install_command",
    "build_command",
    "output_directory",
    "fallback_file",
    "start_command",
    "root_directory",
    "timeout",
    "keep_deployments",
    "specification",
    "enabled",
    "access",
)
# Filled from the framework's adapter when the caller leaves them out.
_ADAPTER_DEFAULTS = (
    "install_command",
    "build_command",
    "output_directory",
    "fallback_file",
    "start_command",  # "" for a static adapter
)


def _apply_framework_defaults(site: Site, given: set[str]) -> None:
    """Fill what the caller did not give from the framework (unknown ones fail validation)."""
    try:
        framework = get_framework(site.framework)
    except ValueError:
        return
    if "adapter" not in given:
        site.adapter = framework.default_adapter
    if "build_runtime" not in given:
        site.build_runtime = framework.build_runtime
    adapter = framework.adapters.get(site.adapter)
    if adapter is None:
        return
    for name in _ADAPTER_DEFAULTS:
        if name not in given:
            setattr(site, name, getattr(adapter, name))


def site_payload(site: Site) -> dict[str, Any]:
    """The site as the API shows it, which is what its events carry."""
    return SiteSerializer(site).data


def _announce(site: Site, action: str) -> None:
    channel = channels.site(site.id)
    events.publish(
        events=[channels.event(channel, action)], channels=[channel], payload=site_payload(site)
    )


def _grant_roles(site: Site, team: Team) -> None:
    """Give each of the team's role groups its permissions on the site (one insert)."""
    permissions = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="sites", codename__in=set(ACTIONS.values())
        )
    }
    SiteGroupObjectPermission.objects.bulk_create(
        SiteGroupObjectPermission(
            group=team.group_for(role), permission=permissions[codename], content_object=site
        )
        for role, codenames in ROLE_SITE_PERMISSIONS.items()
        for codename in codenames
    )
    readcache.invalidate()  # bulk_create sends no post_save


@transaction.atomic
def site_create(*, team: Team, site_id: str | None = None, **fields: Any) -> Site:
    """Create a site for `team` with the framework's defaults for what is left out.

    The team's groups get their roles' permissions on it (viewers read, developers
    change, owners also delete and manage domains).
    """
    unknown = set(fields) - set(SITE_SETTINGS)
    if unknown:
        raise TypeError(f"site_create() got unexpected fields: {sorted(unknown)}")
    site_id = site_id or new_id()
    if Site.objects.filter(pk=site_id).exists():
        raise Invalid({"siteId": f"A site with id '{site_id}' already exists."})
    site = Site(id=site_id, team=team, **fields)
    _apply_framework_defaults(site, set(fields))
    validate(site, rename={"id": "siteId", "team": "teamId"})
    site.save(force_insert=True)
    _grant_roles(site, team)
    audit.record(
        action="site.create",
        team_id=team.id,
        resource_id=site.id,
        data={"name": site.name, "framework": site.framework, "adapter": site.adapter},
    )
    log.info("site.created", site_id=site.id, team_id=team.id, framework=site.framework)
    _announce(site, "create")
    return site


@transaction.atomic
def site_update(*, site: Site, **fields: Any) -> Site:
    """Change a site's settings; a new framework or adapter brings its defaults for the
    commands the caller did not also give."""
    unknown = set(fields) - set(SITE_SETTINGS)
    if unknown:
        raise TypeError(f"site_update() got unexpected fields: {sorted(unknown)}")
    site = Site.objects.select_for_update().get(pk=site.pk)
    before = audit.values(site, SITE_SETTINGS)
    changed = {name for name, value in fields.items() if value != getattr(site, name)}
    for name, value in fields.items():
        setattr(site, name, value)
    if changed & {"framework", "adapter"}:
        given = set(fields)
        if "framework" not in changed:  # same framework: keep its runtime choice
            given.add("build_runtime")
        _apply_framework_defaults(site, given)
    validate(site, rename={"id": "siteId", "team": "teamId"})
    site.save()
    if changed & {"enabled", "access", "fallback_file"}:
        notify_serving_changed(site.id)
    audit.record(
        action="site.update",
        team_id=site.team_id,
        resource_id=site.id,
        data=audit.changes(before, audit.values(site, SITE_SETTINGS)),
    )
    log.info("site.updated", site_id=site.id, fields=sorted(fields))
    _announce(site, "update")
    return site


@transaction.atomic
def site_delete(*, site: Site) -> None:
    """Delete a site, its deployments and variables; after commit, its stored files and
    servers (deployments, on `site_deleted`) and its build cache are removed in the
    background, on the maintenance queue."""
    site_id, cache_id = site.id, site.uid.hex
    payload = site_payload(site)
    deployments = list(site.deployments.only("id", "site_id"))  # as they were
    deployment_ids = [d.pk for d in deployments]
    Site.objects.filter(pk=site_id).update(deployment=None)
    team_id, name = site.team_id, site.name
    site.delete()
    audit.record(
        action="site.delete",
        team_id=team_id,
        resource_id=site_id,
        data={"name": name, "deployments": len(deployment_ids)},
    )
    site_deleted.send(sender=Site, site_id=site_id, deployments=deployments)
    transaction.on_commit(
        lambda: current_app.send_task(
            REMOVE_BUILD_CACHE_TASK,
            args=[cache_id],
            queue=settings.SHIPWAY_MAINTENANCE_QUEUE,
        )
    )
    notify_serving_changed(site_id)
    channel = channels.site(site_id)
    # Every channel of the site hears it, so each feed following any of them closes.
    events.publish(
        events=[channels.event(channel, channels.DELETE)],
        channels=[
            channel,
            channels.site_deployments(site_id),
            *(channels.deployment(site_id, d) for d in deployment_ids),
            *(channels.deployment_logs(site_id, d) for d in deployment_ids),
        ],
        payload=payload,
    )
    log.info("site.deleted", site_id=site_id)


def _set_value(variable: Variable, value: str) -> None:
    if len(value) > MAX_VARIABLE_VALUE:
        raise Invalid({"value": f"Ensure this value has at most {MAX_VARIABLE_VALUE} characters."})
    variable.value = value


def _check_unique_key(site: Site, key: str, exclude: str | None = None) -> None:
    duplicates = Variable.objects.filter(site=site, key=key)
    if exclude:
        duplicates = duplicates.exclude(pk=exclude)
    if duplicates.exists():
        raise Invalid({"key": f"A variable named '{key}' already exists on this site."})


@transaction.atomic
def variable_create(
    *,
    site: Site,
    key: str,
    value: str,
    secret: bool = False,
    scope: str = "all",
    environment: str = "all",
) -> Variable:
    """Add an environment variable; its value is encrypted before it is stored."""
    Site.objects.select_for_update().filter(pk=site.pk).first()  # serialize key checks
    _check_unique_key(site, key)
    variable = Variable(site=site, key=key, secret=secret, scope=scope, environment=environment)
    _set_value(variable, value)
    validate(variable, exclude=["site"])
    variable.save(force_insert=True)
    audit.record(
        action="variable.create",
        team_id=site.team_id,
        resource_id=variable.id,
        data={"siteId": site.id, **_variable_fields(variable), "value": audit.MASK},
    )
    log.info("variable.created", site_id=site.id, variable_id=variable.id, secret=secret)
    return variable


@transaction.atomic
def variable_update(*, variable: Variable, **fields: Any) -> Variable:
    """Change a variable's key, value, scope, environment, or make it secret (a secret
    stays secret)."""
    variable = Variable.objects.select_for_update().select_related("site").get(pk=variable.pk)
    before = {**_variable_fields(variable), "value": variable.encrypted_value}
    if variable.secret and fields.get("secret") is False:
        raise Invalid({"secret": "A secret variable cannot be made public again."})
    if "key" in fields:
        _check_unique_key(variable.site, fields["key"], exclude=variable.pk)
        variable.key = fields["key"]
    if "value" in fields:
        _set_value(variable, fields["value"])
    for name in ("secret", "scope", "environment"):
        if name in fields:
            setattr(variable, name, fields[name])
    validate(variable, exclude=["site"])
    variable.save()
    after = {**_variable_fields(variable), "value": variable.encrypted_value}
    audit.record(
        action="variable.update",
        team_id=variable.site.team_id,
        resource_id=variable.id,
        data={"siteId": variable.site_id, **audit.changes(before, after, secret=["value"])},
    )
    log.info("variable.updated", site_id=variable.site_id, variable_id=variable.id)
    return variable


def _variable_fields(variable: Variable) -> dict[str, Any]:
    """What an entry shows of a variable: never its value (any value may be a secret)."""
    return audit.values(variable, ["key", "secret", "scope", "environment"])


@transaction.atomic
def variable_delete(*, variable: Variable) -> None:
    variable_id, team_id = variable.pk, variable.site.team_id
    variable.delete()
    audit.record(
        action="variable.delete",
        team_id=team_id,
        resource_id=variable_id,
        data={"siteId": variable.site_id, "key": variable.key},
    )
    log.info("variable.deleted", site_id=variable.site_id, variable_id=variable.pk)


# -- custom domains -------------------------------------------------------------------------

# Why a claim does not serve although its own records may be fine (its `last_error`).
TAKEN_ERROR = (
    "{domain} is verified by another site. It moves to this site once its DNS records "
    "name this site (the TXT token and the CNAME or A/AAAA records above) and no longer "
    "prove the other site's claim: then verify."
)
LOST_ERROR = (
    "Another site proved {domain} on {when}, and this site's records no longer hold: {problem}"
)


def _lookup_failed(problem: str) -> bool:
    """A check that could not be made (no answer in time...), not a check that failed."""
    return problem.startswith(domains.LOOKUP_FAILED_PREFIX)


def _cut(text: str) -> str:
    return text[: Domain._meta.get_field("last_error").max_length]


@transaction.atomic
def domain_create(*, site: Site, domain: str) -> Domain:
    """Claim `domain` for the site: pending until `domain_verify` finds its records, or
    `taken` from the start when another site's claim is verified.

    Invalid (naming `domain`) for a malformed name or one of Shipway's own; Conflict
    when this site has it already. Other sites' claims never block one: the first DNS proof wins.
    """
    name = domains.normalize_domain(domain)
    domains.refuse_platform(name)
    if Domain.objects.filter(site=site, domain=name).exists():
        raise _taken(name)
    held = Domain.objects.filter(domain=name, status=DomainStatus.VERIFIED).exists()
    record = Domain(site=site, domain=name)
    if held:
        record.status = DomainStatus.TAKEN
        record.last_error = _cut(TAKEN_ERROR.format(domain=name))
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:  # added at the same moment by another request of this site
        raise _taken(name) from None
    notify_serving_changed(site.id)
    audit.record(
        action="domain.create",
        team_id=site.team_id,
        resource_id=record.id,
        data={"siteId": site.id, "domain": name, "status": record.status},
    )
    log.info("domain.created", site_id=site.id, domain_id=record.id, domain=name, held=held)
    return record


def _taken(name: str) -> Conflict:
    return Conflict(f"The domain '{name}' is already added to this site.")


def domain_verify(*, domain: Domain) -> Domain:
    """Check the domain's records now; 200 either way (the check's time and problem,
    `last_error`, are kept; a DNS miss is not an error of the call).

    A claim that is not verified needs its full proof: the TXT record holds its token
    and the domain points here (a CNAME to the site's address, or A/AAAA records that
    are all this server's). With no other site's claim verified, it becomes verified.
    With one, it takes the name only when that claim's own full proof no longer holds
    (the records moved to this site): the other claim is then `lost`; otherwise this one
    is `taken`.

    A verified claim needs only to point here still (its TXT record may be removed once
    verified); when it definitely does not (not when a lookup fails), it is `lost`.
    """
    if domain.status == DomainStatus.VERIFIED:
        return _recheck(domain, always=True)
    site_host = domains.site_address(domain.site_id)
    # The lookups take up to seconds each: run them before taking any row lock.
    problem = domains.dns_problem(domain.domain, domain.verification_token, site_host)
    rival = (
        Domain.objects.filter(domain=domain.domain, status=DomainStatus.VERIFIED)
        .exclude(pk=domain.pk)
        .first()
    )
    rival_problem = None
    if not problem and rival is not None:
        rival_problem = domains.dns_problem(
            rival.domain, rival.verification_token, domains.site_address(rival.site_id)
        )
    now = timezone.now()
    with transaction.atomic():
        claims = {
            claim.pk: claim
            for claim in Domain.objects.select_for_update()
            .filter(domain=domain.domain)
            .order_by("pk")
        }
        current = claims.get(domain.pk)
        if current is None:
            raise NotFound(f"Domain '{domain.pk}' not found.")
        holder = next(
            (c for c in claims.values() if c.status == DomainStatus.VERIFIED and c != current),
            None,
        )
        status_before = current.status
        replaced = None
        current.last_checked_at = now
        current.last_error = _cut(problem)
        # The other claim's proof no longer holds (checked above, and it is still the one
        # verified): this proof takes the name.
        takes_over = (
            holder is not None
            and rival is not None
            and holder.pk == rival.pk
            and bool(rival_problem)
            and not _lookup_failed(rival_problem or "")
        )
        if current.status == DomainStatus.VERIFIED:  # verified meanwhile, by another call
            current.last_error = ""
        elif not problem and (holder is None or takes_over):
            if holder is not None:
                _lose(holder, now, rival_problem or "")
                replaced = holder.pk
            current.status = DomainStatus.VERIFIED
            current.verified_at = now
            _mark_taken(claims.values(), current, holder)
        elif holder is not None:
            current.status = DomainStatus.TAKEN
            if not problem:
                current.last_error = _cut(TAKEN_ERROR.format(domain=current.domain))
        current.save()
        for site_id in {claim.site_id for claim in claims.values()}:
            notify_serving_changed(site_id)
        _record_check("domain.verify", current, status_before, replaced=replaced)
    _log_check("domain.checked", current, problem)
    return current


def _log_check(event: str, domain: Domain, problem: str) -> None:
    log.info(
        event,
        site_id=domain.site_id,
        domain_id=domain.id,
        domain=domain.domain,
        status=domain.status,
        problem=problem or None,
    )


def _record_check(action: str, domain: Domain, before: str, **data: Any) -> None:
    audit.record(
        action=action,
        team_id=domain.site.team_id,
        resource_id=domain.id,
        data={
            "siteId": domain.site_id,
            "domain": domain.domain,
            "status": [before, domain.status],
            **{name: value for name, value in data.items() if value},
        },
    )


def _recheck(domain: Domain, *, always: bool) -> Domain:
    """A verified claim's check: does the domain still point to its site?

    Recorded as `domain.verify` when `always` (someone asked), else (the periodic
    re-check) as `domain.recheck` only when it changed the status: a check that finds
    the same is bookkeeping (`lastCheckedAt`)."""
    problem = domains.dns_problem(domain.domain, None, domains.site_address(domain.site_id))
    now = timezone.now()
    with transaction.atomic():
        claims = list(
            Domain.objects.select_for_update().filter(domain=domain.domain).order_by("pk")
        )
        current = next((claim for claim in claims if claim.pk == domain.pk), None)
        if current is None:
            raise NotFound(f"Domain '{domain.pk}' not found.")
        current.last_checked_at = now
        current.last_error = _cut(problem)
        status_before = current.status
        if current.status == DomainStatus.VERIFIED and problem and not _lookup_failed(problem):
            current.status = DomainStatus.LOST
            _release(claims, current)
            for site_id in {claim.site_id for claim in claims}:
                notify_serving_changed(site_id)
        current.save()
        if always or current.status != status_before:
            _record_check("domain.verify" if always else "domain.recheck", current, status_before)
    _log_check("domain.rechecked", current, problem)
    return current


def _lose(claim: Domain, now: datetime, problem: str) -> None:
    """The verified claim whose name another site has just proved: `lost`, and says so."""
    claim.status = DomainStatus.LOST
    claim.last_checked_at = now
    when = now.isoformat(timespec="seconds")
    claim.last_error = _cut(LOST_ERROR.format(domain=claim.domain, when=when, problem=problem))
    claim.save()
    log.info("domain.lost", site_id=claim.site_id, domain_id=claim.id, domain=claim.domain)


def _mark_taken(claims: Iterable[Domain], winner: Domain, loser: Domain | None) -> None:
    """The name's other claims (but the one that just lost it) see it taken."""
    for claim in claims:
        if claim not in (winner, loser) and claim.status in (
            DomainStatus.PENDING,
            DomainStatus.LOST,
        ):
            claim.status = DomainStatus.TAKEN
            claim.last_error = _cut(TAKEN_ERROR.format(domain=claim.domain))
            claim.save(update_fields=["status", "last_error", "updated_at"])


def _release(claims: Iterable[Domain], gone: Domain) -> None:
    """The name has no verified claim any more: the taken claims wait for proof again."""
    for claim in claims:
        if claim != gone and claim.status == DomainStatus.TAKEN:
            claim.status = DomainStatus.PENDING
            claim.save(update_fields=["status", "updated_at"])


def domain_delete(*, domain: Domain) -> None:
    """Remove the claim: it stops serving; the other sites' claims of the name wait for
    their proof again (the name is free to prove at once)."""
    with transaction.atomic():
        claims = list(
            Domain.objects.select_for_update().filter(domain=domain.domain).order_by("pk")
        )
        gone = next((claim for claim in claims if claim.pk == domain.pk), None)
        if gone is not None:
            if gone.status == DomainStatus.VERIFIED:
                _release(claims, gone)
            gone.delete()
            audit.record(
                action="domain.delete",
                team_id=domain.site.team_id,
                resource_id=domain.pk,
                data={"siteId": domain.site_id, "domain": domain.domain},
            )
        notify_serving_changed(domain.site_id)
    log.info("domain.deleted", site_id=domain.site_id, domain_id=domain.pk, domain=domain.domain)


def recheck_due(limit: int = 500) -> int:
    """Check again the verified domains whose last check is older than
    SHIPWAY_DOMAIN_RECHECK_SECONDS, oldest first, at most `limit`; returns how many."""
    due = timezone.now() - timedelta(seconds=settings.SHIPWAY_DOMAIN_RECHECK_SECONDS)
    stale = (
        Domain.objects.select_related("site")
        .filter(status=DomainStatus.VERIFIED)
        .filter(models.Q(last_checked_at__lt=due) | models.Q(last_checked_at__isnull=True))
    )
    checked = 0
    for domain in stale.order_by(models.F("last_checked_at").asc(nulls_first=True))[:limit]:
        try:
            _recheck(domain, always=False)
        except NotFound:  # removed meanwhile
            continue
        checked += 1
    return checked
