"""The array-built BM25 index against bm25s's own."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from index.bm25 import BM25
from index.live import LiveIndex
from index.words import tokenize_for_bm25


def _both(tokens: list[list[str]]) -> tuple[bm25s.BM25, BM25]:
    theirs, ours = bm25s.BM25(), BM25()
    theirs.index(tokens, show_progress=False)
    ours.index(tokens, show_progress=False)
    return theirs, ours


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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_score_matrix_is_the_one_bm25s_builds(seed: int) -> None:
    theirs, ours = _both(_random_corpus(seed, 400))
    assert theirs.vocab_dict == ours.vocab_dict
    assert np.array_equal(theirs.scores["indptr"], ours.scores["indptr"])
    assert np.array_equal(theirs.scores["indices"], ours.scores["indices"])
    assert np.allclose(theirs.scores["data"], ours.scores["data"], rtol=1e-6, atol=0)
    assert ours.scores["data"].dtype == theirs.scores["data"].dtype
    assert ours.scores["indices"].dtype == theirs.scores["indices"].dtype


def test_seed_passages_score_and_rank_as_with_bm25s(hashing_index: LiveIndex) -> None:
    texts = [p.text for p in hashing_index.corpus.passages]
    theirs, ours = _both(tokenize_for_bm25(texts))
    for query in ("how many were injured", "Stephanie Grisham press secretary", "tear gas"):
        tokens = tokenize_for_bm25([query])[0]
        a, b = theirs.get_scores(tokens), ours.get_scores(tokens)
        assert np.allclose(a, b, rtol=1e-6)
        assert (
            np.argsort(-a, kind="stable")[:5].tolist() == np.argsort(-b, kind="stable")[:5].tolist()
        )


def test_an_index_built_here_saves_and_loads_with_bm25s(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tokens = _random_corpus(7, 50)
    _, ours = _both(tokens)
    ours.save(str(tmp_path / "bm25"))
    loaded = bm25s.BM25.load(str(tmp_path / "bm25"))
    assert np.allclose(loaded.get_scores(tokens[3][:3]), ours.get_scores(tokens[3][:3]))


def test_other_bm25_variants_fall_back_to_bm25s() -> None:
    tokens = _random_corpus(3, 60)
    theirs, ours = bm25s.BM25(method="bm25+"), BM25(method="bm25+")
    theirs.index(tokens, show_progress=False)
    ours.index(tokens, show_progress=False)
    assert np.array_equal(theirs.scores["data"], ours.scores["data"])
