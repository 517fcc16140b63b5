"""Sentence-aware passages with exact character offsets into the document text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.documents import Document
from index.stages import stage
from index.text import PIECE_RE, SPACED_WORD_RE, sentences

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Passage:
    """A run of whole sentences: `doc.text[char_start:char_end] == text`."""

    passage_id: str
    doc_id: str
    text: str
    char_start: int
    char_end: int
    # The sentences (or pieces of an over-long sentence) it is made of, as
    # `(start, end)` offsets into the document text; they are embedded too.
    sentences: tuple[tuple[int, int], ...] = ()

    def sentence_texts(self) -> list[str]:
        return [
            self.text[start - self.char_start : end - self.char_start]
            for start, end in self.sentences
        ]


# `estimate_tokens` counts a word as one word piece, and one more for each whole
# `_CHARS_PER_PIECE` letters past its first `_WHOLE_PIECE_CHARS`.
_WHOLE_PIECE_CHARS = 6
_CHARS_PER_PIECE = 4


def estimate_tokens(text: str) -> int:
    """Over-estimate the word pieces a BERT tokenizer makes, without loading one.

    Long words split into several pieces, so each word counts one piece per
    four letters past its sixth; punctuation counts one each.
    """
    return sum(
        1 + max(0, len(piece) - _WHOLE_PIECE_CHARS) // _CHARS_PER_PIECE
        for piece in PIECE_RE.findall(text)
    )


# How a sentence cannot begin: a comma, a closing bracket or a lower-case word.
_CONTINUATION = re.compile(r"[,;:)\]]|[a-z]")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans `(start, end)` in `text`, whitespace trimmed, paragraphs never joined."""
    spans: list[tuple[int, int]] = []
    for paragraph in re.finditer(r"[^\n]+", text):
        base = paragraph.start()
        cursor = 0
        body = paragraph.group()
        for sentence in sentences(body):
            stripped = sentence.strip()
            if not stripped:
                continue
            start = body.find(stripped, cursor)
            if start < 0:  # the segmenter changed the text; keep the rest whole
                start, stripped = cursor, body[cursor:].strip()
            end = start + len(stripped)
            if spans and _CONTINUATION.match(stripped) and spans[-1][0] >= base:
                # A wrong split after an abbreviation ("Sen. Chris Murphy, D-Ct., a member"):
                # a sentence does not start with a comma or a lower-case word.
                spans[-1] = (spans[-1][0], base + end)
            else:
                spans.append((base + start, base + end))
            cursor = end
            if cursor >= len(body.rstrip()):
                break
    return spans


def chunk(
    doc: Document,
    max_tokens: int = 128,
    overlap: int = 1,
    count_tokens: TokenCounter = estimate_tokens,
    count_many: Callable[[list[str]], list[int]] | None = None,
    count_spans: Callable[[list[tuple[int, int]]], list[int]] | None = None,
) -> list[Passage]:
    """Pack whole sentences into passages of at most `max_tokens` model tokens.

    Consecutive passages share their last/first `overlap` sentences. A sentence longer
    than `max_tokens` is split at word boundaries, so the model never truncates a passage.
    Sentences are counted by their offsets in the text tokenised once (`count_spans`:
    `index.encoder.DocumentTokens`), else in one tokenizer call (`count_many`).
    """
    if max_tokens < 8:
        raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
    text = doc.text
    with stage("sentence splitting"):
        spans = split_sentences(text)
    if count_spans is not None:
        counted = count_spans(spans)
    else:
        sentences = [text[start:end] for start, end in spans]
        counted = count_many(sentences) if count_many else [count_tokens(s) for s in sentences]
    units: list[tuple[int, int]] = []
    counts: list[int] = []
    for (start, end), count in zip(spans, counted, strict=True):
        if count <= max_tokens:
            units.append((start, end))
            counts.append(count)
            continue
        for piece_start, piece_end in _fit(text, start, end, max_tokens, count_tokens):
            units.append((piece_start, piece_end))
            counts.append(count_tokens(text[piece_start:piece_end]))
    passages: list[Passage] = []
    first = 0
    while first < len(units):
        start, last, size = units[first][0], first, counts[first]
        while last + 1 < len(units):
            joined = _joined_count(text, units, counts, last, size, start, count_tokens)
            if joined > max_tokens:
                break
            last, size = last + 1, joined
        end = units[last][1]
        passages.append(
            Passage(
                passage_id=f"{doc.id}#{len(passages)}",
                doc_id=doc.id,
                text=text[start:end],
                char_start=start,
                char_end=end,
                sentences=tuple(units[first : last + 1]),
            )
        )
        if last + 1 >= len(units):
            break
        # Step back `overlap` sentences, but always move forward.
        first = max(first + 1, last + 1 - overlap)
    return passages


def _joined_count(
    text: str,
    units: list[tuple[int, int]],
    counts: list[int],
    last: int,
    size: int,
    start: int,
    count_tokens: TokenCounter,
) -> int:
    """Tokens of `text[start:]` up to the end of unit `last + 1`, given `size`, the tokens
    up to the end of unit `last`. A BERT tokenizer (and `estimate_tokens`) never makes a
    token across whitespace, so across a gap of whitespace the counts add up; pieces cut
    from one long word meet without a gap and tokenize differently side by side, so
    those are counted joined."""
    gap = text[units[last][1] : units[last + 1][0]]
    if gap and gap.isspace():
        return size + counts[last + 1]
    return count_tokens(text[start : units[last + 1][1]])


def _fit(
    text: str, start: int, end: int, max_tokens: int, count_tokens: TokenCounter
) -> list[tuple[int, int]]:
    """Split a span too long for `max_tokens` into word-boundary pieces that each fit."""
    pieces: list[tuple[int, int]] = []
    piece_start = piece_end = None
    for word in SPACED_WORD_RE.finditer(text, start, end):
        if piece_start is not None and count_tokens(text[piece_start : word.end()]) > max_tokens:
            pieces.append((piece_start, piece_end))
            piece_start = None
        if piece_start is None:
            piece_start = word.start()
        piece_end = word.end()
        if count_tokens(text[piece_start:piece_end]) > max_tokens:
            # A single "word" longer than the limit (a URL, a hash): cut it by characters.
            pieces.extend(_cut_word(text, piece_start, piece_end, max_tokens, count_tokens))
            piece_start = None
    if piece_start is not None:
        pieces.append((piece_start, piece_end))
    return pieces


def _cut_word(
    text: str, start: int, end: int, max_tokens: int, count_tokens: TokenCounter
) -> list[tuple[int, int]]:
    pieces = []
    while start < end:
        size = end - start
        while size > 1 and count_tokens(text[start : start + size]) > max_tokens:
            size //= 2
        pieces.append((start, start + size))
        start += size
    return pieces
