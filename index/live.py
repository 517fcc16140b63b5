"""The live index: the current `Corpus`, and the one writer that replaces it.

Searches read `LiveIndex.corpus` (a reference swap, no lock). Writes take a
lock, build the next snapshot, save it crash-safely, and only then publish it,
so a write that returns has reached the disk.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from index.chunk import Passage, chunk
from index.corpus import Corpus, EmbeddedDocument
from index.documents import Document
from index.embed import Embedder, embed_passages
from index.errors import BadRequest, DataDirLocked, NotFound
from index.store import IndexStore

log = logging.getLogger("parallax.index")


@dataclass(frozen=True)
class Chunking:
    max_tokens: int = 192
    overlap: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"max_tokens": self.max_tokens, "overlap": self.overlap}


@dataclass
class IngestReport:
    """What a batch did, by document id."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    passages: int = 0


class LiveIndex:
    """Owns the current snapshot and serialises writes to it and to its store."""

    def __init__(
        self, store: IndexStore, embedder: Embedder, corpus: Corpus, chunking: Chunking
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunking = chunking
        self._corpus = corpus
        self._write_lock = threading.Lock()

    @property
    def corpus(self) -> Corpus:
        return self._corpus

    def chunk(self, doc: Document) -> list[Passage]:
        # The model's own tokenizer decides sizes, so no passage is truncated when embedded.
        limit = min(self.chunking.max_tokens, self.embedder.max_tokens - 2)
        return chunk(doc, limit, self.chunking.overlap, self.embedder.count_tokens)

    def upsert(self, documents: Sequence[Document], progress: bool = False) -> IngestReport:
        """Add new documents, replace changed ones, skip identical ones; save; publish."""
        _refuse_duplicates(documents)
        with self._write_lock:
            current = self._corpus
            report = IngestReport()
            changed: list[Document] = []
            for doc in documents:
                old = current.documents.get(doc.id)
                if old == doc:
                    report.unchanged.append(doc.id)
                    continue
                (report.replaced if old is not None else report.added).append(doc.id)
                changed.append(doc)
            if not changed:
                return report
            additions = self._embed(changed, progress)
            report.passages = sum(len(added.passages) for added in additions)
            self._publish(
                current.with_changes(
                    (doc.id for doc in changed), additions, self._next_generation()
                )
            )
            return report

    def delete(self, doc_id: str) -> None:
        """Remove a document and its passages; unknown ids raise `NotFound`."""
        with self._write_lock:
            current = self._corpus
            if doc_id not in current.documents:
                raise NotFound(f"no document with id {doc_id!r}; GET /documents lists them")
            self._publish(current.with_changes([doc_id], [], self._next_generation()))

    def replace_all(self, documents: Sequence[Document], progress: bool = False) -> IngestReport:
        """Rebuild from scratch: the index then holds exactly `documents`."""
        _refuse_duplicates(documents)
        with self._write_lock:
            current = self._corpus
            empty = Corpus.empty(current.model, current.dim)
            additions = self._embed(documents, progress)
            self._publish(empty.with_changes([], additions, self._next_generation()))
            return IngestReport(
                added=[doc.id for doc in documents],
                passages=sum(len(added.passages) for added in additions),
            )

    def _embed(self, documents: Iterable[Document], progress: bool) -> list[EmbeddedDocument]:
        """Chunk and embed documents: each passage and each of its sentences."""
        chunked = [(doc, self.chunk(doc)) for doc in documents]
        passages = [passage for _, parts in chunked for passage in parts]
        vectors, sentences = embed_passages(self.embedder, passages, progress=progress)
        embedded, row = [], 0
        for doc, parts in chunked:
            rows = slice(row, row + len(parts))
            sentence_vectors = sentences[rows]
            embedded.append(
                EmbeddedDocument(
                    doc,
                    parts,
                    vectors[rows],
                    np.concatenate(sentence_vectors)
                    if sentence_vectors
                    else np.zeros((0, vectors.shape[1]), np.float32),
                )
            )
            row += len(parts)
        return embedded

    def _next_generation(self) -> int:
        """One past both the published and the committed generation.

        They differ when a save failed after its commit (the directory fsync):
        the write is on disk but not published, and its file names must never
        be reused, or a later crash could pair one generation's vectors with
        another's passages.
        """
        return max(self._corpus.generation, self.store.committed_generation()) + 1

    def _publish(self, corpus: Corpus) -> None:
        corpus.warm()
        self.store.save(corpus, self.chunking.as_dict())
        self._corpus = corpus
        log.info(
            "index generation %d: %d documents, %d passages",
            corpus.generation,
            len(corpus.documents),
            len(corpus.passages),
        )


def _refuse_duplicates(documents: Sequence[Document]) -> None:
    seen: dict[str, int] = {}
    for number, doc in enumerate(documents):
        if doc.id in seen:
            raise BadRequest(
                f"document id {doc.id!r} appears twice in one batch (items {seen[doc.id]} and "
                f"{number}); send each id once"
            )
        seen[doc.id] = number


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


def open_index(
    directory: Path,
    embedder: Embedder,
    chunking: Chunking,
    seed: Sequence[Document] | None = None,
    progress: bool = False,
) -> LiveIndex:
    """Load the index in `directory`, or build it from `seed` when there is none yet."""
    store = IndexStore(directory)
    if store.exists():
        corpus = store.load(embedder.name, embedder.dim)
        corpus.warm()
        return LiveIndex(store, embedder, corpus, chunking)
    live = LiveIndex(store, embedder, Corpus.empty(embedder.name, embedder.dim), chunking)
    if seed:
        log.info("no index in %s yet: building it from %d documents", directory, len(seed))
        live.replace_all(seed, progress=progress)
    return live
