"""A server never forks. OpenVINO, imported as it comes, sends usage telemetry from a child
process that a background thread forks; a fork beside a search's matrix product froze a
server for good (the forking thread held the interpreter lock while OpenBLAS's fork
handler waited for a BLAS worker the search had in use). The ingest encoder imports
OpenVINO without the tool that sends it (`index.openvino.import_openvino`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Counts the forks of the process while it loads OpenVINO and makes a runtime, then waits
# for the telemetry thread (it forks within milliseconds of the import). A forked child
# exits at once, so that nothing is sent.
PROBE = """
import os, sys, time
forks = []
os.register_at_fork(before=lambda: forks.append(1), after_in_child=lambda: os._exit(0))
{load}
deadline = time.monotonic() + {wait}
while not forks and time.monotonic() < deadline:
    time.sleep(0.05)
loaded = "openvino" in sys.modules
print("probe:", len(forks), "openvino_telemetry" in sys.modules, loaded)
"""


def _forks(load: str, home: Path, wait: float) -> tuple[int, bool]:
    """Forks counted and whether the telemetry package was imported, in a fresh interpreter
    as a user's machine runs it: no CI variable (the telemetry stays off in CI), a home
    directory without an opt-out file, and the default settings (no PARALLAX_* variable
    choosing another encoder). OpenVINO must have been loaded."""
    ci = {"CI", "TF_BUILD", "JENKINS_URL"}
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ci and not name.startswith("PARALLAX_")
    }
    env["HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(load=load, wait=wait)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # the server's first start exports the model and builds the seeds
        check=True,
    )
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("probe:"), done.stdout
    forks, telemetry, loaded = line.split()[1:]
    assert loaded == "True", "OpenVINO was not loaded: the probe tested nothing"
    return int(forks), telemetry == "True"


@pytest.mark.slow
def test_the_ingest_encoder_loads_openvino_without_forking_the_process(tmp_path: Path) -> None:
    # The hazard, as OpenVINO comes: a plain import forks.
    forks, telemetry = _forks("import openvino; openvino.Core()", tmp_path, wait=10)
    assert forks >= 1 and telemetry, (
        "a plain `import openvino` no longer forks (its telemetry changed?): "
        "index.openvino.import_openvino may no longer be needed"
    )
    # The encoder's import: no fork, no telemetry, and a runtime that works.
    load = (
        "from index.openvino import import_openvino\n"
        "ov = import_openvino()\n"
        "assert 'CPU' in ov.Core().available_devices"
    )
    assert _forks(load, tmp_path, wait=2) == (0, False)


# A server as `parallax serve` makes it, with the real model: its first start builds the
# index from the seeds (the ingest encoder loads), then a write and a search.
SERVER = """
import time
from pathlib import Path
from fastapi.testclient import TestClient
from api.app import create_app
from api.settings import Settings
settings = Settings(data_dir=Path({data!r}), seeds_dir=Path("seeds"), api_key="k")
with TestClient(create_app(settings)) as client:
    deadline = time.monotonic() + 240
    while (health := client.get("/health")).status_code != 200:
        assert time.monotonic() < deadline, health.text
        time.sleep(0.1)
    document = {{"id": "fork-1", "text": "Rates rose five percent.", "source": "Wire"}}
    headers = {{"Authorization": "Bearer k"}}
    assert client.post("/documents", json={{"documents": [document]}}, headers=headers).is_success
    assert client.post("/search", json={{"query": "rates"}}).is_success
"""


@pytest.mark.slow
def test_a_server_forks_nothing_from_its_first_start_to_a_write_and_a_search(
    tmp_path: Path,
) -> None:
    load = SERVER.format(data=str(tmp_path / "data"))
    assert _forks(load, tmp_path, wait=2) == (0, False)
