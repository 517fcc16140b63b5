"""BM25 from per-segment postings, scored with index-wide statistics, against bm25s."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from index.live import LiveIndex
from index.postings import Postings, bm25_scores
from index.words import tokenize_for_bm25


def _random_corpus(seed: int, passages: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    words = [f"w{n}" for n in range(300)]
    # Zipf-like: a few common words, many rare ones, and some passages repeating a word.
    weights = 1 / np.arange(1, len(words) + 1)
    weights /= weights.sum()
    return [
        [str(w) for w in rng.choice(words, size=int(rng.integers(1, 60)), p=weights)]
        for _ in range(passages)
    ]


def _bm25s(tokens: list[list[str]]) -> bm25s.BM25:
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    return retriever


def _ours(parts: list[list[list[str]]], query: list[str]) -> np.ndarray:
    postings = [Postings.build(part) for part in parts]
    total = sum(int(p.lengths.sum()) for p in postings)
    count = sum(len(p.lengths) for p in postings)
    return np.concatenate(bm25_scores(postings, query, total, count))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_split_over_segments_are_bm25s_scores_over_the_whole(seed: int) -> None:
    tokens = _random_corpus(seed, 400)
    theirs = _bm25s(tokens)
    for query in (["w1", "w7"], ["w250", "w3", "w3"], ["w299"]):
        expected = theirs.get_scores(query)
        assert np.allclose(_ours([tokens], query), expected, atol=1e-5)
        # Three segments, scored with the statistics of all three together.
        split = [tokens[:100], tokens[100:101], tokens[101:]]
        assert np.allclose(_ours(split, query), expected, atol=1e-5)


def test_seed_passages_rank_as_with_bm25s(hashing_index: LiveIndex) -> None:
    tokens = tokenize_for_bm25([p.text for p in hashing_index.corpus.passages])
    theirs = _bm25s(tokens)
    for query in ("how many were injured", "Stephanie Grisham press secretary", "tear gas"):
        q = tokenize_for_bm25([query])[0]
        a, b = theirs.get_scores(q), _ours([tokens], q)
        assert np.allclose(a, b, atol=1e-5)
        assert (
            np.argsort(-a, kind="stable")[:5].tolist() == np.argsort(-b, kind="stable")[:5].tolist()
        )


def test_merged_postings_are_those_built_from_the_kept_passages() -> None:
    tokens = _random_corpus(5, 120)
    first, second = Postings.build(tokens[:70]), Postings.build(tokens[70:])
    keep = np.array([0, 3, 4, 10, 69])
    merged = Postings.merge([(first, keep), (second, None)])
    built = Postings.build([tokens[i] for i in keep.tolist()] + tokens[70:])
    assert np.array_equal(merged.lengths, built.lengths)
    for term in ("w0", "w5", "w120"):
        query = [term]
        assert np.allclose(
            bm25_scores([merged], query, 1000, 200)[0], bm25_scores([built], query, 1000, 200)[0]
        )


def test_postings_save_and_load_unchanged(tmp_path: Path) -> None:
    postings = Postings.build(_random_corpus(9, 30))
    with (tmp_path / "postings.npz").open("wb") as handle:
        postings.save_to(handle)
    loaded = Postings.load(tmp_path / "postings.npz")
    assert loaded.vocabulary == postings.vocabulary
    for name in ("indptr", "rows", "counts", "lengths"):
        assert np.array_equal(getattr(loaded, name), getattr(postings, name))
