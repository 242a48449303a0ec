"""Variable values are encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings


@cache
def _fernet() -> Fernet:
    # Any length of configured key -> the 32 url-safe base64 bytes Fernet wants.
    digest = hashlib.sha256(settings.SHIPWAY_ENCRYPTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
