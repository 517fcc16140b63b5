"""The short answer inside one sentence: "At least 10 demonstrators", "Stephanie Grisham".

Pure rules over the sentence text, scored 0..1 so the caller can pick the best
sentence per source. Each answer type has its own candidates:

- count: the count phrases of `search.claims.find_quantities`, scored by how they
  attach to the question's target: the subject of "were injured" scores highest,
  the object of "killed 25 people" next, a counted noun that is the target
  ("6,000 protesters" for "how many protesters") next, a mere neighbour least.
  Figures tied to a different casualty verb, inside quotation marks, in a
  subordinate clause, or vague ("many") lose points.
- person: capitalised name sequences, best when appositive to the asked role
  ("His press secretary, Stephanie Grisham, said").
- organization: capitalised names that look like groups, best next to the asked
  kind ("a group called Kataeb Hezbollah").
- place: for "where" the prepositional phrase after "was/were" when the subject
  is the asked one ("was out of the country"); for "which country <verb>s" the
  agent adjective "Iran-backed" or "backed by Iran"; else "in <Place>".
- date: weekdays, month-day dates, and relative phrases ("on Sunday").
- other: None; the caller shows the whole sentence.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from search.claims import Quantity, QuantityMention, find_quantities
from search.question import QuestionAnalysis

# A span must score above this to be returned; below it the sentence does not answer.
MIN_SCORE = 0.4


@dataclass(frozen=True)
class Extraction:
    text: str  # sentence[start:end]
    start: int
    end: int
    value: Quantity | None
    score: float


def extract_answer(analysis: QuestionAnalysis, sentence: str) -> Extraction | None:
    """The span of `sentence` that best answers the question, or None below MIN_SCORE."""
    extractor = _EXTRACTORS.get(analysis.answer_type)
    if extractor is None:
        return None
    candidates = extractor(analysis, sentence)
    if not candidates:
        return None
    # Highest score wins; ties go to the earlier span so results are deterministic.
    best = max(candidates, key=lambda c: (c.score, -c.start))
    if best.score <= MIN_SCORE:
        return None
    return Extraction(best.text, best.start, best.end, best.value, round(min(best.score, 1.0), 3))


# --- shared helpers ------------------------------------------------------------------------

_WORD_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[A-Za-z0-9][\w’'-]*")


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    lower: str


@lru_cache(maxsize=1 << 15)
def _words(sentence: str) -> tuple[_Word, ...]:
    # Remembered: the same index sentences are read for query after query.
    return tuple(
        _Word(m.start(), m.end(), m.group().lower().replace("’", "'"))
        for m in _WORD_RE.finditer(sentence)
    )


def _stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


@lru_cache(maxsize=1 << 16)
def _matches(word: str, term: str) -> bool:
    """A sentence word signals a term (a stem): prefix match, exact for short terms."""
    if " " in term:
        return False  # multi-word terms are matched on the text, see _term_hits
    term = term.lower()
    if len(term) <= 3:
        return word == term or _stem(word) == term
    return word.startswith(term)


def _term_hits(words: Sequence[_Word], terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """(word index, term index) for every word that signals one of `terms`."""
    hits = []
    for i, word in enumerate(words):
        for t, term in enumerate(terms):
            if " " in term:
                parts = term.split()
                window = [w.lower for w in words[i : i + len(parts)]]
                if len(window) == len(parts) and all(
                    _matches(w, p) for w, p in zip(window, parts, strict=True)
                ):
                    hits.append((i, t))
                    break
            elif _matches(word.lower, term):
                hits.append((i, t))
                break
    return hits


def _keyword_stems(keywords: tuple[str, ...]) -> tuple[str, ...]:
    stems = []
    for keyword in keywords:
        stem = _stem(keyword)
        for suffix in ("ing", "ed"):
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 4:
                stem = stem[: -len(suffix)]
        stems.append(stem)
    return tuple(stems)


_QUOTE_OPEN = "“"
_QUOTE_CLOSE = "”"


@lru_cache(maxsize=1 << 15)
def _quoted_spans(sentence: str) -> tuple[tuple[int, int], ...]:
    """Character ranges inside double quotes (straight or curly).

    A sentence split from a longer quotation may hold only one mark: a lone
    closing mark quotes back to the start of its paragraph, a lone opening mark
    up to the end of it. Quotes never run past a line break, so one stray mark in
    a long passage cannot flip everything after it. Single quotes are ignored:
    they double as apostrophes ("Baghdad’s").
    """
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    paragraph_start = 0
    for i, ch in enumerate(sentence):
        if ch == "\n":
            if open_at is not None:
                spans.append((open_at, i))
                open_at = None
            paragraph_start = i + 1
            continue
        if ch not in ('"', _QUOTE_OPEN, _QUOTE_CLOSE):
            continue
        if ch == '"':
            before = sentence[i - 1] if i > 0 else " "
            # Nothing open: a mark after a space opens, a mark after text closes.
            opening = open_at is None and (before.isspace() or before in "([—–-:")
            closing = not opening
        else:
            opening, closing = ch == _QUOTE_OPEN, ch == _QUOTE_CLOSE
        if opening and open_at is None:
            open_at = i
        elif closing:
            spans.append((open_at if open_at is not None else paragraph_start, i + 1))
            open_at = None
    if open_at is not None:
        spans.append((open_at, len(sentence)))
    return tuple(spans)


def _inside(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in spans)


_SUBORDINATORS = frozenset(
    "that which who whom when where while after because although though if whose".split()
)
# Clause breaks: punctuation, and sentence ends when the caller passes a whole passage
# (not the dot of an abbreviation such as "U.S.").
_CLAUSE_BREAK_RE = re.compile(r"[,;:()—–]|(?<![A-Z])[.!?](?=\s)")


def _in_subordinate_clause(
    words: Sequence[_Word], breaks: list[int], word_starts: list[int], start: int
) -> bool:
    """True when a subordinating word stands between the last clause break and `start`.

    `breaks` (clause-break offsets) and `word_starts` are sorted, so this stays cheap
    when the caller hands in a whole passage instead of one sentence.
    """
    clause_start = breaks[bisect_left(breaks, start) - 1] if breaks and breaks[0] < start else 0
    lo, hi = bisect_left(word_starts, clause_start), bisect_left(word_starts, start)
    return any(w.lower in _SUBORDINATORS for w in words[lo:hi])


@dataclass(frozen=True)
class _Candidate:
    text: str
    start: int
    end: int
    value: Quantity | None
    score: float


# --- count ---------------------------------------------------------------------------------

# Any casualty-like verb: a figure tied to one the question did not ask about
# ("25 killed" for "how many were injured?") answers a different question.
_EVENT_STEMS = (
    "injur", "wound", "hurt", "kill", "dead", "death", "die", "slain", "arrest", "detain",
    "evacuat", "displac", "missing",
)  # fmt: skip
# Words allowed between a figure and its verb: "were injured", "have reportedly been
# killed", "two of them were hurt".
_LINK_WORDS = frozenset(
    """were was are is be been being have has had reportedly also all later reported confirmed
    believed said thought feared now already since badly seriously critically slightly
    fatally mortally of them whom those""".split()
)
_VAGUE_UNINFORMATIVE = 0.3  # "many", "several": says nothing about the size
_VAGUE_BROAD = 0.05  # "dozens", "thousands": a conventional range, still informative
_QUOTED = 0.3
_SUBORDINATE = 0.1
_OTHER_EVENT = 0.4


@lru_cache(maxsize=256)
def _other_events(target_terms: tuple[str, ...]) -> tuple[str, ...]:
    """Event words other than the question's own ("killed" when it asks about injuries)."""
    return tuple(
        s for s in _EVENT_STEMS if not any(s.startswith(t) or t.startswith(s) for t in target_terms)
    )


@lru_cache(maxsize=1 << 15)
def _sentence_hits(sentence: str, terms: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """`_term_hits` of a sentence, remembered: questions of a kind share their terms."""
    return tuple(_term_hits(_words(sentence), terms))


def _count_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = _quoted_spans(sentence)
    keyword_stems = _keyword_stems(analysis.keywords)
    other_events = _other_events(analysis.target_terms)
    existential = bool(re.search(r"\bthere\b", analysis.text, re.I))
    # Computed once per sentence so a long passage costs words x mentions at most.
    target_hits = _sentence_hits(sentence, analysis.target_terms)
    event_hits = _sentence_hits(sentence, other_events)
    anywhere = {k for w in words for k in keyword_stems if _matches(w.lower, k)}
    breaks = [m.end() for m in _CLAUSE_BREAK_RE.finditer(sentence)]
    word_starts = [w.start for w in words]
    word_ends = [w.end for w in words]
    candidates = []
    for mention in find_quantities(sentence):
        first = bisect_right(word_ends, mention.start)
        last = bisect_left(word_starts, mention.end) - 1
        score = 0.2 + _count_link(words, first, last, target_hits, bool(analysis.target_terms))
        score += _keyword_bonus(words, first, last, keyword_stems, anywhere)
        before = sentence[max(0, mention.start - 30) : mention.start]
        if existential and re.search(r"\bthere\s+(?:were|was|are|is)\s+$", before, re.I):
            score += 0.1
        if _count_link(words, first, last, event_hits, True, weighted=False) >= 0.5:
            score -= _OTHER_EVENT
        if _inside(mention.start, mention.end, quotes):
            score -= _QUOTED
        if _in_subordinate_clause(words, breaks, word_starts, mention.start):
            score -= _SUBORDINATE
        score -= _vagueness(mention)
        candidates.append(
            _Candidate(mention.text, mention.start, mention.end, mention.value, score)
        )
    return candidates


def _count_link(
    words: Sequence[_Word],
    first: int,
    last: int,
    hits: Sequence[tuple[int, int]],
    has_terms: bool,
    *,
    weighted: bool = True,
) -> float:
    """How directly a count phrase (words first..last) attaches to a term hit."""
    if not has_terms:
        return 0.1  # nothing to attach to ("how many are there?"): any count will do
    best = 0.0
    for index, term_index in hits:
        # Synonyms further down the list count less ("people" below "protesters").
        weight = max(0.7, 1.0 - 0.05 * term_index) if weighted else 1.0
        between = words[last + 1 : index]
        if first <= index <= last:
            strength = 0.5 * weight  # the counted noun is the target: "6,000 protesters"
        elif index > last and len(between) <= 3 and all(w.lower in _LINK_WORDS for w in between):
            strength = 0.6  # "10 demonstrators were injured", "25 people died"
        elif index == first - 1:
            strength = 0.5  # "injured at least 10 protesters"
        elif index == first - 2 and words[first - 1].lower == "of":
            strength = 0.5 * weight  # "a crowd of thousands", "a death toll of 25"
        elif index + 1 < first <= index + 5 and words[index + 1].lower == "toll":
            strength = 0.5  # "the death toll rose to 40"
        elif min(abs(index - first), abs(index - last)) <= 6:
            strength = 0.2
        else:
            strength = 0.1
        best = max(best, strength)
    return best


_UNINFORMATIVE_RE = re.compile(r"\b(?:many|numerous|several|a few|a couple|a handful)\b", re.I)
_BROAD_RE = re.compile(r"\b(?:dozens|hundreds|thousands|millions|billions|scores|tens)\b", re.I)


def _vagueness(mention: QuantityMention) -> float:
    if _UNINFORMATIVE_RE.search(mention.figure):
        return _VAGUE_UNINFORMATIVE
    if _BROAD_RE.search(mention.figure):
        return _VAGUE_BROAD
    return 0.0


def _keyword_bonus(
    words: Sequence[_Word],
    first: int,
    last: int,
    keyword_stems: tuple[str, ...],
    anywhere: set[str],
) -> float:
    """Up to 0.15 for question keywords within five words, 0.05 for others in the sentence."""
    near = {
        k
        for w in words[max(0, first - 5) : last + 6]
        for k in keyword_stems
        if _matches(w.lower, k)
    }
    return min(0.15, 0.1 * len(near)) + (0.05 if anywhere - near else 0.0)


# --- names: person and organization ----------------------------------------------------------

# A capitalised word ("Grisham", "McDonald", "Abdul-Mahdi", "O'Brien") or a particle
# name ("al-Yasiri"); run-together junk such as "TrumpDonald" is no name.
_NAME_WORD = (
    r"(?:(?:Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)*(?:['’][A-Z][a-z]+)?"
    r"|(?:al|el|bin|ibn|abu|de|da|van|von)-[A-Z][a-z]+)(?![A-Za-z])"
)
_NAME_RE = re.compile(
    rf"(?<![\w.’'-]){_NAME_WORD}(?:\s+(?:(?:al|bin|ibn|abu|de|da|van|von|der|del|of|the)\s+)?"
    rf"(?:{_NAME_WORD}|[A-Z]\.(?=\s+[A-Z])))*"
)
# Capitalised words that start a sentence or a title, never part of the name itself.
_LEADING = frozenset(
    """the a an his her its their our my your this that these those it they we he she but and
    or in on at as for while when after before if so then also however meanwhile yet
    president sen senator rep representative gov governor secretary minister prime interior
    foreign defense deputy vice mr mrs ms dr gen general col lt sgt capt adm ambassador chief
    spokesman spokeswoman spokesperson sheikh king queen prince pope judge justice officer
    commander leader speaker chairman chairwoman said says told according now today yesterday
    here there still even only just although though since because until despite during under
    over with without from by to into like unlike both all some many most several few each
    every no not what who which where why how i you""".split()
)
_NON_NAMES = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december""".split()
)
_ORG_CUES = frozenset(
    """hezbollah hizbollah forces press news post times department ministry embassy zone
    committee council party army guard guards corps agency organization organisation movement
    states association union company inc group brigades brigade mobilization coalition
    administration congress senate house court university institute center centre bank fund
    reuters ap afp network office command front militia""".split()
)
_GEO = frozenset(
    """iraq iran syria lebanon israel baghdad tehran america american iraqi iranian syrian
    lebanese israeli united states washington middle east green zone europe china russia
    russian chinese britain british london paris france french germany german kuwait saudi
    arabia turkey turkish kurdish shiite sunni islamic muslim christian u.s. us usa gulf
    persian arab western""".split()
)


@dataclass(frozen=True)
class _Name:
    start: int
    end: int
    text: str
    tokens: tuple[str, ...]  # lowercased


def _names(sentence: str, *, person: bool) -> list[_Name]:
    """Capitalised name sequences; for people, titles and place words in front are dropped
    ("Iraqi Prime Minister Adel Abdul-Mahdi" -> "Adel Abdul-Mahdi")."""
    leading = _LEADING | {"of", "the"}
    if person:
        leading = leading | _GEO | {"state", "house", "white"}
    names = []
    for m in _NAME_RE.finditer(sentence):
        tokens = list(re.finditer(r"\S+", m.group()))
        while tokens and _clean_token(tokens[0].group()) in leading:
            tokens.pop(0)
        while tokens and _clean_token(tokens[-1].group()) in _NON_NAMES | {"of", "the"}:
            tokens.pop()
        if not tokens:
            continue
        start, end = m.start() + tokens[0].start(), m.start() + tokens[-1].end()
        lowered = tuple(_clean_token(t.group()) for t in tokens)
        if all(t in _NON_NAMES for t in lowered):
            continue
        names.append(_Name(start, end, sentence[start:end], lowered))
    return names


def _clean_token(token: str) -> str:
    token = token.lower().replace("’", "'")
    token = token.removesuffix("'s").rstrip(".")
    return token


def _is_orgish(name: _Name) -> bool:
    return any(_clean_token(t) in _ORG_CUES for t in name.tokens)


def _is_geo(name: _Name) -> bool:
    return all(t in _GEO for t in name.tokens)


def _role_match(words: Sequence[_Word], head_index: int, terms: tuple[str, ...]) -> float:
    """0.6 for the head noun alone, up to 1.0 when its modifiers stand next to it."""
    modifiers = terms[1:]
    if not modifiers:
        return 1.0
    before = words[head_index - 1].lower if head_index > 0 else ""
    if (
        before
        and before not in _APPOSITION_FILLER | _DETERMINERS
        and not before.endswith("'s")
        and before not in _GEO
        and not any(_matches(before, m) for m in modifiers)
    ):
        return 0.15  # another office with the same head: "Prime Minister" is no "interior minister"
    window = words[max(0, head_index - 4) : head_index + 4]
    found = sum(1 for m in modifiers if any(_matches(w.lower, m) for w in window))
    return 0.6 + 0.4 * found / len(modifiers)


_APPOSITION_FILLER = frozenset("of to for the a an is was".split())
_DETERMINERS = frozenset("his her its their our my your this that".split())


def _apposed(
    sentence: str,
    words: Sequence[_Word],
    word_starts: list[int],
    between: tuple[int, int],
    allowed: set[str],
) -> bool:
    """True when the text between a name and a role is only a comma, filler or role words."""
    a, b = between
    if b < a or b - a > 80:
        return False
    gap = re.sub(r"(?:[A-Za-z]\.){2,}", "", sentence[a:b])  # "U.S." is no sentence break
    if re.search(r"[.;:!?()]", gap) or gap.count(",") > 1:
        return False
    inside = words[bisect_left(word_starts, a) : bisect_left(word_starts, b)]
    gap_words = [w.lower for w in inside if w.end <= b]
    if len(gap_words) > 6:
        return False
    return all(
        w in _APPOSITION_FILLER or w in allowed or w.endswith("'s") or w in _GEO for w in gap_words
    )


# A name near the role (within _ROLE_WINDOW characters) but not apposed to it.
_UNLINKED_ROLE = 0.2
_ROLE_WINDOW = 200


def _person_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = _quoted_spans(sentence)
    terms = analysis.target_terms
    heads = [i for i, t in _term_hits(words, terms[:1])] if terms else []
    role_words = {w.lower for w in words if any(_matches(w.lower, t) for t in terms)}
    spots = _keyword_spots(words, _keyword_stems(analysis.keywords))
    word_starts = [w.start for w in words]
    candidates = []
    for name in _names(sentence, person=True):
        if _is_orgish(name) or _is_geo(name):
            continue
        if any(name.start <= words[h].start < name.end for h in heads):
            continue  # the role itself ("White House"), not a holder of it
        personal = 0.1 if len(name.tokens) >= 2 else 0.0
        if terms:
            link = 0.0
            for h in heads:
                head = words[h]
                if abs(head.start - name.start) > _ROLE_WINDOW:
                    continue
                match = _role_match(words, h, terms)
                if head.end <= name.start:
                    # "His press secretary, Stephanie Grisham", "press secretary Stephanie Grisham"
                    gap = (head.end, name.start)
                else:
                    # "Matthew Tueller, the U.S. ambassador", "Grisham is the press secretary"
                    gap = (name.end, head.start)
                apposed = _apposed(sentence, words, word_starts, gap, role_words)
                strength = 1.0 if apposed else _UNLINKED_ROLE
                link = max(link, match * strength)
            score = 0.15 + 0.7 * link + personal
        else:
            score = 0.25 + personal + _keyword_proximity(spots, name.start, name.end)
        if _inside(name.start, name.end, quotes):
            score -= 0.2
        candidates.append(_Candidate(name.text, name.start, name.end, None, score))
    return candidates


def _keyword_spots(
    words: Sequence[_Word], keyword_stems: tuple[str, ...]
) -> dict[str, list[tuple[int, int]]]:
    """Where each question keyword occurs: sorted (start, end) offsets per stem."""
    return {k: [(w.start, w.end) for w in words if _matches(w.lower, k)] for k in keyword_stems}


def _keyword_proximity(spots: dict[str, list[tuple[int, int]]], start: int, end: int) -> float:
    """Up to 0.4 for question keywords around a span: full credit within 40 characters,
    half within 200 (a nearby clause), none farther (another sentence of a passage)."""
    if not spots:
        return 0.0
    total = 0.0
    for positions in spots.values():
        distance = math.inf
        before = bisect_left(positions, (start, -1))
        if before > 0:
            distance = max(0, start - positions[before - 1][1])
        after = bisect_left(positions, (end, -1))
        if after < len(positions):
            distance = min(distance, positions[after][0] - end)
        total += 1.0 if distance <= 40 else 0.5 if distance <= 200 else 0.0
    return 0.4 * total / len(spots)


def _organization_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = _quoted_spans(sentence)
    spots = _keyword_spots(words, _keyword_stems(analysis.keywords))
    terms = analysis.target_terms
    candidates = []
    for name in _names(sentence, person=False):
        if _is_geo(name):
            continue
        orgish = 1.0 if _is_orgish(name) else 0.4
        before = sentence[max(0, name.start - 40) : name.start].lower()
        after = sentence[name.end : name.end + 30].lower()
        link = 0.0
        if terms:
            stems = "|".join(re.escape(t) for t in terms)
            if re.search(rf"\b(?:{stems})\w*\s+(?:called\s+|named\s+|known\s+as\s+)?$", before):
                link = 1.0  # "a group called Kataeb Hezbollah", "the militia Kataib Hezbollah"
            elif re.match(rf"\s*(?:,\s*(?:an?|the)\s+(?:\w+\s+)?)?(?:{stems})", after):
                link = 0.8  # "Kataeb Hezbollah militia", "the PMF, an umbrella group"
        score = 0.15 + 0.3 * orgish + 0.3 * link + _keyword_proximity(spots, name.start, name.end)
        if _inside(name.start, name.end, quotes):
            score -= 0.2
        candidates.append(_Candidate(name.text, name.start, name.end, None, score))
    return candidates


# --- place ---------------------------------------------------------------------------------

_COPULA_PP_RE = re.compile(
    r"\b(?:was|were|is|are|remained|remains|stayed|stays)\s+(?:still\s+|not\s+)?"
    r"(?P<pp>(?:out\s+of|away\s+from|back\s+in|in|at|on|inside|outside|near|aboard|abroad"
    r"|home)\b.*?)"
    r"(?=\s+(?:during|when|while|after|before|because|as|amid|and|but|since|until|to\s+\w+)\b"
    r"|[,.;:!?\"“”]|$)"
)
_IN_PLACE_RE = re.compile(r"\b(?:in|at|to|from)\s+(?:the\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")


def _place_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = _quoted_spans(sentence)
    keyword_stems = _keyword_stems(analysis.keywords)
    spots = _keyword_spots(words, keyword_stems)
    candidates: list[_Candidate] = []
    if analysis.target in _PLACE_KINDS:
        # "Which country backs the militia?": only an agent form answers it; a place
        # merely named in the sentence ("in Baghdad") does not.
        candidates = _agent_adjectives(sentence, keyword_stems)
        return [_unquoted(c, quotes) for c in candidates]
    hits = _term_hits(words, analysis.target_terms[:1]) if analysis.target_terms else []
    for m in _COPULA_PP_RE.finditer(sentence):
        # The asked subject must stand shortly before the verb: "Matthew Tueller, the
        # U.S. ambassador to Iraq, was out of the country".
        subject = [i for i, _ in hits if 0 <= m.start() - words[i].end < 80]
        score = 0.2
        if subject:
            score += 0.5 + 0.1 * _role_match(words, subject[-1], analysis.target_terms)
        candidates.append(_Candidate(m.group("pp"), m.start("pp"), m.end("pp"), None, score))
    for m in _IN_PLACE_RE.finditer(sentence):
        text = re.sub(r"^(?:in|at|to|from)\s+(?:the\s+)?", "", m.group())
        start = m.end() - len(text)
        if not text.replace(".", "").strip():
            continue
        score = 0.2 + 0.4 * _keyword_proximity(spots, start, m.end())
        if any(abs(words[i].start - start) <= _ROLE_WINDOW for i, _ in hits):
            score += 0.15  # the asked subject is nearby
        candidates.append(_Candidate(text, start, m.end(), None, score))
    return [_unquoted(c, quotes) for c in candidates]


_PLACE_KINDS = frozenset("country nation city town capital province region".split())


def _unquoted(candidate: _Candidate, quotes: Sequence[tuple[int, int]]) -> _Candidate:
    if not _inside(candidate.start, candidate.end, quotes):
        return candidate
    c = candidate
    return _Candidate(c.text, c.start, c.end, c.value, c.score - 0.2)


def _agent_adjectives(sentence: str, keyword_stems: tuple[str, ...]) -> list[_Candidate]:
    """ "Iran-backed", "Iranian-backed", "backed by Iran" for "which country backs ...?"."""
    candidates = []
    verbs = [k for k in keyword_stems if len(k) >= 3]
    for verb in verbs:
        others = [k for k in keyword_stems if k != verb]
        adjective = re.compile(
            rf"\b[A-Z][\w.]*(?:\s[A-Z][\w.]*)?-(?i:{re.escape(verb)})(?:ed|d|en)\b"
        )
        passive = re.compile(
            rf"\b{re.escape(verb)}(?:ed|d|en)\s+by\s+(?:the\s+)?(?P<name>[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*)"
        )
        # The object of the verb right after the adjective ("Iran-backed militia")
        # or shortly before the passive ("militias are backed by Iran") confirms it.
        for m in adjective.finditer(sentence):
            after = sentence[m.end() : m.end() + 40].lower()
            near = any(re.search(rf"\b{re.escape(o)}", after) for o in others)
            score = 0.7 + (0.2 if near else 0.0)
            candidates.append(_Candidate(m.group(), m.start(), m.end(), None, score))
        for m in passive.finditer(sentence):
            before = sentence[max(0, m.start() - 60) : m.start()].lower()
            near = any(re.search(rf"\b{re.escape(o)}", before) for o in others)
            score = 0.6 + (0.2 if near else 0.0)
            start, end = m.span("name")
            candidates.append(_Candidate(m.group("name"), start, end, None, score))
    return candidates


# --- date ----------------------------------------------------------------------------------

_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan\.|Feb\.|Aug\.|Sept\.|Sep\.|Oct\.|Nov\.|Dec\.)"
)
_DATE_RE = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,\s+\d{{4}})?"
    rf"|\b\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?"
    rf"|\b{_MONTH}\s+\d{{4}}"
    r"|\b\d{4}-\d{2}-\d{2}\b"
    rf"|\b(?:on\s+)?{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?(?:,\s+{_MONTH}\s+\d{{1,2}})?"
    r"|\b(?:last|next|this|earlier this|later this)\s+(?:week|month|year|weekend|night|morning)"
    r"|\bover the (?:past )?weekend\b|\byesterday\b|\btoday\b|\btonight\b"
    r"|\bin recent (?:days|weeks|months|years)\b|\bin \d{4}\b"
)


def _date_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = _quoted_spans(sentence)
    spots = _keyword_spots(words, _keyword_stems(analysis.keywords))
    candidates = []
    for m in _DATE_RE.finditer(sentence):
        score = 0.3 + _keyword_proximity(spots, m.start(), m.end()) * 1.25
        if re.search(r"\d", m.group()):
            score += 0.05  # a calendar date beats a weekday or "last month"
        if _inside(m.start(), m.end(), quotes):
            score -= 0.2
        candidates.append(_Candidate(m.group(), m.start(), m.end(), None, score))
    return candidates


_EXTRACTORS: dict[str, Callable[[QuestionAnalysis, str], list[_Candidate]]] = {
    "count": _count_candidates,
    "person": _person_candidates,
    "organization": _organization_candidates,
    "place": _place_candidates,
    "date": _date_candidates,
}
