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


def _idle_cpu(first: str) -> float:
    env = {name: value for name, value in os.environ.items() if name != "OPENBLAS_THREAD_TIMEOUT"}
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
    # As numpy comes, a worker spins about 0.1 s after each product.
    assert _idle_cpu("") > 0.05, "OpenBLAS no longer spins after a product: the setting can go"
    # The `parallax` command's process (api imported first).
    assert _idle_cpu("import api.cli") < 0.02
