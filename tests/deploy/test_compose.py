"""compose.yaml, for real: the stack comes up from locally built images, and a site
uploaded through Caddy is built by the worker and served by Caddy.

No image can be pulled here, so the images compose.yaml names by variable are stand-ins
(deploy/offline/: postgres, redis, caddy from Debian's packages) and Shipway's own
(Dockerfile, its wheels built on this machine), all on a base made by `docker import` of
the runtime images' cached debootstrap tarball. Each is tagged by a hash of what went
into it, so a second run builds nothing. The project name is this run's own; `down -v`
removes its containers, networks and volumes whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest

from builds import runtimes
from tests.archives import tar_gz

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = ROOT / "deploy" / "offline"
REPOSITORY = "shipway-compose-test"
RUNTIME_IMAGE = "shipway/runtime:node-22"
PLATFORM_HOST = "shipway.localhost"
SITES_DOMAIN = "sites.localhost"
PAGE = "<!doctype html><title>compose</title><h1>Served through Caddy</h1>"
# What the Shipway image's context holds (the Dockerfile's COPY sources).
CONTEXT_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "var", "__pycache__", "*.pyc", ".*_cache", "node_modules", "*.egg-info"
)
# What of the Python prefix the Python image leaves out (its packages come as wheels).
PYTHON_IGNORE = shutil.ignore_patterns(
    "site-packages", "test", "idlelib", "tkinter", "turtledemo", "__pycache__", "*.a"
)
CONTEXT_ENTRIES = (
    "Dockerfile",
    "manage.py",
    "pyproject.toml",
    "README.md",
    "cli",
    "config",
    "core",
    "accounts",
    "sites",
    "deployments",
    "notify",
    "usage",
    "builds",
    "edge",
    "realtime",
    "dashboard",
    "runtime",
    "templates",
    "static",
    "deploy",
)


def _problem() -> str | None:
    for tool, package in (("docker-compose", "docker-compose"), ("curl", "curl")):
        if not shutil.which(tool):
            return f"{tool} is not installed (apt-get install {package})"
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:
        return f"no Docker engine answers ({exc.__class__.__name__}: {exc})"
    try:
        client.images.get(RUNTIME_IMAGE)  # the site's build runs in it
    except Exception:
        return f"the runtime image {RUNTIME_IMAGE} is missing (make runtimes)"
    return None


@pytest.fixture(scope="module")
def compose_ready() -> None:
    problem = _problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {problem}")
        pytest.skip(problem)


def _run(*command: str, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _tree_digest(root: Path) -> bytes:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.digest()


def _image(client: docker.DockerClient, name: str, tag: str, build) -> str:  # type: ignore[no-untyped-def]
    """`REPOSITORY:name-tag`, built by `build(ref)` unless it exists; older tags of the
    same name are removed once the new one is there."""
    ref = f"{REPOSITORY}:{name}-{tag}"
    if not client.images.list(name=ref):
        build(ref)
        for image in client.images.list(name=REPOSITORY):
            for old in image.tags:
                if old.startswith(f"{REPOSITORY}:{name}-") and old != ref:
                    client.images.remove(old, noprune=False)
    return ref


def _build(ref: str, dockerfile: Path, context: Path, base: str) -> None:
    _run(
        "docker", "build", "--quiet", "--force-rm", "-t", ref, "-f", str(dockerfile),
        "--build-arg", f"SHIPWAY_BASE_IMAGE={base}", str(context),
    )  # fmt: skip


@pytest.fixture(scope="module")
def images(compose_ready, tmp_path_factory) -> dict[str, str]:
    """The four images compose.yaml runs, built here (once per content)."""
    client = docker.from_env(timeout=600)
    cache = runtimes.default_cache_dir()
    tarball = runtimes.base_rootfs(cache, print)  # made once by `runtimes build`
    stat = tarball.stat()

    def import_base(ref: str) -> None:
        _run("docker", "import", str(tarball), ref)

    base = _image(
        client, "base", _digest(f"{tarball.name}:{stat.st_size}:{stat.st_mtime}".encode()),
        import_base,
    )  # fmt: skip
    refs = {"base": base}
    offline = _digest(base.encode(), _tree_digest(OFFLINE))

    def stand_in(name: str) -> str:  # their Dockerfiles name Debian packages
        dockerfile = OFFLINE / f"{name}.Dockerfile"
        return _image(client, name, offline, lambda ref: _build(ref, dockerfile, OFFLINE, base))

    # Built side by side with the Python and Shipway images (most of it is apt's waiting).
    pool = ThreadPoolExecutor(max_workers=3)
    stand_ins = {name: pool.submit(stand_in, name) for name in ("postgres", "redis", "caddy")}

    # The Python image: this very Python (the wheels below are resolved for it), copied
    # onto the base; Debian bookworm's own is too old (deploy/offline/python.Dockerfile).
    prefix = Path(sys.base_prefix)
    if not hasattr(tarfile, "data_filter") or prefix in (Path("/usr"), Path("/")):
        pytest.fail(
            f"the Python image is made from this Python ({prefix}, {sys.version.split()[0]}): "
            "it must be 3.11.4 or later and installed in a prefix of its own (e.g. pyenv)"
        )

    def build_python(ref: str) -> None:
        context = tmp_path_factory.mktemp("python-image")
        shutil.copy2(OFFLINE / "python.Dockerfile", context / "Dockerfile")
        shutil.copytree(prefix, context / "python", symlinks=True, ignore=PYTHON_IGNORE)
        _build(ref, context / "Dockerfile", context, base)

    python_tag = _digest(
        base.encode(), (OFFLINE / "python.Dockerfile").read_bytes(),
        f"{prefix}:{sys.version}".encode(),
    )  # fmt: skip
    python = refs["python"] = _image(client, "python", python_tag, build_python)

    context = tmp_path_factory.mktemp("shipway-image")
    for entry in CONTEXT_ENTRIES:
        source = ROOT / entry
        if source.is_dir():
            shutil.copytree(source, context / entry, ignore=CONTEXT_IGNORE)
        else:
            shutil.copy2(source, context / entry)
    for wheel in (context / "deploy" / "wheels").glob("*.whl"):
        wheel.unlink()
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    tag = _digest(python.encode(), _tree_digest(context))

    def build_shipway(ref: str) -> None:
        # The wheels, made on this machine (which reaches PyPI; a build container may
        # not) once per pyproject.toml, and kept beside the runtime images' cache.
        wheels = cache / f"compose-wheels-{_digest(pyproject)}"
        if not wheels.is_dir():
            project = tmp_path_factory.mktemp("project")
            shutil.copy2(ROOT / "pyproject.toml", project)
            shutil.copy2(ROOT / "README.md", project)
            shutil.copytree(ROOT / "cli", project / "cli")  # the package pyproject installs
            partial = wheels.with_suffix(".partial")
            shutil.rmtree(partial, ignore_errors=True)
            _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(partial),
                 str(project))  # fmt: skip
            partial.replace(wheels)
        for wheel in wheels.glob("*.whl"):
            shutil.copy2(wheel, context / "deploy" / "wheels")
        _build(ref, context / "Dockerfile", context, python)

    refs["shipway"] = _image(client, "shipway", tag, build_shipway)
    for name, future in stand_ins.items():
        refs[name] = future.result()
    pool.shutdown()
    return refs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    def __init__(self, project: str, env_file: Path, https_port: int) -> None:
        self.project = project
        self.env_file = env_file
        self.https_port = https_port

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return _run(
            "docker-compose", "-f", str(ROOT / "compose.yaml"), "--project-directory",
            str(ROOT), "--env-file", str(self.env_file), "-p", self.project, *args,
            timeout=timeout,
        )  # fmt: skip

    def logs(self) -> str:
        try:
            return self.compose("logs", "--no-color", "--tail", "60").stdout
        except AssertionError as exc:
            return str(exc)

    def curl(self, host: str, path: str, *args: str) -> str:
        """A request through Caddy, over HTTPS with the host's name (Caddy's own CA)."""
        return _run(
            "curl", "-sS", "-k", "--max-time", "30", "--resolve",
            f"{host}:{self.https_port}:127.0.0.1", *args,
            f"https://{host}:{self.https_port}{path}",
        ).stdout  # fmt: skip

    def api(self, key: str, path: str, *args: str) -> dict:  # type: ignore[type-arg]
        out = self.curl(PLATFORM_HOST, path, "-H", f"Authorization: Bearer {key}", *args)
        try:
            return json.loads(out)
        except ValueError as exc:
            raise AssertionError(f"{path} answered {out[:2000]!r}") from exc

    def wait_healthy(self, services: tuple[str, ...], timeout: float) -> None:
        client = docker.from_env()
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            label = f"com.docker.compose.project={self.project}"
            for container in client.containers.list(all=True, filters={"label": label}):
                service = container.labels.get("com.docker.compose.service", "")
                state = container.attrs["State"]
                states[service] = state.get("Health", {}).get("Status") or state["Status"]
            if all(states.get(s) == "healthy" for s in services):
                return
            time.sleep(1)
        raise AssertionError(f"not healthy after {timeout} s: {states}\n{self.logs()}")


@pytest.fixture
def stack(images, tmp_path) -> Iterator[Stack]:
    project = f"shipwaytest{os.getpid()}{secrets.token_hex(3)}"
    https_port = _free_port()
    socket_path = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    env = {
        "SHIPWAY_IMAGE": images["shipway"],
        "SHIPWAY_POSTGRES_IMAGE": images["postgres"],
        "SHIPWAY_REDIS_IMAGE": images["redis"],
        "SHIPWAY_CADDY_IMAGE": images["caddy"],
        "SHIPWAY_BASE_IMAGE": images["python"],
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "REDIS_PASSWORD": secrets.token_hex(16),
        "SECRET_KEY": secrets.token_hex(32),
        "SHIPWAY_ENCRYPTION_KEY": secrets.token_hex(32),
        "SHIPWAY_DOMAIN": PLATFORM_HOST,
        "SITES_DOMAIN": SITES_DOMAIN,
        "SHIPWAY_PLATFORM_TLS": "shipway_tls_internal",
        "SHIPWAY_HTTP_PORT": str(_free_port()),
        "SHIPWAY_HTTPS_PORT": str(https_port),
        "SHIPWAY_DOCKER_SOCKET": socket_path.removeprefix("unix://"),
        "SHIPWAY_WEB_WORKERS": "1",
        "SHIPWAY_WORKER_CONCURRENCY": "1",
    }
    env_file = tmp_path / "shipway.env"
    env["SHIPWAY_ENV_FILE"] = str(env_file)
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    s = Stack(project, env_file, https_port)
    try:
        yield s
    finally:
        s.compose("down", "-v", "--remove-orphans", "--timeout", "10", timeout=180)


def _say(started: float, what: str) -> None:
    """Where the time goes (shown with -s, or when the test fails)."""
    print(f"[compose {time.monotonic() - started:6.1f} s] {what}", flush=True)


def test_compose_stack_serves_an_uploaded_site(stack: Stack, tmp_path) -> None:
    started = time.monotonic()
    # The file is valid and its images are the variables' (the stand-ins built here).
    config = stack.compose("config").stdout
    assert f"image: {REPOSITORY}:caddy-" in config, config
    assert "service_healthy" in config

    _say(started, "config")
    stack.compose("up", "-d", "--no-build", timeout=300)
    _say(started, "up")
    stack.wait_healthy(("postgres", "redis", "web", "caddy"), timeout=240)
    _say(started, "healthy")

    # One exec (each costs seconds): the user, and an API key whose secret is printed.
    make_key = (
        "from django.contrib.auth import get_user_model; "
        "from accounts.services import api_key_create; "
        "user = get_user_model().objects.create_user('deployer', 'deployer@example.com'); "
        "print('KEY=' + api_key_create(user=user, name='compose')[1])"
    )
    out = stack.compose("exec", "-T", "web", "python", "manage.py", "shell", "-c", make_key)
    key = next(line[4:] for line in out.stdout.splitlines() if line.startswith("KEY="))

    team = stack.api(key, "/v1/teams", "-H", "Content-Type: application/json",
                     "-d", json.dumps({"teamId": "crew", "name": "Crew"}))  # fmt: skip
    assert team.get("id") == "crew", team
    site = stack.api(key, "/v1/sites", "-H", "Content-Type: application/json", "-d",
                     json.dumps({"siteId": "hello", "name": "Hello", "teamId": "crew",
                                 "framework": "static"}))  # fmt: skip
    assert site.get("id") == "hello", site

    _say(started, "user, key, team and site")
    archive = tmp_path / "site.tar.gz"
    archive.write_bytes(tar_gz({"index.html": PAGE}))
    deployment = stack.api(
        key, "/v1/sites/hello/deployments", "-F", f"code=@{archive}", "-F", "activate=true"
    )
    assert deployment.get("status") in {"waiting", "processing", "building"}, deployment

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        deployment = stack.api(key, f"/v1/sites/hello/deployments/{deployment['id']}")
        if deployment["status"] in {"ready", "failed", "canceled"}:
            break
        time.sleep(1)
    if deployment["status"] != "ready":
        log = stack.curl(
            PLATFORM_HOST, f"/v1/sites/hello/deployments/{deployment['id']}/logs",
            "-H", f"Authorization: Bearer {key}",
        )  # fmt: skip
        raise AssertionError(f"{deployment}\n{log}\n{stack.logs()}")

    _say(started, f"deployment {deployment['status']}")
    deadline = time.monotonic() + 30
    while True:
        page = stack.curl(f"hello.{SITES_DOMAIN}", "/")
        if PAGE in page or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert PAGE in page, page
    _say(started, "served")
