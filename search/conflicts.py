"""Which sources agree, and whether their answers can all be true.

Agreement between two claims:

- Two written figures ("at least 10", "25", "roughly 6,000") agree when they
  state the same figure and their ranges overlap ("at least 25" and "25"; not
  "more than 100" and "100"). Two different figures conflict ("25" vs "24";
  "at least 10" vs "at least 62": the ranges overlap, but the outlets reported
  different numbers), unless one of them is approximate ("about", "nearly") and
  their ranges overlap.
- A vague quantity or a range ("thousands", "dozens", "10 to 20") agrees with
  anything whose range overlaps it. "about n" is widened by ABOUT_TOLERANCE
  either side ("roughly 6,000" -> 4,800..7,200, which overlaps "thousands");
  "nearly n" by NEARLY_TOLERANCE below n. Units are ignored: "10 demonstrators"
  and "10 protesters" agree.
- Names and phrases agree when they are spelling variants: compared word by
  word, two words match when equal, when one is a prefix of the other (4+
  letters: "Iran"/"Iranian"), or when they have the same first letter and
  consonant skeleton and a rapidfuzz ratio of at least NAME_RATIO
  ("Kataeb"/"Kataib", "Yasseri"/"Yasiri"). The skeleton check keeps near-misses
  apart that a ratio alone would merge ("Iran"/"Iraq", "Graham"/"Grisham"). A
  shorter name agrees with a longer one that contains it ("Grisham" /
  "Stephanie Grisham").

Grouping is a deterministic complete-linkage pass: distinct answers are visited
by support (how many claims give exactly that answer), ties by first appearance;
each claim joins the first group whose every member it agrees with, or starts a
new one. Every group is internally consistent, and each later group disagrees
with at least one member of an earlier group, so more than one group means a
conflict. Only typed values (quantities, dates, names of people, organisations and
places) are compared: a sentence, clause or phrase answer never raises a conflict. Two
dates conflict only when a part both state differs (year, month, or day of one month).

Claims are compared only within a story (the documents about one event,
`index.stories`): "10 injured" at a protest and "185 injured" in a factory blast
are not a conflict. Claims from several stories are compared story by story.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from index.text import ALNUM_RE, LETTERS_OR_DIGITS_RE, MONTH_NUMBERS
from search.claims import Quantity, find_quantities
from search.question import TYPED

ABOUT_TOLERANCE = 0.2
NEARLY_TOLERANCE = 0.2
NAME_RATIO = 70.0


@dataclass(frozen=True)
class Claim:
    doc_id: str
    source: str | None
    answer: str
    value: Quantity | None
    answer_type: str
    story_id: str | None = None


@dataclass(frozen=True)
class ClaimGroup:
    value: str  # display label: "10", "roughly 6,000 / thousands", "Stephanie Grisham"
    doc_ids: list[str]
    story_id: str | None = None


@dataclass(frozen=True)
class SameOutletRevision:
    """Documents from one outlet that answer differently (an updated story, a correction)."""

    source: str
    doc_ids: list[str]
    answers: list[str]
    story_id: str | None = None


@dataclass(frozen=True)
class Comparison:
    conflict: bool
    groups: list[ClaimGroup]
    reasons: list[str]
    same_outlet: list[SameOutletRevision]


def compare_claims(claims: Sequence[Claim]) -> Comparison:
    """Group agreeing claims (best supported first) and say why the groups conflict,
    story by story: claims of different stories are never compared."""
    stories: dict[str | None, list[Claim]] = {}
    for claim in claims:
        stories.setdefault(claim.story_id, []).append(claim)
    compared = [_compare_story(members) for members in stories.values()]
    if len(compared) == 1:
        return compared[0]
    # Several stories (a question asked of the whole archive): say which story each line is of.
    return Comparison(
        any(c.conflict for c in compared),
        [group for c in compared for group in c.groups],
        [
            f"{story}: {reason}"
            for story, c in zip(stories, compared, strict=True)
            for reason in c.reasons
        ],
        [revision for c in compared for revision in c.same_outlet],
    )


def _compare_story(claims: Sequence[Claim]) -> Comparison:
    comparable = [c for c in claims if c.answer_type in TYPED]
    if not comparable:
        return Comparison(False, [], [], [])
    story = comparable[0].story_id
    indices = _cluster(comparable)
    clusters = [[comparable[i] for i in cluster] for cluster in indices]
    groups = [ClaimGroup(_label(members), _doc_ids(members), story) for members in clusters]
    reasons = [_reason(clusters, j) for j in range(1, len(clusters))]
    revisions = _same_outlet(comparable, indices)
    for revision in revisions:
        pairs = ", ".join(
            f"{answer} ({doc_id})"
            for doc_id, answer in zip(revision.doc_ids, revision.answers, strict=True)
        )
        reasons.append(f"same outlet, different answers: {revision.source} gives {pairs}")
    return Comparison(len(clusters) > 1, groups, reasons, revisions)


# --- clustering --------------------------------------------------------------------------


def _cluster(claims: list[Claim]) -> list[list[int]]:
    """Indices into `claims`, one list per group, best supported group first."""
    keys = [_key(c) for c in claims]
    support = {k: keys.count(k) for k in keys}
    first_seen = {k: keys.index(k) for k in reversed(keys)}
    order = sorted(range(len(claims)), key=lambda i: (-support[keys[i]], first_seen[keys[i]], i))
    clusters: list[list[int]] = []
    for i in order:
        for cluster in clusters:
            if all(agree(claims[i], claims[j]) for j in cluster):
                cluster.append(i)
                break
        else:
            clusters.append([i])
    # Best supported first; ties by first appearance; members in input order.
    clusters.sort(key=lambda cluster: (-len(cluster), min(cluster)))
    return [sorted(cluster) for cluster in clusters]


def _key(claim: Claim) -> tuple[object, ...]:
    if claim.value is not None:
        return ("q", claim.value.low, claim.value.high, claim.value.qualifier)
    return ("t", " ".join(_tokens(claim.answer)))


def agree(a: Claim, b: Claim) -> bool:
    if a.answer_type == "date" and b.answer_type == "date":
        return _dates_agree(a.answer, b.answer)
    if a.value is not None and b.value is not None:
        return _quantities_agree(a.value, b.value)
    if a.value is None and b.value is None:
        return _names_agree(a.answer, b.answer)
    return _tokens(a.answer) == _tokens(b.answer)


# --- dates ---------------------------------------------------------------------------------


def _date_parts(text: str) -> dict[str, int]:
    """The year, month and day a date answer states ("March 3, 1987" -> all three)."""
    parts: dict[str, int] = {}
    for token in LETTERS_OR_DIGITS_RE.findall(text):
        lower = token.lower()
        if lower in MONTH_NUMBERS:
            parts["month"] = MONTH_NUMBERS[lower]
        elif token.isdigit() and len(token) == 4:
            parts["year"] = int(token)
        elif token.isdigit() and int(token) <= 31:
            parts["day"] = int(token)
    return parts


def _dates_agree(a: str, b: str) -> bool:
    """Two dates disagree only when a part both state differs ("March 3" vs "March 5",
    "1987" vs "1988"); "Tuesday" and "March 3" cannot be compared without a calendar
    anchor, so they agree."""
    parts_a, parts_b = _date_parts(a), _date_parts(b)
    shared = parts_a.keys() & parts_b.keys()
    if not shared:
        return True
    if "day" in shared and "month" not in shared:
        return True  # "the 3rd" of which month?
    return all(parts_a[k] == parts_b[k] for k in shared)


# --- quantities ----------------------------------------------------------------------------

_APPROXIMATE = ("about", "nearly")


def _anchor(q: Quantity) -> float | None:
    """The figure a precise claim states; None for vague quantities and ranges."""
    if q.qualifier in ("at least", "more than") and q.high is None:
        return q.low
    if q.qualifier in ("up to", "less than"):
        return q.high
    if q.qualifier in ("exact", "about", "nearly") and q.high == q.low:
        return q.low
    return None


def _interval(q: Quantity) -> tuple[float, float]:
    high = math.inf if q.high is None else q.high
    if q.qualifier == "about":
        return q.low * (1 - ABOUT_TOLERANCE), high * (1 + ABOUT_TOLERANCE)
    if q.qualifier == "nearly":
        return q.low * (1 - NEARLY_TOLERANCE), high
    if q.qualifier == "more than":
        return math.nextafter(q.low, math.inf), high
    if q.qualifier == "less than":
        return q.low, math.nextafter(high, -math.inf)
    return q.low, high


def _quantities_agree(a: Quantity, b: Quantity) -> bool:
    anchor_a, anchor_b = _anchor(a), _anchor(b)
    (low_a, high_a), (low_b, high_b) = _interval(a), _interval(b)
    overlap = max(low_a, low_b) <= min(high_a, high_b)
    if anchor_a is not None and anchor_b is not None and anchor_a != anchor_b:
        return overlap and (a.qualifier in _APPROXIMATE or b.qualifier in _APPROXIMATE)
    # The same figure agrees unless a strict bound excludes it ("more than 100" vs "100").
    return overlap


def _both_precise(a: Quantity, b: Quantity) -> bool:
    return _anchor(a) is not None and _anchor(b) is not None


# --- names ---------------------------------------------------------------------------------

_VOWELS = set("aeiouy")
# Two words this long or longer where one begins the other name the same thing ("iran",
# "iranian"); shorter ones need not ("man", "manila").
_PREFIX_WORD_CHARS = 4


def _tokens(text: str) -> list[str]:
    words = ALNUM_RE.findall(text.lower().replace("’", "'").replace("'s", ""))
    return [w for w in words if w not in ("the", "a", "an")]


def _skeleton(word: str) -> str:
    rest = [c for c in word[1:] if c not in _VOWELS]
    collapsed = [c for i, c in enumerate(rest) if i == 0 or rest[i - 1] != c]
    return word[:1] + "".join(collapsed)


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) >= _PREFIX_WORD_CHARS and (a.startswith(b) or b.startswith(a)):
        return True  # "iran" / "iranian", "iraq" / "iraqi"
    return (
        a[:1] == b[:1]
        and len(_skeleton(a)) >= 3
        and _skeleton(a) == _skeleton(b)
        and fuzz.ratio(a, b) >= NAME_RATIO
    )


def _names_agree(a: str, b: str) -> bool:
    short, long = sorted((_tokens(a), _tokens(b)), key=len)
    if not short:
        return not long
    if not any(len(w) >= 3 for w in short):
        return short == long  # "al" alone must not match every "al-..." name
    for offset in range(len(long) - len(short) + 1):
        window = long[offset : offset + len(short)]
        if all(_same_word(x, y) for x, y in zip(short, window, strict=True)):
            return True
    return False


# --- labels and reasons ------------------------------------------------------------------


def _doc_ids(members: list[Claim]) -> list[str]:
    return list(dict.fromkeys(c.doc_id for c in members))


def figure_label(claim: Claim) -> str:
    """The figure as written, without its noun ("roughly 6,000", "thousands", "at least
    10"); a name or a date as it is."""
    mentions = find_quantities(claim.answer)
    if mentions:
        return mentions[0].figure.lower()
    if claim.value is not None:
        return _describe(claim.value)
    return claim.answer.strip()


def _describe(q: Quantity) -> str:
    if q.high is None:
        return f"{q.qualifier or 'at least'} {_number(q.low)}"
    if q.low == q.high:
        qualifier = "" if q.qualifier in (None, "exact") else f"{q.qualifier} "
        return f"{qualifier}{_number(q.low)}"
    return f"{_number(q.low)}-{_number(q.high)}"


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"


def _distinct(texts: list[str]) -> list[str]:
    """Distinct texts (case-insensitive), most frequent first, ties by first appearance."""
    folded = [t.casefold() for t in texts]
    firsts = {}
    for text, fold in zip(texts, folded, strict=True):
        firsts.setdefault(fold, text)
    return sorted(
        firsts.values(), key=lambda t: (-folded.count(t.casefold()), folded.index(t.casefold()))
    )


def _label(members: list[Claim]) -> str:
    if all(c.value is not None for c in members):
        anchors = {_anchor(c.value) for c in members if c.value is not None}
        if len(anchors) == 1 and None not in anchors:
            return _number(anchors.pop())  # "at least 10" and "10" are both the figure 10
        return " / ".join(dict.fromkeys(figure_label(c) for c in members))
    return " / ".join(_distinct([c.answer.strip() for c in members]))


def _full_label(members: list[Claim]) -> str:
    if all(c.value is not None for c in members):
        return " / ".join(dict.fromkeys(figure_label(c) for c in members))
    return _label(members)


def _reason(clusters: list[list[Claim]], j: int) -> str:
    """Why cluster j could not join the earliest cluster it disagrees with."""
    later = clusters[j]
    for earlier in clusters[:j]:
        pair = next(((a, b) for a in earlier for b in later if not agree(a, b)), None)
        if pair is None:
            continue
        a, b = pair
        left = f"{_full_label(earlier)} ({', '.join(_doc_ids(earlier))})"
        right = f"{_full_label(later)} ({', '.join(_doc_ids(later))})"
        if a.value is not None and b.value is not None:
            if _both_precise(a.value, b.value):
                return f"different reported figures: {left} vs {right}"
            return f"{left} vs {right} cannot both be true"
        return f"different answers: {left} vs {right}"
    # Unreachable by construction (see _cluster); say something true rather than fail.
    return f"{_full_label(later)} ({', '.join(_doc_ids(later))}) stands apart"


def _same_outlet(claims: list[Claim], clusters: list[list[int]]) -> list[SameOutletRevision]:
    cluster_of = {i: n for n, cluster in enumerate(clusters) for i in cluster}
    by_outlet: dict[str, list[int]] = {}
    for i, claim in enumerate(claims):
        if claim.source is not None and claim.source.strip():
            by_outlet.setdefault(claim.source.strip().casefold(), []).append(i)
    revisions = []
    for members in by_outlet.values():
        if len({cluster_of[i] for i in members}) > 1:
            revisions.append(
                SameOutletRevision(
                    source=(claims[members[0]].source or "").strip(),
                    doc_ids=[claims[i].doc_id for i in members],
                    answers=[claims[i].answer for i in members],
                    story_id=claims[members[0]].story_id,
                )
            )
    return revisions
