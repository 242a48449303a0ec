"""The install files agree with the project: the Dockerfile copies every package, and
every variable compose.yaml reads is documented in .env.example."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_image_holds_every_package() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    # cli/ is the `shipway` client: installed with the dependencies (the package pyproject
    # names), not copied beside the server's code.
    server = [p for p in packages if p != "cli"]
    missing = [p for p in server if f"COPY {p} /app/{p}\n" not in dockerfile]
    assert not missing, f"the Dockerfile does not copy {missing}"


def test_every_compose_variable_is_in_the_env_example() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    example = (ROOT / ".env.example").read_text()
    variables = set(re.findall(r"\$\{([A-Z0-9_]+)", compose))
    listed = set(re.findall(r"^#? ?([A-Z0-9_]+)=", example, re.MULTILINE))
    assert variables <= listed, f"not in .env.example: {sorted(variables - listed)}"
