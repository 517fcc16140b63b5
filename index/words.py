"""Words: the one tokenizer that BM25 and story matching share.

- `tokenize_for_bm25`: lower-cased, stopwords dropped, Snowball-stemmed tokens (bm25s).
- `document_words`: the words a story matcher compares documents by: every
  content word (stemmed), the names among them (words the text capitalises
  inside a sentence), and the figures (numbers of two or more digits, written
  without thousands separators).

Words, stopwords and stems come from `index.text` (bm25s's stopwords,
PyStemmer's Snowball English), how common a word is in general English from
wordfreq; nothing here names a word of any one story.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from index.text import CAPITALISED_RE, WORD_OR_FIGURE_RE, index_stopwords, stemmer
from index.text import stem as _stem


def tokenize_for_bm25(texts: Sequence[str]) -> list[list[str]]:
    """Lower-case, drop stopwords and stem (Snowball), as BM25 indexing and queries both need."""
    import bm25s

    return bm25s.tokenize(  # type: ignore[no-any-return]
        list(texts),
        stopwords=sorted(index_stopwords()),
        stemmer=stemmer(),
        return_ids=False,
        show_progress=False,
    )


@lru_cache(maxsize=200_000)  # pure; the same words recur in every article
def zipf(word: str) -> float:
    """How common a lower-case word is in general English (wordfreq's Zipf scale, 0 to ~8)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


# What may stand before the first word of a sentence.
_SENTENCE_OPENER = re.compile(r"(?:^|[.!?:;\"\u201c\u201d(\n])\s*$")


@dataclass(frozen=True)
class DocumentWords:
    """A document's words for story matching, each a stem with its count."""

    content: dict[str, int]  # every content word and figure
    lead: dict[str, int]  # the title's and the lead's
    names: dict[str, int]  # capitalised words that name someone or something
    figures: dict[str, int]  # numbers of two or more digits, separators removed
    surface: dict[str, str]  # stem -> the first lower-case word seen for it


# A document's lead (`DocumentWords.lead`) is its first paragraph, or its sentences within
# this many characters when that runs longer: where a news story states its event. The
# story features built from it are saved with a snapshot, so this is no setting.
LEAD_CHARS = 400


def document_words(title: str | None, text: str, lead_chars: int = LEAD_CHARS) -> DocumentWords:
    """Count the content words, lead words, names and figures of one document.

    The title counts twice among the content words, as a headline states what the
    article is about. Names are read only where case carries information: a text
    in all capitals or all lower case (some wire copy) yields none.
    """
    title = title or ""
    lead_end = _lead_end(text, lead_chars)
    surface: dict[str, str] = {}
    words = _word_counts(text, surface)
    titled = _word_counts(title, surface)
    content = dict(words)
    for stem, count in titled.items():
        content[stem] = content.get(stem, 0) + 2 * count
    lead = _word_counts(text[:lead_end], surface)
    for stem, count in titled.items():
        lead[stem] = lead.get(stem, 0) + count
    names: dict[str, int] = {}
    if _mixed_case(text):
        # A capital letter marks a name only inside a sentence; a word that opens a sentence
        # (or a line of a table) counts when the text capitalises it inside one too.
        opening: dict[str, int] = {}
        for match in CAPITALISED_RE.finditer(text):
            stem = _stem(match.group().lower().replace("\u2019", "'"))
            if stem not in words:
                continue
            counts = opening if _opens_sentence(match, text) else names
            counts[stem] = counts.get(stem, 0) + 1
        for stem, count in opening.items():
            if stem in names:
                names[stem] += count
    figures = {key: count for key, count in content.items() if key[0].isdigit()}
    return DocumentWords(content, lead, names, figures, surface)


def _word_counts(text: str, surface: dict[str, str]) -> dict[str, int]:
    """Stemmed content words and figures of `text` with their counts; `surface` learns the
    first lower-case form seen of each."""
    counts: dict[str, int] = {}
    stop = index_stopwords()
    tokens = WORD_OR_FIGURE_RE.findall(text.lower().replace("\u2019", "'"))
    for token, count in Counter(tokens).items():
        if token[0].isdigit():
            key = _figure(token)
            if key is None:
                continue
        elif token in stop or len(token) < 2:
            continue
        else:
            key = _stem(token)
        surface.setdefault(key, token)
        counts[key] = counts.get(key, 0) + count
    return counts


def _figure(token: str) -> str | None:
    """A number as a figure key ("15,000" -> "15000"); single digits carry no identity."""
    digits = token.replace(",", "").rstrip(".")
    if sum(c.isdigit() for c in digits) < 2:
        return None
    return digits


def _opens_sentence(match: re.Match[str], text: str) -> bool:
    return _SENTENCE_OPENER.search(text, max(0, match.start() - 3), match.start()) is not None


_UPPER = re.compile(r"[^\W\d_a-z]")  # a letter that is not lower case ASCII (upper or other)
_LOWER = re.compile(r"[a-z]")


# Case is read from this many characters of a text; prose has at least this share of its
# letters in capitals (sentence starts, names) and at most this share (all-caps copy).
_CASE_SAMPLE = 2000
_CAPITALS = (0.005, 0.5)


def _mixed_case(text: str) -> bool:
    """Whether the text uses case as prose does (not all capitals, not all lower case)."""
    sample = text[:_CASE_SAMPLE]
    upper, lower = len(_UPPER.findall(sample)), len(_LOWER.findall(sample))
    if not upper + lower:
        return False
    return _CAPITALS[0] < upper / (upper + lower) < _CAPITALS[1]


def _lead_end(text: str, limit: int) -> int:
    """Where the lead ends: the first paragraph, or the last sentence end before `limit`."""
    stripped = len(text) - len(text.lstrip())
    newline = text.find("\n", stripped)
    if 0 <= newline <= limit:
        return newline
    cut = max(text.rfind(". ", 0, limit), text.rfind("? ", 0, limit), text.rfind("! ", 0, limit))
    return cut + 1 if cut > 0 else min(limit, len(text))
