"""Reads with a permission check for teams and memberships."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts.models import ApiKey, Membership, Role, Team
from config import readcache

# What each team-level action needs: any member reads; developers and owners create
# sites; owners manage the team and its members.
_ROLES_FOR = {
    "view": {Role.VIEWER, Role.DEVELOPER, Role.OWNER},
    "deploy": {Role.DEVELOPER, Role.OWNER},
    "manage": {Role.OWNER},
}


def team_for(user: AbstractBaseUser | AnonymousUser, team_id: str, action: str = "view") -> Team:
    """The team, if `user` may `action` it: 404 for a team they are not in, 403 for a
    role too low."""
    team = Team.objects.for_user(user).filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"Team '{team_id}' not found.")
    if user.is_superuser:
        return team
    role = Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    if role not in _ROLES_FOR[action]:
        raise PermissionDenied(f"Your role in team '{team_id}' does not allow this.")
    return team


def _attnames(model: type, leave_out: frozenset[str] = frozenset()) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname not in leave_out)


# What the read cache keeps of a key and its user: never the password hash (the user
# comes back with it deferred, so nothing can save a blank one over it).
_KEY_FIELDS = _attnames(ApiKey)
_USER_FIELDS = _attnames(get_user_model(), frozenset({"password"}))


def api_key_for_secret(request: HttpRequest, secret_hash: str) -> ApiKey | None:
    """The API key with this secret hash, its user loaded; from the read cache when it
    holds it (no query), else from the database (and then cached)."""
    cached = readcache.get(request, "api-key", secret_hash)
    if cached is not None:
        key_values, user_values = cached
        key = ApiKey.from_db(DEFAULT_DB_ALIAS, _KEY_FIELDS, key_values)
        key.user = get_user_model().from_db(DEFAULT_DB_ALIAS, _USER_FIELDS, user_values)
        return key
    key = ApiKey.objects.select_related("user").filter(secret_hash=secret_hash).first()
    if key is not None:
        remember_api_key(request, key)
    return key


def prefetch_api_key(request: HttpRequest, secret_hash: str) -> None:
    """Have the request's first read-cache round trip also fetch this key's entry."""
    readcache.prefetch(request, "api-key", secret_hash)


def remember_api_key(request: HttpRequest, key: ApiKey) -> None:
    """Cache `key` (as it is now) for `api_key_for_secret`."""
    values = (
        tuple(getattr(key, name) for name in _KEY_FIELDS),
        tuple(getattr(key.user, name) for name in _USER_FIELDS),
    )
    readcache.put(request, values, "api-key", key.secret_hash)
