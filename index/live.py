"""The live index: the current `Corpus`, and the one writer that replaces it.

Searches read `LiveIndex.corpus` (a reference swap, no lock). Writes take a
lock, build the next snapshot, save it crash-safely, and only then publish it,
so a write that returns has reached the disk.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections import ChainMap
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
from index.stories import StoryMatcher, StoryOptions, StoryTable, publication_order

log = logging.getLogger(__name__)


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
    story_ids: dict[str, str] = field(default_factory=dict)  # each document's story
    new_stories: int = 0  # stories this batch started
    story_seconds: float = 0.0  # spent placing documents in stories

    @property
    def stories(self) -> int:
        """How many stories the batch's documents belong to."""
        return len(set(self.story_ids.values()))


class LiveIndex:
    """Owns the current snapshot and serialises writes to it and to its store."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        corpus: Corpus,
        chunking: Chunking,
        stories: StoryOptions | None = None,
        matcher: StoryMatcher | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunking = chunking
        self.story_options = stories or StoryOptions()
        self._corpus = corpus
        self._write_lock = threading.Lock()
        # The story matcher's working state, built from the snapshot on the first write and
        # kept while writes succeed (a failed write drops it, to be rebuilt from the snapshot).
        self._matcher: StoryMatcher | None = matcher

    @property
    def corpus(self) -> Corpus:
        return self._corpus

    def chunk(self, doc: Document) -> list[Passage]:
        # The model's own tokenizer decides sizes, so no passage is truncated when embedded.
        limit = min(self.chunking.max_tokens, self.embedder.max_tokens - 2)
        return chunk(doc, limit, self.chunking.overlap, self.embedder.count_tokens)

    def upsert(self, documents: Sequence[Document], progress: bool = False) -> IngestReport:
        """Add new documents, replace changed ones, skip identical ones; place each in a
        story, oldest first; save; publish."""
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
            if changed:
                changed = [changed[i] for i in publication_order(changed)]
                additions = self._embed(changed, progress)
                report.passages = sum(len(added.passages) for added in additions)
                replaced = [doc.id for doc in changed if doc.id in current.documents]
                started = time.perf_counter()
                matcher, table = self._place(current, replaced, additions)
                report.story_seconds = time.perf_counter() - started
                self._publish(
                    current.with_changes(replaced, additions, self._next_generation(), table),
                    matcher,
                )
            after = self._corpus.stories
            report.story_ids = {doc.id: after.story_of[doc.id] for doc in documents}
            before = current.stories.story_of.values()
            report.new_stories = len(set(report.story_ids.values()) - set(before))
            return report

    def delete(self, doc_id: str) -> None:
        """Remove a document and its passages; unknown ids raise `NotFound`."""
        with self._write_lock:
            current = self._corpus
            if doc_id not in current.documents:
                raise NotFound(f"no document with id {doc_id!r}; GET /documents lists them")
            matcher, table = self._place(current, [doc_id], [])
            self._publish(
                current.with_changes([doc_id], [], self._next_generation(), table), matcher
            )

    def replace_all(self, documents: Sequence[Document], progress: bool = False) -> IngestReport:
        """Rebuild from scratch: the index then holds exactly `documents`."""
        _refuse_duplicates(documents)
        with self._write_lock:
            current = self._corpus
            empty = Corpus.empty(current.model, current.dim)
            ordered = [documents[i] for i in publication_order(documents)]
            additions = self._embed(ordered, progress)
            started = time.perf_counter()
            matcher, table = self._place(empty, [], additions, fresh=True)
            seconds = time.perf_counter() - started
            self._publish(
                empty.with_changes([], additions, self._next_generation(), table), matcher
            )
            return IngestReport(
                added=[doc.id for doc in documents],
                passages=sum(len(added.passages) for added in additions),
                story_ids=dict(table.story_of),
                new_stories=len(set(table.story_of.values())),
                story_seconds=seconds,
            )

    def _place(
        self,
        current: Corpus,
        remove: Sequence[str],
        additions: Sequence[EmbeddedDocument],
        fresh: bool = False,
    ) -> tuple[StoryMatcher, StoryTable]:
        """Take `remove` out of their stories and place `additions` (in their order)."""
        if fresh:
            matcher = StoryMatcher(self.story_options, current.dim)
        else:
            matcher = self._matcher or self._load_matcher(current)
        # Until the write is published the matcher is ahead of the snapshot.
        self._matcher = None
        previous = {doc_id: current.stories.story_of.get(doc_id) for doc_id in remove}
        for doc_id in remove:
            matcher.remove(doc_id)
        matcher.assign(
            [(added.document, added.vectors) for added in additions],
            reuse={doc_id: story for doc_id, story in previous.items() if story is not None},
        )
        documents = ChainMap(
            {added.document.id: added.document for added in additions}, current.documents
        )
        return matcher, matcher.table(documents)

    def warm_stories(self) -> float:
        """Build the story matcher now rather than on the first write; seconds it took.

        The matcher reads every document again (seconds for tens of thousands), so a
        server calls this in the background once its index is loaded.
        """
        started = time.perf_counter()
        with self._write_lock:
            if self._matcher is None:
                self._matcher = self._load_matcher(self._corpus)
        return time.perf_counter() - started

    def _load_matcher(self, corpus: Corpus) -> StoryMatcher:
        """The matcher restored from the state saved with the snapshot, else rebuilt."""
        state = self.store.load_matcher_state(corpus)
        if state is not None:
            matcher = StoryMatcher.restore(
                list(corpus.documents.values()),
                corpus.stories,
                state,
                self.story_options,
                corpus.dim,
            )
            if matcher is not None:
                return matcher
        return story_matcher(corpus, self.story_options)

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

    def _publish(self, corpus: Corpus, matcher: StoryMatcher) -> None:
        corpus.warm()
        self.store.save(corpus, self.chunking.as_dict())
        self._corpus = corpus
        self._matcher = matcher
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


def story_matcher(
    corpus: Corpus, options: StoryOptions, order: Sequence[Document] | None = None
) -> StoryMatcher:
    """A matcher in the state that placed the corpus's documents, taken in `order` (by
    default the corpus's, which is the order they were placed in); documents with no
    story yet are matched as they come."""

    def passage_vectors(doc_id: str) -> np.ndarray:
        rows = corpus.rows_of(doc_id)
        return corpus.vectors[rows.start : rows.stop]

    documents = corpus.documents.values() if order is None else order
    return StoryMatcher.rebuild(documents, passage_vectors, corpus.stories, options, corpus.dim)


def open_index(
    directory: Path,
    embedder: Embedder,
    chunking: Chunking,
    seed: Sequence[Document] | None = None,
    progress: bool = False,
    stories: StoryOptions | None = None,
) -> LiveIndex:
    """Load the index in `directory`, or build it from `seed` when there is none yet."""
    store = IndexStore(directory)
    if store.exists():
        corpus = store.load(embedder.name, embedder.dim)
        unplaced = len(corpus.documents) - len(corpus.stories.story_of)
        matcher = None
        if unplaced:
            # An index from before stories: place its documents now, oldest first; the
            # stories are saved with the next write.
            log.info("placing %d documents of %s in stories", unplaced, directory)
            documents = list(corpus.documents.values())
            oldest_first = [documents[i] for i in publication_order(documents)]
            matcher = story_matcher(corpus, stories or StoryOptions(), oldest_first)
            corpus = corpus.with_stories(matcher.table(corpus.documents))
        corpus.warm()
        return LiveIndex(store, embedder, corpus, chunking, stories, matcher)
    live = LiveIndex(store, embedder, Corpus.empty(embedder.name, embedder.dim), chunking, stories)
    if seed:
        log.info("no index in %s yet: building it from %d documents", directory, len(seed))
        live.replace_all(seed, progress=progress)
    return live
