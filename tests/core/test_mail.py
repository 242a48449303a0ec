"""core/mail.py: a mail is rendered from its templates (subject, text, HTML), queued on
commit as one task per recipient on the notify queue, and sent through Django's SMTP
backend to a real server on loopback; SMTP failures that may pass are tried again a
bounded number of times, and a 5xx refusal is final."""

from __future__ import annotations

import pytest
from django.db import transaction

from core import mail

pytestmark = pytest.mark.django_db

CONTEXT = {
    "team_name": "Acme <script>",
    "role": "Developer",
    "inviter": "ada",
    "link": "http://127.0.0.1:8000/invitations/swi_x/?a=1&b=2",
    "expires_at": None,
}


def send(to: list[str]) -> list[str]:
    return mail.queue_mail(template="invitation", to=to, context=CONTEXT)


def test_a_mail_arrives_with_its_text_and_html_parts_one_per_recipient(mailbox, committed):
    with committed():
        ids = send(["a@example.com", "b@example.com", "a@example.com"])
        assert len(ids) == 2 and mailbox.messages == []  # nothing before the commit
    assert sorted(m.recipients[0] for m in mailbox.messages) == ["a@example.com", "b@example.com"]
    for received in mailbox.messages:
        assert len(received.recipients) == 1  # nobody sees the other's address
        assert received.subject == "You are invited to join Acme <script> on Shipway"
        assert received.message["From"] == "Shipway <shipway@example.com>"
        assert received.message["X-Shipway-Mail"] == "invitation"
        assert CONTEXT["link"] in received.text  # text: not HTML-escaped
        assert "Acme &lt;script&gt;" in received.html and "<script>" not in received.html
        assert 'href="http://127.0.0.1:8000/invitations/swi_x/?a=1&amp;b=2"' in received.html


def test_a_rolled_back_change_sends_nothing(mailbox, committed):
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        send(["a@example.com"])
        raise RuntimeError("the change fails")
    assert mailbox.attempts == 0


def test_temporary_smtp_failures_are_tried_again(mailbox, committed):
    mailbox.answers = ["451 4.3.0 Try again later", "452 4.3.1 Full"]
    with committed():
        send(["a@example.com"])
    # Eager retries run at once (a worker waits RETRY_DELAYS between them).
    assert mailbox.attempts == 3 and len(mailbox.messages) == 1


def test_a_failing_server_is_given_up_after_the_bound(mailbox, committed):
    mailbox.always = "451 4.3.0 Try again later"
    with committed():
        send(["a@example.com"])
    assert mailbox.attempts == len(mail.RETRY_DELAYS) + 1
    assert mailbox.messages == []


def test_a_final_refusal_is_not_tried_again(mailbox, committed):
    mailbox.always = "550 5.7.1 No"
    with committed():
        send(["a@example.com"])
    assert mailbox.attempts == 1 and mailbox.messages == []


def _one_mail() -> mail.Mail:
    subject, text, html = mail.render("invitation", CONTEXT)
    return mail.Mail(id="m1", template="invitation", to="a@example.com", subject=subject,
                     text=text, html=html)  # fmt: skip


def test_no_smtp_server_is_tried_again_then_given_up(settings):
    from tests.live import _free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nobody listens
    settings.EMAIL_USE_TLS = False
    delays = [mail.send(_one_mail(), attempt=n) for n in range(len(mail.RETRY_DELAYS) + 1)]
    assert delays == [*map(float, mail.RETRY_DELAYS), None]


def test_without_an_smtp_host_mail_is_printed(settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert mail.send(_one_mail()) is None
    assert "You are invited to join Acme <script> on Shipway" in capsys.readouterr().out


def test_the_subject_is_one_line_and_bounded():
    subject, _text, _html = mail.render("invitation", {**CONTEXT, "team_name": "A\r\nBcc: x" * 99})
    assert "\n" not in subject and "\r" not in subject
    assert len(subject) <= mail.MAX_SUBJECT_CHARS
