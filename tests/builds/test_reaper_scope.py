"""The reaper removes its own installation's leftover build containers, and nothing
else on the engine: not another installation's builds, not containers of other roles."""

import contextlib

import docker
import pytest

from builds import reaper
from builds.models import installation_id
from tests.e2e.conftest import RUNTIME_IMAGE, docker_ready  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.docker, pytest.mark.django_db]


def _container(client, installation: str, role: str, deployment: str = ""):  # type: ignore[no-untyped-def]
    labels = {
        "shipway.managed": "true",
        "shipway.installation": installation,
        "shipway.role": role,
        "shipway.deployment": deployment,
    }
    return client.containers.create(RUNTIME_IMAGE, ["sleep", "60"], labels=labels)


def test_only_this_installations_leftover_builds_are_removed(docker_ready):  # noqa: F811
    client = docker.from_env()
    ours = installation_id()
    leftover = _container(client, ours, "build", "gone")
    theirs = _container(client, "another00000", "build", "gone")
    server = _container(client, ours, "server")
    try:
        reaper.remove_orphan_containers()
        managed = client.containers.list(
            all=True, sparse=True, filters={"label": "shipway.managed=true"}
        )
        remaining = {container.id for container in managed}
        assert leftover.id not in remaining
        assert theirs.id in remaining and server.id in remaining
    finally:
        for container in (leftover, theirs, server):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
