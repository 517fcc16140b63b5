"""Numeric claims: "at least 62 demonstrators" -> Quantity(62, None, "at least", "demonstrators").

Two entry points share one scanner:

- `parse_quantity(phrase)` reads the first count in a short phrase (an answer span).
- `find_quantities(sentence)` lists every count phrase in running text with its
  character offsets, skipping numbers that are not counts (years, dates, times,
  ordinals, "one of the", compound adjectives such as "25-year-old").

Conventions (documented here because conflict detection relies on them):

- `low`/`high` hold the range the phrase asserts, read literally. An exact figure
  is `[n, n]`; "at least n" and "more than n" are `[n, None]` (open upward);
  "up to n" and "fewer than n" are `[0, n]`; "about n" and "nearly n" stay
  `[n, n]` and keep their qualifier, so the tolerance is applied where claims are
  compared (search/conflicts.py), not baked into the stored value.
- Qualifiers are normalised to: "at least" (no fewer than, a minimum of),
  "more than" (over, upwards of, in excess of, just over), "up to" (as many as,
  no more than, at most), "less than" (fewer than, under), "about" (roughly,
  around, approximately, some, an estimated), "nearly" (almost, close to, just
  under), "exact" (a bare figure, or exactly/precisely/only/just). Vague words
  and ranges carry no qualifier (None) unless one is written before them.
- Vague quantities take conventional ranges: a couple of 2-3, a few 2-5, a
  handful of 2-9, several 3-9, tens of 20-99, dozens 24-99, scores of 40-199,
  hundreds 200-999, thousands 2,000-9,999, tens of thousands 20,000-99,999,
  hundreds of thousands 200,000-999,999, millions 2e6-999e6; "a few/several/a
  couple of <hundred|thousand|dozen>" scale the same ranges; "many" and
  "numerous" are [2, None]: they say nothing about size.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from number_parser import parse_number

from index.text import MONTH, NEXT_WORD_RE, NOUN_RUN_STOPWORDS


@dataclass(frozen=True)
class Quantity:
    low: float
    high: float | None
    qualifier: str | None
    unit: str | None

    def as_dict(self) -> dict[str, int | float | str | None]:
        """JSON-ready form; whole numbers come out as ints so clients see 62, not 62.0."""
        return {
            "low": _plain(self.low),
            "high": None if self.high is None else _plain(self.high),
            "qualifier": self.qualifier,
            "unit": self.unit,
        }


@dataclass(frozen=True)
class QuantityMention:
    text: str  # sentence[start:end]: qualifier, figure and noun ("at least 62 demonstrators")
    start: int
    end: int
    figure: str  # qualifier and figure as written, without the noun ("roughly 6,000")
    value: Quantity


def parse_quantity(phrase: str) -> Quantity | None:
    """The first count in `phrase`, or None when it holds none."""
    mentions = _scan(phrase, strict=False)
    return mentions[0].value if mentions else None


def find_quantities(sentence: str) -> list[QuantityMention]:
    """Every count phrase in `sentence`, left to right, with offsets into it."""
    return list(_scan_sentence(sentence))


@lru_cache(maxsize=1 << 15)
def _scan_sentence(sentence: str) -> tuple[QuantityMention, ...]:
    # The index's sentences come back query after query; scanning one costs
    # about 0.5 ms of character-by-character matching (the profile of /ask).
    return tuple(_scan(sentence, strict=True))


def _plain(x: float) -> float | int:
    return int(x) if x.is_integer() else x


# --- vocabulary --------------------------------------------------------------------------

_QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("no fewer than", "at least"),
    ("no less than", "at least"),
    ("not less than", "at least"),
    ("a minimum of", "at least"),
    ("at least", "at least"),
    ("more than", "more than"),
    ("upwards of", "more than"),
    ("in excess of", "more than"),
    ("greater than", "more than"),
    ("just over", "more than"),
    ("over", "more than"),
    ("as many as", "up to"),
    ("no more than", "up to"),
    ("a maximum of", "up to"),
    ("at most", "up to"),
    ("up to", "up to"),
    ("fewer than", "less than"),
    ("less than", "less than"),
    ("just under", "nearly"),
    ("under", "less than"),
    ("approximately", "about"),
    ("approx.", "about"),
    ("an estimated", "about"),
    ("estimated", "about"),
    ("roughly", "about"),
    ("around", "about"),
    ("about", "about"),
    ("some", "about"),
    ("close to", "nearly"),
    ("nearly", "nearly"),
    ("almost", "nearly"),
    ("exactly", "exact"),
    ("precisely", "exact"),
    ("only", "exact"),
    ("just", "exact"),
    # Range openers: only kept when a second figure follows.
    ("between", "between"),
    ("from", "from"),
)
_QUALIFIER_RE = re.compile(
    r"(?:" + "|".join(re.escape(q) for q, _ in _QUALIFIERS) + r")\s+", re.IGNORECASE
)
_QUALIFIER_NAMES = {q: name for q, name in _QUALIFIERS}

_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety"
).split()
_SCALES = {"hundred": 100.0, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_NUMBER_WORD = "(?:" + "|".join(sorted(_SMALL + list(_SCALES), key=len, reverse=True)) + ")"
# Words joined by spaces or hyphens, "and" only after a scale ("one hundred and five").
_WORD_NUMBER_RE = re.compile(
    rf"\b{_NUMBER_WORD}\b(?:(?:\s+|-|(?<=hundred)\s+and\s+|(?<=thousand)\s+and\s+"
    rf"|(?<=million)\s+and\s+){_NUMBER_WORD}\b)*",
    re.IGNORECASE,
)
_NUMBER_WORD_TOKEN_RE = re.compile(rf"\b{_NUMBER_WORD}\b", re.IGNORECASE)
_NUMBER_WORD_RE = re.compile(rf"{_NUMBER_WORD}|dozens?|hundreds|thousands|millions", re.I)
_DIGITS_RE = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<dec>\.\d+)?"
    r"(?P<scale>\s+(?:hundred|thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)
_TRAILING_DOZEN_RE = re.compile(r"\s+dozen\b(?!s)", re.IGNORECASE)  # "3 dozen"
_A_SCALE_RE = re.compile(r"an?\s+(?P<scale>hundred|thousand|million|billion)\b", re.IGNORECASE)
_DOZEN_RE = re.compile(
    rf"(?:(?P<half>half\s+a)|(?P<a>a)|(?P<digits>\d+)|(?P<words>{_NUMBER_WORD}"
    rf"(?:[\s-]+{_NUMBER_WORD})*))\s+dozen\b(?!s)",
    re.IGNORECASE,
)
# "several hundred", "a few thousand", "a couple of dozen": multiplier x scale.
_MULTIPLIERS = {"a couple of": (2, 3), "a few": (2, 5), "several": (3, 9)}
_MULTIPLIED_RE = re.compile(
    r"(?P<mult>a\s+couple\s+of|a\s+couple|a\s+few|several)\s+"
    r"(?P<scale>dozen|hundred|thousand|million|billion)\b(?!s)",
    re.IGNORECASE,
)
_DOZEN = 12.0
_SCALE_OR_DOZEN = {"dozen": _DOZEN, **_SCALES}

# Vague quantities, longest first; "of" is required where the bare word is ambiguous
# ("tens", "scores", "a couple"). The "of" stays outside the match so the noun
# extension can take it.
_VAGUE: tuple[tuple[str, float, float | None], ...] = (
    (r"hundreds\s+of\s+thousands", 200_000, 999_999),
    (r"tens\s+of\s+thousands", 20_000, 99_999),
    (r"hundreds\s+of\s+millions", 200e6, 999e6),
    (r"tens\s+of\s+millions", 20e6, 99e6),
    (r"dozens", 24, 99),
    (r"hundreds", 200, 999),
    (r"thousands", 2_000, 9_999),
    (r"millions", 2e6, 999e6),
    (r"billions", 2e9, 999e9),
    (r"scores(?=\s+of\b)", 40, 199),
    (r"tens(?=\s+of\b)", 20, 99),
    (r"a\s+couple(?=\s+of\b)", 2, 3),
    (r"a\s+handful(?=\s+of\b)", 2, 9),
    (r"a\s+few", 2, 5),
    (r"several", 3, 9),
    (r"numerous", 2, None),
    (r"many", 2, None),
)
_VAGUE_RES = tuple(
    (re.compile(rf"{pattern}\b", re.IGNORECASE), low, high) for pattern, low, high in _VAGUE
)
_RANGE_SEP_RE = re.compile(r"\s*[-–—]\s*|\s+(?P<word>to|and)\s+", re.IGNORECASE)
_PERCENT_RE = re.compile(r"\s*(?:%|percent\b|per\s+cent\b|pct\b)", re.IGNORECASE)
_CURRENCY = {"$": "dollars", "€": "euros", "£": "pounds"}

# Spans that contain digits but are dates or clock times, never counts.
_NOT_COUNTS_RE = re.compile(
    rf"\b{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}\b\.?(?:,?\s+\d{{4}}\b)?"
    rf"|\b{MONTH}\.?,?\s+\d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?i:a\.m\.|p\.m\.|am\b|pm\b))?"
    r"|\b\d{1,2}\s*(?i:a\.m\.|p\.m\.|am\b|pm\b|o'clock\b)"
)

_IRREGULAR_PLURALS = frozenset(
    """people men women children police personnel staff cattle feet teeth geese mice
    dead wounded injured crew clergy""".split()
)
_PRONOUNS_AFTER_OF = frozenset("them us those these which whom you it".split())
_OF_RE = re.compile(r"\s+of(?:\s+(?:the|those|these|their|its|his|her|our))?(?=\s)", re.I)

# Characters read on each side of a figure for the word before it ("no one", "how many")
# and the word after it ("one of"): enough for one word and its spaces.
_CONTEXT_CHARS = 12
# A bare four-digit figure in this range is a year, not a count: news style writes counts
# of a thousand or more with a comma ("1,987 protesters", "in 1987").
_YEARS = (1000, 2100)
# Words after a figure read for its counted noun: room for a head noun behind a few
# modifiers ("U.S. Army reserve soldiers"); the run stops earlier at a function word.
_NOUN_RUN_WORDS = 5


# --- scanner -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Core:
    end: int
    low: float
    high: float | None
    vague: bool  # a conventional range ("hundreds"), not a written figure
    kind: str  # "digits" | "words" | "vague"


def _scan(text: str, *, strict: bool) -> list[QuantityMention]:
    masked = [m.span() for m in _NOT_COUNTS_RE.finditer(text)]
    mentions: list[QuantityMention] = []
    position = 0
    for start_match in re.finditer(r"[$€£]?\b\w", text):
        start = start_match.start()
        if start < position or _overlaps(start, start + 1, masked):
            continue
        mention = _mention_at(text, start, strict=strict, masked=masked)
        if mention is not None:
            mentions.append(mention)
            position = mention.end
    return mentions


def _mention_at(
    text: str, start: int, *, strict: bool, masked: list[tuple[int, int]]
) -> QuantityMention | None:
    qualifier_match = _QUALIFIER_RE.match(text, start)
    if qualifier_match:
        written = re.sub(r"\s+", " ", qualifier_match.group(0).strip().lower())
        qualifier = _QUALIFIER_NAMES.get(written)
        found = _figure_at(text, qualifier_match.end(), qualifier, strict, masked)
        if found is not None:
            return _finish(text, start, *found)
    found = _figure_at(text, start, None, strict, masked)
    return _finish(text, start, *found) if found is not None else None


def _figure_at(
    text: str,
    at: int,
    qualifier: str | None,
    strict: bool,
    masked: list[tuple[int, int]],
) -> tuple[int, Quantity, str | None] | None:
    """(figure end, value without unit, currency unit) for a figure starting at `at`."""
    currency = _CURRENCY.get(text[at : at + 1])
    core_start = at + 1 if currency else at
    core = _core_at(text, core_start, allow_vague=currency is None)
    if core is None or _overlaps(core_start, core.end, masked):
        return None
    if not _clean_edges(text, core_start, core.end):
        return None
    end, low, high = core.end, core.low, core.high
    is_range = False
    if not core.vague:
        second = _range_end(text, end, qualifier)
        if second is not None:
            end, other = second
            # "2 to 3 million": a scale written once applies to both ends.
            scale = _ends_with_scale(text[core_start:end])
            if scale and _ends_with_scale(text[core_start : core.end]) is None:
                if low * scale <= other.low:
                    low *= scale
            low, high = sorted((low, other.low))
            is_range = True
    if qualifier in ("between", "from") and not is_range:
        return None
    if not _is_count_in_context(text, at, core, qualifier, currency, strict):
        return None
    percent = _PERCENT_RE.match(text, end)
    unit = currency
    if percent:
        end, unit = percent.end(), "percent"
    value = _apply_qualifier(low, high, qualifier, vague=core.vague or is_range)
    return end, Quantity(value[0], value[1], value[2], None), unit


def _core_at(text: str, at: int, *, allow_vague: bool) -> _Core | None:
    if allow_vague:
        m = _MULTIPLIED_RE.match(text, at)
        if m:
            mult = re.sub(r"\s+", " ", m.group("mult").lower())
            lo, hi = _MULTIPLIERS["a couple of" if mult.startswith("a couple") else mult]
            scale = _SCALE_OR_DOZEN[m.group("scale").lower()]
            return _Core(m.end(), lo * scale, hi * scale, True, "vague")
        m = _DOZEN_RE.match(text, at)
        if m:
            count = _dozen_count(m)
            if count is not None:
                return _Core(m.end(), count * _DOZEN, count * _DOZEN, False, "words")
        for pattern, low, high in _VAGUE_RES:
            m = pattern.match(text, at)
            if m:
                return _Core(m.end(), low, high, True, "vague")
        m = _A_SCALE_RE.match(text, at)
        if m:
            value = _SCALES[m.group("scale").lower()]
            return _Core(m.end(), value, value, False, "words")
    return _numeric_core_at(text, at)


def _numeric_core_at(text: str, at: int) -> _Core | None:
    """A written figure: digits ("6,000", "1.5 million") or number words ("twenty-four")."""
    m = _DIGITS_RE.match(text, at)
    if m:
        value = float(m.group("num").replace(",", "") + (m.group("dec") or ""))
        if m.group("scale"):
            value *= _SCALES[m.group("scale").strip().lower()]
        if m.group("scale") is None:
            dozen = _TRAILING_DOZEN_RE.match(text, m.end())
            if dozen:
                return _Core(dozen.end(), value * _DOZEN, value * _DOZEN, False, "digits")
        return _Core(m.end(), value, value, False, "digits")
    m = _WORD_NUMBER_RE.match(text, at)
    if m:
        return _word_number(text, at, m.end())
    return None


def _word_number(text: str, at: int, end: int) -> _Core | None:
    # number_parser reads the whole run; if it rejects it ("one two"), drop words
    # from the right until it accepts, so the span never holds an unparsed word.
    ends = [t.end() for t in _NUMBER_WORD_TOKEN_RE.finditer(text, at, end)]
    for stop in reversed(ends):
        try:
            value = _parse_number(text[at:stop].lower())
        except Exception:  # number_parser has no documented failure modes; treat as no number
            value = None
        if value is not None:
            return _Core(stop, float(value), float(value), False, "words")
    return None


def _dozen_count(m: re.Match[str]) -> float | None:
    if m.group("half"):
        return 0.5
    if m.group("a"):
        return 1.0
    if m.group("digits"):
        return float(m.group("digits"))
    words = m.group("words")
    core = _word_number(words, 0, len(words))
    # Only the whole run counts ("twenty four dozen"); a partial parse is no figure.
    return core.low if core is not None and core.end == len(words) else None


def _range_end(text: str, end: int, qualifier: str | None) -> tuple[int, _Core] | None:
    sep = _RANGE_SEP_RE.match(text, end)
    if sep is None:
        return None
    word = (sep.group("word") or "").lower()
    if word == "and" and qualifier != "between":
        return None
    if word == "" and qualifier == "between":
        return None
    other = _numeric_core_at(text, sep.end())
    if other is None or not _clean_edges(text, sep.end(), other.end, allow_dash_before=True):
        return None
    return other.end, other


def _ends_with_scale(figure: str) -> float | None:
    last = figure.rsplit(None, 1)[-1].lower() if figure.strip() else ""
    return _SCALES.get(last)


def _overlaps(start: int, end: int, masked: list[tuple[int, int]]) -> bool:
    """Whether [start, end) touches a masked span; `masked` is sorted and disjoint."""
    i = bisect_right(masked, (start, math.inf))
    return (i > 0 and masked[i - 1][1] > start) or (i < len(masked) and masked[i][0] < end)


def _clean_edges(text: str, start: int, end: int, *, allow_dash_before: bool = False) -> bool:
    """Reject figures glued to other tokens: "31st", "COVID-19", "25-year-old", "4G"."""
    before = text[start - 1] if start > 0 else " "
    if before in "/:.@#_\\" or before.isalnum():
        return False
    if before == "-" and not allow_dash_before and start > 1 and text[start - 2].isalnum():
        return False
    after, then = text[end : end + 1], text[end + 1 : end + 2]
    if after.isalnum() or after in ("_", "@"):
        return False
    if after in (".", ",") and then.isdigit():
        return False
    if after == "-" and then.isalpha():
        return False  # compound adjective: "25-year-old", "three-day"
    return True


def _is_count_in_context(
    text: str, at: int, core: _Core, qualifier: str | None, currency: str | None, strict: bool
) -> bool:
    """Context filters; `strict` adds the ones a bare phrase handed to parse_quantity skips."""
    figure = text[at : core.end]
    lower = figure.lower()
    before = text[max(0, at - _CONTEXT_CHARS) : at].lower().split()
    previous = before[-1] if before else ""
    following = text[core.end : core.end + _CONTEXT_CHARS].lower().split()
    nxt = following[0] if following else ""
    if lower == "one":
        # "one of the worst", "no one", "the one": a pronoun, not a count.
        if nxt in ("of", "another") or previous in ("no", "any", "every", "each", "the"):
            return False
        # In running text a lone "one" must count something ("one soldier").
        return not strict or _count_noun_after(text, core.end, 1.0) is not None
    if lower == "many" and previous in ("how", "so", "too", "as", "very", "not"):
        return False
    if (
        strict
        and core.kind == "digits"
        and qualifier is None
        and currency is None
        and re.fullmatch(r"\d{4}", figure)
        and _YEARS[0] <= core.low <= _YEARS[1]
    ):
        return False  # a year
    return True


def _apply_qualifier(
    low: float, high: float | None, qualifier: str | None, *, vague: bool
) -> tuple[float, float | None, str | None]:
    if qualifier in ("between", "from"):
        qualifier = None
    if qualifier in ("at least", "more than"):
        return low, None, qualifier
    if qualifier in ("up to", "less than"):
        return 0.0, high if high is not None else low, qualifier
    if vague and qualifier == "exact":
        qualifier = None  # "only a few" is still a vague range
    if qualifier is None and not vague:
        qualifier = "exact"
    return low, high, qualifier


def _finish(
    text: str, start: int, figure_end: int, value: Quantity, unit: str | None
) -> QuantityMention:
    end = figure_end
    if unit is None:
        noun = _count_noun_after(text, figure_end, value.low if value.high == value.low else 2.0)
        if noun is None:
            of = _OF_RE.match(text, figure_end)
            if of is not None:
                noun = _count_noun_after(text, of.end(), 2.0)
        if noun is not None:
            end, unit = noun
    figure = text[start:figure_end]
    return QuantityMention(
        text=text[start:end],
        start=start,
        end=end,
        figure=figure,
        value=Quantity(
            float(value.low),
            None if value.high is None else float(value.high),
            value.qualifier,
            unit,
        ),
    )


def _count_noun_after(text: str, at: int, count: float) -> tuple[int, str] | None:
    """(end, head noun) of the noun run right after a figure: "U.S. soldiers" -> soldiers."""
    best: tuple[int, str] | None = None
    position = at
    for _ in range(_NOUN_RUN_WORDS):
        m = NEXT_WORD_RE.match(text, position)
        if m is None:
            break
        token = m.group("tok")
        word = token.lower()
        if (
            word in NOUN_RUN_STOPWORDS
            or word in _PRONOUNS_AFTER_OF
            or _NUMBER_WORD_RE.fullmatch(word)
        ):
            break
        if _is_count_noun(token, count):
            best = (m.end(), word)
        position = m.end()
    return best


def _is_count_noun(token: str, count: float) -> bool:
    word = token.lower()
    if word in _IRREGULAR_PLURALS:
        return True
    if "." in word or word.endswith(("'s", "’s")):
        return False
    if count == 1.0:
        return token.isalpha() and token.islower()
    return (
        len(word) >= 3
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is"))
        and word.replace("-", "").isalpha()
    )


@lru_cache(maxsize=4096)
def _parse_number(phrase: str) -> int | float | None:
    """number_parser's `parse_number`, remembered: it rebuilds its word tables on every
    call, which was half the time of a count question's answer extraction."""
    return parse_number(phrase)  # type: ignore[no-any-return]
