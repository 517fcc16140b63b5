"""Stories on the command line and in evaluation: `stories`, `ask --story`, ingest's report,
`eval-stories` and scoping in `eval --labels` (hashing embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from evaluation.metrics import Question, load_story_labels, question_row, summarize
from helpers import ARTICLES, GOLD

runner = CliRunner()


def _articles_file(tmp_path: Path, label: bool = False) -> Path:
    lines = []
    for doc_id, event, source, published, title, text in ARTICLES:
        record = {"id": doc_id, "source": source, "title": title, "published": published}
        record["text"] = text
        if label:
            record["story"] = event
        lines.append(json.dumps(record))
    path = tmp_path / ("labels.jsonl" if label else "articles.jsonl")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ingest_says_how_many_stories_the_documents_formed(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["ingest", str(_articles_file(tmp_path))], env=env)
    assert result.exit_code == 0, result.output
    assert "9 added" in result.output
    assert "the documents form 5 stories (5 new)" in result.output


def test_stories_lists_the_latest_first_with_outlets_and_dates(
    env: dict[str, str], tmp_path: Path
) -> None:
    runner.invoke(app, ["ingest", str(_articles_file(tmp_path))], env=env)
    result = runner.invoke(app, ["stories"], env=env)
    assert result.exit_code == 0, result.output
    assert "6 stories, 14 documents" in result.output  # the seeds' story and five more
    lines = result.output.splitlines()
    port = next(n for n, line in enumerate(lines) if "Velmar" in line)
    seeds = next(n for n, line in enumerate(lines) if "Baghdad" in line)
    assert port < seeds  # May 2021 before December 2019
    assert "2021-05-04 to 2021-05-07" in result.output


def test_ask_answers_within_one_story_and_lists_the_others(
    env: dict[str, str], tmp_path: Path
) -> None:
    runner.invoke(app, ["ingest", str(_articles_file(tmp_path))], env=env)
    result = runner.invoke(app, ["ask", "How many people did the Karvia floods kill?"], env=env)
    assert result.exit_code == 0, result.output
    assert "Story s0" in result.output and "Karvia" in result.output
    assert "Other stories that match" in result.output
    unknown = runner.invoke(app, ["ask", "How many?", "--story", "s999999"], env=env)
    assert unknown.exit_code == 2
    assert "no story with id 's999999'" in unknown.output


def test_eval_stories_scores_b_cubed_with_a_threshold_curve_and_gates(
    env: dict[str, str], tmp_path: Path
) -> None:
    labels = _articles_file(tmp_path, label=True)
    out = tmp_path / "stories.json"
    result = runner.invoke(
        app,
        ["eval-stories", str(labels), "--sweep", "0.05,0.9", "--json", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert body["documents"] == 9 and body["gold_stories"] == 5
    assert body["gold_multi_document_stories"] == 3
    assert (body["precision"], body["recall"], body["f1"]) == (1.0, 1.0, 1.0)
    assert body["stories"] == 5 and body["threshold"] == 0.25
    assert body["story_ms_per_document"] > 0 and 0 < body["story_share_of_ingest"] < 1
    curve = {row["threshold"]: row for row in body["sweep"]}
    assert curve[0.05]["recall"] == 1.0 and curve[0.05]["precision"] < 1.0  # too loose: merges
    assert curve[0.9]["precision"] == 1.0 and curve[0.9]["recall"] < 1.0  # too strict: splits
    assert "b-cubed f1=1.000" in result.output

    gated = runner.invoke(
        app,
        ["eval-stories", str(labels), "--min-f1", "0.9", "--story-threshold", "0.99"],
        env=env,
    )
    assert gated.exit_code == 1
    assert "thresholds missed: f1" in gated.output


def test_eval_stories_refuses_labels_it_cannot_find_documents_for(
    env: dict[str, str], tmp_path: Path
) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": "nowhere-1", "story": "a"}\n{"id": "r999999", "story": "b"}\n')
    result = runner.invoke(
        app, ["eval-stories", str(labels), "--reuters", str(tmp_path / "none")], env=env
    )
    assert result.exit_code == 2
    assert "2 labelled documents not found (nowhere-1, r999999)" in result.output
    twice = tmp_path / "twice.jsonl"
    twice.write_text('{"id": "a", "story": "x"}\n{"id": "a", "story": "y"}\n')
    with pytest.raises(Exception, match="line 2 of twice.jsonl: document 'a' is labelled twice"):
        load_story_labels(twice)


def test_eval_with_labels_scores_scoping_and_stories_mixed_in_a_conflict() -> None:
    gold = {"a1": "A", "a2": "A", "b1": "B"}
    question = Question("q", "How many in A?", {"a1": ("10",), "a2": ("12",)}, True, story="A")
    scoped = question_row(
        question,
        {},
        {"a1": ("10", "s"), "a2": ("12", "s")},
        True,
        2,
        {"ask": 1.0},
        gold,
        [["a1"], ["a2"]],
        ["a1", "a2"],
    )
    mixed = question_row(
        question,
        {},
        {"a1": ("10", "s"), "b1": ("99", "s")},
        True,
        2,
        {"ask": 1.0},
        gold,
        [["a1"], ["b1"]],
        ["b1", "b1", "a1"],
    )
    assert scoped["scope"] == {
        "answers": 2,
        "in_story": 2,
        "right_story": True,
        "mixed_conflict": False,
    }
    assert mixed["scope"]["in_story"] == 1 and mixed["scope"]["mixed_conflict"] is True
    metrics = summarize([scoped, mixed])
    assert metrics["scoping"] == 0.75  # 3 of 4 answers from the story the question names
    # The second showed passages of both stories, one document each: not the right story.
    assert metrics["story_accuracy"] == 0.5
    assert metrics["mixed_conflicts"] == 1


def test_eval_with_labels_runs_the_question_set_over_the_labelled_documents(
    env: dict[str, str], tmp_path: Path
) -> None:
    labels = _articles_file(tmp_path, label=True)
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "flood-toll",
                "question": "How many people did the Karvia floods kill?",
                "story": "flood",
                "expected": {"flood-1": ["12"], "flood-2": ["19"], "flood-3": ["23"]},
                "conflict": True,
            }
        )
        + "\n"
    )
    out = tmp_path / "run.json"
    result = runner.invoke(
        app,
        [
            "eval",
            str(questions),
            "--labels",
            str(labels),
            "--json",
            str(out),
            "--min-scoping",
            "0.95",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())["runs"][0]["metrics"]
    assert metrics["scoping"] == 1.0 and metrics["mixed_conflicts"] == 0
    row = json.loads(out.read_text())["runs"][0]["questions"][0]
    assert set(GOLD[d] for d in (a["doc_id"] for a in row["documents"])) == {"flood"}
