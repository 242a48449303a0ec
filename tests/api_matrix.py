"""A permission matrix for the REST API, in the spirit of NetBox's API test classes.

A matrix is a table of endpoint cases (method, path template, body, and the status each
caller must get) run against six callers:

- `anonymous`: no credentials;
- `outsider`: signed in, in no team;
- `viewer`, `developer`, `owner`: that role in team `team-a`;
- `staff`: `is_staff` and `is_superuser`, in no team.

Every caller authenticates with a real API key. Each cell (case x caller) runs inside a
savepoint that is rolled back afterwards, so every cell sees the same fresh objects: a
DELETE in one cell cannot poison the next. Every wrong cell is collected and reported in
one assertion (caller, method, path, expected, got, body), not just the first.

Besides the status, each cell checks:

- a 4xx answer carries the error envelope `{"message", "code", "type"}`, with `code`
  equal to the status and, for 401/403/404, the matching `type`;
- a refused request or a GET wrote nothing, and an accepted POST/PATCH/DELETE did write
  (a snapshot of every row the API can touch is compared before and after);
- the case's own `check`, if any, on a successful answer.

Use it by inheriting `PermissionMatrix` and listing `cases`; override `extend_world` to
add objects (put their ids in `world.ids` to use them in path templates).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from guardian.models import GroupObjectPermission, UserObjectPermission
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import ApiKey, AuditEntry, Invitation, Membership, Role, Team
from deployments.models import Deployment
from notify.models import Webhook, WebhookDelivery
from sites import services as site_services
from sites.models import Site, SiteGroupObjectPermission, SiteUserObjectPermission, Variable
from tests.factories import add_member, make_site, make_team, make_user

CALLERS: tuple[str, ...] = ("anonymous", "outsider", "viewer", "developer", "owner", "staff")

# The error `type` each status must carry (docs/api.md, "Errors").
ERROR_TYPES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def expect(
    *, anonymous: int, outsider: int, viewer: int, developer: int, owner: int, staff: int
) -> dict[str, int]:
    """The status each caller must get (keyword-only, so no caller is forgotten)."""
    return {
        "anonymous": anonymous,
        "outsider": outsider,
        "viewer": viewer,
        "developer": developer,
        "owner": owner,
        "staff": staff,
    }


def signed_in(status: int) -> dict[str, int]:
    """Anyone signed in gets `status`."""
    return expect(
        anonymous=401, outsider=status, viewer=status, developer=status, owner=status, staff=status
    )


def members(status: int) -> dict[str, int]:
    """Every member of the team (and staff) gets `status`; outsiders do not see it."""
    return expect(
        anonymous=401, outsider=404, viewer=status, developer=status, owner=status, staff=status
    )


def developers(status: int) -> dict[str, int]:
    """Developers, owners and staff get `status`; a viewer sees it but is refused."""
    return expect(
        anonymous=401, outsider=404, viewer=403, developer=status, owner=status, staff=status
    )


def owners(status: int) -> dict[str, int]:
    """Owners and staff get `status`; viewers and developers see it but are refused."""
    return expect(
        anonymous=401, outsider=404, viewer=403, developer=403, owner=status, staff=status
    )


def hidden(staff: int) -> dict[str, int]:
    """Another team's object: nobody but staff sees it."""
    return expect(anonymous=401, outsider=404, viewer=404, developer=404, owner=404, staff=staff)


@dataclass
class World:
    """The objects every cell starts from; `ids` fill the cases' path templates."""

    users: dict[str, Any]  # caller -> user (None for anonymous)
    clients: dict[str, APIClient]
    key_ids: dict[str, str]  # caller -> the id of the API key it authenticates with
    ids: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # other facts cases check


@dataclass
class Answer:
    """One cell's request and response, handed to a case's `check`."""

    caller: str
    method: str
    path: str
    status: int
    body: Any  # parsed JSON, or the text when the answer is not JSON
    world: World


@dataclass(frozen=True)
class Case:
    """One endpoint call and the status each caller must get.

    `path` and `body` strings are templates filled from `world.ids`, plus `{own_key}` (the
    id of the caller's own API key). `check(answer)` returns a problem or None; it runs
    on every 2xx answer.
    """

    method: str
    path: str
    expected: Mapping[str, int]
    body: Any = None
    check: Callable[[Answer], str | None] | None = None

    def __post_init__(self) -> None:
        if set(self.expected) != set(CALLERS):
            raise ValueError(f"{self.method} {self.path}: give a status for each of {CALLERS}")


def build_world() -> World:
    """Team `team-a` (owner, developer, viewer) with site `site-a` and a plain and a secret
    variable; an empty team `team-empty` with the same members; team `team-b` of a
    stranger with site `site-b` and a variable; a user `newbie` in no team."""
    users: dict[str, Any] = {
        "anonymous": None,
        "outsider": make_user("outsider"),
        "viewer": make_user("viewer"),
        "developer": make_user("developer"),
        "owner": make_user("owner"),
        "staff": make_user("staff", is_staff=True, is_superuser=True),
    }
    stranger = make_user("stranger")
    make_user("newbie")

    team = make_team(users["owner"], team_id="team-a", name="Team A")
    add_member(team, users["developer"], Role.DEVELOPER)
    add_member(team, users["viewer"], Role.VIEWER)
    empty = make_team(users["owner"], team_id="team-empty", name="Empty")
    add_member(empty, users["developer"], Role.DEVELOPER)
    add_member(empty, users["viewer"], Role.VIEWER)
    site = make_site(team, "site-a", name="Site A")
    plain = site_services.variable_create(site=site, key="PLAIN", value="hello")
    secret = site_services.variable_create(site=site, key="SECRET", value="s3cret", secret=True)

    other_team = make_team(stranger, team_id="team-b", name="Team B")
    other_site = make_site(other_team, "site-b", name="Site B")
    other_variable = site_services.variable_create(site=other_site, key="OTHER", value="x")
    stranger_key, _ = account_services.api_key_create(user=stranger, name="stranger's")

    clients: dict[str, APIClient] = {"anonymous": APIClient()}
    key_ids: dict[str, str] = {}
    for caller, user in users.items():
        if user is None:
            continue
        key, secret_value = account_services.api_key_create(user=user, name=f"{caller}'s")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret_value}")
        clients[caller] = client
        key_ids[caller] = key.id

    memberships = {m.user.username: m.id for m in team.memberships.select_related("user")}
    ids = {
        "team": team.id,
        "empty_team": empty.id,
        "other_team": other_team.id,
        "site": site.id,
        "other_site": other_site.id,
        "variable": plain.id,
        "secret_variable": secret.id,
        "other_variable": other_variable.id,
        "owner_membership": memberships["owner"],
        "developer_membership": memberships["developer"],
        "viewer_membership": memberships["viewer"],
        "other_team_membership": other_team.memberships.get().id,
        "stranger_key": stranger_key.id,
    }
    values = {"plain_value": "hello", "secret_value": "s3cret"}
    return World(users=users, clients=clients, key_ids=key_ids, ids=ids, values=values)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row the API can write, minus bookkeeping that reads also touch
    (an API key's `last_used_at`)."""
    user_model = get_user_model()
    tables: dict[str, Any] = {
        "user": user_model.objects.values_list("pk", "username", "email", "is_active"),
        "user_groups": user_model.groups.through.objects.values_list("user_id", "group_id"),
        "group": Group.objects.values_list("pk", "name"),
        "team": Team.objects.values_list("pk", "name", "updated_at"),
        "membership": Membership.objects.values_list("pk", "team_id", "user_id", "role"),
        "api_key": ApiKey.objects.values_list("pk", "user_id", "name", "expires_at"),
        "invitation": Invitation.objects.values_list("pk", "team_id", "email", "accepted_at"),
        "site": Site.objects.values_list(),
        "variable": Variable.objects.values_list(),
        "deployment": Deployment.objects.values_list("pk", "site_id", "status"),
        "webhook": Webhook.objects.values_list(),
        "webhook_delivery": WebhookDelivery.objects.values_list(
            "pk", "webhook_id", "status", "series", "attempts"
        ),
        "site_group_perm": SiteGroupObjectPermission.objects.values_list(
            "group_id", "permission_id", "content_object_id"
        ),
        "site_user_perm": SiteUserObjectPermission.objects.values_list(
            "user_id", "permission_id", "content_object_id"
        ),
        "guardian_group_perm": GroupObjectPermission.objects.values_list(
            "group_id", "permission_id", "object_pk"
        ),
        "guardian_user_perm": UserObjectPermission.objects.values_list(
            "user_id", "permission_id", "object_pk"
        ),
        # A refused request or a read records nothing either.
        "audit": AuditEntry.objects.values_list("pk"),
    }
    return {name: sorted(rows, key=repr) for name, rows in tables.items()}


def _fill(template: Any, names: Mapping[str, str]) -> Any:
    if isinstance(template, str):
        return template.format_map(names)
    if isinstance(template, dict):
        return {key: _fill(value, names) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, names) for value in template]
    return template


def _parse(response: Any) -> Any:
    content = response.content.decode(errors="replace")
    if "json" in response.get("Content-Type", ""):
        try:
            return json.loads(content)
        except ValueError:
            return content
    return content


def envelope_problem(status: int, body: Any) -> str | None:
    """What is wrong with a 4xx answer's error envelope, if anything."""
    if not isinstance(body, dict):
        return "the error is not a JSON object"
    missing = {"message", "code", "type"} - set(body)
    if missing:
        return f"the error envelope lacks {sorted(missing)}"
    if not isinstance(body["message"], str) or not body["message"].strip():
        return "the error's message is empty"
    if body["code"] != status:
        return f"the error's code is {body['code']!r}, not {status}"
    if not isinstance(body["type"], str) or not re.fullmatch(r"[a-z]+(_[a-z]+)*", body["type"]):
        return f"the error's type {body['type']!r} is not snake_case"
    if status in ERROR_TYPES and body["type"] != ERROR_TYPES[status]:
        return f"the error's type is {body['type']!r}, not {ERROR_TYPES[status]!r}"
    return None


def _changes(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def run_cell(case: Case, caller: str, world: World) -> tuple[list[str], int]:
    """Run one cell on fresh data (a rolled-back savepoint); return its problems and status."""
    names = {**world.ids, "own_key": world.key_ids.get(caller, world.ids["stranger_key"])}
    path = _fill(case.path, names)
    body = _fill(case.body, names)
    expected = case.expected[caller]
    client = world.clients[caller]
    found: list[str] = []
    with transaction.atomic():
        before = snapshot()
        call = getattr(client, case.method.lower())
        response = call(path, body, format="json") if body is not None else call(path)
        after = snapshot()
        transaction.set_rollback(True)  # the next cell starts from the same world

    status = response.status_code
    parsed = _parse(response)
    shown = json.dumps(parsed)[:300] if not isinstance(parsed, str) else parsed[:300]

    def problem(text: str) -> None:
        found.append(f"{caller:<9} {case.method:<6} {path}: {text} -- body: {shown}")

    if status != expected:
        problem(f"expected {expected}, got {status}")
    if 400 <= status < 500:
        issue = envelope_problem(status, parsed)
        if issue:
            problem(issue)
    changed = _changes(before, after)
    if (status >= 300 or case.method not in WRITE_METHODS) and changed:
        problem(f"answered {status} but wrote to {changed}")
    if 200 <= status < 300 and case.method in WRITE_METHODS and not changed:
        problem(f"answered {status} but wrote nothing")
    if 200 <= status < 300 and case.check is not None:
        answer = Answer(caller, case.method, path, status, parsed, world)
        issue = case.check(answer)
        if issue:
            problem(issue)
    return found, status


def run_matrix(
    cases: Sequence[Case], world: World, callers: Sequence[str] = CALLERS
) -> tuple[list[str], int]:
    """Run every cell; return every problem found and how many cells ran."""
    problems: list[str] = []
    cells = 0
    for case in cases:
        for caller in callers:
            found, _status = run_cell(case, caller, world)
            problems.extend(found)
            cells += 1
    return problems, cells


class PermissionMatrix:
    """Inherit, list `cases`, and pytest runs the whole table as one test that reports
    every wrong cell at once."""

    cases: ClassVar[Sequence[Case]] = ()

    def extend_world(self, world: World) -> None:
        """Add objects the cases need; put their ids in `world.ids`."""

    def test_permission_matrix(self, db: None) -> None:
        assert self.cases, f"{type(self).__name__} lists no cases"
        world = build_world()
        self.extend_world(world)
        problems, cells = run_matrix(self.cases, world)
        assert not problems, f"{len(problems)} wrong cell(s) among {cells}:\n" + "\n".join(problems)
