"""How `parallax ask` shows an answer: the story, one row per answering source, the
sources that do not answer, and the figures over time with how they disagree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from index.stories import Story
    from search.answers import AskResult, UnansweredDocument


def print_answers(console: Console, question: str, result: AskResult) -> None:
    """Everything `parallax ask` says about a question's answers."""
    if result.story is not None:
        _print_story(console, result.story)
    _print_table(console, question, result)
    _print_unanswered(console, result.unanswered)
    _print_comparison(console, result)


def _print_story(console: Console, chosen: Story) -> None:
    """The story the question is answered within: its id, title, size, outlets, dates."""
    dates = " to ".join(
        dict.fromkeys(d for d in (chosen.first_published, chosen.last_published) if d)
    )
    console.print(
        f"[bold]Story {chosen.id}[/bold]: {escape(chosen.title or '')} "
        f"({_plural(len(chosen.documents), 'document')}"
        f"{': ' + escape(', '.join(chosen.sources)) if chosen.sources else ''}"
        f"{'; ' + dates if dates else ''})"
    )


def _print_table(console: Console, question: str, result: AskResult) -> None:
    """One row per answering source, or why none answers."""
    table = Table(title=question, show_lines=True)
    columns = ("outlet", "answer", "value", "confidence", "attributed to", "sentence", "citation")
    for column in columns:
        table.add_column(column, overflow="fold")
    for answer in result.answers:
        table.add_row(
            escape(answer.document.source or "unknown outlet"),
            f"[bold]{escape(answer.answer)}[/bold]",
            _describe(answer.value),
            f"{answer.confidence:.2f}",
            escape(answer.attributed_to or ""),
            escape(answer.sentence),
            f"{answer.document.id} [{answer.sentence_start}:{answer.sentence_end}]",
        )
    if result.answers:
        console.print(table)
    else:
        console.print(
            f"No source answers this question{': ' + result.note if result.note else '.'}"
        )


def _print_unanswered(console: Console, unanswered: Sequence[UnansweredDocument]) -> None:
    """The sources read that do not answer, each with its sentence closest to the question."""
    from search.timeline import short_date

    if not unanswered:
        return
    silent = Table(title="Not answering: the sentence closest to the question", show_lines=True)
    for column in ("outlet", "date", "context", "citation"):
        silent.add_column(column, overflow="fold")
    for doc in unanswered:
        silent.add_row(
            escape(doc.document.source or "unknown outlet"),
            short_date(doc.document.published) or "undated",
            escape(doc.sentence),
            f"{doc.document.id} [{doc.sentence_start}:{doc.sentence_end}]",
        )
    console.print(silent)


def _print_comparison(console: Console, result: AskResult) -> None:
    """The figures over time, how they disagree and why, the groups that agree, and the
    other stories that match."""
    from search.timeline import short_date

    timeline = result.timeline
    if len(timeline.points) >= 2:
        console.print("Timeline (oldest first):")
        for point in timeline.points:
            console.print(
                f"  {short_date(point.published) or 'undated':<22} {escape(point.value)}  "
                f"({escape(', '.join(point.sources))})"
            )
    comparison = result.comparison
    kind = timeline.disagreement
    if kind is not None:
        title, colour = _DISAGREEMENT[kind]
        figures = _figures(timeline.points, kind)
        console.print(f"[bold {colour}]{title}:[/bold {colour}] {escape(figures)}".rstrip())
    for reason in comparison.reasons:
        console.print(f"  - {escape(_without_kind(reason))}")
    for group in comparison.groups:
        console.print(f"  {escape(group.value)}: {', '.join(group.doc_ids)}")
    if result.other_stories:
        console.print("Other stories that match (ask again with --story ID):")
        for match in result.other_stories:
            console.print(
                f"  {match.story.id}  {escape(match.story.title or '')} "
                f"({_plural(len(match.story.documents), 'document')})"
            )


# How `ask` names a disagreement, and its colour.
_DISAGREEMENT = {
    "revised": ("Figures changed over time", "yellow"),
    "disputed": ("Sources disagree", "red"),
}


def _without_kind(reason: str) -> str:
    """A timeline reason without its kind ("sources disagree: "), which `ask` says above it;
    the story it is of stays in front when the question spans several ("s000002: ...")."""
    story, _, rest = reason.partition(": ") if reason[:1] == "s" else ("", "", reason)
    if not rest or not story[1:].isdigit():
        story, rest = "", reason
    for title, _ in _DISAGREEMENT.values():
        if rest.casefold().startswith(f"{title.casefold()}: "):
            rest = rest[len(title) + 2 :]
            break
    return f"{story}: {rest}" if story else rest


def _figures(points: tuple[Any, ...], kind: str) -> str:
    """The timeline's figures with who gave them and when: each change in turn when revised
    ("at least six (Lorn Tribune, Apr 2 2024) -> 31 (Lorn Tribune, Apr 4 2024)"), each figure
    once when disputed ("two (Velsk Courier, ...) vs four (Karvia Post, ...)"); a date that
    all share is said once, at the end."""
    from search.timeline import short_date

    dates = {short_date(point.published) or "undated" for point in points}
    shared = next(iter(dates)) if len(dates) == 1 and "undated" not in dates else None
    runs: list[tuple[str, list[Any]]] = []
    for point in points:
        same = (
            [run for run in runs[-1:] if run[0] == point.value]
            if kind == "revised"
            else [run for run in runs if run[0] == point.value]
        )
        if same:
            same[0][1].append(point)
        else:
            runs.append((point.value, [point]))

    def who_and_when(members: list[Any]) -> str:
        if shared:
            return ", ".join(dict.fromkeys(s for member in members for s in member.sources))
        return "; ".join(
            ", ".join([*member.sources, short_date(member.published) or "undated"])
            for member in members
        )

    joiner = " -> " if kind == "revised" else " vs "
    figures = joiner.join(f"{value} ({who_and_when(members)})" for value, members in runs)
    return f"{figures}, all on {shared}" if shared else figures


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _describe(value: Any) -> str:
    """A quantity as a reader would say it: "at least 62", "2,000-9,999", "25"."""
    if value is None:
        return ""
    low = f"{value.low:,.0f}"
    if value.high is None:
        return f"{value.qualifier or 'at least'} {low}"
    if value.high != value.low:
        return f"{low}-{value.high:,.0f}"
    qualifier = value.qualifier if value.qualifier not in (None, "exact") else ""
    return f"{qualifier} {low}".strip()
