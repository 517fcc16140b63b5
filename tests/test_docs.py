"""The README and the Dockerfile stay in step with the code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import Settings
from helpers import ROOT


def test_readme_lists_every_setting_with_its_flag_and_default() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        row = next(
            (
                line
                for line in readme.splitlines()
                if line.startswith(f"| `PARALLAX_{name.upper()}`")
            ),
            None,
        )
        assert row is not None, f"README has no row for PARALLAX_{name.upper()}"
        assert f"`--{name.replace('_', '-')}`" in row
        default = "unset" if field.default is None else f"`{field.default}`"
        assert default in row, f"README's default for {name} is not {default}"


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make serve" in readme and "make test" in readme


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.fail("hadolint is missing: it is a test dependency (pip install -e '.[test]')")
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
