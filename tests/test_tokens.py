"""A document tokenised once (`index.encoder.DocumentTokens`): the spans chunking counts and
the passages the encoder reads are exactly what the model's tokenizer gives each of them
alone. Uses the packaged model's tokenizer file only (no weights are loaded)."""

from __future__ import annotations

import numpy as np
import pytest
from tokenizers import Tokenizer

from index.chunk import Passage, chunk, split_sentences
from index.documents import Document
from index.encoder import DocumentTokens, _token_starts, resolve_model_path

TEXT = (
    "Café owners in Zürich said 12,500 people came. Prices rose 3.5% on Monday!\n"
    "The U.S. Senate met at 5 p.m.; nobody voted.Then it rained. 東京 reported 7 injured.\n"
    "A URL http://example.com/a-very-long-path_with_words was shared \u00a0twice.\n"
    "Control\x1fcharacters join words; tabs\tsplit them. Pneumonoultramicroscopicsilicovolcano."
)


@pytest.fixture(scope="module")
def tokenizers() -> tuple[Tokenizer, Tokenizer]:
    path = str(resolve_model_path("all-MiniLM-L6-v2") / "tokenizer.json")
    bare = Tokenizer.from_file(path)
    bare.no_padding()
    bare.no_truncation()
    model = Tokenizer.from_file(path)
    model.no_padding()
    model.enable_truncation(256)
    return bare, model


def _tokens(text: str, bare: Tokenizer, model: Tokenizer) -> DocumentTokens:
    cls_id, sep_id = model.encode("").ids
    return DocumentTokens(
        text,
        bare.encode(text, add_special_tokens=False),
        lambda piece: bare.encode(piece, add_special_tokens=False),
        cls_id,
        sep_id,
        256,
    )


def test_every_span_counts_as_many_tokens_as_it_takes_alone(tokenizers) -> None:  # type: ignore[no-untyped-def]
    bare, model = tokenizers
    tokens = _tokens(TEXT, bare, model)
    spans = split_sentences(TEXT)
    # Spans cut inside words too: those are tokenised alone.
    spans += [(0, 4), (2, 9), (TEXT.index("Control"), TEXT.index("join") + 4), (5, len(TEXT))]
    expected = [len(bare.encode(TEXT[s:e], add_special_tokens=False).ids) for s, e in spans]
    assert tokens.counts(spans) == expected


def test_passages_cut_from_the_document_read_as_the_tokenizer_reads_them_alone(
    tokenizers,
) -> None:  # type: ignore[no-untyped-def]
    bare, model = tokenizers
    doc = Document(id="d", text=TEXT)
    tokens = _tokens(TEXT, bare, model)

    def count(text: str) -> int:
        return len(bare.encode(text, add_special_tokens=False).ids)

    passages = chunk(doc, 24, 1, count)
    assert len(passages) > 3
    assert chunk(doc, 24, 1, count, count_spans=tokens.counts) == passages
    cut = 0
    for passage in passages:
        inputs = tokens.inputs(passage)
        if inputs is None:  # not cut at white space: the tokenizer reads it alone
            continue
        cut += 1
        alone = model.encode(passage.text)
        assert inputs.ids.tolist() == alone.ids
        assert inputs.special_tokens_mask.tolist() == alone.special_tokens_mask
        assert np.array_equal(_token_starts(inputs), _token_starts(alone))
    assert cut >= len(passages) - 1
    inside_a_word = Passage("d#x", "d", TEXT[2:9], 2, 9, ((2, 9),))
    assert tokens.inputs(inside_a_word) is None
