"""The hand-labelled story sets hold together: every id exists, no document is labelled twice
or in both sets, the sizes the issue asks for are met, and every expected answer of the story
and reader questions is in its document (`python -m evaluation.datasets`, run as it is).
The time set's own fields (`no_answer`, `disagreement`) are checked too."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from evaluation.datasets import Problem, check_reader_file, story_labels
from helpers import ROOT

READER = ROOT / "eval" / "reader"


def check_datasets(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m evaluation.datasets ARGS` run from the repo root."""
    return subprocess.run(
        [sys.executable, "-m", "evaluation.datasets", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_the_story_labels_and_questions_pass_their_checks() -> None:
    result = check_datasets("labels")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: all checks passed" in result.stdout


def test_the_reader_question_sets_pass_their_checks() -> None:
    sets = [
        READER / name for name in ("dev.jsonl", "stories.jsonl", "reworded.jsonl", "time.jsonl")
    ]
    result = check_datasets("questions", *map(str, sets))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 4
    assert "disagreement revised/disputed/null = " in result.stdout


def test_the_time_set_mixes_revised_disputed_and_agreeing_figures() -> None:
    lines = (READER / "time.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    kinds = Counter(q["disagreement"] for q in questions)
    assert len(questions) >= 30
    assert kinds["revised"] >= 8 and kinds["disputed"] >= 8 and kinds[None] >= 8
    assert len({q["story"] for q in questions}) >= 10


# A well-formed time-set question: the Ecuador death toll, six dead at first, 300 a week later.
TOLL: dict[str, Any] = {
    "id": "toll",
    "question": "How many people did the Ecuador earthquake kill?",
    "story": "ecuador-earthquake-1987",
    "type": "quantity",
    "expected": {"r2957": [r"at\s+least\s+six\s+people"], "r5145": [r"at\s+least\s+300\s+people"]},
    "no_answer": ["r2767"],
    "conflict": True,
    "disagreement": "revised",
}


def check_questions(path: Path, *questions: dict[str, Any]) -> None:
    """Writes `questions` to `path` as JSON Lines and checks the file as a reader set."""
    path.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    check_reader_file(path, story_labels())


def test_a_well_formed_time_question_passes(tmp_path: Path) -> None:
    check_questions(tmp_path / "time.jsonl", TOLL, {**TOLL, "id": "agreed", "no_answer": []})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"disagreement": "corrected"}, "disagreement must be"),
        ({"disagreement": None}, "conflict must be false"),
        ({"conflict": False}, "conflict must be true"),
        ({"disagreement": "disputed", "conflict": False}, "conflict must be true"),
        ({"no_answer": "r2767"}, "no_answer must be a list"),
        ({"no_answer": ["r2957"]}, "both in expected and in no_answer"),
        ({"no_answer": ["r6336"]}, "labelled 'philippine-academy-bombing'"),
        ({"no_answer": ["r99999"]}, "not in public.jsonl or dev.jsonl"),
        ({"no_answer": ["r2767", "r2767"]}, "2 times"),
    ],
)
def test_the_time_fields_are_checked(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(Problem, match=message):
        check_questions(tmp_path / "time.jsonl", {**TOLL, **change})


@pytest.mark.parametrize("field", ["no_answer", "disagreement"])
def test_the_time_set_requires_its_fields_the_older_sets_do_not(tmp_path: Path, field: str) -> None:
    question = {k: v for k, v in TOLL.items() if k != field}
    with pytest.raises(Problem, match=f"lacks field '{field}'"):
        check_questions(tmp_path / "time.jsonl", question)
    check_questions(tmp_path / "stories.jsonl", question)


def test_a_time_question_has_a_typed_answer(tmp_path: Path) -> None:
    question = {**TOLL, "type": "reason", "conflict": None, "disagreement": None}
    with pytest.raises(Problem, match="needs a typed answer"):
        check_questions(tmp_path / "time.jsonl", question)
    check_questions(tmp_path / "stories.jsonl", question)
    with pytest.raises(Problem, match="disagreement must be null"):
        check_questions(tmp_path / "stories.jsonl", {**question, "disagreement": "revised"})
