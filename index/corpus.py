"""An immutable snapshot of the index: documents, passages, vectors and their search structures.

A write builds a new `Corpus` and swaps it in whole, so a search always sees
one consistent version: every vector row resolves to a passage and a document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from index.chunk import Passage
from index.documents import Document
from index.stories import Story, StoryTable, publication_key
from index.words import tokenize_for_bm25

if TYPE_CHECKING:
    import bm25s
    import faiss


class EmbeddedDocument(NamedTuple):
    """A document ready to join a corpus: its passages and their vectors."""

    document: Document
    passages: Sequence[Passage]
    vectors: np.ndarray  # one row per passage
    sentence_vectors: np.ndarray  # one row per sentence of each passage, in passage order


@dataclass(frozen=True)
class DocumentTable:
    """The documents of a snapshot in row order, as arrays for vectorised filters."""

    position: dict[str, int]  # document id -> its index in the arrays below
    starts: np.ndarray  # first passage row
    counts: np.ndarray  # passage rows
    source_codes: np.ndarray  # index into `sources`
    sources: list[str]  # distinct casefolded outlets ("" for none)
    published: np.ndarray  # "YYYY-MM-DD", or "" for undated
    story_codes: np.ndarray  # index into `stories`
    stories: dict[str, int]  # story id -> its code


def concatenated_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """start, start + 1, ..., start + count - 1 for each (start, count), concatenated."""
    shifts = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return np.arange(int(counts.sum()), dtype=np.int64) + shifts


# Past this many passage vectors dense search takes its passage candidates from
# HNSW; below it every passage vector is scored exactly (one matrix-vector
# product, memory-bound: 1.5 ms for 28k passages here, so about 25 ms at 500k).
# HNSW (M 32, efConstruction 200), one query on clustered synthetic vectors
# (`parallax bench --ann-sizes 100000,1000000`): at 100k, efSearch 512 gives
# recall@10 0.97 in 1.3 ms (exact 7.6 ms); at 1M, efSearch 512 only 0.77 (2.8 ms),
# 2048 gives 0.98 in 11 ms and 4096 0.994 in 25 ms, against 101 ms exact. The
# 1M graph takes 9 minutes to build, and every write rebuilds the snapshot's
# index, so HNSW only pays for a large, mostly static archive.
ANN_THRESHOLD = 500_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 2048


@dataclass(frozen=True, eq=False)
class Corpus:
    """Documents in insertion order, their passages, and the vectors of both.

    `vectors` has one row per passage; `sentence_vectors` one row per sentence
    of each passage, passage by passage, so passage `i` owns the sentence rows
    `sentence_offsets[i]:sentence_offsets[i + 1]`.
    """

    documents: Mapping[str, Document]
    passages: tuple[Passage, ...]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    model: str
    generation: int = 0
    # BM25 tokens of each passage, carried over from the previous snapshot so a
    # write tokenizes only its own passages (tokenizing is most of a BM25 build).
    tokens: tuple[list[str], ...] | None = field(default=None, repr=False)
    # Which story each document belongs to (index/stories.py).
    stories: StoryTable = field(default_factory=StoryTable)
    # From this many passages on, dense search takes its candidates from HNSW.
    ann_threshold: int = field(default=ANN_THRESHOLD, repr=False)
    _rows_by_doc: dict[str, range] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.passages) != self.vectors.shape[0]:
            raise ValueError(f"{len(self.passages)} passages but {self.vectors.shape[0]} vectors")
        if self.sentence_offsets[-1] != self.sentence_vectors.shape[0]:
            raise ValueError(
                f"{self.sentence_offsets[-1]} sentences but "
                f"{self.sentence_vectors.shape[0]} sentence vectors"
            )
        start = 0
        for doc_id in self.documents:
            end = start
            while end < len(self.passages) and self.passages[end].doc_id == doc_id:
                end += 1
            self._rows_by_doc[doc_id] = range(start, end)
            start = end
        if start != len(self.passages):
            raise ValueError("passages are not grouped in document order")

    @classmethod
    def empty(cls, model: str, dim: int) -> Corpus:
        nothing = np.zeros((0, dim), dtype=np.float32)
        return cls({}, (), nothing, nothing.copy(), model)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def rows_of(self, doc_id: str) -> range:
        return self._rows_by_doc.get(doc_id, range(0))

    def passages_of(self, doc_id: str) -> Sequence[Passage]:
        rows = self.rows_of(doc_id)
        return self.passages[rows.start : rows.stop]

    @cached_property
    def sentence_offsets(self) -> np.ndarray:
        """Where each passage's sentence rows start, plus the total at the end."""
        counts = np.fromiter(
            (len(p.sentences) for p in self.passages), dtype=np.int64, count=len(self.passages)
        )
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    @cached_property
    def sentence_passages(self) -> np.ndarray:
        """For each sentence row, the passage row it belongs to."""
        return np.repeat(np.arange(len(self.passages)), np.diff(self.sentence_offsets))

    def sentence_rows(self, passage_rows: np.ndarray) -> np.ndarray:
        """The sentence rows of the given passage rows, passage by passage."""
        starts = self.sentence_offsets[passage_rows]
        return concatenated_ranges(starts, self.sentence_offsets[passage_rows + 1] - starts)

    @cached_property
    def document_table(self) -> DocumentTable:
        """Each document's passage rows, outlet and date as arrays, for vectorised filters."""
        rows = list(self._rows_by_doc.values())
        docs = [self.documents[i] for i in self._rows_by_doc]
        sources, codes = np.unique(
            np.array([(d.source or "").casefold() for d in docs], dtype=str), return_inverse=True
        )
        story_codes: dict[str, int] = {}
        of = self.stories.story_of
        per_document = [story_codes.setdefault(of.get(d.id, ""), len(story_codes)) for d in docs]
        return DocumentTable(
            position={doc_id: n for n, doc_id in enumerate(self._rows_by_doc)},
            starts=np.array([r.start for r in rows], dtype=np.int64),
            counts=np.array([len(r) for r in rows], dtype=np.int64),
            source_codes=codes.astype(np.int64),
            sources=sources.tolist(),
            # Fixed-width strings compare in C; "" sorts before every date.
            published=np.array([d.published or "" for d in docs], dtype="U10"),
            story_codes=np.array(per_document, dtype=np.int64),
            stories=story_codes,
        )

    def story_id_of(self, doc_id: str) -> str | None:
        return self.stories.story_of.get(doc_id)

    @cached_property
    def story_members(self) -> dict[str, tuple[str, ...]]:
        """Each story's document ids, oldest first (undated last, then in insertion order)."""
        members: dict[str, list[str]] = {}
        for doc_id in self.documents:
            story = self.stories.story_of.get(doc_id)
            if story is not None:
                members.setdefault(story, []).append(doc_id)
        position = {doc_id: n for n, doc_id in enumerate(self.documents)}
        return {
            story: tuple(sorted(ids, key=lambda i: publication_key(self.documents[i], position[i])))
            for story, ids in members.items()
        }

    def story(self, story_id: str) -> Story | None:
        """A story of this snapshot with its documents, or None when there is no such story."""
        members = self.story_members.get(story_id)
        if not members:
            return None
        headline = self.stories.headline.get(story_id)
        return Story.of(
            story_id,
            tuple(self.documents[i] for i in members),
            self.documents.get(headline) if headline else None,
        )

    @cached_property
    def stories_newest_first(self) -> tuple[str, ...]:
        """Story ids, the story with the latest document first (undated stories last)."""
        latest = {
            story: max((self.documents[i].published or "" for i in ids), default="")
            for story, ids in self.story_members.items()
        }
        return tuple(sorted(latest, key=lambda story: (latest[story], story), reverse=True))

    @property
    def approximate(self) -> bool:
        """Whether dense search takes its passage candidates from HNSW (`ann_threshold`)."""
        return len(self.vectors) >= self.ann_threshold

    @cached_property
    def faiss_index(self) -> faiss.Index:
        """Inner-product search over the passage vectors (cosine similarity)."""
        return _search_index(self.vectors, "hnsw" if self.approximate else "exact")

    @cached_property
    def bm25(self) -> bm25s.BM25:
        from index.bm25 import BM25

        retriever = BM25()
        # bm25s cannot index an empty corpus, nor one whose passages have no words (it
        # divides by their mean length); neither is searched lexically, so a stand-in does.
        tokens = list(self.bm25_tokens) if any(self.bm25_tokens) else [["\x00empty"]]
        retriever.index(tokens, show_progress=False)
        return retriever

    @cached_property
    def bm25_tokens(self) -> tuple[list[str], ...]:
        if self.tokens is not None:
            return self.tokens
        return tuple(tokenize_for_bm25([p.text for p in self.passages]))

    def with_changes(
        self,
        remove: Iterable[str],
        add: Sequence[EmbeddedDocument],
        generation: int,
        stories: StoryTable | None = None,
    ) -> Corpus:
        """A new snapshot without the documents in `remove` and with `add` appended;
        `stories` places its documents (by default the current table, less `remove`)."""
        removed = set(remove)
        documents = {i: d for i, d in self.documents.items() if i not in removed}
        keep = [rows for doc_id, rows in self._rows_by_doc.items() if doc_id not in removed]
        keep_rows = np.concatenate(
            [np.arange(r.start, r.stop, dtype=np.int64) for r in keep]
            or [np.zeros(0, dtype=np.int64)]
        )
        passages = [self.passages[row] for row in keep_rows]
        blocks = [self.vectors[keep_rows]]
        sentence_blocks = [self.sentence_vectors[self.sentence_rows(keep_rows)]]
        for embedded in add:
            documents[embedded.document.id] = embedded.document
            passages.extend(embedded.passages)
            blocks.append(embedded.vectors.reshape(-1, self.dim))
            sentence_blocks.append(embedded.sentence_vectors.reshape(-1, self.dim))
        tokens = None
        if "bm25_tokens" in self.__dict__:  # computed for this snapshot: reuse the kept rows'
            new_texts = [p.text for embedded in add for p in embedded.passages]
            kept = [self.bm25_tokens[row] for row in keep_rows.tolist()]
            tokens = tuple(kept + (tokenize_for_bm25(new_texts) if new_texts else []))
        if stories is None:
            kept = {i: s for i, s in self.stories.story_of.items() if i in documents}
            stories = StoryTable(kept, self.stories.headline, self.stories.next_number)
        return Corpus(
            documents,
            tuple(passages),
            _stack(blocks),
            _stack(sentence_blocks),
            self.model,
            generation,
            tokens,
            stories,
            self.ann_threshold,
        )

    def with_stories(self, stories: StoryTable) -> Corpus:
        """The same snapshot with another story table (an older index's stories found at load)."""
        corpus = Corpus(
            self.documents,
            self.passages,
            self.vectors,
            self.sentence_vectors,
            self.model,
            self.generation,
            self.tokens,
            stories,
            self.ann_threshold,
        )
        if "bm25" in self.__dict__:
            corpus.__dict__["bm25"] = self.bm25
        return corpus

    def warm(self) -> None:
        """Build the search structures now rather than on the first query."""
        _ = self.bm25, self.sentence_offsets, self.sentence_passages, self.document_table
        _ = self.story_members
        if self.approximate:
            _ = self.faiss_index


def vector_index(vectors: np.ndarray, kind: str = "auto") -> faiss.Index:
    """An inner-product index: "exact" (flat), "hnsw", or "auto" by size."""
    import faiss

    if kind == "auto":
        kind = "hnsw" if len(vectors) >= ANN_THRESHOLD else "exact"
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif kind == "exact":
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        raise ValueError(f"index kind must be auto, exact or hnsw, got {kind!r}")
    if len(vectors):
        index.add(vectors)
    return index


def _search_index(vectors: np.ndarray, kind: str = "auto") -> faiss.Index:
    import faiss

    # One query at a time searches faster on one OpenMP thread than on two here
    # (PERF-NOTES: 11.6 vs 15.0 ms at 100k vectors); concurrency comes from requests.
    faiss.omp_set_num_threads(1)
    return vector_index(vectors, kind)


def _stack(blocks: list[np.ndarray]) -> np.ndarray:
    return np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
