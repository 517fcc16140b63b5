"""What the app holds between requests: settings, the embedder and the live index.

The index loads (or is built from the seeds) in a background thread started by
the lifespan, so `/health` can answer 503 with the reason while it loads or
if it fails, instead of the server refusing connections.
"""

from __future__ import annotations

import functools
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.settings import Settings
from index.documents import load_seeds
from index.embed import Embedder, make_embedder
from index.errors import NotReady, ParallaxError
from index.live import Chunking, LiveIndex, open_index
from index.lock import DataDirLock
from index.priority import lower_priority
from search import gazetteer

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    embedder: Embedder | None = None
    live: LiveIndex | None = None
    error: str | None = None
    _lock: DataDirLock | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @functools.cached_property
    def reader(self) -> Any:
        """The reader's options (`search.answers.ReaderOptions`) the settings set, made once."""
        return self.settings.reader_options()

    def start(self) -> None:
        """Load the index in the background; `ready()` tells when it is usable."""
        self._thread = threading.Thread(target=self._load, name="parallax-load", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        if self.live is not None:
            self.live.close()  # a write or merge in flight finishes before the lock goes
        if self._lock is not None:
            self._lock.release()

    def _load(self) -> None:
        settings = self.settings
        try:
            # Held until stop(), which may come while the index is still loading.
            self._lock = lock_data_dir(settings)
            # The query encoder and its threads at the server's priority: they serve
            # searches. The rest of the load is background work (`index.priority`): on a
            # first start it builds the index from the seeds, and the batch encoder's
            # threads it starts then run below searches for the server's life.
            if self.embedder is None:
                self.embedder = embedder_from_settings(settings, settings.models_dir)
            self.embedder.encode(["a first query"])
            lower_priority(settings.write_niceness)
            live = open_from_settings(settings, self.embedder, background_merges=True)
            live.write_niceness = settings.write_niceness
            # Queued on the write thread before the index serves, so every write (and a
            # bench's warm-up barrier) comes after it.
            warming = live.in_background(live.warm_stories)
            self.live = live
            corpus = live.corpus
            log.info(
                "ready: %d documents, %d passages, model %s",
                len(corpus.documents),
                len(corpus.passages),
                corpus.model,
            )
            threading.Thread(
                target=self._warm, args=(warming,), name="parallax-warm", daemon=True
            ).start()
        except ParallaxError as exc:
            self.error = exc.message
            log.error("index not loaded: %s", exc.message)
        except Exception as exc:  # a startup fault must leave the service not ready, not dead
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("index not loaded")

    def _warm(self, warming: Future[float]) -> None:
        """After the index serves reads: the reader's gazetteers, so the first question does
        not load them; and a log line once the story matcher for writes, being prepared on
        the write thread, is ready (writes wait for it)."""
        gazetteer.warm()
        try:
            seconds = warming.result()
        except Exception:  # the first write builds it instead, and reports what fails
            log.exception("could not prepare story matching")
            return
        log.info("story matching ready in %.1f s", seconds)

    def require_live(self) -> LiveIndex:
        """The live index, or `NotReady` saying why there is none yet."""
        if self.live is not None:
            return self.live
        if self.error is not None:
            raise NotReady(f"the index failed to load: {self.error}")
        raise NotReady("the index is still loading; retry in a few seconds (GET /health)")

    def require_embedder(self) -> Embedder:
        self.require_live()
        assert self.embedder is not None
        return self.embedder


def lock_data_dir(settings: Settings) -> DataDirLock:
    """The data directory's writer lock, taken (refused while another process holds it):
    the server holds it while it runs, `parallax build` and `ingest` while they write."""
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    return lock


def open_from_settings(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: bool = False,
    background_merges: bool = False,
) -> LiveIndex:
    """Load the index the settings name, building it from the seed folder on first use.
    A server merges segments in the background after its writes (`index.merge`)."""
    embedder = embedder or embedder_from_settings(settings, settings.models_dir)
    fresh = not (settings.index_dir / "manifest.json").exists()
    return open_index(
        settings.index_dir,
        embedder,
        Chunking(settings.chunk_tokens, settings.chunk_overlap),
        load_seeds(settings.seeds_dir) if fresh else None,
        progress=progress,
        stories=settings.story_options(),
        merges=settings.merge_policy(),
        background_merges=background_merges,
    )


def embedder_from_settings(settings: Settings, models_dir: Path | None) -> Embedder:
    """The embedder the settings name, keeping its ONNX export in `models_dir`
    (without one, sentence-transformers does everything)."""
    return make_embedder(settings.embedder_options(models_dir))
