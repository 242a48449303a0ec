"""Guessing API keys, and minting realtime tokens, are rate limited (DRF throttles)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from tests.factories import api_client, make_user

pytestmark = pytest.mark.django_db

KEY_FAILURES = 30  # SHIPWAY_API_KEY_FAILURES_RATE's default: 30/minute per address
TOKENS = 30  # SHIPWAY_REALTIME_TOKENS_RATE's default: 30/minute per user


def with_key(secret: str, address: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_guessing_api_keys_is_throttled_per_address() -> None:
    address = "203.0.113.40"
    for n in range(KEY_FAILURES):
        guess = with_key(f"sw_guess{n}", address).get("/v1/sites")
        assert guess.status_code == 401, guess.json()
    refused = with_key("sw_one-more-guess", address).get("/v1/sites")
    assert refused.status_code == 429
    body = refused.json()
    assert body["type"] == "rate_limited" and body["code"] == 429
    assert "API key" in body["message"]
    assert int(refused["Retry-After"]) > 0
    # A real key from that address waits too: otherwise the guessing would go on.
    _key, secret = api_key_create(user=make_user(), name="real")
    assert with_key(secret, address).get("/v1/sites").status_code == 429
    # Other addresses are not affected.
    assert with_key(secret, "203.0.113.41").get("/v1/sites").status_code == 200
    assert with_key("sw_wrong", "203.0.113.41").get("/v1/sites").status_code == 401


def test_successful_keys_do_not_count_towards_the_limit() -> None:
    _key, secret = api_key_create(user=make_user(), name="busy")
    client = with_key(secret, "203.0.113.42")
    for _ in range(KEY_FAILURES + 5):
        assert client.get("/v1/account").status_code == 200


def test_realtime_tokens_are_throttled_per_user() -> None:
    user = make_user()
    client = api_client(user)
    for _ in range(TOKENS):
        assert client.post("/v1/realtime/tokens").status_code == 201
    refused = client.post("/v1/realtime/tokens")
    assert refused.status_code == 429
    assert refused.json()["type"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0
    # Someone else still gets one.
    assert api_client(make_user()).post("/v1/realtime/tokens").status_code == 201
