"""A site id is free again once its site is deleted: nothing of the old site's builds
reaches whoever creates a site with that id next."""

import time

import docker
import pytest

from builds.runners.docker import cache_volume_name
from sites.services import site_delete
from tests.e2e.helpers import deploy, log_of, wait_for
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

# The build writes into HOME, which the build cache keeps between builds of a site.
PLANT = 'echo "planted by $SHIPWAY_DEPLOYMENT_ID" > "$HOME/.npmrc"; mkdir out; echo ok > out/x.html'
LOOK = 'cat "$HOME/.npmrc" 2>/dev/null || echo "no npmrc"; mkdir out; echo ok > out/x.html'


def _site(owner, site_id: str, command: str):  # type: ignore[no-untyped-def]
    return make_site(
        make_team(owner),
        site_id=site_id,
        framework="other",
        install_command="true",  # the cache is mounted for sites that install
        build_command=command,
        output_directory="out",
    )


def test_a_reused_site_id_gets_a_fresh_build_cache(worker):
    first_owner = make_user()
    first = _site(first_owner, "docs", PLANT)
    planted = wait_for(deploy(api_client(first_owner), first, {"README.md": "a"}))
    assert planted.status == "ready", log_of(api_client(first_owner), planted)
    volume = cache_volume_name(first.uid.hex)
    engine = docker.from_env()
    assert engine.volumes.get(volume)

    site_delete(site=first)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and engine.volumes.list(filters={"name": volume}):
        time.sleep(0.2)
    assert not engine.volumes.list(filters={"name": volume}), "the deleted site's cache stayed"

    second_owner = make_user()
    second = _site(second_owner, "docs", LOOK)
    looked = wait_for(deploy(api_client(second_owner), second, {"README.md": "b"}))
    log = log_of(api_client(second_owner), looked)
    assert looked.status == "ready", log
    assert "no npmrc" in log and "planted" not in log
