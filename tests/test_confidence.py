"""The reader's confidence (search/confidence.py) and its fitting (evaluation/calibrate.py),
and what a client sees of it: a confidence on every answer, and the documents below
PARALLAX_MIN_CONFIDENCE listed as not answering with their closest sentence."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evaluation.calibrate import fit, threshold_for
from helpers import app_client, wait_ready
from search.confidence import FEATURES, calibration, calibration_from


def test_the_shipped_model_reads_the_signals_the_reader_computes() -> None:
    model = calibration()
    assert len(model.weights) == len(model.mean) == len(model.scale) == len(FEATURES)
    points = model.about["operating_points"]
    assert [p["precision"] for p in points] == [0.7, 0.8, 0.85, 0.9]
    assert all(0 < p["min_confidence"] <= 1 for p in points)


def test_a_model_fitted_on_other_signals_is_refused_with_how_to_refit() -> None:
    data = json.loads(Path("search/calibration.json").read_text())
    data["features"] = ["similarity"]
    with pytest.raises(ValueError, match="parallax calibrate"):
        calibration_from(data)


def test_agreement_from_other_documents_raises_confidence() -> None:
    model = calibration()
    alone = dict.fromkeys(FEATURES, 0.0) | {"similarity": 0.5, "span_score": 0.8, "typed": 1.0}
    agreed = alone | {"agreeing_documents": 1.1}
    disputed = alone | {"disagreeing": 1.0}
    value = {
        name: model.probability([v[f] for f in FEATURES])
        for name, v in (("alone", alone), ("agreed", agreed), ("disputed", disputed))
    }
    assert value["agreed"] > value["alone"] > value["disputed"]


def test_fitting_finds_the_threshold_of_the_precision_asked() -> None:
    rng = random.Random(7)
    rows = []
    for _ in range(400):
        right = rng.random() < 0.4
        signal = rng.gauss(1.0 if right else -1.0, 1.0)
        rows.append({"signals": [signal] + [0.0] * (len(FEATURES) - 1), "right": right})
    model = fit(rows)
    assert model["weights"][0] > 0
    for point in model["about"]["operating_points"]:
        assert point["right_kept"] / point["answers_kept"] >= point["precision"]
    assert threshold_for([0.9, 0.8, 0.2], [1, 0, 0], 0.9) == 0.9
    assert threshold_for([0.3], [0], 0.9) == 1.0
    assert [b["answers"] for b in model["about"]["reliability"]] != [0] * 5


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[TestClient]:
    for client in app_client(tmp_path, min_confidence=1.0):
        wait_ready(client)
        yield client


def test_below_the_threshold_documents_are_listed_as_not_answering(strict: TestClient) -> None:
    body = strict.post("/ask", json={"question": "How many militia fighters were killed?"}).json()
    assert body["answers"] == []
    assert body["conflict"] is False and body["timeline"] == [] and body["disagreement"] is None
    assert len(body["unanswered"]) >= 3
    for item in body["unanswered"]:
        text = strict.get(f"/documents/{item['doc_id']}").json()["text"]
        citation = item["citation"]
        assert text[citation["char_start"] : citation["char_end"]] == item["context"]


def test_every_shown_answer_carries_its_confidence(tmp_path: Path) -> None:
    for client in app_client(tmp_path):
        wait_ready(client)
        body = client.post("/ask", json={"question": "How many militia fighters were killed?"})
        answers = body.json()["answers"]
        assert answers and all(0 <= a["confidence"] <= 1 for a in answers)
