"""Secrets (variable values, tokens, webhook secrets) are encrypted at rest with Fernet
(AES-128-CBC + HMAC-SHA256) under SHIPWAY_ENCRYPTION_KEY, which every machine of an
installation must share."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet() -> Fernet:
    # Any length of configured key -> the 32 url-safe base64 bytes Fernet wants.
    digest = hashlib.sha256(settings.SHIPWAY_ENCRYPTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


class KeyMismatch(Exception):
    """A stored secret does not open with this machine's key."""


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Most often a machine that generated a key of its own (SHIPWAY_ENCRYPTION_KEY
        # unset): the message says what to do, instead of an empty InvalidToken.
        raise KeyMismatch(
            "A stored secret could not be decrypted with this machine's "
            "SHIPWAY_ENCRYPTION_KEY: every machine of an installation needs the same key "
            "(see docs/configuration.md)."
        ) from None
