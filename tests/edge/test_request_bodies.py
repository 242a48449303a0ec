"""Request bodies are capped by route ahead of Django (core/limits.py): an anonymous
300 MB POST is refused with 413 after at most its first megabyte or so, not spooled
whole to disk; uploads keep their own, larger limit."""

import json
import os
import select
import socket
from dataclasses import dataclass

import pytest
import requests

from accounts import services as account_services
from tests.archives import tar_gz
from tests.factories import make_site, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = 300 * 1024 * 1024
# What the server can have read of a refused body: its cap (1 MiB here), plus what the
# kernel's socket buffers on both sides hold (a few MB on loopback). Far below HUGE.
READ_AT_MOST = 64 * 1024 * 1024
_PIECE = b"x" * (256 * 1024)  # sent again and again: the test never holds the body


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client managed to hand to the network


def stream_post(
    port: int,
    path: str,
    size: int,
    chunked: bool = False,
    polite: bool = False,
    **headers: str,
) -> Answer:
    """POST `size` bytes of body as a hostile client does: on and on, whatever the server
    answers, until the server closes the connection (or it is all sent). A `polite`
    client (curl, a browser) stops sending once the server has answered."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    headers.setdefault("Host", f"127.0.0.1:{port}")
    try:
        head = [f"POST {path} HTTP/1.1"]
        head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
        head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        while sent < size:
            if polite and select.select([sock], [], [], 0)[0]:
                break  # the server has answered (or closed) already
            piece = _PIECE[: size - sent]
            framed = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            try:
                sock.sendall(framed)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        return _read_answer(sock, sent)
    finally:
        sock.close()


def _read_answer(sock: socket.socket, sent: int) -> Answer:
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            if _ and b"content-length:" in head.lower():
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(rest) >= length:
                    break
    except (ConnectionResetError, TimeoutError):
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), f"no answer (sent {sent} bytes): {data[:200]!r}"
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return Answer(int(lines[0].split()[1]), {k.lower(): v for k, v in fields.items()}, body, sent)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_anonymous_huge_post_to_the_dashboard_is_refused_unread(edge_server, chunked):
    answer = stream_post(edge_server, "/", HUGE, chunked=chunked, Content_Type="text/plain")
    assert answer.status == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert b"too large" in answer.body.lower()
    assert answer.sent < READ_AT_MOST, f"the server took {answer.sent / 2**20:.0f} MB"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_huge_api_body_gets_the_error_envelope(edge_server, chunked):
    answer = stream_post(
        edge_server, "/v1/sites", HUGE, chunked=chunked, Content_Type="application/json"
    )
    assert answer.status == 413
    assert json.loads(answer.body) == {
        "message": "The request body is larger than 1048576 bytes, the most this address takes.",
        "code": 413,
        "type": "request_too_large",
    }
    assert answer.sent < READ_AT_MOST


def test_an_upload_over_the_upload_limit_is_refused_at_once(edge_server):
    answer = stream_post(
        edge_server, "/v1/sites/any/deployments", HUGE, Content_Type="multipart/form-data"
    )
    assert answer.status == 413
    assert json.loads(answer.body)["type"] == "request_too_large"
    assert answer.sent < READ_AT_MOST


def test_the_upload_route_takes_more_than_other_routes(edge_server):
    """Two megabytes: over the 1 MiB of other routes, so Django answering proves the
    upload route has its own limit (anonymous, so DRF's 401)."""
    answer = stream_post(
        edge_server,
        "/v1/sites/any/deployments",
        2 * 1024 * 1024,
        Content_Type="multipart/form-data; boundary=x",
    )
    assert answer.status == 401
    assert answer.sent == 2 * 1024 * 1024


def test_an_upload_within_the_limit_still_deploys(edge_server, live_storage):
    owner = make_user()
    site = make_site(make_team(owner), framework="static")
    _key, secret = account_services.api_key_create(user=owner, name="upload")
    archive = tar_gz({"index.html": "<h1>hi</h1>", "blob.bin": os.urandom(3 * 1024 * 1024)})
    assert len(archive) > 3 * 1024 * 1024  # over the 1 MiB of other routes
    answer = requests.post(
        f"http://127.0.0.1:{edge_server}/v1/sites/{site.id}/deployments",
        headers={"Authorization": f"Bearer {secret}"},
        files={"code": ("site.tar.gz", archive, "application/gzip")},
        data={"activate": "false"},
        timeout=60,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] in ("waiting", "processing", "building", "ready")


def test_small_posts_still_reach_django(edge_server):
    answer = requests.post(
        f"http://127.0.0.1:{edge_server}/v1/sites", json={"name": "x" * 1000}, timeout=30
    )
    assert answer.status_code == 401  # DRF read it, and wants credentials


def test_under_wsgi_too_a_declared_huge_body_is_refused_before_django_reads_it(client):
    """gunicorn (`runplatform --api-port`) calls Django's WSGI handler, which reads a
    body only when asked: the middleware refuses by Content-Length before CSRF does."""
    answer = client.post("/", b"x" * 10, content_type="text/plain", CONTENT_LENGTH=str(HUGE))
    assert answer.status_code == 413
    assert b"too large" in answer.content.lower()
    api = client.post("/v1/sites", b"{}", content_type="application/json", CONTENT_LENGTH=str(HUGE))
    assert api.status_code == 413 and api.json()["type"] == "request_too_large"
    upload = client.post(
        "/v1/sites/any/deployments", b"", content_type="text/plain", CONTENT_LENGTH="2000000"
    )
    assert upload.status_code == 401  # the upload route takes more: DRF answered


@pytest.mark.parametrize("host", ["nosuch.sites.localhost", "evil.example"])
def test_a_huge_post_to_a_site_host_is_not_drained(edge_server, host):
    """The edge answers anything but GET and HEAD with 405 without reading the body; the
    connection is closed rather than the rest of the body read and thrown away."""
    answer = stream_post(edge_server, "/", HUGE, Host=host, Content_Type="text/plain")
    assert answer.status in (404, 405)
    assert answer.sent < READ_AT_MOST, f"the server took {answer.sent / 2**20:.0f} MB"
