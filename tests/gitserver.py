"""Git over HTTP on loopback, for tests: `git http-backend` behind a tiny threaded server,
and a server that answers every request with a redirect.

Both listen on a 127.0.0.x address only, so no test traffic leaves the machine.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    project_root: Path
    location: str
    requests: list[str]


class _GitBackend(BaseHTTPRequestHandler):
    """Runs `git http-backend` (CGI) for each request: smart HTTP, so shallow fetches work."""

    server: _Server

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def _cgi(self) -> None:
        self.server.requests.append(self.path)
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.project_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_ADDR": self.client_address[0],
        }
        for header in ("Content-Encoding", "Git-Protocol"):
            if self.headers.get(header):
                env[f"HTTP_{header.upper().replace('-', '_')}"] = self.headers[header]
        body = self._body()
        env["CONTENT_LENGTH"] = str(len(body))
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest shows failures, not every request


class _Redirect(BaseHTTPRequestHandler):
    """Answers every request with 301 to `location` + the path asked for."""

    server: _Server

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        self.send_response(301)
        self.send_header("Location", self.server.location + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler], host: str, **attrs: object) -> Iterator[_Server]:
    server = _Server((host, 0), handler)
    server.requests = []
    for name, value in attrs.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def git_http(project_root: Path, host: str = "127.0.0.1") -> Iterator[_Server]:
    """Serve the repositories under `project_root` at http://host:port/<name>."""
    with _serve(_GitBackend, host, project_root=project_root) as server:
        yield server


@contextmanager
def redirecting(location: str, host: str = "127.0.0.1") -> Iterator[_Server]:
    """A server that redirects every request to `location` (no trailing slash)."""
    with _serve(_Redirect, host, location=location) as server:
        yield server


def make_repository(root: Path, name: str, files: dict[str, str | bytes]) -> Path:
    """A bare repository `root/name` whose `main` has one commit with `files`."""
    work = root / f"{name}-work"
    work.mkdir(parents=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }

    def git(*args: str, cwd: Path = work) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    for path, content in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    git("add", ".")
    git("commit", "-q", "-m", "Only commit")
    git("clone", "-q", "--bare", str(work), str(root / name), cwd=root)
    return root / name
