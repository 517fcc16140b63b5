"""Passages are runs of whole sentences, located exactly in the text, never over the limit."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.chunk import Passage, chunk, estimate_tokens, split_sentences
from index.documents import Document
from index.embed import HashingEmbedder
from index.text import sentences

SEED_001 = "001_f41bc6fbf25c952a"


def _sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def _assert_exact_offsets(doc: Document, passages: list[Passage]) -> None:
    for passage in passages:
        assert passage.doc_id == doc.id
        assert doc.text[passage.char_start : passage.char_end] == passage.text


@pytest.mark.parametrize(
    "max_tokens, overlap, count_tokens",
    # Every seed sentence fits each of these limits (the longest is 70 estimated tokens).
    [(128, 1, estimate_tokens), (72, 0, estimate_tokens), (160, 0, HashingEmbedder().count_tokens)],
)
def test_seed_passages_are_exact_whole_sentence_runs(
    seed_documents: list[Document], max_tokens: int, overlap: int, count_tokens
) -> None:
    for doc in seed_documents:
        passages = chunk(doc, max_tokens, overlap, count_tokens)
        _assert_exact_offsets(doc, passages)
        assert [p.passage_id for p in passages] == [f"{doc.id}#{n}" for n in range(len(passages))]
        spans = split_sentences(doc.text)
        starts = {start for start, _ in spans}
        ends = {end for _, end in spans}
        for passage in passages:
            # Passages begin and end on sentence boundaries and fit the model.
            assert passage.char_start in starts
            assert passage.char_end in ends
            assert count_tokens(passage.text) <= max_tokens
        for start, end in spans:
            assert any(p.char_start <= start and end <= p.char_end for p in passages), (
                f"sentence {doc.text[start:end]!r} of {doc.id} is in no passage"
            )


def test_seed_passages_under_a_small_limit_still_cover_every_character(
    seed_documents: list[Document],
) -> None:
    for doc in seed_documents:
        passages = chunk(doc, max_tokens=24, overlap=0)
        _assert_exact_offsets(doc, passages)
        assert all(estimate_tokens(p.text) <= 24 for p in passages)
        assert " ".join(p.text for p in passages).split() == doc.text.split()


def test_abbreviations_do_not_end_a_sentence(seed_documents: list[Document]) -> None:
    doc = next(d for d in seed_documents if d.id == SEED_001)
    sentences = _sentences(doc.text)
    assert (
        "Sen. Chris Murphy, D-Ct., a member of the Foreign Relations Committee, said the attacks "
        'were a reminder of how "catastrophic" the year has been for U.S. interests in the '
        "Middle East, and tweeted a long list of problems in the region."
    ) in sentences
    assert (
        "Matthew Tueller, the U.S. ambassador to Iraq, was out of the country during the "
        "protests, two U.S. officials with knowledge of the situation told NBC News."
    ) in sentences
    assert "The U.S. airstrikes have been met with an angry reaction from both Iran and Iraq." in (
        sentences
    )
    # No fragment ends right after an abbreviation.
    assert not [s for s in sentences if s.endswith(("U.S.", "Sen.", "D-Ct."))]


def test_quoted_sentences_stay_whole(seed_documents: list[Document]) -> None:
    doc = next(d for d in seed_documents if d.id == SEED_001)
    sentences = _sentences(doc.text)
    assert (
        'They chanted "Down, Down USA!" while hurling water bottles and smashing security '
        "cameras, according to The Associated Press."
    ) in sentences
    assert (
        '"Really hard to overstate how badly Trump has bungled things in the Middle East," he '
        "wrote on Twitter."
    ) in sentences
    text = 'He said "we will respond. They will pay." Then he left.'
    assert _sentences(text) == ['He said "we will respond. They will pay."', "Then he left."]


def test_paragraphs_are_never_joined_into_one_sentence() -> None:
    text = "First paragraph has no full stop\n\nsecond paragraph starts in lower case."
    assert _sentences(text) == [
        "First paragraph has no full stop",
        "second paragraph starts in lower case.",
    ]


def test_a_sentence_longer_than_the_limit_is_split_without_losing_words() -> None:
    words = [f"word{n}" for n in range(300)]
    sentence = "The report listed " + ", ".join(words) + " and more."
    doc = Document(id="long", text=f"Short opener.\n\n{sentence}\n\nShort closer.")
    passages = chunk(doc, max_tokens=24, overlap=0)
    _assert_exact_offsets(doc, passages)
    assert all(estimate_tokens(p.text) <= 24 for p in passages)
    assert len(passages) > 10
    assert " ".join(p.text for p in passages).split() == doc.text.split()


@pytest.mark.parametrize(
    "max_tokens",
    [
        128,
        512,
        16,
    ],
)
def test_an_unbroken_5000_char_word_is_cut_into_pieces_that_fit(max_tokens: int) -> None:
    word = "x" * 5000
    doc = Document(id="blob", text=word)
    passages = chunk(doc, max_tokens=max_tokens, overlap=0)
    _assert_exact_offsets(doc, passages)
    assert len(passages) > 1
    assert "".join(p.text for p in passages) == word
    assert max(estimate_tokens(p.text) for p in passages) <= max_tokens


def _numbered_sentences(count: int) -> list[str]:
    return [f"Sentence number {n} says something short." for n in range(count)]


def test_overlap_one_shares_exactly_one_sentence_between_neighbours() -> None:
    sentences = _numbered_sentences(12)
    doc = Document(id="o", text=" ".join(sentences))
    # Each sentence is 7 estimated tokens, so 24 tokens hold three sentences.
    passages = chunk(doc, max_tokens=24, overlap=1)
    _assert_exact_offsets(doc, passages)
    assert len(passages) > 2
    for before, after in zip(passages, passages[1:], strict=False):
        shared = doc.text[after.char_start : before.char_end]
        assert shared in sentences
        assert after.text.startswith(shared)
        assert before.text.endswith(shared)
    assert passages[-1].text.endswith(sentences[-1])


def test_overlap_zero_shares_nothing_and_loses_nothing() -> None:
    sentences = _numbered_sentences(12)
    doc = Document(id="o", text=" ".join(sentences))
    passages = chunk(doc, max_tokens=24, overlap=0)
    for before, after in zip(passages, passages[1:], strict=False):
        assert before.char_end < after.char_start
    assert " ".join(p.text for p in passages) == doc.text


def test_a_limit_below_eight_tokens_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        chunk(Document(id="d", text="Some text."), max_tokens=4)


_WORD = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFG0123456789.,;:'\"()!?-’“”é")),
    min_size=1,
    max_size=14,
)
_SENTENCE = st.lists(_WORD, min_size=1, max_size=40).map(" ".join).map(lambda s: s + ".")
_PARAGRAPH = st.lists(_SENTENCE, min_size=1, max_size=6).map(" ".join)
_TEXT = st.lists(_PARAGRAPH, min_size=1, max_size=5).map("\n\n".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, max_tokens=st.integers(8, 80), overlap=st.integers(0, 2))
def test_property_offsets_match_and_no_passage_is_over_the_limit(
    text: str, max_tokens: int, overlap: int
) -> None:
    doc = Document(id="doc", text=text)
    passages = chunk(doc, max_tokens=max_tokens, overlap=overlap)
    _assert_exact_offsets(doc, passages)
    covered = [False] * len(text)
    for passage in passages:
        assert estimate_tokens(passage.text) <= max_tokens
        covered[passage.char_start : passage.char_end] = [True] * len(passage.text)
    # Every visible character of the document is in some passage.
    assert all(covered[i] for i, char in enumerate(text) if not char.isspace())


@pytest.mark.parametrize("max_tokens", [8, 16, 40, 128])
def test_sentences_counted_in_one_batch_pack_full_passages(
    seed_documents: list[Document], max_tokens: int
) -> None:
    # Counts of sentences add up across the spaces between them; pieces cut from one long
    # word meet without a space and are counted joined. Either way a passage holds as many
    # units as fit: one more would go over the limit, counted as one text.
    extra = Document(id="x", text="Prices rose. " + "abcdefghij" * 60 + " Then they fell back.")
    count = HashingEmbedder().count_tokens
    for doc in [*seed_documents, extra]:
        batched = chunk(doc, max_tokens, 1, count, lambda texts: [count(t) for t in texts])
        assert batched == chunk(doc, max_tokens, 1, count)
        for passage, after in zip(batched, batched[1:], strict=False):
            assert count(passage.text) <= max_tokens
            following = [unit for unit in after.sentences if unit[0] >= passage.char_end]
            if following:
                assert count(doc.text[passage.char_start : following[0][1]]) > max_tokens


@pytest.mark.parametrize(
    "paragraph",
    [
        "Oil rose 15.8 pct to 18.25 dlrs a barrel, traders said.",
        '"Stability in oil prices should lead to renewed investment" Paues said.',
        "SAO PAULO STATE: PRESIDENTE PRUDENTE O.6 MM, VOTUPORANGA",
        "Pan-Alberta is owned by Nova <NVA.A.T> and Alberta Energy Co, the company added.",
        "In remarks to the club, Rostenkowski, D-Ill., predicted a trade bill.",
        "The allowances are expected to rise, the Pentagon said..",
        "No full stop at all",
        "It rose. It fell! Did it? Yes\u2026 it did.",
        # Cut first where any splitter ends a sentence, then given to pysbd in pieces:
        "Sen. Chris Murphy spoke. Gov. Smith left at 5 p.m. Monday. Sales rose in Feb. Exports.",
        'He said: "Profits rose. Sales fell." Then he left. The U.S. Senate met (it sat. Then).',
        "The targets were met -- on paper. But in reality they were missed. Critics agreed.",
        "Siti \u2018Aisyah led them. Then 17.000 died. Dari pihak Ali said so.",
        "Shares rose 5 pct. Analysts said the Co. Board met. Mr. Jones said no. 5 was sold.",
        "Shares of Yum! Brands Inc rose. Analysts at Yahoo! Finance agreed. They sold.",
        "The minister said 'We will win. Nobody doubts it' on Monday. Then he left.",
        "\u00abNous partons demain. Il faut agir\u00bb, a dit le ministre. Puis il partit.",
        "Step 1. Open the box. Step 2. Close the box. Then wait.",
    ],
)
def test_sentences_are_pysbds_whether_or_not_pysbd_is_asked(paragraph: str) -> None:
    import pysbd

    expected = pysbd.Segmenter(language="en", clean=False).processor(paragraph).process()
    assert [s.strip() for s in sentences(paragraph)] == [s.strip() for s in expected]
