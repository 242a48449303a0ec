"""notify/patterns.py and notify/signing.py: which events a webhook wants, the
signature, and when a failed delivery is tried again."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from notify import patterns, signing


@pytest.mark.parametrize(
    ("pattern", "event", "matches"),
    [
        ("sites.*.deployments.*.update", "sites.blog.deployments.d1.update", True),
        ("sites.*.deployments.*.update", "sites.blog.deployments.d1.create", False),
        ("sites.*.deployments.*.update", "sites.blog.update", False),
        # `*` is one segment, never two, never a part of one.
        ("sites.*.update", "sites.blog.deployments.d1.update", False),
        ("sites.blog.*", "sites.blog.delete", True),
        ("sites.blog.*", "sites.blog-2.delete", False),
        ("sites.*.deployments.*.logs.create", "sites.a.deployments.b.logs.create", True),
        ("sites.*.deployments.*.*", "sites.a.deployments.b.logs.create", False),
    ],
)
def test_a_wildcard_stands_for_one_segment(pattern: str, event: str, matches: bool) -> None:
    patterns.check_one(pattern)
    assert bool(patterns.compile_patterns([pattern]).match(event)) is matches


def test_any_pattern_of_a_webhook_matches() -> None:
    wanted = patterns.compile_patterns(["sites.a.update", "sites.*.deployments.*.create"])
    assert wanted.match("sites.a.update")
    assert wanted.match("sites.b.deployments.c.create")
    assert not wanted.match("sites.b.update")
    assert not patterns.compile_patterns([]).match("sites.a.update")


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ([], "at least one"),
        ("sites.*.update", "list"),
        ([7], "non-empty string"),
        ([""], "non-empty string"),
        (["sites.*.deployments.*.updated"], "matches no event"),
        (["sites.*"], "matches no event"),
        (["sites.*.deployments.*.logs.update"], "matches no event"),
        (["sites..update"], "each segment"),
        (["sites.**.update"], "each segment"),
        (["sites.*.UPDATE"], "each segment"),
        (["sites.(.*).update"], "each segment"),
        ([f"sites.s{i}.update" for i in range(21)], "at most 20"),
        ([f"sites.{'a' * 200}.update"], "at most 200"),
    ],
)
def test_refused_patterns_say_why(given: object, says: str) -> None:
    with pytest.raises(patterns.PatternError, match=says):
        patterns.check(given)


def test_duplicates_are_dropped_in_order() -> None:
    assert patterns.check(["sites.*.update", "sites.a.delete", "sites.*.update"]) == [
        "sites.*.update",
        "sites.a.delete",
    ]


def test_the_signature_is_the_hex_hmac_sha256_of_the_exact_body() -> None:
    body = signing.body("sites.a.update", "2026-01-01T00:00:00Z", {"id": "a", "name": "Ä"})
    raw = body.encode()
    want = hmac.new(b"the-secret-value", raw, hashlib.sha256).hexdigest()
    assert signing.signature("the-secret-value", raw) == f"sha256={want}"
    assert signing.verify("the-secret-value", raw, f"sha256={want}")
    assert not signing.verify("another-secret", raw, f"sha256={want}")
    assert not signing.verify("the-secret-value", raw + b" ", f"sha256={want}")


def test_backoff_doubles_from_the_base_plus_up_to_a_quarter_of_jitter() -> None:
    rng = random.Random(15)
    for attempt in range(1, 8):
        delay = 10 * 2 ** (attempt - 1)
        for _ in range(50):
            got = signing.backoff(attempt, base=10, rng=rng)
            assert delay <= got <= delay * 1.25
    # The jitter really varies (two retries of one attempt need not coincide).
    assert len({signing.backoff(3, base=10, rng=rng) for _ in range(20)}) > 1


def test_backoff_is_capped_under_the_brokers_visibility_timeout() -> None:
    assert signing.backoff(30, base=10) == signing.MAX_BACKOFF
    assert signing.backoff(1, base=0.01, rng=random.Random(1)) <= 0.0125
