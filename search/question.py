"""What a question asks for: answer type, the thing asked about, and its signal words.

Rules, in order (the first that matches wins):

1. count: "how many", "how much", "number of", "death toll".
2. organization: "which/what <group|militia|organization|agency|outlet|...>".
3. place: "where", or "which/what <country|city|nation|...>". "Which country backs
   the militia?" is a place question: the answer names a country ("Iran-backed").
4. date: "when", "what time/day/date/year/month", "on what day".
5. person: "who/whom/whose" ("Who is Stephanie Grisham?" asks for a description
   instead, so it is "other").
6. other: everything else; the caller answers with the whole sentence.

`target` is what is asked about: the event for casualty questions ("injured",
"killed"), the counted noun otherwise ("protesters"), the role for "who is the
..." ("white house press secretary"), the subject of a "where" question
("u.s. ambassador"), the kind of thing for "which <noun>" ("country", "group").
`target_terms` are lowercase stems that signal the target in a sentence, matched
as word prefixes, most specific first (for a role: the head noun, then its
modifiers nearest first). `keywords` are the remaining content words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

AnswerType = Literal["count", "person", "organization", "place", "date", "other"]


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    answer_type: AnswerType
    target: str | None
    target_terms: tuple[str, ...]
    keywords: tuple[str, ...]


def analyze_question(question: str) -> QuestionAnalysis:
    """Classify `question` and name what it asks about; pure rules, no model."""
    words = _words(question)
    lower = " ".join(words)
    for rule in (_count, _organization, _place, _date, _person):
        analysis = rule(question, words, lower)
        if analysis is not None:
            return analysis
    return QuestionAnalysis(question, "other", None, (), _keywords(words, ()))


# Casualty and similar events: a question word (as a prefix) -> canonical target.
_EVENT_WORDS: tuple[tuple[str, str], ...] = (
    ("injur", "injured"),
    ("wound", "injured"),
    ("hurt", "injured"),
    ("kill", "killed"),
    ("died", "killed"),
    ("die", "killed"),
    ("dead", "killed"),
    ("death", "killed"),
    ("slain", "killed"),
    ("arrest", "arrested"),
    ("detain", "arrested"),
    ("evacuat", "evacuated"),
    ("displac", "displaced"),
    ("missing", "missing"),
)
_EVENT_TERMS: dict[str, tuple[str, ...]] = {
    "injured": ("injur", "wound", "hurt", "hospitali"),
    "killed": ("kill", "dead", "death", "die", "slain", "fatalit"),
    "arrested": ("arrest", "detain", "detention", "custody"),
    "evacuated": ("evacuat",),
    "displaced": ("displac", "fled", "flee", "refugee"),
    "missing": ("missing",),
}
# Counted nouns with their synonyms, most specific first; a question word found
# here brings its whole family (its own stem first).
_NOUN_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("protester", "demonstrator", "crowd", "people", "supporter", "mourner", "marcher"),
    ("troop", "soldier", "service member", "personnel", "forces"),
    ("fighter", "militiamen", "member", "militant"),
    ("airstrike", "strike", "raid"),
    ("people", "person", "civilian"),
)
_ORG_NOUNS: dict[str, tuple[str, ...]] = {
    "group": ("group", "militia", "organization", "faction", "movement"),
    "militia": ("militia", "group", "faction"),
    "organization": ("organization", "organisation", "group"),
    "organisation": ("organisation", "organization", "group"),
    "faction": ("faction", "group", "militia"),
    "movement": ("movement", "group"),
    "party": ("party",),
    "agency": ("agency",),
    "outlet": ("outlet", "newspaper", "agency", "network", "news"),
    "newspaper": ("newspaper", "outlet"),
    "network": ("network", "outlet"),
    "company": ("company", "firm"),
    "department": ("department",),
    "ministry": ("ministry",),
}
_PLACE_NOUNS: dict[str, tuple[str, ...]] = {
    "country": ("country", "nation"),
    "nation": ("nation", "country"),
    "city": ("city", "capital", "town"),
    "town": ("town", "city"),
    "capital": ("capital", "city"),
    "province": ("province", "region"),
    "region": ("region", "province"),
    "place": ("place",),
    "area": ("area", "district"),
    "neighborhood": ("neighborhood", "district"),
}
_PREPOSITIONS = frozenset(
    "during in on at to of for from with by after before near inside outside since until "
    "about against over under".split()
)
_AUXILIARIES = frozenset("is are was were be been do does did has have had will would".split())
_STOPWORDS = frozenset(
    """how many much what which who whom whose when where why is are was were be been being do
    does did has have had will would can could should may might must shall the a an of to in on
    at for by with from about into during after before over under than that this these those
    there here it its they them their he she his her we you i and or but not no as if so up out
    also number toll""".split()
)
_WORD_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[A-Za-z0-9][A-Za-z0-9’'-]*")


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD_RE.findall(text)]


def _keywords(words: list[str], exclude: tuple[str, ...]) -> tuple[str, ...]:
    seen: list[str] = []
    for word in words:
        if word in _STOPWORDS or word in exclude or word in seen:
            continue
        seen.append(word)
    return tuple(seen)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _count(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    match = re.search(r"\bhow (?:many|much)\b|\bnumber of\b|\bdeath toll\b", lower)
    if match is None:
        return None
    rest = lower[match.end() :].split()
    if "toll" in lower.split() and "death" in lower.split():
        return QuestionAnalysis(
            question, "count", "killed", _EVENT_TERMS["killed"], _keywords(words, ("death",))
        )
    for word in rest:
        for prefix, event in _EVENT_WORDS:
            if word.startswith(prefix):
                return QuestionAnalysis(
                    question, "count", event, _EVENT_TERMS[event], _keywords(words, (word,))
                )
    # No event: the counted noun is the last word before the verb ("how many protesters were").
    noun_phrase: list[str] = []
    for word in rest:
        if word in _AUXILIARIES or word in _PREPOSITIONS or (noun_phrase and word.endswith("ed")):
            break  # "how many demonstrators gathered": a past-tense verb ends the noun phrase
        noun_phrase.append(word)
    if not noun_phrase:
        return QuestionAnalysis(question, "count", None, (), _keywords(words, ()))
    head = noun_phrase[-1]
    stem = _singular(head)
    family = next((f for f in _NOUN_FAMILIES if stem in f), (stem,))
    terms = (stem, *[t for t in family if t != stem])
    return QuestionAnalysis(question, "count", head, terms, _keywords(words, (head,)))


def _which_noun(lower: str, nouns: dict[str, tuple[str, ...]]) -> str | None:
    match = re.search(r"\b(?:which|what)\s+(?:\w+\s+)?(\w+)", lower)
    if match is None:
        return None
    # "which news agency", "what armed group": allow one modifier before the noun.
    for candidate in (match.group(1), lower[match.start() :].split()[1]):
        if _singular(candidate) in nouns:
            return _singular(candidate)
    return None


def _organization(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    noun = _which_noun(lower, _ORG_NOUNS)
    if noun is None:
        return None
    exclude = (noun, noun + "s")
    return QuestionAnalysis(
        question, "organization", noun, _ORG_NOUNS[noun], _keywords(words, exclude)
    )


def _place(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    noun = _which_noun(lower, _PLACE_NOUNS)
    if noun is not None:
        exclude = (noun, noun + "s")
        return QuestionAnalysis(
            question, "place", noun, _PLACE_NOUNS[noun], _keywords(words, exclude)
        )
    if not re.search(r"\bwhere\b", lower):
        return None
    subject = _subject_after_auxiliary(lower.split(), "where")
    if not subject:
        return QuestionAnalysis(question, "place", None, (), _keywords(words, ()))
    terms = (_singular(subject[-1]), *reversed(subject[:-1]))
    return QuestionAnalysis(
        question, "place", " ".join(subject), terms, _keywords(words, tuple(subject))
    )


def _subject_after_auxiliary(words: list[str], wh: str) -> list[str]:
    """The noun phrase between "<wh> <aux>" and the next preposition, without determiners."""
    if wh not in words:
        return []
    rest = words[words.index(wh) + 1 :]
    if not rest or rest[0] not in _AUXILIARIES:
        return []
    do_support = rest[0] in ("do", "does", "did")
    phrase: list[str] = []
    for word in rest[1:]:
        if word in _PREPOSITIONS:
            break
        phrase.append(word)
    if len(phrase) > 1:
        # "where did the protesters set up tents", "where is Kataib Hezbollah based":
        # a verb may follow the subject; without a tagger, end the subject at its
        # first plural noun, or drop a last word that is a verb or participle.
        plural = next(
            (i for i, w in enumerate(phrase) if i > 0 and "'" not in w and _singular(w) != w),
            None,
        )
        if plural is not None:
            phrase = phrase[: plural + 1]
        elif do_support or phrase[-1].endswith(("ed", "en")):
            phrase = phrase[:-1]
    return [w for w in phrase if w not in ("the", "a", "an")]


_DATE_RE = re.compile(
    r"^when\b|\bwhen (?:is|was|were|did|does|do|will)\b"
    r"|\b(?:what|which) (?:time|day|date|year|month)\b"
)


def _date(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    if not _DATE_RE.search(lower):
        return None
    return QuestionAnalysis(question, "date", None, (), _keywords(words, ("time", "day", "date")))


def _person(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    if not re.search(r"\b(?:who|whom|whose)\b", lower):
        return None
    match = re.search(r"\bwho(?:'s|’s|\s+is|\s+was|\s+are|\s+were)\s+(?P<role>.+)", question, re.I)
    if match is None:
        return QuestionAnalysis(question, "person", None, (), _keywords(words, ()))
    role_text = match.group("role")
    if re.match(r"[A-Z]", role_text) and not re.match(r"(?:(?:The|A|An)\b|\S+['’]s\b)", role_text):
        # "Who is Stephanie Grisham?" asks for a description, not a name.
        return QuestionAnalysis(question, "other", None, (), _keywords(words, ()))
    phrase = _words(role_text)
    if phrase and phrase[0] in ("the", "a", "an"):
        phrase = phrase[1:]
    if not phrase or phrase[0].endswith(("ing", "ed")):
        # "Who was leading the march?": a verb, not a role.
        return QuestionAnalysis(question, "person", None, (), _keywords(words, ()))
    core: list[str] = []
    for word in phrase:
        if word in _PREPOSITIONS:
            break
        core.append(word)
    tail = [w for w in phrase[len(core) :] if w not in _STOPWORDS]
    terms = (core[-1], *reversed(core[:-1]), *tail)
    return QuestionAnalysis(question, "person", " ".join(core), terms, _keywords(words, terms))
