"""Runtime images: the catalog, and - with a real Docker engine - that the node-20 image
runs node and npm as a non-root user with every capability dropped, and reaches the npm
registry through the (re-signed) TLS."""

from __future__ import annotations

import dataclasses
import io
import os
import re

import pytest
from django.core.management import CommandError, call_command

from builds.runtimes import (
    BUILDER_UID,
    build_runtime_image,
    host_debian_mirror,
    list_runtimes,
    registry_dockerfile,
)
from sites.runtimes import IMAGE_RECIPE, RUNTIMES, Runtime, UnknownRuntime, get_runtime

IMAGE = "shipway/runtime:node-20"


# --- the catalog --------------------------------------------------------------------


def test_catalog_names_node_18_20_22_with_their_images() -> None:
    assert list(RUNTIMES) == ["node-18", "node-20", "node-22"]
    for major in (18, 20, 22):
        runtime = get_runtime(f"node-{major}")
        assert runtime.major == major
        assert runtime.image == f"shipway/runtime:node-{major}"
        # No management label on the image: its containers would inherit it.
        assert runtime.labels == {
            "shipway.runtime": f"node-{major}",
            "shipway.runtime-recipe": IMAGE_RECIPE,
        }
        assert runtime.registry_base == f"node:{major}-bookworm-slim"


def test_catalog_entries_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_runtime("node-20").major = 21  # type: ignore[misc]


@pytest.mark.parametrize("name", ["node-99", "node", "NODE-20", ""])
def test_unknown_runtime_names_the_known_ones(name: str) -> None:
    with pytest.raises(UnknownRuntime) as caught:
        get_runtime(name)
    assert f"'{name}' is not a known runtime" in str(caught.value)
    assert "node-18, node-20, node-22" in str(caught.value)
    assert isinstance(caught.value, ValueError)  # model validators catch ValueError


def test_building_an_unknown_runtime_fails_before_anything_is_built() -> None:
    with pytest.raises(UnknownRuntime):
        build_runtime_image("node-99", log=lambda line: None)


def test_building_with_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError, match="source must be one of"):
        build_runtime_image("node-20", source="ftp", log=lambda line: None)


def test_command_refuses_an_unknown_name() -> None:
    with pytest.raises(CommandError, match="'node-99' is not a known runtime"):
        call_command("runtimes", "build", "node-20", "node-99")


def test_registry_dockerfile_sets_user_workdir_env_and_labels() -> None:
    text = registry_dockerfile(get_runtime("node-22"), with_ca_bundle=True)
    assert text.startswith("FROM node:22-bookworm-slim\n")
    assert f"useradd --uid {BUILDER_UID}" in text
    assert "COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt" in text
    assert 'NODE_EXTRA_CA_CERTS="/etc/ssl/certs/ca-certificates.crt"' in text
    assert 'npm_config_update_notifier="false"' in text
    assert '"shipway.runtime"="node-22"' in text
    assert text.rstrip().splitlines()[-3:] == [
        "USER builder",
        "WORKDIR /workspace",
        'CMD ["/bin/sh"]',
    ]
    assert "COPY" not in registry_dockerfile(get_runtime("node-22"), with_ca_bundle=False)


# --- the Debian mirror debootstrap uses -----------------------------------------------


def test_mirror_comes_from_apt_deb822_sources(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SHIPWAY_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n"
        "URIs: http://mirror.example/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n"
        "\n"
        "Types: deb\n"
        "# a comment\n"
        "URIs: http://mirror.example/debian/\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
    )
    assert host_debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_mirror_comes_from_one_line_sources_and_skips_disabled_ones(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SHIPWAY_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://one.example/debian "
        "bookworm main\n"
    )
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "off.sources").write_text(
        "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n"
    )
    assert host_debian_mirror(tmp_path) == "https://one.example/debian"


def test_mirror_falls_back_to_deb_debian_org_and_env_wins(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SHIPWAY_DEBIAN_MIRROR", raising=False)
    assert host_debian_mirror(tmp_path) == "http://deb.debian.org/debian"
    monkeypatch.setenv("SHIPWAY_DEBIAN_MIRROR", "http://env.example/debian")
    assert host_debian_mirror(tmp_path) == "http://env.example/debian"


# --- the real image -------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_client():
    """A Docker client; skips without an engine, except under CI=true where it fails."""
    import docker

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except Exception as exc:
        reason = f"no Docker engine answers ({exc.__class__.__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return client


@pytest.fixture(scope="module")
def node20(docker_client) -> Runtime:
    """The node-20 runtime, its image built first if it is missing."""
    from docker.errors import ImageNotFound

    runtime = get_runtime("node-20")
    try:
        docker_client.images.get(runtime.image)
    except ImageNotFound:
        build_runtime_image(runtime, client=docker_client, log=print)
    return runtime


def run_locked_down(client, image: str, script: str, network: bool = False) -> tuple[int, str]:
    """Run `script` as the image's user, as builds run: every capability dropped,
    no-new-privileges, 1 CPU, 1 GB, 512 pids. Exit status and output."""
    container = client.containers.run(
        image,
        ["/bin/sh", "-c", script],
        detach=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        nano_cpus=1_000_000_000,
        mem_limit="1g",
        pids_limit=512,
        network_disabled=not network,
    )
    try:
        status = container.wait(timeout=300)["StatusCode"]
        return status, container.logs(stdout=True, stderr=True).decode()
    finally:
        container.remove(force=True)


@pytest.mark.docker
def test_node_and_npm_run_as_non_root_without_capabilities(docker_client, node20) -> None:
    status, output = run_locked_down(
        docker_client,
        node20.image,
        "id -u; id -un; pwd; grep CapEff /proc/self/status; node --version; npm --version; "
        "npx --version; touch /workspace/x && touch $HOME/y && echo writable",
    )
    assert status == 0, output
    lines = output.split("\n")
    assert lines[0] == str(BUILDER_UID)
    assert lines[1] == "builder"
    assert lines[2] == "/workspace"
    assert re.fullmatch(r"CapEff:\s+0+", lines[3]), lines[3]
    assert re.fullmatch(r"v20\.\d+\.\d+", lines[4]), lines[4]
    assert re.fullmatch(r"10\.\d+\.\d+", lines[5]), lines[5]
    assert re.fullmatch(r"10\.\d+\.\d+", lines[6]), lines[6]
    assert lines[7] == "writable"


@pytest.mark.docker
def test_npm_reaches_the_registry_through_tls(docker_client, node20) -> None:
    status, output = run_locked_down(
        docker_client, node20.image, "npm view is-number version", network=True
    )
    assert status == 0, output
    assert re.fullmatch(r"\d+\.\d+\.\d+", output.strip()), output


@pytest.mark.docker
def test_image_carries_labels_user_workdir_and_environment(docker_client, node20) -> None:
    config = docker_client.images.get(node20.image).attrs["Config"]
    assert "shipway.managed" not in config["Labels"]
    assert config["Labels"]["shipway.runtime"] == "node-20"
    assert config["Labels"]["shipway.runtime-recipe"] == IMAGE_RECIPE
    assert config["User"] == "builder"
    assert config["WorkingDir"] == "/workspace"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["HOME"] == "/home/builder"
    assert env["NODE_EXTRA_CA_CERTS"] == "/etc/ssl/certs/ca-certificates.crt"
    assert env["PATH"].startswith("/usr/local/bin:")
    for key in ("npm_config_update_notifier", "npm_config_fund", "npm_config_audit"):
        assert env[key] == "false"


@pytest.mark.docker
def test_list_and_missing_only_see_the_present_image(docker_client, node20) -> None:
    row = next(r for r in list_runtimes(docker_client) if r.name == "node-20")
    assert row.present and row.current
    assert row.image == IMAGE
    assert row.size and row.size > 50_000_000
    assert row.created is not None
    assert row.node_version and row.node_version.startswith("20.")

    out = io.StringIO()
    call_command("runtimes", "list", stdout=out)
    listed = {line.split()[0]: line for line in out.getvalue().splitlines()[1:]}
    assert set(listed) == set(RUNTIMES)
    assert "present" in listed["node-20"]

    out = io.StringIO()
    call_command("runtimes", "build", "node-20", "--missing-only", stdout=out)
    assert "node-20: shipway/runtime:node-20 is present; skipped" in out.getvalue()
