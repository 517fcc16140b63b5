"""Serving needs none of the optional extras (`make serve` installs the package alone);
the tooling that needs one says which to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import ROOT, SEEDS

# The top-level modules of the extras (pyproject.toml: eval, ray, test, docs).
EXTRAS = (
    "matplotlib",
    "sklearn",
    "ray",
    "pytest",
    "hypothesis",
    "playwright",
    "schemathesis",
    "importlinter",
    "mkdocs",
    "material",
)

_BLOCK = f"""
import importlib.abc, sys
class _Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRAS!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None
for name in [m for m in sys.modules if m.split(".")[0] in {EXTRAS!r}]:
    del sys.modules[name]
sys.meta_path.insert(0, _Missing())
"""


def _run_without_extras(code: str) -> subprocess.CompletedProcess[str]:
    script = _BLOCK + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_server_serves_without_any_extra(tmp_path: Path) -> None:
    result = _run_without_extras(
        f"""
        import time
        from fastapi.testclient import TestClient
        from api.app import create_app
        from api.settings import Settings
        import api.cli  # the command, with the tooling's commands it loads

        settings = Settings(data_dir={str(tmp_path)!r}, seeds_dir={str(SEEDS)!r},
                            embedder="hashing")
        with TestClient(create_app(settings)) as client:
            for _ in range(300):
                if client.get("/health").status_code == 200:
                    break
                time.sleep(0.1)
            ask = client.post("/ask", json={{"question": "How many were injured?"}})
            assert ask.status_code == 200, ask.text
            # The hashing stand-in ranks poorly: the seeds are read, answering or not.
            body = ask.json()
            assert body["story"] and body["answers"] + body["unanswered"], ask.text
            assert client.get("/").status_code == 200
            assert client.get("/openapi.json").status_code == 200
        print("served")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "served" in result.stdout


def test_the_tooling_names_the_extra_it_needs() -> None:
    result = _run_without_extras(
        """
        from evaluation import calibrate, report
        from index.errors import ParallaxError
        for needs in (report._pyplot, lambda: calibrate.fit([])):
            try:
                needs()
            except ParallaxError as exc:
                print(exc.message)
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all("pip install -e '.[eval]'" in line for line in lines), lines
