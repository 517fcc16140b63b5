"""What a question asks for: answer type, the thing asked about, its verb and signal words.

Rules over general English question forms, in order (the first that matches wins):

1. yes_no: the question opens with an auxiliary ("Were staff evacuated?", "Did Iran deny
   it?"); the answer is the sentence that settles it.
2. quantity: "how many/much", "how large/big/long/old/far/tall/...", "what percentage",
   "what is the population/number/size/share/amount/cost/... of", "death toll".
3. date: "when", "what/which year/day/date/month/time/decade/century", "in what year".
4. reason: "why", "for what reason", "what caused/prompted/led to"; manner: other "how".
5. category: "what kind/type/sort/form of", "what sport/genre/language/..."
6. organization: "which/what <group|company|party|agency|team|...>".
7. place: "where", "which/what <country|city|state|river|...>", "what is the location of".
8. person: "who/whom/whose", "what is the name of the <role>" ("Who is Stephanie Grisham?"
   asks for a description instead, so it is "other").
9. other: everything else ("What did Trump say?" is answered by `search.speech`, other
   "what" questions by the phrase or the sentence that answers them).

`target` is what is asked about: the event for casualty counts ("injured", "killed"),
the counted or measured noun otherwise ("protesters", "population"), the role for
"who is the ..." ("white house press secretary"), the subject of a "where" question,
the kind for "which <noun>" ("country", "group"). `target_terms` are stems that
signal the target in a sentence, matched as word prefixes, most specific first.
`keywords` are the remaining content words. `verb` is the stem of the question's main
verb and `passive` its voice ("Who was blamed?" asks for the one blamed, "Who blamed
Iran?" for the one who blamed), so an extractor can tell the agent from the patient.
`stems` are the stems of every content word of the question: an answer is never a span
made only of them ("Who was blamed for the attack?" is not answered "the attack").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from index.text import (
    BE_FORMS,
    EVENT_TERMS,
    EVENT_WORDS,
    QUESTION_STOPWORDS,
    stem,
    stopwords,
    word_list,
)
from index.text import words as text_words

AnswerType = Literal[
    "quantity",
    "date",
    "person",
    "organization",
    "place",
    "category",
    "yes_no",
    "reason",
    "manner",
    "other",
]
# Types whose answer is a typed span with a value that can be compared across sources.
TYPED = frozenset({"quantity", "date", "person", "organization", "place"})
# Types answered by a whole sentence or clause: they never raise a conflict.
SENTENCE_TYPES = frozenset({"yes_no", "reason", "manner"})


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    answer_type: AnswerType
    target: str | None
    target_terms: tuple[str, ...]
    keywords: tuple[str, ...]
    verb: str | None = None  # stem of the main verb ("blame")
    passive: bool = False  # "who was blamed": asks for the patient of the verb
    stems: frozenset[str] = field(default_factory=frozenset)


def analyze_question(question: str) -> QuestionAnalysis:
    """Classify `question` and name what it asks about; pure rules, no model."""
    lead = _LEADING_CLAUSE_RE.match(question)
    if lead is not None:
        # "If the mine stays open, how long will it take ...": the question proper follows
        # the comma; the leading clause still gives keywords.
        asked = analyze_question(question[lead.end() :])
        head = [w for w in word_list(question[: lead.end()]) if w not in stopwords()]
        extra = _keywords(head, asked.target_terms)
        keywords = tuple(dict.fromkeys((*asked.keywords, *extra)))
        stems = asked.stems | {stem(w) for w in extra}
        return replace(asked, text=question, keywords=keywords, stems=frozenset(stems))
    words = word_list(question)
    lower = " ".join(words)
    analysis = next(
        (found for rule in _RULES if (found := rule(question, words, lower)) is not None),
        QuestionAnalysis(question, "other", None, (), _keywords(words, ())),
    )
    stop = stopwords() | QUESTION_STOPWORDS
    stems = frozenset(stem(w) for w in words if w not in stop)
    verb, passive = _main_verb(words, _capitalised(question))
    return replace(analysis, verb=verb, passive=passive, stems=stems)


# A clause before the question word: "If ..., how long", "Besides X, who", "In 1987, which".
_LEADING_CLAUSE_RE = re.compile(
    r"^(?!\s*(?:what|which|who|whom|whose|when|where|why|how)\b)[^,?]{3,}?,\s*"
    r"(?=(?:what|which|who|whom|whose|when|where|why|how)\b)",
    re.IGNORECASE,
)
_AUXILIARIES = frozenset(
    "is are was were be been being am do does did has have had will would can could should "
    "may might must shall".split()
)
_WH = frozenset("what which who whom whose when where why how".split())
_PREPOSITIONS = frozenset(
    "during in on at to of for from with by after before near inside outside since until "
    "about against over under into through between among across behind".split()
)


def _capitalised(question: str) -> frozenset[str]:
    """The lower-cased words the question writes with a capital, past its first word:
    names ("what did Lady Gaga sing": "lady", "gaga")."""
    found = [question[w.start : w.end] for w in text_words(question)][1:]
    return frozenset(w.lower().replace("’", "'") for w in found if w[:1].isupper())


def _main_verb(words: list[str], names: frozenset[str] = frozenset()) -> tuple[str | None, bool]:
    """The stem of the verb after the question word, and whether it is passive.

    "who was blamed for" -> (blame, passive); "who founded the" -> (found, active);
    "who did the police arrest" -> (arrest, passive: it asks for the patient).
    Without a tagger, a verb is a word ending in -ed/-en or following "did/does/do".
    """
    while words and words[0] in _PREPOSITIONS:
        words = words[1:]  # "in what year ...", "by whom ..."
    if not words or words[0] not in _WH:
        return None, False
    rest = words[1:]
    if words[0] in ("which", "what", "whose") and rest and rest[0] not in _AUXILIARIES:
        rest = rest[1:]  # "which country backs": the noun after the question word
    if rest and rest[0] in BE_FORMS and len(rest) > 1:
        nxt = rest[1]
        if nxt.endswith(("ed", "en")) or nxt in _IRREGULAR_PARTICIPLES:
            return stem(nxt), True
        return None, False
    if rest and rest[0] in ("did", "does", "do"):
        # "who did the police arrest": the words before a preposition hold the verb.
        run: list[str] = []
        for word in rest[1:]:
            if word in _PREPOSITIONS:
                break
            run.append(word)
        content = [w for w in run if w not in QUESTION_STOPWORDS and "." not in w]
        if not content:
            return None, False
        # "did protesters storm the embassy": subject, then verb; "did Lady Gaga sing": the
        # subject is the run of capitalised words, the verb the word after it.
        if content[0] in names:
            after = [w for w in content if w not in names]
            return (stem(after[0]), True) if after else (None, False)
        return stem(content[1] if len(content) > 1 else content[0]), True
    if (
        rest
        and rest[0] not in QUESTION_STOPWORDS
        and (rest[0].endswith(("ed", "s")) or rest[0] in _IRREGULAR_PAST)
    ):
        return stem(rest[0]), False
    return None, False


# Common irregular past forms and participles (general English, not a story's verbs).
_IRREGULAR_PAST = frozenset(
    """won led wrote made took gave found built began sold bought told said ran held brought
    became left lost met paid sent set shot struck fought caught chose drew drove flew hit
    kept knew laid overthrew rose saw sang shook spoke stole swore taught threw thought
    wore""".split()
)
_IRREGULAR_PARTICIPLES = frozenset(
    """won led written made taken given found built begun sold bought told said run held
    brought become left lost met paid sent set shot struck fought caught chosen drawn driven
    flown hit kept known laid overthrown risen seen sung shaken spoken stolen sworn taught
    thrown thought worn born hurt killed""".split()
)


def _keywords(words: list[str], exclude: tuple[str, ...]) -> tuple[str, ...]:
    seen: list[str] = []
    for word in words:
        if word in QUESTION_STOPWORDS or word in exclude or word in seen:
            continue
        seen.append(word)
    return tuple(seen)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _yes_no(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    if not words or words[0] not in _AUXILIARIES:
        return None
    return QuestionAnalysis(question, "yes_no", None, (), _keywords(words, ()))


# --- quantities ----------------------------------------------------------------------------

# Casualty and similar events: a question word (as a prefix) names the target
# (`index.text.EVENT_WORDS`), answered by the words a report uses for it (`EVENT_TERMS`).
# A counted noun that names people may be reported as "people" or "persons", or by any
# other noun for people (PERSON_NOUN, a target term that matches every one).
PERSON_NOUN = "<person>"
_PEOPLE = ("people", "person")
_PERSON_SUFFIXES = ("ers", "ors", "ists", "ians", "ants", "ents", "men", "ees", "ives")
# A word longer than this many letters with one of those endings names people; shorter
# ones seldom do ("ants", "hers", "omen").
_SUFFIXED_PERSON_CHARS = 5
_PERSON_NOUNS = frozenset(
    """people persons civilians soldiers troops residents children adults passengers
    students pupils fighters members staff personnel police officers victims workers
    crew citizens villagers inhabitants refugees""".split()
)
_MEASURE_ADJECTIVES = frozenset(
    "large big long old far tall high deep wide heavy fast often small short much many "
    "late early expensive".split()
)
_MEASURE_NOUNS = frozenset(
    """population number size share amount percentage percent proportion rate cost price
    value total area length height distance age toll budget capacity revenue sales profit
    loss debt output production income salary fee fine sum worth weight depth speed
    temperature magnitude figure count majority margin portion stake fee premium dividend
    payment bid offer estimate""".split()
)
_QUANTITY_RE = re.compile(
    r"^how (?:many|much)\b|\bhow (?:many|much)\b|\bnumber of\b|\bdeath toll\b"
    r"|^how (?P<adj>\w+)\b"
    r"|\b(?:what|which) (?P<share>percentage|percent|proportion|share|fraction|amount)\b"
    r"|\b(?:what|which) (?:is|was|are|were) (?:the |its |their |his |her )?(?:[\w-]+'s )?"
    r"(?P<noun>\w+(?: \w+)?)"
    r"|^(?:\w+ )?(?:what|which) (?P<direct>[\w'-]+(?: [\w'-]+)?(?: [\w'-]+)?)"
)


def _quantity(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    match = _QUANTITY_RE.search(lower)
    if match is None:
        return None
    adjective, noun = match.group("adj"), match.group("noun")
    if adjective is not None and adjective not in _MEASURE_ADJECTIVES:
        return None  # "how did ...", "how was ...": manner
    if "toll" in lower.split() and "death" in lower.split():
        return QuestionAnalysis(
            question, "quantity", "killed", EVENT_TERMS["killed"], _keywords(words, ("death",))
        )
    if match.group("share") is not None:
        return _measured(question, words, match.group("share"))
    if noun is None and match.group("direct") is not None:
        noun = match.group("direct")  # "what per-share price", "by what margin", "what fee"
        if match.group("direct").split()[0] in _ORG_NOUNS | _PLACE_NOUNS | _CATEGORY_NOUNS:
            return None
    if noun is not None:
        # "what is the population of", "what was the total cost of": either word may measure.
        measured = next((w for w in reversed(noun.split()) if w in _MEASURE_NOUNS), None)
        return None if measured is None else _measured(question, words, measured)
    rest = lower[match.end() :].split()
    if adjective is not None and adjective not in ("many", "much"):
        return QuestionAnalysis(question, "quantity", adjective, (), _keywords(words, (adjective,)))
    for word in rest:
        for prefix, event in EVENT_WORDS:
            if word.startswith(prefix):
                return QuestionAnalysis(
                    question, "quantity", event, EVENT_TERMS[event], _keywords(words, (word,))
                )
    # No event: the counted noun is the last word before the verb ("how many protesters were").
    noun_phrase: list[str] = []
    for word in rest:
        if word in _AUXILIARIES or word in _PREPOSITIONS or (noun_phrase and word.endswith("ed")):
            break  # "how many demonstrators gathered": a past-tense verb ends the noun phrase
        noun_phrase.append(word)
    if not noun_phrase:
        return QuestionAnalysis(question, "quantity", None, (), _keywords(words, ()))
    head = noun_phrase[-1]
    terms: tuple[str, ...] = (_singular(head),)
    if is_person_noun(head):
        # "How many protesters": "thousands of demonstrators" counts them too.
        terms = (*terms, *_PEOPLE, PERSON_NOUN)
    return QuestionAnalysis(question, "quantity", head, terms, _keywords(words, (head,)))


def is_person_noun(word: str) -> bool:
    """A plural noun that names people, by its ending ("protesters", "guardsmen") or as
    one of the general ones ("people", "troops")."""
    return word in _PERSON_NOUNS or (
        len(word) > _SUFFIXED_PERSON_CHARS and word.endswith(_PERSON_SUFFIXES)
    )


def _measured(question: str, words: list[str], noun: str) -> QuestionAnalysis:
    """ "What is the population of Quito?": the measured noun is the target."""
    terms = (_singular(noun),)
    if noun in ("percentage", "percent", "proportion", "share"):
        terms = (*terms, "pct", "percent", "%")
    return QuestionAnalysis(question, "quantity", noun, terms, _keywords(words, (noun,)))


# --- dates, reasons, manner, categories ------------------------------------------------------

_DATE_RE = re.compile(
    r"^when\b|\bwhen (?:is|was|were|did|does|do|will|had|has|have)\b|\bsince when\b"
    r"|\b(?:what|which) (?:\w+ )?(?:time|day|date|year|month|decade|century|season|period)\b"
    r"|\bon what (?:day|date)\b|\bin what (?:year|month|decade|century)\b"
)


def _date(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    if not _DATE_RE.search(lower):
        return None
    exclude = ("time", "day", "date", "year", "month", "decade", "century")
    return QuestionAnalysis(question, "date", None, (), _keywords(words, exclude))


_REASON_RE = re.compile(
    r"^why\b|\bwhy (?:did|does|do|is|are|was|were|has|have|had|would|will)\b|\bfor what reason\b"
    r"|\bwhat (?:was|is|were|are) the (?:reason|cause|motive)\b"
    r"|^what (?:caused|prompted|led to|triggered|sparked|motivated)\b"
)


def _reason(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    if _REASON_RE.search(lower):
        return QuestionAnalysis(question, "reason", None, (), _keywords(words, ()))
    if words and words[0] == "how":
        return QuestionAnalysis(question, "manner", None, (), _keywords(words, ()))
    return None


_CATEGORY_NOUNS = frozenset(
    """kind type sort form genre sport species language religion style breed brand model
    category class variety format instrument disease currency material weapon""".split()
)
_CATEGORY_RE = re.compile(
    r"^(?:\w+ )?(?:what|which) (?:(?P<noun>\w+)|\w+ (?P<noun2>\w+))(?: of (?:the )?(?P<of>\w+))?"
)


def _category(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    match = _CATEGORY_RE.match(lower)
    if match is None:
        return None
    noun = next(
        (n for n in (match.group("noun"), match.group("noun2")) if n in _CATEGORY_NOUNS), None
    )
    if noun is None:
        match = re.match(r"^(?:\w+ )?(?:what|which) (?:\w+ )?(?P<noun>\w+) of (?P<of>\w+)", lower)
        if match is None or match.group("noun") not in _CATEGORY_NOUNS:
            return None
        noun = match.group("noun")
    asked = match.group("of") if noun in ("kind", "type", "sort", "form", "variety") else noun
    if asked is None:
        return None
    head = _singular(asked)
    return QuestionAnalysis(
        question, "category", asked, (head,), _keywords(words, (noun, asked, asked + "s"))
    )


# --- organisations, places, people -----------------------------------------------------------

# "which <noun>" asks for an organisation: general English names of kinds of bodies.
_ORG_NOUNS = frozenset(
    """group organization organisation company firm corporation party agency militia faction
    movement union team club band network newspaper outlet channel station bank ministry
    department institution institute university college school court committee council
    body authority government army navy force forces airline publisher studio label
    charity foundation association alliance coalition league federation board""".split()
)
_PLACE_NOUNS = frozenset(
    """country countries nation city town capital province region state place area
    neighborhood neighbourhood district village island river continent location site
    venue port street border territory county""".split()
)


# Words after "which" or "what" searched for the asked kind of noun: the noun behind its
# modifiers ("which news agency", "what armed group").
_WHICH_NOUN_WORDS = 3


def _which_noun(lower: str, nouns: frozenset[str]) -> str | None:
    match = re.match(r"(?:\w+ )*?(?:which|what)\s+(?:\w+\s+)?(\w+)", lower)
    if match is None:
        return None
    after = lower[match.start() :].split()
    wh = next((i for i, w in enumerate(after) if w in ("which", "what")), 0)
    for candidate in after[wh + 1 : wh + 1 + _WHICH_NOUN_WORDS]:
        if candidate in nouns or _singular(candidate) in nouns:
            return _singular(candidate) if _singular(candidate) in nouns else candidate
    return None


def _organization(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    noun = _which_noun(lower, _ORG_NOUNS)
    if noun is None:
        return None
    after = lower.split()
    at = next((i for i, w in enumerate(after) if _singular(w) == noun or w == noun), None)
    if at is not None and at + 1 < len(after) and _is_role_noun(after[at + 1]):
        return None  # "which party leader", "which company president": a person
    return QuestionAnalysis(
        question, "organization", noun, (noun,), _keywords(words, (noun, noun + "s"))
    )


def _place(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    noun = _which_noun(lower, _PLACE_NOUNS)
    if noun is None and re.search(r"\bwhat (?:is|was|are|were) the location of\b", lower):
        noun = "location"
    if noun is not None:
        return QuestionAnalysis(
            question, "place", noun, (noun,), _keywords(words, (noun, noun + "s", "location"))
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
        # "where did the protesters set up tents", "where is the company based": a verb
        # may follow the subject; without a tagger, end the subject at its first plural
        # noun, or drop a last word that is a verb or participle.
        plural = next(
            (i for i, w in enumerate(phrase) if i > 0 and "'" not in w and _singular(w) != w),
            None,
        )
        light = next((i for i, w in enumerate(phrase) if i > 0 and w in _LIGHT_VERBS), None)
        if light is not None:
            phrase = phrase[:light]  # "where did the protest take place"
        elif plural is not None:
            phrase = phrase[: plural + 1]
        elif do_support or phrase[-1].endswith(("ed", "en")):
            phrase = phrase[:-1]
    return [w for w in phrase if w not in ("the", "a", "an")]


# Verbs that follow a subject in "where did <subject> <verb> ...".
_LIGHT_VERBS = frozenset("take make set get go come hold happen occur start begin end".split())

# Nouns of people's roles in general English; with "which", they ask for a person.
_ROLE_NOUNS = frozenset(
    """senator minister president chairman chairwoman chair leader official spokesman
    spokeswoman spokesperson director executive chief head governor mayor judge general
    secretary ambassador king queen prince player author writer founder owner manager
    coach member deputy envoy negotiator premier chancellor commander analyst economist
    person man woman actor actress singer artist scientist inventor composer poet
    painter architect engineer explorer emperor pope bishop philosopher defender attacker
    striker driver pilot soldier officer worker teacher student doctor lawyer candidate
    winner champion captain""".split()
)


def _is_role_noun(word: str) -> bool:
    return word in _ROLE_NOUNS or _singular(word) in _ROLE_NOUNS


_NAME_OF_RE = re.compile(r"\bwhat (?:is|was|are|were) the names? of (?:the |a |an )?(?P<role>.+)")
# Words after a question's opening "which" or "what" searched for a role noun: the office
# behind its modifiers ("Which Democratic senator", "what former state governor").
_WHICH_ROLE_WORDS = 4


def _person(question: str, words: list[str], lower: str) -> QuestionAnalysis | None:
    named = _NAME_OF_RE.search(lower)
    if named is not None:
        return _role(question, words, named.group("role"))
    which = re.match(r"^(?:\w+ )?(?:which|what) ", lower)
    if which is not None:
        after = lower[which.end() :].split()[:_WHICH_ROLE_WORDS]
        for n, word in enumerate(after):
            if _is_role_noun(word):
                # "Which Democratic senator switched ...": a person, in the asked role.
                return _role(question, words, " ".join(after[: n + 1]))
            if word in _AUXILIARIES or word in _PREPOSITIONS:
                break
    if not re.search(r"\b(?:who|whom|whose)\b", lower):
        return None
    match = re.search(r"\bwho(?:'s|’s|\s+is|\s+was|\s+are|\s+were)\s+(?P<role>.+)", question, re.I)
    if match is None:
        return QuestionAnalysis(question, "person", None, (), _keywords(words, ()))
    role_text = match.group("role")
    if re.match(r"[A-Z]", role_text) and not re.match(r"(?:(?:The|A|An)\b|\S+['’]s\b)", role_text):
        # "Who is Stephanie Grisham?" asks for a description, not a name.
        return QuestionAnalysis(question, "other", None, (), _keywords(words, ()))
    return _role(question, words, role_text)


def _role(question: str, words: list[str], role_text: str) -> QuestionAnalysis:
    phrase = word_list(role_text)
    if phrase and phrase[0] in ("the", "a", "an"):
        phrase = phrase[1:]
    if not phrase or phrase[0].endswith(("ing", "ed")) or phrase[0] in _IRREGULAR_PARTICIPLES:
        # "Who was leading the march?", "Who was blamed?": a verb, not a role.
        return QuestionAnalysis(question, "person", None, (), _keywords(words, ()))
    core: list[str] = []
    for word in phrase:
        if word in _PREPOSITIONS or word in ("who", "that", "which", "whose"):
            break
        core.append(word)
    if not core:
        return QuestionAnalysis(question, "person", None, (), _keywords(words, ()))
    tail = [w for w in phrase[len(core) :] if w not in QUESTION_STOPWORDS]
    terms = (core[-1], *reversed(core[:-1]), *tail)
    return QuestionAnalysis(question, "person", " ".join(core), terms, _keywords(words, terms))


_RULES = (_yes_no, _quantity, _date, _reason, _category, _organization, _place, _person)
