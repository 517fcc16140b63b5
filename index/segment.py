"""Segments: the immutable pieces an index snapshot is made of.

A write embeds its documents into one new segment; a merge folds several segments into
one (index/merge.py). A segment never changes after it is made: a document deleted or
replaced later is marked dead in the snapshot (a tombstone), not removed from the
segment. A snapshot (`index.corpus.Corpus`) numbers the live passages of its segments
in order, so the rest of the code sees one run of rows and never a dead one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from index.chunk import Passage
from index.columns import Columns, SegmentPassages
from index.documents import Document
from index.postings import Postings
from index.quantize import Int8Rows
from index.stages import stage
from index.words import tokenize_for_bm25

if TYPE_CHECKING:
    import faiss


class EmbeddedDocument(NamedTuple):
    """A document ready to join a segment: its passages and their vectors."""

    document: Document
    passages: Sequence[Passage]
    vectors: np.ndarray  # one row per passage
    sentence_vectors: np.ndarray  # one row per sentence of each passage, in passage order


# A segment of this many passages or more is searched through an HNSW graph of its
# vectors; a smaller one by scoring every passage vector exactly (one matrix-vector
# product, memory-bound: 1.5 ms for 28k passages here, so about 25 ms at 500k).
# HNSW (M 32, efConstruction 200), one query on clustered synthetic vectors
# (`parallax bench --ann-sizes 100000,1000000`): at 100k, efSearch 512 gives
# recall@10 0.97 in 1.3 ms (exact 7.6 ms); at 1M, 2048 gives 0.98 in 11 ms, against
# 101 ms exact. Dense search asks the graph for its 1,000 sentence candidates and
# scores them again exactly. Over 996k Reuters passages (the index repeated 35 times,
# `parallax bench --million`) its top 10 against exact search, by query set of 100
# (`evaluation/scale.py`): with M 32, recall 0.925 for the archive's own headlines
# and 0.819 for XQuAD's questions (out of domain); with M 64, 0.960 and 0.883, and the
# whole search no slower (13.6 vs 14.3 ms, interleaved), for 256 MB more links and a
# build of 285 s instead of about 200. (efSearch 1536 or 2048 with M 64: XQuAD 0.913
# or 0.933, for 0.6 or 1.7 ms more a search.) Eight questions alone had shown 1.000
# with M 32. Only a bulk build or a merge makes a segment that large, and the graph is
# built then, saved with the segment, and reused by every later snapshot (a write adds
# small segments, searched exactly); a graph saved with M 32 is read as it is.
ANN_THRESHOLD = 500_000
HNSW_NEIGHBOURS = 64
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 1024


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
    def build(cls, name: str, embedded: Sequence[EmbeddedDocument], dim: int) -> Segment:
        """A segment of freshly embedded documents, in the order given."""
        with stage("quantising"):
            sentences = Int8Rows.of(
                stack_rows([item.sentence_vectors.reshape(-1, dim) for item in embedded], dim)
            )
        return cls.of(
            name,
            {item.document.id: item.document for item in embedded},
            [p for item in embedded for p in item.passages],
            stack_rows([item.vectors.reshape(-1, dim) for item in embedded], dim),
            sentences,
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

    @cached_property
    def graph(self) -> faiss.Index:
        """An HNSW graph of the passage vectors, built once (a segment never changes; the
        store saves it with the segment, and a merge builds it before publishing)."""
        import faiss

        # Built on every core (one thread per query is for searching: `search_index`).
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        try:
            with stage("HNSW"):
                return vector_index(np.ascontiguousarray(self.vectors, dtype=np.float32), "hnsw")
        finally:
            faiss.omp_set_num_threads(1)


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


def vector_index(vectors: np.ndarray, kind: str = "auto") -> faiss.Index:
    """An inner-product index: "exact" (flat), "hnsw", or "auto" by size."""
    import faiss

    if kind == "auto":
        kind = "hnsw" if len(vectors) >= ANN_THRESHOLD else "exact"
    if kind == "hnsw":
        # The graph keeps its own copy of the vectors to walk by: 8-bit codes, a quarter of
        # float32's bytes. Its candidates are scored again from the stored float32 vectors
        # (`Corpus.nearest`), so the cosines a search reports are exact. On 100k Reuters
        # passages, 8-bit codes built 1.7x faster than float32 ones (18 vs 31 s), searched
        # 1.5x faster and gave the same top 10 after that rescoring.
        index = faiss.IndexHNSWSQ(
            vectors.shape[1],
            faiss.ScalarQuantizer.QT_8bit,
            HNSW_NEIGHBOURS,
            faiss.METRIC_INNER_PRODUCT,
        )
        if len(vectors):
            index.train(vectors)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif kind == "exact":
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        raise ValueError(f"index kind must be auto, exact or hnsw, got {kind!r}")
    if len(vectors):
        index.add(vectors)
    return index


def search_index(vectors: np.ndarray, kind: str = "auto") -> faiss.Index:
    import faiss

    # One query at a time searches faster on one OpenMP thread than on two here
    # (PERF-NOTES: 11.6 vs 15.0 ms at 100k vectors); concurrency comes from requests.
    faiss.omp_set_num_threads(1)
    return vector_index(vectors, kind)


def stack_rows(blocks: list[np.ndarray], dim: int) -> np.ndarray:
    if not blocks:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
