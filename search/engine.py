"""Search: a query in, the overall top k and one group of hits per source out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from index.chunk import Passage
from index.corpus import Corpus
from index.documents import Document
from index.embed import Embedder
from search.retrieve import (
    RRF_K,
    SENTENCE_CANDIDATES,
    SENTENCE_CANDIDATES_PER_PASSAGE,
    PassageFilters,
    Ranking,
    allowed_rows,
    dense_ranking,
    lexical_ranking,
    reciprocal_rank_fusion,
    sentence_candidates,
)

# How passages are ranked: dense and lexical fused, or either alone.
Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = get_args(Mode)


@dataclass(frozen=True)
class SearchOptions:
    """How a search ranks and groups passages; the request sets the first five, the
    settings `depth` and `min_similarity` (api/app.py `search_options`)."""

    # Hits in the overall top list.
    k: int = 10
    # Hits shown in each source's group.
    per_source: int = 2
    # Source groups returned at most (like Qdrant's group `limit`): a broad query over an
    # archive matches hundreds of documents, and a body with a group for each is 300 KB.
    max_sources: int = 50
    # Dense and lexical fused, or either alone (`MODES`).
    mode: Mode = "hybrid"
    # Which passages may be found at all: documents, sources, dates, stories.
    filters: PassageFilters = PassageFilters()
    # How many candidates each retriever contributes before fusion and grouping;
    # deep enough that an outlet outside the overall top k still gets its group.
    depth: int = 200
    # Dense candidates below this cosine similarity are not relevant to the query.
    min_similarity: float = 0.2
    # Hybrid mode's reciprocal rank fusion constant: a row gets 1 / (rrf_k + rank) from each
    # ranking (`search.retrieve.RRF_K`).
    rrf_k: int = RRF_K
    # Passages, best by their own vector, whose sentences dense search scores: at least
    # this many, and at least `sentence_candidates_per_passage` per passage asked for
    # (`depth`; `search.retrieve.dense_ranking`).
    sentence_candidates: int = SENTENCE_CANDIDATES
    sentence_candidates_per_passage: int = SENTENCE_CANDIDATES_PER_PASSAGE


@dataclass(frozen=True)
class RankedHit:
    passage: Passage
    document: Document
    score: float
    rank: int
    story_id: str | None = None


@dataclass(frozen=True)
class RankedGroup:
    document: Document
    hits: tuple[RankedHit, ...]

    @property
    def story_id(self) -> str | None:
        return self.hits[0].story_id


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[RankedHit, ...]
    by_source: tuple[RankedGroup, ...]


def search(corpus: Corpus, embedder: Embedder, query: str, options: SearchOptions) -> SearchResult:
    """Rank passages for `query` and group them by document, best group first."""
    return rank_to_result(corpus, rank(corpus, embedder, query, options), options)


def rank(
    corpus: Corpus,
    embedder: Embedder,
    query: str,
    options: SearchOptions,
    vector: np.ndarray | None = None,
) -> Ranking:
    """Every relevant passage row, best first, under the options' mode and filters.

    Pass `vector` when the query is already encoded.
    """
    return fuse(rankings(corpus, embedder, query, options, vector), options)


def rankings(
    corpus: Corpus,
    embedder: Embedder,
    query: str,
    options: SearchOptions,
    vector: np.ndarray | None = None,
) -> list[Ranking]:
    """The ranking of each retriever the options' mode uses (dense, lexical), within the
    options' filters; dense candidates under `min_similarity` are left out."""
    rows = allowed_rows(corpus, options.filters)
    found = []
    if options.mode in ("hybrid", "dense"):
        if vector is None:
            vector = embedder.encode([query])[0]
        candidates = sentence_candidates(
            options.depth, options.sentence_candidates, options.sentence_candidates_per_passage
        )
        dense = dense_ranking(corpus, vector, options.depth, rows, candidates)
        keep = dense.scores >= options.min_similarity
        found.append(Ranking(dense.rows[keep], dense.scores[keep]))
    if options.mode in ("hybrid", "lexical"):
        found.append(lexical_ranking(corpus, query, options.depth, rows))
    return found


def fuse(found: Sequence[Ranking], options: SearchOptions) -> Ranking:
    """One ranking: reciprocal rank fusion in hybrid mode, else the one retriever's."""
    if options.mode == "hybrid":
        return reciprocal_rank_fusion(found, options.rrf_k)
    return found[0]


def rank_to_result(corpus: Corpus, ranking: Ranking, options: SearchOptions) -> SearchResult:
    """The top k hits overall, and up to `per_source` hits for each of the best
    `max_sources` documents in the ranking.

    Only the hits shown are read: a ranking holds some 350 passages and a result shows a
    fraction of them, and reading a passage and its document is what costs at scale."""
    doc_ids = corpus.document_ids_of(ranking.rows)
    groups = _grouped(doc_ids, options.per_source, options.max_sources)
    top = range(min(options.k, len(doc_ids)))
    story_of = corpus.stories.story_of
    hits: dict[int, RankedHit] = {}
    for n in sorted({*top, *(n for group in groups for n in group)}):
        passage, document = corpus.passage_and_document(int(ranking.rows[n]))
        score = float(ranking.scores[n])
        hits[n] = RankedHit(passage, document, score, n + 1, story_of.get(document.id))
    return SearchResult(
        tuple(hits[n] for n in top),
        tuple(RankedGroup(hits[g[0]].document, tuple(hits[n] for n in g)) for g in groups),
    )


def group_by_source(
    hits: list[RankedHit], per_source: int, max_groups: int | None = None
) -> tuple[RankedGroup, ...]:
    """One group per document, in the order of each document's best hit; at most
    `max_groups` groups."""
    groups = _grouped([hit.document.id for hit in hits], per_source, max_groups)
    return tuple(RankedGroup(hits[g[0]].document, tuple(hits[n] for n in g)) for g in groups)


def _grouped(doc_ids: Sequence[str], per_source: int, max_groups: int | None) -> list[list[int]]:
    """Positions of the hits of each document (at most `per_source`), in the order of each
    document's best hit; at most `max_groups` documents."""
    groups: dict[str, list[int]] = {}
    for n, doc_id in enumerate(doc_ids):
        group = groups.get(doc_id)
        if group is None:
            if max_groups is not None and len(groups) >= max_groups:
                continue
            group = groups[doc_id] = []
        if len(group) < per_source:
            group.append(n)
    return list(groups.values())
