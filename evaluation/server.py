"""`parallax serve` as a child process on a free 127.0.0.1 port: the one way the bench and
the kill trials start a server and wait for it (tests run theirs in a thread,
`tests/helpers.serve_app`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A port nothing listens on now (another process may still take it before the child)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_command(port: int, *flags: str) -> list[str]:
    """The command line of `parallax serve` on `port` with `flags`: the CLI run by this
    interpreter, from the current directory first. Not the `parallax` script beside the
    interpreter: in a shared environment its editable install may point at another
    checkout, and the bench and the kill trials would measure that checkout's server."""
    command = [sys.executable, "-c", "from api.cli import app; app()"]
    return [*command, "serve", "--port", str(port), *flags]


def wait_for(
    ready: Callable[[], bool | None],
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    interval: float = 0.02,
) -> bool:
    """Call `ready` until it returns True (ready) or False (it never will be), the child
    exits or `timeout` seconds pass; None means "not yet". Whether it became ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        answer = ready()
        if answer is not None:
            return answer
        time.sleep(interval)
    return False


class BenchServer:
    """`parallax serve` on a benchmark's data dir, in a child process on 127.0.0.1: entered,
    the URL and the seconds it took to answer a first /search."""

    def __init__(self, directory: Path, key: str | None = None) -> None:
        self.directory = directory
        self.key = key  # writes need one

    def __enter__(self) -> tuple[str, float]:
        import httpx

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        flags = ("--data-dir", str(self.directory), "--log-level", "warning")
        if self.key:
            flags += ("--api-key", self.key)
        command = serve_command(port, *flags, "--max-in-flight", "64")
        started = time.perf_counter()
        self.process = subprocess.Popen(command, env=os.environ.copy())

        def answers() -> bool | None:
            try:
                response = httpx.post(f"{url}/search", json={"query": "oil"}, timeout=2)
            except httpx.HTTPError:
                return None
            return True if response.status_code == 200 else None

        if wait_for(answers, 180, self.process, interval=0.05):
            return url, time.perf_counter() - started
        self.__exit__()
        raise RuntimeError("the benchmark server did not answer within 180 s")

    def wait_for_warm_up(self, url: str, timeout: float = 600) -> float:
        """Wait until the server's write thread has finished its start-up work (the story
        matcher's restore, seconds at 19k documents, run beside the first searches and
        slowing them), so what is measured next is the steady state; the seconds waited.

        A delete of an id that does not exist queues behind that work on the write thread
        and changes nothing (404). Needs the server's key."""
        import httpx

        if not self.key:
            raise ValueError("waiting for the write thread needs a server started with a key")
        started = time.perf_counter()
        response = httpx.delete(
            f"{url}/documents/bench-warm-up-barrier",
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=timeout,
        )
        if response.status_code != 404:
            raise RuntimeError(f"the warm-up barrier answered {response.status_code}")
        return time.perf_counter() - started

    def dump_stacks(self) -> None:
        """Have the server print every thread's stack to its stderr, which is the
        bench's (`parallax serve` registers SIGUSR1 for it): what a server that stopped
        answering was doing, for the report."""
        if hasattr(signal, "SIGUSR1") and self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(1)  # the dump is written by the server, not waited for here

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
