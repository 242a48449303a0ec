"""What a receiver checks and when a delivery is tried again: pure functions."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from typing import Any

SIGNATURE_PREFIX = "sha256="
MAX_BACKOFF = 3000.0  # seconds: under the broker's visibility timeout (an hour)
JITTER = 0.25  # a retry waits up to this share of its delay more, at random


def body(event: str, timestamp: str, payload: dict[str, Any]) -> str:
    """The delivery's JSON body, compact, exactly as it is signed and sent."""
    return json.dumps(
        {"event": event, "timestamp": timestamp, "payload": payload},
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def signature(secret: str, raw_body: bytes) -> str:
    """The X-Shipway-Signature header: `sha256=` and the hex HMAC-SHA256 of the exact
    body under the webhook's secret."""
    mac = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + mac


def verify(secret: str, raw_body: bytes, header: str) -> bool:
    """What a receiver does: compare, in constant time, the header with the signature of
    the body it received."""
    return hmac.compare_digest(signature(secret, raw_body), header)


def backoff(attempt: int, *, base: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first):
    `base` doubled for each attempt before it (base, 2 base, 4 base, ...), plus up to
    JITTER of that at random (so that receivers that come back are not hit by every
    delivery at once), at most MAX_BACKOFF."""
    delay = base * 2 ** (max(1, attempt) - 1)
    jitter = (rng or random).uniform(0, delay * JITTER)
    return min(MAX_BACKOFF, delay + jitter)
