"""The hand-labelled story sets hold together: every id exists, no document is labelled twice
or in both sets, the sizes the issue asks for are met, and every expected answer of the story
and reader questions is in its document (`python -m evaluation.datasets`, run as it is)."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


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
        ROOT / "eval" / "reader" / name for name in ("dev.jsonl", "stories.jsonl", "reworded.jsonl")
    ]
    result = check_datasets("questions", *map(str, sets))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 3
