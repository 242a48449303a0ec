"""The audit log: the one owner of `AuditEntry` rows (docs/architecture.md, "Audit log").

Every service function that writes calls `record(...)` inside its own transaction, so
the entry commits or rolls back with the change. Who acted and from where is this
module's to know, not the service's: a context variable holds the current request (set
by `AuditContextMiddleware` for every platform request and cleared after it), which the
API's key authentication marks with the key it authenticated (`bind_key`). Without a
request (Celery tasks, management commands) the actor is the system; `acting(...)` and
`as_system(...)` tell services otherwise.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import structlog
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase

from accounts.models import ActorType, AuditEntry
from core.masking import MASK

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from rest_framework.request import Request

    from accounts.models import ApiKey

log = structlog.get_logger(__name__)

# Bounds on `data`: fields kept, characters per text, items per list, nesting.
MAX_FIELDS = 32
MAX_TEXT = 256
MAX_ITEMS = 20
_MAX_DEPTH = 3
# `<resource>.<verb>`, lowercase with "_": site.update, api_key.create, repository.link.
RESOURCE_PATTERN = re.compile(r"^[a-z][a-z_]{0,31}$")
ACTION_PATTERN = re.compile(r"^[a-z][a-z_]{0,31}\.[a-z][a-z_]{0,30}$")
SYSTEM_NAME = "system"


@dataclass(frozen=True)
class Actor:
    """Who acted: a user, an API key (and its user), or the system."""

    type: str
    id: str = ""
    name: str = ""
    user_id: int | None = None
    user_name: str = ""
    key_id: str = ""


SYSTEM = Actor(ActorType.SYSTEM, name=SYSTEM_NAME)


@dataclass
class _Context:
    request: HttpRequest | None = None
    actor: Actor | None = None  # set: this, whatever the request's user
    ip: str | None = None  # set: this, whatever the request's address


_current: ContextVar[_Context | None] = ContextVar("shipway_audit", default=None)


def user_actor(user: User) -> Actor:
    return Actor(
        ActorType.USER,
        id=str(user.pk),
        name=user.get_username(),
        user_id=user.pk,
        user_name=user.get_username(),
    )


def key_actor(key: ApiKey) -> Actor:
    """An API key acting: the entry names the key and its user."""
    user = key.user
    return Actor(
        ActorType.KEY,
        id=key.pk,
        name=key.name,
        user_id=user.pk,
        user_name=user.get_username(),
        key_id=key.pk,
    )


def _valid_ip(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _request_actor(request: HttpRequest) -> Actor:
    user: User | AnonymousUser | None = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_actor(user)
    return SYSTEM  # an anonymous call (a forge's webhook, a deploy hook's address)


def current() -> tuple[Actor, str | None]:
    """The actor and address writes are recorded with now."""
    context = _current.get()
    if context is None:
        return SYSTEM, None
    actor = context.actor
    if actor is None:
        actor = _request_actor(context.request) if context.request is not None else SYSTEM
    ip = context.ip
    if ip is None and context.request is not None:
        ip = _valid_ip(context.request.META.get("REMOTE_ADDR"))
    return actor, ip


@contextlib.contextmanager
def _with(context: _Context) -> Iterator[None]:
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


@contextlib.contextmanager
def acting(
    *, user: User | None = None, key: ApiKey | None = None, ip: str | None = None
) -> Iterator[None]:
    """Writes meanwhile are recorded as `key`'s (or else `user`'s, else the system's),
    from `ip`: for callers that act for someone without a request (and tests)."""
    actor = key_actor(key) if key is not None else user_actor(user) if user else SYSTEM
    with _with(_Context(actor=actor, ip=_valid_ip(ip))):
        yield


@contextlib.contextmanager
def as_system(name: str, actor_id: str = "") -> Iterator[None]:
    """Writes meanwhile are the system's, named `name` (a deploy hook, a forge's push),
    from the current request's address if there is one."""
    _actor, ip = current()
    actor = Actor(ActorType.SYSTEM, id=actor_id[:64], name=name[:160])
    with _with(_Context(actor=actor, ip=ip)):
        yield


@contextlib.contextmanager
def as_user(user: User) -> Iterator[None]:
    """Writes meanwhile are `user`'s (one just made: an invitation's sign-up), from the
    current request's address if there is one."""
    _actor, ip = current()
    with _with(_Context(actor=user_actor(user), ip=ip)):
        yield


def bind_key(request: HttpRequest | Request, key: ApiKey) -> None:
    """The API authenticated `request` with `key`: its writes are the key's."""
    context = _current.get()
    underlying = getattr(request, "_request", request)
    if context is not None and context.request is underlying and context.actor is None:
        context.actor = key_actor(key)


class AuditContextMiddleware:
    """Holds the request for `current()` while it is answered, and forgets it after."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with _with(_Context(request=request)):
            return self.get_response(request)


# -- what an entry holds --------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: Any, depth: int = 0) -> Any:
    """A JSON value, bounded: long texts cut, long lists cut, deep nesting flattened."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else list(value)
        return [_plain(item, depth + 1) for item in items[:MAX_ITEMS]]
    if depth < _MAX_DEPTH and isinstance(value, Mapping):
        return {
            str(key)[:64]: _plain(item, depth + 1) for key, item in list(value.items())[:MAX_FIELDS]
        }
    return _plain(str(value), depth)


def _masked(value: Any) -> str:
    return MASK if value else ""


def values(instance: Any, names: Iterable[str]) -> dict[str, Any]:
    """The named attributes of `instance` now (to compare with `changes` later)."""
    return {name: getattr(instance, name) for name in names}


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, secret: Iterable[str] = ()
) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for each field whose value differs (camelCase names, as the
    API spells them); a secret field shows only whether it is set (MASK or "")."""
    hidden = set(secret)
    diff: dict[str, list[Any]] = {}
    for name, old in before.items():
        new = after.get(name)
        if old == new:
            continue
        if name in hidden:
            diff[_camel(name)] = [_masked(old), _masked(new)]
        else:
            diff[_camel(name)] = [old, new]
    return diff


def record(
    *,
    action: str,
    team_id: str | None,
    resource_id: str | int,
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write the entry of one change, inside the caller's transaction (so it commits or
    rolls back with it): `action` is `<resource>.<verb>`; `data` is small (bounded
    here) and never holds a secret (mask them: `changes(..., secret=...)`)."""
    if not ACTION_PATTERN.match(action):
        raise ValueError(f"An audit action is '<resource>.<verb>', not {action!r}.")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"record({action!r}) must run in the writer's transaction.")
    actor, ip = current()
    entry = AuditEntry(
        team_id=team_id or "",
        action=action,
        resource=action.partition(".")[0],
        resource_id=str(resource_id)[:64],
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        user_id=actor.user_id,
        user_name=actor.user_name,
        key_id=actor.key_id,
        ip=ip,
        data=_plain(dict(data or {})),
    )
    entry.save()
    log.debug(
        "audit.recorded",
        audit_id=entry.id,
        action=action,
        team_id=entry.team_id,
        resource_id=entry.resource_id,
        actor_type=actor.type,
    )
    return entry
