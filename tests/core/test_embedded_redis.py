"""The embedded Redis (core/embedded.py, `make run` and `make test` without REDIS_URL)
asks for a password: generated once and kept under var/ for `runplatform`, fresh for
each test session. Another user on the machine can reach its loopback port, but cannot
read or write it without the password."""

from __future__ import annotations

import os
import stat
from urllib.parse import urlsplit

import pytest
import redis

from core.embedded import EmbeddedRedis


def test_the_embedded_redis_refuses_clients_without_its_password(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis.db")
    url = server.start()
    try:
        parts = urlsplit(url)
        assert parts.password and len(parts.password) >= 32
        assert redis.Redis.from_url(url).ping()
        anonymous = f"redis://{parts.hostname}:{parts.port}/0"
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(anonymous).set("shipway:owned", "1")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(f"redis://:guess@{parts.hostname}:{parts.port}/0").ping()
    finally:
        server.stop()
    another = EmbeddedRedis(tmp_path / "other" / "redis.db")
    try:
        assert urlsplit(another.start()).password != parts.password  # fresh each time
    finally:
        another.stop()


def test_runplatforms_embedded_redis_keeps_its_password_under_var(tmp_path):
    server = EmbeddedRedis.in_var_dir(tmp_path, port=0)
    url = server.start()
    try:
        kept = tmp_path / "redis_password"
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert urlsplit(url).password == kept.read_text().strip()
        assert redis.Redis.from_url(url).ping()
    finally:
        server.stop()
    again = EmbeddedRedis.in_var_dir(tmp_path, port=0)  # a restart: the same password
    try:
        assert urlsplit(again.start()).password == kept.read_text().strip()
    finally:
        again.stop()


def test_a_secret_file_is_never_readable_by_others(tmp_path):
    from core.embedded import secret_from_file

    old = os.umask(0)  # even with a permissive umask
    try:
        secret = secret_from_file(tmp_path / "secret")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
    assert len(secret) >= 32 and secret_from_file(tmp_path / "secret") == secret
