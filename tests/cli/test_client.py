"""The client's rules against a fake platform (httpx.MockTransport): API errors become
their message, a 401 "not authenticated", a log is printed once by offset, and a chunked
upload goes on from what the platform has after a lost answer."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from cli.api import Client
from cli.config import Credentials
from cli.errors import ApiError, NetworkError, NotAuthenticated
from cli.follow import LogPrinter, follow_build, realtime_url
from cli.upload import upload

CREDS = Credentials(url="http://platform.test", token="sw_key")


def client_of(handler) -> Client:  # type: ignore[no-untyped-def]
    return Client(CREDS, httpx.MockTransport(handler))


def test_errors_are_the_apis_message():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer sw_key"
        if request.url.path == "/v1/account":
            return httpx.Response(401, json={"message": "Invalid key.", "code": 401})
        if request.url.path == "/v1/sites/x":
            return httpx.Response(404, json={"message": "Site 'x' not found.", "code": 404})
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(502, text="<html>bad gateway</html>")

    with client_of(handler) as client:
        with pytest.raises(NotAuthenticated, match="Invalid key") as auth:
            client.get("/v1/account")
        assert auth.value.exit_code == 3
        with pytest.raises(ApiError, match="Site 'x' not found") as missing:
            client.get("/v1/sites/x")
        assert (missing.value.status, missing.value.exit_code) == (404, 1)
        with pytest.raises(ApiError, match="answered 502 Bad Gateway"):
            client.get("/elsewhere")
        with pytest.raises(NetworkError, match="Could not reach the platform at http://platform"):
            client.get("/down")


def test_log_pieces_are_printed_once_by_offset():
    log = "line 1\nline 2\nline 3\nline 4\n"

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return httpx.Response(
            200,
            text=log[offset:14],  # the log "so far": two lines
            headers={"X-Log-Offset": str(offset), "X-Deployment-Status": "building"},
        )

    printed: list[str] = []
    with client_of(handler) as client:
        printer = LogPrinter(client, "/logs", printed.append)
        printer.catch_up()
        printer.piece(7, log[7:21])  # overlaps what was fetched
        printer.piece(0, log[0:7])  # already printed
        printer.piece(21, log[21:])
    assert "".join(printed) == log
    assert printer.status == "building"


def test_realtime_url():
    assert realtime_url("https://p.example/base", ["a.b", "a.b.logs"]) == (
        "wss://p.example/base/v1/realtime?channels=a.b&channels=a.b.logs"
    )


class FakeUploads:
    """Chunked uploads as the platform takes them; one answer is lost after the platform
    stored its chunk, and one chunk fails with a 503 before it is stored."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.received = b""
        self.posts = 0
        self.asked = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.asked += 1
            return httpx.Response(200, json={"uploadId": "u1", "sizeReceived": len(self.received)})
        self.posts += 1
        match = re.match(r"bytes (\d+)-(\d+)/(\d+)", request.headers["Content-Range"])
        assert match
        start, end, total = (int(g) for g in match.groups())
        assert total == self.total and start <= len(self.received)
        if self.posts == 3:
            return httpx.Response(503, json={"message": "busy", "code": 503})
        piece = _code_field(request)
        assert len(piece) == end - start + 1
        self.received = self.received[:start] + piece
        if self.posts == 2:
            raise httpx.ReadError("connection reset", request=request)
        if len(self.received) == total:
            return httpx.Response(202, json={"id": "d1", "status": "waiting", "uploadId": "u1"})
        return httpx.Response(
            202, json={"uploadId": "u1", "sizeReceived": len(self.received), "complete": False}
        )


def _code_field(request: httpx.Request) -> bytes:
    body = request.read()
    boundary = request.headers["Content-Type"].split("boundary=")[1].encode()
    for part in body.split(b"--" + boundary):
        if b'name="code"' in part:
            return part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
    raise AssertionError("no code field")


def test_chunked_upload_resumes_from_what_arrived(tmp_path, monkeypatch):
    monkeypatch.setattr("cli.upload.time.sleep", lambda seconds: None)
    archive = tmp_path / "a.tar.gz"
    data = bytes(range(256)) * 20
    archive.write_bytes(data)
    fake = FakeUploads(len(data))
    seen: list[int] = []
    with client_of(fake) as client:
        deployment = upload(client, "s1", archive, size_of_chunk=1000, progress=seen.append)
    assert deployment["id"] == "d1"
    assert fake.received == data
    assert fake.asked == 2  # after the lost answer and after the 503
    assert seen[-1] == len(data)


def test_small_archive_is_one_request(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"x" * 10)

    def handler(request: httpx.Request) -> httpx.Response:
        assert "Content-Range" not in request.headers
        assert b'name="activate"\r\n\r\nfalse' in request.read()
        return httpx.Response(202, json={"id": "d1", "status": "waiting"})

    with client_of(handler) as client:
        assert upload(client, "s1", archive, activate=False)["id"] == "d1"


class FakePlatform:
    """A deployment whose log and status move on each time the log is fetched."""

    def __init__(self, steps: list[tuple[str, str]]) -> None:
        self.steps = steps  # (status, log so far), one per fetch of the log
        self.fetches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status, log = self.steps[min(self.fetches, len(self.steps) - 1)]
        if request.url.path.endswith("/logs"):
            self.fetches += 1
            offset = int(request.url.params["offset"])
            headers = {"X-Log-Offset": str(offset), "X-Deployment-Status": status}
            return httpx.Response(200, text=log[offset:], headers=headers)
        return httpx.Response(200, json={"id": "d1", "status": status, "url": "http://d1"})


class FakeFeed:
    def __init__(self, messages: list[dict]) -> None:
        self.messages = [json.dumps(m) for m in messages]
        self.closed = False

    def recv(self, timeout: float) -> str:
        if not self.messages:
            raise TimeoutError
        return self.messages.pop(0)

    def close(self) -> None:
        self.closed = True


def event(name: str, payload: dict) -> dict:
    return {"type": "event", "data": {"events": [name], "payload": payload}}


def test_follow_prints_the_fetched_log_then_the_streamed_chunks_by_offset(monkeypatch):
    fetched = "one\n"
    platform = FakePlatform([("building", fetched), ("ready", "one\ntwo\nthree\n")])
    feed = FakeFeed(
        [
            # A chunk written before the subscription's log fetch: already printed.
            event("sites.s.deployments.d1.logs.create", {"offset": 0, "text": "one\n"}),
            event("sites.s.deployments.d1.logs.create", {"offset": 4, "text": "two\n"}),
            event("sites.s.deployments.d1.logs.create", {"offset": 8, "text": "three\n"}),
            event("sites.s.deployments.d1.update", {"id": "d1", "status": "ready"}),
        ]
    )
    monkeypatch.setattr("cli.follow.open_feed", lambda client, channels: feed)
    printed: list[str] = []
    with client_of(platform) as client:
        final = follow_build(client, "s", "d1", printed.append)
    assert "".join(printed) == "one\ntwo\nthree\n"
    assert final["status"] == "ready"
    assert platform.fetches == 2  # the log so far, and once more after the end
    assert feed.closed


def test_follow_polls_when_the_feed_cannot_open(monkeypatch):
    platform = FakePlatform(
        [("waiting", ""), ("building", "a\n"), ("building", "a\nb\n"), ("failed", "a\nb\nc\n")]
    )
    monkeypatch.setattr("cli.follow.open_feed", lambda client, channels: None)
    monkeypatch.setattr("cli.follow.time.sleep", lambda seconds: None)
    printed: list[str] = []
    with client_of(platform) as client:
        final = follow_build(client, "s", "d1", printed.append)
    assert "".join(printed) == "a\nb\nc\n"
    assert final["status"] == "failed"
