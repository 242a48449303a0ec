"""Run the `shipway` command as a subprocess, as a user or a CI job would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment without the caller's own SHIPWAY_* settings, with a config
    directory of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPWAY_")}
    return env | {"SHIPWAY_CONFIG_DIR": str(tmp_path / "config"), **extra}


def shipway(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
