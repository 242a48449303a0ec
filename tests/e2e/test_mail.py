"""Mail through a real Celery worker (issue 15, item 4, "done when"): the worker reads
the notify queue and sends over SMTP to a real server on loopback. An invitation's mail
arrives and its link joins the team; a failed production build mails the site's owners
(and not its developers or viewers)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Membership, Role
from tests.e2e.conftest import start_worker, stop_worker
from tests.e2e.helpers import deploy, wait_for, wait_until
from tests.factories import add_member, api_client, make_site, make_team, make_user

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"http://[^/\s]+/invitations/(swi_[A-Za-z0-9_-]+)/")


@pytest.fixture
def mail_worker(live_database_env, mailbox, tmp_path):  # type: ignore[no-untyped-def]
    env = {
        **live_database_env,
        "SHIPWAY_SMTP_HOST": "127.0.0.1",
        "SHIPWAY_SMTP_PORT": str(mailbox.port),
        "SHIPWAY_SMTP_TLS": "0",
        "SHIPWAY_MAIL_FROM": "Shipway <shipway@example.com>",
    }
    process = start_worker(env, tmp_path)
    yield process
    stop_worker(process)


def test_the_worker_mails_invitations_and_failed_production_builds(mailbox, mail_worker):
    owner = make_user("ada")
    team = make_team(owner, team_id="acme", name="Acme")
    add_member(team, make_user("bob"), Role.OWNER)
    add_member(team, make_user("dev"), Role.DEVELOPER)
    add_member(team, make_user("val"), Role.VIEWER)
    site = make_site(team, "blog", name="Blog", framework="static")
    client = api_client(owner)

    # An invitation: its mail comes from the worker, and its link joins the team.
    invited = client.post(
        "/v1/teams/acme/memberships",
        {"email": "new@example.org", "roles": ["developer"]},
        format="json",
    )
    assert invited.status_code == 202
    wait_until(lambda: mailbox.to("new@example.org"), "the invitation's mail")
    (received,) = mailbox.to("new@example.org")
    assert "Acme" in received.subject and received.html
    (token,) = set(LINK.findall(received.text))
    browser = Client()
    joined = browser.post(
        f"/invitations/{token}/",
        {"username": "newbie", "password": "Tr0ub4dor&3x", "password_again": "Tr0ub4dor&3x"},
    )
    assert joined.status_code == 302
    assert Membership.objects.get(team=team, user__username="newbie").role == Role.DEVELOPER

    # A failed production build: each owner gets a mail, nobody else.
    failed = wait_for(
        deploy(client, site, {"index.html": "x", "_headers": "/*\n  Set-Cookie: a=1\n"})
    )
    assert (failed.status, failed.error_code) == ("failed", "rules_invalid")
    owners = {"ada@example.com", "bob@example.com"}
    wait_until(lambda: owners <= {m.recipients[0] for m in mailbox.messages}, "the owners' mails")
    failure_mails = [m for m in mailbox.messages if failed.id in m.subject]
    assert sorted(m.recipients[0] for m in failure_mails) == sorted(owners)
    assert "rules_invalid" in failure_mails[0].text and failure_mails[0].html
