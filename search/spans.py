"""What every span extractor of `search.extract` shares: the tuning (`ExtractOptions`), a
scored candidate span, how a word signals a question's term, the asked role of the
question's verb, the question's keywords near a span, and free phrases of a sentence."""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache
from typing import NamedTuple

from index.text import BE_FORMS, Word, inside, lemma, quoted_spans, stem, stopwords
from index.text import words as sentence_words
from search.claims import Quantity
from search.question import PERSON_NOUN, QuestionAnalysis, is_person_noun


@dataclass(frozen=True)
class ExtractOptions:
    """The tuning of span extraction: each score is on the 0..1 scale of `extract_answer`;
    reaches and windows are counted in words or characters as named."""

    # A span must score above this to be returned; below it the sentence does not answer.
    min_score: float = 0.4
    # A candidate inside quotation marks loses this much: the words are someone else's.
    quoted: float = 0.2

    # --- the verb's roles
    # Words between a candidate and the verb it is an argument of.
    role_reach: int = 8
    # Words before a verb where a form of "be" makes it passive ("was injured").
    passive_reach: int = 3
    # A candidate in the asked role of the question's verb gains this much ...
    role_fit: float = 0.3
    # ... and one in the other role loses this much.
    role_misfit: float = 0.2

    # --- question keywords near a span
    # Keywords within this many characters of a span give full credit ...
    near_chars: int = 40
    # ... within this many (a nearby clause) `nearby_credit`, farther none.
    nearby_chars: int = 200
    nearby_credit: float = 0.5
    # The most keyword proximity adds to a score.
    proximity: float = 0.4

    # --- quantities
    # Every count phrase starts at this score.
    count_base: float = 0.2
    # Characters before a figure searched for "there were" when the question asks "how many
    # ... are there", and what it adds.
    existential_chars: int = 30
    existential: float = 0.1
    # A figure linked at least this strongly to another event's word ("25 killed" for "how
    # many were injured?") answers a different question and loses `other_event`.
    other_event_link: float = 0.5
    other_event: float = 0.4
    # A quoted figure loses this much.
    quoted_count: float = 0.3
    # A figure in a subordinate clause loses this much.
    subordinate: float = 0.1
    # "many", "several" say nothing about the size; "dozens", "thousands" a conventional
    # range, still informative.
    vague_uninformative: float = 0.3
    vague_broad: float = 0.05
    # A figure in the unit the question asks for gains this much; one in another unit
    # ("89 pct" for a price) loses `wrong_unit`.
    unit_fit: float = 0.35
    wrong_unit: float = 0.6
    # How a count attaches to the question's target (`_count_link`): with no target any
    # count gets `no_target_link`.
    no_target_link: float = 0.1
    # Synonyms further down the target's terms count `synonym_step` less each, down to
    # `synonym_floor` ("people" below "protesters").
    synonym_step: float = 0.05
    synonym_floor: float = 0.7
    # The counted noun is the target: "6,000 protesters".
    noun_link: float = 0.5
    # The target verb follows across at most `link_words` linking words: "10 demonstrators
    # were injured".
    link_words: int = 3
    subject_link: float = 0.6
    # The target verb just before the count: "injured at least 10 protesters".
    object_link: float = 0.5
    # The target noun then "of": "a crowd of thousands", "a death toll of 25".
    of_link: float = 0.5
    # "the death toll rose to 40": the count within `toll_words` words after "toll".
    toll_words: int = 5
    toll_link: float = 0.5
    # A target word within `near_words` words, and one farther in the sentence.
    near_words: int = 6
    near_link: float = 0.2
    far_link: float = 0.1
    # Question keywords within `keyword_words` words of a figure add `keyword` each, up to
    # `keyword_most`; keywords elsewhere in the sentence add `keyword_elsewhere`.
    keyword_words: int = 5
    keyword: float = 0.1
    keyword_most: float = 0.15
    keyword_elsewhere: float = 0.05

    # --- names: people and organisations
    # A capitalised word that opens a sentence is no name when it is this common in English
    # (wordfreq Zipf), or a plural of such a word longer than `plural_chars` letters.
    common_zipf: float = 4.0
    plural_chars: int = 4
    # Characters before a word searched for a sentence's start.
    opener_chars: int = 4
    # A role's head noun alone matches `role_head`; its modifiers next to it (within
    # `modifier_words` words) add up to `role_modifiers`; another office with the same head
    # ("Prime Minister" for "interior minister") matches `other_office`.
    role_head: float = 0.6
    role_modifiers: float = 0.4
    modifier_words: int = 4
    other_office: float = 0.15
    # A name is apposed to a role ("His press secretary, Stephanie Grisham") across at most
    # this many characters and words.
    apposition_chars: int = 80
    apposition_words: int = 6
    # A name within `role_chars` characters of the role but not apposed to it matches
    # `unlinked_role` of the role.
    role_chars: int = 200
    unlinked_role: float = 0.2
    # A name of two words or more is likelier a person's.
    full_name: float = 0.1
    # A person's score: `person_linked` plus `role_link` times the role's match when the
    # question names a role, else `person_base` plus the keyword proximity.
    person_linked: float = 0.15
    role_link: float = 0.7
    person_base: float = 0.25
    # An organisation's score: `org_base`, `org_kind` times how much it looks like one
    # (1 with an organisation word or an acronym, else `org_unmarked`), and `org_link`
    # times its link to the asked kind (1 for "a group called X", `kind_after` for "X
    # militia"), read in `org_before_chars` characters before and `org_after_chars` after.
    org_base: float = 0.15
    org_kind: float = 0.3
    org_unmarked: float = 0.4
    org_link: float = 0.3
    kind_after: float = 0.8
    org_before_chars: int = 40
    org_after_chars: int = 30

    # --- places
    # A place in the asked role: `place_base`, the role fit, and `place_proximity` times
    # the keyword proximity; a town followed by its region ("Timmins, Ontario") gains
    # `region`, a name right after a comma loses `after_comma`.
    place_base: float = 0.25
    place_proximity: float = 0.5
    region: float = 0.15
    after_comma: float = 0.1
    # "Calgary-based Acme": `based_base`, `based_proximity` times the keyword proximity over
    # the name and `based_chars` characters after, `based_subject` when the asked subject
    # follows within them.
    based_base: float = 0.3
    based_proximity: float = 0.4
    based_chars: int = 12
    based_subject: float = 0.3
    # "X was out of the country": `copula_base`, and `copula_subject` (plus `copula_role`
    # times the role's match) when the asked subject ends within `subject_chars` characters
    # before the verb.
    copula_base: float = 0.2
    copula_subject: float = 0.5
    copula_role: float = 0.1
    subject_chars: int = 80
    # "in Baghdad": `in_place_base`, `in_place_proximity` times the keyword proximity,
    # `gazetteer` for a known place, `subject_near` with the asked subject within
    # `role_chars` characters.
    in_place_base: float = 0.2
    in_place_proximity: float = 0.4
    gazetteer: float = 0.1
    subject_near: float = 0.15
    # "Iran-backed" (`agent_adjective`) and "backed by Iran" (`agent_passive`) for "which
    # country backs ...?", `agent_object` more with the verb's object within
    # `adjective_chars` characters after or `passive_chars` before; question stems shorter
    # than `verb_chars` are no verb.
    agent_adjective: float = 0.7
    agent_passive: float = 0.6
    agent_object: float = 0.2
    adjective_chars: int = 40
    passive_chars: int = 60
    verb_chars: int = 3

    # --- dates
    # A date's score: `date_base` and `date_proximity` times the keyword proximity; a
    # calendar date (with a figure) gains `calendar` over a weekday or "last month".
    date_base: float = 0.3
    date_proximity: float = 1.25
    calendar: float = 0.05

    # --- categories and free phrases
    # "What kind of flags": up to `category_words` words before the kind, scoring
    # `category`.
    category_words: int = 3
    category: float = 0.6
    # A phrase is at most `phrase_words` words; a run longer than `run_words` is none.
    phrase_words: int = 6
    run_words: int = 12
    # A phrase's score: `phrase_base`, less `phrase_word` a word, with the keyword
    # proximity and role fit; a capitalised word adds `shape_name`, a figure `shape_figure`,
    # and a lone lower-case word loses `shape_lone`.
    phrase_base: float = 0.2
    phrase_word: float = 0.02
    shape_name: float = 0.15
    shape_figure: float = 0.1
    shape_lone: float = 0.15

    # --- reported speech ("What did X say?", `search.speech`)
    # A pronoun subject ("he wrote") right after a sentence whose subject is the speaker
    # counts this much of a named speaker.
    pronoun_speaker: float = 0.7
    # Another speech verb than the one asked ("said" for "tweet") counts this much of it.
    other_speech_verb: float = 0.4
    # A speech verb within this many characters after the speaker's name makes it the
    # subject ("X, 52, told"); so does standing among the sentence's first `subject_words`.
    speaker_verb_chars: int = 40
    subject_words: int = 6

    def __hash__(self) -> int:
        # The options key caches of the sentence readers (`search.names._names`): hashing
        # ~100 fields on every call took 12 us, so the hash is computed once.
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in fields(self)))


EXTRACT = ExtractOptions()


@dataclass(frozen=True)
class Candidate:
    text: str
    start: int
    end: int
    value: Quantity | None
    score: float


def unquoted(
    candidate: Candidate, quotes: Sequence[tuple[int, int]], o: ExtractOptions
) -> Candidate:
    if not inside(candidate.start, candidate.end, quotes):
        return candidate
    c = candidate
    return Candidate(c.text, c.start, c.end, c.value, c.score - o.quoted)


# --- question terms ------------------------------------------------------------------------


# A term this short or shorter matches a whole word (or its stem), not every word it starts:
# "die" is no prefix of "diet".
_EXACT_TERM_CHARS = 3


@lru_cache(maxsize=1 << 16)
def matches(word: str, term: str) -> bool:
    """A sentence word signals a term (a stem): prefix match, exact for short terms."""
    if " " in term:
        return False  # multi-word terms are matched on the text, see term_hits
    if term == PERSON_NOUN:
        return is_person_noun(word)
    term = term.lower()
    if len(term) <= _EXACT_TERM_CHARS:
        return word == term or stem(word) == term
    # A stem is not always a prefix of its words ("ferri" for "ferry").
    return word.startswith(term) or stem(word) == term


def term_hits(words: Sequence[Word], terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """(word index, term index) for every word that signals one of `terms`."""
    hits = []
    for i, word in enumerate(words):
        for t, term in enumerate(terms):
            if " " in term:
                parts = term.split()
                window = [w.lower for w in words[i : i + len(parts)]]
                if len(window) == len(parts) and all(
                    matches(w, p) for w, p in zip(window, parts, strict=True)
                ):
                    hits.append((i, t))
                    break
            elif matches(word.lower, term):
                hits.append((i, t))
                break
    return hits


def keyword_stems(keywords: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(stem(k) for k in keywords if stem(k)))


# --- the verb's roles --------------------------------------------------------------------------


@lru_cache(maxsize=1 << 14)  # asked once per candidate of the sentence
def _verb_positions(sentence: str, verb: str, reach: int) -> tuple[tuple[int, bool], ...]:
    """(word index, passive?) of each occurrence of the question's verb in the sentence; a
    form of "be" up to `reach` words before it makes it passive."""
    words = sentence_words(sentence)
    found = []
    for i, word in enumerate(words):
        if stem(word.lower) != verb and stem(lemma(word.lower)) != verb:
            continue  # "sang" is the question's "sing" by its lemma
        before = [w.lower for w in words[max(0, i - reach) : i]]
        passive = any(b in BE_FORMS for b in before) and word.lower.endswith(("ed", "en", "t"))
        found.append((i, passive))
    return tuple(found)


def role_fit(
    analysis: QuestionAnalysis,
    words: Sequence[Word],
    start: int,
    end: int,
    text: str,
    o: ExtractOptions,
) -> float:
    """`o.role_fit` for a candidate in the asked role of the question's verb, minus
    `o.role_misfit` in the other."""
    if analysis.verb is None:
        return 0.0
    positions = _verb_positions(text, analysis.verb, o.passive_reach)
    if not positions:
        return 0.0
    starts = [w.start for w in words]
    first = bisect_left(starts, start)
    last = max(first, bisect_left(starts, end) - 1)
    fits: list[bool] = []
    for index, passive in positions:
        if last < index and index - last <= o.role_reach:
            gap = text[words[last].end : words[index].start]
            if re.search(r"[.;:!?]", gap):
                continue
            # Before the verb: the agent of an active sentence, the patient of a passive one.
            role = "patient" if passive else "agent"
        elif first > index and first - index <= o.role_reach:
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
        return o.role_fit
    return -o.role_misfit if fits else 0.0


# --- keyword proximity ---------------------------------------------------------------------------


def keyword_spots(
    words: Sequence[Word], stems: tuple[str, ...]
) -> dict[str, list[tuple[int, int]]]:
    """Where each question keyword occurs: sorted (start, end) offsets per stem."""
    return {k: [(w.start, w.end) for w in words if matches(w.lower, k)] for k in stems}


class Reading(NamedTuple):
    """A sentence as the candidate finders read it: its words, its quoted spans, and where
    each question keyword occurs in it."""

    words: tuple[Word, ...]
    quotes: tuple[tuple[int, int], ...]
    spots: dict[str, list[tuple[int, int]]]


def reading(analysis: QuestionAnalysis, sentence: str) -> Reading:
    words = sentence_words(sentence)
    spots = keyword_spots(words, keyword_stems(analysis.keywords))
    return Reading(words, quoted_spans(sentence), spots)


def keyword_proximity(
    spots: dict[str, list[tuple[int, int]]], start: int, end: int, o: ExtractOptions
) -> float:
    """Up to `o.proximity` for question keywords around a span: full credit within
    `o.near_chars` characters, `o.nearby_credit` within `o.nearby_chars` (a nearby clause),
    none farther (another sentence of a passage)."""
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
        if distance <= o.near_chars:
            total += 1.0
        elif distance <= o.nearby_chars:
            total += o.nearby_credit
    return o.proximity * total / len(spots)


# --- free phrases --------------------------------------------------------------------------

_PHRASE_BREAK_RE = re.compile(r"[,;:()\"“”—–]|(?<![A-Z])[.!?](?=\s|$)")
# Words that open a clause's predicate, not a noun phrase: a phrase does not start with them.
_VERBISH = frozenset("said says told added according also was were is are has have had".split())


def phrase_candidates(
    analysis: QuestionAnalysis, sentence: str, o: ExtractOptions, *, role_only: bool = False
) -> list[Candidate]:
    """Runs of the sentence's words outside the question, between punctuation and the
    question's words, trimmed of function words, nearest the question's words first.

    Hand-written: no library here gives constituents without a parser; a run between
    the words the question shares with the sentence is where the answer usually stands.
    """
    words = sentence_words(sentence)
    if not words:
        return []
    spots = keyword_spots(words, keyword_stems(analysis.keywords))
    candidates = []
    for run in _runs(analysis, sentence, words, o):
        start, end = words[run[0]].start, words[run[-1]].end
        fit = role_fit(analysis, words, start, end, sentence, o)
        if role_only and fit <= 0:
            continue
        score = o.phrase_base + keyword_proximity(spots, start, end, o) + fit
        score -= o.phrase_word * len(run)
        score += _phrase_shape(sentence, [words[i] for i in run], o)
        candidates.append(Candidate(sentence[start:end], start, end, None, score))
    return candidates


def _runs(
    analysis: QuestionAnalysis, sentence: str, words: Sequence[Word], o: ExtractOptions
) -> list[list[int]]:
    """The runs of word indexes between punctuation and the question's words, trimmed of
    function words and cut to `o.phrase_words`; a run longer than `o.run_words` is none."""
    asked = analysis.stems
    stop = stopwords()
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
    trimmed = []
    for run in runs:
        while run and (words[run[0]].lower in stop or words[run[0]].lower in _VERBISH):
            run = run[1:]
        while run and words[run[-1]].lower in stop:
            run = run[:-1]
        if not run or len(run) > o.run_words:
            continue
        if len(run) > o.phrase_words:
            run = run[: o.phrase_words]
            while run and words[run[-1]].lower in stop:
                run = run[:-1]
        trimmed.append(run)
    return trimmed


def _phrase_shape(sentence: str, run: Sequence[Word], o: ExtractOptions) -> float:
    """Names, figures and quoted titles make answers; a lone lower-case word seldom does."""
    first = run[0]
    capitalised = [w for w in run if sentence[w.start].isupper() and w.start > 0]
    if capitalised and not (len(run) == 1 and first.lower in stopwords()):
        return o.shape_name
    if any(sentence[w.start].isdigit() for w in run):
        return o.shape_figure
    if len(run) == 1:
        return -o.shape_lone
    return 0.0
