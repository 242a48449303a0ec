"""Who may do what, over every account, key, team, membership, site and variable
endpoint of docs/api.md, for all six callers (see tests/api_matrix.py).

The rules: anonymous callers get 401 everywhere but the two catalogs; something the
caller may not see is 404 (never 403); viewers read the team's sites, variables, team
and members; developers also create and change sites, manage variables and read the
audit log (which nobody changes: 405); owners also delete sites and the team and manage
members; staff (superusers) may do everything;
a viewer or developer trying an owner's action on something they can see gets 403.
API keys are personal: `/v1/account/keys` is the caller's own, for staff too; a key
cannot make keys, but may delete itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api_matrix import (
    CALLERS,
    Answer,
    Case,
    PermissionMatrix,
    build_world,
    developers,
    expect,
    hidden,
    members,
    owners,
    run_matrix,
    signed_in,
)

# -- who gets what -----------------------------------------------------------------

PUBLIC = expect(anonymous=200, outsider=200, viewer=200, developer=200, owner=200, staff=200)


# -- what successful answers must say ------------------------------------------------

TEAM_MEMBERS = {"viewer", "developer", "owner"}


def _listed(answer: Answer, key: str) -> set[str]:
    return {item["id"] for item in answer.body[key]}


def lists_exactly(key: str, visible: dict[str, Any]) -> Any:
    """The list under `key` holds exactly the ids `visible[caller]` (and `total` agrees)."""

    def check(answer: Answer) -> str | None:
        want = {answer.world.ids[name] for name in visible[answer.caller]}
        got = _listed(answer, key)
        if got != want:
            return f"lists {sorted(got)}, should list {sorted(want)}"
        if answer.body["total"] != len(want):
            return f"total is {answer.body['total']}, should be {len(want)}"
        return None

    return check


def is_object(name: str) -> Any:
    """The answer is the object `world.ids[name]`."""

    def check(answer: Answer) -> str | None:
        want = answer.world.ids[name]
        if answer.body.get("id") != want:
            return f"answered object {answer.body.get('id')!r}, not {want!r}"
        return None

    return check


def _variable_problem(item: dict[str, Any], world: Any) -> str | None:
    if item.get("secret"):
        if item.get("value", "missing") is not None:
            return f"secret variable {item.get('key')} shows value {item.get('value')!r}"
        return None
    if item["id"] == world.ids["variable"] and item["value"] != world.values["plain_value"]:
        return f"plain variable shows {item['value']!r}, not {world.values['plain_value']!r}"
    return None


def variables_ok(answer: Answer) -> str | None:
    """Secret values read null (staff included); plain values read as stored."""
    items = answer.body.get("variables", [answer.body])
    secrets_seen = [item for item in items if item.get("secret")]
    if "variables" in answer.body and not secrets_seen:
        return "the list shows no secret variable to check"
    for item in items:
        issue = _variable_problem(item, answer.world)
        if issue:
            return issue
    if answer.world.values["secret_value"] in str(answer.body):
        return "the secret's plain value appears in the answer"
    return None


def value_is_null(answer: Answer) -> str | None:
    if answer.body.get("value", "missing") is not None:
        return f"a secret variable answered value {answer.body.get('value')!r}"
    return None


def is_caller(answer: Answer) -> str | None:
    want = answer.world.users[answer.caller].username
    if answer.body.get("username") != want:
        return f"answered account {answer.body.get('username')!r}, not {want!r}"
    return None


def keys_without_secrets(answer: Answer) -> str | None:
    own = answer.world.key_ids[answer.caller]
    if [key["id"] for key in answer.body["keys"]] != [own]:
        return f"lists keys {[k['id'] for k in answer.body['keys']]}, not only its own {own}"
    if any("secret" in key or "secretHash" in key for key in answer.body["keys"]):
        return "a listed key shows its secret"
    return None


def catalog(key: str, must_have: str) -> Any:
    def check(answer: Answer) -> str | None:
        slugs = {item.get("key") or item.get("slug") for item in answer.body[key]}
        if must_have not in slugs or answer.body["total"] != len(answer.body[key]):
            return f"the {key} catalog lacks {must_have!r} or its total is wrong"
        return None

    return check


STAFF_ONLY_TEAMS = {"team", "empty_team", "other_team"}


# -- the matrix, one class per part of docs/api.md -----------------------------------


class TestAccountMatrix(PermissionMatrix):
    cases = (
        Case("GET", "/v1/account", signed_in(200), check=is_caller),
        # Keys are made with a session or `createapikey`, never with a key
        # (tests/accounts/test_api_key_scopes.py makes them signed in).
        Case("POST", "/v1/account/keys", signed_in(403), {"name": "ci"}),
        Case("GET", "/v1/account/keys", signed_in(200), check=keys_without_secrets),
        Case("DELETE", "/v1/account/keys/{own_key}", signed_in(204)),
        # Keys are personal: someone else's key does not exist for you, staff included.
        Case("DELETE", "/v1/account/keys/{stranger_key}", signed_in(404)),
    )


class TestTeamsMatrix(PermissionMatrix):
    cases = (
        Case("POST", "/v1/teams", signed_in(201), {"name": "New team"}),
        Case(
            "GET",
            "/v1/teams",
            signed_in(200),
            check=lists_exactly(
                "teams",
                {
                    "outsider": set(),
                    "viewer": {"team", "empty_team"},
                    "developer": {"team", "empty_team"},
                    "owner": {"team", "empty_team"},
                    "staff": STAFF_ONLY_TEAMS,
                },
            ),
        ),
        Case("GET", "/v1/teams/{team}", members(200), check=is_object("team")),
        Case("PATCH", "/v1/teams/{team}", owners(200), {"name": "Renamed"}),
        Case("DELETE", "/v1/teams/{empty_team}", owners(204)),
        # A team that still owns sites is not deleted (nothing is lost by accident).
        Case("DELETE", "/v1/teams/{team}", owners(409)),
        Case("GET", "/v1/teams/{other_team}", hidden(200), check=is_object("other_team")),
        Case("PATCH", "/v1/teams/{other_team}", hidden(200), {"name": "Taken over"}),
        Case("DELETE", "/v1/teams/{other_team}", hidden(409)),
        Case("GET", "/v1/teams/no-such-team", signed_in(404)),
    )


class TestMembershipsMatrix(PermissionMatrix):
    cases = (
        Case(
            "GET",
            "/v1/teams/{team}/memberships",
            members(200),
            check=lists_exactly(
                "memberships",
                dict.fromkeys(
                    CALLERS,
                    frozenset({"owner_membership", "developer_membership", "viewer_membership"}),
                ),
            ),
        ),
        Case(
            "POST",
            "/v1/teams/{team}/memberships",
            owners(201),
            {"username": "newbie", "roles": ["developer"]},
        ),
        Case(
            "GET",
            "/v1/teams/{team}/memberships/{viewer_membership}",
            members(200),
            check=is_object("viewer_membership"),
        ),
        Case(
            "PATCH",
            "/v1/teams/{team}/memberships/{viewer_membership}",
            owners(200),
            {"roles": ["developer"]},
        ),
        Case("DELETE", "/v1/teams/{team}/memberships/{viewer_membership}", owners(204)),
        Case("DELETE", "/v1/teams/{team}/memberships/{developer_membership}", owners(204)),
        Case("GET", "/v1/teams/{other_team}/memberships", hidden(200)),
        Case(
            "POST",
            "/v1/teams/{other_team}/memberships",
            hidden(201),
            {"username": "newbie", "roles": ["viewer"]},
        ),
        Case("GET", "/v1/teams/{other_team}/memberships/{other_team_membership}", hidden(200)),
        # A membership of another team is not found under this team, for anyone.
        Case(
            "GET",
            "/v1/teams/{team}/memberships/{other_team_membership}",
            expect(anonymous=401, outsider=404, viewer=404, developer=404, owner=404, staff=404),
        ),
        Case(
            "DELETE",
            "/v1/teams/{team}/memberships/{other_team_membership}",
            expect(anonymous=401, outsider=404, viewer=403, developer=403, owner=404, staff=404),
        ),
    )


def lists_only_its_teams_entries(answer: Answer) -> str | None:
    """The audit list of team-a: its own entries, none of team-b's objects."""
    ids = answer.world.ids
    named = {entry["resourceId"] for entry in answer.body["entries"]}
    if not {ids["team"], ids["site"]} <= named:
        return f"the log lacks team-a's own entries: {sorted(named)}"
    if named & {ids["other_team"], ids["other_site"], ids["other_variable"]}:
        return f"the log shows another team's objects: {sorted(named)}"
    return None


NOT_ALLOWED = expect(anonymous=401, outsider=405, viewer=405, developer=405, owner=405, staff=405)


class TestAuditMatrix(PermissionMatrix):
    """The audit log: owners and developers read it; nobody changes it."""

    cases = (
        Case("GET", "/v1/teams/{team}/audit", developers(200), check=lists_only_its_teams_entries),
        Case("GET", "/v1/teams/{team}/audit?resource=site&action=site.create", developers(200)),
        Case("GET", "/v1/teams/{other_team}/audit", hidden(200)),
        Case("GET", "/v1/teams/no-such-team/audit", signed_in(404)),
        Case("POST", "/v1/teams/{team}/audit", NOT_ALLOWED, {"action": "site.delete"}),
        Case("DELETE", "/v1/teams/{team}/audit", NOT_ALLOWED),
        Case("PATCH", "/v1/teams/{team}/audit", NOT_ALLOWED, {"action": "site.delete"}),
    )


def _invite(team_id: str, email: str) -> str:
    from accounts import services as account_services
    from accounts.models import Team

    team = Team.objects.get(pk=team_id)
    owner = team.memberships.get(role="owner").user
    invitation, _token = account_services.invitation_create(
        team=team, email=email, role="viewer", invited_by=owner
    )
    return invitation.id


class TestInvitationsMatrix(PermissionMatrix):
    """Invitations are owners' business: the invited addresses are not shown to the
    team's other members."""

    def extend_world(self, world: Any) -> None:
        world.ids["invitation"] = _invite(world.ids["team"], "invited@example.org")
        world.ids["other_invitation"] = _invite(world.ids["other_team"], "other@example.org")

    cases = (
        # An email no account has: an invitation (202); one that has: a membership (201).
        Case(
            "POST",
            "/v1/teams/{team}/memberships",
            owners(202),
            {"email": "fresh@example.org", "roles": ["developer"]},
        ),
        Case(
            "POST",
            "/v1/teams/{team}/memberships",
            owners(201),
            {"email": "newbie@example.com", "roles": ["developer"]},
        ),
        Case(
            "POST",
            "/v1/teams/{other_team}/memberships",
            hidden(202),
            {"email": "fresh@example.org", "roles": ["viewer"]},
        ),
        Case(
            "GET",
            "/v1/teams/{team}/invitations",
            owners(200),
            check=lists_exactly("invitations", dict.fromkeys(CALLERS, frozenset({"invitation"}))),
        ),
        Case(
            "GET",
            "/v1/teams/{team}/invitations/{invitation}",
            owners(200),
            check=is_object("invitation"),
        ),
        Case("DELETE", "/v1/teams/{team}/invitations/{invitation}", owners(204)),
        Case("GET", "/v1/teams/{other_team}/invitations", hidden(200)),
        Case("DELETE", "/v1/teams/{other_team}/invitations/{other_invitation}", hidden(204)),
        # Another team's invitation is not found under this team, for anyone.
        Case(
            "GET",
            "/v1/teams/{team}/invitations/{other_invitation}",
            expect(anonymous=401, outsider=404, viewer=403, developer=403, owner=404, staff=404),
        ),
        Case(
            "DELETE",
            "/v1/teams/{team}/invitations/{other_invitation}",
            expect(anonymous=401, outsider=404, viewer=403, developer=403, owner=404, staff=404),
        ),
    )


SITE_BODY = {"siteId": "fresh", "name": "Fresh", "teamId": "{team}", "framework": "static"}


class TestSitesMatrix(PermissionMatrix):
    cases = (
        Case("GET", "/v1/sites/frameworks", PUBLIC, check=catalog("frameworks", "react")),
        Case(
            "GET",
            "/v1/sites/specifications",
            PUBLIC,
            check=catalog("specifications", "s-1vcpu-1gb"),
        ),
        Case("POST", "/v1/sites", developers(201), SITE_BODY),
        Case("POST", "/v1/sites", hidden(201), {**SITE_BODY, "teamId": "{other_team}"}),
        Case(
            "GET",
            "/v1/sites",
            signed_in(200),
            check=lists_exactly(
                "sites",
                {
                    "outsider": set(),
                    **dict.fromkeys(TEAM_MEMBERS, frozenset({"site"})),
                    "staff": {"site", "other_site"},
                },
            ),
        ),
        Case("GET", "/v1/sites/{site}", members(200), check=is_object("site")),
        Case("PATCH", "/v1/sites/{site}", developers(200), {"name": "Renamed", "timeout": 60}),
        Case("DELETE", "/v1/sites/{site}", owners(204)),
        Case("GET", "/v1/sites/{other_site}", hidden(200), check=is_object("other_site")),
        Case("PATCH", "/v1/sites/{other_site}", hidden(200), {"name": "Taken over"}),
        Case("DELETE", "/v1/sites/{other_site}", hidden(204)),
        Case("GET", "/v1/sites/no-such-site", signed_in(404)),
        Case("PATCH", "/v1/sites/no-such-site", signed_in(404), {"name": "x"}),
        Case("DELETE", "/v1/sites/no-such-site", signed_in(404)),
    )


def usage_answer(range_name: str, points: int) -> Any:
    """A usage answer for `range_name`, its series `points` long."""

    def check(answer: Answer) -> str | None:
        body = answer.body
        if body.get("range") != range_name:
            return f"range is {body.get('range')!r}, should be {range_name!r}"
        lengths = {name: len(series) for name, series in body["series"].items()}
        if lengths != dict.fromkeys(("requests", "bandwidthBytes", "buildSeconds"), points):
            return f"series lengths {lengths}, should be {points} each"
        return None

    return check


class TestUsageMatrix(PermissionMatrix):
    """A site's usage is read like the site: its team's members and staff."""

    cases = (
        Case("GET", "/v1/sites/{site}/usage", members(200), check=usage_answer("24h", 24)),
        Case(
            "GET", "/v1/sites/{site}/usage?range=30d", members(200), check=usage_answer("30d", 30)
        ),
        Case("GET", "/v1/sites/{site}/usage?range=1y", members(400)),
        Case("GET", "/v1/sites/{other_site}/usage?range=7d", hidden(200)),
        Case("GET", "/v1/sites/no-such-site/usage", signed_in(404)),
    )


VARIABLES = "/v1/sites/{site}/variables"


class TestVariablesMatrix(PermissionMatrix):
    cases = (
        Case("GET", VARIABLES, members(200), check=variables_ok),
        Case("POST", VARIABLES, developers(201), {"key": "NEW_KEY", "value": "v"}),
        Case(
            "POST",
            VARIABLES,
            developers(201),
            {"key": "NEW_SECRET", "value": "hidden-value", "secret": True},
            check=value_is_null,
        ),
        Case("GET", VARIABLES + "/{variable}", members(200), check=variables_ok),
        Case("GET", VARIABLES + "/{secret_variable}", members(200), check=value_is_null),
        Case("PATCH", VARIABLES + "/{variable}", developers(200), {"value": "changed"}),
        Case(
            "PATCH",
            VARIABLES + "/{secret_variable}",
            developers(200),
            {"value": "rotated"},
            check=value_is_null,
        ),
        Case("DELETE", VARIABLES + "/{variable}", developers(204)),
        Case("DELETE", VARIABLES + "/{secret_variable}", developers(204)),
        Case("GET", "/v1/sites/{other_site}/variables", hidden(200)),
        Case("POST", "/v1/sites/{other_site}/variables", hidden(201), {"key": "K", "value": "v"}),
        Case("GET", "/v1/sites/{other_site}/variables/{other_variable}", hidden(200)),
        Case(
            "PATCH",
            "/v1/sites/{other_site}/variables/{other_variable}",
            hidden(200),
            {"value": "y"},
        ),
        Case("DELETE", "/v1/sites/{other_site}/variables/{other_variable}", hidden(204)),
        # Another site's variable is not found under this site, for anyone.
        Case("GET", VARIABLES + "/{other_variable}", members(404)),
        Case(
            "DELETE",
            VARIABLES + "/{other_variable}",
            expect(anonymous=401, outsider=404, viewer=403, developer=404, owner=404, staff=404),
        ),
    )


# -- the helper itself ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_matrix_reports_every_wrong_cell_at_once():
    """Wrong expectations in several cells: each one is reported, with what was expected,
    what came back and the body; a write's effect is rolled back between cells."""
    world = build_world()
    wrong = expect(anonymous=200, outsider=200, viewer=404, developer=404, owner=204, staff=204)
    problems, cells = run_matrix(
        [
            Case("GET", "/v1/sites/{site}", wrong),
            Case("DELETE", "/v1/sites/{site}", owners(204)),
            Case("DELETE", "/v1/sites/{site}", owners(204)),  # still there: rolled back
        ],
        world,
    )
    assert cells == 3 * len(CALLERS)
    report = "\n".join(problems)
    for caller, status in wrong.items():
        got = 401 if caller == "anonymous" else 404 if caller == "outsider" else 200
        assert f"{caller:<9} GET    /v1/sites/site-a: expected {status}, got {got}" in report
    assert "DELETE" not in report, report
    assert len(problems) == len(CALLERS)
    assert '"type": "unauthorized"' in report  # the body is part of the report


# -- outgoing webhooks: a team's owners only (notify/selectors.py) --------------------

WEBHOOKS = "/v1/teams/{team}/webhooks"
WEBHOOK_BODY = {"url": "https://93.184.216.34/hook", "events": ["sites.*.deployments.*.update"]}


def no_secret_shown(answer: Answer) -> str | None:
    if "secret" in json.dumps(answer.body) or answer.world.values["webhook_secret"] in str(
        answer.body
    ):
        return "a webhook's secret is shown after its creation"
    return None


def secret_shown_once(answer: Answer) -> str | None:
    if len(answer.body.get("secret") or "") < 32:
        return "the new webhook's (generated) secret is not in the answer that created it"
    return None


class TestWebhooksMatrix(PermissionMatrix):
    def extend_world(self, world: Any) -> None:
        from accounts.models import Team
        from notify import services as notify_services
        from notify.models import DeliveryStatus, WebhookDelivery

        team = Team.objects.get(pk=world.ids["team"])
        other = Team.objects.get(pk=world.ids["other_team"])
        webhook, secret = notify_services.webhook_create(team=team, **WEBHOOK_BODY)
        theirs, _ = notify_services.webhook_create(team=other, **WEBHOOK_BODY)
        delivery = notify_services.webhook_delivery_create(
            webhook_id=webhook.id, event="sites.site-a.update", timestamp="t", payload={}
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
        their_delivery = notify_services.webhook_delivery_create(
            webhook_id=theirs.id, event="sites.site-b.update", timestamp="t", payload={}
        )
        WebhookDelivery.objects.filter(pk=their_delivery.pk).update(status=DeliveryStatus.FAILED)
        world.ids |= {
            "webhook": webhook.id,
            "other_webhook": theirs.id,
            "delivery": delivery.id,
            "other_delivery": their_delivery.id,
        }
        world.values["webhook_secret"] = secret

    cases = (
        Case(
            "GET",
            WEBHOOKS,
            owners(200),
            check=lists_exactly(
                "webhooks", dict.fromkeys(("owner", "staff"), frozenset({"webhook"}))
            ),
        ),
        Case("POST", WEBHOOKS, owners(201), WEBHOOK_BODY, check=secret_shown_once),
        Case("GET", WEBHOOKS + "/{webhook}", owners(200), check=is_object("webhook")),
        Case("GET", WEBHOOKS + "/{webhook}", owners(200), check=no_secret_shown),
        Case("PATCH", WEBHOOKS + "/{webhook}", owners(200), {"enabled": False}),
        Case("DELETE", WEBHOOKS + "/{webhook}", owners(204)),
        Case("GET", WEBHOOKS + "/{webhook}/deliveries", owners(200)),
        Case("POST", WEBHOOKS + "/{webhook}/deliveries/{delivery}/redeliver", owners(202)),
        Case("GET", "/v1/teams/{other_team}/webhooks", hidden(200)),
        Case("POST", "/v1/teams/{other_team}/webhooks", hidden(201), WEBHOOK_BODY),
        Case("GET", "/v1/teams/{other_team}/webhooks/{other_webhook}", hidden(200)),
        Case(
            "PATCH",
            "/v1/teams/{other_team}/webhooks/{other_webhook}",
            hidden(200),
            {"enabled": False},
        ),
        Case("DELETE", "/v1/teams/{other_team}/webhooks/{other_webhook}", hidden(204)),
        Case("GET", "/v1/teams/{other_team}/webhooks/{other_webhook}/deliveries", hidden(200)),
        Case(
            "POST",
            "/v1/teams/{other_team}/webhooks/{other_webhook}/deliveries/{other_delivery}/redeliver",
            hidden(202),
        ),
        # Another team's webhook or delivery is not found under this team.
        Case(
            "GET",
            WEBHOOKS + "/{other_webhook}",
            expect(anonymous=401, outsider=404, viewer=403, developer=403, owner=404, staff=404),
        ),
        Case(
            "DELETE",
            WEBHOOKS + "/{other_webhook}",
            expect(anonymous=401, outsider=404, viewer=403, developer=403, owner=404, staff=404),
        ),
        Case(
            "POST",
            WEBHOOKS + "/{webhook}/deliveries/{other_delivery}/redeliver",
            expect(anonymous=401, outsider=404, viewer=403, developer=403, owner=404, staff=404),
        ),
    )
