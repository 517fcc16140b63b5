"""The short answer inside one sentence: "At least 10 demonstrators", "Stephanie Grisham".

Rules over the sentence text, scored 0..1 so the caller can pick the best sentence per
source. Every type has its own candidates; what they share:

- An answer is never made only of the question's own words ("Who was blamed for the
  attack?" is not answered by "the attack").
- When the question has a verb ("Who was blamed", "Who founded"), a candidate in the
  asked role of that verb in the sentence scores higher: the agent for an active
  question (the subject of an active sentence, or the "by" phrase of a passive one),
  the patient for a passive question. "Trump blamed Iran" answers "Who was blamed?"
  with "Iran", never with "Trump".
- Candidates near the question's keywords score higher; quoted ones lower.

Per type:

- quantity: the count phrases of `search.claims.find_quantities`, scored by how they
  attach to the question's target: the subject of "were injured" scores highest, the
  object of "killed 25 people" next, a counted noun that is the target ("6,000
  protesters" for "how many protesters") next, a mere neighbour least. Figures tied to
  a different casualty verb, inside quotation marks, in a subordinate clause, or vague
  ("many") lose points.
- person: capitalised name sequences that are not places or nationalities (GeoNames,
  `search.gazetteer`) nor organisations (general head nouns and suffixes), best when
  appositive to the asked role ("His press secretary, Stephanie Grisham, said").
- organization: capitalised names with an organisation head noun or suffix ("Ministry",
  "Inc", "Party"), or acronyms, best next to the asked kind ("a group called X").
- place: gazetteer names and "in/at <Place>" phrases; for "where" the prepositional
  phrase after "was/were" when the subject is the asked one; for "which country <verb>s"
  the agent adjective "Iran-backed" or "backed by Iran".
- date: the date grammar of `index.text` (full dates, months, years, weekdays, relative
  days, decades); "what year" takes the year.
- category: the noun phrase that ends in the asked kind ("what kind of flags" ->
  "militia flags").
- other/person without a name: a phrase of the sentence outside the question's words,
  in the asked role of the verb, nearest the question's keywords.
- yes_no, reason, manner: the caller answers with the sentence (a "because" clause for
  reasons).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from index.text import (
    ABBREVIATION_RE,
    BE_FORMS,
    DATE_RE,
    EVENT_STEMS,
    SPACED_WORD_RE,
    Word,
    inside,
    lemma,
    quoted_spans,
    stem,
    stopwords,
)
from index.text import words as _words
from index.words import zipf
from search.claims import Quantity, QuantityMention, find_quantities
from search.gazetteer import is_country, is_nationality, is_place, places
from search.question import PERSON_NOUN, QuestionAnalysis, is_person_noun

# A span must score above this to be returned; below it the sentence does not answer.
MIN_SCORE = 0.4


@dataclass(frozen=True)
class Extraction:
    text: str  # sentence[start:end]
    start: int
    end: int
    value: Quantity | None
    score: float


def extract_answer(
    analysis: QuestionAnalysis, sentence: str, floor: float = MIN_SCORE
) -> Extraction | None:
    """The span of `sentence` that best answers the question, or None at `floor` or below
    (MIN_SCORE for a typed answer)."""
    extractor = _EXTRACTORS.get(analysis.answer_type)
    if extractor is None:
        return None
    candidates = [c for c in extractor(analysis, sentence) if not _in_question(analysis, c.text)]
    if not candidates:
        return None
    # Highest score wins; ties go to the earlier span so results are deterministic.
    best = max(candidates, key=lambda c: (c.score, -c.start))
    if best.score <= floor:
        return None
    return Extraction(best.text, best.start, best.end, best.value, round(min(best.score, 1.0), 3))


# --- shared helpers ------------------------------------------------------------------------


def _in_question(analysis: QuestionAnalysis, text: str) -> bool:
    """True when every content word of `text` is a word of the question."""
    content = {
        stem(w.lower)
        for w in _words(text)
        if w.lower not in stopwords() and w.lower.rstrip(".") not in _LEGAL_SUFFIXES
    }
    content.discard("")
    return bool(content) and content <= analysis.stems


@lru_cache(maxsize=1 << 16)
def _matches(word: str, term: str) -> bool:
    """A sentence word signals a term (a stem): prefix match, exact for short terms."""
    if " " in term:
        return False  # multi-word terms are matched on the text, see _term_hits
    if term == PERSON_NOUN:
        return is_person_noun(word)
    term = term.lower()
    if len(term) <= 3:
        return word == term or stem(word) == term
    # A stem is not always a prefix of its words ("ferri" for "ferry").
    return word.startswith(term) or stem(word) == term


def _term_hits(words: Sequence[Word], terms: tuple[str, ...]) -> list[tuple[int, int]]:
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
    return tuple(dict.fromkeys(stem(k) for k in keywords if stem(k)))


_SUBORDINATORS = frozenset(
    "that which who whom when where while after because although though if whose".split()
)
# Clause breaks: punctuation, and sentence ends when the caller passes a whole passage
# (not the dot of an abbreviation such as "U.S.").
_CLAUSE_BREAK_RE = re.compile(r"[,;:()—–]|(?<![A-Z])[.!?](?=\s)")


def _in_subordinate_clause(
    words: Sequence[Word], breaks: list[int], word_starts: list[int], start: int
) -> bool:
    """True when a subordinating word stands between the last clause break and `start`."""
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


def _unquoted(candidate: _Candidate, quotes: Sequence[tuple[int, int]]) -> _Candidate:
    if not inside(candidate.start, candidate.end, quotes):
        return candidate
    c = candidate
    return _Candidate(c.text, c.start, c.end, c.value, c.score - 0.2)


# --- the verb's roles --------------------------------------------------------------------------

_ROLE_REACH = 8  # words between a candidate and the verb it is an argument of


@lru_cache(maxsize=1 << 14)  # asked once per candidate of the sentence
def _verb_positions(sentence: str, verb: str) -> tuple[tuple[int, bool], ...]:
    """(word index, passive?) of each occurrence of the question's verb in the sentence."""
    words = _words(sentence)
    found = []
    for i, word in enumerate(words):
        if stem(word.lower) != verb and stem(lemma(word.lower)) != verb:
            continue  # "sang" is the question's "sing" by its lemma
        before = [w.lower for w in words[max(0, i - 3) : i]]
        passive = any(b in BE_FORMS for b in before) and word.lower.endswith(("ed", "en", "t"))
        found.append((i, passive))
    return tuple(found)


def _role_fit(
    analysis: QuestionAnalysis, words: Sequence[Word], start: int, end: int, text: str
) -> float:
    """+0.3 for a candidate in the asked role of the question's verb, -0.2 in the other."""
    if analysis.verb is None:
        return 0.0
    positions = _verb_positions(text, analysis.verb)
    if not positions:
        return 0.0
    starts = [w.start for w in words]
    first = bisect_left(starts, start)
    last = max(first, bisect_left(starts, end) - 1)
    fits: list[bool] = []
    for index, passive in positions:
        if last < index and index - last <= _ROLE_REACH:
            gap = text[words[last].end : words[index].start]
            if re.search(r"[.;:!?]", gap):
                continue
            # Before the verb: the agent of an active sentence, the patient of a passive one.
            role = "patient" if passive else "agent"
        elif first > index and first - index <= _ROLE_REACH:
            if re.search(r"[,.;:!?]", text[words[index].end : words[first].start]):
                continue  # "sang the anthem, while Matlin ...": another clause's words
            between = [w.lower for w in words[index + 1 : first]]
            if passive:
                if "by" not in between:
                    continue
                role = "agent"
            else:
                role = "patient"
        else:
            continue
        fits.append(role == ("patient" if analysis.passive else "agent"))
    if any(fits):
        return 0.3
    return -0.2 if fits else 0.0


# --- keyword proximity ---------------------------------------------------------------------------


def _keyword_spots(
    words: Sequence[Word], keyword_stems: tuple[str, ...]
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


# --- quantity ---------------------------------------------------------------------------------

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
        s for s in EVENT_STEMS if not any(s.startswith(t) or t.startswith(s) for t in target_terms)
    )


@lru_cache(maxsize=1 << 15)
def _sentence_hits(sentence: str, terms: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """`_term_hits` of a sentence, remembered: questions of a kind share their terms."""
    return tuple(_term_hits(_words(sentence), terms))


def _quantity_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = quoted_spans(sentence)
    keyword_stems = _keyword_stems(analysis.keywords)
    other_events = _other_events(analysis.target_terms)
    existential = bool(re.search(r"\bthere\b", analysis.text, re.I))
    wanted = _wanted_unit_of(analysis.text)
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
        if inside(mention.start, mention.end, quotes):
            score -= _QUOTED
        if _in_subordinate_clause(words, breaks, word_starts, mention.start):
            score -= _SUBORDINATE
        score -= _vagueness(mention)
        score += _unit_fit(wanted, mention)
        start, end, text = mention.start, mention.end, mention.text
        if _names_target_noun(analysis, mention):
            # "How many teams?" -> "two", not "two teams": the noun is the question's.
            end = mention.start + len(mention.figure)
            text = sentence[start:end]
        candidates.append(_Candidate(text, start, end, mention.value, score))
    return candidates


# Units a measure question asks for, by the question's words: general English.
_UNIT_CLASSES: dict[str, re.Pattern[str]] = {
    "percent": re.compile(r"%|\bp(?:er)?\s*c(?:en)?t\b|\bpercent", re.I),
    "money": re.compile(
        r"[$£€¥]|\b(?:dlrs?|dollars?|cents?|euros?|pounds sterling|sterling|yen|marks|francs"
        r"|lire|pesos|rupees|yuan|roubles|rubles|riyals|dinars|crowns)\b",
        re.I,
    ),
    "duration": re.compile(
        r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries)\b", re.I
    ),
    "length": re.compile(
        r"\b(?:km|kilomet(?:re|er)s?|miles?|met(?:re|er)s?|feet|foot|ft|inch(?:es)?|yards?|cm|mm)\b",
        re.I,
    ),
}
_WANTED_UNIT = (
    (
        "percent",
        # "what share of", "how big a stake"; not "price per share".
        re.compile(
            r"(?<!per-)(?<!per )\b(?:percentage|percent|proportion|share|portion|fraction|rate"
            r"|stake)\b"
        ),
    ),
    (
        "money",
        re.compile(
            r"\b(?:cost|price|worth|pay|paid|spend|spent|fee|offer|bid|value|"
            r"how much money|revenue|sales|profit|loss|debt|budget|salary|dividend)\b"
        ),
    ),
    (
        "duration",
        re.compile(
            r"\bhow long (?:did|does|do|will|had|has|have|was|were|is|ago)\b"
            r"|\bhow old\b|\bage\b|\bhow many (?:years|months|days|weeks|hours)\b"
        ),
    ),
    ("length", re.compile(r"\bhow (?:far|tall|high|deep|wide)\b|\bhow long is\b|\blength\b")),
)


@lru_cache(maxsize=256)
def _wanted_unit_of(question: str) -> str | None:
    lower = question.lower()
    return next((kind for kind, pattern in _WANTED_UNIT if pattern.search(lower)), None)


def _unit_fit(wanted: str | None, mention: QuantityMention) -> float:
    """+0.35 for a figure in the unit the question asks for; one in another unit ("89 pct"
    for a price) is no answer to it."""
    if wanted is None:
        return 0.0
    if _UNIT_CLASSES[wanted].search(mention.text):
        return 0.35
    if any(p.search(mention.text) for k, p in _UNIT_CLASSES.items() if k != wanted):
        return _WRONG_UNIT
    return 0.0


_WRONG_UNIT = -0.6


def _names_target_noun(analysis: QuestionAnalysis, mention: QuantityMention) -> bool:
    """Whether the noun after the figure is the question's counted noun."""
    if (
        not analysis.target_terms
        or analysis.target is None
        or len(mention.figure) >= len(mention.text)
    ):
        return False
    noun = mention.text[len(mention.figure) :].split()
    return bool(noun) and _matches(noun[-1].lower(), analysis.target_terms[0])


def _count_link(
    words: Sequence[Word],
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
    words: Sequence[Word],
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

# A capitalised word ("Grisham", "McDonald", "Abdul-Mahdi", "O'Brien", "PayPal") or a
# particle name ("al-Yasiri"). (Run-together debris such as "TrumpDonald" is removed when
# a document is cleaned, `index.clean`.)
_NAME_WORD = (
    r"(?:[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:-[A-Z][a-z]+)*(?:['’][A-Z][a-z]+)?"
    r"|(?:al|el|bin|ibn|abu|de|da|van|von)-[A-Z][a-z]+|[A-Z]{2,6}s?)(?![A-Za-z])"
)
_NAME_RE = re.compile(
    rf"(?<![\w.’'-]){_NAME_WORD}(?:\s+(?:(?:al|bin|ibn|abu|de|da|di|du|van|von|der|del|la|le|of"
    rf"|the|and|for)\s+)?(?:{_NAME_WORD}|[A-Z]\.(?=\s+[A-Z])))*"
)
# Words that stand before a name but are not part of it: determiners, conjunctions and
# titles and offices of general English.
_LEADING = frozenset(
    """the a an his her its their our my your this that these those it they we he she but and
    or in on at as for while when after before if so then also however meanwhile yet
    president sen senator rep representative gov governor secretary minister prime interior
    foreign defense defence deputy vice mr mrs ms dr prof gen general col lt sgt capt adm
    ambassador chief spokesman spokeswoman spokesperson sheikh king queen prince princess
    pope saint st judge justice officer commander leader speaker chairman chairwoman chair
    director manager executive founder owner chancellor mayor premier emperor lord sir
    another other former late acting outgoing incoming
    said says told according now today yesterday here there still even only just although
    though since because until despite during under over with without from by to into like
    unlike both all some many most several few each every no not what who which where why
    how i you""".split()
)
_NON_NAMES = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december""".split()
)
# Head nouns and suffixes of organisations' names in general English.
_ORG_WORDS = frozenset(
    """party ministry army navy air force forces guard guards corps police department office
    agency bureau administration authority commission committee council board assembly
    parliament congress senate house court tribunal government cabinet state
    university college school institute institution academy laboratory museum library
    hospital foundation fund trust charity church association federation union league
    alliance coalition front movement organization organisation group society club team
    company corporation corp corp. co co. inc inc. ltd ltd. plc llc ag sa nv bv gmbh
    holdings industries international enterprises partners bank airlines airways motors
    systems technologies communications network news times post press journal herald
    tribune television radio broadcasting studios records exchange reserve mines mining
    resources petroleum oil energy steel chemical chemicals electric foods stores capital
    securities investments insurance services products pharmaceuticals""".split()
)


# The legal form after a company's name: "Acme Mining Ltd" is the question's "Acme
# Mining", and "Ltd" alone names nothing.
_LEGAL_SUFFIXES = frozenset("inc ltd corp co plc llc ag sa nv bv gmbh lp spa".split())


@dataclass(frozen=True)
class _Name:
    start: int
    end: int
    text: str
    tokens: tuple[str, ...]  # lowercased


@lru_cache(maxsize=1 << 14)
def _names(sentence: str, *, person: bool) -> tuple[_Name, ...]:
    """Capitalised name sequences; for people, titles and place words in front are dropped
    ("Iraqi Prime Minister Adel Abdul-Mahdi" -> "Adel Abdul-Mahdi")."""
    names = []
    for m in _NAME_RE.finditer(sentence):
        tokens = list(SPACED_WORD_RE.finditer(m.group()))
        if person:
            # "Secretary of State Mike Pompeo": drop titles, places and offices in front.
            while tokens and _leads_person(_clean_token(tokens[0].group())):
                tokens.pop(0)
        while tokens and _clean_token(tokens[0].group()) in _LEADING | {"of", "the", "and"}:
            tokens.pop(0)
        while tokens and _clean_token(tokens[-1].group()) in _NON_NAMES | {"of", "the", "and"}:
            tokens.pop()
        if not tokens:
            continue
        start, end = m.start() + tokens[0].start(), m.start() + tokens[-1].end()
        lowered = tuple(_clean_token(t.group()) for t in tokens)
        if all(t in _NON_NAMES for t in lowered):
            continue
        if len(lowered) == 1 and _common_word(lowered[0], sentence, start):
            continue  # "Dozens of people stormed ...": a sentence's first word, not a name
        if all(t in _LEGAL_SUFFIXES for t in lowered):
            continue  # "Ltd" left over from a name that the pattern could not read
        if sentence[max(0, start - 1) : start] == "<" and _is_acronym(sentence[start:end]):
            continue  # a newswire's ticker code: "Acme Mining Ltd <ACM.TO>"
        names.append(_Name(start, end, sentence[start:end], lowered))
    return tuple(names)


def _leads_person(token: str) -> bool:
    return token in _LEADING or token in _ORG_WORDS or is_place((token,))


def _common_word(token: str, sentence: str, start: int) -> bool:
    """A capitalised word that opens a sentence and is a common English word."""
    before = sentence[max(0, start - 4) : start]
    opens = start == 0 or re.search(r"(?:^|[.!?:\"“]\s*|\n)\s*$", before)
    if not opens:
        return False
    # "Analysts said ...": a plural of a common word is no name either.
    singular = token[:-1] if token.endswith("s") and len(token) > 4 else token
    return token in stopwords() or max(zipf(token), zipf(singular)) >= 4.0


def _clean_token(token: str) -> str:
    token = token.lower().replace("’", "'")
    return token.removesuffix("'s").rstrip(".,")


def _is_orgish(name: _Name) -> bool:
    return any(t in _ORG_WORDS for t in name.tokens) or _is_acronym(name.text)


def _is_acronym(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{2,6}s?", text))


def _role_match(words: Sequence[Word], head_index: int, terms: tuple[str, ...]) -> float:
    """0.6 for the head noun alone, up to 1.0 when its modifiers stand next to it."""
    modifiers = terms[1:]
    if not modifiers:
        return 1.0
    before = words[head_index - 1].lower if head_index > 0 else ""
    if (
        before
        and before not in _APPOSITION_FILLER | _DETERMINERS
        and not before.endswith("'s")
        and not is_place((before,))
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
    words: Sequence[Word],
    word_starts: list[int],
    between: tuple[int, int],
    allowed: set[str],
) -> bool:
    """True when the text between a name and a role is only a comma, filler or role words."""
    a, b = between
    if b < a or b - a > 80:
        return False
    gap = ABBREVIATION_RE.sub("", sentence[a:b])  # "U.S." is no sentence break
    if re.search(r"[.;:!?()]", gap) or gap.count(",") > 1:
        return False
    inside_gap = words[bisect_left(word_starts, a) : bisect_left(word_starts, b)]
    gap_words = [w.lower for w in inside_gap if w.end <= b]
    if len(gap_words) > 6:
        return False
    return all(
        w in _APPOSITION_FILLER or w in allowed or w.endswith("'s") or is_place((w,))
        for w in gap_words
    )


# A name near the role (within _ROLE_WINDOW characters) but not apposed to it.
_UNLINKED_ROLE = 0.2
_ROLE_WINDOW = 200


def _person_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = quoted_spans(sentence)
    terms = analysis.target_terms
    heads = [i for i, t in _term_hits(words, terms[:1])] if terms else []
    role_words = {w.lower for w in words if any(_matches(w.lower, t) for t in terms)}
    spots = _keyword_spots(words, _keyword_stems(analysis.keywords))
    word_starts = [w.start for w in words]
    candidates = []
    for name in _names(sentence, person=True):
        inner = [h for h in heads if name.start <= words[h].start < name.end]
        if inner:
            # "Finance Minister Edouard Balladur": the holder is what follows the title.
            rest = sentence[words[inner[-1]].end : name.end]
            if not rest.strip():
                continue  # the role itself, not a holder of it
            start = words[inner[-1]].end + len(rest) - len(rest.lstrip())
            name = _Name(
                start, name.end, sentence[start : name.end], name.tokens[-len(rest.split()) :]
            )
        if _is_orgish(name) or is_place(name.tokens):
            continue
        if any(is_nationality(t) for t in name.tokens):
            continue  # "Western Canadian", "Royal Dutch": not a person's name
        personal = 0.1 if len(name.tokens) >= 2 else 0.0
        if heads:
            link = 0.0
            for h in heads:
                head = words[h]
                if abs(head.start - name.start) > _ROLE_WINDOW:
                    continue
                match = _role_match(words, h, terms)
                if head.end <= name.start:
                    gap = (head.end, name.start)  # "His press secretary, Stephanie Grisham"
                else:
                    gap = (name.end, head.start)  # "Matthew Tueller, the U.S. ambassador"
                apposed = _apposed(sentence, words, word_starts, gap, role_words)
                link = max(link, match * (1.0 if apposed else _UNLINKED_ROLE))
            score = 0.15 + 0.7 * link + personal
        else:
            score = 0.25 + personal + _keyword_proximity(spots, name.start, name.end)
            score += _role_fit(analysis, words, name.start, name.end, sentence)
        if inside(name.start, name.end, quotes):
            score -= 0.2
        candidates.append(_Candidate(name.text, name.start, name.end, None, score))
    if not heads:
        # "Who stormed the embassy?": the answer may be no name ("Protesters").
        candidates.extend(_phrase_candidates(analysis, sentence, role_only=True))
    return candidates


def _organization_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = quoted_spans(sentence)
    spots = _keyword_spots(words, _keyword_stems(analysis.keywords))
    terms = analysis.target_terms
    candidates = []
    for name in _names(sentence, person=False):
        if is_place(name.tokens):
            continue
        orgish = 1.0 if _is_orgish(name) else 0.4
        before = sentence[max(0, name.start - 40) : name.start].lower()
        after = sentence[name.end : name.end + 30].lower()
        link = 0.0
        if terms:
            stems = "|".join(re.escape(t) for t in terms)
            if re.search(rf"\b(?:{stems})\w*\s+(?:called\s+|named\s+|known\s+as\s+)?$", before):
                link = 1.0  # "a group called X", "the company X"
            elif re.match(rf"\s*(?:,\s*(?:an?|the)\s+(?:\w+\s+)?)?(?:{stems})", after):
                link = 0.8  # "X militia", "the PMF, an umbrella group"
        score = 0.15 + 0.3 * orgish + 0.3 * link + _keyword_proximity(spots, name.start, name.end)
        score += _role_fit(analysis, words, name.start, name.end, sentence)
        if inside(name.start, name.end, quotes):
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
_IN_PLACE_RE = re.compile(
    r"\b(?:in|at|to|from|near|outside|inside)\s+(?:the\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*"
)


def _place_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = quoted_spans(sentence)
    keyword_stems = _keyword_stems(analysis.keywords)
    spots = _keyword_spots(words, keyword_stems)
    candidates: list[_Candidate] = []
    if analysis.target in _PLACE_KINDS:
        # "Which country backs the militia?": an agent form answers it ("Iran-backed"),
        # or a place name in the asked role of the verb; a place merely named in the
        # sentence ("in Baghdad") scores low.
        candidates = _agent_adjectives(sentence, keyword_stems)
        wants_country = analysis.target in ("country", "nation")
        for name in _names(sentence, person=False):
            if not (is_country(name.tokens) if wants_country else _placed(name, sentence)):
                continue
            fit = _role_fit(analysis, words, name.start, name.end, sentence)
            score = 0.25 + fit + _keyword_proximity(spots, name.start, name.end) * 0.5
            if analysis.target in _LOCAL_KINDS:
                # "In which town ...?": "Timmins" of "Timmins, Ontario", not "Ontario".
                if _IN_REGION_RE.match(sentence, name.end):
                    score += 0.15
                elif re.search(r"[A-Za-z],\s+$", sentence[max(0, name.start - 3) : name.start]):
                    score -= 0.1
            candidates.append(_Candidate(name.text, name.start, name.end, None, score))
        return [_unquoted(c, quotes) for c in candidates]
    hits = _term_hits(words, analysis.target_terms[:1]) if analysis.target_terms else []
    for m in _BASED_RE.finditer(sentence):
        # "Calgary-based Acme": where the thing after it is based.
        score = 0.3 + 0.4 * _keyword_proximity(spots, m.start(), m.end("place") + 12)
        if any(0 <= words[i].start - m.end() <= 12 for i, _ in hits):
            score += 0.3  # the asked subject follows: "Calgary-based Acme Mining"
        candidates.append(_Candidate(m.group("place"), m.start(), m.end("place"), None, score))
    for m in _COPULA_PP_RE.finditer(sentence):
        # The asked subject must stand shortly before the verb: "Matthew Tueller, the
        # U.S. ambassador to Iraq, was out of the country".
        subject = [i for i, _ in hits if 0 <= m.start() - words[i].end < 80]
        score = 0.2
        if subject:
            score += 0.5 + 0.1 * _role_match(words, subject[-1], analysis.target_terms)
        candidates.append(_Candidate(m.group("pp"), m.start("pp"), m.end("pp"), None, score))
    for m in _IN_PLACE_RE.finditer(sentence):
        text = re.sub(r"^(?:in|at|to|from|near|outside|inside)\s+(?:the\s+)?", "", m.group())
        start = m.end() - len(text)
        tokens = tuple(t.lower for t in _words(text))
        if not text.replace(".", "").strip() or DATE_RE.fullmatch(text):
            continue
        if all(is_nationality(t) and t not in places() for t in tokens):
            continue  # "to Iraqi officials": an adjective, not a place
        score = 0.2 + 0.4 * _keyword_proximity(spots, start, m.end())
        if is_place(tokens) and not hits:
            score += 0.1  # a gazetteer place, not "in Washington's view" of a name
        if any(abs(words[i].start - start) <= _ROLE_WINDOW for i, _ in hits):
            score += 0.15  # the asked subject is nearby
        candidates.append(_Candidate(text, start, m.end(), None, score))
    return [_unquoted(c, quotes) for c in candidates]


_PLACE_KINDS = frozenset(
    "country nation city town capital province region state island continent".split()
)
_LOCAL_KINDS = frozenset("city town village".split())
_BASED_RE = re.compile(r"\b(?P<place>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)-based\b")
# "Timmins, Ontario": a name followed by a gazetteer place is a town of that region.
_IN_REGION_RE = re.compile(r",\s+(?P<region>[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2})\b")


def _placed(name: _Name, sentence: str) -> bool:
    """A gazetteer place, or a smaller one the sentence places in a region ("Timmins,
    Ontario") or names as a base ("Calgary-based")."""
    if is_place(name.tokens):
        return True
    if _is_orgish(name) or any(is_nationality(t) for t in name.tokens):
        return False
    region = _IN_REGION_RE.match(sentence, name.end)
    if region is not None:
        return is_place(tuple(w.lower for w in _words(region.group("region"))))
    return sentence.startswith("-based", name.end)


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


def _date_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    words = _words(sentence)
    quotes = quoted_spans(sentence)
    spots = _keyword_spots(words, _keyword_stems(analysis.keywords))
    wants_year = bool(re.search(r"\byear\b", analysis.text, re.I))
    candidates = []
    for m in DATE_RE.finditer(sentence):
        start, end = m.span()
        text = m.group()
        if wants_year:
            year = re.search(r"\b\d{4}\b", text)
            if year is None:
                continue  # "what year" is not answered by "Tuesday"
            start, end = m.start() + year.start(), m.start() + year.end()
            text = year.group()
        score = 0.3 + _keyword_proximity(spots, start, end) * 1.25
        if re.search(r"\d", text):
            score += 0.05  # a calendar date beats a weekday or "last month"
        if inside(start, end, quotes):
            score -= 0.2
        candidates.append(_Candidate(text, start, end, None, score))
    return candidates


# --- category and free phrases ---------------------------------------------------------------


def _category_candidates(analysis: QuestionAnalysis, sentence: str) -> list[_Candidate]:
    """ "What kind of flags": the words that modify "flags" in the sentence."""
    words = _words(sentence)
    candidates = []
    for index, _ in _term_hits(words, analysis.target_terms):
        first = index
        while (
            first > 0
            and index - first < 3
            and words[first - 1].lower not in stopwords()
            and words[first - 1].end + 2 >= words[first].start  # no punctuation between
        ):
            first -= 1
        if first == index:
            continue
        start, end = words[first].start, words[index].end
        candidates.append(_Candidate(sentence[start:end], start, end, None, 0.6))
    candidates.extend(_phrase_candidates(analysis, sentence))
    return candidates


_PHRASE_BREAK_RE = re.compile(r"[,;:()\"“”—–]|(?<![A-Z])[.!?](?=\s|$)")
_MAX_PHRASE_WORDS = 6


def _phrase_candidates(
    analysis: QuestionAnalysis, sentence: str, *, role_only: bool = False
) -> list[_Candidate]:
    """Runs of the sentence's words outside the question, between punctuation and the
    question's words, trimmed of function words, nearest the question's words first.

    Hand-written: no library here gives constituents without a parser; a run between
    the words the question shares with the sentence is where the answer usually stands.
    """
    words = _words(sentence)
    if not words:
        return []
    asked = analysis.stems
    stop = stopwords()
    spots = _keyword_spots(words, _keyword_stems(analysis.keywords))
    runs: list[list[int]] = []
    current: list[int] = []
    for i, word in enumerate(words):
        gap = sentence[words[i - 1].end : word.start] if i else ""
        in_question = stem(word.lower) in asked or stem(lemma(word.lower)) in asked
        if (i and _PHRASE_BREAK_RE.search(gap)) or in_question:
            if current:
                runs.append(current)
            current = [] if in_question else [i]
            continue
        current.append(i)
    if current:
        runs.append(current)
    candidates = []
    for run in runs:
        while run and (words[run[0]].lower in stop or words[run[0]].lower in _VERBISH):
            run = run[1:]
        while run and words[run[-1]].lower in stop:
            run = run[:-1]
        if not run or len(run) > 2 * _MAX_PHRASE_WORDS:
            continue
        if len(run) > _MAX_PHRASE_WORDS:
            run = run[:_MAX_PHRASE_WORDS]
            while run and words[run[-1]].lower in stop:
                run = run[:-1]
        start, end = words[run[0]].start, words[run[-1]].end
        fit = _role_fit(analysis, words, start, end, sentence)
        if role_only and fit <= 0:
            continue
        score = 0.2 + _keyword_proximity(spots, start, end) + fit - 0.02 * len(run)
        score += _phrase_shape(sentence, [words[i] for i in run])
        candidates.append(_Candidate(sentence[start:end], start, end, None, score))
    return candidates


def _phrase_shape(sentence: str, run: Sequence[Word]) -> float:
    """Names, figures and quoted titles make answers; a lone lower-case word seldom does."""
    first = run[0]
    capitalised = [w for w in run if sentence[w.start].isupper() and w.start > 0]
    if capitalised and not (len(run) == 1 and first.lower in stopwords()):
        return 0.15
    if any(sentence[w.start].isdigit() for w in run):
        return 0.1
    if len(run) == 1:
        return -0.15
    return 0.0


# Words that open a clause's predicate, not a noun phrase: a phrase does not start with them.
_VERBISH = frozenset("said says told added according also was were is are has have had".split())


_EXTRACTORS: dict[str, Callable[[QuestionAnalysis, str], list[_Candidate]]] = {
    "quantity": _quantity_candidates,
    "person": _person_candidates,
    "organization": _organization_candidates,
    "place": _place_candidates,
    "date": _date_candidates,
    "category": _category_candidates,
    "other": _phrase_candidates,
}
