"""core.events.subscribe: apps above core hear every event sent, and none of them can
make a publisher fail."""

from __future__ import annotations

from typing import Any

import pytest

from core import events


@pytest.fixture
def subscribers(monkeypatch) -> list[Any]:
    """The subscribers, emptied for the test (notify's comes back after)."""
    kept: list[Any] = []
    monkeypatch.setattr(events, "_subscribers", kept)
    return kept


def test_each_subscriber_hears_each_event_once_after_commit(subscribers, db) -> None:
    heard: list[tuple[Any, ...]] = []

    def listen(*event: Any) -> None:
        heard.append(event)

    events.subscribe(listen)
    events.subscribe(listen)  # once, however often
    assert subscribers == [listen]
    events.send(events=["sites.a.update"], channels=["sites.a"], payload={"id": "a"})
    [(names, channels, timestamp, payload)] = heard
    assert (names, channels, payload) == (["sites.a.update"], ["sites.a"], {"id": "a"})
    assert timestamp.endswith("Z")


def test_a_failing_subscriber_fails_neither_the_publisher_nor_the_others(subscribers) -> None:
    heard: list[str] = []

    def broken(*_: Any) -> None:
        raise RuntimeError("a subscriber's bug")

    events.subscribe(broken)
    events.subscribe(lambda names, *_: heard.extend(names))
    events.send(events=["sites.a.delete"], channels=["sites.a"], payload={})  # no exception
    assert heard == ["sites.a.delete"]
