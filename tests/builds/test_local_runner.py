"""LocalRunner: the same promises as DockerRunner, with plain processes."""

import io
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from builds.runners import BuildJob, BuildSpec, Step
from builds.runners.local import LocalRunner
from deployments.errors import BuildError, ErrorCode


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "source.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        data = b"<h1>hi</h1>"
        info = tarfile.TarInfo("web/index.html")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(autouse=True)
def _cache_dir(settings, tmp_path):
    settings.SHIPWAY_LOCAL_BUILD_CACHE = tmp_path / "cache"


def spec(*commands: str, **overrides) -> BuildSpec:  # type: ignore[no-untyped-def]
    fields = dict(
        site_id="s1",
        deployment_id="d1",
        runtime="node-22",
        image="unused",
        steps=[Step(f"step{i}", c) for i, c in enumerate(commands)],
        workdir="web",
        output_directory="out",
        timeout=30.0,
    )
    fields.update(overrides)
    return BuildSpec(**fields)


def run(spec_, source, tmp_path, cancel=lambda: False):  # type: ignore[no-untyped-def]
    output: list[str] = []
    result = LocalRunner().run(BuildJob(spec_, source, tmp_path / "output", output.append, cancel))
    return result, "".join(output)


def test_runs_steps_in_the_root_directory_and_copies_the_output(source, tmp_path):
    result, log = run(spec("mkdir out && cp index.html out/ && echo copied"), source, tmp_path)
    assert (tmp_path / "output" / "index.html").read_text() == "<h1>hi</h1>"
    assert "copied" in log and result.steps[0].exit_code == 0


def test_environment_is_scrubbed_and_secrets_masked(source, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://worker-secret")
    command = 'mkdir out; echo "db=${DATABASE_URL:-unset} token=$TOKEN" | tee out/env.txt'
    _, log = run(
        spec(command, env={"TOKEN": "tok-123456"}, secrets=["tok-123456"]), source, tmp_path
    )
    assert "db=unset token=********" in log
    assert "tok-123456" not in log


def test_failure_carries_the_exit_code(source, tmp_path):
    with pytest.raises(BuildError) as failure:
        run(spec("echo nope; exit 7"), source, tmp_path)
    assert failure.value.code == ErrorCode.COMMAND_FAILED
    assert "exited with code 7" in failure.value.detail


def test_timeout_kills_the_step(source, tmp_path):
    started = time.monotonic()
    with pytest.raises(BuildError) as failure:
        run(spec("sleep 30", timeout=1.0), source, tmp_path)
    assert failure.value.code == ErrorCode.BUILD_TIMEOUT
    assert time.monotonic() - started < 10


def test_cancel_kills_the_step(source, tmp_path):
    started = time.monotonic()
    with pytest.raises(BuildError) as failure:
        run(spec("sleep 30"), source, tmp_path, cancel=lambda: time.monotonic() - started > 0.5)
    assert failure.value.code == ErrorCode.CANCELED


def test_missing_output_directory(source, tmp_path):
    with pytest.raises(BuildError) as failure:
        run(spec("true"), source, tmp_path)
    assert failure.value.code == ErrorCode.OUTPUT_MISSING


def test_output_directory_may_not_escape_the_workspace(source, tmp_path):
    with pytest.raises(BuildError) as failure:
        run(spec("true", output_directory="../../.."), source, tmp_path)
    assert failure.value.code == ErrorCode.OUTPUT_MISSING


def test_every_log_says_the_build_is_not_isolated(source, tmp_path):
    _, log = run(spec("mkdir out"), source, tmp_path)
    assert log.startswith("WARNING: this build runs on the worker's host WITHOUT isolation")


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to a build user needs root")
def test_as_root_a_build_runs_under_a_user_of_its_own_and_dies_whole(source, tmp_path, settings):
    """Never as root; and a process that left the group with setsid is killed too."""
    reachable = Path(tempfile.mkdtemp())  # where the build's user may write
    reachable.chmod(0o777)
    marker = reachable / "survivor"
    command = (
        'mkdir out; echo "uid=$(id -u)" > out/who.txt; cat /proc/self/limits > out/limits.txt; '
        f"setsid sh -c 'sleep 3; touch {marker}' </dev/null >/dev/null 2>&1 &"
    )
    run(spec(command, pids=77, cache_id="c1"), source, tmp_path)
    who = (tmp_path / "output" / "who.txt").read_text()
    assert who.strip() == f"uid={settings.SHIPWAY_LOCAL_BUILD_UID}"
    limits = (tmp_path / "output" / "limits.txt").read_text()
    assert any(line.startswith("Max processes") and " 77 " in line for line in limits.splitlines())
    home = settings.SHIPWAY_LOCAL_BUILD_CACHE / "c1"
    assert home.stat().st_uid == 0 and home.stat().st_mode & 0o777 == 0o700  # at rest: root's
    time.sleep(4)
    assert not marker.exists(), "a process of the build outlived it"
    shutil.rmtree(reachable)
