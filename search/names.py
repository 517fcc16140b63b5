"""Names in a sentence, for `search.extract`: people (best appositive to the asked role),
organisations (an organisation word or an acronym, best next to the asked kind) and
places (gazetteer names, "in <Place>", "Calgary-based", "was out of the country", and for
"which country <verb>s" the agent form "Iran-backed")."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from index.text import (
    ABBREVIATION_RE,
    CALENDAR_NAMES,
    DATE_RE,
    SPACED_WORD_RE,
    Word,
    inside,
    quoted_spans,
    stopwords,
)
from index.text import words as sentence_words
from index.words import zipf
from search.gazetteer import is_country, is_nationality, is_place, places
from search.question import QuestionAnalysis
from search.spans import (
    Candidate,
    ExtractOptions,
    keyword_proximity,
    keyword_spots,
    keyword_stems,
    matches,
    phrase_candidates,
    reading,
    role_fit,
    term_hits,
    unquoted,
)

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
_NON_NAMES = CALENDAR_NAMES
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
LEGAL_SUFFIXES = frozenset("inc ltd corp co plc llc ag sa nv bv gmbh lp spa".split())


@dataclass(frozen=True)
class _Name:
    start: int
    end: int
    text: str
    tokens: tuple[str, ...]  # lowercased


@lru_cache(maxsize=1 << 14)
def _names(sentence: str, o: ExtractOptions, *, person: bool) -> tuple[_Name, ...]:
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
        if len(lowered) == 1 and _common_word(lowered[0], sentence, start, o):
            continue  # "Dozens of people stormed ...": a sentence's first word, not a name
        if all(t in LEGAL_SUFFIXES for t in lowered):
            continue  # "Ltd" left over from a name that the pattern could not read
        if sentence[max(0, start - 1) : start] == "<" and _is_acronym(sentence[start:end]):
            continue  # a newswire's ticker code: "Acme Mining Ltd <ACM.TO>"
        names.append(_Name(start, end, sentence[start:end], lowered))
    return tuple(names)


def _leads_person(token: str) -> bool:
    return token in _LEADING or token in _ORG_WORDS or is_place((token,))


def _common_word(token: str, sentence: str, start: int, o: ExtractOptions) -> bool:
    """A capitalised word that opens a sentence and is a common English word."""
    before = sentence[max(0, start - o.opener_chars) : start]
    opens = start == 0 or re.search(r"(?:^|[.!?:\"“]\s*|\n)\s*$", before)
    if not opens:
        return False
    # "Analysts said ...": a plural of a common word is no name either.
    singular = token[:-1] if token.endswith("s") and len(token) > o.plural_chars else token
    return token in stopwords() or max(zipf(token), zipf(singular)) >= o.common_zipf


def _clean_token(token: str) -> str:
    token = token.lower().replace("’", "'")
    return token.removesuffix("'s").rstrip(".,")


def _is_orgish(name: _Name) -> bool:
    return any(t in _ORG_WORDS for t in name.tokens) or _is_acronym(name.text)


def _is_acronym(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{2,6}s?", text))


def _role_match(
    words: Sequence[Word], head_index: int, terms: tuple[str, ...], o: ExtractOptions
) -> float:
    """`o.role_head` for the head noun alone, up to 1 when its modifiers stand next to it."""
    modifiers = terms[1:]
    if not modifiers:
        return 1.0
    before = words[head_index - 1].lower if head_index > 0 else ""
    if (
        before
        and before not in _APPOSITION_FILLER | _DETERMINERS
        and not before.endswith("'s")
        and not is_place((before,))
        and not any(matches(before, m) for m in modifiers)
    ):
        return o.other_office  # "Prime Minister" is no "interior minister"
    reach = o.modifier_words
    window = words[max(0, head_index - reach) : head_index + reach]
    found = sum(1 for m in modifiers if any(matches(w.lower, m) for w in window))
    return o.role_head + o.role_modifiers * found / len(modifiers)


_APPOSITION_FILLER = frozenset("of to for the a an is was".split())
_DETERMINERS = frozenset("his her its their our my your this that".split())


def _apposed(
    sentence: str,
    words: Sequence[Word],
    word_starts: list[int],
    between: tuple[int, int],
    allowed: set[str],
    o: ExtractOptions,
) -> bool:
    """True when the text between a name and a role is only a comma, filler or role words."""
    a, b = between
    if b < a or b - a > o.apposition_chars:
        return False
    gap = ABBREVIATION_RE.sub("", sentence[a:b])  # "U.S." is no sentence break
    if re.search(r"[.;:!?()]", gap) or gap.count(",") > 1:
        return False
    inside_gap = words[bisect_left(word_starts, a) : bisect_left(word_starts, b)]
    gap_words = [w.lower for w in inside_gap if w.end <= b]
    if len(gap_words) > o.apposition_words:
        return False
    return all(
        w in _APPOSITION_FILLER or w in allowed or w.endswith("'s") or is_place((w,))
        for w in gap_words
    )


def person_candidates(
    analysis: QuestionAnalysis, sentence: str, o: ExtractOptions
) -> list[Candidate]:
    words = sentence_words(sentence)
    quotes = quoted_spans(sentence)
    terms = analysis.target_terms
    heads = [i for i, t in term_hits(words, terms[:1])] if terms else []
    spots = keyword_spots(words, keyword_stems(analysis.keywords))
    role_words = {w.lower for w in words if any(matches(w.lower, t) for t in terms)}
    word_starts = [w.start for w in words]
    candidates = []
    for name in _names(sentence, o, person=True):
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
        personal = o.full_name if len(name.tokens) >= 2 else 0.0
        if heads:
            link = _role_link(sentence, words, (word_starts, role_words), heads, terms, name, o)
            score = o.person_linked + o.role_link * link + personal
        else:
            score = o.person_base + personal + keyword_proximity(spots, name.start, name.end, o)
            score += role_fit(analysis, words, name.start, name.end, sentence, o)
        if inside(name.start, name.end, quotes):
            score -= o.quoted
        candidates.append(Candidate(name.text, name.start, name.end, None, score))
    if not heads:
        # "Who stormed the embassy?": the answer may be no name ("Protesters").
        candidates.extend(phrase_candidates(analysis, sentence, o, role_only=True))
    return candidates


def _role_link(
    sentence: str,
    words: Sequence[Word],
    index: tuple[list[int], set[str]],
    heads: list[int],
    terms: tuple[str, ...],
    name: _Name,
    o: ExtractOptions,
) -> float:
    """How closely a name holds the asked role: the role's match where the name is apposed
    to it, `o.unlinked_role` of it where the name is only near. `index` holds the words'
    starts and the sentence's words that name the role."""
    word_starts, role_words = index
    link = 0.0
    for h in heads:
        head = words[h]
        if abs(head.start - name.start) > o.role_chars:
            continue
        match = _role_match(words, h, terms, o)
        if head.end <= name.start:
            gap = (head.end, name.start)  # "His press secretary, Stephanie Grisham"
        else:
            gap = (name.end, head.start)  # "Matthew Tueller, the U.S. ambassador"
        apposed = _apposed(sentence, words, word_starts, gap, role_words, o)
        link = max(link, match * (1.0 if apposed else o.unlinked_role))
    return link


def organization_candidates(
    analysis: QuestionAnalysis, sentence: str, o: ExtractOptions
) -> list[Candidate]:
    words, quotes, spots = reading(analysis, sentence)
    terms = analysis.target_terms
    candidates = []
    for name in _names(sentence, o, person=False):
        if is_place(name.tokens):
            continue
        orgish = 1.0 if _is_orgish(name) else o.org_unmarked
        before = sentence[max(0, name.start - o.org_before_chars) : name.start].lower()
        after = sentence[name.end : name.end + o.org_after_chars].lower()
        link = 0.0
        if terms:
            stems = "|".join(re.escape(t) for t in terms)
            if re.search(rf"\b(?:{stems})\w*\s+(?:called\s+|named\s+|known\s+as\s+)?$", before):
                link = 1.0  # "a group called X", "the company X"
            elif re.match(rf"\s*(?:,\s*(?:an?|the)\s+(?:\w+\s+)?)?(?:{stems})", after):
                link = o.kind_after  # "X militia", "the PMF, an umbrella group"
        score = o.org_base + o.org_kind * orgish + o.org_link * link
        score += keyword_proximity(spots, name.start, name.end, o)
        score += role_fit(analysis, words, name.start, name.end, sentence, o)
        if inside(name.start, name.end, quotes):
            score -= o.quoted
        candidates.append(Candidate(name.text, name.start, name.end, None, score))
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


def place_candidates(
    analysis: QuestionAnalysis, sentence: str, o: ExtractOptions
) -> list[Candidate]:
    words, quotes, spots = reading(analysis, sentence)
    if analysis.target in _PLACE_KINDS:
        candidates = _places_of_kind(analysis, sentence, words, spots, o)
        return [unquoted(c, quotes, o) for c in candidates]
    candidates = []
    hits = term_hits(words, analysis.target_terms[:1]) if analysis.target_terms else []
    for m in _BASED_RE.finditer(sentence):
        # "Calgary-based Acme": where the thing after it is based.
        score = o.based_base
        score += o.based_proximity * keyword_proximity(
            spots, m.start(), m.end("place") + o.based_chars, o
        )
        if any(0 <= words[i].start - m.end() <= o.based_chars for i, _ in hits):
            score += o.based_subject  # the asked subject follows: "Calgary-based Acme Mining"
        candidates.append(Candidate(m.group("place"), m.start(), m.end("place"), None, score))
    for m in _COPULA_PP_RE.finditer(sentence):
        # The asked subject must stand shortly before the verb: "Matthew Tueller, the
        # U.S. ambassador to Iraq, was out of the country".
        subject = [i for i, _ in hits if 0 <= m.start() - words[i].end < o.subject_chars]
        score = o.copula_base
        if subject:
            match = _role_match(words, subject[-1], analysis.target_terms, o)
            score += o.copula_subject + o.copula_role * match
        candidates.append(Candidate(m.group("pp"), m.start("pp"), m.end("pp"), None, score))
    for m in _IN_PLACE_RE.finditer(sentence):
        text = re.sub(r"^(?:in|at|to|from|near|outside|inside)\s+(?:the\s+)?", "", m.group())
        start = m.end() - len(text)
        tokens = tuple(t.lower for t in sentence_words(text))
        if not text.replace(".", "").strip() or DATE_RE.fullmatch(text):
            continue
        if all(is_nationality(t) and t not in places() for t in tokens):
            continue  # "to Iraqi officials": an adjective, not a place
        score = o.in_place_base + o.in_place_proximity * keyword_proximity(spots, start, m.end(), o)
        if is_place(tokens) and not hits:
            score += o.gazetteer  # a gazetteer place, not "in Washington's view" of a name
        if any(abs(words[i].start - start) <= o.role_chars for i, _ in hits):
            score += o.subject_near  # the asked subject is nearby
        candidates.append(Candidate(text, start, m.end(), None, score))
    return [unquoted(c, quotes, o) for c in candidates]


def _places_of_kind(
    analysis: QuestionAnalysis,
    sentence: str,
    words: Sequence[Word],
    spots: dict[str, list[tuple[int, int]]],
    o: ExtractOptions,
) -> list[Candidate]:
    """ "Which country backs the militia?": an agent form answers it ("Iran-backed"), or a
    place name in the asked role of the verb; a place merely named in the sentence ("in
    Baghdad") scores low."""
    candidates = _agent_adjectives(sentence, keyword_stems(analysis.keywords), o)
    wants_country = analysis.target in ("country", "nation")
    for name in _names(sentence, o, person=False):
        if not (is_country(name.tokens) if wants_country else _placed(name, sentence)):
            continue
        fit = role_fit(analysis, words, name.start, name.end, sentence, o)
        score = (
            o.place_base
            + fit
            + keyword_proximity(spots, name.start, name.end, o) * o.place_proximity
        )
        if analysis.target in _LOCAL_KINDS:
            # "In which town ...?": "Timmins" of "Timmins, Ontario", not "Ontario".
            if _IN_REGION_RE.match(sentence, name.end):
                score += o.region
            elif re.search(r"[A-Za-z],\s+$", sentence[max(0, name.start - 3) : name.start]):
                score -= o.after_comma
        candidates.append(Candidate(name.text, name.start, name.end, None, score))
    return candidates


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
        return is_place(tuple(w.lower for w in sentence_words(region.group("region"))))
    return sentence.startswith("-based", name.end)


def _agent_adjectives(sentence: str, stems: tuple[str, ...], o: ExtractOptions) -> list[Candidate]:
    """ "Iran-backed", "Iranian-backed", "backed by Iran" for "which country backs ...?"."""
    candidates = []
    verbs = [k for k in stems if len(k) >= o.verb_chars]
    for verb in verbs:
        others = [k for k in stems if k != verb]
        adjective = re.compile(
            rf"\b[A-Z][\w.]*(?:\s[A-Z][\w.]*)?-(?i:{re.escape(verb)})(?:ed|d|en)\b"
        )
        passive = re.compile(
            rf"\b{re.escape(verb)}(?:ed|d|en)\s+by\s+(?:the\s+)?(?P<name>[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*)"
        )
        # The object of the verb right after the adjective ("Iran-backed militia")
        # or shortly before the passive ("militias are backed by Iran") confirms it.
        for m in adjective.finditer(sentence):
            after = sentence[m.end() : m.end() + o.adjective_chars].lower()
            near = any(re.search(rf"\b{re.escape(o)}", after) for o in others)
            score = o.agent_adjective + (o.agent_object if near else 0.0)
            candidates.append(Candidate(m.group(), m.start(), m.end(), None, score))
        for m in passive.finditer(sentence):
            before = sentence[max(0, m.start() - o.passive_chars) : m.start()].lower()
            near = any(re.search(rf"\b{re.escape(o)}", before) for o in others)
            score = o.agent_passive + (o.agent_object if near else 0.0)
            start, end = m.span("name")
            candidates.append(Candidate(m.group("name"), start, end, None, score))
    return candidates
