"""How likely an answer is right: a small logistic model over the reader's own signals.

The reader (`search.answers`) finds each document's best answer; this module turns the
signals behind it (the sentence's similarity to the question, alone and against the
closest sentence read, the span's own score and kind, where its document ranks, and how
many other documents of the story give an answer that agrees or disagrees) into a
probability. Signals of word overlap with the question are left out: they are strong on
questions worded like the article and fail on the same question reworded. The weights
are fitted on the development question set only (`parallax calibrate`,
`evaluation/calibrate.py`) and shipped as a few numbers in `search/calibration.json`,
with the thresholds at which the development answers were right 70, 80, 85 and 90% of
the time; `PARALLAX_MIN_CONFIDENCE` set to one lists the documents below it as not
answering.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol

from index.documents import Document
from search.claims import Quantity
from search.conflicts import Claim, agree
from search.question import TYPED


class AnswerForConfidence(Protocol):
    """What the model reads of an answer (`search.answers.Answer`)."""

    document: Document
    answer: str
    value: Quantity | None
    answer_type: str
    story_id: str | None
    similarity: float
    span_score: float
    rank: int


# The signals, in the order the model's weights are stored.
FEATURES = (
    "similarity",  # the sentence's cosine similarity to the question
    "relative_similarity",  # its similarity over the closest sentence read's
    "span_score",  # the extracted span's own score (the extractor's, or keyword share)
    "typed",  # the span is a typed value (a figure, date, name, organisation, place)
    "phrase_for_typed",  # a phrase, too weak to be a typed value, answers a typed question
    "document_first",  # 1 / (1 + the document's place among those read)
    "agreeing_documents",  # log(1 + how many other documents give an agreeing answer)
    "disagreeing",  # share of the story's other typed answers that disagree
)


@dataclass(frozen=True)
class Calibration:
    """The fitted model: standardisation of each signal, the weights, and the threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    about: Mapping[str, Any]  # what it was fitted on, how it did there, its thresholds

    def probability(self, values: Sequence[float]) -> float:
        z = self.intercept + sum(
            w * (v - m) / s
            for w, v, m, s in zip(self.weights, values, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))


@cache
def calibration() -> Calibration:
    """The shipped model (`search/calibration.json`)."""
    text = resources.files("search").joinpath("calibration.json").read_text(encoding="utf-8")
    return calibration_from(json.loads(text))


def calibration_from(data: Mapping[str, Any]) -> Calibration:
    """A model from its JSON form; refuses one fitted on other signals."""
    if tuple(data["features"]) != FEATURES:
        raise ValueError(
            f"calibration.json was fitted on the signals {data['features']}, this reader "
            f"computes {list(FEATURES)}: refit it with `parallax calibrate`"
        )
    return Calibration(
        mean=tuple(data["mean"]),
        scale=tuple(data["scale"]),
        weights=tuple(data["weights"]),
        intercept=float(data["intercept"]),
        about=data.get("about", {}),
    )


def signals(
    answer: AnswerForConfidence, answers: Sequence[AnswerForConfidence], asked: str, closest: float
) -> list[float]:
    """The values of `FEATURES` for one answer among all the answers of its question;
    `closest` is the similarity of the sentence closest to the question of all read."""
    typed = answer.answer_type in TYPED
    others = [
        a
        for a in answers
        if a.document.id != answer.document.id
        and a.answer_type in TYPED
        and a.story_id == answer.story_id
    ]
    agreeing = [a for a in others if typed and agree(_claim(answer), _claim(a))]
    return [
        answer.similarity,
        answer.similarity / closest if closest > 0 else 0.0,
        answer.span_score,
        float(typed),
        float(asked in TYPED and answer.answer_type == "phrase"),
        1.0 / (1 + answer.rank),
        math.log1p(len(agreeing)),
        (len(others) - len(agreeing)) / len(others) if others and typed else 0.0,
    ]


def _claim(answer: AnswerForConfidence) -> Claim:
    doc = answer.document
    return Claim(doc.id, doc.source, answer.answer, answer.value, answer.answer_type)
