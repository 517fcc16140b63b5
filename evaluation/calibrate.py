"""Fitting the reader's confidence (`search/confidence.py`) on the development set.

`parallax calibrate` asks every question of a development set (the reader's
`eval/reader/dev.jsonl` over its labelled stories, never a held-out set), takes every
answer the reader gives before any threshold, labels it right or wrong (right: its
document is expected and one of the question's patterns matches it; a document of the
story that is not expected answers nothing, so any answer from it is wrong), and fits a
logistic regression (scikit-learn) on the standardised signals. The
thresholds at which the answers at or above them were right 70-90% of the time are
recorded beside it. Weights, standardisation, thresholds and what it was fitted on are
written to `search/calibration.json`, which the service reads.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from api.settings import Settings
from evaluation.metrics import Question, calibration, load_story_labels

CALIBRATION = Path(__file__).resolve().parent.parent / "search" / "calibration.json"


def answer_rows(
    settings: Settings,
    questions: Sequence[Question],
    labels: Path | None,
    reuters: Path,
) -> Iterator[dict[str, Any]]:
    """Every answer the reader gives to `questions` with no threshold: its signals
    (`search.confidence.FEATURES`), whether it is right, and what it answers."""
    from api.app import search_options
    from api.models import SearchRequest
    from evaluation.questions import labelled_documents, temporary_index
    from search.answers import ask

    gold: dict[str, str] = {}
    documents = None
    if labels is not None:
        records = load_story_labels(labels)
        gold = {r["id"]: r["story"] for r in records}
        documents = labelled_documents(records, settings, reuters)
    with temporary_index(settings, documents, progress=False) as live:
        for question in questions:
            options = search_options(SearchRequest(query=question.question), settings)
            result = ask(live.corpus, live.embedder, question.question, options)
            asked = result.analysis.answer_type
            for answer in result.candidates:
                doc_id = answer.document.id
                right = question.right(doc_id, answer.answer, answer.sentence)
                yield {
                    "question": question.id,
                    "doc_id": doc_id,
                    "asked": asked,
                    "answer_type": answer.answer_type,
                    "answer": answer.answer,
                    "expected": doc_id in question.expected,
                    "in_story": question.story is None or gold.get(doc_id) == question.story,
                    "right": right,
                    "signals": list(answer.signals),
                    "confidence": answer.confidence,
                }


# The precisions whose thresholds on the development set are recorded with the model.
OPERATING_POINTS = (0.7, 0.8, 0.85, 0.9)


def fit(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Logistic regression of rightness on the standardised signals, with the thresholds
    at which the answers at or above them were right 70, 80, 85 and 90% of the time."""
    import numpy as np

    from evaluation.report import eval_extra

    linear = eval_extra("sklearn.linear_model", "calibrate fits with scikit-learn")

    from search.confidence import FEATURES

    x = np.array([r["signals"] for r in rows], dtype=float)
    y = np.array([r["right"] for r in rows], dtype=int)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = linear.LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    weights = model.coef_[0]
    intercept = float(model.intercept_[0])
    confidence = model.predict_proba((x - mean) / scale)[:, 1].tolist()
    points = []
    for precision in OPERATING_POINTS:
        threshold = threshold_for(confidence, y.tolist(), precision)
        kept = [ok for c, ok in zip(confidence, y.tolist(), strict=True) if c >= threshold]
        points.append(
            {
                "precision": precision,
                "min_confidence": round(threshold, 4),
                "answers_kept": len(kept),
                "right_kept": int(sum(kept)),
            }
        )
    return {
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "weights": [round(float(v), 6) for v in weights],
        "intercept": round(intercept, 6),
        "about": {
            "answers": len(rows),
            "right": int(y.sum()),
            "log_loss": round(_log_loss(confidence, y.tolist()), 4),
            "operating_points": points,
            "reliability": calibration(confidence, [bool(v) for v in y.tolist()], bins=5)["bins"],
        },
    }


def threshold_for(confidence: Sequence[float], right: Sequence[int], precision: float) -> float:
    """The lowest confidence t such that answers with confidence >= t are right at least
    `precision` of the time (1.0 when no t reaches it)."""
    pairs = sorted(zip(confidence, right, strict=True), reverse=True)
    best = 1.0
    kept = correct = 0
    for value, ok in pairs:
        kept += 1
        correct += ok
        if correct / kept >= precision:
            best = value
    return best


def _log_loss(confidence: Sequence[float], right: Sequence[int]) -> float:
    eps = 1e-9
    total = sum(
        -math.log(max(eps, c if ok else 1 - c)) for c, ok in zip(confidence, right, strict=True)
    )
    return total / max(1, len(right))


def write(model: Mapping[str, Any], path: Path = CALIBRATION) -> None:
    path.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
