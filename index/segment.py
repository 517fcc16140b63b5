"""Segments: the immutable pieces an index snapshot is made of.

A write embeds its documents into one new segment; a merge folds several segments into
one (index/merge.py). A segment never changes after it is made: a document deleted or
replaced later is marked dead in the snapshot (a tombstone), not removed from the
segment. A snapshot (`index.corpus.Corpus`) numbers the live passages of its segments
in order, so the rest of the code sees one run of rows and never a dead one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from index.chunk import Passage
from index.columns import Columns, SegmentPassages
from index.documents import Document
from index.postings import Postings
from index.quantize import Int8Rows
from index.stages import stage
from index.vectors import VECTOR_OPTIONS, ExactIndex, HnswIndex, VectorIndex, VectorOptions
from index.words import tokenize_for_bm25


class EmbeddedDocument(NamedTuple):
    """A document ready to join a segment: its passages and their vectors."""

    document: Document
    passages: Sequence[Passage]
    vectors: np.ndarray  # one row per passage
    sentence_vectors: np.ndarray  # one row per sentence of each passage, in passage order


@dataclass(frozen=True, eq=False)
class Segment:
    """Documents in the order they were written, their passages (grouped by document) as
    columns, one vector per passage, one per sentence of each passage, and the BM25
    postings.

    `documents` is a dict for a segment made in memory and a `DocumentFile` for one read
    from disk; `passages` are made from the columns and the documents on access."""

    name: str
    documents: Mapping[str, Document]
    columns: Columns
    vectors: np.ndarray
    # Int8Rows (index/quantize.py); a float32 matrix in a segment of format 3 or older.
    sentence_vectors: Int8Rows | np.ndarray
    postings: Postings

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.vectors):
            raise ValueError(f"{len(self.columns)} passages but {len(self.vectors)} vectors")
        if self.sentence_offsets[-1] != len(self.sentence_vectors):
            raise ValueError(
                f"{self.sentence_offsets[-1]} sentences but {len(self.sentence_vectors)} "
                "sentence vectors"
            )
        if len(self.postings.lengths) != len(self.columns):
            raise ValueError(
                f"{len(self.columns)} passages but postings of {len(self.postings.lengths)}"
            )
        if len(self.columns.ids) != len(self.documents):
            raise ValueError(
                f"{len(self.documents)} documents but columns of {len(self.columns.ids)}"
            )

    @classmethod
    def of(
        cls,
        name: str,
        documents: Mapping[str, Document],
        passages: Sequence[Passage],
        vectors: np.ndarray,
        sentence_vectors: Int8Rows | np.ndarray,
        postings: Postings | None = None,
    ) -> Segment:
        """A segment of documents and passages held in memory."""
        documents = dict(documents)
        with stage("passage table"):
            columns = Columns.of(list(documents.values()), passages)
        if postings is None:
            with stage("BM25"):
                postings = Postings.build(tokenize_for_bm25([p.text for p in passages]))
        return cls(name, documents, columns, vectors, sentence_vectors, postings)

    @classmethod
    def build(
        cls,
        name: str,
        embedded: Sequence[EmbeddedDocument],
        dim: int,
        parts: SegmentParts | None = None,
    ) -> Segment:
        """A segment of freshly embedded documents, in the order given (`parts`: their
        sentence vectors quantised and passages tokenised ahead, in the same order)."""
        if parts is None:
            parts = SegmentParts(dim)
            for _ in parts.steps(embedded):
                pass
        with stage("BM25"):
            postings = Postings.build(parts.tokens)
        return cls.of(
            name,
            {item.document.id: item.document for item in embedded},
            [p for item in embedded for p in item.passages],
            stack_rows([item.vectors.reshape(-1, dim) for item in embedded], dim),
            Int8Rows.concatenate(parts.sentences, dim),
            postings,
        )

    @cached_property
    def passages(self) -> Sequence[Passage]:
        return SegmentPassages(self.columns, self.documents)

    @property
    def sentence_offsets(self) -> np.ndarray:
        """Where each passage's sentence rows start, plus the total at the end."""
        return self.columns.sentence_offsets

    def rows_of(self, doc_id: str) -> range:
        """A document's passage rows in this segment (empty when it is not here)."""
        return self.columns.rows_of(doc_id)

    def live_rows(self, dead: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        """The passage rows and the sentence rows of the documents not in `dead`."""
        return self.columns.rows_of_documents(self.columns.alive(dead))

    def live_passages(self, dead: frozenset[str]) -> int:
        """How many passages of the documents not in `dead` there are."""
        if not dead:
            return len(self.columns)
        return int(self.columns.passage_counts[self.columns.alive(dead)].sum())

    def searcher(self, options: VectorOptions = VECTOR_OPTIONS) -> VectorIndex:
        """The passage vectors as the search structure `options` picks for this segment's
        size. A graph is built once (a segment never changes): the store saves it with the
        segment, and a merge builds it before publishing."""
        if options.kind_for(len(self.columns)) == "exact":
            return ExactIndex(self.vectors)
        graph = self.__dict__.get("graph")
        if graph is None:
            graph = self.__dict__["graph"] = HnswIndex.build(self.vectors, options)
        return graph  # type: ignore[no-any-return]

    @property
    def graph(self) -> HnswIndex | None:
        """The segment's HNSW graph, if one was built or read."""
        return self.__dict__.get("graph")


class Stacked:
    """The rows of several matrices, each cut to the rows `keep` names (None: all of them),
    as one matrix: what a snapshot's vectors are across its segments.

    It does what the search code asks of the vectors, without copying them into one array
    on every write: a product with a query, rows by index or by slice, and the whole as
    an array (`np.asarray`) where something needs one."""

    def __init__(self, blocks: Sequence[np.ndarray], keep: Sequence[np.ndarray | None]) -> None:
        self.blocks = list(blocks)
        self.keep = list(keep)
        pairs = zip(self.blocks, self.keep, strict=True)
        sizes = [len(b) if k is None else len(k) for b, k in pairs]
        self.bases = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.dim = int(self.blocks[0].shape[1]) if self.blocks else 0

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.bases[-1]), self.dim

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float32)  # rows are read as float32, whatever a block stores

    def __len__(self) -> int:
        return int(self.bases[-1])

    def __matmul__(self, query: np.ndarray) -> np.ndarray:
        parts = [
            (block @ query) if keep is None else (block @ query)[keep]
            for block, keep in zip(self.blocks, self.keep, strict=True)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def __getitem__(self, rows: object) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(len(self)), dtype=np.int64)
        elif isinstance(rows, int | np.integer):
            return self[np.array([rows])][0]
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.dim), dtype=self.dtype)
        for n, picked, local in self._by_block(rows):
            out[picked] = self.blocks[n][local]
        return out

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        whole = self[np.arange(len(self))] if len(self) else np.zeros((0, self.dim), np.float32)
        return whole if dtype is None else whole.astype(dtype)

    def dot(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """`self[rows] @ query`, each block's rows multiplied as that block stores them."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty(len(rows), dtype=np.float32)
        for n, picked, local in self._by_block(rows):
            out[picked] = row_products(self.blocks[n], local, query)
        return out

    def _by_block(self, rows: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """For each block some of `rows` fall in: its position, which of `rows` they are
        (a mask), and their rows within the block."""
        which = np.searchsorted(self.bases, rows, side="right") - 1
        for n in np.unique(which).tolist():
            picked = which == n
            local = rows[picked] - self.bases[n]
            keep = self.keep[n]
            yield n, picked, local if keep is None else keep[local]


def row_products(vectors: Any, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """`vectors[rows] @ query` for a float32 matrix, 8-bit rows (`Int8Rows`, whose codes
    are multiplied before their scales apply) or a `Stacked` of either."""
    if isinstance(vectors, Int8Rows | Stacked):
        return vectors.dot(rows, query)
    return np.asarray(vectors[rows] @ query, dtype=np.float32)


def stacked(blocks: Sequence[np.ndarray], keep: Sequence[np.ndarray | None]) -> np.ndarray:
    """One block with all of its rows is itself (the common case after a build or a merge);
    anything else is a `Stacked` view."""
    if len(blocks) == 1 and keep[0] is None:
        return blocks[0]
    return Stacked(blocks, keep)  # type: ignore[return-value]


class SegmentParts:
    """What a segment needs of its documents besides their vectors, made a group of documents
    at a time (`index.pipeline` makes them while the encoder computes the next group): the
    sentence vectors in eight bits and each passage's BM25 tokens. Both are made row by
    row, so they are the same whichever groups they were made in."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.sentences: list[Int8Rows] = []
        self.tokens: list[list[str]] = []

    def steps(self, group: Sequence[EmbeddedDocument]) -> Iterator[None]:
        """Add `group` (after the groups added before), in two steps."""
        with stage("quantising"):
            rows = [item.sentence_vectors.reshape(-1, self.dim) for item in group]
            self.sentences.append(Int8Rows.of(stack_rows(rows, self.dim)))
        yield
        with stage("BM25"):
            self.tokens.extend(tokenize_for_bm25([p.text for i in group for p in i.passages]))
        yield


def stack_rows(blocks: list[np.ndarray], dim: int) -> np.ndarray:
    if not blocks:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
