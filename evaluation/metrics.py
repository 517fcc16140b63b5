"""Question sets (id, question, expected, conflict: docs/evaluation.md) and the metrics
computed over them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.documents import json_lines
from index.errors import DocumentError


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expected: Mapping[str, tuple[str, ...]]  # doc id -> case-insensitive regexes
    conflict: bool | None = None
    story: str | None = None  # the gold story label of the event the question names
    # Documents of the story that do not answer (a reader should give them no answer).
    no_answer: tuple[str, ...] = ()
    # The expected /ask `disagreement` ("revised", "disputed" or None), scored only when
    # the set labels it (`disagreement_labelled`: the field is present, null included).
    disagreement: str | None = None
    disagreement_labelled: bool = False

    def matches(self, doc_id: str, text: str) -> bool:
        return any(re.search(pattern, text, re.IGNORECASE) for pattern in self.expected[doc_id])

    def right(self, doc_id: str, answer: str, sentence: str | None) -> bool:
        """An answer from `doc_id` is right: the document answers and a pattern matches."""
        return doc_id in self.expected and self.matches(doc_id, f"{answer} {sentence or ''}")


def load_questions(path: str | Path) -> list[Question]:
    """Read a question set; a bad line raises with its number and what is wrong."""
    questions = []
    for number, (where, record) in enumerate(json_lines(path), start=1):
        try:
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
                    story=record.get("story"),
                    no_answer=tuple(str(doc_id) for doc_id in record.get("no_answer") or ()),
                    disagreement=record.get("disagreement"),
                    disagreement_labelled="disagreement" in record,
                )
            )
        except (KeyError, TypeError, AttributeError, re.error) as exc:
            raise DocumentError(f"{where}: not a question record ({exc})") from None
    return questions


def first_correct_rank(question: Question, doc_id: str, texts: Sequence[str]) -> int | None:
    """1-based position of the first text from `doc_id` matching an expected pattern."""
    for rank, text in enumerate(texts, start=1):
        if question.matches(doc_id, text):
            return rank
    return None


PRIMARY_METRIC = "answer_accuracy"

# Confidence bins of the calibration table, and the confidence whose answers' share right
# is reported on its own (`precision_at_0.8`).
CALIBRATION_BINS = 10
CONFIDENT = 0.8


def summarize(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The metrics of one run from its per-question rows (see `question_row`).

    Over the expected documents: source recall and MRR from each one's hits; answer
    accuracy (right answers / expected documents), coverage (answered / expected) and
    precision (right / answered: accuracy over coverage). `precision_all` is right
    answers over every answer shown from a document of the question's story (its gold
    story with --labels, else every answer shown): an answer from a `no_answer` document,
    or from a story document the set does not list, counts as wrong. The sets list only
    the documents that answer (eval/reader/README.md), so an unlisted document of the
    story is taken as not answering; time.jsonl leaves out a few arguable ones, so there
    it is a lower bound. `no_answer_accuracy` is the share of `no_answer` documents given
    no answer. Conflict metrics count the questions whose expected flag is labelled (not
    null) and `disagreement_accuracy` those whose `disagreement` is labelled (null too),
    both only for a reader that compares answers (not the baseline). The calibration
    (`calibration`: confidence bins against the share right, and `precision_at_0.8`) is
    over every answer the reader gave before its confidence threshold, where it gives
    them with a confidence.
    """
    documents = [doc for row in rows for doc in row["documents"]]
    count = len(documents)
    answered = sum(d["answer"] is not None for d in documents)
    right = sum(d["answer_correct"] for d in documents)
    shown = [a for row in rows for a in row.get("shown", ()) if a["in_story"]]
    no_answer = [d for row in rows for d in row.get("no_answer", ())]
    compared = [row for row in rows if row["conflict_predicted"] is not None]
    labelled = [row for row in compared if row["conflict_expected"] is not None]
    true_pos = sum(1 for r in labelled if r["conflict_expected"] and r["conflict_predicted"])
    predicted = sum(1 for r in labelled if r["conflict_predicted"])
    actual = sum(1 for r in labelled if r["conflict_expected"])
    disagreements = [row["disagreement"] for row in rows if row.get("disagreement")]
    scoped = [row["scope"] for row in rows if row.get("scope") is not None]
    scope = {}
    if scoped:
        answers = sum(s["answers"] for s in scoped)
        scope = {
            # Share of all answers that come from the story the question names.
            "scoping": _share(sum(s["in_story"] for s in scoped), answers),
            # Share of questions answered within the right story (by its passages shown).
            "story_accuracy": _share(sum(s["right_story"] for s in scoped), len(scoped)),
            # Questions whose conflict groups hold documents of more than one gold story.
            "mixed_conflicts": sum(s["mixed_conflict"] for s in scoped),
        }
    candidates = [c for row in rows for c in row.get("candidates") or ()]
    confident = [c["right"] for c in candidates if c["confidence"] >= CONFIDENT]
    return {
        "primary": PRIMARY_METRIC,
        "source_recall": _share(sum(d["found"] for d in documents), count),
        "mrr": _share(sum(1 / d["hit_rank"] for d in documents if d["hit_rank"]), count),
        "answer_accuracy": _share(right, count),
        "coverage": _share(answered, count),
        "precision": _share(right, answered),
        "precision_all": _share(sum(a["right"] for a in shown), len(shown)),
        "no_answer_accuracy": _share(sum(d["answer"] is None for d in no_answer), len(no_answer)),
        "conflict_accuracy": _share(
            sum(r["conflict_expected"] == r["conflict_predicted"] for r in labelled), len(labelled)
        ),
        "conflict_precision": _share(true_pos, predicted),
        "conflict_recall": _share(true_pos, actual),
        "disagreement_accuracy": _share(
            sum(d["expected"] == d["predicted"] for d in disagreements), len(disagreements)
        ),
        f"precision_at_{CONFIDENT}": _share(sum(confident), len(confident)),
        **scope,
        "questions": len(rows),
        "expected_documents": count,
        "calibration": calibration(
            [c["confidence"] for c in candidates], [c["right"] for c in candidates]
        )
        if candidates
        else None,
        "latency_ms": {
            endpoint: percentiles([row["latency_ms"][endpoint] for row in rows])
            for endpoint in sorted({e for row in rows for e in row["latency_ms"]})
        },
    }


def calibration(
    confidence: Sequence[float], right: Sequence[bool], bins: int = CALIBRATION_BINS
) -> dict[str, Any]:
    """Equal-width confidence bins against the observed share right (a reliability
    diagram's points), with the answers at or above `CONFIDENT` on their own.

    Each bin holds [low, high), the last one 1.0 too; `mean_confidence` is its answers'
    mean confidence, `right` their share right (None for an empty bin)."""
    table = []
    for n in range(bins):
        low, high = n / bins, (n + 1) / bins
        inside = [
            (value, ok)
            for value, ok in zip(confidence, right, strict=True)
            if low <= value < high or (n == bins - 1 and value >= 1.0)
        ]
        table.append(
            {
                "low": round(low, 4),
                "high": round(high, 4),
                "answers": len(inside),
                "mean_confidence": _mean([value for value, _ in inside]),
                "right": _mean([float(ok) for _, ok in inside]),
            }
        )
    confident = [ok for value, ok in zip(confidence, right, strict=True) if value >= CONFIDENT]
    return {
        "answers": len(confidence),
        "right": _mean([float(ok) for ok in right]),
        "bins": table,
        "confident": {
            "min_confidence": CONFIDENT,
            "answers": len(confident),
            "right": _mean([float(ok) for ok in confident]),
        },
    }


def calibration_rows(
    calibrations: Sequence[Mapping[str, Any]],
    share: Any,
    dash: str = "-",
    at_least: str = ">=",
) -> list[list[object]]:
    """The rows of a calibration table over several runs: per confidence bin each run's
    answers and share right, then those at or above the confident threshold, then all;
    `share` formats a share (None for none), `dash` and `at_least` are the table's marks."""
    rows: list[list[object]] = []
    for n, first in enumerate(calibrations[0]["bins"]):
        row: list[object] = [f"{first['low']:.1f}{dash}{first['high']:.1f}"]
        for calibrated in calibrations:
            row += [calibrated["bins"][n]["answers"], share(calibrated["bins"][n]["right"])]
        rows.append(row)
    confident: list[object] = [f"{at_least} {calibrations[0]['confident']['min_confidence']}"]
    overall: list[object] = ["all"]
    for calibrated in calibrations:
        confident += [calibrated["confident"]["answers"], share(calibrated["confident"]["right"])]
        overall += [calibrated["answers"], share(calibrated["right"])]
    return [*rows, confident, overall]


def question_row(
    question: Question,
    groups: Mapping[str, Sequence[str]],
    answers: Mapping[str, tuple[Any, ...]],
    conflict: bool | None,
    per_source: int,
    latency_ms: Mapping[str, float],
    gold: Mapping[str, str] | None = None,
    conflict_groups: Sequence[Sequence[str]] = (),
    story_documents: Sequence[str] = (),
    *,
    disagreement: str | None = None,
    candidates: Sequence[tuple[str, str, str | None, float]] | None = None,
) -> dict[str, Any]:
    """One question's outcome: per expected document its hit rank and answer.

    `groups` maps a document to its hit texts, best first (deeper than
    `per_source`, for MRR); `answers` maps each document that answered to
    (answer, sentence) or (answer, sentence, confidence). `conflict` and
    `disagreement` are what /ask said; a `conflict` of None is a reader that does
    not compare answers (the baseline), and neither is scored. `candidates` are
    (doc id, answer, sentence, confidence) of every answer before the confidence
    threshold, for the calibration (None: the reader gives no confidence).
    With `gold` story labels (document -> label) and a question that names its
    story, the row also says how many answers came from that story, whether the
    story answered is it (most of `story_documents`, the documents of the
    passages /ask returned, are of that story) and whether a conflict mixed
    stories (`conflict_groups`: the documents of each group).
    """
    given = {doc_id: _shown(value) for doc_id, value in answers.items()}
    documents = []
    for doc_id in question.expected:
        rank = first_correct_rank(question, doc_id, groups.get(doc_id, ()))
        answer, sentence, confidence = given.get(doc_id, (None, None, None))
        documents.append(
            {
                "doc_id": doc_id,
                "hit_rank": rank,
                "found": rank is not None and rank <= per_source,
                "answer": answer,
                "sentence": sentence,
                "confidence": confidence,
                "answer_correct": answer is not None
                and question.matches(doc_id, f"{answer} {sentence}"),
            }
        )
    # Without story labels (or a story named) every answer shown counts for precision_all.
    story_of = gold if gold is not None and question.story is not None else None
    shown = [
        {
            "doc_id": doc_id,
            "answer": answer,
            "confidence": confidence,
            "right": question.right(doc_id, answer, sentence),
            "in_story": story_of is None or story_of.get(doc_id) == question.story,
        }
        for doc_id, (answer, sentence, confidence) in given.items()
    ]
    no_answer = []
    for doc_id in question.no_answer:
        answer, _, confidence = given.get(doc_id, (None, None, None))
        no_answer.append({"doc_id": doc_id, "answer": answer, "confidence": confidence})
    scope = None
    if story_of is not None:
        inside = sum(story_of.get(doc_id) == question.story for doc_id in answers)
        labels = {story_of.get(d, d) for group in conflict_groups for d in group}
        stories = [story_of.get(doc_id) == question.story for doc_id in set(story_documents)]
        scope = {
            "answers": len(answers),
            "in_story": inside,
            "right_story": bool(stories) and sum(stories) * 2 > len(stories),
            "mixed_conflict": bool(conflict) and len(labels) > 1,
        }
    return {
        "id": question.id,
        "question": question.question,
        "story": question.story,
        "scope": scope,
        "conflict_expected": question.conflict,
        "conflict_predicted": conflict,
        "disagreement": {"expected": question.disagreement, "predicted": disagreement}
        if question.disagreement_labelled and conflict is not None
        else None,
        "latency_ms": dict(latency_ms),
        "source_recall": _share(sum(d["found"] for d in documents), len(documents)),
        "answer_accuracy": _share(sum(d["answer_correct"] for d in documents), len(documents)),
        "documents": documents,
        "shown": shown,
        "no_answer": no_answer,
        "candidates": None
        if candidates is None
        else [
            {
                "doc_id": doc_id,
                "confidence": confidence,
                "right": question.right(doc_id, answer, sentence),
            }
            for doc_id, answer, sentence, confidence in candidates
        ],
    }


def _shown(value: Sequence[Any]) -> tuple[str, str | None, float | None]:
    """(answer, sentence, confidence) of an answer given with or without its confidence."""
    answer, sentence, *rest = value
    return answer, sentence, rest[0] if rest else None


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """Median and 95th percentile (linear interpolation), None for no values."""
    if not values:
        return {"p50": None, "p95": None}
    ordered = sorted(values)
    return {"p50": _percentile(ordered, 50), "p95": _percentile(ordered, 95)}


def _percentile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)


def _share(part: float, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    doc_id: str  # the paragraph that holds the answer
    answers: tuple[str, ...]


def load_squad(path: str | Path) -> tuple[list[dict[str, Any]], list[SquadQuestion]]:
    """SQuAD v1.1 JSON as documents (one per paragraph) and questions with their paragraph."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    documents: list[dict[str, Any]] = []
    questions: list[SquadQuestion] = []
    for article_number, article in enumerate(data["data"]):
        title = article.get("title")
        for number, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"squad-{article_number:03d}-{number:02d}"
            documents.append(
                {"id": doc_id, "source": title, "title": title, "text": paragraph["context"]}
            )
            questions.extend(
                SquadQuestion(
                    qa["id"], qa["question"], doc_id, tuple(a["text"] for a in qa["answers"])
                )
                for qa in paragraph["qas"]
            )
    return documents, questions


def squad_part(questions: Sequence[SquadQuestion], part: str) -> list[SquadQuestion]:
    """The questions of one half of the articles: "dev" (the first half, for tuning), "test"
    (the second, never tuned on) or "all". Split by article, so no paragraph's questions
    fall in both."""
    if part == "all":
        return list(questions)
    articles = sorted({q.doc_id.rsplit("-", 1)[0] for q in questions})
    dev = set(articles[: len(articles) // 2])
    return [q for q in questions if (q.doc_id.rsplit("-", 1)[0] in dev) == (part == "dev")]


def normalize_answer(text: str) -> str:
    """SQuAD v1.1's official answer normalisation: lower case, no punctuation, no articles
    (a, an, the), single spaces."""
    import string

    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(?:a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer (SQuAD EM)."""
    return float(any(normalize_answer(prediction) == normalize_answer(g) for g in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """The best token F1 of the prediction against the gold answers (SQuAD F1)."""
    from collections import Counter

    predicted = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        expected = normalize_answer(gold).split()
        common = sum((Counter(predicted) & Counter(expected)).values())
        if not predicted or not expected:
            best = max(best, float(predicted == expected))
            continue
        if common:
            precision, recall = common / len(predicted), common / len(expected)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def retrieval_metrics(
    ranks: Sequence[int | None], cutoffs: Sequence[int] = (1, 5, 10)
) -> dict[str, float | None]:
    """Recall@k and MRR from each question's 1-based rank of its gold document (None: missed)."""
    metrics: dict[str, float | None] = {
        f"recall@{cutoff}": _share(
            sum(1 for r in ranks if r is not None and r <= cutoff), len(ranks)
        )
        for cutoff in cutoffs
    }
    metrics["mrr"] = _share(sum(1 / r for r in ranks if r), len(ranks))
    return metrics


def bcubed(predicted: Mapping[str, str], gold: Mapping[str, str]) -> dict[str, float]:
    """B-cubed precision, recall and F1 of a clustering against gold labels (Bagga and
    Baldwin, 1998), over the items both name: each item's precision is the share of its
    cluster that shares its gold label, its recall the share of its gold label's items
    that share its cluster; both are averaged over items."""
    items = [i for i in gold if i in predicted]
    if not items:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    clusters: dict[str, set[str]] = {}
    labels: dict[str, set[str]] = {}
    for item in items:
        clusters.setdefault(predicted[item], set()).add(item)
        labels.setdefault(gold[item], set()).add(item)
    precision = recall = 0.0
    for item in items:
        cluster, label = clusters[predicted[item]], labels[gold[item]]
        both = len(cluster & label)
        precision += both / len(cluster)
        recall += both / len(label)
    precision, recall = precision / len(items), recall / len(items)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def load_story_labels(path: str | Path) -> list[dict[str, Any]]:
    """Labelled documents, one JSON object a line: `{"id", "story"}` and optionally the
    document's own fields (text, title, ...); a bad line raises with its number."""
    records = []
    seen: set[str] = set()
    for where, record in json_lines(path):
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise DocumentError(f"{where}: expected an object with a string 'id'")
        if not isinstance(record.get("story"), str) or not record["story"]:
            raise DocumentError(f"{where}: 'story' must be the document's story label")
        if record["id"] in seen:
            raise DocumentError(f"{where}: document {record['id']!r} is labelled twice")
        seen.add(record["id"])
        records.append(record)
    if not records:
        raise DocumentError(f"{path} holds no labelled documents")
    return records
