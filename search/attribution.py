"""Who a sentence attributes its claim to: "according to the Popular Mobilization Forces".

`find_attribution(sentence)` returns the source as written, with offsets into the
sentence, or None when the sentence states its claim on the reporter's own
authority. The rules are hand-written regexes over the surface text: no library
does attribution without a dependency parser or a trained model, and the news
register these rules cover is narrow enough to read off the punctuation.

Three shapes are recognised:

- source: "according to X" (leading or trailing). X stops at the next comma,
  full stop (not the dot of "U.S."), quote mark, "who/which/that/whose",
  "on condition" or a finite verb ("was", "were", ...), since none of those can
  continue a noun phrase naming a source. An X of more than 12 words is refused:
  without a comma we cannot tell where the source ends and the claim begins.
- speaker: X + said/says/told/estimated/confirmed/announced/stated/wrote/tweeted,
  in one of three places: right after a closing quotation ("“...,” al-Yasseri
  said"); as a trailing clause after a comma, followed only by an addressee or
  an adverbial ("..., two U.S. officials with knowledge of the situation told NBC
  News."); or as the subject at the start of the sentence ("Al-Yasiri said he
  had coordinated ...").
- reporter: the same places with reported/reports ("..., NBC News reported.").

Decisions:

- When a sentence names several sources, the originator of the claim beats the
  outlet that relays it: speaker, then source, then reporter; ties go to the
  earliest. So "according to the Popular Mobilization Forces, ..., NBC News
  reported" gives the militias, and "“...,” Mohammed Muhi said, according to the
  Times" gives Mohammed Muhi: the Times only passes his words on.
- A subject with appositives ("His press secretary, Stephanie Grisham, said")
  gives the first part that is a name ("Stephanie Grisham"), else the first part
  ("The official"): the claim is the speaker's, and a name identifies the speaker
  across articles where a title may not.
- Pronouns alone ("he said", "she wrote") are not an attribution: the referent
  lives in another sentence. Such a speaker is skipped, so "“...,” he said,
  according to the Times" still gives "the Times".
- A speaker inside a relative clause ("depots that the U.S. said were linked")
  attributes only that clause, not the sentence: None.
- Known gaps: a trailing speaker with appositives ("..., Ben Rhodes, an aide,
  said.") yields only the last part ("an aide"), and a speaker whose verb comes
  after another verb ("Al-Yasseri was on the scene and told the AP that ...")
  yields nothing.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from index.text import ATTRIBUTION_VERBS, DOTTED_WORD_RE, REPORT_VERBS, quoted_spans


@dataclass(frozen=True)
class Attribution:
    text: str  # sentence[start:end]: "the Popular Mobilization Forces"
    start: int
    end: int


def find_attribution(sentence: str) -> Attribution | None:
    """The source the sentence attributes its claim to, or None when it names none."""
    quotes = quoted_spans(sentence)
    candidates = [
        c
        for c in (*_sources(sentence, quotes), *_speakers(sentence, quotes))
        if not _is_pronoun(c.text)
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda c: (c.rank, c.start))
    return Attribution(best.text, best.start, best.end)


# Lower ranks win: who made the claim, then who it is credited to, then who relayed it.
_SPEAKER, _SOURCE, _REPORTER = 0, 1, 2


@dataclass(frozen=True)
class _Candidate:
    text: str
    start: int
    end: int
    rank: int


# --- word lists ----------------------------------------------------------------------------

_VERB_RE = re.compile(r"\b(?:" + "|".join(ATTRIBUTION_VERBS + REPORT_VERBS) + r")\b")

_SUBJECT_PRONOUNS = frozenset("he she they it we i you".split())
_PRONOUNS = _SUBJECT_PRONOUNS | {"him", "her", "them", "us", "me"}
# Words that cannot occur inside a noun phrase naming a source: relative pronouns,
# subordinators, finite auxiliaries and the speech verbs themselves. A candidate
# holding one is a clause ("the attack and said"), not a name.
_CLAUSE_WORDS = frozenset(
    """who whom which that whose when while where because although if
    was were is are be been being has have had will would could should can may might
    do does did""".split()
    + list(ATTRIBUTION_VERBS)
    + list(REPORT_VERBS)
)
# A source never ends on one of these: "an estimated 5,000", "the reported attack".
_FUNCTION_WORDS = frozenset(
    """a an the of to for in on at by with from as and or but nor than this these those
    its their his her our my your no not also""".split()
)
_CONJUNCTIONS = ("and ", "but ", "yet ", "so ")
# Introductory phrases dropped before a sentence-initial subject: "In response, ...".
_INTRO_WORDS = frozenset(
    """in on at after before during since for with from by under as meanwhile however
    still later earlier then also yet""".split()
)
# Lowercase words allowed inside a name: "Yassin al-Yasiri", "Secretary of State Mike Pompeo".
_NAME_PARTICLES = frozenset("bin ibn bint abu de da di van von der du la le of the".split())
_NAME_PREFIXES = ("al-", "el-", "ad-", "as-", "an-")
# After a trailing speaker, what may follow the verb: an adverbial ("on condition of
# anonymity", "in a statement") or, after told/tells, the addressee ("NBC News").
_ADVERBIAL_STARTS = frozenset(
    """on in at to during via from by late early earlier later after before last this
    yesterday today""".split()
)
_MAX_SOURCE_WORDS = 12
_MAX_SUBJECT_WORDS = 15
_MAX_TAIL_WORDS = 8
# No speaker runs longer than this before its verb; looking no further back keeps the
# work per verb bounded when the caller hands in a whole passage.
_MAX_SUBJECT_CHARS = 300

_ABBREVIATION_RE = re.compile(
    r"(?:\b[A-Z]\.)+$|\b(?:Sen|Rep|Gov|Gen|Col|Lt|Sgt|Capt|Maj|Dr|Mr|Mrs|Ms|Prof|St|Jr|Sr)\.$"
)
# Characters before a dot searched for an abbreviation: room for the longest ("U.S.A.",
# "Capt."), and a short window keeps the search cheap when the caller hands in a passage.
_ABBREVIATION_CHARS = 16


def _words(text: str) -> list[str]:
    return [w.lower().rstrip(".") for w in DOTTED_WORD_RE.findall(text)]


# --- according to X ------------------------------------------------------------------------

_ACCORDING_RE = re.compile(r"\baccording to\s+", re.IGNORECASE)
_SOURCE_END_RE = re.compile(
    r"""[,;:!?()\[\]“”"—–]
    | \.(?=\s|$)
    | \s(?:who|which|that|whose|on\ condition|was|were|is|are|has|have|had)\b
    """,
    re.VERBOSE,
)


def _sources(sentence: str, quotes: Sequence[tuple[int, int]]) -> list[_Candidate]:
    candidates = []
    for match in _ACCORDING_RE.finditer(sentence):
        if _inside(match.start(), quotes):
            continue  # "“... according to plan,” he said" is the speaker's wording
        start = match.end()
        end = _source_end(sentence, start)
        span = _trim(sentence, start, end) if end is not None else None
        if span and _is_noun_phrase(span.text, _MAX_SOURCE_WORDS):
            candidates.append(_Candidate(span.text, span.start, span.end, _SOURCE))
    return candidates


def _source_end(sentence: str, start: int) -> int | None:
    """Where the source starting at `start` ends; None when it runs on past any source."""
    window = start + _MAX_SUBJECT_CHARS
    for stop in _SOURCE_END_RE.finditer(sentence, start, window):
        # The dot of "U.S." or "Sen." belongs to the name.
        if stop.group() == "." and _ends_with_abbreviation(sentence, stop.end()):
            continue
        return stop.start()
    return len(sentence) if window >= len(sentence) else None


# --- X said / X reported -------------------------------------------------------------------

_CLAUSE_COMMA_RE = re.compile(r",\s+")


def _speakers(sentence: str, quotes: Sequence[tuple[int, int]]) -> list[_Candidate]:
    candidates = []
    for verb in _VERB_RE.finditer(sentence):
        if _inside(verb.start(), quotes):
            continue
        rank = _REPORTER if verb.group() in REPORT_VERBS else _SPEAKER
        span = (
            _after_quote(sentence, verb.start())
            or _trailing_clause(sentence, verb)
            or _sentence_subject(sentence, verb.start())
        )
        if span:
            candidates.append(_Candidate(span.text, span.start, span.end, rank))
    return candidates


def _after_quote(sentence: str, verb_start: int) -> _Span | None:
    """The speaker after a quotation: “...,” Ben Rhodes, a top national security aide, wrote."""
    window = max(0, verb_start - _MAX_SUBJECT_CHARS)
    close = max(sentence.rfind("”", window, verb_start), sentence.rfind('"', window, verb_start))
    if close < 0 or "“" in sentence[close:verb_start]:
        return None
    # The quote must end a clause (,” or !” or ?”): a quoted word mid-sentence
    # ("accused Iran of “orchestrating” the attack and said") has no speaker after it.
    if sentence[:close].rstrip()[-1:] not in (",", "!", "?"):
        return None
    return _pick_subject(sentence, close + 1, verb_start)


def _trailing_clause(sentence: str, verb: re.Match[str]) -> _Span | None:
    """A short clause after a comma that ends there: ", a U.S. official estimated."."""
    window = max(0, verb.start() - _MAX_SUBJECT_CHARS)
    commas = list(_CLAUSE_COMMA_RE.finditer(sentence, window, verb.start()))
    if not commas:
        return None
    span = _trim(sentence, commas[-1].end(), verb.start())
    if not span or not _is_noun_phrase(span.text, _MAX_SOURCE_WORDS):
        return None
    tail_end = _CLAUSE_COMMA_RE.search(sentence, verb.end(), verb.end() + _MAX_SUBJECT_CHARS)
    tail = sentence[verb.end() : tail_end.start() if tail_end else verb.end() + _MAX_SUBJECT_CHARS]
    return span if _is_closing_tail(tail, verb.group()) else None


def _is_closing_tail(tail: str, verb: str) -> bool:
    """True when what follows the verb ends the clause instead of stating the claim.

    "told NBC News on condition of anonymity" and "said in a statement" end it;
    "said the strikes failed" goes on to state a claim of its own.
    """
    words = _words(tail)
    if not words:
        return True
    if len(words) > _MAX_TAIL_WORDS or any(w in _CLAUSE_WORDS for w in words):
        return False
    if words[0] in _SUBJECT_PRONOUNS:
        return False  # "said they feel secure": a new clause
    first = tail.lstrip(' “"')
    return words[0] in _ADVERBIAL_STARTS or verb in ("told", "tells") or first[:1].isupper()


def _sentence_subject(sentence: str, verb_start: int) -> _Span | None:
    """The subject before the verb: "His press secretary, Stephanie Grisham, said ..."."""
    if verb_start > _MAX_SUBJECT_CHARS:
        return None
    if any(ch in sentence[:verb_start] for ch in '“”"'):
        return None  # a quote before the verb: the subject is not a plain noun phrase
    return _pick_subject(sentence, 0, verb_start)


def _pick_subject(sentence: str, start: int, end: int) -> _Span | None:
    """The speaker in a subject with appositives: the first name, else the first part.

    Every part must read as a noun phrase, or the run is a clause and names nobody.
    """
    parts = []
    for part in _split_commas(sentence, start, end):
        first_word = next(iter(_words(part.text)), "")
        if not parts and first_word in _INTRO_WORDS:
            continue  # "In response, the official said": skip the introductory phrase
        parts.append(part)
    if not parts or sum(len(_words(p.text)) for p in parts) > _MAX_SUBJECT_WORDS:
        return None
    if not all(_is_noun_phrase(p.text, _MAX_SUBJECT_WORDS) for p in parts):
        return None
    names = [p for p in parts if _is_name(p.text)]
    return names[0] if names else parts[0]


def _split_commas(sentence: str, start: int, end: int) -> list[_Span]:
    spans = []
    for piece in re.finditer(r"[^,]+", sentence[start:end]):
        span = _trim(sentence, start + piece.start(), start + piece.end())
        if span:
            spans.append(span)
    return spans


# --- shared helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    text: str
    start: int
    end: int


def _trim(sentence: str, start: int, end: int) -> _Span | None:
    """The span without surrounding spaces, punctuation or a leading conjunction."""
    while start < end and not (sentence[start].isalnum()):
        start += 1
    # Keep the dot of "U.S." and "Jr." but not a full stop, nor what stands before it
    # ("0 ." is "0", not "0 ").
    while end > start and not sentence[end - 1].isalnum():
        if sentence[end - 1] == "." and _ends_with_abbreviation(sentence, end):
            break
        end -= 1
    while conjunction := next(
        (c for c in _CONJUNCTIONS if sentence[start:end].lower().startswith(c)), None
    ):
        start += len(conjunction)
        while start < end and not sentence[start].isalnum():
            start += 1
    if start >= end:
        return None
    return _Span(sentence[start:end], start, end)


def _ends_with_abbreviation(sentence: str, end: int) -> bool:
    """True when the dot at sentence[end - 1] belongs to "U.S." or "Sen.", not a full stop."""
    return bool(_ABBREVIATION_RE.search(sentence[max(0, end - _ABBREVIATION_CHARS) : end]))


def _is_noun_phrase(text: str, max_words: int) -> bool:
    words = _words(text)
    return (
        0 < len(words) <= max_words
        and not any(w in _CLAUSE_WORDS for w in words)
        and words[-1] not in _FUNCTION_WORDS
    )


def _is_name(text: str) -> bool:
    """True for "Stephanie Grisham", "Yassin al-Yasiri", "Sen. Chris Murphy"; not "His aide"."""
    tokens = text.split()
    return tokens[0][:1].isupper() and all(
        t[:1].isupper() or t in _NAME_PARTICLES or t.startswith(_NAME_PREFIXES) for t in tokens
    )


def _is_pronoun(text: str) -> bool:
    return all(w in _PRONOUNS for w in _words(text))


def _inside(position: int, spans: Sequence[tuple[int, int]]) -> bool:
    """True when `position` falls in one of `spans` (sorted, not overlapping)."""
    i = bisect_right(spans, (position, math.inf)) - 1
    return i >= 0 and position < spans[i][1]
