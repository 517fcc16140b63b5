"""Passage and sentence vectors: the one-pass pooling and the encode-each fallback."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from index.chunk import chunk
from index.documents import Document
from index.embed import EmbedderOptions, HashingEmbedder, embed_passages, make_embedder
from index.encoder import pool_sentences


@dataclass
class FakeEncoding:
    """What `tokenizers` gives for a passage: ids, character offsets, special-token mask."""

    ids: list[int]
    offsets: list[tuple[int, int]]
    special_tokens_mask: list[int]


def test_each_sentence_pools_its_own_tokens_and_the_special_ones() -> None:
    doc = Document(id="d", source="s", text="Intro. Ten hurt. Calm now.")
    (passage,) = chunk(doc, 64, 0)
    assert passage.sentence_texts() == ["Intro.", "Ten hurt.", "Calm now."]
    # [CLS] intro . ten hurt . calm now . [SEP]
    offsets = [(0, 0), (0, 5), (5, 6), (7, 10), (11, 15), (15, 16)]
    offsets += [(17, 21), (22, 25), (25, 26), (0, 0)]
    special = [1] + [0] * 8 + [1]
    states = np.eye(10, 12, dtype=np.float32)  # token i points along axis i
    encoding = FakeEncoding(list(range(10)), offsets, special)

    vectors = pool_sentences(passage, np.ones(12, np.float32), states, encoding)

    assert vectors.shape == (3, 12)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    own = {0: [1, 2], 1: [3, 4, 5], 2: [6, 7, 8]}
    for sentence, tokens in own.items():
        members = set(np.flatnonzero(vectors[sentence]).tolist())
        assert members == {0, 9, *tokens}, sentence


def test_a_sentence_cut_off_by_truncation_takes_the_passage_vector() -> None:
    doc = Document(id="d", source="s", text="Kept here. Lost later.")
    (passage,) = chunk(doc, 64, 0)
    encoding = FakeEncoding([0, 1, 2, 3], [(0, 0), (0, 4), (5, 9), (0, 0)], [1, 0, 0, 1])
    states = np.eye(4, 6, dtype=np.float32)
    embedding = np.full(6, 1 / np.sqrt(6), np.float32)

    vectors = pool_sentences(passage, embedding, states, encoding)

    assert np.allclose(vectors[1], embedding)
    assert vectors[0][1] > 0 and vectors[0][2] > 0


def test_without_one_pass_pooling_each_sentence_is_encoded_on_its_own() -> None:
    embedder = HashingEmbedder()
    doc = Document(id="d", source="s", text="Ten were hurt. The fire spread fast. Police came.")
    passages = chunk(doc, 8, 0, embedder.count_tokens)

    vectors, sentences = embed_passages(embedder, passages)

    assert len(vectors) == len(sentences) == len(passages)
    for passage, vector, rows in zip(passages, vectors, sentences, strict=True):
        assert np.allclose(vector, embedder.encode([passage.text])[0])
        assert np.allclose(rows, embedder.encode(passage.sentence_texts()))


@pytest.mark.parametrize(
    ("option", "value"), [("query", "tensorflow"), ("ingest", "gpu"), ("sentences", "maybe")]
)
def test_an_unknown_encoder_option_is_named(option: str, value: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=f"unknown .*{value!r}"):
        make_embedder(EmbedderOptions("model", cache=tmp_path, **{option: value}))


def test_auto_precision_takes_bf16_only_where_a_probe_finds_it_faster(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import index.encoder
    from index.encoder import resolve_precision

    timings = {"fp32": 1.0, "bf16": 0.5}
    probed: list[str] = []

    def probe(precision: str) -> float:
        probed.append(precision)
        return timings[precision]

    monkeypatch.setattr(index.encoder, "cpu_has_bf16", lambda: False)
    assert resolve_precision("auto", probe, tmp_path, "openvino") == "fp32"
    assert probed == []  # no native bf16: nothing to measure

    monkeypatch.setattr(index.encoder, "cpu_has_bf16", lambda: True)
    assert resolve_precision("auto", probe, tmp_path, "openvino") == "bf16"
    assert sorted(probed) == ["bf16", "fp32"]
    # The choice is kept per backend: a second load does not measure again.
    probed.clear()
    assert resolve_precision("auto", probe, tmp_path, "openvino") == "bf16"
    assert probed == []
    # bf16 barely faster (within the margin) or slower: the exact fp32 is kept.
    timings["bf16"] = 0.95
    assert resolve_precision("auto", probe, tmp_path, "torch") == "fp32"
    timings["bf16"] = 1.6
    assert resolve_precision("auto", probe, None, "torch") == "fp32"
    # An explicit precision is never second-guessed.
    assert resolve_precision("bf16", probe, None, "torch") == "bf16"
    with pytest.raises(ValueError, match="auto, fp32 or bf16"):
        resolve_precision("fp16")
