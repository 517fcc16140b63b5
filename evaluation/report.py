"""Evaluation reports: run results to Markdown with PNG plots, and a diff of two result files.

A run result is the dict `parallax eval` produces (`name`, `config`, `metrics`,
`questions`); a result file is `{"runs": [main, baseline, ...]}`. Rendering is
pure string building; only `write_report` touches the disk and matplotlib.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from evaluation.metrics import calibration_rows
from index.errors import BadRequest, ParallaxError

Run = dict[str, Any]

# Keys of `metrics` that are not one number per run; they get their own rows or none.
_NOT_SCORES = {"primary", "latency_ms", "calibration"}
# Counts are shown as integers and left out of the 0..1 comparison chart.
_COUNTS = {"questions", "expected_documents"}


def write_report(runs: list[Run], path: Path) -> list[Path]:
    """Write the Markdown report at `path` and plots beside it; return the paths, report first."""
    main = _main(runs)
    path.parent.mkdir(parents=True, exist_ok=True)
    plots: list[tuple[str, Path]] = []
    if main["questions"]:
        plots.append(("recall", _plot_recall(main, _plot_path(path, "recall"))))
    if _latencies(main):
        plots.append(("latency", _plot_latency(main, _plot_path(path, "latency"))))
    if len(runs) > 1:
        plots.append(("runs", _plot_runs(runs, _plot_path(path, "runs"))))
    if _calibrated(runs):
        plots.append(("calibration", _plot_calibration(runs, _plot_path(path, "calibration"))))
    images = {kind: plot.name for kind, plot in plots}
    path.write_text(render_report(runs, images), encoding="utf-8")
    return [path, *(plot for _, plot in plots)]


def render_report(runs: Sequence[Run], images: dict[str, str]) -> str:
    """The report's Markdown; `images` maps plot kind (recall, latency, runs, calibration)
    to a file name."""
    main = _main(runs)
    blocks = [
        f"# parallax eval: {_cell(main.get('name', 'run'))}",
        _config_line(main.get("config", {})),
        "## Summary",
        _summary_table(runs),
        _image(images, "runs", "Main metrics across runs"),
        _image(images, "latency", "Latency per endpoint"),
        *_calibration_section(runs, images),
        "## Misses",
        _misses_table(main),
        "## Per question",
        _image(images, "recall", "Per-question source recall and answer accuracy"),
        _questions_table(main),
    ]
    return "\n\n".join(block for block in blocks if block) + "\n"


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Markdown diff of the main runs of two result files: metric deltas and flipped answers."""
    run_a, run_b = _main(_runs_of(a, "A")), _main(_runs_of(b, "B"))
    rows = [
        [label, _value(value_a, unit), _value(value_b, unit), _delta(value_a, value_b, unit)]
        for label, value_a, value_b, unit in _paired_metrics(run_a, run_b)
    ]
    header = ["Metric", f"A ({run_a.get('name', 'A')})", f"B ({run_b.get('name', 'B')})", "B − A"]
    broken, fixed = _flips(run_a, run_b)
    lines = [
        _table(header, rows),
        f"**Correct → wrong** ({len(broken)}): {_pairs(broken)}",
        f"**Wrong → correct** ({len(fixed)}): {_pairs(fixed)}",
    ]
    return "\n\n".join(lines) + "\n"


# --- Markdown pieces ---------------------------------------------------------------------------


def _cell(value: object) -> str:
    # A raw `|` would end the cell early and shift every column after it.
    return " ".join(str(value).split()).replace("|", r"\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [_row(header), "|" + "---|" * len(header)]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _image(images: dict[str, str], kind: str, alt: str) -> str:
    return f"![{alt}]({images[kind]})" if kind in images else ""


def _number(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _config_line(config: dict[str, Any]) -> str:
    parts = [
        f"Questions `{config.get('questions', '-')}`",
        f"corpus `{config.get('url') or config.get('corpus', '-')}`",
        f"mode `{config.get('mode', '-')}`",
        *([f"reader `{config['reader']}`"] if config.get("reader") else []),
        f"k {config.get('k', '-')}",
        f"per_source {config.get('per_source', '-')}",
        f"model `{config.get('model', '-')}`",
        _date(config.get("started_at")),
    ]
    return " · ".join(parts)


def _date(started_at: str | None) -> str:
    if not started_at:
        return "date unknown"
    try:
        return datetime.fromisoformat(started_at).strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:
        return started_at


def _summary_table(runs: Sequence[Run]) -> str:
    primary = runs[0]["metrics"].get("primary")
    header = ["Metric", *(run.get("name", f"run {i + 1}") for i, run in enumerate(runs))]
    rows = []
    for name in _score_names(runs):
        values = [_number(run["metrics"].get(name)) for run in runs]
        if name == primary:
            rows.append([f"**{name}**", *(f"**{value}**" for value in values)])
        else:
            rows.append([name, *values])
    for endpoint, stat in _latency_keys(runs):
        label = f"{endpoint} {stat} (ms)"
        rows.append([label, *(_ms(_latency(run, endpoint, stat)) for run in runs)])
    return _table(header, rows)


def _misses_table(run: Run) -> str:
    per_source = run.get("config", {}).get("per_source", "per_source")
    rows = [
        [
            question["id"],
            question["question"],
            doc["doc_id"],
            doc["hit_rank"] if doc["hit_rank"] is not None else "-",
            doc["answer"] if doc["answer"] is not None else "no answer",
            "; ".join(_what_went_wrong(doc, per_source)),
        ]
        for question in run["questions"]
        for doc in question["documents"]
        if _what_went_wrong(doc, per_source)
    ]
    rows += [
        [question["id"], question["question"], doc["doc_id"], "-", doc["answer"], _NOT_ANSWERING]
        for question in run["questions"]
        for doc in question.get("no_answer") or ()
        if doc["answer"] is not None
    ]
    if not rows:
        return "Every expected document was found and answered correctly."
    return _table(["Id", "Question", "Document", "Hit rank", "Answer", "What went wrong"], rows)


_NOT_ANSWERING = "answered, but the document does not answer (no_answer)"


def _what_went_wrong(doc: dict[str, Any], per_source: object) -> list[str]:
    problems = []
    if not doc["found"]:
        problems.append(f"passage not in top {per_source}")
    if not doc["answer_correct"]:
        problems.append("no answer" if doc["answer"] is None else "wrong answer")
    return problems


def _questions_table(run: Run) -> str:
    # A reader that gives no confidence (the baseline) gets no confidence column.
    rated = any(
        doc.get("confidence") is not None
        for question in run["questions"]
        for doc in question["documents"]
    )
    header = ["Id", "Question", "Document", "Hit rank", "Answer"]
    header += [*(["Confidence"] if rated else []), "Correct", "Conflict exp / pred"]
    rows = []
    for question in run["questions"]:
        conflict = _conflict(question.get("conflict_expected"), question.get("conflict_predicted"))
        # The question and its conflict verdict go on its first row only, so each block reads
        # as one question with its documents under it.
        lead = [question["id"], question["question"]]
        for doc in question["documents"] or [None]:
            if doc is None:
                rows.append([*lead, "-", "-", "-", *(["-"] if rated else []), "-", conflict])
                continue
            answer = doc["answer"] if doc["answer"] is not None else "no answer"
            rank = doc["hit_rank"] if doc["hit_rank"] is not None else "-"
            confidence = [_number(doc.get("confidence"))] if rated else []
            mark = "✓" if doc["answer_correct"] else "✗"
            rows.append([*lead, doc["doc_id"], rank, answer, *confidence, mark, conflict])
            lead, conflict = ["", ""], ""
    return _table(header, rows)


def _calibration_section(runs: Sequence[Run], images: dict[str, str]) -> list[str]:
    """The calibration heading, table and plot, for the runs whose reader gives a confidence."""
    rated = _calibrated(runs)
    if not rated:
        return []
    header = ["Confidence"]
    for run in rated:
        header += [f"{run.get('name', 'run')}: answers", f"{run.get('name', 'run')}: right"]
    calibrations = [run["metrics"]["calibration"] for run in rated]
    rows = calibration_rows(calibrations, _number, dash="–", at_least="≥")
    about = (
        "Every answer the reader gave before its confidence threshold, by confidence, and the "
        "share of them that is right (its document is expected and a pattern matches)."
    )
    return [
        "## Calibration",
        about,
        _table(header, rows),
        _image(images, "calibration", "Confidence against the share right"),
    ]


def _conflict(expected: bool | None, predicted: bool | None) -> str:
    def word(value: bool | None) -> str:
        return "-" if value is None else ("yes" if value else "no")

    verdict = "" if expected is None else (" ✓" if expected == predicted else " ✗")
    return f"{word(expected)} / {word(predicted)}{verdict}"


# --- metrics -----------------------------------------------------------------------------------


def _main(runs: Sequence[Run]) -> Run:
    if not runs:
        raise BadRequest("no runs to report: pass at least one run result")
    return runs[0]


def _calibrated(runs: Sequence[Run]) -> list[Run]:
    """The runs with a calibration (a reader that gives a confidence, and answers)."""
    return [run for run in runs if (run["metrics"].get("calibration") or {}).get("answers")]


def _runs_of(result: dict[str, Any], label: str) -> list[Run]:
    runs = result.get("runs") if isinstance(result, dict) else None
    if not runs:
        raise BadRequest(f'result {label} has no runs: expected {{"runs": [run, ...]}}')
    return list(runs)


def _score_names(runs: Sequence[Run]) -> list[str]:
    """Metric names in the main run's order, then any only the baselines have."""
    names: list[str] = []
    for run in runs:
        names += [n for n in run["metrics"] if n not in _NOT_SCORES and n not in names]
    return names


def _latency_keys(runs: Sequence[Run]) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    for run in runs:
        for endpoint, stats in (run["metrics"].get("latency_ms") or {}).items():
            keys += [(endpoint, stat) for stat in stats if (endpoint, stat) not in keys]
    return keys


def _latency(run: Run, endpoint: str, stat: str) -> float | None:
    return ((run["metrics"].get("latency_ms") or {}).get(endpoint) or {}).get(stat)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _paired_metrics(a: Run, b: Run) -> list[tuple[str, Any, Any, str]]:
    """(label, A value, B value, unit) for every metric either run has."""
    rows: list[tuple[str, Any, Any, str]] = [
        (name, a["metrics"].get(name), b["metrics"].get(name), "") for name in _score_names([a, b])
    ]
    rows += [
        (f"{endpoint} {stat} (ms)", _latency(a, endpoint, stat), _latency(b, endpoint, stat), "ms")
        for endpoint, stat in _latency_keys([a, b])
    ]
    return rows


def _value(value: Any, unit: str) -> str:
    return _ms(value) if unit == "ms" else _number(value)


def _delta(a: Any, b: Any, unit: str) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return "-"
    if unit == "ms":
        return f"{b - a:+.1f} ms"
    if isinstance(a, int) and isinstance(b, int):
        return f"{b - a:+d}"
    return f"{b - a:+.3f}"


def _flips(a: Run, b: Run) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(question id, doc id) pairs whose answer went correct -> wrong, and wrong -> correct."""
    before, after = _correctness(a), _correctness(b)
    shared = [pair for pair in before if pair in after]
    broken = [pair for pair in shared if before[pair] and not after[pair]]
    fixed = [pair for pair in shared if not before[pair] and after[pair]]
    return broken, fixed


def _correctness(run: Run) -> dict[tuple[str, str], bool]:
    return {
        (question["id"], doc["doc_id"]): bool(doc["answer_correct"])
        for question in run["questions"]
        for doc in question["documents"]
    }


def _pairs(pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"`{qid}` / `{doc}`" for qid, doc in pairs) or "none"


# --- plots -------------------------------------------------------------------------------------


# Bars reach 1.0 across the whole width, so a legend inside the axes would hide some of them.
_LEGEND_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "frameon": False}


def _plot_path(report: Path, kind: str) -> Path:
    return report.with_name(f"{report.stem}-{kind}.png")


def _latencies(run: Run) -> dict[str, list[float]]:
    """Per-question latencies by endpoint, leaving out questions an endpoint did not time."""
    series: dict[str, list[float]] = {}
    for question in run["questions"]:
        for endpoint, value in (question.get("latency_ms") or {}).items():
            if value is not None:
                series.setdefault(endpoint, []).append(value)
    return series


def eval_extra(module: str, purpose: str) -> Any:
    """`module`, which the eval extra installs; without it (the server's install leaves it
    out) an error saying what needed it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ParallaxError(
            f"{purpose} ({exc}); install the eval extra: pip install -e '.[eval]'"
        ) from None


def _pyplot():  # type: ignore[no-untyped-def]
    # Agg renders to files without a display; importing pyplot here keeps importing
    # evaluation.report cheap.
    matplotlib = eval_extra("matplotlib", "--report draws its plots with matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    plt = _pyplot()
    try:
        fig.tight_layout()
        fig.savefig(path, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def _plot_recall(run: Run, path: Path) -> Path:
    plt = _pyplot()
    questions = run["questions"]
    ids = [question["id"] for question in questions]
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * len(ids)))
    positions = range(len(ids))
    for offset, key, label in (
        (-0.2, "source_recall", "source recall"),
        (0.2, "answer_accuracy", "answer accuracy"),
    ):
        # An undefined score draws no bar rather than a misleading zero.
        values = [q.get(key) if q.get(key) is not None else float("nan") for q in questions]
        ax.barh([p + offset for p in positions], values, height=0.4, label=label)
    ax.set_yticks(list(positions), ids)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_title(f"Per question: {run.get('name', 'run')}")
    ax.legend(**_LEGEND_OUTSIDE)
    return _save(fig, path)


def _plot_latency(run: Run, path: Path) -> Path:
    plt = _pyplot()
    series = _latencies(run)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.boxplot(list(series.values()), tick_labels=list(series), orientation="horizontal")
    ax.invert_yaxis()
    ax.set_xlabel("latency per question (ms)")
    ax.set_title(f"Latency: {run.get('name', 'run')}")
    return _save(fig, path)


def _plot_runs(runs: Sequence[Run], path: Path) -> Path:
    plt = _pyplot()
    names = [n for n in _score_names(runs) if n not in _COUNTS]
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(names)), 4))
    for i, run in enumerate(runs):
        values = [_as_float(run["metrics"].get(name)) for name in names]
        positions = [j - 0.4 + width * (i + 0.5) for j in range(len(names))]
        ax.bar(positions, values, width=width, label=run.get("name", f"run {i + 1}"))
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Main metrics across runs")
    ax.legend(**_LEGEND_OUTSIDE)
    return _save(fig, path)


def _plot_calibration(runs: Sequence[Run], path: Path) -> Path:
    """A reliability diagram: each bin's mean confidence against its share right, one line
    per run, the diagonal where they would be equal."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 6))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="calibrated")
    for run in _calibrated(runs):
        bins = [b for b in run["metrics"]["calibration"]["bins"] if b["answers"]]
        ax.plot(
            [b["mean_confidence"] for b in bins],
            [b["right"] for b in bins],
            marker="o",
            label=f"{run.get('name', 'run')} ({run['metrics']['calibration']['answers']} answers)",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("confidence (bin mean)")
    ax.set_ylabel("share right")
    ax.set_title("Calibration")
    # Below the square axes: beside them it would squeeze them into a strip.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    return _save(fig, path)


def _as_float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")
