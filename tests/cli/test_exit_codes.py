"""The command's output rules without a platform: usage errors exit 2, a missing key 3,
an unreachable platform 1, each with one sentence on stderr and nothing on stdout."""

import json
import os
import socket
import stat

from tests.cli.helpers import cli_env, shipway


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_one_sentence(result, code: int) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_usage_errors_exit_2(tmp_path):
    env = cli_env(tmp_path, SHIPWAY_TOKEN="sw_x", SHIPWAY_URL="http://127.0.0.1:9")
    assert shipway("deploy", str(tmp_path / "missing"), env=env).returncode == 2
    assert shipway("deploy", "--no-such-option", env=env).returncode == 2
    assert shipway("no-such-command", env=env).returncode == 2
    # No --site, no SHIPWAY_SITE, no linked project.
    result = shipway("deploy", str(tmp_path), env=env, cwd=tmp_path)
    assert_one_sentence(result, 2)
    assert "shipway link" in result.stderr


def test_no_key_exits_3(tmp_path):
    result = shipway("whoami", env=cli_env(tmp_path), cwd=tmp_path)
    assert_one_sentence(result, 3)
    assert "shipway login" in result.stderr
    result = shipway("deploy", str(tmp_path), "--site", "s1", env=cli_env(tmp_path))
    assert_one_sentence(result, 3)


def test_unreachable_platform_is_one_sentence_and_exit_1(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    env = cli_env(tmp_path, SHIPWAY_URL=url, SHIPWAY_TOKEN="sw_x", SHIPWAY_SITE="s1")
    result = shipway("deployments", "list", env=env)
    assert_one_sentence(result, 1)
    assert f"Could not reach the platform at {url}" in result.stderr


def test_link_writes_the_project_file_and_site_comes_from_it(tmp_path):
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / ".shipway").mkdir()
    (project / ".shipway" / "project.json").write_text(json.dumps({"siteId": "linked"}))
    url = f"http://127.0.0.1:{free_port()}"
    env = cli_env(tmp_path, SHIPWAY_URL=url, SHIPWAY_TOKEN="sw_x")
    # The site is found from a folder below the linked one: the error is the network's.
    result = shipway("deployments", "list", env=env, cwd=project / "sub")
    assert_one_sentence(result, 1)


def test_config_file_is_owner_only(tmp_path, monkeypatch):
    from cli import config

    monkeypatch.setenv("SHIPWAY_CONFIG_DIR", str(tmp_path / "conf"))
    path = config.save_credentials(config.Credentials(url="http://x", token="sw_secret"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    monkeypatch.delenv("SHIPWAY_URL", raising=False)
    monkeypatch.delenv("SHIPWAY_TOKEN", raising=False)
    assert config.credentials() == config.Credentials(url="http://x", token="sw_secret")
    monkeypatch.setenv("SHIPWAY_TOKEN", "sw_from_env")
    assert config.credentials().token == "sw_from_env"
