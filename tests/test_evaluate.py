"""Evaluation metrics on hand-made runs with known answers, and the eval commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from evaluation.metrics import (
    Question,
    load_questions,
    percentiles,
    question_row,
    retrieval_metrics,
    summarize,
)
from helpers import SEEDS, SHARED, serve_app

Q1 = Question("q1", "How many?", {"a": ("ten",), "b": ("62",)}, conflict=True)
Q2 = Question("q2", "Who?", {"c": ("Grisham",)}, conflict=False)


def _row(question: Question, groups: dict, answers: dict, conflict: bool, ms: float = 10.0):  # type: ignore[no-untyped-def]
    return question_row(question, groups, answers, conflict, 2, {"search": ms, "ask": 2 * ms})


def test_a_perfect_run_scores_one_everywhere() -> None:
    rows = [
        _row(
            Q1, {"a": ["ten hurt"], "b": ["62 hurt"]}, {"a": ("ten", "s"), "b": ("62", "s")}, True
        ),
        _row(Q2, {"c": ["Grisham said"]}, {"c": ("Grisham", "s")}, False),
    ]
    metrics = summarize(rows)
    for name in ("source_recall", "mrr", "answer_accuracy", "coverage", "conflict_accuracy"):
        assert metrics[name] == 1.0, name
    assert metrics["conflict_precision"] == metrics["conflict_recall"] == 1.0
    assert metrics["primary"] == "answer_accuracy"
    assert metrics["expected_documents"] == 3


def test_an_empty_run_scores_zero_and_undefined_ratios_are_none() -> None:
    rows = [_row(Q1, {}, {}, False), _row(Q2, {}, {}, False)]
    metrics = summarize(rows)
    assert metrics["source_recall"] == metrics["mrr"] == metrics["answer_accuracy"] == 0.0
    assert metrics["coverage"] == 0.0
    assert metrics["conflict_accuracy"] == 0.5  # q2 expected no conflict and got none
    assert metrics["conflict_precision"] is None  # nothing was flagged
    assert metrics["conflict_recall"] == 0.0
    assert summarize([])["source_recall"] is None


def test_partial_hits_give_reciprocal_ranks_and_recall_within_per_source() -> None:
    rows = [
        # a: correct at rank 3 (beyond per_source 2), b: at rank 2; answers: a wrong, b none.
        _row(Q1, {"a": ["x", "y", "ten"], "b": ["x", "62"]}, {"a": ("nine", "nine")}, True),
        _row(Q2, {"c": ["Grisham"]}, {"c": ("Grisham", "")}, True),
    ]
    metrics = summarize(rows)
    assert metrics["source_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["mrr"] == pytest.approx((1 / 3 + 1 / 2 + 1) / 3, abs=1e-4)
    assert metrics["answer_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["coverage"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["conflict_precision"] == 0.5 and metrics["conflict_recall"] == 1.0
    miss = rows[0]["documents"][0]
    assert miss == {
        "doc_id": "a",
        "hit_rank": 3,
        "found": False,
        "answer": "nine",
        "sentence": "nine",
        "confidence": None,  # given without one
        "answer_correct": False,
    }


def test_ties_in_latency_and_rank_are_handled_exactly() -> None:
    assert percentiles([5.0, 5.0, 5.0]) == {"p50": 5.0, "p95": 5.0}
    assert percentiles([1.0, 2.0, 3.0, 4.0]) == {"p50": 2.5, "p95": 3.85}
    assert percentiles([]) == {"p50": None, "p95": None}
    # Two questions whose gold document ties at rank 1 count once each.
    assert retrieval_metrics([1, 1, None, 4]) == {
        "recall@1": 0.5,
        "recall@5": 0.75,
        "recall@10": 0.75,
        "mrr": pytest.approx((1 + 1 + 0.25) / 4, abs=1e-4),
    }


def test_a_question_set_with_a_bad_line_says_which(tmp_path: Path) -> None:
    from index.errors import DocumentError

    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "x", "question": "Q?", "expected": {"a": ["("]}}\n')
    with pytest.raises(DocumentError, match="line 1 of q.jsonl"):
        load_questions(path)


def test_eval_cli_writes_json_and_a_report_with_plots_and_gates_on_thresholds(
    env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    questions = SHARED / "eval" / "questions.jsonl"
    out, report = tmp_path / "run.json", tmp_path / "out" / "report.md"
    result = runner.invoke(
        app,
        ["eval", str(questions), "--baselines", "--json", str(out), "--report", str(report)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    runs = json.loads(out.read_text())["runs"]
    assert [run["name"] for run in runs] == ["hybrid", "dense", "lexical"]
    main = runs[0]["metrics"]
    assert main["questions"] == 10 and main["expected_documents"] == 29
    assert f"source_recall={main['source_recall']:.3f}" in result.output
    text = report.read_text()
    assert f"{main['source_recall']:.3f}" in text and "## Misses" in text
    for png in ("report-recall.png", "report-latency.png", "report-runs.png"):
        assert (report.parent / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({png})" in text

    gated = runner.invoke(app, ["eval", str(questions), "--min-source-recall", "1.01"], env=env)
    assert gated.exit_code == 1
    assert "thresholds missed: source_recall" in gated.output

    other = tmp_path / "other.json"
    runner.invoke(app, ["eval", str(questions), "--mode", "lexical", "--json", str(other)], env=env)
    compared = runner.invoke(app, ["eval", "--compare", str(out), str(other)], env=env)
    assert compared.exit_code == 0, compared.output
    assert "B − A" in compared.output and "source_recall" in compared.output


def test_eval_over_http_measures_a_running_server(env: dict[str, str], tmp_path: Path) -> None:

    from api.app import create_app
    from api.settings import Settings

    settings = Settings(data_dir=tmp_path / "srv", seeds_dir=SEEDS, embedder="hashing")
    running = serve_app(create_app(settings))
    port = int(running.url.rsplit(":", 1)[1])
    try:
        out = tmp_path / "http.json"
        result = CliRunner().invoke(
            app,
            [
                "eval",
                str(SHARED / "eval" / "questions.jsonl"),
                "--url",
                f"http://127.0.0.1:{port}",
                "--json",
                str(out),
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
        run = json.loads(out.read_text())["runs"][0]
        assert run["config"]["url"] == f"http://127.0.0.1:{port}"
        assert run["metrics"]["latency_ms"]["search"]["p50"] > 0
    finally:
        running.stop()

    unreachable = CliRunner().invoke(
        app,
        ["eval", str(SHARED / "eval" / "questions.jsonl"), "--url", f"http://127.0.0.1:{port}"],
        env=env,
    )
    assert unreachable.exit_code == 2
    assert "cannot reach" in unreachable.output


def test_eval_squad_reports_recall_and_answer_containment(
    env: dict[str, str], tmp_path: Path
) -> None:
    squad = {
        "version": "1.1",
        "data": [
            {
                "title": "Rivers",
                "paragraphs": [
                    {
                        "context": "The Danube flows through ten countries. It is 2,850 km long.",
                        "qas": [
                            {
                                "id": "r1",
                                "question": "How long is the Danube?",
                                "answers": [{"text": "2,850 km", "answer_start": 0}],
                            },
                        ],
                    },
                    {
                        "context": "The Rhine rises in the Swiss Alps and reaches the North Sea.",
                        "qas": [
                            {
                                "id": "r2",
                                "question": "Where does the Rhine rise?",
                                "answers": [{"text": "Swiss Alps", "answer_start": 0}],
                            },
                        ],
                    },
                ],
            }
        ],
    }
    file = tmp_path / "squad.json"
    file.write_text(json.dumps(squad))
    out = tmp_path / "squad-out.json"
    result = CliRunner().invoke(app, ["eval-squad", str(file), "--json", str(out)], env=env)
    assert result.exit_code == 0, result.output
    results = {r["mode"]: r for r in json.loads(out.read_text())["results"]}
    assert set(results) == {"dense", "lexical", "hybrid"}
    assert results["lexical"]["recall@1"] == 1.0 and results["lexical"]["mrr"] == 1.0
    assert results["hybrid"]["questions"] == 2
    assert "recall@1" in result.output
