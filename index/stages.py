"""Where a write's time goes: named stages timed across the ingest path (chunking,
encoding, story placement, saving, ...), for `parallax bench` and anyone profiling.

Timing is off unless a caller asks for it with `recording()`; a `stage()` then costs two
clock reads. A stage's time excludes the stages timed inside it, so the stages of one
thread add up to at most the whole; stages of different threads (a producer beside the
encoder) overlap in wall-clock time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class StageTimes:
    """Seconds per stage, each stage's own (its inner stages left out)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def shares(self, whole: float) -> dict[str, float]:
        """Each stage's seconds as a share of `whole` (the write's wall-clock time)."""
        return {name: round(seconds / whole, 4) for name, seconds in self.seconds.items()}

    def _stack(self) -> list[float]:
        stack: list[float] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack


_CURRENT: ContextVar[StageTimes | None] = ContextVar("parallax_stage_times", default=None)


@contextmanager
def recording() -> Iterator[StageTimes]:
    """Time the stages run inside this block (in this context and the threads started
    with its context copied)."""
    times = StageTimes()
    token = _CURRENT.set(times)
    try:
        yield times
    finally:
        _CURRENT.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Count the block's time, less its inner stages', to `name` when recording."""
    times = _CURRENT.get()
    if times is None:
        yield
        return
    stack = times._stack()
    stack.append(0.0)  # the time of the stages inside this one
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        inner = stack.pop()
        if stack:
            stack[-1] += elapsed
        times.add(name, elapsed - inner)
