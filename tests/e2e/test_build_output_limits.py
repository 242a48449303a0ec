"""Hostile build output, through the API and a real worker building in Docker: links out
of the output, a sparse terabyte, an endless line, a flood of log, too many or too large
files, and a secret quoted by an error message (issue 10, items 5, 6 and 9)."""

import time

import pytest

from deployments.artifacts import artifacts, read_manifest
from sites.services import variable_create
from tests.e2e.conftest import start_worker, stop_worker
from tests.e2e.helpers import containers_of, deploy, log_of, wait_for, wait_until
from tests.factories import make_site, make_team

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_with(live_database_env, tmp_path):
    """A worker started with some settings of its own (environment variables)."""
    started = []

    def start(**env: str):  # type: ignore[no-untyped-def]
        process = start_worker({**live_database_env, **env}, tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        stop_worker(process)


def _site(owner, build_command: str, **fields):  # type: ignore[no-untyped-def]
    return make_site(
        make_team(owner),
        framework="other",
        install_command="",
        build_command=build_command,
        output_directory="out",
        **fields,
    )


def test_links_out_of_the_output_are_skipped_with_a_line_each(worker, owner, client):
    site = _site(
        owner,
        "mkdir -p out/sub && echo hi > out/index.html && echo page > out/sub/page.html"
        " && ln -s / out/root && ln -s ../.. out/up && ln -s /etc/passwd out/passwd"
        " && ln -s ../../../etc out/sub/etc && ln -s sub out/folder"
        " && ln -s index.html out/same.html && ln -s ../index.html out/sub/home.html",
    )
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert deployment.status == "ready", log
    assert "Skipped out/root: a symbolic link leading outside the output (/)" in log
    assert "Skipped out/up: a symbolic link leading outside the output (../..)" in log
    assert "Skipped out/passwd: a symbolic link leading outside the output (/etc/passwd)" in log
    assert "Skipped out/sub/etc: a symbolic link leading outside the output" in log
    assert "Skipped out/folder: a symbolic link to a directory (sub)" in log
    files = read_manifest(deployment.storage_prefix)["files"]
    assert sorted(files) == ["/index.html", "/same.html", "/sub/home.html", "/sub/page.html"]
    with artifacts().open(f"{deployment.storage_prefix}/output/same.html") as handle:
        assert handle.read() == b"hi\n"


def test_the_whole_workspace_may_be_the_output(worker, owner, client):
    site = _site(owner, "echo hi > index.html && ln -s index.html same.html && ln -s / root")
    site.output_directory = "."
    site.save(update_fields=["output_directory"])
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert deployment.status == "ready", log
    assert "Skipped root: a symbolic link leading outside the output (/)" in log
    files = read_manifest(deployment.storage_prefix)["files"]
    assert sorted(files) == ["/a.txt", "/index.html", "/same.html"]


def test_a_sparse_terabyte_is_refused_from_its_header(worker, owner, client):
    site = _site(owner, "mkdir -p out && echo hi > out/index.html && truncate -s 1T out/big")
    started = time.monotonic()
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}), timeout=120)
    log = log_of(client, deployment)
    assert (deployment.status, deployment.error_code) == ("failed", "output_file_too_large"), log
    assert "out/big is 1 TB" in log and "SHIPWAY_OUTPUT_MAX_FILE_BYTES" in log
    assert time.monotonic() - started < 60
    # Docker stopped sending the terabyte: the container goes at once.
    wait_until(lambda: not containers_of(deployment), "the build's container to go", 30)


def test_too_many_output_files_fail_with_their_code(worker_with, owner, client):
    worker_with(SHIPWAY_OUTPUT_MAX_FILES="50")
    site = _site(owner, "mkdir -p out && cd out && seq 1 80 | xargs touch")
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert (deployment.status, deployment.error_code) == ("failed", "too_many_output_files"), log
    assert "SHIPWAY_OUTPUT_MAX_FILES" in log


def test_output_over_its_total_size_fails_with_its_code(worker_with, owner, client):
    worker_with(SHIPWAY_OUTPUT_MAX_BYTES="1000000")
    site = _site(owner, "mkdir -p out && head -c 600000 /dev/urandom | tee out/a > out/b")
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert (deployment.status, deployment.error_code) == ("failed", "output_too_large"), log
    assert "SHIPWAY_OUTPUT_MAX_BYTES" in log


def test_a_line_without_end_is_cut_and_the_build_goes_on(worker, owner, client):
    site = _site(
        owner,
        "head -c 20000000 /dev/zero | tr '\\0' a; echo; echo after-the-line"
        " && mkdir -p out && echo hi > out/index.html",
    )
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert deployment.status == "ready", log[-2000:]
    assert len(log) < 200_000
    assert "[line cut at 64 KB]" in log
    assert "after-the-line" in log


def test_the_log_is_cut_at_its_cap_and_the_build_goes_on(worker_with, owner, client):
    worker_with(SHIPWAY_BUILD_LOG_MAX_BYTES=str(100 * 1024))
    site = _site(owner, "seq 1 200000 && mkdir -p out && echo hi > out/index.html")
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert deployment.status == "ready", log[-2000:]
    assert len(log.encode()) < 110_000
    assert "The log was cut at 100 KB (SHIPWAY_BUILD_LOG_MAX_BYTES)" in log
    assert "199999" not in log
    assert "Packaged 1 file" in log  # Shipway's own lines still come through


def test_a_secret_quoted_by_a_rules_error_is_masked(worker, owner, client):
    site = _site(
        owner,
        "mkdir -p out && echo hi > out/index.html"
        " && printf '/*\\n  X-Token %s\\n' \"$API_TOKEN\" > out/_headers",
    )
    variable_create(site=site, key="API_TOKEN", value="s3cr3t-value-123", secret=True)
    deployment = wait_for(deploy(client, site, {"a.txt": "a"}))
    log = log_of(client, deployment)
    assert (deployment.status, deployment.error_code) == ("failed", "rules_invalid"), log
    assert "_headers line 2" in log
    assert "s3cr3t-value-123" not in log
    assert "X-Token ********" in log
