"""Peers of `parallax bench`: other search services on the same articles and the same model.

`--peers txtai` runs txtai (`evaluation/txtai_peer.py`) in a child process, with this
interpreter or the one `--peer-python` names (a separate environment, so txtai never
changes this one's torch or transformers). It indexes the passages parallax cut from the
bench's ingest articles, with the same local all-MiniLM-L6-v2 folder, and serves them
with its own API server. When txtai is not installed the row is skipped with a note
saying how to install it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PEERS = ("txtai",)
INSTALL = {
    "txtai": "pip install -e '.[peers]' (or give --peer-python an interpreter that has "
    "txtai[api]==9.14.0)",
}
SCRIPTS = {"txtai": Path(__file__).with_name("txtai_peer.py")}


def available(peer: str, python: str) -> bool:
    """Whether `python` imports the peer and its API server."""
    check = subprocess.run(
        [python, "-c", f"import {peer}, {peer}.api"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    return check.returncode == 0


def bench_peers(
    peers: Sequence[str],
    model: Path,
    passages: Sequence[tuple[str, str]],
    articles: int,
    queries: Sequence[str],
    python: str | None = None,
) -> list[dict[str, Any]]:
    """One row per peer: ingest passages/s and articles/s, search p50 in process and over
    HTTP; or `skipped` with the reason when the peer is not installed."""
    python = python or sys.executable
    rows = []
    for peer in peers:
        if peer not in SCRIPTS:
            raise ValueError(f"unknown peer {peer!r}; the bench knows {', '.join(PEERS)}")
        if not available(peer, python):
            rows.append(
                {"peer": peer, "skipped": f"{peer} is not installed for {python}: {INSTALL[peer]}"}
            )
            continue
        with tempfile.TemporaryDirectory(prefix=f"parallax-peer-{peer}-") as scratch:
            job = {
                "model": str(model),
                "passages": [list(p) for p in passages],
                "articles": articles,
                "queries": list(queries),
                "workdir": scratch,
            }
            child = subprocess.run(
                [python, str(SCRIPTS[peer])],
                input=json.dumps(job),
                capture_output=True,
                text=True,
                check=False,
            )
        if child.returncode != 0:
            tail = child.stderr.strip().splitlines()[-5:]
            rows.append({"peer": peer, "skipped": f"{peer} failed: {' / '.join(tail)}"})
            continue
        rows.append({"peer": peer, **json.loads(child.stdout.strip().splitlines()[-1])})
    return rows
