"""Masking secrets out of text that leaves the platform's hands: build and server logs,
failure mails, audit entries. One mask, and one way to find a secret in quoted text."""

from __future__ import annotations

import json
from urllib.parse import quote

MASK = "********"


class SecretMasker:
    """Replaces secret values in text (longest first, so one secret inside another is
    masked whole). Each secret is also masked as Python's repr, JSON and a URL write it,
    since error messages quote what they complain about that way. Values shorter than 4
    characters are not masked: they would mask ordinary text everywhere."""

    def __init__(self, secrets: list[str]) -> None:
        forms = {form for secret in secrets if len(secret) >= 4 for form in _forms(secret)}
        self.secrets = sorted({f for f in forms if len(f) >= 4}, key=len, reverse=True)
        self.longest = len(self.secrets[0]) if self.secrets else 0

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def _forms(secret: str) -> set[str]:
    quoted = repr(secret)[1:-1]
    return {
        secret,
        quoted,
        quoted.replace("'", "\\'"),  # repr's form when the text around it has a " too
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
    }
