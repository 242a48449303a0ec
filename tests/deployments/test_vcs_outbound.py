"""git sources as a server-side request forgery (issue 10, item 7): the API refuses
loopback, private, link-local and the platform's own addresses before anything is
created; the worker checks again and connects only to the address it checked; git
follows no redirect, its fetch is capped in size, and its own error text never reaches
the build log.

Every fetch here goes to a server the test starts on 127.0.0.x. Addresses that must be
refused are refused before any connection is made, and the hosts given a public
address by `fake_dns` are never fetched from (no worker runs in those tests), so no
test traffic leaves the machine.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from deployments.models import Deployment
from tests.factories import api_client, make_site, make_team, make_user
from tests.gitserver import git_http, make_repository, redirecting

pytestmark = pytest.mark.django_db(transaction=True)

# A public address for hosts that must pass the API's check; nothing connects to it.
PUBLIC = "93.184.215.14"


@pytest.fixture
def owner_and_site():  # type: ignore[no-untyped-def]
    owner = make_user()
    return api_client(owner), make_site(make_team(owner), framework="static")


def deploy(client, site, repository: str, reference: str = "main"):  # type: ignore[no-untyped-def]
    body = {"repository": repository, "reference": reference, "type": "branch"}
    return client.post(f"/v1/sites/{site.id}/deployments/vcs", body, format="json")


def build_log(client, site, deployment_id: str) -> str:  # type: ignore[no-untyped-def]
    return client.get(f"/v1/sites/{site.id}/deployments/{deployment_id}/logs").content.decode()


def assert_refused(response, *words: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.json()
    message = response.json()["message"]
    assert message.startswith("repository:"), message
    for word in words:
        assert word in message, message
    assert not Deployment.objects.exists()
    return message


# -- The API refuses before anything is created or fetched --------------------------


@pytest.mark.parametrize(
    ("repository", "kind"),
    [
        ("http://127.0.0.1:6379/repo.git", "loopback"),
        ("http://127.1/x.git", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f000001/x.git", "loopback"),
        ("http://localhost/x.git", "loopback"),
        ("http://[::1]/x", "loopback"),
        ("http://[::ffff:127.0.0.1]/x.git", "loopback"),
        ("http://[2002:7f00:1::]/x.git", "loopback"),  # 6to4 around 127.0.0.1
        ("http://0.0.0.0/x.git", "unspecified"),
        ("http://10.0.0.1/x.git", "private"),
        ("http://172.16.0.1/x.git", "private"),
        ("http://192.168.1.1/x.git", "private"),
        ("http://[::ffff:a00:1]/x.git", "private"),  # IPv4-mapped 10.0.0.1
        ("https://[fd00::1]/x.git", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),  # NAT64 around 169.254.169.254
        ("https://[fe80::1]/x.git", "link-local"),
        ("http://100.64.0.1/x.git", "shared"),
        ("http://224.0.0.1/x.git", "multicast"),
        ("http://240.0.0.1/x.git", "reserved"),
    ],
)
def test_a_repository_on_a_non_public_address_is_refused_with_no_row(
    owner_and_site, repository, kind
):
    client, site = owner_and_site
    assert_refused(deploy(client, site, repository), kind, "SHIPWAY_OUTBOUND_ALLOW")


def test_a_name_that_resolves_to_a_private_address_is_refused(owner_and_site, fake_dns):
    client, site = owner_and_site
    fake_dns.answer("git.internal", "10.0.0.5")
    message = assert_refused(deploy(client, site, "https://git.internal/team/site.git"))
    assert message == (
        "repository: The repository's host git.internal resolves to 10.0.0.5, a private "
        "address; Shipway does not fetch from private networks (SHIPWAY_OUTBOUND_ALLOW "
        "allows named networks)."
    )


def test_one_bad_address_among_a_names_addresses_is_enough(owner_and_site, fake_dns):
    client, site = owner_and_site
    fake_dns.answer("mixed.example.com", PUBLIC, "127.0.0.1")
    assert_refused(deploy(client, site, "https://mixed.example.com/x.git"), "127.0.0.1")


def test_a_name_that_does_not_resolve_is_refused(owner_and_site, fake_dns):
    client, site = owner_and_site
    fake_dns.answer("gone.example.com")
    assert_refused(deploy(client, site, "https://gone.example.com/x.git"), "could not be resolved")


def test_the_platforms_own_addresses_are_refused(owner_and_site, fake_dns, settings):
    client, site = owner_and_site
    settings.SHIPWAY_SERVER_IPS = [PUBLIC]
    fake_dns.answer("forge.example.com", PUBLIC)
    assert_refused(deploy(client, site, "https://forge.example.com/x.git"), "own addresses")


def test_the_platforms_own_host_names_are_refused(owner_and_site, fake_dns, settings):
    client, site = owner_and_site
    settings.SHIPWAY_PUBLIC_URL = "https://shipway.example.com"
    settings.SHIPWAY_PLATFORM_HOSTS = ["testserver", "api.example.com"]
    fake_dns.answer("shipway.example.com", "93.184.215.20")
    fake_dns.answer("api.example.com", "93.184.215.21")
    fake_dns.answer("alias.example.com", "93.184.215.21")
    for repository in (
        "https://shipway.example.com/x.git",
        "https://API.example.com/x.git",
        "https://alias.example.com/x.git",  # another name for a platform host's address
    ):
        assert_refused(deploy(client, site, repository), "own")


def test_an_address_a_url_parser_could_read_two_ways_is_refused(owner_and_site, fake_dns):
    client, site = owner_and_site
    fake_dns.answer("example.com", PUBLIC)
    for repository in (
        "http://example.com\\@127.0.0.1/x.git",
        "http://127.0.0.1\\@example.com/x.git",
        "http://example.com%2f@127.0.0.1/x.git",
        "http://exa%6dple.com/x.git",
        "http://example.com./x.git",
    ):
        assert_refused(deploy(client, site, repository))


def test_networks_named_in_shipway_outbound_allow_are_allowed(owner_and_site, settings):
    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["10.1.2.0/24"]
    # Queued only: no worker reads this session's queue, so nothing connects to it.
    assert deploy(client, site, "http://10.1.2.3/forge/site.git").status_code == 202
    Deployment.objects.all().delete()
    assert_refused(deploy(client, site, "http://10.1.3.3/forge/site.git"), "private")


def test_a_public_repository_is_still_accepted(owner_and_site, fake_dns):
    client, site = owner_and_site
    fake_dns.answer("git.example.com", PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert deploy(client, site, "https://git.example.com/team/site.git").status_code == 202


# -- The worker: the fetch itself -----------------------------------------------------


@pytest.fixture
def served(tmp_path):  # type: ignore[no-untyped-def]
    """A repository served by `git http-backend` on 127.0.0.1; yields its base URL."""
    make_repository(tmp_path / "repos", "site.git", {"index.html": "<h1>over http</h1>"})
    with git_http(tmp_path / "repos") as server:
        yield f"http://127.0.0.1:{server.server_address[1]}", server


def test_a_repository_over_http_on_an_allowed_network_builds(
    owner_and_site, served, eager, settings
):
    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    base, _ = served
    response = deploy(client, site, f"{base}/site.git")
    assert response.status_code == 202, response.json()
    deployment = Deployment.objects.get(pk=response.json()["id"])
    assert deployment.status == "ready", build_log(client, site, deployment.id)


def test_the_fetch_goes_to_the_address_that_was_checked(
    owner_and_site, tmp_path, eager, settings, fake_dns
):
    """`localhost` is 127.0.0.1 to the machine, but the check was told 127.0.0.2: git
    must connect to 127.0.0.2 (where the repository is), not resolve the name itself."""
    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    make_repository(tmp_path / "repos", "site.git", {"index.html": "pinned"})
    with git_http(tmp_path / "repos", host="127.0.0.2") as server:
        fake_dns.answer("localhost", "127.0.0.2")
        response = deploy(client, site, f"http://localhost:{server.server_address[1]}/site.git")
    assert response.status_code == 202, response.json()
    deployment = Deployment.objects.get(pk=response.json()["id"])
    assert deployment.status == "ready", build_log(client, site, deployment.id)
    assert server.requests, "git never reached the checked address"


def test_a_name_that_rebinds_after_the_api_checked_it_is_refused_at_fetch_time(
    owner_and_site, served, eager, settings, fake_dns
):
    """DNS rebinding: the API sees an allowed address, the worker then a refused one."""
    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.2/32"]
    base, server = served
    fake_dns.answer("localhost", "127.0.0.2")  # what the API's check sees
    fake_dns.answer("localhost", "127.0.0.1")  # what the worker's check sees
    response = deploy(client, site, base.replace("127.0.0.1", "localhost") + "/site.git")
    assert response.status_code == 202, response.json()
    deployment = Deployment.objects.get(pk=response.json()["id"])
    assert (deployment.status, deployment.error_code) == ("failed", "source_refused")
    assert "127.0.0.1, a loopback address" in build_log(client, site, deployment.id)
    assert not server.requests  # refused before connecting


def test_redirects_are_not_followed(owner_and_site, served, eager, settings):
    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    base, server = served
    with redirecting(base) as redirector:
        port = redirector.server_address[1]
        response = deploy(client, site, f"http://127.0.0.1:{port}/site.git")
    deployment = Deployment.objects.get(pk=response.json()["id"])
    log = build_log(client, site, deployment.id)
    assert (deployment.status, deployment.error_code) == ("failed", "source_invalid"), log
    assert "redirect, which Shipway does not follow" in log
    assert redirector.requests and not server.requests


def test_a_fetch_larger_than_the_cap_is_stopped(owner_and_site, tmp_path, eager, settings):
    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    settings.SHIPWAY_VCS_MAX_FETCH_SIZE = 1024 * 1024
    big = {f"blob{i}.bin": os.urandom(1024 * 1024) for i in range(8)}  # incompressible
    make_repository(tmp_path / "repos", "big.git", {"index.html": "x", **big})
    with git_http(tmp_path / "repos") as server:
        response = deploy(client, site, f"http://127.0.0.1:{server.server_address[1]}/big.git")
    deployment = Deployment.objects.get(pk=response.json()["id"])
    log = build_log(client, site, deployment.id)
    assert (deployment.status, deployment.error_code) == ("failed", "source_too_large"), log
    assert "1 MiB" in log


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("path", "sentence"),
    [
        ("closed", "Shipway could not connect to the repository's host."),
        ("nope.git", "The repository, or the reference in it, was not found."),
    ],
)
def test_gits_own_error_text_stays_out_of_the_build_log(
    owner_and_site, served, closed_port, eager, settings, path, sentence
):
    """The build log says a fixed sentence per kind of failure: git's last line (which
    names ports, hosts and what answered) would make the fetch a port scanner."""
    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    base, _ = served
    repository = f"http://127.0.0.1:{closed_port}/x.git" if path == "closed" else f"{base}/{path}"
    response = deploy(client, site, repository)
    deployment = Deployment.objects.get(pk=response.json()["id"])
    log = build_log(client, site, deployment.id)
    assert (deployment.status, deployment.error_code) == ("failed", "source_invalid"), log
    assert sentence in log
    for raw in ("fatal:", "unable to access", "Failed to connect", "port", "not found\n"):
        assert raw not in log.replace(sentence, ""), log


def test_gits_error_text_is_kept_in_the_server_log_with_the_token_masked(
    owner_and_site, closed_port, eager, settings
):
    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    with capture_logs() as events:
        deploy(client, site, f"http://bob:s3cret@127.0.0.1:{closed_port}/x.git")
    (failure,) = [e for e in events if e["event"] == "vcs.git_failed"]
    assert "Failed to connect" in failure["stderr"]
    assert "s3cret" not in repr(events)


def test_a_fetch_that_hangs_is_stopped(owner_and_site, eager, settings, monkeypatch):
    """A server that accepts the connection and never answers."""
    from deployments import vcs

    client, site = owner_and_site
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    monkeypatch.setattr(vcs, "FETCH_TIMEOUT", 2)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        stop = threading.Event()
        accepted = []

        def hold() -> None:
            listener.settimeout(0.2)
            while not stop.is_set():
                try:
                    accepted.append(listener.accept()[0])
                except TimeoutError:
                    continue

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        try:
            response = deploy(client, site, f"http://127.0.0.1:{listener.getsockname()[1]}/x")
        finally:
            stop.set()
            holder.join()
            for connection in accepted:
                connection.close()
    deployment = Deployment.objects.get(pk=response.json()["id"])
    log = build_log(client, site, deployment.id)
    assert (deployment.status, deployment.error_code) == ("failed", "source_invalid"), log
    assert "took longer than 2 s" in log


# -- The watch on a running git ------------------------------------------------------


def alive(pid: int, within: float = 5.0) -> bool:
    """Still running after `within` seconds (a SIGKILL lands asynchronously, and a killed
    process whose parent is gone can stay a zombie a while)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return False
        if "State:\tZ" in status:
            return False
        time.sleep(0.05)
    return True


def test_a_command_that_grows_past_the_limit_is_killed_with_its_children(tmp_path):
    from deployments import vcs

    grow = "echo $$ > pid; while :; do head -c 65536 /dev/zero >> grown; done"
    with pytest.raises(vcs._TooLarge):
        vcs._run(
            ["sh", "-c", grow],
            tmp_path,
            {"PATH": os.environ["PATH"]},
            watch=tmp_path,
            limit=1024 * 1024,
            timeout=60,
        )
    size = (tmp_path / "grown").stat().st_size
    assert size < 64 * 1024 * 1024  # stopped soon after it passed the limit
    assert not alive(int((tmp_path / "pid").read_text()))


def test_a_command_that_runs_too_long_is_killed_with_its_children(tmp_path):
    from deployments import vcs

    with pytest.raises(vcs._TimedOut):
        vcs._run(
            ["sh", "-c", "sleep 60 & echo $! > pid; wait"],
            tmp_path,
            {"PATH": os.environ["PATH"]},
            watch=tmp_path,
            limit=0,
            timeout=0.5,
        )
    assert not alive(int((tmp_path / "pid").read_text()))
