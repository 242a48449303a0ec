"""Mail: the one module that writes and sends the platform's messages.

`queue_mail` renders a template trio now (`mail/{name}_subject.txt`, `mail/{name}.txt`
and `mail/{name}.html`, with the same context) and, once the current transaction
commits (at once outside one), queues one task per recipient on SHIPWAY_NOTIFY_QUEUE
(`core.tasks.send_mail`). The task hands the message, a plain-text body with the HTML
as its alternative, to Django's email backend (SMTP, or the console without
SHIPWAY_SMTP_HOST). An SMTP server that does not answer, drops the connection or
answers 4xx is tried again after each of RETRY_DELAYS, then given up; a 5xx refusal is
final. Either way one log line says so, and nothing that queued the mail ever fails
because of it.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import structlog
from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

log = structlog.get_logger(__name__)

SEND_TASK = "core.tasks.send_mail"
# Seconds before each new try after a temporary failure; then the mail is given up.
RETRY_DELAYS = (10, 60, 300, 900)
MAX_SUBJECT_CHARS = 200
MAX_BODY_CHARS = 200_000  # each of the text and the HTML body
MAX_RECIPIENTS = 100  # per call: one task (and one message) each


class Mail(TypedDict):
    """One message as its task carries it (JSON: Celery accepts nothing else)."""

    id: str
    template: str
    to: str
    subject: str
    text: str
    html: str


def render(template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """The subject (one line), text body and HTML body of `template` with `context`."""
    subject = str(render_to_string(f"mail/{template}_subject.txt", dict(context)))
    text = str(render_to_string(f"mail/{template}.txt", dict(context)))
    html = str(render_to_string(f"mail/{template}.html", dict(context)))
    # One line for the subject: never a header break.
    subject = " ".join(subject.split())[:MAX_SUBJECT_CHARS]
    return subject, text[:MAX_BODY_CHARS], html[:MAX_BODY_CHARS]


def queue_mail(*, template: str, to: Sequence[str], context: Mapping[str, Any]) -> list[str]:
    """Render `template` once and queue it to each address of `to` (one message each, so
    no recipient sees another's address) after the current transaction commits.
    Returns the mails' ids."""
    recipients = list(dict.fromkeys(address for address in to if address))
    if len(recipients) > MAX_RECIPIENTS:
        raise ValueError(f"at most {MAX_RECIPIENTS} recipients per mail")
    if not recipients:
        return []
    subject, text, html = render(template, context)
    mails: list[Mail] = [
        Mail(
            id=uuid.uuid4().hex,
            template=template,
            to=address,
            subject=subject,
            text=text,
            html=html,
        )
        for address in recipients
    ]
    for mail in mails:
        # robust: a broker that is down loses the mail, never the change that sent it.
        transaction.on_commit(lambda mail=mail: _queue(mail), robust=True)  # type: ignore[misc]
    return [mail["id"] for mail in mails]


def _queue(mail: Mail) -> None:
    log.info("mail.queued", mail_id=mail["id"], template=mail["template"])
    current_app.signature(
        SEND_TASK, args=(mail,), queue=settings.SHIPWAY_NOTIFY_QUEUE, ignore_result=True
    ).apply_async()


def message_of(mail: Mail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=mail["subject"],
        body=mail["text"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail["to"]],
        headers={"X-Shipway-Mail": mail["template"]},
    )
    message.attach_alternative(mail["html"], "text/html")
    return message


def _permanent(exc: Exception) -> bool:
    """A refusal that sending again would not change (a 5xx answer)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def send(mail: Mail, *, attempt: int = 0) -> float | None:
    """Send one queued mail now. Returns the seconds to wait before trying again after a
    temporary failure, or None when it is done (sent, refused for good, or given up)."""
    try:
        message_of(mail).send()
    except (smtplib.SMTPException, OSError) as exc:
        fields = {
            "mail_id": mail["id"],
            "template": mail["template"],
            "attempt": attempt,
            "error": type(exc).__name__,
            "smtp_code": getattr(exc, "smtp_code", None),
        }
        if _permanent(exc):
            log.warning("mail.rejected", **fields)
            return None
        if attempt >= len(RETRY_DELAYS):
            log.error("mail.gave_up", **fields)
            return None
        log.warning("mail.failed", retry_in=RETRY_DELAYS[attempt], **fields)
        return float(RETRY_DELAYS[attempt])
    log.info("mail.sent", mail_id=mail["id"], template=mail["template"], attempt=attempt)
    return None
