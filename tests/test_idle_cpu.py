"""A served process does not burn a core between requests: OpenBLAS's workers sleep as soon
as a product is done (`api/__init__.py` sets OPENBLAS_THREAD_TIMEOUT before numpy loads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A search's passage product (on OpenBLAS's threads), then 0.3 s with nothing to do: the
# processor time the process spends meanwhile.
PROBE = """
import time
{first}
import numpy as np
vectors, query = np.ones((28000, 384), np.float32), np.ones(384, np.float32)
for _ in range(3):
    vectors @ query
before = time.process_time()
time.sleep(0.3)
print(time.process_time() - before)
"""


# Variables that would leave OpenBLAS without workers, or set the spin, in the probe.
THREAD_VARIABLES = {
    "OPENBLAS_THREAD_TIMEOUT",
    "OPENBLAS_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "OMP_NUM_THREADS",
}


def _idle_cpu(first: str) -> float:
    env = {name: value for name, value in os.environ.items() if name not in THREAD_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(first=first)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(done.stdout)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS starts no worker on one core")
def test_blas_workers_sleep_after_a_product_in_the_served_process() -> None:
    # As numpy comes, a worker spins for 2^28 processor cycles (about 0.1 s here) after a
    # product. The `parallax` command's process (api imported first) sleeps at once.
    spinning = _idle_cpu("")
    sleeping = _idle_cpu("import api.cli")
    assert spinning > 0.02, "OpenBLAS no longer spins after a product: the setting can go"
    assert sleeping < 0.02 and spinning > 5 * sleeping, (spinning, sleeping)
