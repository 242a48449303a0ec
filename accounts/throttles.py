"""DRF's scoped throttles for what can be guessed or minted: failed API key
authentications per client address, realtime tokens per user. Their rates are
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (config/settings.py), read when used."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import cast

from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from accounts.limits import client_address


class _LiveRates:
    """The rate from the settings as they are now (DRF reads them once, at import)."""

    scope: str | None

    def get_rate(self) -> str | None:
        # Rates are "N/period" strings; the stubs type them as numbers.
        rates = cast("dict[str, str | None]", api_settings.DEFAULT_THROTTLE_RATES)
        return rates.get(self.scope) if self.scope is not None else None


class RealtimeTokenThrottle(_LiveRates, ScopedRateThrottle):
    """`throttle_scope = "realtime_tokens"` on the view: per user."""


# Addresses this process knows are over the failure rate, and until when (monotonic):
# a Bearer request from one is refused before any look-up, without a cache round trip.
# Bounded: past the bound, the oldest entries go first (they are learned again on the
# next failure from them, at the cost of one look-up).
_BLOCKED: OrderedDict[str, float] = OrderedDict()
_BLOCKED_MAX = 10_000
_blocked_lock = threading.Lock()


class ApiKeyFailureThrottle(_LiveRates, SimpleRateThrottle):
    """Failed API key authentications per client address.

    The failures are counted in the cache (shared by every process), so a successful
    request costs nothing. Once an address reaches the rate, each process that sees
    another failure from it also refuses everything with a Bearer header from it, valid
    keys included (else the guessing would go on), until the window has room again.
    """

    scope = "api_key_failures"
    # Set by SimpleRateThrottle.__init__ from the rate (numbers whenever there is a rate).
    num_requests: int
    duration: int

    def get_cache_key(self, request: HttpRequest, view: object = None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}

    def wait_before_trying(self, request: HttpRequest) -> float | None:
        """Seconds to wait when this address may not try a key now, else None."""
        address = client_address(request)
        with _blocked_lock:
            until = _BLOCKED.get(address)
            if until is None:
                return None
            left = until - time.monotonic()
            if left <= 0:
                del _BLOCKED[address]
                return None
            return left

    def record_failure(self, request: HttpRequest) -> None:
        if self.rate is None:
            return
        key = self.get_cache_key(request)
        now = self.timer()
        history = [t for t in self.cache.get(key, []) if t > now - self.duration]
        history = [now, *history][: self.num_requests]  # newest first, bounded
        self.cache.set(key, history, self.duration)
        if len(history) >= self.num_requests:
            self.key, self.history, self.now = key, history, now
            _block(client_address(request), self.wait() or self.duration)


def _block(address: str, seconds: float) -> None:
    with _blocked_lock:
        _BLOCKED[address] = time.monotonic() + seconds
        _BLOCKED.move_to_end(address)
        while len(_BLOCKED) > _BLOCKED_MAX:
            _BLOCKED.popitem(last=False)


def forget_api_key_failures(address: str) -> None:
    """Clear an address's failures (an operator's pardon; tests between cases)."""
    throttle = ApiKeyFailureThrottle()
    throttle.cache.delete(throttle.cache_format % {"scope": throttle.scope, "ident": address})
    with _blocked_lock:
        _BLOCKED.pop(address, None)


class HookThrottle(_LiveRates, SimpleRateThrottle):
    """Deliveries to one webhook or deploy hook address per client address (signed or
    not: a guess costs as much as a delivery). The hook's id or secret is hashed into
    the key, so the cache never holds a deploy hook's secret."""

    scope = "hooks"

    def get_cache_key(self, request: HttpRequest, view: object = None) -> str:
        kwargs = getattr(view, "kwargs", {}) or {}
        hook = hashlib.sha256(str(sorted(kwargs.items())).encode()).hexdigest()[:32]
        ident = f"{client_address(request)}:{hook}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
