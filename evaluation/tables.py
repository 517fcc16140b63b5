"""The evaluation and benchmark results as terminal tables: one function per result kind,
each taking the result dict its command computed and returning what to print.

The commands (`evaluation.cli`) run, print what these return, and check their floors;
the numbers are computed elsewhere (`evaluation.questions`, `evaluation.bench`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.table import Table

from evaluation.metrics import calibration_rows

# Metrics of a question-set run that are counts of the set, not scores of the run.
_SET_SIZES = ("questions", "expected_documents")
# Metrics of a question-set run that are tables of their own, not one number.
_NOT_NUMBERS = ("calibration", "latency_ms")


def cell(value: Any) -> str:
    """A metric as a table cell: three decimals, "-" when it was not measured."""
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A table whose first column is a label and the others right-aligned values."""
    shown = Table(title=title)
    for n, column in enumerate(columns):
        shown.add_column(column, justify="left" if n == 0 else "right")
    for row in rows:
        shown.add_row(*(str(value) for value in row))
    return shown


def missed_floors(metrics: Mapping[str, Any], floors: Mapping[str, float | None]) -> list[str]:
    """The floors a result is under (or did not measure), as "metric value < floor"."""
    return [
        f"{metric} {cell(metrics.get(metric))} < {floor}"
        for metric, floor in floors.items()
        if floor is not None and (metrics.get(metric) is None or metrics[metric] < floor)
    ]


# ---- parallax eval ------------------------------------------------------------------


def _numbers(metrics: Mapping[str, Any]) -> list[str]:
    return [
        n
        for n, value in metrics.items()
        if n not in _NOT_NUMBERS and (isinstance(value, float | int) or value is None)
    ]


def runs_table(runs: Sequence[Mapping[str, Any]]) -> Table:
    """One column per run (retrieval mode and reader), one row per metric and latency
    quantile."""
    metrics = runs[0]["metrics"]
    scores = [name for name in _numbers(metrics) if name not in _SET_SIZES]
    rows = [[name, *(cell(run["metrics"].get(name)) for run in runs)] for name in scores]
    for endpoint in metrics["latency_ms"]:
        for quantile in ("p50", "p95"):
            latencies = (run["metrics"]["latency_ms"][endpoint][quantile] for run in runs)
            rows.append([f"{endpoint} {quantile} ms", *(cell(ms) for ms in latencies)])
    return table("evaluation", ["metric", *(run["name"] for run in runs)], rows)


def calibration_tables(runs: Sequence[Mapping[str, Any]]) -> list[Table]:
    """The confidence bins of the runs whose reader gives a confidence: per bin the answers
    in it (before the threshold) and their share right; then those at or above 0.8."""
    rated = [run for run in runs if run["metrics"].get("calibration")]
    if not rated:
        return []
    columns = ["confidence"]
    for run in rated:
        columns += [f"{run['name']} answers", f"{run['name']} right"]
    rows = calibration_rows([run["metrics"]["calibration"] for run in rated], cell)
    title = "calibration: answers before the confidence threshold, by confidence"
    return [table(title, columns, rows)]


def runs_lines(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """One plain `name=value` line per run, for logs and CI."""
    names = _numbers(runs[0]["metrics"])
    return [
        f"{run['name']}: " + " ".join(f"{n}={cell(run['metrics'].get(n))}" for n in names)
        for run in runs
    ]


# ---- parallax eval-squad ------------------------------------------------------------

_SQUAD_COLUMNS = ("recall@1", "recall@5", "mrr", "answer_contains_gold", "exact_match", "f1")
_TYPE_COLUMNS = ("count", "answer_contains_gold", "exact_match", "f1", "short_answers")


def squad_tables(title: str, results: Sequence[Mapping[str, Any]]) -> list[Table]:
    """Each mode's retrieval and answer scores, then the first mode's by question type."""
    modes = table(
        title,
        ["mode", *_SQUAD_COLUMNS, "p50 ms"],
        (
            [r["mode"], *(cell(r[c]) for c in _SQUAD_COLUMNS), cell(r["latency_ms"]["p50"])]
            for r in results
        ),
    )
    first = results[0]
    by_type = table(
        f"{first['mode']}: by question type (as the reader reads it)",
        ["type", *_TYPE_COLUMNS],
        ([kind, *(cell(row[c]) for c in _TYPE_COLUMNS)] for kind, row in first["by_type"].items()),
    )
    return [modes, by_type]


# ---- parallax eval-stories ----------------------------------------------------------

_STORY_COLUMNS = ("precision", "recall", "f1", "stories")


def stories_table(name: str, result: Mapping[str, Any]) -> Table:
    """B-cubed scores at the setting's threshold and at each swept one."""
    title = (
        f"{name}: {result['documents']} labelled documents in {result['gold_stories']} "
        f"stories ({result['gold_multi_document_stories']} with 2+)"
    )
    if result.get("background_documents"):
        title += f", {result['background_documents']} unlabelled around them"
    points = sorted([{**result, "setting": True}, *result["sweep"]], key=lambda r: r["threshold"])
    rows = (
        [
            f"{point['threshold']}{' (setting)' if point.get('setting') else ''}",
            *(cell(point[c]) for c in _STORY_COLUMNS),
        ]
        for point in points
    )
    return table(title, ["threshold", *_STORY_COLUMNS], rows)


_STORIES_LINE = (
    "b-cubed f1={f1:.3f} precision={precision:.3f} recall={recall:.3f} stories={stories}; "
    "story assignment {story_ms_per_document} ms per document, {story_share_of_ingest:.1%} "
    "of ingest ({ingest_ms_per_document} ms per document; placing runs beside the encoder, "
    "so the share is not taken off ingest)"
)


def stories_line(result: Mapping[str, Any]) -> str:
    return _STORIES_LINE.format_map(result)


# ---- parallax bench -----------------------------------------------------------------


def bench_output(result: Mapping[str, Any]) -> list[Table | str]:
    """Everything `parallax bench` prints, in order: tables and plain lines."""
    shown: list[Table | str] = [
        *_ingest(result["ingest"]),
        *_html(result.get("html")),
        *_http(result),
    ]
    shown.append(f"one query in process, medians (ms): {result['breakdown_ms']}")
    shown.append(_CANDIDATES_LINE.format_map(result["sentence_candidates"]))
    if result.get("archive"):
        shown.extend(_archive(result["archive"]))
    if result["backends"]:
        shown.append(_backends(result["backends"]))
    if result["ann"]:
        shown.append(_ann(result["ann"]))
    shown.extend(_peers(result))
    return shown


def _peers(result: Mapping[str, Any]) -> list[Table | str]:
    """Each peer beside parallax: ingest of the same articles, /search p50 over HTTP."""
    rows = result.get("peers") or []
    measured = [row for row in rows if "skipped" not in row]
    shown: list[Table | str] = [
        f"peer {row['peer']} skipped: {row['skipped']}" for row in rows if "skipped" in row
    ]
    if not measured:
        return shown
    ingest, http = result["ingest"], result["http"]
    ours = http.get("search@1", {}).get("p50_ms", "-")
    columns = ["service", "passages", "passages/s", "articles/s", "/search p50 ms (HTTP)"]
    lines = [
        [
            "parallax",
            ingest["passages"],
            ingest["ingest_passages_per_s"],
            ingest["ingest_articles_per_s"],
            f"{ours} at {ingest.get('served_passages', ingest['passages'])} passages",
        ]
    ]
    for row in measured:
        searched = row.get("http_search_p50_ms", row.get("http_error", "-"))
        lines.append(
            [
                f"{row['peer']} {row.get('version', '')}".strip(),
                row["passages"],
                row["ingest_passages_per_s"],
                row["ingest_articles_per_s"],
                f"{searched} at {row['passages']} passages",
            ]
        )
    title = (
        f"peers: the same {ingest['articles']} articles and model (a peer indexes the passages "
        "parallax cut; its search in process p50: "
        + ", ".join(f"{r['peer']} {r['in_process_search_p50_ms']} ms" for r in measured)
        + ")"
    )
    shown.append(table(title, columns, lines))
    return shown


def ray_output(result: Mapping[str, Any]) -> list[Table | str]:
    """What `parallax bench --ray` prints."""
    columns = ["run", "seconds", "passages/s", "x single process", "merges"]
    rows = (
        [r["run"], r["seconds"], r["passages_per_s"], f"{r['x_single_process']}x", r["merges"]]
        for r in result["runs"]
    )
    title = f"building {result['documents']} articles from scratch (evaluation/raybench.py)"
    return [
        table(title, columns, rows),
        f"Ray adds {result['ray_overhead_ms_per_document']} ms a document (1 worker against "
        f"one core); 1 to 2 workers: {result['speedup_1_to_2_workers']}x",
    ]


def _ingest(ingest: Mapping[str, Any]) -> list[Table | str]:
    ours = (
        f"parallax ingest ({ingest['encoder']}, passages + {ingest['sentence_vectors']} "
        "sentences, saved)"
    )
    rows = [
        [ours, ingest["ingest_passages_per_s"], f"{ingest['ratio_ingest_to_encoder']}x"],
        ["bare fp32 encoder, same passages", ingest["encoder_fp32_passages_per_s"], "1x"],
        *_alone(ingest),
    ]
    title = f"ingest: {ingest['articles']} articles, {ingest['passages']} passages"
    shown: list[Table | str] = [
        table(title, ["what", "passages/s", "ratio"], rows),
        f"peak RSS {ingest['peak_rss_mb']} MB; baseline ST + FAISS flat query p50 "
        f"{ingest['baseline']['query_p50_ms']} ms (in process)",
    ]
    if "intake_seconds" in ingest:
        shown.append(
            f"intake (raw text into whole paragraphs) {ingest['intake_seconds']} s, "
            f"{ingest['intake_share']:.1%} of ingest"
        )
    if "stage_seconds" in ingest:
        shown.append(_stages(ingest))
    if "served_passages" in ingest:
        shown.append(
            f"grown to {ingest['served_articles']} articles, {ingest['served_passages']} "
            f"passages and {ingest['served_sentences']} sentences at "
            f"{ingest['growth_passages_per_s']} passages/s for the query benchmarks"
        )
    return shown


def _alone(ingest: Mapping[str, Any]) -> list[list[Any]]:
    """The ingest encoder alone on the same passages, against the bare fp32 encoder."""
    if "encoder_alone_passages_per_s" not in ingest:
        return []
    alone = ingest["encoder_alone_passages_per_s"]
    ratio = round(alone / ingest["encoder_fp32_passages_per_s"], 3)
    return [[f"{ingest['encoder']} encoder alone, same passages", alone, f"{ratio}x"]]


def _stages(ingest: Mapping[str, Any]) -> Table:
    """Where ingest's time went, stage by stage, as seconds and shares of the whole."""
    whole = ingest["ingest_seconds"]
    stages = sorted(ingest["stage_seconds"].items(), key=lambda item: -item[1])
    title = (
        f"ingest by stage ({whole} s; ingest is {ingest['ratio_ingest_to_encoder_alone']}x "
        "the encoder alone)"
    )
    rows = ([name, seconds, f"{seconds / whole:.1%}"] for name, seconds in stages)
    return table(title, ["stage", "seconds", "share"], rows)


def _html(html: Mapping[str, Any] | None) -> list[str]:
    if not html:
        return []
    return [
        f"HTML intake: {html['pages']} saved pages, article extraction {html['html_mean_ms']} ms "
        f"a page on average (p50 {html['html_p50_ms']}, p95 {html['html_p95_ms']}) against "
        f"{html['text_mean_ms']} ms for the same article as plain text: "
        f"+{html['added_mean_ms']} ms a page"
    ]


_HTTP_COLUMNS = ("p50_ms", "p95_ms", "p99_ms", "requests_per_s", "errors")


def _http(result: Mapping[str, Any]) -> list[Table | str]:
    http, ingest = result["http"], result["ingest"]
    rows = (
        [name, *(row[k] for k in _HTTP_COLUMNS)]
        for name, row in http.items()
        if isinstance(row, dict)
    )
    shown: list[Table | str] = [
        table(
            f"HTTP (cold start to first answer {http['cold_start_s']} s; story matching "
            f"ready {http.get('warm_up_s', '?')} s later, then measured)",
            ["endpoint@clients", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors"],
            rows,
        )
    ]
    if "search@1" in http:
        baseline = ingest["baseline"]
        baseline_ms = baseline.get("served_query_p50_ms", baseline["query_p50_ms"])
        shown.append(
            f"/search p50 at 1 client is {http['search@1']['p50_ms'] / baseline_ms:.2f}x the "
            f"plain script's in-process query over the same passages ({baseline_ms} ms)"
        )
    return shown


_CANDIDATES_LINE = (
    "dense search scores sentences for the best {candidates} passages only: top 10 the same "
    "as scoring all sentences {top10_overlap:.2%} (worst query {top10_overlap_min:.0%}), "
    "top 200 {top200_overlap:.2%}, over {queries} queries; {p50_ms} ms against "
    "{all_sentences_p50_ms} ms"
)


_WRITE_COLUMNS = (
    "passages",
    "write_p50_ms",
    "write_p95_ms",
    "segments_after_writes",
    "merges",
    "merge_s",
    "segments_after_merges",
    "open_s",
)

_STREAMING_LINE = (
    "/search at 1 client while another client posts one document at a time, {rate}: p50 "
    "{ingesting_p50_ms} ms against {idle_p50_ms} ms idle ({ratio_p50}x; p95 {idle_p95_ms} "
    "-> {ingesting_p95_ms} ms, slowest {ingesting_max_ms} ms; {writes_per_s} writes/s; "
    "{failed} requests failed)"
)


_MILLION_LINE = (
    "bulk archive of {passages} passages ({copies} copies, one segment; graph built in "
    "{graph_s} s): opened in {open_s} s, RSS {rss_after_open_mb} MB after opening, "
    "{rss_searching_mb} MB searching, {rss_peak_mb} MB at most; dense search p50 "
    "{dense_p50_ms} ms (p95 {dense_p95_ms}), "
    "recall@10 {recall@10} against exact; hybrid /search in process p50 {search_p50_ms} ms "
    "(p95 {search_p95_ms}). Served: first answer {first_answer_s} s after start, story "
    "matching ready {first_write_s} s after it (a first write waits for it); then /search "
    "over HTTP p50 {http_p50_ms} ms (p95 {http_p95_ms}), RSS {served_rss_mb} MB "
    "({served_anon_mb} anonymous, {served_file_mb} mapped files), peak {served_peak_mb} MB"
)


def _archive(archive: Mapping[str, Any]) -> list[Table | str]:
    rows = ([row[c] for c in _WRITE_COLUMNS] for row in archive["writes"])
    title = (
        "one-document writes, then the merges they leave (the larger archive is the served "
        f"index {archive['copies']} times: evaluation/scale.py)"
    )
    columns = [c.replace("_", " ") for c in _WRITE_COLUMNS]
    streaming = [
        _STREAMING_LINE.format_map({"ingesting_max_ms": "-", "failed": 0, **row})
        for row in archive["search_while_ingesting"]
    ]
    million = []
    if "million" in archive:
        measured = archive["million"]
        by_set = measured.get("recall_by_set", {})
        sets = "; ".join(
            f"{name} ({row['queries']}) {row['recall@10']}" for name, row in by_set.items()
        )
        million = [_MILLION_LINE.format_map(measured)]
        if sets:
            million.append(f"bulk archive, dense recall@10 against exact by query set: {sets}")
    return [table(title, columns, rows), *streaming, *million]


def _backends(backends: Sequence[Mapping[str, Any]]) -> Table:
    columns = [k for k in backends[0] if k != "backend"]
    return table(
        "encoder backends against sentence-transformers fp32",
        ["backend", *(c.replace("_", " ") for c in columns)],
        ([row["backend"], *(row.get(c, "") for c in columns)] for row in backends),
    )


def _ann(sizes: Sequence[Mapping[str, Any]]) -> Table:
    columns = ["vectors", "exact p50 ms", "HNSW efSearch", "HNSW p50 ms", "HNSW recall@10"]
    rows = (
        [
            size["vectors"],
            size["exact_p50_ms"],
            point["ef_search"],
            point["p50_ms"],
            point["recall@10"],
            size["hnsw_build_s"],
        ]
        for size in sizes
        for point in size["hnsw_sweep"]
    )
    return table(
        "vector search, one query (structured synthetic vectors)",
        [*columns, "HNSW build s"],
        rows,
    )
