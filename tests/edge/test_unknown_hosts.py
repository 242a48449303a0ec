"""The dashboard and admin answer only on the platform's own hosts: any other name pointed
at the server (phishing, DNS rebinding against a laptop) gets the edge's plain 404."""

import socket

import pytest

from core import pages

pytestmark = pytest.mark.django_db(transaction=True)

FOREIGN = ["evil.example", "EVIL.example:443", "evil.example.", "10.9.8.7", "[2001:db8::1]:80"]


@pytest.mark.parametrize("host", FOREIGN)
def test_a_foreign_host_gets_the_edges_404_not_the_platform(edge, host):
    for path in ["/admin/login/", "/", "/accounts/login/", "/v1/sites"]:
        answer = edge.get(host, path)
        assert (path, answer.status) == (path, 404)
        assert answer.body == pages.NO_SITE
        assert answer.getheader("set-cookie") is None  # no session or CSRF cookie either


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_the_platforms_own_hosts_still_answer(edge, host):
    answer = edge.get(f"{host}:{edge.port}", "/admin/login/")
    assert answer.status == 200
    assert b"csrfmiddlewaretoken" in answer.body


def _handshake(port: int, host: str) -> bytes:
    """The status line of a websocket handshake for the realtime feed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            (
                "GET /v1/realtime HTTP/1.1\r\n"
                f"Host: {host}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                "\r\n"
            ).encode()
        )
        return sock.recv(4096).split(b"\r\n", 1)[0]


def test_the_realtime_feed_refuses_foreign_hosts(edge):
    assert b" 101 " in _handshake(edge.port, f"127.0.0.1:{edge.port}") + b" "
    assert b" 403 " in _handshake(edge.port, "evil.example") + b" "


def test_django_itself_allows_only_the_platform_hosts(client):
    """Behind the edge too (a WSGI process, tests' client): not ALLOWED_HOSTS = *."""
    assert client.get("/admin/login/", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/admin/login/", HTTP_HOST="localhost").status_code == 200
