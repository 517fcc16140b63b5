"""Question sets (DESIGN.md format) and the retrieval metrics computed over them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.errors import DocumentError


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expected: Mapping[str, tuple[str, ...]]  # doc id -> case-insensitive regexes
    conflict: bool | None = None

    def matches(self, doc_id: str, text: str) -> bool:
        return any(re.search(pattern, text, re.IGNORECASE) for pattern in self.expected[doc_id])


def load_questions(path: str | Path) -> list[Question]:
    """Read a question set; a bad line raises with its number and what is wrong."""
    path = Path(path)
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number} of {path.name}"
        try:
            record = json.loads(line)
            expected = {
                doc_id: tuple([patterns] if isinstance(patterns, str) else patterns)
                for doc_id, patterns in record.get("expected", {}).items()
            }
            for patterns in expected.values():
                for pattern in patterns:
                    re.compile(pattern)
            questions.append(
                Question(
                    id=str(record.get("id", number)),
                    question=record["question"],
                    expected=expected,
                    conflict=record.get("conflict"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, re.error) as exc:
            raise DocumentError(f"{where}: not a question record ({exc})") from None
    return questions


def first_correct_rank(question: Question, doc_id: str, texts: Sequence[str]) -> int | None:
    """1-based position of the first text from `doc_id` matching an expected pattern."""
    for rank, text in enumerate(texts, start=1):
        if question.matches(doc_id, text):
            return rank
    return None


def source_recall(
    questions: Sequence[Question], ranked: Sequence[Mapping[str, Sequence[str]]], per_source: int
) -> float:
    """Share of (question, expected document) pairs found within the document's top hits.

    `ranked[i]` maps each document to its hit texts, best first, for `questions[i]`.
    """
    found = total = 0
    for question, groups in zip(questions, ranked, strict=True):
        for doc_id in question.expected:
            total += 1
            rank = first_correct_rank(question, doc_id, groups.get(doc_id, ())[:per_source])
            found += rank is not None
    return found / total if total else 0.0


def answer_accuracy(questions: Sequence[Question], answered: Sequence[Mapping[str, str]]) -> float:
    """Share of (question, expected document) pairs whose answer + sentence matches.

    `answered[i]` maps each document that answered `questions[i]` to its
    answer and sentence joined; a document that gave no answer counts as wrong.
    """
    right = total = 0
    for question, answers in zip(questions, answered, strict=True):
        for doc_id in question.expected:
            total += 1
            right += doc_id in answers and question.matches(doc_id, answers[doc_id])
    return right / total if total else 0.0


def conflict_accuracy(questions: Sequence[Question], flags: Sequence[bool]) -> float:
    """Share of questions with a labelled conflict flag (not null) that got it right."""
    labelled = [(q.conflict, flag) for q, flag in zip(questions, flags, strict=True)]
    judged = [(expected, flag) for expected, flag in labelled if expected is not None]
    return sum(expected == flag for expected, flag in judged) / len(judged) if judged else 0.0
