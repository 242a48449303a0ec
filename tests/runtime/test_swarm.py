"""Servers as Docker Swarm services (runtime/schedulers/swarm.py) on a single-node swarm of
a private `dockerd` (tests/netns.py's Engine): its own data and exec roots, inside a
network namespace of its own (reached over a veth pair), so that every interface the
swarm makes (docker_gwbridge, ingress, the overlay) stays in there and goes with it; the
machine's engine is untouched but for `docker save` of the runtime image. The ssr site
is served through the real edge while activations, whose servers a real worker starts as
services, switch it from one deployment to the next without a failed request."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from deployments import services
from deployments.models import RuntimeState, Server
from deployments.selectors import server_log_from
from runtime import manager
from runtime.schedulers import get_scheduler
from runtime.schedulers.base import SchedulerError
from runtime.schedulers.swarm import image_name
from sites.models import Site
from tests.e2e.conftest import (
    RUNTIME_IMAGE,
    live_database_env,  # noqa: F401  (a fixture)
    start_worker,
    stop_worker,
)
from tests.e2e.test_ssr_sites import fetch
from tests.netns import Engine, Namespace
from tests.runtime.conftest import EXITS_JS, get, server_of, started

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

NETWORK = "shipway-sites-test"


@dataclass
class Swarm:
    url: str  # the private engine's socket
    address: str  # its node's address (inside the namespace)
    client: docker.DockerClient


def _problem() -> str | None:
    if os.geteuid() != 0:
        return "a private dockerd in a network namespace needs root"
    for tool in ("dockerd", "ip", "docker"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


@pytest.fixture(scope="module")
def swarm(docker_ready) -> Iterator[Swarm]:
    """A single-node swarm of a private engine in its namespace, the node labelled as a
    runtime node, the runtime image copied in; all of it gone afterwards."""
    problem = _problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {problem}")
        pytest.skip(problem)
    network = Namespace().open()
    # Short: socket paths; a suffix: another run's engine of the same pid number.
    engine = Engine(network, Path(f"/tmp/shipway-sw{os.getpid()}-{secrets.token_hex(2)}"))
    try:
        engine.start([RUNTIME_IMAGE])
        client = docker.DockerClient(base_url=engine.host, version="auto", timeout=60)
        client.swarm.init(advertise_addr=network.address, listen_addr=f"{network.address}:2377")
        node = client.nodes.list()[0]
        spec = node.attrs["Spec"]
        spec["Labels"] = {"shipway.runtime": "true"}  # the default placement constraint
        node.update(spec)
        yield Swarm(url=engine.host, address=network.address, client=client)
    finally:
        engine.stop()  # its data root, and the swarm's state with it, is deleted
        network.close()


@pytest.fixture
def on_swarm(swarm, settings, transactional_db) -> Iterator[Swarm]:
    """The swarm as the scheduler; afterwards (before the database is flushed) its
    services go and their followers end."""
    settings.SHIPWAY_SSR_SCHEDULER = "swarm"
    settings.SHIPWAY_SWARM_DOCKER_HOST = swarm.url
    settings.SHIPWAY_SWARM_NETWORK = NETWORK
    settings.SHIPWAY_SWARM_REGISTRY = ""
    yield swarm
    for service in swarm.client.services.list():
        with contextlib.suppress(docker.errors.APIError):
            service.remove()
    deadline = time.monotonic() + 15
    while any(
        t.name.startswith("server-log-") and t.name != "server-log-keeper"
        for t in threading.enumerate()
    ):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)


def _wait(condition, what: str, limit: float = 20) -> None:  # type: ignore[no-untyped-def]
    # A bound on a hang, not a timing assertion: the condition is what is tested.
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def _services_of(swarm: Swarm, deployment_id: str) -> list:  # type: ignore[type-arg]
    labels = [f"shipway.deployment={deployment_id}", "shipway.role=server"]
    return swarm.client.services.list(filters={"label": labels})


def test_a_server_runs_as_a_locked_down_service_on_the_overlay(on_swarm, make_ssr):
    deployment = make_ssr()
    server = started(deployment)
    assert server.address.startswith(f"{on_swarm.address}:")  # the node's published port
    assert get(deployment) == f"hello from {deployment.id}"
    (service,) = _services_of(on_swarm, deployment.id)
    spec = service.attrs["Spec"]
    task = spec["TaskTemplate"]
    container = task["ContainerSpec"]
    assert container["Image"].startswith(image_name(deployment.id))
    assert container["User"] == "builder" and container["ReadOnly"] is True
    assert container["CapabilityDrop"] == ["ALL"]
    assert task["Resources"]["Limits"]["MemoryBytes"] == 1024 * 1024 * 1024
    assert task["Resources"]["Limits"]["Pids"] == 256
    assert task["Placement"]["Constraints"] == ["node.labels.shipway.runtime==true"]
    assert task["RestartPolicy"]["Condition"] == "none"
    assert spec["UpdateConfig"]["Order"] == "start-first"
    assert "Healthcheck" in container
    network = on_swarm.client.networks.get(NETWORK)
    assert [n["Target"] for n in task["Networks"]] == [network.id]
    written = get(deployment, "/write")
    assert '"/tmp/new":"written"' in written and '"/app/new":"EROFS"' in written
    _wait(lambda: "listening on 3000" in server_log_from(deployment)[1], "its output")

    # Stopped: the service goes; its image stays for the next start, until the delete.
    assert manager.stop_server(deployment.id)
    assert _services_of(on_swarm, deployment.id) == []
    assert get_scheduler().kept_files() == {deployment.id}
    started(deployment)  # again, from the image already there
    assert get(deployment) == f"hello from {deployment.id}"
    manager.remove_servers([deployment.id])
    assert _services_of(on_swarm, deployment.id) == []
    assert get_scheduler().kept_files() == set()


def test_a_server_that_exits_on_start_fails_with_its_reason_on_the_swarm(on_swarm, make_ssr):
    deployment = make_ssr(script=EXITS_JS)
    assert manager.start_server(deployment.id) == "failed"
    assert server_of(deployment).error == (
        "The server exited with code 1 before it answered: Error: DATABASE_HOST is not set"
    )
    assert _services_of(on_swarm, deployment.id) == []


def test_a_server_no_node_may_run_fails_with_the_swarms_reason(on_swarm, make_ssr, settings):
    settings.SHIPWAY_SWARM_CONSTRAINTS = ["node.labels.shipway.runtime==nowhere"]
    settings.SHIPWAY_SSR_START_TIMEOUT = 2
    deployment = make_ssr()
    assert manager.start_server(deployment.id) == "failed"
    error = server_of(deployment).error
    assert error.startswith("The swarm did not run the server within 2 s: no suitable node"), error
    assert _services_of(on_swarm, deployment.id) == []


def test_reconcile_fails_a_row_whose_service_is_gone_and_removes_strays(on_swarm, make_ssr):
    gone, stray = make_ssr(), make_ssr()
    started(gone)
    started(stray)
    Server.objects.filter(pk=gone.pk).update(handle="f" * 25)
    Server.objects.filter(pk=stray.pk).update(state=RuntimeState.STOPPED)
    counts = manager.reconcile()
    assert counts["failed"] == 1 and counts["removed"] >= 2
    assert server_of(gone).state == RuntimeState.FAILED
    assert server_of(gone).error.startswith("The server's container disappeared while it ran")
    assert _services_of(on_swarm, gone.id) == [] and _services_of(on_swarm, stray.id) == []


def test_an_engine_that_is_no_swarm_manager_is_refused(docker_ready, settings):
    settings.SHIPWAY_SSR_SCHEDULER = "swarm"
    settings.SHIPWAY_SWARM_DOCKER_HOST = ""  # DOCKER_HOST: this machine's engine, no swarm
    with pytest.raises(SchedulerError) as refused:
        get_scheduler()
    assert "not a Swarm manager" in str(refused.value)


@pytest.fixture
def swarm_worker(live_storage, live_database_env, on_swarm, settings, tmp_path):  # noqa: F811
    """A real worker that schedules on the swarm; its environment made after live_storage,
    so that it reads the bundles where the edge reads the manifests."""
    assert live_database_env["SHIPWAY_STORAGE_ROOT"] == str(settings.MEDIA_ROOT)
    env = {
        **live_database_env,
        "SHIPWAY_SSR_SCHEDULER": "swarm",
        "SHIPWAY_SWARM_DOCKER_HOST": on_swarm.url,
        "SHIPWAY_SWARM_NETWORK": NETWORK,
    }
    process = start_worker(env, tmp_path)
    yield process
    stop_worker(process)


def test_activations_start_services_in_a_worker_and_switch_under_load(
    on_swarm,
    make_ssr,
    edge,
    swarm_worker,
    tmp_path,
):
    a = make_ssr()
    site = a.site
    b = make_ssr(site=site)
    said = {a.id: f"hello from {a.id}", b.id: f"hello from {b.id}"}

    def live(deployment) -> None:  # type: ignore[no-untyped-def]
        def taken() -> bool:
            return Site.objects.get(pk=site.pk).live_server_id == deployment.id

        try:
            _wait(taken, f"{deployment.id}'s service to take the traffic", 60)
        except AssertionError:
            raise AssertionError((tmp_path / "worker.log").read_text()[-3000:]) from None

    services.deployment_activate(deployment=a)  # the worker starts A's service
    live(a)
    answers: list[tuple[int, str]] = []
    stopping = threading.Event()

    def load() -> None:
        while not stopping.is_set():
            try:
                answer = fetch(edge.port, site, timeout=30)
                answers.append((answer.status, answer.body))
            except OSError as exc:
                answers.append((0, f"{exc.__class__.__name__}: {exc}"))

    thread = threading.Thread(target=load, name="load", daemon=True)
    thread.start()
    try:
        _wait(lambda: said[a.id] in [body for _, body in answers], "A's answer")
        services.deployment_activate(deployment=b)  # A keeps the traffic while B starts
        live(b)
        _wait(lambda: said[b.id] in [body for _, body in answers[-5:]], "B's answer")
        count = len(answers)
        _wait(lambda: len(answers) >= count + 20, "more answers")
    finally:
        stopping.set()
        thread.join(60)
    failed = [answer for answer in answers if answer[0] != 200 or answer[1] not in said.values()]
    assert not failed, failed[:5]
    assert answers[-1][1] == said[b.id]
    assert server_of(b).address.startswith(f"{on_swarm.address}:")
    print(f"\nswitch on the swarm by a worker, through the edge: {len(answers)} requests, 0 failed")
