"""A failed production deployment mails the site's team owners (issue 15, item 4):
the site, the deployment id, the error code and its sentence, the log's last lines
(masked) and the dashboard's link, to each owner alone, through a real SMTP server on
loopback. Not developers or viewers, not previews, not cancellations."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Role
from deployments import services as deployment_services
from deployments.errors import MESSAGES, ErrorCode
from deployments.models import Deployment
from sites import services as site_services
from tests.archives import tar_gz, upload
from tests.factories import add_member, eager_builds, make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

BAD_HEADERS = {"index.html": "<h1>hi</h1>", "_headers": "/*\n  Set-Cookie: sid=1\n"}
SECRET = "sk_live_9f8e7d6c5b4a"


@pytest.fixture
def site(settings):  # type: ignore[no-untyped-def]
    settings.SHIPWAY_PUBLIC_URL = "https://shipway.test"
    team = make_team(make_user("ada"), team_id="acme", name="Acme")
    add_member(team, make_user("bob"), Role.OWNER)
    add_member(team, make_user("dev"), Role.DEVELOPER)
    add_member(team, make_user("val"), Role.VIEWER)
    no_email = add_member(team, make_user("noemail"), Role.OWNER)
    get_user_model().objects.filter(pk=no_email.pk).update(email="")
    return make_site(team, "blog", name="Blog", framework="static")


def build(site, files, activate: bool = True) -> Deployment:  # type: ignore[no-untyped-def]
    with eager_builds():
        deployment = deployment_services.deployment_create_from_upload(
            site=site, archive=upload(tar_gz(files)), activate=activate
        )
    deployment.refresh_from_db()
    return deployment


def test_a_failed_production_build_mails_each_owner(site, mailbox):
    deployment = build(site, BAD_HEADERS)
    assert (deployment.status, deployment.error_code) == ("failed", "rules_invalid")
    assert sorted(m.recipients[0] for m in mailbox.messages) == [
        "ada@example.com",
        "bob@example.com",
    ]
    assert all(len(m.recipients) == 1 for m in mailbox.messages)
    link = f"https://shipway.test/sites/blog/deployments/{deployment.id}/"
    for received in mailbox.messages:
        assert received.subject == (
            f"[Blog] Production deployment {deployment.id} failed: rules_invalid"
        )
        for body in (received.text, received.html):
            assert "blog" in body and deployment.id in body and "rules_invalid" in body
            assert link in body
            assert "_headers line 2" in body  # the log's last lines
        assert MESSAGES[ErrorCode.RULES_INVALID] in received.text


def test_a_successful_build_a_preview_and_a_cancellation_mail_nobody(site, mailbox):
    assert build(site, {"index.html": "ok"}).status == "ready"
    preview = build(site, BAD_HEADERS, activate=False)
    assert (preview.environment, preview.status) == ("preview", "failed")
    waiting = deployment_services.deployment_create_from_upload(
        site=site, archive=upload(tar_gz({"index.html": "x"}))
    )  # no worker reads this test's builds queue: it stays waiting
    canceled = deployment_services.deployment_cancel(deployment=waiting)
    assert canceled.status == "canceled"
    assert mailbox.messages == []


def test_the_mail_masks_the_sites_secrets_and_keeps_to_the_last_lines(site, mailbox):
    """Any failure (here the reaper's or an ssr start's path: deployment_fail) mails,
    and what it quotes of the log is its end, with secret values masked again."""
    site_services.variable_create(site=site, key="STRIPE", value=SECRET, secret=True)
    deployment = deployment_services.deployment_create_from_upload(
        site=site, archive=upload(tar_gz({"index.html": "x"}))
    )
    Deployment.objects.filter(pk=deployment.pk).update(adapter="ssr")
    lines = "".join(f"line {n}\n" for n in range(500))
    deployment_services.log_append(deployment, lines + f"\x1b[31mkey={SECRET}\x1b[0m\n")
    with eager_builds():
        deployment_services.deployment_fail(deployment.id, ErrorCode.BUILD_TIMEOUT)
    received = mailbox.to("ada@example.com")[0]
    assert "build_timeout" in received.subject
    assert SECRET not in received.text and SECRET not in received.html
    assert "key=********" in received.text and "\x1b" not in received.text
    assert "line 499" in received.text and "line 480" not in received.text
    assert MESSAGES[ErrorCode.BUILD_TIMEOUT] in received.text


def test_a_mail_server_that_is_down_never_fails_the_build(site, mailbox):
    mailbox.always = "421 4.3.2 Shutting down"
    deployment = build(site, BAD_HEADERS)
    assert (deployment.status, deployment.error_code) == ("failed", "rules_invalid")
    assert mailbox.messages == []
