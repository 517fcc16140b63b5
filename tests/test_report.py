"""Evaluation reports and result comparison (evaluation/report.py), over hand-built run results."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from evaluation.report import compare, write_report
from index.errors import BadRequest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _doc(doc_id: str, rank: int | None, answer: str | None, correct: bool) -> dict[str, Any]:
    return {
        "doc_id": doc_id,
        "hit_rank": rank,
        "found": rank is not None and rank <= 2,
        "answer": answer,
        "sentence": None if answer is None else f"{answer} were reported.",
        "answer_correct": correct,
    }


def make_run(name: str = "hybrid") -> dict[str, Any]:
    """Three questions, per_source 2: one clean hit, and one miss of each kind."""
    return {
        "name": name,
        "config": {
            "mode": name,
            "k": 10,
            "per_source": 2,
            "corpus": "seeds",
            "questions": "questions.jsonl",
            "url": None,
            "model": "all-MiniLM-L6-v2",
            "started_at": "2026-11-22T03:30:00+00:00",
        },
        "metrics": {
            "primary": "answer_accuracy",
            "source_recall": 0.966,
            "mrr": 0.91,
            "answer_accuracy": 0.931,
            "coverage": 0.97,
            "conflict_accuracy": 1.0,
            "conflict_precision": 1.0,
            "conflict_recall": 1.0,
            "questions": 3,
            "expected_documents": 5,
            "latency_ms": {"search": {"p50": 30.1, "p95": 45.2}, "ask": {"p50": 60.0, "p95": 80.0}},
        },
        "questions": [
            {
                "id": "injured",
                "question": "How many were injured?",
                "conflict_expected": True,
                "conflict_predicted": True,
                "latency_ms": {"search": 31.0, "ask": 59.0},
                "source_recall": 0.5,
                "answer_accuracy": 0.5,
                "documents": [
                    _doc("000_487d20731cd06fa7", 1, "At least 10 demonstrators", True),
                    _doc("003_aaaa", None, None, False),
                ],
            },
            {
                "id": "crowd",
                "question": "How many marched?",
                "conflict_expected": False,
                "conflict_predicted": True,
                "latency_ms": {"search": 28.0, "ask": 64.0},
                "source_recall": 1.0,
                "answer_accuracy": 0.5,
                "documents": [
                    _doc("001_bbbb", 2, "5,000 | maybe 6,000", False),
                    _doc("002_cccc", 1, "about 6,000", True),
                ],
            },
            {
                "id": "who-said",
                "question": "What did the minister say?",
                "conflict_expected": None,
                "conflict_predicted": False,
                "latency_ms": {"search": 45.0, "ask": 80.0},
                "source_recall": 0.0,
                "answer_accuracy": 1.0,
                "documents": [_doc("004_dddd", 3, "the minister denied it", True)],
            },
        ],
    }


def _section(markdown: str, title: str) -> str:
    """The text under a `## title` heading, up to the next heading."""
    return markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0].strip()


def _cells(line: str) -> list[str]:
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


@pytest.fixture
def one_run_report(tmp_path: Path) -> tuple[list[Path], str]:
    paths = write_report([make_run()], tmp_path / "report.md")
    return paths, paths[0].read_text(encoding="utf-8")


def test_report_and_plots_are_written_as_valid_files(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    paths = write_report([make_run()], tmp_path / "report.md")

    assert paths[0] == tmp_path / "report.md"
    assert [p.name for p in paths[1:]] == ["report-recall.png", "report-latency.png"]
    assert paths[0].stat().st_size > 0
    for png in paths[1:]:
        assert png.parent == tmp_path
        assert png.read_bytes().startswith(PNG_SIGNATURE)
        assert png.stat().st_size > 1000
    # A long-running server would leak memory with every report otherwise.
    assert plt.get_fignums() == []


def test_title_names_the_main_run_config(one_run_report: tuple[list[Path], str]) -> None:
    _, markdown = one_run_report
    head = markdown.split("## Summary", 1)[0]
    assert head.startswith("# parallax eval: hybrid")
    for value in ("questions.jsonl", "seeds", "mode `hybrid`", "k 10", "per_source 2"):
        assert value in head
    assert "all-MiniLM-L6-v2" in head
    assert "2026-11-22 03:30 UTC" in head


def test_summary_shows_metrics_with_the_primary_in_bold(
    one_run_report: tuple[list[Path], str],
) -> None:
    _, markdown = one_run_report
    summary = _section(markdown, "Summary")
    assert "| **answer_accuracy** | **0.931** |" in summary
    assert "| source_recall | 0.966 |" in summary
    assert "| questions | 3 |" in summary
    assert "| search p50 (ms) | 30.1 |" in summary
    assert "| ask p95 (ms) | 80.0 |" in summary


def test_misses_list_each_failure_with_what_went_wrong(
    one_run_report: tuple[list[Path], str],
) -> None:
    _, markdown = one_run_report
    misses = _section(markdown, "Misses")
    rows = {_cells(line)[2].strip(): _cells(line) for line in misses.splitlines()[2:] if line}

    assert set(rows) == {"003_aaaa", "001_bbbb", "004_dddd"}
    not_found = [cell.strip() for cell in rows["003_aaaa"]]
    assert not_found[0] == "injured"
    assert not_found[3:] == ["-", "no answer", "passage not in top 2; no answer"]
    assert rows["001_bbbb"][5].strip() == "wrong answer"
    # Answered correctly from a passage ranked too low to count as found.
    assert [c.strip() for c in rows["004_dddd"][3:]] == [
        "3",
        "the minister denied it",
        "passage not in top 2",
    ]


def test_misses_come_before_the_per_question_table(
    one_run_report: tuple[list[Path], str],
) -> None:
    _, markdown = one_run_report
    assert markdown.index("## Misses") < markdown.index("## Per question")
    assert markdown.index("## Per question") < markdown.index("| Correct | Conflict exp / pred |")


def test_per_question_table_lists_every_question_and_document(
    one_run_report: tuple[list[Path], str],
) -> None:
    _, markdown = one_run_report
    table = _section(markdown, "Per question")
    for question_id in ("injured", "crowd", "who-said"):
        assert f"| {question_id} |" in table
    lines = {_cells(line)[2].strip(): line for line in table.splitlines() if line.startswith("|")}
    assert "| 1 | At least 10 demonstrators | ✓ | yes / yes ✓ |" in lines["000_487d20731cd06fa7"]
    assert "| - | no answer | ✗ |" in lines["003_aaaa"]
    assert "no / yes ✗" in lines["001_bbbb"]
    # An unlabelled conflict is shown as unknown, not as a mistake.
    assert lines["004_dddd"].endswith("| - / no |")


def test_plots_are_embedded_with_links_that_resolve(
    one_run_report: tuple[list[Path], str],
) -> None:
    paths, markdown = one_run_report
    links = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", markdown)
    assert sorted(links) == ["report-latency.png", "report-recall.png"]
    for link in links:
        assert (paths[0].parent / link).is_file()


def test_one_run_has_no_comparison_plot(one_run_report: tuple[list[Path], str]) -> None:
    paths, markdown = one_run_report
    assert not any(p.name.endswith("-runs.png") for p in paths)
    assert "-runs.png" not in markdown


def test_two_runs_add_a_column_each_and_a_comparison_plot(tmp_path: Path) -> None:
    baseline = make_run("dense")
    baseline["metrics"]["answer_accuracy"] = 0.8
    paths = write_report([make_run(), baseline], tmp_path / "eval" / "week.md")

    comparison = tmp_path / "eval" / "week-runs.png"
    assert comparison in paths
    assert comparison.read_bytes().startswith(PNG_SIGNATURE)
    summary = _section(paths[0].read_text(encoding="utf-8"), "Summary")
    assert summary.startswith("| Metric | hybrid | dense |")
    assert "| **answer_accuracy** | **0.931** | **0.800** |" in summary
    assert "![Main metrics across runs](week-runs.png)" in summary


def test_a_pipe_in_an_answer_does_not_break_the_tables(
    one_run_report: tuple[list[Path], str],
) -> None:
    _, markdown = one_run_report
    for title in ("Misses", "Per question"):
        table = [line for line in _section(markdown, title).splitlines() if line.startswith("|")]
        header, row = table[0], next(line for line in table if "001_bbbb" in line)
        assert len(_cells(row)) == len(_cells(header))
        assert r"5,000 \| maybe 6,000" in row


def test_a_run_where_nothing_was_missed_says_so(tmp_path: Path) -> None:
    run = make_run()
    run["questions"] = run["questions"][:1]
    run["questions"][0]["documents"] = run["questions"][0]["documents"][:1]
    paths = write_report([run], tmp_path / "report.md")
    misses = _section(paths[0].read_text(encoding="utf-8"), "Misses")
    assert "Every expected document was found and answered correctly." in misses


def _compared() -> str:
    before, after = make_run(), make_run("tuned")
    after["metrics"]["answer_accuracy"] = 0.965
    after["metrics"]["source_recall"] = 0.866
    after["metrics"]["latency_ms"]["search"]["p50"] = 35.3
    after["metrics"]["latency_ms"]["ask"]["p95"] = 70.0
    after["questions"][0]["documents"][0]["answer_correct"] = False
    after["questions"][1]["documents"][0]["answer_correct"] = True
    return compare({"runs": [before, make_run("dense")]}, {"runs": [after]})


def test_compare_shows_signed_deltas() -> None:
    table = _compared()
    assert table.startswith("| Metric | A (hybrid) | B (tuned) | B − A |")
    assert "| answer_accuracy | 0.931 | 0.965 | +0.034 |" in table
    assert "| source_recall | 0.966 | 0.866 | -0.100 |" in table
    assert "| mrr | 0.910 | 0.910 | +0.000 |" in table
    assert "| search p50 (ms) | 30.1 | 35.3 | +5.2 ms |" in table
    assert "| ask p95 (ms) | 80.0 | 70.0 | -10.0 ms |" in table


def test_compare_lists_answers_that_flipped() -> None:
    table = _compared()
    assert "**Correct → wrong** (1): `injured` / `000_487d20731cd06fa7`" in table
    assert "**Wrong → correct** (1): `crowd` / `001_bbbb`" in table


def test_compare_of_a_file_without_runs_says_what_is_expected() -> None:
    with pytest.raises(BadRequest, match=r"result B has no runs: expected \{\"runs\""):
        compare({"runs": [make_run()]}, {"results": []})


def test_report_needs_a_run(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="at least one run"):
        write_report([], tmp_path / "report.md")
    assert not (tmp_path / "report.md").exists()


def test_report_does_not_change_the_runs(tmp_path: Path) -> None:
    runs = [make_run(), make_run("dense")]
    before = copy.deepcopy(runs)
    write_report(runs, tmp_path / "report.md")
    assert runs == before


def test_a_reader_with_confidence_gets_a_calibration_section_and_column(tmp_path: Path) -> None:
    from evaluation.metrics import calibration

    run = make_run()
    run["metrics"]["calibration"] = calibration([0.05, 0.85, 0.95], [False, True, False])
    run["questions"][0]["documents"][0]["confidence"] = 0.85
    run["questions"][0]["no_answer"] = [{"doc_id": "005_eeee", "answer": "9", "confidence": 0.2}]
    baseline = make_run("baseline")  # no confidence: no calibration column for it
    paths = write_report([run, baseline], tmp_path / "report.md")
    markdown = paths[0].read_text(encoding="utf-8")

    assert tmp_path / "report-calibration.png" in paths
    section = _section(markdown, "Calibration")
    assert section.splitlines()[2].startswith("| Confidence | hybrid: answers | hybrid: right |")
    assert "baseline" not in section
    assert "| 0.0–0.1 | 1 | 0.000 |" in section and "| 0.8–0.9 | 1 | 1.000 |" in section
    assert "| ≥ 0.8 | 2 | 0.500 |" in section and "| all | 3 | 0.333 |" in section
    assert "![Confidence against the share right](report-calibration.png)" in section
    # The calibration is a table of its own, not a row of the summary.
    assert "calibration" not in _section(markdown, "Summary")
    table = _section(markdown, "Per question")
    assert "| Answer | Confidence | Correct |" in table
    assert "| At least 10 demonstrators | 0.850 | ✓ |" in table
    # A document that does not answer but was given an answer is a miss.
    misses = _section(markdown, "Misses")
    assert "| 005_eeee | - | 9 | answered, but the document does not answer (no_answer) |" in misses
