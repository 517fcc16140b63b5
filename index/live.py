"""The live index: the current `Corpus`, and the one writer that replaces it.

Searches read `LiveIndex.corpus` (a reference swap, no lock). Writes take a
lock, build the next snapshot (the previous one's segments plus one new segment),
save it crash-safely, and only then publish it, so a write that returns has
reached the disk. Merges fold small segments together (`index.merge`): the folded
segment is built and written outside the lock, then published under it like a write.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from index.chunk import Passage
from index.corpus import Corpus, EmbeddedDocument, segment_name
from index.documents import Document, publication_order
from index.embed import Embedder
from index.errors import BadRequest, NotFound, NotReady
from index.merge import (
    MERGES,
    MergePolicy,
    merge_segments,
    merged_name,
    pick_merge,
    segment_generation,
)
from index.pipeline import Chunking, Placement, chunk_document, embed_documents
from index.priority import Readers, lower_priority
from index.segment import Segment, SegmentParts
from index.stages import stage
from index.store import IndexStore
from index.stories import StoryMatcher, StoryOptions

log = logging.getLogger(__name__)

T = TypeVar("T")


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


# Documents written since the story matcher's state was saved from which a write saves it
# again, once they are also one in `MATCHER_SAVE_ONE_IN` of the archive's documents
# (`LiveIndex._matcher_is_stale`).
MATCHER_SAVE_FROM = 1000
MATCHER_SAVE_ONE_IN = 10


class RemoteBuild(Protocol):
    """Chunks, embeds and writes documents in other processes (`index.distributed`)."""

    def write_segments(self, documents: Sequence[Document], first_generation: int) -> list[str]:
        """Write `documents` (in this order) as segments of the index with
        `IndexStore.write_part`, each named `segment_name(first_generation + n)` after the
        position `n` of its first document, and return their names in document order. A
        document is in exactly one of them."""


def _embedded(segments: Sequence[Segment], documents: Sequence[Document]) -> list[EmbeddedDocument]:
    """`documents`, in their order, with their passage vectors from the new `segments`
    that hold them: what story placement reads."""
    where = {doc_id: segment for segment in segments for doc_id in segment.documents}
    embedded = []
    for doc in documents:
        segment = where[doc.id]
        rows = segment.rows_of(doc.id)
        vectors = segment.vectors[rows.start : rows.stop]
        embedded.append(EmbeddedDocument(segment.documents[doc.id], (), vectors, _NO_SENTENCES))
    return embedded


_NO_SENTENCES = np.zeros((0, 0), np.float32)


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
        merges: MergePolicy | None = MERGES,
        background_merges: bool = False,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunking = chunking
        self.story_options = stories or StoryOptions()
        # How segments are merged (None: never, as a read-only tool wants).
        self.merge_policy = merges
        self._corpus = corpus
        self._write_lock = threading.Lock()
        self._merge_lock = threading.Lock()
        # A server merges in a thread after its writes; tools merge when they choose.
        self.background_merges = background_merges
        self._merger: threading.Thread | None = None
        self._rebuilds = 0  # full rebuilds (`replace_all`), so a merge never outlives one
        # The story matcher's working state, built from the snapshot on the first write and
        # kept while writes succeed (a failed write drops it, to be rebuilt from the snapshot).
        self._matcher: StoryMatcher | None = matcher
        # Searches in flight, counted by the server: writes step aside for them.
        self.readers = Readers()
        # How much lower than searches a server's writes and merges run (`index.priority`).
        self.write_niceness = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parallax-write")
        self._closed = False

    @property
    def corpus(self) -> Corpus:
        return self._corpus

    def in_background(self, work: Callable[..., T], *args: object) -> Future[T]:
        """Run `work(*args)` on the index's write thread, at `write_niceness` below
        searches: a server sends its writes here. `NotReady` once the index is closing."""

        def lowered() -> T:
            lower_priority(self.write_niceness)  # a few system calls, on every job
            return work(*args)

        closing = NotReady("the server is shutting down; send the write again once it is back")
        if self._closed:
            raise closing
        try:
            return self._writer.submit(lowered)
        except RuntimeError:  # the executor's own word for shut down, if `close` came between
            raise closing from None

    def close(self) -> None:
        """Take no more background work, finish what was taken (a story-matcher warm-up
        not begun is skipped), and wait for a merge."""
        self._closed = True
        self._writer.shutdown(wait=True)
        self.wait_for_merges()

    def chunk(self, doc: Document) -> list[Passage]:
        return chunk_document(self.embedder, self.chunking, doc)

    def upsert(
        self,
        documents: Sequence[Document],
        progress: bool = False,
        remote: RemoteBuild | None = None,
    ) -> IngestReport:
        """Add new documents, replace changed ones, skip identical ones; place each in a
        story, oldest first; save; publish. With `remote`, other processes chunk, embed
        and write the new documents (`RemoteBuild`)."""
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
                replaced = [doc.id for doc in changed if doc.id in current.documents]
                placement = self._placement(current, replaced)
                self.readers.step_aside()
                segments, generation = self._segments(changed, progress, remote, placement)
                report.passages = sum(len(segment.passages) for segment in segments)
                self.readers.step_aside()
                table = placement.table(current.documents)
                report.story_seconds = placement.seconds
                corpus = current.with_segments(replaced, segments, generation, table)
                self._publish(
                    corpus, placement.matcher, save_matcher=self._matcher_is_stale(corpus)
                )
            after = self._corpus.stories
            report.story_ids = {doc.id: after.story_of[doc.id] for doc in documents}
            report.new_stories = len(_new_stories(current, set(report.story_ids.values())))
        self._after_write()
        return report

    def _matcher_is_stale(self, corpus: Corpus) -> bool:
        """Whether a restart would describe too many documents again: those written since
        the story matcher's state was last saved, once they reach a tenth of the archive
        (and at least `MATCHER_SAVE_FROM`). Full builds and merges save it anyway; without
        this, an archive fed by large `parallax ingest` batches was never saved, and a
        server started on 19k documents rebuilt story matching from all of them (8 s)."""
        saved = self.store.matcher_generation()
        written = sum(
            len(s.documents) for s in corpus.segments if segment_generation(s.name) > saved
        )
        return written >= max(MATCHER_SAVE_FROM, len(corpus.documents) // MATCHER_SAVE_ONE_IN)

    def delete(self, doc_id: str) -> None:
        """Remove a document and its passages; unknown ids raise `NotFound`."""
        with self._write_lock:
            current = self._corpus
            if doc_id not in current.documents:
                raise NotFound(f"no document with id {doc_id!r}; GET /documents lists them")
            placement = self._placement(current, [doc_id])
            table = placement.table(current.documents)
            self._publish(
                current.with_changes([doc_id], [], self._next_generation(), table),
                placement.matcher,
            )
        self._after_write()

    def replace_all(
        self,
        documents: Sequence[Document],
        progress: bool = False,
        remote: RemoteBuild | None = None,
    ) -> IngestReport:
        """Rebuild from scratch: the index then holds exactly `documents` (chunked, embedded
        and written by `remote` when given)."""
        _refuse_duplicates(documents)
        with self._write_lock:
            current = self._corpus
            self._rebuilds += 1
            empty = Corpus.empty(current.model, current.dim)
            ordered = [documents[i] for i in publication_order(documents)]
            placement = self._placement(empty, [], fresh=True)
            segments, generation = self._segments(ordered, progress, remote, placement)
            table = placement.table(empty.documents)
            self._publish(
                empty.with_segments([], segments, generation, table),
                placement.matcher,
                save_matcher=True,
            )
            return IngestReport(
                added=[doc.id for doc in documents],
                passages=sum(len(segment.passages) for segment in segments),
                story_ids=dict(table.story_of),
                new_stories=len(set(table.story_of.values())),
                story_seconds=placement.seconds,
            )

    def _placement(self, current: Corpus, remove: Sequence[str], fresh: bool = False) -> Placement:
        """Story placement for a write over `current` that takes out `remove` (the time it
        takes, a matcher restored or rebuilt included, counts as placing)."""
        started = time.perf_counter()
        with stage("story placement"):
            if fresh:
                matcher = StoryMatcher(self.story_options, current.dim)
            else:
                matcher = self._matcher or self._load_matcher(current)
            # Until the write is published the matcher is ahead of the snapshot.
            self._matcher = None
            placement = Placement(matcher, current.stories, remove)
        placement.seconds += time.perf_counter() - started
        return placement

    def warm_stories(self) -> float:
        """Build the story matcher now rather than on the first write; seconds it took.

        The matcher reads every document again (seconds for tens of thousands), so a
        server calls this in the background once its index is loaded.
        """
        started = time.perf_counter()
        with self._write_lock:
            if self._matcher is None and not self._closed:
                self._matcher = self._load_matcher(self._corpus)
        return time.perf_counter() - started

    def _load_matcher(self, corpus: Corpus) -> StoryMatcher:
        """The matcher restored from the state saved with an earlier snapshot (describing
        only the documents written since), else rebuilt from every document."""
        saved = self.store.load_matcher_state(corpus)
        if saved is not None:
            state, generation = saved
            fresh = {
                doc_id
                for segment in corpus.segments
                if segment_generation(segment.name) > generation
                for doc_id in segment.documents
            }
            matcher = StoryMatcher.restore(
                list(corpus.documents),
                corpus.stories,
                state,
                self.story_options,
                corpus.dim,
                lambda doc_id: _vectors_of(corpus, doc_id),
                corpus.documents.__getitem__,
                fresh,
            )
            if matcher is not None:
                return matcher
        return story_matcher(corpus, self.story_options)

    # --- merges --------------------------------------------------------------------------

    def merge(self) -> bool:
        """Fold the segments the merge policy picks into one; False when none need it.

        The folded segment is built and written without the write lock, so writes go on
        meanwhile; it is published under the lock with what those writes did to the
        documents it holds. A crash before the publish leaves an unnamed folder that the
        next save removes.
        """
        if self.merge_policy is None:
            return False
        with self._merge_lock:
            snapshot, rebuilds = self._corpus, self._rebuilds
            names = pick_merge(snapshot.segments, snapshot.dead, self.merge_policy)
            if not names:
                return False
            started = time.perf_counter()
            folded = [s for s in snapshot.segments if s.name in names]
            name = merged_name(names, snapshot.generation)
            merged = merge_segments(folded, snapshot.dead, name)
            # A graph, if the merged segment's size asks for one, is built here: not under
            # the write lock, nor by a search.
            merged.searcher(snapshot.vector_options)
            merged = self.store.write_segment(merged, snapshot.stories.story_of)
            with self._write_lock:
                current = self._corpus
                corpus = None
                if self._rebuilds == rebuilds:  # not rebuilt from scratch meanwhile
                    corpus = current.with_merged(merged, names, self._next_generation())
                if corpus is None:
                    self.store.abandon(merged.name)  # the next save removes its folder
                    return False
                try:
                    self._publish(corpus, self._matcher, save_matcher=True)
                except BaseException:
                    self.store.abandon(merged.name)
                    raise
            log.info(
                "merged %d segments into %s (%d passages) in %.2f s",
                len(names),
                merged.name,
                len(merged.passages),
                time.perf_counter() - started,
            )
            return True

    def _after_write(self) -> None:
        """Start merging in the background when the policy asks for it (and a thread is
        not merging already)."""
        if not self.background_merges or self.merge_policy is None:
            return
        snapshot = self._corpus
        if not pick_merge(snapshot.segments, snapshot.dead, self.merge_policy):
            return
        if self._merger is not None and self._merger.is_alive():
            return
        self._merger = threading.Thread(target=self._merge_quietly, name="merge", daemon=True)
        self._merger.start()

    def _merge_quietly(self) -> None:
        lower_priority(self.write_niceness)
        try:
            self.merge_all()
        except Exception:  # noqa: BLE001 - a failed merge loses nothing; the next write retries
            log.exception("merging segments failed; the index is unchanged")

    def wait_for_merges(self) -> None:
        """Wait for a background merge to finish (tests, shutdown)."""
        if self._merger is not None:
            self._merger.join()

    def merge_all(self) -> int:
        """Merge until the policy asks for nothing more; how many merges ran."""
        merges = 0
        with stage("merges"):
            while self.merge():
                merges += 1
        return merges

    def _segments(
        self,
        documents: Sequence[Document],
        progress: bool,
        remote: RemoteBuild | None,
        placement: Placement,
    ) -> tuple[list[Segment], int]:
        """The new documents (in publication order) as segments, each placed in a story, and
        the generation that publishes them: one segment in memory, named after that
        generation, its documents placed while the encoder runs; or those the remote build
        wrote, named after the generations just before it (one per document at most, so no
        name is ever reused)."""
        generation = self._next_generation()
        if not documents:
            return [], generation
        if remote is None:
            parts = SegmentParts(self._corpus.dim)

            def then(group: Sequence[EmbeddedDocument]) -> Iterator[None]:
                return itertools.chain(placement.steps(group), parts.steps(group))

            embedded = embed_documents(self.embedder, self.chunking, documents, progress, then)
            segment = Segment.build(segment_name(generation), embedded, self._corpus.dim, parts)
            return [segment], generation
        names = remote.write_segments(documents, generation)
        segments = self.store.read_parts(names, self._corpus.dim)
        for _ in placement.steps(_embedded(segments, documents)):
            pass
        return segments, generation + len(documents)

    def _next_generation(self) -> int:
        """One past both the published and the committed generation.

        They differ when a save failed after its commit (the directory fsync):
        the write is on disk but not published, and its file names must never
        be reused, or a later crash could pair one generation's vectors with
        another's passages.
        """
        return max(self._corpus.generation, self.store.committed_generation()) + 1

    def _publish(
        self, corpus: Corpus, matcher: StoryMatcher | None, save_matcher: bool = False
    ) -> None:
        if save_matcher and matcher is not None and corpus.stories.state is None:
            # Under the write lock the matcher has learned exactly the snapshot's documents.
            corpus = corpus.with_stories(replace(corpus.stories, state=matcher.state()))
        self.readers.step_aside()
        with stage("snapshot"):
            corpus.warm()
        self.readers.step_aside()
        with stage("writing and fsync"):
            self.store.save(corpus, self.chunking.as_dict(), matcher=save_matcher)
        self._corpus = corpus
        self._matcher = matcher
        log.info(
            "index generation %d: %d documents, %d passages in %d segments",
            corpus.generation,
            len(corpus.documents),
            len(corpus.passages),
            len(corpus.segments),
        )


def _new_stories(before: Corpus, stories: set[str]) -> set[str]:
    """Which of `stories` the snapshot `before` did not have."""
    known = before.stories.members
    if known is None:  # a table read from disk: look the story ids up
        return stories - set(before.stories.story_of.values())
    return {story for story in stories if story not in known}


def _vectors_of(corpus: Corpus, doc_id: str) -> np.ndarray:
    rows = corpus.rows_of(doc_id)
    return corpus.vectors[rows.start : rows.stop]


def _refuse_duplicates(documents: Sequence[Document]) -> None:
    seen: dict[str, int] = {}
    for number, doc in enumerate(documents):
        if doc.id in seen:
            raise BadRequest(
                f"document id {doc.id!r} appears twice in one batch (items {seen[doc.id]} and "
                f"{number}); send each id once"
            )
        seen[doc.id] = number


def story_matcher(
    corpus: Corpus, options: StoryOptions, order: Sequence[Document] | None = None
) -> StoryMatcher:
    """A matcher in the state that placed the corpus's documents, taken in `order` (by
    default the corpus's, which is the order they were placed in); documents with no
    story yet are matched as they come."""

    documents = corpus.documents.values() if order is None else order
    return StoryMatcher.rebuild(
        documents, lambda doc_id: _vectors_of(corpus, doc_id), corpus.stories, options, corpus.dim
    )


def open_index(
    directory: Path,
    embedder: Embedder,
    chunking: Chunking,
    seed: Sequence[Document] | None = None,
    progress: bool = False,
    stories: StoryOptions | None = None,
    merges: MergePolicy | None = MERGES,
    background_merges: bool = False,
) -> LiveIndex:
    """Load the index in `directory`, or build it from `seed` when there is none yet.
    With `background_merges` (a server) segments are merged in a thread after writes."""
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
        return LiveIndex(
            store,
            embedder,
            corpus,
            chunking,
            stories,
            matcher,
            merges=merges,
            background_merges=background_merges,
        )
    empty = Corpus.empty(embedder.name, embedder.dim)
    live = LiveIndex(store, embedder, empty, chunking, stories, background_merges=background_merges)
    if seed:
        log.info("no index in %s yet: building it from %d documents", directory, len(seed))
        live.replace_all(seed, progress=progress)
    return live
