"""A real SMTP server on loopback for the tests (aiosmtpd), and Django's SMTP backend
pointed at it: `mailbox` collects every message the platform sends.

`mailbox.answers` queues answers to give to DATA instead of accepting, one each
("451 ..." for a temporary failure, "550 ..." for a final one); `mailbox.always`, one to
give every time.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.factories import eager_builds
from tests.live import _free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        """The body part of this type (text/plain, text/html), decoded."""
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                return str(part.get_content())  # type: ignore[attr-defined]
        raise AssertionError(f"the message has no {content_type} part")

    @property
    def text(self) -> str:
        return self.part("text/plain")

    @property
    def html(self) -> str:
        return self.part("text/html")


@dataclass
class Mailbox:
    port: int
    messages: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    always: str | None = None
    attempts: int = 0  # DATA commands seen, accepted or not

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.answers:
            return self.answers.pop(0)
        if self.always:
            return self.always
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
        )
        return "250 OK"


@pytest.fixture
def mailbox(settings):  # type: ignore[no-untyped-def]
    """An SMTP server on 127.0.0.1 for this test; Django's mail goes to it."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every command
    box = Mailbox(port=_free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = box.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Shipway <shipway@example.com>"
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """A context at whose end what was queued on commit runs (a test's own transaction
    never commits), with Celery tasks run at once in this process: mails are sent."""

    @contextlib.contextmanager
    def context():  # type: ignore[no-untyped-def]
        with eager_builds(), django_capture_on_commit_callbacks(execute=True):
            yield

    return context
