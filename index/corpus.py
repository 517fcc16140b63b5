"""An immutable snapshot of the index: its segments, which of their documents are dead,
and the search structures over the live passages.

A write makes a new snapshot from the previous one and a new segment (index/segment.py)
and swaps it in whole, so a search always sees one consistent version: every row
resolves to a live passage and its document. Rows number the live passages of the
segments in order, so the search code never sees a dead one.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from index.chunk import Passage
from index.columns import concatenated_ranges
from index.documents import PUBLISHED_DTYPE, Document, publication_key
from index.postings import bm25_scores, length_norms
from index.segment import EmbeddedDocument, Segment, stacked
from index.stories import Story, StoryTable
from index.vectors import VECTOR_OPTIONS, VectorOptions, top

__all__ = ["Corpus", "DocumentTable", "EmbeddedDocument", "concatenated_ranges"]


@dataclass(frozen=True)
class DocumentTable:
    """The live documents of a snapshot in row order, as arrays for vectorised filters
    (stories are filtered by their members instead: `Corpus.story_member_ids`)."""

    ids: list[str]  # document ids, in row order
    starts: np.ndarray  # first passage row
    counts: np.ndarray  # passage rows
    sources: list[str]  # the distinct casefolded outlets ("" for none)
    source_codes: np.ndarray  # each document's index into `sources`
    published: np.ndarray  # "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", or "" for undated

    @cached_property
    def position(self) -> dict[str, int]:
        """Document id -> its index in the arrays (built when a filter names documents)."""
        return {doc_id: n for n, doc_id in enumerate(self.ids)}


@dataclass(frozen=True, eq=False)
class Corpus:
    """Segments, oldest first; the documents of each that are dead (deleted, or replaced
    by a newer copy in a later segment); the stories; the search structures.

    `vectors` has one row per live passage; `sentence_vectors` one row per sentence of
    each live passage, passage by passage, so passage `i` owns the sentence rows
    `sentence_offsets[i]:sentence_offsets[i + 1]`.
    """

    segments: tuple[Segment, ...]
    model: str
    dim: int
    generation: int = 0
    # Segment name -> ids of its documents that are no longer live (tombstones).
    dead: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Which story each document belongs to (index/stories.py).
    stories: StoryTable = field(default_factory=StoryTable)
    # How each segment's vectors are searched, exactly or through a graph (index/vectors.py).
    vector_options: VectorOptions = field(default=VECTOR_OPTIONS, repr=False)

    @classmethod
    def empty(cls, model: str, dim: int) -> Corpus:
        return cls((), model, dim)

    @classmethod
    def of(
        cls,
        documents: Mapping[str, Document],
        passages: Sequence[Passage],
        vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        model: str,
        generation: int = 0,
        stories: StoryTable | None = None,
        vector_options: VectorOptions = VECTOR_OPTIONS,
    ) -> Corpus:
        """A snapshot of one segment holding the given documents, passages and vectors."""
        segment = Segment.of(
            segment_name(generation), documents, passages, vectors, sentence_vectors
        )
        segments = (segment,) if documents else ()
        return cls(
            segments,
            model,
            int(vectors.shape[1]),
            generation,
            stories=stories or StoryTable(),
            vector_options=vector_options,
        )

    # --- the live rows ---------------------------------------------------------------

    @cached_property
    def _views(self) -> list[tuple[Segment, np.ndarray | None, np.ndarray | None]]:
        """Each segment with its live passage rows and sentence rows (None: all)."""
        views = []
        for segment in self.segments:
            dead = self.dead.get(segment.name)
            if dead:
                views.append((segment, *segment.live_rows(dead)))
            else:
                views.append((segment, None, None))
        return views

    @cached_property
    def _dead_rows(self) -> list[np.ndarray | None]:
        """Each segment's dead local passage rows (None: none)."""
        return [
            None if keep is None else np.setdiff1d(np.arange(len(s.passages)), keep)
            for s, keep, _ in self._views
        ]

    @cached_property
    def _bases(self) -> np.ndarray:
        """The first row of each segment's live passages, and the total."""
        sizes = [len(s.passages) if keep is None else len(keep) for s, keep, _ in self._views]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @cached_property
    def documents(self) -> Mapping[str, Document]:
        """The live documents, in the order they were written."""
        return _LiveDocuments(self.segments, self.dead)

    @cached_property
    def passages(self) -> Sequence[Passage]:
        """The live passages in row order (a view over the segments: a write does not copy
        a reference to every passage, 18 ms at 285k)."""
        return _LivePassages(self._views, self._bases)

    @cached_property
    def vectors(self) -> np.ndarray:
        if not self.segments:
            return np.zeros((0, self.dim), dtype=np.float32)
        return stacked([s.vectors for s in self.segments], [k for _, k, _ in self._views])

    @cached_property
    def sentence_vectors(self) -> np.ndarray:
        if not self.segments:
            return np.zeros((0, self.dim), dtype=np.float32)
        return stacked([s.sentence_vectors for s in self.segments], [k for *_, k in self._views])

    def _segment_of(self, doc_id: str) -> int | None:
        """The position of the segment where `doc_id` is live (newest first: a replaced
        document's old copy is dead)."""
        for n in range(len(self.segments) - 1, -1, -1):
            segment = self.segments[n]
            if doc_id in segment.documents and doc_id not in self.dead.get(segment.name, ()):
                return n
        return None

    def rows_of(self, doc_id: str) -> range:
        n = self._segment_of(doc_id)
        if n is None:
            return range(0)
        segment, keep, _ = self._views[n]
        local = segment.rows_of(doc_id)
        first = local.start if keep is None else int(np.searchsorted(keep, local.start))
        start = int(self._bases[n]) + first
        return range(start, start + len(local))

    def passages_of(self, doc_id: str) -> Sequence[Passage]:
        rows = self.rows_of(doc_id)
        return self.passages[rows.start : rows.stop]

    @cached_property
    def sentence_offsets(self) -> np.ndarray:
        """Where each live passage's sentence rows start, plus the total at the end."""
        counts = [
            np.diff(s.sentence_offsets) if keep is None else np.diff(s.sentence_offsets)[keep]
            for s, keep, _ in self._views
        ]
        every = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
        return np.concatenate([[0], np.cumsum(every)]).astype(np.int64)

    @cached_property
    def sentence_passages(self) -> np.ndarray:
        """For each sentence row, the passage row it belongs to."""
        return np.repeat(np.arange(len(self.passages)), np.diff(self.sentence_offsets))

    def sentence_rows(self, passage_rows: np.ndarray) -> np.ndarray:
        """The sentence rows of the given passage rows, passage by passage."""
        starts = self.sentence_offsets[passage_rows]
        return concatenated_ranges(starts, self.sentence_offsets[passage_rows + 1] - starts)

    # --- lexical search ----------------------------------------------------------------

    @cached_property
    def _bm25_totals(self) -> tuple[int, int]:
        """Passages and their terms over every segment (dead ones too, as Lucene counts
        them until a merge: `index.postings`)."""
        passages = sum(len(s.passages) for s in self.segments)
        return int(sum(int(s.postings.lengths.sum()) for s in self.segments)), passages

    @cached_property
    def _bm25_norms(self) -> list[np.ndarray]:
        total_length, passages = self._bm25_totals
        return length_norms([s.postings for s in self.segments], total_length, passages)

    def lexical_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """The BM25 score of every live passage for a query's tokens, in row order."""
        total_length, passages = self._bm25_totals
        postings = [s.postings for s in self.segments]
        # A segment with no dead rows is scored straight into its rows of the result (no
        # copy of a million scores when a few small segments sit beside a large one).
        every = np.zeros(int(self._bases[-1]), dtype=np.float32)
        outs = [
            every[self._bases[n] : self._bases[n + 1]] if keep is None else None
            for n, (_, keep, _) in enumerate(self._views)
        ]
        scores = bm25_scores(postings, tokens, total_length, passages, self._bm25_norms, outs)
        for n, (part, (_, keep, _)) in enumerate(zip(scores, self._views, strict=True)):
            if keep is not None:
                every[self._bases[n] : self._bases[n + 1]] = part[keep]
        return every

    # --- documents and stories ---------------------------------------------------------

    @cached_property
    def document_table(self) -> DocumentTable:
        """Each live document's passage rows, outlet and date as arrays, for vectorised
        filters (from the segments' columns: no document is read)."""
        ids: list[str] = []
        sources: dict[str, int] = {}
        counts, codes, published = [], [], []
        for segment, keep, _ in self._views:
            columns = segment.columns
            alive = slice(None) if keep is None else columns.alive(self.dead[segment.name])
            if keep is None:
                ids.extend(columns.ids)
            else:
                ids.extend(i for i, live in zip(columns.ids, alive.tolist(), strict=True) if live)
            remap = np.array(
                [sources.setdefault(o.casefold(), len(sources)) for o in columns.outlets],
                dtype=np.int64,
            )
            codes.append(remap[columns.outlet_codes[alive]])
            counts.append(columns.passage_counts[alive])
            published.append(columns.published[alive])
        count = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
        return DocumentTable(
            ids=ids,
            starts=(np.cumsum(count) - count).astype(np.int64),
            counts=count.astype(np.int64),
            sources=list(sources),
            source_codes=np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64),
            # Fixed-width strings compare in C; "" sorts before every date.
            published=np.concatenate(published)
            if published
            else np.zeros(0, dtype=PUBLISHED_DTYPE),
        )

    def document_ids_of(self, rows: np.ndarray) -> list[str]:
        """The id of each row's document, read from the document table (no passage or
        document is read)."""
        table = self.document_table
        if not len(rows):
            return []
        # The last document starting at or before the row (a document with no passages
        # starts where the next one does, and comes before it).
        which = np.searchsorted(table.starts, np.asarray(rows), side="right") - 1
        return [table.ids[n] for n in which.tolist()]

    def passage_and_document(self, row: int) -> tuple[Passage, Document]:
        """Row `row`'s passage and its document."""
        return self.passages.with_document(row)  # type: ignore[attr-defined,no-any-return]

    def story_id_of(self, doc_id: str) -> str | None:
        return self.stories.story_of.get(doc_id)

    @cached_property
    def _members(self) -> Mapping[str, tuple[str, ...]]:
        """Each story's live document ids in the order they joined it."""
        if self.stories.members is not None:
            return self.stories.members
        members: dict[str, list[str]] = {}
        for doc_id in self.documents:
            story = self.stories.story_of.get(doc_id)
            if story is not None:
                members.setdefault(story, []).append(doc_id)
        return {story: tuple(ids) for story, ids in members.items()}

    def story_member_ids(self, story_id: str) -> tuple[str, ...]:
        """A story's live document ids, in the order they joined it."""
        return self._members.get(story_id, ())

    def story_documents(self, story_id: str) -> tuple[Document, ...]:
        """A story's documents, oldest first (undated last, then in the order they came)."""
        documents = self.documents
        members = [documents[i] for i in self._members.get(story_id, ()) if i in documents]
        order = sorted(range(len(members)), key=lambda n: publication_key(members[n], n))
        return tuple(members[n] for n in order)

    def story(self, story_id: str) -> Story | None:
        """A story of this snapshot with its documents, or None when there is no such story."""
        members = self.story_documents(story_id)
        if not members:
            return None
        headline = self.stories.headline.get(story_id)
        return Story.of(story_id, members, self.documents.get(headline) if headline else None)

    @cached_property
    def stories_newest_first(self) -> tuple[str, ...]:
        """Story ids, the story with the latest document first (undated stories last)."""
        latest: dict[str, str] = {}
        of = self.stories.story_of
        table = self.document_table
        for doc_id, published in zip(table.ids, table.published.tolist(), strict=True):
            story = of.get(doc_id)
            if story is not None:
                latest[story] = max(latest.get(story, ""), published)
        return tuple(sorted(latest, key=lambda story: (latest[story], story), reverse=True))

    # --- dense search ------------------------------------------------------------------

    @property
    def approximate(self) -> bool:
        """Whether dense search takes some candidates from HNSW (a segment of at least
        `vector_options.ann_threshold` passages), not only by scoring every row."""
        kinds = (self.vector_options.kind_for(len(s.columns)) for s in self.segments)
        return "hnsw" in kinds

    def nearest(
        self, query: np.ndarray, count: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Up to `count` live rows (among `rows`) most similar to `query`, sorted by row,
        with their cosine, each segment searched as `vector_options` picks for its size
        (`Segment.searcher`)."""
        found, scores = [], []
        for n, (segment, keep, _) in enumerate(self._views):
            base = int(self._bases[n])
            local = _allowed_local(rows, base, int(self._bases[n + 1]), keep)
            if local is not None and not len(local):
                continue
            searcher = segment.searcher(self.vector_options)
            if local is None or (rows is None and searcher.kind == "hnsw"):
                # All live rows: a graph leaves out the dead ones (few at most) rather than
                # listing every live one.
                dead = self._dead_rows[n] if local is not None else None
                picked, similarity = searcher.nearest(query, count, exclude=dead)
            else:
                picked, similarity = searcher.nearest(query, count, include=local)
            scores.append(similarity)
            found.append(base + (picked if keep is None else np.searchsorted(keep, picked)))
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        every, similarity = np.concatenate(found), np.concatenate(scores)
        best = top(similarity, count)
        order = np.argsort(every[best], kind="stable")
        return every[best][order].astype(np.int64), similarity[best][order]

    # --- new snapshots -------------------------------------------------------------------

    def with_changes(
        self,
        remove: Iterable[str],
        add: Sequence[EmbeddedDocument],
        generation: int,
        stories: StoryTable,
    ) -> Corpus:
        """A new snapshot with the documents in `remove` dead and `add` in a new segment
        (named after `generation`); `stories` places its documents."""
        added = [Segment.build(segment_name(generation), add, self.dim)] if add else []
        return self.with_segments(remove, added, generation, stories)

    def with_segments(
        self,
        remove: Iterable[str],
        add: Sequence[Segment],
        generation: int,
        stories: StoryTable,
    ) -> Corpus:
        """A new snapshot with the documents in `remove` dead and the segments `add` after
        the others; a document of `add` replaces any older copy. `stories` places the
        documents."""
        dead = {name: set(ids) for name, ids in self.dead.items()}
        removed = set(remove).union(*(segment.documents for segment in add))
        for doc_id in removed:
            n = self._segment_of(doc_id)
            if n is not None:
                dead.setdefault(self.segments[n].name, set()).add(doc_id)
        segments = [*self.segments, *add]
        # A segment with no live document left is dropped whole.
        segments = [s for s in segments if len(dead.get(s.name, ())) < len(s.documents)]
        names = {s.name for s in segments}
        return replace(
            self,
            segments=tuple(segments),
            generation=generation,
            dead={name: frozenset(ids) for name, ids in dead.items() if name in names and ids},
            stories=stories,
        )

    def with_merged(self, merged: Segment, folded: Sequence[str], generation: int) -> Corpus | None:
        """This snapshot with the segments named in `folded` (neighbours, oldest first)
        replaced by `merged`, which holds their documents that were live when the merge
        began. A document of theirs that died since (deleted, replaced, or its whole segment
        dropped) is dead in `merged` too. None when none of `folded` is left."""
        names = [s.name for s in self.segments]
        present = [name for name in folded if name in names]
        if not present:
            return None
        alive: set[str] = set()
        for segment in self.segments:
            if segment.name in present:
                gone = self.dead.get(segment.name, frozenset())
                alive.update(d for d in segment.documents if d not in gone)
        died = frozenset(d for d in merged.documents if d not in alive)
        dead = {n: ids for n, ids in self.dead.items() if n not in present}
        if died:
            dead[merged.name] = died
        position = names.index(present[0])
        segments = [s for s in self.segments if s.name not in present]
        if len(died) < len(merged.documents):
            segments.insert(position, merged)
        kept = {s.name for s in segments}
        dead = {n: ids for n, ids in dead.items() if n in kept}
        return replace(self, segments=tuple(segments), generation=generation, dead=dead)

    def with_stories(self, stories: StoryTable) -> Corpus:
        """The same snapshot with another story table (an older index's stories found at load)."""
        return replace(self, stories=stories)

    def warm(self) -> None:
        """Build the search structures now rather than on the first query."""
        _ = self.passages, self.vectors, self.sentence_vectors, self.sentence_offsets
        _ = self.sentence_passages, self.document_table, self._bm25_totals, self._bm25_norms
        for segment in self.segments:
            segment.searcher(self.vector_options)


def _allowed_local(
    rows: np.ndarray | None, base: int, end: int, keep: np.ndarray | None
) -> np.ndarray | None:
    """The local rows of one segment (live rows `base`..`end` of the snapshot, `keep` its
    live local rows) that `rows` allows; None when every row of the segment may be
    searched (no filter and no dead rows)."""
    if rows is None:
        return keep
    live = rows[(rows >= base) & (rows < end)] - base
    return live if keep is None else keep[live]


def segment_name(generation: int) -> str:
    """The name of the segment a write of `generation` makes (its folder on disk)."""
    return f"segment-{generation:06d}"


class _LivePassages(Sequence[Passage]):
    """The live passages of a snapshot's segments, numbered as its rows."""

    def __init__(
        self,
        views: Sequence[tuple[Segment, np.ndarray | None, np.ndarray | None]],
        bases: np.ndarray,
    ) -> None:
        self._views = views
        self._bases = bases
        self._starts = bases.tolist()

    def __len__(self) -> int:
        return int(self._bases[-1])

    def __getitem__(self, row: int | slice) -> Any:  # type: ignore[override]
        if isinstance(row, slice):
            return [self[n] for n in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        segment, local = self._local(row)
        return segment.passages[local]

    def with_document(self, row: int) -> tuple[Passage, Document]:
        """Live row `row`'s passage and its document, read from the segment that holds it
        (no lookup of the document id through every segment)."""
        if not 0 <= row < len(self):
            raise IndexError(row)
        segment, local = self._local(row)
        return segment.passages.with_document(local)  # type: ignore[attr-defined,no-any-return]

    def _local(self, row: int) -> tuple[Segment, int]:
        # bisect on a list: numpy's searchsorted of one scalar costs 4.5 us a call.
        n = bisect.bisect_right(self._starts, row) - 1
        segment, keep, _ = self._views[n]
        local = row - self._starts[n]
        return segment, local if keep is None else int(keep[local])

    def __iter__(self) -> Iterator[Passage]:
        for segment, keep, _ in self._views:
            if keep is None:
                yield from segment.passages
            else:
                yield from (segment.passages[i] for i in keep.tolist())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return id(self)


class _LiveDocuments(Mapping[str, Document]):
    """The live documents of a snapshot's segments, oldest segment first; a lookup checks
    the newest segments first, where a replaced document's live copy is."""

    def __init__(self, segments: Sequence[Segment], dead: Mapping[str, frozenset[str]]) -> None:
        self._segments = segments
        self._dead = dead
        self._count = sum(len(s.documents) - len(dead.get(s.name, ())) for s in segments)

    def __getitem__(self, doc_id: str) -> Document:
        for segment in reversed(self._segments):
            doc = segment.documents.get(doc_id)
            if doc is not None and doc_id not in self._dead.get(segment.name, ()):
                return doc
        raise KeyError(doc_id)

    def __contains__(self, doc_id: object) -> bool:
        # Without it, Mapping's `in` would read (parse) the document to answer.
        return any(
            doc_id in segment.documents and doc_id not in self._dead.get(segment.name, ())
            for segment in self._segments
        )

    def __iter__(self) -> Iterator[str]:
        for segment in self._segments:
            dead = self._dead.get(segment.name, frozenset())
            if not dead:
                yield from segment.documents
            else:
                yield from (d for d in segment.documents if d not in dead)

    def __len__(self) -> int:
        return self._count

    def values(self) -> list[Document]:  # type: ignore[override]
        """The live documents in order (a list: read at once, not looked up one by one)."""
        out: list[Document] = []
        for segment in self._segments:
            dead = self._dead.get(segment.name, frozenset())
            out.extend(d for i, d in segment.documents.items() if i not in dead)
        return out
