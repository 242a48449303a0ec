"""Two owners demoting or removing each other at the same moment, on two database
connections: the team keeps an owner (the services lock the team's row, so the second
change waits for the first and then sees it)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from accounts import services
from accounts.models import Membership, Role
from tests.factories import add_member, api_client, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

CHANGES = {
    "demote": ("patch", {"roles": [Role.DEVELOPER]}),
    "remove": ("delete", None),
}


@pytest.mark.parametrize(
    ("first", "second"), [("demote", "demote"), ("remove", "remove"), ("demote", "remove")]
)
def test_two_owners_changing_each_other_at_once_leave_an_owner(first, second, monkeypatch) -> None:
    ada, bob = make_user(), make_user()
    team = make_team(ada, team_id="two-owners")
    add_member(team, bob, Role.OWNER)
    memberships = {m.user_id: m for m in Membership.objects.filter(team=team)}
    clients = {ada.pk: api_client(ada), bob.pk: api_client(bob)}

    # Each request checks "another owner remains" and then writes. Hold every request a
    # moment after its check, as a loaded database would, so that both have checked
    # before either commits.
    check = services._ensure_an_owner_remains

    def slow_check(membership: Membership) -> None:
        check(membership)
        time.sleep(0.5)

    monkeypatch.setattr(services, "_ensure_an_owner_remains", slow_check)
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def change(actor, target, what: str) -> None:  # type: ignore[no-untyped-def]
        method, body = CHANGES[what]
        path = f"/v1/teams/{team.id}/memberships/{memberships[target.pk].id}"
        try:
            start.wait(timeout=10)
            answers[f"{actor.username}"] = getattr(clients[actor.pk], method)(
                path, body, format="json"
            ).status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=change, args=(ada, bob, first)),
        threading.Thread(target=change, args=(bob, ada, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    owners = Membership.objects.filter(team=team, role=Role.OWNER).count()
    assert owners >= 1, f"no owner left; answers {answers}"
    assert len(answers) == 2
    done, refused = sorted(answers.values())
    assert done in (200, 204) and refused in (404, 409), answers  # the second waited, then saw
