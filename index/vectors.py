"""Dense search over one segment's passage vectors, behind one interface: `ExactIndex`
scores every row, `HnswIndex` walks a graph. `vector_index` is the one factory that
chooses and builds them from `VectorOptions`, which the manifest records with the index;
`faiss_threads` is the one place that sets faiss's thread count.

Both kinds answer `nearest` with exact cosines: a graph's candidates are scored again
from the stored float32 vectors, so the kind of a segment never changes a hit's score.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from index.stages import stage

if TYPE_CHECKING:
    import faiss


@dataclass(frozen=True)
class VectorOptions:
    """How a segment's vectors are searched (docs/performance.md, "Exact or approximate
    vector search", has the measurements behind each default)."""

    # A segment of this many passages or more is searched through an HNSW graph, a smaller
    # one exactly: one matrix-vector product, memory-bound (1.5 ms for 28k passages here,
    # about 25 ms at 500k). Only a bulk build or a merge makes a segment that large.
    ann_threshold: int = 500_000
    # Links per graph node (HNSW's M). Over 996k Reuters passages, 64 found more of exact
    # search's top 10 than 32 (0.960 against 0.925 for headlines, 0.883 against 0.819 for
    # XQuAD questions) at the same speed, for 256 MB more links.
    neighbours: int = 64
    # Candidates considered while the graph is built (efConstruction).
    ef_construction: int = 200
    # Candidates a search walks (efSearch): dense search asks the graph for its 1,000
    # sentence candidates, so it walks at least that many.
    ef_search: int = 1024

    def kind_for(self, rows: int) -> str:
        """ "hnsw" for a segment of `rows` passages searched through a graph, else "exact"."""
        return "hnsw" if rows >= self.ann_threshold else "exact"

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def of(cls, recorded: Mapping[str, Any] | None) -> VectorOptions:
        """The options a manifest recorded (an index written before they were recorded:
        the defaults, which it was built with)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in (recorded or {}).items() if k in names})


VECTOR_OPTIONS = VectorOptions()

# Local rows of a segment (int64), or None for all of them.
Rows = np.ndarray | None
# Rows found and their cosines to the query.
Found = tuple[np.ndarray, np.ndarray]


class VectorIndex(Protocol):
    """One segment's vectors as a search structure."""

    kind: str

    def nearest(
        self, query: np.ndarray, count: int, include: Rows = None, exclude: Rows = None
    ) -> Found:
        """Up to `count` local rows nearest `query` (in no order) and their cosines: among
        `include` when given, leaving out `exclude` when given."""
        ...


class ExactIndex:
    """Every row scored: exact, and the fastest below a few hundred thousand rows."""

    kind = "exact"

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def nearest(
        self, query: np.ndarray, count: int, include: Rows = None, exclude: Rows = None
    ) -> Found:
        if include is None:
            similarity = self.vectors @ query
            rows = np.arange(len(similarity))
            if exclude is not None and len(exclude):
                keep = np.ones(len(rows), dtype=bool)
                keep[exclude] = False
                rows, similarity = rows[keep], similarity[keep]
        else:
            rows, similarity = include, self.vectors[include] @ query
        best = top(similarity, count)
        return rows[best], similarity[best]


class HnswIndex:
    """An HNSW graph over the rows (8-bit codes of the vectors to walk by), its candidates
    scored again from the float32 `vectors`."""

    kind = "hnsw"

    def __init__(self, graph: faiss.Index, vectors: np.ndarray) -> None:
        self.graph = graph
        self.vectors = vectors

    @classmethod
    def build(cls, vectors: np.ndarray, options: VectorOptions = VECTOR_OPTIONS) -> HnswIndex:
        import faiss

        # The graph keeps its own copy of the vectors to walk by: 8-bit codes, a quarter of
        # float32's bytes. On 100k Reuters passages they built 1.7x faster than float32
        # ones (18 vs 31 s), searched 1.5x faster and gave the same top 10 once rescored.
        dense = np.ascontiguousarray(vectors, dtype=np.float32)
        graph = faiss.IndexHNSWSQ(
            dense.shape[1], faiss.ScalarQuantizer.QT_8bit, options.neighbours,
            faiss.METRIC_INNER_PRODUCT,
        )  # fmt: skip
        graph.hnsw.efConstruction = options.ef_construction
        graph.hnsw.efSearch = options.ef_search
        if len(dense):
            with stage("HNSW"), faiss_threads(0):  # built on every core
                graph.train(dense)
                graph.add(dense)
        return cls(graph, vectors)

    @classmethod
    def read(
        cls, path: Path, vectors: np.ndarray, options: VectorOptions = VECTOR_OPTIONS
    ) -> HnswIndex:
        """A graph `write` saved, for `vectors`; refused when it holds another count."""
        import faiss

        graph = faiss.read_index(str(path))
        _searching_threads()
        if graph.ntotal != len(vectors):
            raise ValueError(f"{path} holds {graph.ntotal} vectors, the segment {len(vectors)}")
        graph.hnsw.efSearch = options.ef_search  # a search setting: not saved with the graph
        return cls(graph, vectors)

    def write(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.graph, str(path))

    @property
    def rows(self) -> int:
        return int(self.graph.ntotal)

    def nearest(
        self, query: np.ndarray, count: int, include: Rows = None, exclude: Rows = None
    ) -> Found:
        import faiss

        count = min(count, self.rows if include is None else len(include))
        if count <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        vector = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        # Each selector stays referenced here while faiss uses it.
        chosen = None if include is None else faiss.IDSelectorBatch(include.astype(np.int64))
        dropped = None if exclude is None else faiss.IDSelectorBatch(exclude.astype(np.int64))
        inverted = None if dropped is None else faiss.IDSelectorNot(dropped)
        selector = chosen if chosen is not None else inverted
        if selector is None:
            _, found = self.graph.search(vector, count)
        else:
            params = faiss.SearchParameters(sel=selector)
            _, found = self.graph.search(vector, count, params=params)
        rows = found[0][found[0] >= 0].astype(np.int64)
        return rows, self.vectors[rows] @ query


def vector_index(
    vectors: np.ndarray, options: VectorOptions = VECTOR_OPTIONS, kind: str = "auto"
) -> VectorIndex:
    """The search structure for a segment's vectors: "exact", "hnsw", or "auto" (by the
    segment's size against `options.ann_threshold`)."""
    if kind == "auto":
        kind = options.kind_for(len(vectors))
    if kind == "hnsw":
        return HnswIndex.build(vectors, options)
    if kind == "exact":
        return ExactIndex(vectors)
    raise ValueError(f"index kind must be auto, exact or hnsw, got {kind!r}")


@contextmanager
def faiss_threads(threads: int) -> Iterator[None]:
    """Run faiss on `threads` OpenMP threads (0: every core) inside the block, and on one
    outside it: one query at a time searches faster on one thread than on two here
    (PERF-NOTES: 11.6 vs 15.0 ms at 100k vectors); concurrency comes from requests."""
    import os

    import faiss

    faiss.omp_set_num_threads(threads or os.cpu_count() or 1)
    try:
        yield
    finally:
        _searching_threads()


def _searching_threads() -> None:
    import faiss

    faiss.omp_set_num_threads(1)


def top(values: np.ndarray, count: int) -> np.ndarray:
    """Indexes of the `count` largest values (in no order)."""
    if len(values) <= count:
        return np.arange(len(values))
    return np.argpartition(-values, count - 1)[:count]
