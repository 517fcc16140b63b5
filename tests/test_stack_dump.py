"""A server that stops answering can be asked what it is doing: SIGUSR1 prints every
thread's stack to its stderr, and it goes on serving."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from evaluation.server import free_port, serve_command, wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_sigusr1_prints_every_threads_stack_and_the_server_keeps_answering(
    tmp_path: Path,
) -> None:
    port = free_port()
    command = serve_command(
        port,
        "--data-dir",
        str(tmp_path / "data"),
        "--embedder",
        "hashing",
        "--log-level",
        "warning",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARALLAX_")}
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=sink, env=env, cwd=ROOT)
    try:

        def healthy() -> bool | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).is_success or None
            except httpx.HTTPError:
                return None

        assert wait_for(healthy, 120, server), errors.read_text()
        server.send_signal(signal.SIGUSR1)
        assert wait_for(lambda: "most recent call first" in errors.read_text() or None, 10)
        time.sleep(0.2)
        dump = errors.read_text()
        assert dump.count("(most recent call first)") >= 2  # every thread, not just one
        assert "uvicorn" in dump  # the serving thread's frames, by file
        assert healthy(), "the server stopped answering after printing its stacks"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
