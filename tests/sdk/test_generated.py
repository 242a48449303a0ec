"""The committed SDKs are what `make sdk` makes of the server's schema today: the schema
(sdk/openapi.json), the TypeScript types and the Python package are generated again
into a temporary directory and compared, file by file."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.sdk.conftest import SDK_DIR


def _differences(left: Path, right: Path) -> list[str]:
    compared = filecmp.dircmp(left, right, ignore=["__pycache__"])
    found = [f"only in {compared.left}: {n}" for n in compared.left_only]
    found += [f"only in {compared.right}: {n}" for n in compared.right_only]
    found += [f"differs: {left / n}" for n in compared.diff_files]
    for name in compared.common_dirs:
        found += _differences(left / name, right / name)
    return found


def test_the_committed_schema_is_the_servers(tmp_path: Path) -> None:
    fresh = tmp_path / "openapi.json"
    call_command("spectacular", format="openapi-json", file=str(fresh))
    assert fresh.read_text() == (SDK_DIR / "openapi.json").read_text(), "run `make sdk`"


def test_the_committed_typescript_types_are_generated_from_it(tmp_path: Path) -> None:
    package = SDK_DIR / "typescript"
    generator = package / "node_modules" / ".bin" / "openapi-typescript"
    if not generator.exists():
        if shutil.which("npm") is None and os.environ.get("CI") != "true":
            pytest.skip("npm is not installed")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=package, check=True)
    fresh = tmp_path / "schema.ts"
    subprocess.run(
        [generator, SDK_DIR / "openapi.json", "--output", fresh],
        check=True,
        capture_output=True,
    )
    assert fresh.read_text() == (package / "src" / "schema.ts").read_text(), "run `make sdk`"


def test_the_committed_python_package_is_generated_from_it(tmp_path: Path) -> None:
    fresh = tmp_path / "shipway_sdk"
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(
        [generator, "generate", "--path", SDK_DIR / "openapi.json", "--meta", "none",
         "--output-path", fresh, "--config", SDK_DIR / "python" / "generator.yaml"],
        check=True, capture_output=True,
    )  # fmt: skip
    assert _differences(SDK_DIR / "python" / "shipway_sdk", fresh) == [], "run `make sdk`"
