"""Searches first: writes step aside for the searches in flight, and run at a lower CPU
priority than searches.

A server's writes, merges and story-matcher warm-up share two cores with its searches.
Under the interpreter lock a write already steps aside between its steps
(`Readers`), but the encoder's threads and numpy run outside the lock, and a
search waiting on the CPU behind them took 1.45x its idle time while single documents
streamed in (in process, 28k passages). With the writing thread's nice value raised by
10, the kernel gives a search the core first: 0.99x, the writes taking the CPU searches
leave (docs/performance.md, "Searches while writing").
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

# The most a nice value goes (Linux: -20 to 19).
LOWEST_PRIORITY = 19


def lower_priority(niceness: int) -> None:
    """Make the calling thread's nice value `niceness` above the process's main thread's
    (0: leave it); a thread already that low or lower is left as it is, so a thread
    started by a lowered one (a merge after a write) is not lowered twice.

    Linux gives each thread its own nice value, and threads the thread starts afterwards
    inherit it: OpenVINO's workers, which start on a server's first write, run at the
    write's priority. Elsewhere a nice value is the whole process's, so nothing changes."""
    if niceness <= 0 or sys.platform != "linux":
        return
    try:
        wanted = min(LOWEST_PRIORITY, os.getpriority(os.PRIO_PROCESS, os.getpid()) + niceness)
        if thread_niceness() < wanted:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), wanted)
    except OSError as exc:  # a sandbox may forbid it; the work still runs, at full priority
        log.warning("could not lower the priority of background work: %s", exc)


def thread_niceness() -> int:
    """The calling thread's nice value (0 where threads have none of their own)."""
    if sys.platform != "linux":
        return 0
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


# The longest a write waits, at each step, for the searches in flight to finish before it
# goes on (`Readers`): readers first, and a write still done within a few such waits.
STEP_ASIDE_S = 0.025


class Readers:
    """The searches in flight, so that a write steps aside for them between its steps.

    Searches never wait on a write: they read the published snapshot (a reference) and
    take no lock of the writer's. But on two cores with one interpreter lock, a write's
    Python work (story placement, the new snapshot's structures, the save) runs between
    a search's steps and slows it. So a write, before each of its steps, waits
    until no search is in flight (at most `step_aside_s`): a search that is running
    finishes first, and a write done while nobody reads waits for nothing."""

    def __init__(self, step_aside_s: float = STEP_ASIDE_S) -> None:
        self.step_aside_s = step_aside_s
        self._active = 0
        self._quiet = threading.Condition(threading.Lock())

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Count one search in flight while the block runs."""
        with self._quiet:
            self._active += 1
        try:
            yield
        finally:
            with self._quiet:
                self._active -= 1
                if not self._active:
                    self._quiet.notify_all()

    def step_aside(self) -> None:
        """Wait until no search is in flight, or `step_aside_s` at most."""
        if self.step_aside_s <= 0:
            return
        with self._quiet:
            self._quiet.wait_for(lambda: self._active == 0, timeout=self.step_aside_s)
