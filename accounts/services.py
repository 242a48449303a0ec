"""Every write to accounts: teams, memberships and API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import ApiKey, Membership, Role, Team
from accounts.signals import user_access_changed
from core import events
from core.errors import Conflict, Invalid, NotFound
from core.ids import new_id

log = structlog.get_logger(__name__)

API_KEY_PREFIX = "sw_"


def hash_secret(secret: str) -> str:
    """API key secrets are 32 random bytes, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def team_create(*, user: User, name: str, team_id: str | None = None) -> Team:
    """Create a team with its three role groups; `user` becomes its owner."""
    team_id = team_id or new_id()
    if Team.objects.filter(pk=team_id).exists():
        raise Invalid({"teamId": f"A team with id '{team_id}' already exists."})
    groups = {
        role: Group.objects.create(name=f"team:{team_id}:{role}")
        for role in (Role.VIEWER, Role.DEVELOPER, Role.OWNER)
    }
    team = Team.objects.create(
        id=team_id,
        name=name,
        viewer_group=groups[Role.VIEWER],
        developer_group=groups[Role.DEVELOPER],
        owner_group=groups[Role.OWNER],
    )
    membership = _add_member(team, user, Role.OWNER)
    audit.record(
        action="team.create",
        team_id=team.id,
        resource_id=team.id,
        data={"name": name, "owner": user.get_username(), "membershipId": membership.id},
    )
    log.info("team.created", team_id=team.id, user_id=user.pk)
    return team


@transaction.atomic
def team_update(*, team: Team, name: str) -> Team:
    before = audit.values(team, ["name"])
    team.name = name
    team.save(update_fields=["name", "updated_at"])
    audit.record(
        action="team.update",
        team_id=team.id,
        resource_id=team.id,
        data=audit.changes(before, audit.values(team, ["name"])),
    )
    log.info("team.updated", team_id=team.id)
    return team


@transaction.atomic
def team_delete(*, team: Team) -> None:
    """Delete a team that owns no sites (its sites must be deleted first: nothing is lost)."""
    if team.sites.exists():
        raise Conflict("The team still owns sites; delete or move them first.")
    groups = team.groups
    team_id, name = team.pk, team.name
    team.delete()
    # Its entries stay (they hold its id, not a key to it): this one is the last.
    audit.record(action="team.delete", team_id=team_id, resource_id=team_id, data={"name": name})
    Group.objects.filter(pk__in=[g.pk for g in groups]).delete()
    log.info("team.deleted", team_id=team_id)


def _add_member(team: Team, user: User, role: str) -> Membership:
    membership = Membership.objects.create(team=team, user=user, role=role)
    user.groups.add(team.group_for(role))
    return membership


@transaction.atomic
def membership_create(*, team: Team, user: User, role: str) -> Membership:
    """Add a user to a team with one role."""
    if Membership.objects.filter(team=team, user=user).exists():
        raise Conflict(f"'{user.get_username()}' is already a member of this team.")
    try:
        with transaction.atomic():
            membership = _add_member(team, user, role)
    except IntegrityError as exc:  # a concurrent add of the same user
        raise Conflict(f"'{user.get_username()}' is already a member of this team.") from exc
    audit.record(
        action="membership.create",
        team_id=team.id,
        resource_id=membership.id,
        data={"user": user.get_username(), "role": role},
    )
    log.info("membership.created", team_id=team.id, user_id=user.pk, role=role)
    return membership


def _ensure_an_owner_remains(membership: Membership) -> None:
    others = Membership.objects.filter(team_id=membership.team_id, role=Role.OWNER).exclude(
        pk=membership.pk
    )
    if membership.role == Role.OWNER and not others.exists():
        raise Conflict("A team must keep at least one owner.")


def _access_changed(user_id: int) -> None:
    """After commit: the user's open feeds re-check their channels, and their preview
    cookies stop working (the edge listens to user_access_changed)."""
    events.access_changed(user_id)
    transaction.on_commit(lambda: user_access_changed.send(sender=None, user_id=user_id))


def _locked(membership: Membership) -> Membership:
    """Lock the membership's team, then read the membership afresh.

    The team's row, not the membership's: "another owner remains" reads the team's
    other memberships, so two owners demoting or removing each other at once would each
    lock only their own target, both see the other still an owner, and both commit,
    leaving none. With the team locked the second waits for the first, then sees it.
    (Inside a transaction; the team first, always, so two changes cannot deadlock.)"""
    Team.objects.select_for_update().filter(pk=membership.team_id).values_list("pk").get()
    fresh = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("team", "user")
        .filter(pk=membership.pk)
        .first()
    )
    if fresh is None:  # removed by a change that held the lock before this one
        raise NotFound(f"Membership '{membership.pk}' not found.")
    return fresh


@transaction.atomic
def membership_update(*, membership: Membership, role: str) -> Membership:
    """Change a member's role (and so the group that carries their permissions)."""
    membership = _locked(membership)
    if role != Role.OWNER:
        _ensure_an_owner_remains(membership)
    team, user = membership.team, membership.user
    before = audit.values(membership, ["role"])
    user.groups.remove(team.group_for(membership.role))
    user.groups.add(team.group_for(role))
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    _access_changed(user.pk)
    audit.record(
        action="membership.update",
        team_id=team.id,
        resource_id=membership.id,
        data={"user": user.get_username(), **audit.changes(before, {"role": role})},
    )
    log.info("membership.updated", team_id=team.id, user_id=user.pk, role=role)
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Remove a member; their access to the team's sites ends at once."""
    membership = _locked(membership)
    _ensure_an_owner_remains(membership)
    membership.user.groups.remove(*membership.team.groups)
    membership_id = membership.pk
    membership.delete()
    audit.record(
        action="membership.delete",
        team_id=membership.team_id,
        resource_id=membership_id,
        data={"user": membership.user.get_username(), "role": membership.role},
    )
    _access_changed(membership.user_id)
    log.info("membership.deleted", team_id=membership.team_id, user_id=membership.user_id)


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    expires_in: timedelta | None = None,
    expires_at: datetime | None = None,
    team: Team | None = None,
    read_only: bool = False,
) -> tuple[ApiKey, str]:
    """Create a key for `user`; returns it with its secret, which is never stored.

    It expires `expires_in` from now or at `expires_at` (never without either), reaches
    only `team` (one of the user's teams) when given, and only reads when `read_only`."""
    if expires_in is not None:
        expires_at = timezone.now() + expires_in
    if expires_at is not None and expires_at <= timezone.now():
        raise Invalid({"expiresAt": "Must be in the future."})
    if team is not None and not Team.objects.for_user(user).filter(pk=team.pk).exists():
        raise Invalid({"teamId": f"You are not a member of team '{team.pk}'."})
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=secret[:10],
        secret_hash=hash_secret(secret),
        expires_at=expires_at,
        team=team,
        read_only=read_only,
    )
    # A key limited to a team is in that team's log; an unlimited one in no team's.
    audit.record(
        action="api_key.create",
        team_id=key.team_id,
        resource_id=key.id,
        data={
            "name": name,
            "user": user.get_username(),
            "prefix": key.prefix,
            "readOnly": read_only,
            "expiresAt": expires_at,
        },
    )
    log.info(
        "api_key.created",
        api_key_id=key.id,
        user_id=user.pk,
        team_id=key.team_id,
        read_only=read_only,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return key, secret


@transaction.atomic
def api_key_delete(*, key: ApiKey) -> None:
    key_id = key.pk
    key.delete()
    audit.record(
        action="api_key.delete",
        team_id=key.team_id,
        resource_id=key_id,
        data={"name": key.name, "prefix": key.prefix},
    )
    log.info("api_key.deleted", api_key_id=key_id, user_id=key.user_id)


def api_key_touch(*, key: ApiKey) -> bool:
    """Record use, at most once per API_KEY_LAST_USED_RESOLUTION seconds (no write per
    call). True when it wrote."""
    now = timezone.now()
    resolution = timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION)
    if key.last_used_at is not None and now - key.last_used_at < resolution:
        return False
    # update(), not save(): recording use is not a change the read cache must drop for.
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return True
