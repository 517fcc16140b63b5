"""Measuring the reader: precision of the answers shown, no-answer documents, disagreement,
calibration, the baseline reader and `parallax eval --reader` (hand-made rows, the seeds
and small labelled sets with the hashing embedder)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from evaluation.metrics import Question, calibration, load_questions, question_row, summarize
from helpers import ARTICLES, SHARED
from index.documents import parse_document
from index.embed import HashingEmbedder
from index.live import Chunking, LiveIndex, open_index

runner = CliRunner()

GOLD = {"a1": "A", "a2": "A", "a3": "A", "a4": "A", "b1": "B"}
TOLL = Question(
    "toll",
    "How many died in A?",
    {"a1": ("12",), "a2": ("19",)},
    conflict=True,
    story="A",
    no_answer=("a3",),
    disagreement="revised",
    disagreement_labelled=True,
)


def _row(answers: dict, conflict: bool | None = True, **kwargs):  # type: ignore[no-untyped-def]
    return question_row(TOLL, {}, answers, conflict, 2, {"ask": 1.0}, GOLD, **kwargs)


def test_precision_is_right_answers_over_answers_shown_of_the_expected_documents() -> None:
    # a1 right, a2 wrong: accuracy 1/2, coverage 2/2, precision 1/2.
    both = _row({"a1": ("12", "s", 0.9), "a2": ("7", "s", 0.4)})
    # a1 right, a2 silent: accuracy 1/2, coverage 1/2, precision 1/1.
    one = _row({"a1": ("12", "s", 0.9)})
    metrics = summarize([both, one])
    assert metrics["answer_accuracy"] == 0.5 and metrics["coverage"] == 0.75
    assert metrics["precision"] == pytest.approx(2 / 3, abs=1e-4)  # accuracy / coverage
    # Each expected document keeps its answer's confidence.
    assert [d["confidence"] for d in both["documents"]] == [0.9, 0.4]


def test_precision_all_counts_no_answer_and_unlisted_story_documents_as_wrong() -> None:
    row = _row(
        {
            "a1": ("12", "s", 0.9),  # right
            "a3": ("5", "s", 0.5),  # a no_answer document: wrong
            "a4": ("12", "s", 0.5),  # of the story but not listed: taken as not answering
            "b1": ("12", "s", 0.5),  # another story: scoping's business, not counted here
        }
    )
    metrics = summarize([row])
    assert metrics["precision"] == 1.0
    assert metrics["precision_all"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["no_answer_accuracy"] == 0.0
    assert row["no_answer"] == [{"doc_id": "a3", "answer": "5", "confidence": 0.5}]
    silent = summarize([_row({"a1": ("12", "s", 0.9)})])
    assert silent["precision_all"] == 1.0 and silent["no_answer_accuracy"] == 1.0
    # Without story labels every answer shown counts.
    unlabelled = question_row(TOLL, {}, {"a1": ("12", "s"), "b1": ("1", "s")}, True, 2, {})
    assert summarize([unlabelled])["precision_all"] == 0.5


def test_disagreement_accuracy_scores_labelled_questions_null_included() -> None:
    old_set = Question("old", "How many?", {"a1": ("12",)}, conflict=False, story="A")
    agreeing = replace(old_set, id="same", disagreement_labelled=True)
    rows = [
        _row({}, disagreement="revised"),  # right
        question_row(agreeing, {}, {}, False, 2, {}, disagreement=None),  # null = null: right
        question_row(agreeing, {}, {}, True, 2, {}, disagreement="disputed"),  # wrong
        question_row(old_set, {}, {}, True, 2, {}, disagreement="disputed"),  # not labelled
    ]
    for row in rows:
        row["latency_ms"] = {"ask": 1.0}
    assert summarize(rows)["disagreement_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    # A reader that compares nothing (the baseline: conflict None) is not scored on either.
    baseline = summarize([_row({"a1": ("12", "s")}, conflict=None)])
    assert baseline["disagreement_accuracy"] is None
    assert baseline["conflict_accuracy"] is None and baseline["conflict_recall"] is None
    assert baseline["calibration"] is None and baseline["precision_at_0.8"] is None


def test_calibration_bins_confidence_against_the_share_right() -> None:
    table = calibration([0.05, 0.15, 0.85, 0.95, 1.0, 0.82], [False, True, True, True, True, False])
    bins = table["bins"]
    assert len(bins) == 10 and bins[0]["low"] == 0.0 and bins[-1]["high"] == 1.0
    assert [b["answers"] for b in bins] == [1, 1, 0, 0, 0, 0, 0, 0, 2, 2]  # 1.0 in the last
    assert bins[0]["right"] == 0.0 and bins[2]["right"] is None
    assert bins[8]["right"] == 0.5 and bins[8]["mean_confidence"] == pytest.approx(0.835)
    assert table["confident"] == {"min_confidence": 0.8, "answers": 4, "right": 0.75}
    assert table["answers"] == 6 and table["right"] == pytest.approx(4 / 6, abs=1e-4)


def test_candidates_below_the_threshold_are_calibrated_and_labelled_by_pattern() -> None:
    row = _row(
        {"a1": ("12", "s", 0.9)},
        candidates=[("a1", "12", "s", 0.9), ("a2", "7", "s", 0.85), ("a4", "19", "s", 0.1)],
    )
    assert [c["right"] for c in row["candidates"]] == [True, False, False]
    metrics = summarize([row])
    assert metrics["precision_at_0.8"] == 0.5
    assert metrics["calibration"]["answers"] == 3


def test_a_question_set_reads_no_answer_and_whether_disagreement_is_labelled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "q.jsonl"
    lines = [
        {"id": "t", "question": "Q?", "expected": {"a": ["x"]}, "no_answer": ["b", "c"]},
        {"id": "n", "question": "Q?", "expected": {}, "disagreement": None},
        {"id": "r", "question": "Q?", "expected": {}, "disagreement": "revised"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    old, null, revised = load_questions(path)
    assert old.no_answer == ("b", "c") and not old.disagreement_labelled
    assert null.disagreement is None and null.disagreement_labelled
    assert revised.disagreement == "revised" and revised.disagreement_labelled


# ---- the baseline reader -----------------------------------------------------------


def _index(tmp_path: Path, texts: dict[str, str]) -> LiveIndex:
    documents = [
        parse_document({"id": doc_id, "source": doc_id, "text": text}, doc_id)
        for doc_id, text in texts.items()
    ]
    return open_index(tmp_path / "index", HashingEmbedder(), Chunking(), documents)


def test_the_baseline_answers_each_document_with_its_most_similar_sentence(
    tmp_path: Path,
) -> None:
    from evaluation.questions import baseline_read
    from search.engine import SearchOptions

    live = _index(
        tmp_path,
        {
            "courier": "Heavy rain fell on the valley all week. The mayor said the old bridge "
            "would reopen on Friday after repairs. Schools stayed open.",
            "post": "The old bridge over the river will reopen on Friday, the mayor said. "
            "Traffic was diverted through the town centre.",
        },
    )
    question = "When will the old bridge reopen, according to the mayor?"
    answers, _ = baseline_read(live.corpus, live.embedder, question, SearchOptions(), "all")
    assert {a.document.id for a in answers} == {"courier", "post"}
    vector = live.embedder.encode([question])[0]
    for answer in answers:
        text = answer.document.text
        sentences = [
            text[s:e] for p in live.corpus.passages_of(answer.document.id) for s, e in p.sentences
        ]
        similarities = live.embedder.encode(sentences) @ vector
        # The stored (8-bit) sentence vectors pick the sentence the encoder ranks first.
        assert answer.sentence == sentences[int(np.argmax(similarities))]
        assert "reopen on Friday" in answer.sentence
        assert answer.similarity == pytest.approx(float(similarities.max()), abs=0.01)


@pytest.mark.parametrize(
    "question",
    [
        "How many people were injured at the embassy?",
        "Who said the attack was an act of war?",
        "How many militia fighters were killed?",
    ],
)
def test_the_baseline_reads_the_documents_ask_reads(
    hashing_index: LiveIndex, question: str
) -> None:
    from evaluation.questions import baseline_read
    from search.answers import ask
    from search.engine import SearchOptions

    options = SearchOptions(per_source=1)
    corpus, embedder = hashing_index.corpus, hashing_index.embedder
    result = ask(corpus, embedder, question, options)
    read = {a.document.id for a in result.answers} | {u.document.id for u in result.unanswered}
    answers, shown = baseline_read(corpus, embedder, question, options)
    assert read and {a.document.id for a in answers} == read
    assert [h.passage.passage_id for h in shown.hits] == [
        h.passage.passage_id for h in result.search.hits
    ]


# ---- parallax eval --reader, --labels ----------------------------------------------


def test_eval_runs_both_readers_side_by_side_in_one_run(
    env: dict[str, str], tmp_path: Path
) -> None:
    out, report = tmp_path / "run.json", tmp_path / "report.md"
    questions = str(SHARED / "eval" / "questions.jsonl")
    result = runner.invoke(
        app,
        [
            "eval",
            questions,
            "--reader",
            "parallax,baseline",
            "--json",
            str(out),
            "--report",
            str(report),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    parallax, baseline = json.loads(out.read_text())["runs"]
    assert (parallax["name"], baseline["name"]) == ("parallax", "baseline")
    assert baseline["config"]["reader"] == "baseline"
    lines = result.output.splitlines()
    for run in (parallax, baseline):
        metrics = run["metrics"]
        line = next(line for line in lines if line.startswith(f"{run['name']}: "))
        assert f"precision={metrics['precision']:.3f}" in line
        assert f"precision_all={metrics['precision_all']:.3f}" in line
    assert "┃ metric " in result.output and "┃ parallax ┃ baseline ┃" in result.output
    # The baseline answers every document it reads with a whole sentence, and compares nothing.
    assert baseline["metrics"]["coverage"] >= parallax["metrics"]["coverage"]
    assert baseline["metrics"]["conflict_accuracy"] is None
    assert all(
        a["answer"] == a["sentence"] and a["confidence"] is None
        for q in baseline["questions"]
        for a in q["documents"]
        if a["answer"] is not None
    )
    # Only the parallax reader gives a confidence, so only it is calibrated.
    assert parallax["metrics"]["calibration"]["answers"] > 0
    assert baseline["metrics"]["calibration"] is None
    assert "parallax answers" in result.output and "baseline answers" not in result.output
    text = report.read_text()
    assert "## Calibration" in text and "(report-calibration.png)" in text
    assert (tmp_path / "report-calibration.png").read_bytes()[:4] == b"\x89PNG"

    refused = runner.invoke(
        app, ["eval", questions, "--reader", "baseline", "--url", "http://127.0.0.1:9"], env=env
    )
    assert refused.exit_code == 2 and "in process only" in refused.output


def _labels(tmp_path: Path, name: str, events: set[str], story: str | None = None) -> Path:
    lines = [
        json.dumps(
            {
                "id": doc_id,
                "story": story or event,
                "source": source,
                "title": title,
                "published": published,
                "text": text,
            }
        )
        for doc_id, event, source, published, title, text in ARTICLES
        if event in events
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_eval_takes_several_label_files(env: dict[str, str], tmp_path: Path) -> None:
    floods = _labels(tmp_path, "floods.jsonl", {"flood"})
    others = _labels(tmp_path, "others.jsonl", {"steel", "port", "chess", "bakery"})
    questions = tmp_path / "time.jsonl"
    toll = {
        "id": "flood-toll",
        "question": "How many people did the Karvia floods kill?",
        "story": "flood",
        "expected": {"flood-1": ["12"], "flood-2": ["19"], "flood-3": ["23"]},
        "no_answer": [],
        "conflict": True,
        "disagreement": "revised",
    }
    raise_ = {
        "id": "port-raise",
        "question": "What raise did the Velmar dockers accept?",
        "story": "port",
        "expected": {"port-2": ["7 percent"]},
        "no_answer": ["port-1"],
        "conflict": False,
        "disagreement": None,
    }
    questions.write_text(json.dumps(toll) + "\n" + json.dumps(raise_) + "\n")
    out = tmp_path / "run.json"
    for labels in (
        ["--labels", f"{floods},{others}"],
        ["--labels", str(floods), "--labels", str(others)],
    ):
        result = runner.invoke(app, ["eval", str(questions), *labels, "--json", str(out)], env=env)
        assert result.exit_code == 0, result.output
        run = json.loads(out.read_text())["runs"][0]
        # Every labelled document of both files is indexed, and each question's gold story
        # comes from its own file.
        assert run["metrics"]["scoping"] is not None
        assert run["metrics"]["disagreement_accuracy"] is not None
        assert run["metrics"]["no_answer_accuracy"] is not None
        assert run["config"]["corpus"] == f"{floods},{others}"
        found = {d["doc_id"] for q in run["questions"] for d in q["documents"] if d["hit_rank"]}
        assert {"flood-1", "port-2"} <= found

    clash = _labels(tmp_path, "clash.jsonl", {"flood"}, story="other")
    refused = runner.invoke(app, ["eval", str(questions), "--labels", f"{floods},{clash}"], env=env)
    assert refused.exit_code == 2 and "belongs to one story" in refused.output
