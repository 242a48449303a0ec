"""The web's ASGI server (core/serving.py): the command lines runplatform starts, and
granian serving the platform with the trusted proxies' forwarded headers applied
(core.proxies.ForwardedScope), as uvicorn's --forwarded-allow-ips does."""

from __future__ import annotations

import asyncio
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from core import serving
from core.embedded import free_port
from core.proxies import ForwardedScope
from tests.live import test_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def test_granian_serves_the_application_behind_the_forwarded_headers_middleware() -> None:
    command = serving.web_server_command("granian", host="127.0.0.1", port=8123, workers=3)
    assert command[:3] == [sys.executable, "-m", "granian"]
    assert command[-1] == serving.GRANIAN_APPLICATION == "config.granian_asgi:application"
    assert command[command.index("--interface") + 1] == "asginl"  # no lifespan events
    assert command[command.index("--workers") + 1] == "3"
    assert command[command.index("--port") + 1] == "8123"
    assert "--no-access-log" in command


def test_uvicorn_is_told_the_trusted_proxies(settings) -> None:
    settings.SHIPWAY_TRUSTED_PROXIES = ["10.1.0.0/16"]
    command = serving.web_server_command("uvicorn", host="127.0.0.2", port=80, workers=2)
    assert command[:4] == [sys.executable, "-m", "uvicorn", "config.asgi:application"]
    assert command[command.index("--forwarded-allow-ips") + 1] == "10.1.0.0/16"


def test_an_unknown_server_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown web server 'hypercorn'"):
        serving.web_server_command("hypercorn", host="127.0.0.1", port=1, workers=1)


def test_the_default_server_is_granian_unless_the_environment_says(monkeypatch) -> None:
    monkeypatch.delenv("SHIPWAY_WEB_SERVER", raising=False)
    assert serving.default_web_server() == "granian"
    monkeypatch.setenv("SHIPWAY_WEB_SERVER", "Uvicorn")
    assert serving.default_web_server() == "uvicorn"


def _seen(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope the inner application gets from ForwardedScope."""
    got: dict[str, Any] = {}

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        got.update(scope)

    asyncio.run(ForwardedScope(inner)(scope, None, None))
    return got


def _scope(peer: str, *headers: tuple[bytes, bytes], kind: str = "http") -> dict[str, Any]:
    return {
        "type": kind,
        "scheme": "ws" if kind == "websocket" else "http",
        "client": (peer, "40000"),  # granian gives the port as a string
        "headers": [(b"host", b"example.test"), *headers],
    }


def test_a_trusted_proxys_forwarded_headers_name_the_client_and_scheme(settings) -> None:
    settings.SHIPWAY_TRUSTED_PROXIES = ["127.0.0.1/32", "10.0.0.0/8"]
    seen = _seen(
        _scope(
            "127.0.0.1",
            (b"x-forwarded-for", b"198.51.100.7, 203.0.113.9, 10.2.3.4"),
            (b"x-forwarded-proto", b"https"),
        )
    )
    # The right-most address that is not a trusted proxy: the ones before it are the
    # client's own words.
    assert seen["client"] == ("203.0.113.9", 0)
    assert seen["scheme"] == "https"
    websocket = _seen(
        _scope("10.9.9.9", (b"x-forwarded-proto", b"https"), kind="websocket"),
    )
    assert websocket["scheme"] == "wss"
    assert websocket["client"] == ("10.9.9.9", "40000")  # no X-Forwarded-For: the proxy


def test_anyone_elses_forwarded_headers_change_nothing(settings) -> None:
    settings.SHIPWAY_TRUSTED_PROXIES = ["10.0.0.0/8"]
    scope = _scope(
        "127.0.0.1", (b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https")
    )
    seen = _seen(scope)
    assert seen["client"] == ("127.0.0.1", "40000")
    assert seen["scheme"] == "http"
    assert _seen(_scope("10.0.0.1", (b"x-forwarded-proto", b"gopher")))["scheme"] == "http"


def _get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _serve_granian(log: Path, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = serving.web_server_command("granian", host="127.0.0.1", port=port, workers=1)
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": test_database_url(), **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            _get(port, "/v1/")
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"granian did not answer within 60 s:\n{log.read_text()}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trusted", ["127.0.0.1/32", "10.0.0.0/8"])
def test_granian_serves_the_platform_with_https_only_from_a_trusted_proxy(
    tmp_path, trusted
) -> None:
    """The whole command runplatform starts: behind a trusted proxy that says HTTPS, the
    API's answer carries HSTS (Django saw HTTPS); from anyone else, not."""
    process, port = _serve_granian(
        tmp_path / "granian.log", SHIPWAY_TRUSTED_PROXIES=trusted, SHIPWAY_HSTS_SECONDS="600"
    )
    try:
        answer = _get(port, "/v1/", **{"X-Forwarded-For": "203.0.113.9"})
        assert answer.status == 401  # the API, through Django: sign in first
        assert answer.getheader("server") == "granian"
        assert answer.getheader("strict-transport-security") is None  # plain HTTP
        forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        hsts = _get(port, "/v1/", **forwarded).getheader("strict-transport-security")
        assert hsts == ("max-age=600" if trusted.startswith("127.") else None)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0  # a SIGTERM is a clean stop
