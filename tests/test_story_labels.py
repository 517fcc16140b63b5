"""The hand-labelled story sets hold together: every id exists, no document is labelled twice
or in both sets, the sizes the issue asks for are met, and every expected answer of the story
questions is in its document (eval/stories/check_labels.py, run as it is)."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def test_the_story_labels_and_questions_pass_their_checks() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "stories" / "check_labels.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: all checks passed" in result.stdout


def test_the_reader_question_sets_pass_their_checks() -> None:
    sets = [
        ROOT / "eval" / "reader" / name for name in ("dev.jsonl", "stories.jsonl", "reworded.jsonl")
    ]
    result = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "reader" / "check_questions.py"), *map(str, sets)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 3
