"""Reads: teams, memberships and invitations with a permission check, users, API keys."""

import datetime
import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Field, Model, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import ApiKey, AuditEntry, Invitation, Membership, Team
from accounts.permissions import role_allows
from core import readcache
from core.errors import Conflict, NotFound, PermissionDenied


def team_for(user: User | AnonymousUser, team_id: str, action: str = "view") -> Team:
    """The team, if `user` may `action` it: NotFound for a team they are not in,
    PermissionDenied for a role too low."""
    team = Team.objects.for_user(user).filter(pk=team_id).first()
    if team is None or not user.is_authenticated:  # (anonymous: never a team)
        raise NotFound(f"Team '{team_id}' not found.")
    if user.is_superuser:
        return team
    role = Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    if not role_allows(role, action):
        raise PermissionDenied(f"Your role in team '{team_id}' does not allow this.")
    return team


def membership_for(
    user: User | AnonymousUser, team_id: str, membership_id: str, action: str = "view"
) -> Membership:
    """A membership of the team `user` may `action` (team_for's refusals), with its user;
    NotFound when the team has no such membership."""
    team = team_for(user, team_id, action)
    membership = team.memberships.select_related("user").filter(pk=membership_id).first()
    if membership is None:
        raise NotFound(f"Membership '{membership_id}' not found.")
    membership.team = team  # the team just read: no second query for it
    return membership


def invitations_of(team: Team) -> QuerySet[Invitation]:
    """The team's invitations not accepted yet (pending or expired), newest first."""
    return team.invitations.filter(accepted_at__isnull=True).select_related("invited_by")


def invitation_for(
    user: User | AnonymousUser, team_id: str, invitation_id: str, action: str = "manage"
) -> Invitation:
    """An invitation of the team `user` may `action` (team_for's refusals), or NotFound."""
    team = team_for(user, team_id, action)
    invitation = invitations_of(team).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound(f"Invitation '{invitation_id}' not found.")
    invitation.team = team
    return invitation


class InvitationClosed(Conflict):
    """The invitation's link no longer works: used, or expired."""

    code = "invitation_closed"


def invitation_for_token(token: str, queryset: QuerySet[Invitation] | None = None) -> Invitation:
    """The invitation whose link carries `token`, with its team, while the link works:
    NotFound for a token no invitation has (or a cancelled one), InvitationClosed for
    one already used or expired."""
    rows = Invitation.objects.select_related("team") if queryset is None else queryset
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    invitation = rows.filter(token_hash=token_hash).first() if len(token) <= 128 else None
    if invitation is None:
        raise NotFound("This invitation link is not valid: it may have been cancelled.")
    if invitation.accepted_at is not None:
        raise InvitationClosed("This invitation has already been used.")
    if invitation.expires_at <= timezone.now():
        raise InvitationClosed(
            "This invitation has expired; ask an owner of the team for a new one."
        )
    return invitation


def find_user(identifier: str) -> User | None:
    """The user with this username, or with this email address."""
    return (
        get_user_model()
        .objects.filter(Q(username=identifier) | Q(email__iexact=identifier))
        .first()
    )


def _fields(model: type[Model], leave_out: frozenset[str] = frozenset()) -> dict[str, Field]:
    return {f.attname: f for f in model._meta.concrete_fields if f.attname not in leave_out}


# What the read cache keeps of a key and its user, field by field: never the password
# hash (the user comes back with it deferred, so nothing can save a blank one over it).
_KEY_FIELDS = _fields(ApiKey)
_USER_FIELDS = _fields(get_user_model(), frozenset({"password"}))


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()  # every digit: the microseconds stay
    raise TypeError(f"{type(value).__name__} is not kept in the read cache")


def _dump_row(instance: Model, fields: dict[str, Field]) -> dict[str, Any]:
    return {name: _json_value(getattr(instance, name)) for name in fields}


def _load_row(data: Any, fields: dict[str, Field]) -> dict[str, Any]:
    """A row from the read cache: exactly these fields, each through its own to_python
    (so an is_superuser is a bool, a date a datetime); anything else is refused."""
    if not isinstance(data, dict) or data.keys() != fields.keys():
        raise ValueError("not the fields of this model")
    try:
        return {
            name: None if data[name] is None else field.to_python(data[name])
            for name, field in fields.items()
        }
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc


def _dump_key(rows: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    key, user = rows
    return {
        "key": {name: _json_value(value) for name, value in key.items()},
        "user": {name: _json_value(value) for name, value in user.items()},
    }


def _load_key(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return _load_row(data["key"], _KEY_FIELDS), _load_row(data["user"], _USER_FIELDS)


def api_key_for_secret(request: HttpRequest, secret_hash: str) -> ApiKey | None:
    """The API key with this secret hash, its user loaded; from the read cache when it
    holds it (no query), else from the database (and then cached)."""
    cached = readcache.get(request, "api-key", secret_hash, load=_load_key)
    if cached is not None:
        key_row, user_row = cached
        key = ApiKey.from_db(DEFAULT_DB_ALIAS, list(_KEY_FIELDS), list(key_row.values()))
        key.user = get_user_model().from_db(
            DEFAULT_DB_ALIAS, list(_USER_FIELDS), list(user_row.values())
        )
        if key.secret_hash != secret_hash or key.user_id != key.user.pk:
            return None  # cannot be (the entry is signed under this key), but never trust
        return key
    found = ApiKey.objects.select_related("user").filter(secret_hash=secret_hash).first()
    if found is not None:
        remember_api_key(request, found)
    return found


def prefetch_api_key(request: HttpRequest, secret_hash: str) -> None:
    """Have the request's first read-cache round trip also fetch this key's entry."""
    readcache.prefetch(request, "api-key", secret_hash)


def remember_api_key(request: HttpRequest, key: ApiKey) -> None:
    """Cache `key` (as it is now) for `api_key_for_secret`."""
    rows = (
        {name: getattr(key, name) for name in _KEY_FIELDS},
        {name: getattr(key.user, name) for name in _USER_FIELDS},
    )
    readcache.put(request, rows, "api-key", key.secret_hash, dump=_dump_key)


def audit_entries(*, team: Team, resource: str = "", action: str = "") -> QuerySet[AuditEntry]:
    """The team's audit entries, newest first, of one resource and action when given
    (the caller checked the reader may see them: `team_for(..., "audit")`)."""
    entries = AuditEntry.objects.filter(team_id=team.id)
    if resource:
        entries = entries.filter(resource=resource)
    if action:
        entries = entries.filter(action=action)
    return entries.order_by("-created_at", "-id")
