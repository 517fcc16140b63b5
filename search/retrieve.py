"""Dense and lexical rankings over a corpus snapshot, filters, and rank fusion."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.corpus import Corpus, concatenated_ranges
from index.documents import day_end
from index.segment import row_products
from index.words import tokenize_for_bm25


@dataclass(frozen=True)
class PassageFilters:
    """Which documents a query may see; None means no restriction."""

    doc_ids: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    published_from: str | None = None
    published_to: str | None = None
    story_ids: tuple[str, ...] | None = None

    def is_empty(self) -> bool:
        return not (
            self.doc_ids
            or self.sources
            or self.published_from
            or self.published_to
            or self.story_ids is not None
        )


@dataclass(frozen=True)
class Ranking:
    """Passage rows, best first, with the score that ranked them."""

    rows: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Ranking:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.rows)


_SCORING = threading.Lock()


def allowed_rows(corpus: Corpus, filters: PassageFilters) -> np.ndarray | None:
    """The passage rows the filters allow, or None when every row is allowed.

    Vectorised over the corpus's document table: a loop over documents took
    19 ms for an outlet filter on 19k documents. A story filter starts from the
    stories' members instead, which are few whatever the size of the archive.
    """
    if filters.is_empty():
        return None
    if filters.story_ids is not None:
        rows = _story_rows(corpus, filters)
    else:
        rows = _table_rows(corpus, filters)
    return None if len(rows) == len(corpus.passages) else rows


def _table_rows(corpus: Corpus, filters: PassageFilters) -> np.ndarray:
    table = corpus.document_table
    keep = np.ones(len(table.starts), dtype=bool)
    if filters.doc_ids:
        chosen = np.zeros_like(keep)
        chosen[[table.position[i] for i in filters.doc_ids if i in table.position]] = True
        keep &= chosen
    if filters.sources:
        wanted = {s.casefold() for s in filters.sources}
        keep &= np.isin(table.source_codes, [n for n, s in enumerate(table.sources) if s in wanted])
    # ISO dates and times compare correctly as strings; undated documents ("") fail a date
    # filter.
    if filters.published_from:
        keep &= (table.published != "") & (table.published >= filters.published_from)
    if filters.published_to:
        keep &= (table.published != "") & (table.published < day_end(filters.published_to))
    return concatenated_ranges(table.starts[keep], table.counts[keep])


def _story_rows(corpus: Corpus, filters: PassageFilters) -> np.ndarray:
    """The rows of the named stories' documents that the other filters allow too."""
    assert filters.story_ids is not None
    named = set(filters.doc_ids) if filters.doc_ids else None
    outlets = {s.casefold() for s in filters.sources} if filters.sources else None
    start, end = filters.published_from, filters.published_to
    ranges = []
    for story in dict.fromkeys(filters.story_ids):
        for doc_id in corpus.story_member_ids(story):
            doc = corpus.documents.get(doc_id)
            if doc is None or (named is not None and doc_id not in named):
                continue
            if outlets is not None and (doc.source or "").casefold() not in outlets:
                continue
            published = doc.published or ""
            if (start and not (published and published >= start)) or (
                end and not (published and published < day_end(end))
            ):
                continue
            ranges.append(corpus.rows_of(doc_id))
    ranges.sort(key=lambda r: r.start)
    return concatenated_ranges(
        np.array([r.start for r in ranges], dtype=np.int64),
        np.array([len(r) for r in ranges], dtype=np.int64),
    )


def dense_ranking(
    corpus: Corpus,
    query_vector: np.ndarray,
    depth: int,
    rows: np.ndarray | None = None,
    candidates: int | None = None,
) -> Ranking:
    """The `depth` passages most similar to the query, by passage and by best sentence.

    A passage scores the mean of its own cosine similarity and that of its
    best sentence: a passage holding one sentence that answers the question
    should not lose to one that is vaguely on topic throughout. (On XQuAD this
    lifts dense recall@1 of the gold paragraph from 0.895 to 0.934.)

    Scoring runs in two steps. Every passage vector is scored (one
    matrix-vector product, exact below the corpus's approximate-index size,
    HNSW candidates past it); then only the best `sentence_candidates(depth)`
    passages have their sentences scored. Sentence vectors are five times as
    many as passages, and scoring them all was memory-bound: 7 of the 10 ms a
    query spent here on 28k passages and 139k sentences, and it pushed the
    query encoder's weights out of the cache. With 1,000 candidates the top 10
    is the same as scoring every sentence for every query tried, and the top
    200 shares 99.9% of its rows (`parallax bench`, Reuters). `candidates`
    overrides that number (`SearchOptions.sentence_candidates` sets it for a search;
    the benchmark passes every passage to compare, or fewer than `depth` to see the
    cost of too few).
    """
    available = len(corpus.passages) if rows is None else len(rows)
    depth = min(depth, available)
    if depth == 0:
        return Ranking.empty()
    query = np.ascontiguousarray(query_vector.reshape(-1), dtype=np.float32)
    keep = sentence_candidates(depth) if candidates is None else candidates
    if corpus.approximate:
        found, passage_scores = corpus.nearest(query, keep, rows)
    elif rows is None:
        found = np.arange(len(corpus.passages))
        # One product at a time: OpenBLAS runs each on every core, and several
        # request threads multiplying at once thrashed (16 clients: 11 requests/s
        # against 30 at 4; `parallax bench`).
        with _SCORING:
            passage_scores = corpus.vectors @ query
    else:
        found = np.unique(rows)
        passage_scores = corpus.vectors[found] @ query
    if len(found) > keep:
        best = np.sort(np.argpartition(-passage_scores, keep - 1)[:keep])
        found, passage_scores = found[best], passage_scores[best]
    scores = _with_best_sentence(corpus, found, passage_scores, query)
    if len(scores) > depth:
        top = np.argpartition(-scores, depth - 1)[:depth]
        found, scores = found[top], scores[top]
    order = np.lexsort((found, -scores))  # best first; ties by row, deterministically
    return Ranking(found[order].astype(np.int64), scores[order].astype(np.float32))


SENTENCE_CANDIDATES = 1000
# Past `SENTENCE_CANDIDATES / SENTENCE_CANDIDATES_PER_PASSAGE` passages asked for (200, the
# default depth), the candidates grow with the depth: this many per passage asked for.
SENTENCE_CANDIDATES_PER_PASSAGE = 5


def sentence_candidates(
    depth: int,
    floor: int = SENTENCE_CANDIDATES,
    per_passage: int = SENTENCE_CANDIDATES_PER_PASSAGE,
) -> int:
    """How many passages, best by their own vector, have their sentences scored: `floor`
    (`SearchOptions.sentence_candidates`), or `per_passage` per passage asked for."""
    return max(floor, per_passage * depth)


def _with_best_sentence(
    corpus: Corpus, candidates: np.ndarray, passage_scores: np.ndarray, query: np.ndarray
) -> np.ndarray:
    """(passage similarity + best sentence similarity) / 2 for each candidate row."""
    counts = corpus.sentence_offsets[candidates + 1] - corpus.sentence_offsets[candidates]
    if not counts.any():
        return passage_scores
    if len(candidates) == len(corpus.passages):  # every row (sorted): read them in place
        with _SCORING:
            sentence_scores = corpus.sentence_vectors @ query
    else:
        rows = corpus.sentence_rows(candidates)
        sentence_scores = row_products(corpus.sentence_vectors, rows, query)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    best = np.maximum.reduceat(sentence_scores, np.minimum(starts, len(sentence_scores) - 1))
    # A passage without sentence vectors is scored by its own vector alone.
    best = np.where(counts > 0, best, passage_scores)
    return (passage_scores + best) / 2


def lexical_ranking(
    corpus: Corpus, query: str, depth: int, rows: np.ndarray | None = None
) -> Ranking:
    """The `depth` passages with the highest BM25 score; passages sharing no term are left out."""
    if not corpus.passages or depth <= 0:
        return Ranking.empty()
    tokens = tokenize_for_bm25([query])[0]
    if not tokens:
        return Ranking.empty()
    scores = corpus.lexical_scores(tokens)
    if rows is not None:
        masked = np.zeros_like(scores)
        masked[rows] = scores[rows]
        scores = masked
    order = top_rows(scores, depth)
    return Ranking(order.astype(np.int64), scores[order].astype(np.float32))


# Past this many passages, the lexical top `depth` is selected above a threshold taken
# from every `_STRIDE`th score: a query of common words gives hundreds of thousands of
# passages a positive score at a million passages, and selecting among them all took
# 4.3 ms against 0.4 ms among those above the threshold.
_SAMPLED_FROM = 100_000
_STRIDE = 64


def top_rows(scores: np.ndarray, depth: int) -> np.ndarray:
    """The rows of the `depth` highest positive scores, best first, ties by row."""
    matching = None
    if len(scores) >= _SAMPLED_FROM:
        sample = scores[::_STRIDE]
        # Only its positive scores: partitioning a sample that is mostly zeros took 1.2 ms
        # at a million passages (numpy 2.4), its positive part 0.1 ms.
        sample = sample[sample > 0]
        # The r-th best of the sample has about r * _STRIDE scores above it; r is twice
        # what `depth` needs, and a threshold that lets fewer through is not used.
        rank = 2 * -(-depth // _STRIDE) + 2
        if len(sample) >= rank:
            threshold = np.partition(sample, len(sample) - rank)[len(sample) - rank]
            above = np.flatnonzero(scores >= threshold)
            if len(above) >= depth:
                matching = above
    if matching is None:
        matching = np.flatnonzero(scores > 0)
    if len(matching) > depth:
        # The `depth`th best score; of the rows tied at it, the first ones by row.
        values = scores[matching]
        last = np.partition(values, len(values) - depth)[len(values) - depth]
        above = matching[values > last]
        tied = matching[values == last][: depth - len(above)]
        matching = np.sort(np.concatenate([above, tied]))
    return matching[np.argsort(-scores[matching], kind="stable")]


# RRF's k, the value of its paper (Cormack, Clarke and Buettcher, SIGIR 2009): large enough
# that a row ranked first by one retriever does not outweigh one ranked high by both.
RRF_K = 60


def reciprocal_rank_fusion(rankings: Sequence[Ranking], k: int = RRF_K) -> Ranking:
    """Fuse rankings by RRF: each ranking gives a row 1 / (k + rank), rank from 1.

    Ties keep the order of the first ranking that holds the row, so fusion is deterministic.
    """
    rows = [ranking.rows for ranking in rankings if len(ranking)]
    if not rows:
        return Ranking.empty()
    every = np.concatenate(rows).astype(np.int64)
    shares = np.concatenate([1.0 / (k + np.arange(1, len(r) + 1, dtype=np.float64)) for r in rows])
    # Each row once, in the order it first appears (the first ranking's order, then the
    # next's), with its shares summed in that same order of rankings.
    unique, first, inverse = np.unique(every, return_index=True, return_inverse=True)
    scores = np.zeros(len(unique), dtype=np.float64)
    np.add.at(scores, inverse, shares)
    appearance = np.argsort(first, kind="stable")
    order = appearance[np.argsort(-scores[appearance], kind="stable")]
    return Ranking(unique[order], scores[order].astype(np.float32))
