"""Which events a webhook wants: realtime event names with `*` for one segment.

Events are named by their channel and what happened (core/channels.py):
`sites.{siteId}.update`, `sites.{siteId}.deployments.{deploymentId}.create`,
`sites.{siteId}.deployments.{deploymentId}.logs.create`, ... A pattern is such a name in
which any segment may be `*`, which matches exactly one segment (never a dot). A
pattern that no event could ever match (a misspelt segment, one segment too many) is
refused when the webhook is saved, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

MAX_PATTERNS = 20
MAX_PATTERN_LENGTH = 200
WILDCARD = "*"
_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_ID = "{id}"  # a slot any id fills
_ACTIONS = ("create", "update", "delete")
# The shapes of every event the platform sends, segment by segment.
_SHAPES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("sites",), (_ID,), _ACTIONS),
    (("sites",), (_ID,), ("deployments",), (_ID,), _ACTIONS),
    (("sites",), (_ID,), ("deployments",), (_ID,), ("logs", "runtime-logs"), ("create",)),
)


class PatternError(ValueError):
    """A pattern that is refused; the message says why, in words."""


def check(patterns: object) -> list[str]:
    """The patterns, if they are a list of 1 to MAX_PATTERNS valid ones (duplicates
    dropped, order kept); PatternError otherwise."""
    if not isinstance(patterns, list) or not patterns:
        raise PatternError("Give a list of at least one event name.")
    if len(patterns) > MAX_PATTERNS:
        raise PatternError(f"A webhook takes at most {MAX_PATTERNS} event names.")
    for pattern in patterns:
        check_one(pattern)
    return list(dict.fromkeys(patterns))


def check_one(pattern: object) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise PatternError("Each event name is a non-empty string.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"An event name has at most {MAX_PATTERN_LENGTH} characters.")
    segments = pattern.split(".")
    for segment in segments:
        if segment != WILDCARD and not _SEGMENT.match(segment):
            raise PatternError(
                f"'{pattern}': each segment is '*' or lowercase letters, digits and '-' "
                "(e.g. sites.*.deployments.*.update)."
            )
    if not any(_fits(segments, shape) for shape in _SHAPES):
        raise PatternError(
            f"'{pattern}' matches no event: events are sites.{{siteId}}.{{create|update|delete}}, "
            "sites.{siteId}.deployments.{deploymentId}.{create|update|delete} and "
            "sites.{siteId}.deployments.{deploymentId}.{logs|runtime-logs}.create."
        )


def _fits(segments: Sequence[str], shape: tuple[tuple[str, ...], ...]) -> bool:
    if len(segments) != len(shape):
        return False
    return all(
        segment == WILDCARD or _ID in slot or segment in slot
        for segment, slot in zip(segments, shape, strict=True)
    )


def compile_patterns(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regular expression that matches an event name if any pattern does."""
    alternatives = [
        r"\.".join("[^.]+" if s == WILDCARD else re.escape(s) for s in p.split("."))
        for p in patterns
    ]
    if not alternatives:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile("^(?:" + "|".join(alternatives) + ")$")
