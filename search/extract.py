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

Quantities, dates and categories are read here; people, organisations and places in
`search.names`; what they share, with every tuning value (`ExtractOptions`, passed as
`extract_answer(..., options=)`), in `search.spans`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from index.text import DATE_RE, EVENT_STEMS, Word, inside, quoted_spans, stem, stopwords
from index.text import words as sentence_words
from search.claims import Quantity, QuantityMention, find_quantities
from search.names import (
    LEGAL_SUFFIXES,
    organization_candidates,
    person_candidates,
    place_candidates,
)
from search.question import QuestionAnalysis
from search.spans import (
    EXTRACT,
    Candidate,
    ExtractOptions,
    keyword_proximity,
    keyword_stems,
    matches,
    phrase_candidates,
    reading,
    term_hits,
)

# A span must score above this to be returned (`ExtractOptions.min_score`).
MIN_SCORE = EXTRACT.min_score


@dataclass(frozen=True)
class Extraction:
    text: str  # sentence[start:end]
    start: int
    end: int
    value: Quantity | None
    score: float


def extract_answer(
    analysis: QuestionAnalysis,
    sentence: str,
    floor: float | None = None,
    options: ExtractOptions = EXTRACT,
) -> Extraction | None:
    """The span of `sentence` that best answers the question, or None at `floor` or below
    (`options.min_score` for a typed answer)."""
    extractor = _EXTRACTORS.get(analysis.answer_type)
    if extractor is None:
        return None
    candidates = [
        c for c in extractor(analysis, sentence, options) if not _in_question(analysis, c.text)
    ]
    if not candidates:
        return None
    # Highest score wins; ties go to the earlier span so results are deterministic.
    best = max(candidates, key=lambda c: (c.score, -c.start))
    if best.score <= (options.min_score if floor is None else floor):
        return None
    return Extraction(best.text, best.start, best.end, best.value, round(min(best.score, 1.0), 3))


def _in_question(analysis: QuestionAnalysis, text: str) -> bool:
    """True when every content word of `text` is a word of the question."""
    content = {
        stem(w.lower)
        for w in sentence_words(text)
        if w.lower not in stopwords() and w.lower.rstrip(".") not in LEGAL_SUFFIXES
    }
    content.discard("")
    return bool(content) and content <= analysis.stems


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


# --- quantity ---------------------------------------------------------------------------------

# Words allowed between a figure and its verb: "were injured", "have reportedly been
# killed", "two of them were hurt".
_LINK_WORDS = frozenset(
    """were was are is be been being have has had reportedly also all later reported confirmed
    believed said thought feared now already since badly seriously critically slightly
    fatally mortally of them whom those""".split()
)


@lru_cache(maxsize=256)
def _other_events(target_terms: tuple[str, ...]) -> tuple[str, ...]:
    """Event words other than the question's own ("killed" when it asks about injuries)."""
    return tuple(
        s for s in EVENT_STEMS if not any(s.startswith(t) or t.startswith(s) for t in target_terms)
    )


@lru_cache(maxsize=1 << 15)
def _sentence_hits(sentence: str, terms: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """`term_hits` of a sentence, remembered: questions of a kind share their terms."""
    return tuple(term_hits(sentence_words(sentence), terms))


def _quantity_candidates(
    analysis: QuestionAnalysis, sentence: str, o: ExtractOptions
) -> list[Candidate]:
    words = sentence_words(sentence)
    quotes = quoted_spans(sentence)
    stems = keyword_stems(analysis.keywords)
    other_events = _other_events(analysis.target_terms)
    existential = bool(re.search(r"\bthere\b", analysis.text, re.I))
    wanted = _wanted_unit_of(analysis.text)
    # Computed once per sentence so a long passage costs words x mentions at most.
    target_hits = _sentence_hits(sentence, analysis.target_terms)
    event_hits = _sentence_hits(sentence, other_events)
    anywhere = {k for w in words for k in stems if matches(w.lower, k)}
    breaks = [m.end() for m in _CLAUSE_BREAK_RE.finditer(sentence)]
    word_starts = [w.start for w in words]
    word_ends = [w.end for w in words]
    candidates = []
    for mention in find_quantities(sentence):
        first = bisect_right(word_ends, mention.start)
        last = bisect_left(word_starts, mention.end) - 1
        has_target = bool(analysis.target_terms)
        score = o.count_base + _count_link(words, first, last, target_hits, has_target, o)
        score += _keyword_bonus(words, first, last, stems, anywhere, o)
        before = sentence[max(0, mention.start - o.existential_chars) : mention.start]
        if existential and re.search(r"\bthere\s+(?:were|was|are|is)\s+$", before, re.I):
            score += o.existential
        link = _count_link(words, first, last, event_hits, True, o, weighted=False)
        if link >= o.other_event_link:
            score -= o.other_event
        if inside(mention.start, mention.end, quotes):
            score -= o.quoted_count
        if _in_subordinate_clause(words, breaks, word_starts, mention.start):
            score -= o.subordinate
        score -= _vagueness(mention, o)
        score += _unit_fit(wanted, mention, o)
        start, end, text = mention.start, mention.end, mention.text
        if _names_target_noun(analysis, mention):
            # "How many teams?" -> "two", not "two teams": the noun is the question's.
            end = mention.start + len(mention.figure)
            text = sentence[start:end]
        candidates.append(Candidate(text, start, end, mention.value, score))
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


def _unit_fit(wanted: str | None, mention: QuantityMention, o: ExtractOptions) -> float:
    """`o.unit_fit` for a figure in the unit the question asks for; one in another unit
    ("89 pct" for a price) is no answer to it."""
    if wanted is None:
        return 0.0
    if _UNIT_CLASSES[wanted].search(mention.text):
        return o.unit_fit
    if any(p.search(mention.text) for k, p in _UNIT_CLASSES.items() if k != wanted):
        return -o.wrong_unit
    return 0.0


def _names_target_noun(analysis: QuestionAnalysis, mention: QuantityMention) -> bool:
    """Whether the noun after the figure is the question's counted noun."""
    if (
        not analysis.target_terms
        or analysis.target is None
        or len(mention.figure) >= len(mention.text)
    ):
        return False
    noun = mention.text[len(mention.figure) :].split()
    return bool(noun) and matches(noun[-1].lower(), analysis.target_terms[0])


def _count_link(
    words: Sequence[Word],
    first: int,
    last: int,
    hits: Sequence[tuple[int, int]],
    has_terms: bool,
    o: ExtractOptions,
    *,
    weighted: bool = True,
) -> float:
    """How directly a count phrase (words first..last) attaches to a term hit."""
    if not has_terms:
        return o.no_target_link  # nothing to attach to ("how many are there?"): any count will do
    best = 0.0
    for index, term_index in hits:
        # Synonyms further down the list count less ("people" below "protesters").
        weight = max(o.synonym_floor, 1.0 - o.synonym_step * term_index) if weighted else 1.0
        between = words[last + 1 : index]
        if first <= index <= last:
            strength = o.noun_link * weight  # the counted noun is the target: "6,000 protesters"
        elif (
            index > last
            and len(between) <= o.link_words
            and all(w.lower in _LINK_WORDS for w in between)
        ):
            strength = o.subject_link  # "10 demonstrators were injured", "25 people died"
        elif index == first - 1:
            strength = o.object_link  # "injured at least 10 protesters"
        elif index == first - 2 and words[first - 1].lower == "of":
            strength = o.of_link * weight  # "a crowd of thousands", "a death toll of 25"
        elif index + 1 < first <= index + o.toll_words and words[index + 1].lower == "toll":
            strength = o.toll_link  # "the death toll rose to 40"
        elif min(abs(index - first), abs(index - last)) <= o.near_words:
            strength = o.near_link
        else:
            strength = o.far_link
        best = max(best, strength)
    return best


_UNINFORMATIVE_RE = re.compile(r"\b(?:many|numerous|several|a few|a couple|a handful)\b", re.I)
_BROAD_RE = re.compile(r"\b(?:dozens|hundreds|thousands|millions|billions|scores|tens)\b", re.I)


def _vagueness(mention: QuantityMention, o: ExtractOptions) -> float:
    if _UNINFORMATIVE_RE.search(mention.figure):
        return o.vague_uninformative
    if _BROAD_RE.search(mention.figure):
        return o.vague_broad
    return 0.0


def _keyword_bonus(
    words: Sequence[Word],
    first: int,
    last: int,
    stems: tuple[str, ...],
    anywhere: set[str],
    o: ExtractOptions,
) -> float:
    """Up to `o.keyword_most` for question keywords within `o.keyword_words` words,
    `o.keyword_elsewhere` for others in the sentence."""
    reach = o.keyword_words
    near = {
        k
        for w in words[max(0, first - reach) : last + reach + 1]
        for k in stems
        if matches(w.lower, k)
    }
    return min(o.keyword_most, o.keyword * len(near)) + (
        o.keyword_elsewhere if anywhere - near else 0.0
    )


# --- date ----------------------------------------------------------------------------------


def _date_candidates(
    analysis: QuestionAnalysis, sentence: str, o: ExtractOptions
) -> list[Candidate]:
    words, quotes, spots = reading(analysis, sentence)
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
        score = o.date_base + keyword_proximity(spots, start, end, o) * o.date_proximity
        if re.search(r"\d", text):
            score += o.calendar  # a calendar date beats a weekday or "last month"
        if inside(start, end, quotes):
            score -= o.quoted
        candidates.append(Candidate(text, start, end, None, score))
    return candidates


# --- category ------------------------------------------------------------------------------


def _category_candidates(
    analysis: QuestionAnalysis, sentence: str, o: ExtractOptions
) -> list[Candidate]:
    """ "What kind of flags": the words that modify "flags" in the sentence."""
    words = sentence_words(sentence)
    candidates = []
    for index, _ in term_hits(words, analysis.target_terms):
        first = index
        while (
            first > 0
            and index - first < o.category_words
            and words[first - 1].lower not in stopwords()
            and words[first - 1].end + 2 >= words[first].start  # no punctuation between
        ):
            first -= 1
        if first == index:
            continue
        start, end = words[first].start, words[index].end
        candidates.append(Candidate(sentence[start:end], start, end, None, o.category))
    candidates.extend(phrase_candidates(analysis, sentence, o))
    return candidates


_EXTRACTORS: dict[str, Callable[[QuestionAnalysis, str, ExtractOptions], list[Candidate]]] = {
    "quantity": _quantity_candidates,
    "person": person_candidates,
    "organization": organization_candidates,
    "place": place_candidates,
    "date": _date_candidates,
    "category": _category_candidates,
    "other": phrase_candidates,
}
