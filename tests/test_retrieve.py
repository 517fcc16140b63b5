"""Rank fusion, grouping by source, per-source coverage and filters, on the hashing seed index."""

from __future__ import annotations

import numpy as np
import pytest

from index.chunk import Passage
from index.documents import Document
from index.live import LiveIndex
from search.engine import RankedHit, SearchOptions, SearchResult, group_by_source, search
from search.retrieve import PassageFilters, Ranking, reciprocal_rank_fusion, top_rows

NBC_000 = "000_487d20731cd06fa7"
NBC_001 = "001_f41bc6fbf25c952a"
HILL_002 = "002_811ad477ead50ed2"
UNKNOWN_003 = "003_ec9ad3d51fc008de"
GLOBE_004 = "004_72b5cb386ec7b792"
ALL_SEEDS = {NBC_000, NBC_001, HILL_002, UNKNOWN_003, GLOBE_004}


def _ranking(*rows: int) -> Ranking:
    return Ranking(np.array(rows, dtype=np.int64), np.linspace(1.0, 0.5, len(rows)))


# reciprocal_rank_fusion


def test_fusion_sums_one_over_k_plus_rank_per_list() -> None:
    fused = reciprocal_rank_fusion([_ranking(10, 20, 30), _ranking(30, 10)], k=60)
    assert fused.rows.tolist() == [10, 30, 20]
    assert fused.scores.tolist() == pytest.approx(
        [1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62], rel=1e-6
    )


def test_fusion_ignores_the_retrievers_own_scores() -> None:
    # Only ranks count: a huge dense score does not outweigh a lexical first place.
    dense = Ranking(np.array([1, 2]), np.array([1000.0, 0.1]))
    lexical = Ranking(np.array([2, 1]), np.array([0.2, 0.1]))
    fused = reciprocal_rank_fusion([dense, lexical], k=60)
    assert fused.scores[0] == pytest.approx(fused.scores[1])


def test_a_row_found_by_both_retrievers_beats_rows_found_by_one() -> None:
    # Row 7 is only second in each list, but both lists hold it.
    fused = reciprocal_rank_fusion([_ranking(1, 7), _ranking(2, 7)], k=60)
    assert fused.rows[0] == 7
    assert fused.scores[0] == pytest.approx(2 / 62)
    assert sorted(fused.rows[1:].tolist()) == [1, 2]


def test_k_sets_the_weight_of_top_ranks() -> None:
    fused = reciprocal_rank_fusion([_ranking(1, 7), _ranking(2, 7)], k=0)
    # With k=0 one first place (1/1) is worth as much as two second places (1/2 + 1/2).
    assert fused.scores.tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert fused.rows.tolist() == [1, 7, 2]


def test_ties_keep_the_order_of_the_first_ranking() -> None:
    first = reciprocal_rank_fusion([_ranking(1, 2), _ranking(2, 1)])
    assert first.rows.tolist() == [1, 2]
    assert first.scores[0] == pytest.approx(first.scores[1])
    swapped = reciprocal_rank_fusion([_ranking(2, 1), _ranking(1, 2)])
    assert swapped.rows.tolist() == [2, 1]
    # The same input always fuses to the same output.
    again = reciprocal_rank_fusion([_ranking(1, 2), _ranking(2, 1)])
    assert again.rows.tolist() == first.rows.tolist()


def test_fusion_of_empty_inputs_is_empty() -> None:
    assert len(reciprocal_rank_fusion([])) == 0
    assert len(reciprocal_rank_fusion([Ranking.empty(), Ranking.empty()])) == 0
    only = reciprocal_rank_fusion([Ranking.empty(), _ranking(5, 3, 9)])
    assert only.rows.tolist() == [5, 3, 9]
    assert only.scores.tolist() == pytest.approx([1 / 61, 1 / 62, 1 / 63], rel=1e-6)


# group_by_source


def _hit(doc_id: str, rank: int) -> RankedHit:
    doc = Document(id=doc_id, text=f"Text of {doc_id}.", source=f"Outlet {doc_id}")
    passage = Passage(f"{doc_id}#{rank}", doc_id, doc.text, 0, len(doc.text))
    return RankedHit(passage, doc, score=1.0 / rank, rank=rank)


def test_grouping_gives_one_group_per_document_ordered_by_best_hit() -> None:
    hits = [_hit(doc_id, n) for n, doc_id in enumerate("BABCAAB", start=1)]
    groups = group_by_source(hits, per_source=2)
    assert [g.document.id for g in groups] == ["B", "A", "C"]
    # Each group keeps its best hits, with their rank in the overall ranking.
    assert [[h.rank for h in g.hits] for g in groups] == [[1, 3], [2, 5], [4]]


def test_grouping_caps_hits_per_source() -> None:
    hits = [_hit("A", n) for n in range(1, 6)] + [_hit("B", 6)]
    one = group_by_source(hits, per_source=1)
    assert [(g.document.id, [h.rank for h in g.hits]) for g in one] == [("A", [1]), ("B", [6])]
    assert group_by_source([], per_source=2) == ()


# search over the hashing seed index


def _doc_ids(result: SearchResult) -> set[str]:
    return {hit.document.id for hit in result.hits}


def _group_ids(result: SearchResult) -> list[str]:
    return [group.document.id for group in result.by_source]


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
def test_every_matching_source_gets_a_group_beyond_the_top_k(
    hashing_index: LiveIndex, mode: str
) -> None:
    corpus = hashing_index.corpus
    # Only 001 names Grisham, so it takes the top; every seed mentions the embassy.
    assert all("embassy" in doc.text.lower() for doc in corpus.documents.values())
    result = search(
        corpus,
        hashing_index.embedder,
        "press secretary Stephanie Grisham embassy",
        SearchOptions(k=1, per_source=2, mode=mode),  # type: ignore[arg-type]
    )
    assert len(result.hits) == 1
    assert result.hits[0].document.id == NBC_001
    assert set(_group_ids(result)) == ALL_SEEDS
    assert _group_ids(result)[0] == NBC_001
    for group in result.by_source:
        assert 1 <= len(group.hits) <= 2
        assert all(hit.document.id == group.document.id for hit in group.hits)
        ranks = [hit.rank for hit in group.hits]
        assert ranks == sorted(ranks)
    # Groups come in the order of their best hit in the overall ranking.
    best = [group.hits[0].rank for group in result.by_source]
    assert best == sorted(best)


def test_hits_locate_their_text_in_the_document(hashing_index: LiveIndex) -> None:
    result = search(
        hashing_index.corpus, hashing_index.embedder, "tear gas injured", SearchOptions(k=5)
    )
    assert [hit.rank for hit in result.hits] == [1, 2, 3, 4, 5]
    for hit in result.hits:
        assert hit.document.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text


def _filtered(hashing_index: LiveIndex, **filters: object) -> SearchResult:
    return search(
        hashing_index.corpus,
        hashing_index.embedder,
        "protesters stormed the embassy",
        SearchOptions(k=50, filters=PassageFilters(**filters)),  # type: ignore[arg-type]
    )


def test_without_filters_the_query_reaches_every_seed(hashing_index: LiveIndex) -> None:
    assert set(_group_ids(_filtered(hashing_index))) == ALL_SEEDS


def test_filter_by_document_ids(hashing_index: LiveIndex) -> None:
    result = _filtered(hashing_index, doc_ids=(HILL_002, GLOBE_004))
    assert _doc_ids(result) == {HILL_002, GLOBE_004}
    assert set(_group_ids(result)) == {HILL_002, GLOBE_004}
    assert _doc_ids(_filtered(hashing_index, doc_ids=("no-such-doc",))) == set()


@pytest.mark.parametrize("source", ["NBC News", "nbc news", "NBC NEWS"])
def test_filter_by_source_ignores_case(hashing_index: LiveIndex, source: str) -> None:
    result = _filtered(hashing_index, sources=(source,))
    assert _doc_ids(result) == {NBC_000, NBC_001}
    assert set(_group_ids(result)) == {NBC_000, NBC_001}


def test_filter_by_several_sources(hashing_index: LiveIndex) -> None:
    result = _filtered(hashing_index, sources=("the hill", "The Globe and Mail"))
    assert _doc_ids(result) == {HILL_002, GLOBE_004}


@pytest.mark.parametrize(
    "dates, expected",
    [
        ({"published_from": "2019-12-31"}, ALL_SEEDS),
        ({"published_to": "2019-12-31"}, ALL_SEEDS),
        ({"published_from": "2019-12-31", "published_to": "2019-12-31"}, ALL_SEEDS),
        ({"published_from": "2020-01-01"}, set()),
        ({"published_to": "2019-12-30"}, set()),
        ({"published_from": "2019-01-01", "published_to": "2019-06-30"}, set()),
    ],
)
def test_filter_by_publication_date(
    hashing_index: LiveIndex, dates: dict[str, str], expected: set[str]
) -> None:
    result = _filtered(hashing_index, **dates)
    assert _doc_ids(result) == expected
    assert set(_group_ids(result)) == expected


def test_filters_combine_as_and(hashing_index: LiveIndex) -> None:
    both = _filtered(hashing_index, doc_ids=(NBC_000, HILL_002), sources=("NBC News",))
    assert _doc_ids(both) == {NBC_000}
    dated = _filtered(
        hashing_index, sources=("NBC News",), published_from="2019-12-31", doc_ids=(NBC_001,)
    )
    assert _doc_ids(dated) == {NBC_001}
    too_late = _filtered(hashing_index, sources=("NBC News",), published_from="2020-01-01")
    assert _doc_ids(too_late) == set()


@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_filters_apply_to_each_retriever(hashing_index: LiveIndex, mode: str) -> None:
    result = search(
        hashing_index.corpus,
        hashing_index.embedder,
        "protesters stormed the embassy",
        SearchOptions(k=50, mode=mode, filters=PassageFilters(sources=("The Hill",))),  # type: ignore[arg-type]
    )
    assert _doc_ids(result) == {HILL_002}


@pytest.mark.parametrize("query", ["the of and were", "how many did they say", "zzyzx qwxv"])
def test_lexical_mode_finds_nothing_without_a_known_content_word(
    hashing_index: LiveIndex, query: str
) -> None:
    result = search(
        hashing_index.corpus, hashing_index.embedder, query, SearchOptions(mode="lexical")
    )
    assert result.hits == ()
    assert result.by_source == ()


def test_lexical_mode_finds_a_name_in_the_one_article_that_has_it(
    hashing_index: LiveIndex,
) -> None:
    result = search(
        hashing_index.corpus,
        hashing_index.embedder,
        "Stephanie Grisham",
        SearchOptions(mode="lexical"),
    )
    assert result.hits
    assert result.hits[0].document.id == NBC_001
    assert "Stephanie Grisham" in result.hits[0].passage.text
    # No other article names her, so no other article is returned.
    assert _doc_ids(result) == {NBC_001}


def test_dense_score_is_the_mean_of_passage_and_best_sentence_similarity(
    hashing_index: LiveIndex,
) -> None:
    from search.retrieve import dense_ranking

    corpus = hashing_index.corpus
    query = hashing_index.embedder.encode(["tear gas live bullets injured"])[0]
    ranking = dense_ranking(corpus, query, depth=len(corpus.passages))
    assert len(ranking) == len(corpus.passages)
    for row, score in zip(ranking.rows.tolist(), ranking.scores.tolist(), strict=True):
        rows = range(corpus.sentence_offsets[row], corpus.sentence_offsets[row + 1])
        best = max(float(corpus.sentence_vectors[r] @ query) for r in rows)
        assert score == pytest.approx((float(corpus.vectors[row] @ query) + best) / 2, abs=1e-5)
    assert list(ranking.scores) == sorted(ranking.scores, reverse=True)
    # Restricted to one document's rows, only its passages come back.
    only = np.arange(corpus.rows_of(NBC_001).start, corpus.rows_of(NBC_001).stop)
    restricted = dense_ranking(corpus, query, depth=5, rows=only)
    assert set(restricted.rows.tolist()) <= set(only.tolist()) and len(restricted) == min(
        5, len(only)
    )


def test_each_passage_owns_the_vectors_of_its_own_sentences(hashing_index: LiveIndex) -> None:
    corpus = hashing_index.corpus
    embedder = hashing_index.embedder
    for row in (0, len(corpus.passages) // 2, len(corpus.passages) - 1):
        passage = corpus.passages[row]
        rows = corpus.sentence_rows(np.array([row]))
        expected = embedder.encode(passage.sentence_texts())
        # Stored in 8 bits: a unit vector's components are within 1/254.
        assert np.allclose(corpus.sentence_vectors[rows], expected, atol=4e-3)


def test_hnsw_finds_what_exact_search_finds_on_a_small_index() -> None:
    from index.vectors import VectorOptions, vector_index

    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, hnsw = vector_index(vectors, kind="exact"), vector_index(vectors, kind="hnsw")
    assert vector_index(vectors).kind == "exact"  # below the threshold
    assert vector_index(vectors, VectorOptions(ann_threshold=2000)).kind == "hnsw"
    overlap = []
    for query in vectors[:50]:
        a, exact_scores = exact.nearest(query, 10)
        b, graph_scores = hnsw.nearest(query, 10)
        overlap.append(len(set(a.tolist()) & set(b.tolist())) / 10)
        # Both kinds report exact cosines, the graph's rescored from the vectors.
        assert np.allclose(graph_scores, vectors[b] @ query, atol=1e-6)
        assert np.allclose(exact_scores, vectors[a] @ query, atol=1e-6)
    assert float(np.mean(overlap)) >= 0.95
    with pytest.raises(ValueError, match="auto, exact or hnsw"):
        vector_index(vectors, kind="ivf")


def test_past_the_ann_threshold_dense_search_ranks_as_exact_search_does(
    hashing_index: LiveIndex,
) -> None:
    from dataclasses import replace

    from index.vectors import VectorOptions
    from search.retrieve import dense_ranking

    corpus = hashing_index.corpus
    query = hashing_index.embedder.encode(["tear gas live bullets injured"])[0]
    exact = dense_ranking(corpus, query, depth=5)
    assert not corpus.approximate
    # A snapshot of the same data past a lower threshold takes HNSW candidates instead.
    copy = replace(corpus, vector_options=VectorOptions(ann_threshold=10))
    assert copy.approximate
    assert copy.segments[0].searcher(copy.vector_options).rows == len(corpus.vectors)
    approximate = dense_ranking(copy, query, depth=5)
    assert approximate.rows.tolist() == exact.rows.tolist()
    assert np.allclose(approximate.scores, exact.scores, atol=1e-6)


def test_a_graph_searched_segment_and_exact_ones_rank_together_as_exact_search_does(
    hashing_index: LiveIndex,
) -> None:
    from dataclasses import replace

    from index.documents import Document
    from index.vectors import VectorOptions
    from search.retrieve import PassageFilters, allowed_rows, dense_ranking

    # The seed segment, a tombstone in it, and two small segments after it.
    hashing_index.upsert([Document(id="n1", text="Tear gas was fired at the embassy gate.")])
    hashing_index.upsert([Document(id="n2", text="Live bullets injured protesters near the wall.")])
    hashing_index.delete("002_811ad477ead50ed2")
    corpus = hashing_index.corpus
    assert len(corpus.segments) == 3 and corpus.dead
    # The seed segment only is searched by graph.
    graphed = replace(corpus, vector_options=VectorOptions(ann_threshold=20))
    assert graphed.approximate
    assert [len(s.passages) >= 20 for s in graphed.segments] == [True, False, False]
    query = hashing_index.embedder.encode(["tear gas live bullets injured"])[0]
    for filters in (
        PassageFilters(),
        PassageFilters(sources=("NBC News", "")),
        PassageFilters(doc_ids=("n2", "n1")),
    ):
        rows = allowed_rows(corpus, filters)
        exact = dense_ranking(corpus, query, depth=8, rows=rows)
        approximate = dense_ranking(graphed, query, depth=8, rows=rows)
        assert approximate.rows.tolist() == exact.rows.tolist()
        assert np.allclose(approximate.scores, exact.scores, atol=1e-6)
        assert all(corpus.passages[r].doc_id != "002_811ad477ead50ed2" for r in exact.rows)


def test_scoring_sentences_of_the_best_passages_only_keeps_the_right_top_passage(
    hashing_index: LiveIndex,
) -> None:
    from search.retrieve import dense_ranking, sentence_candidates

    corpus = hashing_index.corpus
    query = hashing_index.embedder.encode(["tear gas live bullets injured"])[0]
    everything = dense_ranking(corpus, query, depth=3)
    assert len(corpus.passages) > 5
    # Only the best five passages by their own vector get their sentences scored.
    few = dense_ranking(corpus, query, depth=1, candidates=sentence_candidates(1, floor=1))
    assert few.rows[0] == everything.rows[0]
    assert few.scores[0] == pytest.approx(everything.scores[0], abs=1e-6)


@pytest.mark.parametrize(
    "filters",
    [
        PassageFilters(doc_ids=(NBC_001, "no-such-doc")),
        PassageFilters(sources=("nbc news", "REUTERS")),
        PassageFilters(published_from="2019-12-31"),
        PassageFilters(published_to="2019-12-30"),
        PassageFilters(sources=("NBC News",), published_from="2020-01-01"),
        PassageFilters(sources=("the hill",), published_to="2019-12-31"),
        PassageFilters(doc_ids=(NBC_001,), sources=("Reuters",)),
    ],
)
def test_filters_allow_exactly_the_rows_of_the_documents_that_match(
    hashing_index: LiveIndex, filters: PassageFilters
) -> None:
    from search.retrieve import allowed_rows

    corpus = hashing_index.corpus

    def matches(doc) -> bool:  # type: ignore[no-untyped-def]
        return (
            (not filters.doc_ids or doc.id in filters.doc_ids)
            and (
                not filters.sources
                or (doc.source or "").casefold() in {s.casefold() for s in filters.sources}
            )
            and (
                not filters.published_from
                or bool(doc.published and doc.published >= filters.published_from)
            )
            and (
                not filters.published_to
                or bool(doc.published and doc.published <= filters.published_to)
            )
        )

    expected = [
        row for doc in corpus.documents.values() if matches(doc) for row in corpus.rows_of(doc.id)
    ]
    rows = allowed_rows(corpus, filters)
    if len(expected) == len(corpus.passages):  # every row allowed: searched as unfiltered
        assert rows is None
    else:
        assert rows is not None and rows.tolist() == expected


def test_a_filter_that_every_document_passes_searches_as_if_unfiltered(
    hashing_index: LiveIndex,
) -> None:
    from search.retrieve import allowed_rows

    corpus = hashing_index.corpus
    every_id = tuple(corpus.documents)
    assert allowed_rows(corpus, PassageFilters(doc_ids=every_id)) is None
    assert allowed_rows(corpus, PassageFilters()) is None


@pytest.mark.parametrize("positive_share", [0.6, 0.01, 0.0005])
@pytest.mark.parametrize("depth", [1, 200, 1000])
def test_the_lexical_top_rows_are_the_best_positive_scores_best_first(
    positive_share: float, depth: int
) -> None:
    # Large enough that the top is taken above a sampled threshold; with many, few and
    # fewer positive scores than `depth`.
    rng = np.random.default_rng(int(positive_share * 1e4) + depth)
    scores = rng.random(300_000).astype(np.float32)
    scores[rng.random(300_000) > positive_share] = 0
    positive = np.flatnonzero(scores > 0)
    expected = positive[np.lexsort((positive, -scores[positive]))][:depth]
    assert top_rows(scores, depth).tolist() == expected.tolist()


def test_tied_lexical_scores_keep_the_row_order() -> None:
    scores = np.zeros(200_000, dtype=np.float32)
    scores[::7] = 2.0
    scores[::5] = 1.0
    found = top_rows(scores, 50)
    assert found.tolist() == np.flatnonzero(scores == 2.0)[:50].tolist()
    assert top_rows(np.array([0.5, 1.0, 0.5, 0.0], np.float32), 3).tolist() == [1, 0, 2]
