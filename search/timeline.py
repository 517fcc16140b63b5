"""Figures over time: the compared answers of a story in publication order, and whether
differing figures were revised (each later report supersedes the earlier) or are disputed
(figures that cannot all be true, given at about the same time or by different parties).

A death toll that rises over three days is one outlet's, or several outlets', reports
catching up with events: nobody disputes anything, and calling it a conflict misleads.
Two estimates given the same day by a union and an employer are a dispute. The rules,
for each pair of compared answers that do not agree (`search.conflicts.agree`):

- **at about the same time** (within `same_time_hours` of each other; a report dated by
  day only is at the same time as every report of that day): disputed;
- a later count that **grew** (its figure is not below the earlier one: "at least six"
  killed on the 7th, "300" on the 9th) supersedes the earlier: revised, whoever gave it;
- **from different attributed parties** ("according to the union" against "the company
  said"), a figure that did not grow: disputed;
- the **same outlet's** later report (an updated version, a correction): revised;
- anything else that changed between outlets (a count that fell, another name or date):
  disputed.

One disputed pair makes the story's figures disputed; else one revised pair, revised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from index.text import published_moment
from search.claims import Quantity
from search.conflicts import Claim, agree, figure_label

# Reports within this many hours of each other are "at about the same time". The default
# is measured on the development stories (docs/concepts.md, "Figures over time").
SAME_TIME_HOURS = 6.0


@dataclass(frozen=True)
class Report:
    """A compared answer with what decides its place in time: publication, outlet, and
    who the sentence credits the claim to."""

    claim: Claim
    published: str | None
    attributed_to: str | None = None


@dataclass(frozen=True)
class ReportedFigure:
    """The reports of one figure at one publication time, oldest first in a timeline."""

    published: str | None
    value: str  # the figure as a reader says it: "at least 6", "up to 300", "Javier Espinosa"
    answer: str  # the first report's answer span
    doc_ids: tuple[str, ...]
    sources: tuple[str, ...]
    story_id: str | None = None


# How the figures of a story disagree: "revised" (each later report supersedes the earlier
# ones) or "disputed" (they cannot all be true); None when they agree.
Disagreement = Literal["revised", "disputed"]


@dataclass(frozen=True)
class Timeline:
    points: tuple[ReportedFigure, ...]
    disagreement: Disagreement | None
    reasons: tuple[str, ...]


def story_timeline(reports: Sequence[Report], same_time_hours: float = SAME_TIME_HOURS) -> Timeline:
    """`timeline` story by story (reports of different stories are never compared): the
    points of every story, disputed if any story's figures are, else revised if any are;
    with several stories each reason says its story."""
    stories: dict[str | None, list[Report]] = {}
    for report in reports:
        stories.setdefault(report.claim.story_id, []).append(report)
    each = {story: timeline(members, same_time_hours) for story, members in stories.items()}
    if len(each) <= 1:
        return next(iter(each.values()), Timeline((), None, ()))
    kinds = {t.disagreement for t in each.values()}
    kind: Disagreement | None = (
        "disputed" if "disputed" in kinds else "revised" if "revised" in kinds else None
    )
    return Timeline(
        tuple(point for t in each.values() for point in t.points),
        kind,
        tuple(f"{story}: {reason}" for story, t in each.items() for reason in t.reasons),
    )


def timeline(reports: Sequence[Report], same_time_hours: float = SAME_TIME_HOURS) -> Timeline:
    """The reports in publication order (undated last), one point per figure and time, and
    the kind of their disagreement with the reasons for it."""
    ordered = sorted(reports, key=lambda r: (r.published is None, r.published or ""))
    points: list[ReportedFigure] = []
    for report in ordered:
        label = figure_label(report.claim)
        source = report.claim.source or "unknown outlet"
        last = points[-1] if points else None
        if last is not None and last.published == report.published and last.value == label:
            points[-1] = ReportedFigure(
                last.published,
                last.value,
                last.answer,
                (*last.doc_ids, report.claim.doc_id),
                tuple(dict.fromkeys((*last.sources, source))),
                last.story_id,
            )
        else:
            points.append(
                ReportedFigure(
                    report.published,
                    label,
                    report.claim.answer,
                    (report.claim.doc_id,),
                    (source,),
                    report.claim.story_id,
                )
            )
    kinds: list[tuple[Disagreement, str]] = []
    for i, earlier in enumerate(ordered):
        for later in ordered[i + 1 :]:
            if not agree(earlier.claim, later.claim):
                kinds.append(_pair(earlier, later, same_time_hours))
    if not kinds:
        return Timeline(tuple(points), None, ())
    disputed = [reason for kind, reason in kinds if kind == "disputed"]
    if disputed:
        reasons = (f"sources disagree: {r}" for r in dict.fromkeys(disputed))
        return Timeline(tuple(points), "disputed", tuple(reasons))
    reasons = (f"figures changed over time: {r}" for r in dict.fromkeys(r for _, r in kinds))
    return Timeline(tuple(points), "revised", tuple(reasons))


def _pair(earlier: Report, later: Report, hours: float) -> tuple[Disagreement, str]:
    """Whether two differing reports (oldest first) are a revision or a dispute, and why."""
    a, b = earlier.claim, later.claim
    left = f"{figure_label(a)} ({describe(earlier)})"
    right = f"{figure_label(b)} ({describe(later)})"
    if same_time(earlier.published, later.published, hours):
        return "disputed", f"{left} and {right} at about the same time"
    grew = a.value is not None and b.value is not None and _grew(a.value, b.value)
    parties = _party(earlier.attributed_to), _party(later.attributed_to)
    if not grew and all(parties) and parties[0] != parties[1]:
        return "disputed", f"{left} and {right} from different parties"
    if _same_outlet(a, b):
        return "revised", f"{left} -> {right}: the outlet's later report"
    if grew:
        return "revised", f"{left} -> {right}: the count rose as reports came in"
    return "disputed", f"{left} and {right} cannot both be true"


def same_time(a: str | None, b: str | None, hours: float = SAME_TIME_HOURS) -> bool:
    """Whether two publications are at about the same time: within `hours` when both give
    a time, the same day when either gives a day only; undated reports are never."""
    if a is None or b is None:
        return False
    (first, timed_a), (second, timed_b) = published_moment(a), published_moment(b)
    if not (timed_a and timed_b):
        return first.date() == second.date()
    return abs((first - second).total_seconds()) <= hours * 3600


def describe(report: Report) -> str:
    """Who and when, as a reader says it: "Reuters, Mar 9 1987 15:31 UTC"."""
    when = short_date(report.published)
    return ", ".join(part for part in (report.claim.source, when) if part) or report.claim.doc_id


def short_date(published: str | None) -> str:
    """ "1987-03-09" -> "Mar 9 1987"; with a time, "Mar 9 1987 15:31 UTC"."""
    if not published:
        return ""
    moment, timed = published_moment(published)
    day = f"{moment:%b} {moment.day} {moment.year}"
    return f"{day} {moment:%H:%M} UTC" if timed else day


def _same_outlet(a: Claim, b: Claim) -> bool:
    return bool(a.source and b.source and _folded(a.source) == _folded(b.source))


def _folded(outlet: str) -> str:
    return outlet.strip().casefold()


def _grew(earlier: Quantity, later: Quantity) -> bool:
    """A later figure not below the earlier one, each read as the figure it states: "at
    least n" and "more than n" as n, "up to n" and "nearly n" as n, a range as its middle."""
    return _reading(later) >= _reading(earlier)


def _reading(q: Quantity) -> float:
    if q.high is None:
        return q.low
    if q.qualifier in ("up to", "less than", "nearly"):
        return q.high
    return (q.low + q.high) / 2


_ARTICLES = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def _party(attribution: str | None) -> str | None:
    """Who a claim is credited to, for comparing: lower case, without an article."""
    if not attribution:
        return None
    return _ARTICLES.sub("", attribution.strip()).casefold() or None
