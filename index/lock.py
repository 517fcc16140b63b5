"""One writer per data directory: an exclusive lock on it, held while a process writes."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from index.errors import DataDirLocked


class DataDirLock:
    """An exclusive lock on a data directory, so two writers never share one index."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / ".lock"
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DataDirLocked(
                f"another parallax process is writing to {self.path.parent}; stop it, or send "
                "documents to its POST /documents instead"
            ) from None
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
