"""Every write to sites and their variables."""

from __future__ import annotations

from typing import Any

import structlog
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import transaction

from accounts.models import Team
from core import channels, events, readcache
from core.errors import Invalid
from core.ids import new_id
from core.validation import validate
from sites.frameworks import get_framework
from sites.models import MAX_VARIABLE_VALUE, Site, SiteGroupObjectPermission, Variable
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
    "root_directory",
    "timeout",
    "specification",
    "enabled",
    "access",
)
# Filled from the framework's adapter when the caller leaves them out.
_ADAPTER_DEFAULTS = ("install_command", "build_command", "output_directory", "fallback_file")


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
    log.info("site.updated", site_id=site.id, fields=sorted(fields))
    _announce(site, "update")
    return site


@transaction.atomic
def site_delete(*, site: Site) -> None:
    """Delete a site, its deployments and variables, and (after commit) its stored files
    (deployments removes them on `site_deleted`)."""
    site_id, cache_id = site.id, site.uid.hex
    payload = site_payload(site)
    deployments = list(site.deployments.only("id", "site_id"))  # as they were
    deployment_ids = [d.pk for d in deployments]
    Site.objects.filter(pk=site_id).update(deployment=None)
    site.delete()
    site_deleted.send(sender=Site, site_id=site_id, deployments=deployments)
    transaction.on_commit(
        lambda: current_app.send_task(
            REMOVE_BUILD_CACHE_TASK,
            args=[cache_id],
            queue=settings.SHIPWAY_BUILD_QUEUE,
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
    *, site: Site, key: str, value: str, secret: bool = False, scope: str = "all"
) -> Variable:
    """Add an environment variable; its value is encrypted before it is stored."""
    Site.objects.select_for_update().filter(pk=site.pk).first()  # serialize key checks
    _check_unique_key(site, key)
    variable = Variable(site=site, key=key, secret=secret, scope=scope)
    _set_value(variable, value)
    validate(variable, exclude=["site"])
    variable.save(force_insert=True)
    log.info("variable.created", site_id=site.id, variable_id=variable.id, secret=secret)
    return variable


@transaction.atomic
def variable_update(*, variable: Variable, **fields: Any) -> Variable:
    """Change a variable's key, value, scope, or make it secret (a secret stays secret)."""
    variable = Variable.objects.select_for_update().select_related("site").get(pk=variable.pk)
    if variable.secret and fields.get("secret") is False:
        raise Invalid({"secret": "A secret variable cannot be made public again."})
    if "key" in fields:
        _check_unique_key(variable.site, fields["key"], exclude=variable.pk)
        variable.key = fields["key"]
    if "value" in fields:
        _set_value(variable, fields["value"])
    for name in ("secret", "scope"):
        if name in fields:
            setattr(variable, name, fields[name])
    validate(variable, exclude=["site"])
    variable.save()
    log.info("variable.updated", site_id=variable.site_id, variable_id=variable.id)
    return variable


def variable_delete(*, variable: Variable) -> None:
    variable.delete()
    log.info("variable.deleted", site_id=variable.site_id, variable_id=variable.pk)
