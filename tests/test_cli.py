"""The `parallax` command line, with the hashing embedder."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from helpers import FERRY

runner = CliRunner()


def test_build_then_search_prints_a_cited_table(env: dict[str, str]) -> None:
    built = runner.invoke(app, ["build"], env=env)
    assert built.exit_code == 0, built.output
    assert "5 documents" in built.output

    found = runner.invoke(app, ["search", "Stephanie Grisham press secretary"], env=env)
    assert found.exit_code == 0, found.output
    assert "Stephanie Grisham" in found.output
    assert "NBC News" in found.output
    assert "001_f41bc6fbf25c952a [" in found.output  # the citation column


def test_ingest_adds_documents_that_search_finds_at_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    lines = [
        {
            "id": f"doc-{n}",
            "source": "Wire",
            "text": f"Report {n}: the harbour crane number {n} fell.",
        }
        for n in range(30)
    ]
    lines.append({"id": "volcano", "source": "Wire", "text": "A volcano erupted near Catania."})
    file = tmp_path / "docs.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

    result = runner.invoke(app, ["ingest", str(file)], env=env)
    assert result.exit_code == 0, result.output
    assert "31 added" in result.output

    again = runner.invoke(app, ["ingest", str(file)], env=env)
    assert "31 unchanged" in again.output

    found = runner.invoke(app, ["search", "volcano erupted", "--mode", "lexical"], env=env)
    assert "Catania" in found.output


def test_a_bad_line_is_refused_with_its_number_and_the_rest_is_stored(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_text('{"id": "ok", "text": "fine"}\n{"id": "broken", "text": \n')
    result = runner.invoke(app, ["ingest", str(file)], env=env)
    assert result.exit_code == 0, result.output
    assert "1 added, 0 replaced, 0 unchanged, 1 refused" in result.output
    assert f"refused line 2 of {file}: invalid JSON" in result.output
    listing = runner.invoke(app, ["search", "fine", "--mode", "lexical"], env=env)
    assert "ok [" in listing.output


def test_a_refused_document_leaves_the_stored_one_as_it_was(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "wire.jsonl"
    file.write_text('{"id": "ok", "text": "The ferry to Lorn sailed on time."}\n')
    assert runner.invoke(app, ["ingest", str(file)], env=env).exit_code == 0
    file.write_text(
        '{"id": "ok", "text": "The ferry to Lorn was cancelled.", "published": "last week"}\n'
        '{"id": "other", "text": "Rain is forecast for Velsk."}\n'
    )
    result = runner.invoke(app, ["ingest", str(file)], env=env)
    assert result.exit_code == 0, result.output
    assert "1 added, 0 replaced, 0 unchanged, 1 refused" in result.output
    assert "'published' must be" in result.output
    found = runner.invoke(app, ["search", "ferry Lorn", "--mode", "lexical"], env=env)
    assert "sailed on time" in found.output and "cancelled" not in found.output


def test_ingest_that_reads_nothing_fails_with_every_reason(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_text('{"id": "broken", "text": \n')
    missing = tmp_path / "missing.html"
    result = runner.invoke(app, ["ingest", str(file), str(missing)], env=env)
    assert result.exit_code == 2
    assert f"refused line 1 of {file}: invalid JSON" in result.output
    assert f"refused {missing}: no such file or directory" in result.output
    assert "error: nothing could be read" in result.output


def test_ingest_reads_a_directory_and_counts_what_it_skips(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "ferry.txt").write_text(
        "Ferry strike ends\n\nThe ferry crews of Lorn ended their strike on Friday.\n"
    )
    (folder / "wire.jsonl").write_text('{"id": "rain", "text": "Rain is forecast for Velsk."}\n')
    (folder / "chart.png").write_bytes(b"\x89PNG")
    result = runner.invoke(app, ["ingest", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    assert "2 added, 0 replaced, 0 unchanged, 0 refused, 1 skipped" in result.output
    assert "skipped 1: .png is not a supported file type" in result.output
    found = runner.invoke(app, ["search", "ferry strike", "--mode", "lexical"], env=env)
    assert "ferry [" in found.output


def test_bad_mode_is_refused(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["search", "x", "--mode", "fuzzy"], env=env)
    assert result.exit_code == 2
    assert "mode: Input should be" in result.output


def test_a_thousand_document_file_ingests_with_progress_and_is_searchable(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "thousand.jsonl"
    with file.open("w") as handle:
        for n in range(1000):
            text = f"Bulletin {n}. The river port of town{n} reported cargo volume {n * 7} tonnes."
            handle.write(json.dumps({"id": f"b{n}", "source": "Wire", "text": text}) + "\n")
    result = runner.invoke(app, ["ingest", str(file)], env=env)
    assert result.exit_code == 0, result.output
    assert "1000 added" in result.output
    found = runner.invoke(
        app, ["search", "town737 cargo", "--mode", "lexical", "--k", "1"], env=env
    )
    assert "b737 [" in found.output


def test_ask_prints_each_sources_answer_and_the_conflict(env: dict[str, str]) -> None:
    result = runner.invoke(
        app, ["ask", "How many militia fighters were killed in the airstrikes?"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "At least 25 militia fighters" in result.output
    assert "Sources disagree" in result.output
    assert "The Globe and Mail" in result.output


def test_ask_prints_confidences_the_figures_over_time_and_the_kind(env: dict[str, str]) -> None:
    result = runner.invoke(
        app, ["ask", "How many militia fighters were killed in the airstrikes?"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "confidence" in result.output  # a column of the answers
    assert re.search(r"│ 0\.\d\d +│", result.output), result.output
    lines = result.output.splitlines()
    timeline = lines[lines.index("Timeline (oldest first):") + 1 :][:3]
    assert [line.split() for line in timeline] == [
        ["Dec", "31", "2019", "at", "least", "25", "(NBC", "News)"],
        ["Dec", "31", "2019", "25", "(unknown", "outlet,", "The", "Hill)"],
        ["Dec", "31", "2019", "24", "(The", "Globe", "and", "Mail)"],
    ]
    # Reports of one day that cannot all be true: disputed, the day said once.
    assert (
        "Sources disagree: at least 25 (NBC News) vs 25 (unknown outlet, The Hill) vs 24 "
        "(The Globe and Mail), all on Dec 31 2019" in result.output
    )
    assert "Figures changed over time" not in result.output


def test_ask_lists_the_documents_that_do_not_answer_with_their_closest_sentence(
    env: dict[str, str],
) -> None:
    result = runner.invoke(app, ["ask", "How many were injured?"], env=env)
    assert result.exit_code == 0, result.output
    assert "No source answers this question." in result.output
    assert "Not answering: the sentence closest to the question" in result.output
    row = next(line for line in result.output.splitlines() if "Three trailers" in line)
    assert row.split("│")[1:3] == [" The Hill       ", " Dec 31 2019 "]
    assert "002_811ad477ead50ed2 [2864:2985]" in row  # the context sentence's citation
    assert "unknown outlet" in result.output  # the seed without an outlet


def test_ask_says_the_figures_changed_over_time_when_a_later_report_revises_them(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "ferry.jsonl"
    file.write_text("".join(json.dumps(doc) + "\n" for doc in FERRY))
    assert runner.invoke(app, ["ingest", str(file)], env=env).exit_code == 0
    result = runner.invoke(
        app, ["ask", "How many passengers were killed when the ferry capsized off Lorn?"], env=env
    )
    assert result.exit_code == 0, result.output
    assert (
        "Figures changed over time: at least six (Lorn Tribune, Apr 2 2024) -> thirty-one "
        "(Lorn Tribune, Apr 4 2024)" in result.output
    )
    assert "Sources disagree" not in result.output
    assert "the outlet's later report" in result.output
    lines = result.output.splitlines()
    timeline = lines[lines.index("Timeline (oldest first):") + 1 :][:2]
    assert [line.split() for line in timeline] == [
        ["Apr", "2", "2024", "at", "least", "six", "(Lorn", "Tribune)"],
        ["Apr", "4", "2024", "thirty-one", "(Lorn", "Tribune)"],
    ]
    row = next(line for line in lines if "Divers reached the wreck" in line)
    assert [cell.strip() for cell in row.split("│")[1:5]] == [
        "Harbour News",
        "Apr 4 2024",
        "Divers reached the wreck of the ferry Marisol off the port of Lorn on Thursday.",
        "harbour-news [0:79]",
    ]
