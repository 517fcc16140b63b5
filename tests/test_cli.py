"""The `parallax` command line, with the hashing embedder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app

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


def test_a_bad_line_stops_ingest_with_its_number_and_nothing_is_stored(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_text('{"id": "ok", "text": "fine"}\n{"id": "broken", "text": \n')
    result = runner.invoke(app, ["ingest", str(file)], env=env)
    assert result.exit_code == 2
    assert "line 2 of bad.jsonl" in result.output
    listing = runner.invoke(app, ["search", "fine", "--mode", "lexical"], env=env)
    assert "ok [" not in listing.output


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
