"""The evaluation and benchmark commands of `parallax`: eval, eval-squad, eval-stories and
bench.

They are developer tooling, not the service: this package is never imported by `index`,
`search` or `api`. `api.cli` finds these commands through the `parallax.commands` entry
point (pyproject.toml) and registers them with `register`, so the one `parallax` command
has them wherever this package is installed (`make test` installs it; a server image
need not).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli import REUTERS, _cell, console, errors, with_settings
from api.settings import Settings


@with_settings
def eval_command(
    settings: Settings,
    questions: Annotated[
        Path | None,
        typer.Argument(help="Question set, JSON Lines (README, 'Evaluation': the format)."),
    ] = None,
    k: Annotated[int, typer.Option(help="Hits in the overall ranking.")] = 10,
    per_source: Annotated[int, typer.Option(help="Top hits per source that count.")] = 2,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result here.")] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write a Markdown report (plots beside it).")
    ] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="JSONL corpus to evaluate over instead of the seeds.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Evaluate a running server over HTTP instead.")
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="Story labels (JSONL: id, story): evaluate over the labelled documents and "
            "score scoping (answers from the story each question names)."
        ),
    ] = None,
    reuters: Annotated[
        Path, typer.Option(help="Reuters-21578 JSONL, for labelled r<newid> documents.")
    ] = REUTERS,
    story: Annotated[
        str, typer.Option(help="How /ask picks its story: auto, or all (across every story).")
    ] = "auto",
    baselines: Annotated[
        bool, typer.Option(help="Also run dense-only and lexical-only retrieval.")
    ] = False,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(help="Show the metric deltas between two --json results, A then B."),
    ] = None,
    min_source_recall: Annotated[float | None, typer.Option(help="Fail below this.")] = None,
    min_mrr: Annotated[float | None, typer.Option(help="Fail below this.")] = None,
    min_answer_acc: Annotated[float | None, typer.Option(help="Fail below this.")] = None,
    min_coverage: Annotated[float | None, typer.Option(help="Fail below this.")] = None,
    min_conflict_acc: Annotated[float | None, typer.Option(help="Fail below this.")] = None,
    min_scoping: Annotated[
        float | None, typer.Option(help="Fail below this share of answers from the named story.")
    ] = None,
) -> None:
    """Run a question set and report source recall, MRR, answer and conflict accuracy, latency.

    Exits 1 when a --min-* threshold is missed, so it can gate CI.
    """
    import json

    from evaluation.questions import run_questions
    from search.evaluate import load_questions

    if compare is not None:
        from evaluation.report import compare as compare_runs

        first, second = (json.loads(path.read_text()) for path in compare)
        console.print(compare_runs(first, second))
        return
    if questions is None:
        errors.print("[red]error:[/red] give a QUESTIONS.jsonl file (or --compare A.json B.json)")
        raise typer.Exit(2)
    if mode not in ("hybrid", "dense", "lexical"):
        errors.print(f"[red]error:[/red] --mode must be hybrid, dense or lexical, got {mode!r}")
        raise typer.Exit(2)
    question_set = load_questions(questions)
    modes = [mode] + ([m for m in ("dense", "lexical") if m != mode] if baselines else [])
    config = {
        "questions": str(questions),
        "corpus": str(labels or corpus)
        if labels or corpus
        else ("server" if url else str(settings.seeds_dir)),
        "url": url,
        "model": settings.model,
    }
    gold = None
    documents: Any = corpus
    if labels is not None:
        from evaluation.questions import labelled_documents
        from search.evaluate import load_story_labels

        records = load_story_labels(labels)
        gold = {r["id"]: r["story"] for r in records}
        if not url:
            documents = labelled_documents(records, settings, reuters, corpus)
    runs = []
    with _client(settings, url, documents) as client:
        for run_mode in modes:
            runs.append(
                run_questions(
                    question_set,
                    client,
                    name=run_mode,
                    mode=run_mode,
                    k=k,
                    per_source=per_source,
                    config=config,
                    progress=lambda items, m=run_mode: _progress(items, len(question_set), m),
                    gold=gold,
                    story=story,
                )
            )
    _print_runs(runs)
    if json_out:
        json_out.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False))
    if report:
        from evaluation.report import write_report

        written = write_report(runs, report)
        console.print(f"report: {', '.join(str(path) for path in written)}")
    floors = {
        "source_recall": min_source_recall,
        "mrr": min_mrr,
        "answer_accuracy": min_answer_acc,
        "coverage": min_coverage,
        "conflict_accuracy": min_conflict_acc,
        "scoping": min_scoping,
    }
    main = runs[0]["metrics"]
    missed = [
        f"{metric} {_cell(main.get(metric))} < {floor}"
        for metric, floor in floors.items()
        if floor is not None and (main.get(metric) is None or main[metric] < floor)
    ]
    if missed:
        errors.print(f"[red]thresholds missed:[/red] {'; '.join(missed)}")
        raise typer.Exit(1)


@with_settings
def eval_squad_command(
    settings: Settings,
    file: Annotated[Path, typer.Argument(help="SQuAD v1.1 JSON, e.g. XQuAD's xquad.en.json.")],
    modes: Annotated[str, typer.Option(help="Comma-separated retrieval modes.")] = (
        "dense,lexical,hybrid"
    ),
    limit: Annotated[int | None, typer.Option(help="Ask only the first N questions.")] = None,
    story: Annotated[
        str, typer.Option(help="How /ask picks its story: auto, or all (across every story).")
    ] = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result here.")] = None,
    part: Annotated[
        str,
        typer.Option(
            help="Which questions: all, dev (the first half of the articles, for tuning) or "
            "test (the second half, never tuned on). Every paragraph is indexed either way."
        ),
    ] = "all",
    min_contains: Annotated[
        float | None, typer.Option(help="Exit 1 if answer-contains-gold (first mode) is below.")
    ] = None,
    min_f1: Annotated[
        float | None, typer.Option(help="Exit 1 if short-answer F1 (first mode) is below.")
    ] = None,
) -> None:
    """Index each paragraph as a document, ask every question: recall@1/5/10 and MRR of the
    gold paragraph, how often the best answer (or its sentence) holds a gold answer, and
    the short answer's exact match and F1 (SQuAD's normalisation), per question type."""
    import json

    from evaluation.questions import run_squad, temporary_index
    from index.documents import parse_document
    from search.evaluate import load_squad

    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    if not chosen or any(m not in ("hybrid", "dense", "lexical") for m in chosen):
        errors.print(f"[red]error:[/red] --modes takes hybrid, dense, lexical; got {modes!r}")
        raise typer.Exit(2)
    if part not in ("all", "dev", "test"):
        errors.print(f"[red]error:[/red] --part takes all, dev or test; got {part!r}")
        raise typer.Exit(2)
    records, questions = load_squad(file)
    if part != "all":
        articles = sorted({q.doc_id.rsplit("-", 1)[0] for q in questions})
        half = set(articles[: len(articles) // 2])
        questions = [
            q for q in questions if (q.doc_id.rsplit("-", 1)[0] in half) == (part == "dev")
        ]
    questions = questions[:limit] if limit else questions
    documents = [parse_document(record, f"paragraph {record['id']}") for record in records]
    results = []
    with temporary_index(settings, documents) as live:
        for mode in chosen:
            results.append(
                run_squad(
                    live,
                    questions,
                    mode,
                    progress=lambda items, m=mode: _progress(items, len(questions), f"squad {m}"),
                    story=story,
                )
            )
    title = f"{file.name} ({part}): {len(documents)} paragraphs, {len(questions)} questions"
    table = Table(title=title)
    columns = ["recall@1", "recall@5", "mrr", "answer_contains_gold", "exact_match", "f1"]
    table.add_column("mode")
    for column in [*columns, "p50 ms"]:
        table.add_column(column, justify="right")
    for result in results:
        cells = [_cell(result[c]) for c in columns]
        table.add_row(result["mode"], *cells, _cell(result["latency_ms"]["p50"]))
    console.print(table)
    by_type = Table(title=f"{results[0]['mode']}: by question type (as the reader reads it)")
    type_columns = ["count", "answer_contains_gold", "exact_match", "f1", "short_answers"]
    by_type.add_column("type")
    for column in type_columns:
        by_type.add_column(column, justify="right")
    for kind, row in results[0]["by_type"].items():
        by_type.add_row(kind, *[_cell(row[c]) for c in type_columns])
    console.print(by_type)
    if json_out:
        json_out.write_text(json.dumps({"file": str(file), "results": results}, indent=2))
    floors = {"answer_contains_gold": min_contains, "f1": min_f1}
    main = results[0]
    missed = [
        f"{metric} {_cell(main.get(metric))} < {floor}"
        for metric, floor in floors.items()
        if floor is not None and (main.get(metric) is None or main[metric] < floor)
    ]
    if missed:
        errors.print(f"[red]thresholds missed:[/red] {'; '.join(missed)}")
        raise typer.Exit(1)


@with_settings
def eval_stories_command(
    settings: Settings,
    labels: Annotated[
        Path, typer.Argument(help="Labelled documents, JSON Lines: {id, story} (+ text).")
    ],
    reuters: Annotated[
        Path, typer.Option(help="Reuters-21578 JSONL, for labelled r<newid> documents.")
    ] = REUTERS,
    corpus: Annotated[
        Path | None, typer.Option(help="JSONL documents to find labelled ids in.")
    ] = None,
    sweep: Annotated[
        str, typer.Option(help="Story thresholds to score besides the setting, comma-separated.")
    ] = "",
    background: Annotated[
        int,
        typer.Option(
            help="Also ingest this many unlabelled Reuters articles (-1: all), as an archive "
            "around the labelled ones; scores stay over the labelled documents."
        ),
    ] = 0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result here.")] = None,
    min_f1: Annotated[float | None, typer.Option(help="Fail below this B-cubed F1.")] = None,
) -> None:
    """Ingest labelled documents oldest first and score the stories they form: B-cubed
    precision, recall and F1, the number of stories, the time per document.

    Exits 1 when --min-f1 is missed, so it can gate CI.
    """
    import json

    from evaluation.bench import reuters_documents
    from evaluation.questions import evaluate_stories, labelled_documents
    from search.evaluate import load_story_labels

    try:
        thresholds = [float(t) for t in sweep.split(",") if t.strip()]
    except ValueError:
        errors.print(f"[red]error:[/red] --sweep takes numbers like 0.4,0.5; got {sweep!r}")
        raise typer.Exit(2) from None
    records = load_story_labels(labels)
    documents = labelled_documents(records, settings, reuters, corpus)
    extra: list[Any] = []
    if background:
        labelled = {doc.id for doc in documents}
        extra = [d for d in reuters_documents(reuters) if d.id not in labelled]
        extra = extra if background < 0 else extra[:background]
    result = evaluate_stories(settings, records, documents, thresholds, extra)
    result["labels"] = str(labels)
    table = Table(
        title=f"{labels.name}: {result['documents']} labelled documents in "
        f"{result['gold_stories']} stories ({result['gold_multi_document_stories']} with 2+)"
        + (f", {result['background_documents']} unlabelled around them" if extra else "")
    )
    for column in ("threshold", "precision", "recall", "f1", "stories"):
        table.add_column(column, justify="right")
    rows = [{**result, "setting": True}, *result["sweep"]]
    for row in sorted(rows, key=lambda r: r["threshold"]):
        marker = " (setting)" if row.get("setting") else ""
        table.add_row(
            f"{row['threshold']}{marker}",
            *(_cell(row[c]) for c in ("precision", "recall", "f1", "stories")),
        )
    console.print(table)
    console.print(
        f"b-cubed f1={_cell(result['f1'])} precision={_cell(result['precision'])} "
        f"recall={_cell(result['recall'])} stories={result['stories']}; story assignment "
        f"{result['story_ms_per_document']} ms per document, "
        f"{result['story_share_of_ingest']:.1%} of ingest ({result['ingest_ms_per_document']} "
        "ms per document)",
        highlight=False,
    )
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))
    if min_f1 is not None and result["f1"] < min_f1:
        errors.print(f"[red]threshold missed:[/red] b-cubed f1 {result['f1']} < {min_f1}")
        raise typer.Exit(1)


@with_settings
def bench_command(
    settings: Settings,
    reuters: Annotated[Path, typer.Option(help="Reuters-21578 JSONL.")] = REUTERS,
    limit: Annotated[int, typer.Option(help="Articles for the ingest ratio.")] = 2000,
    serve_limit: Annotated[
        int, typer.Option(help="Articles in the index the queries run against (all: ~19k).")
    ] = 20000,
    clients: Annotated[str, typer.Option(help="Concurrent HTTP clients, comma-separated.")] = (
        "1,4,16"
    ),
    requests: Annotated[int, typer.Option(help="Requests per endpoint and client count.")] = 160,
    ann_sizes: Annotated[
        str, typer.Option(help="Vector counts for exact vs HNSW (1000000 takes ~10 min).")
    ] = "100000",
    xquad: Annotated[
        Path, typer.Option(help="XQuAD JSON for the backends' top-10 overlap ('' skips them).")
    ] = Path("../shared/data/xquad/xquad.en.json"),
    questions: Annotated[
        Path, typer.Option(help="Question set for the backends' top-10 overlap.")
    ] = Path("../shared/eval/questions.jsonl"),
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result here.")] = None,
) -> None:
    """Ingest and query speed, each as a ratio to a baseline measured in the same run."""
    import json

    from evaluation.bench import run_bench

    counts = [int(c) for c in clients.split(",") if c.strip()]
    sizes = [int(n) for n in ann_sizes.split(",") if n.strip()]
    quality = (xquad, questions) if str(xquad) not in ("", ".") else None
    result = run_bench(settings, reuters, limit, counts, requests, sizes, quality, serve_limit)
    ingest, http, stages = result["ingest"], result["http"], result["breakdown_ms"]
    table = Table(title=f"ingest: {ingest['articles']} articles, {ingest['passages']} passages")
    for column in ("what", "passages/s", "ratio"):
        table.add_column(column, justify="right" if column != "what" else "left")
    table.add_row(
        f"parallax ingest ({ingest['encoder']}, passages + {ingest['sentence_vectors']} "
        "sentences, saved)",
        f"{ingest['ingest_passages_per_s']}",
        f"{ingest['ratio_ingest_to_encoder']}x",
    )
    table.add_row(
        "bare fp32 encoder, same passages", f"{ingest['encoder_fp32_passages_per_s']}", "1x"
    )
    console.print(table)
    console.print(
        f"peak RSS {ingest['peak_rss_mb']} MB; baseline ST + FAISS flat query p50 "
        f"{ingest['baseline']['query_p50_ms']} ms (in process)"
    )
    if "served_passages" in ingest:
        console.print(
            f"grown to {ingest['served_articles']} articles, {ingest['served_passages']} passages "
            f"and {ingest['served_sentences']} sentences at {ingest['growth_passages_per_s']} "
            "passages/s for the query benchmarks"
        )
    queries = Table(title=f"HTTP (cold start to first answer {http['cold_start_s']} s)")
    for column in ("endpoint@clients", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors"):
        queries.add_column(column, justify="right")
    for name, row in http.items():
        if isinstance(row, dict):
            queries.add_row(
                name,
                *(str(row[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "requests_per_s", "errors")),
            )
    console.print(queries)
    baseline_ms = ingest["baseline"].get("served_query_p50_ms", ingest["baseline"]["query_p50_ms"])
    console.print(
        f"/search p50 at 1 client is {http['search@1']['p50_ms'] / baseline_ms:.2f}x the plain "
        f"script's in-process query over the same passages ({baseline_ms} ms)"
        if "search@1" in http
        else ""
    )
    console.print(f"one query in process, medians (ms): {stages}")
    agreement = result["sentence_candidates"]
    console.print(
        f"dense search scores sentences for the best {agreement['candidates']} passages only: "
        f"top 10 the same as scoring all sentences {agreement['top10_overlap']:.2%} "
        f"(worst query {agreement['top10_overlap_min']:.0%}), top 200 "
        f"{agreement['top200_overlap']:.2%}, over {agreement['queries']} queries; "
        f"{agreement['p50_ms']} ms against {agreement['all_sentences_p50_ms']} ms"
    )
    if result["backends"]:
        backends = Table(title="encoder backends against sentence-transformers fp32")
        columns = [k for k in result["backends"][0] if k != "backend"]
        backends.add_column("backend")
        for column in columns:
            backends.add_column(column.replace("_", " "), justify="right")
        for row in result["backends"]:
            backends.add_row(row["backend"], *(str(row.get(c, "")) for c in columns))
        console.print(backends)
    if result["ann"]:
        ann = Table(title="vector search, one query (structured synthetic vectors)")
        for column in (
            "vectors",
            "exact p50 ms",
            "HNSW efSearch",
            "HNSW p50 ms",
            "HNSW recall@10",
            "HNSW build s",
        ):
            ann.add_column(column, justify="right")
        for row in result["ann"]:
            for point in row["hnsw_sweep"]:
                ann.add_row(
                    str(row["vectors"]),
                    str(row["exact_p50_ms"]),
                    str(point["ef_search"]),
                    str(point["p50_ms"]),
                    str(point["recall@10"]),
                    str(row["hnsw_build_s"]),
                )
        console.print(ann)
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))


@contextmanager
def _client(settings: Settings, url: str | None, corpus: Any) -> Iterator[Any]:
    from evaluation.questions import HttpClient, InProcessClient, temporary_index

    if url:
        client = HttpClient(url)
        try:
            yield client
        finally:
            client.close()
        return
    with temporary_index(settings, corpus) as live:
        yield InProcessClient(live, settings)


def _progress(items: Iterator[Any], total: int, label: str) -> Iterator[Any]:
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=f"eval {label}", unit="question", file=sys.stderr)


def _print_runs(runs: list[dict[str, Any]]) -> None:
    table = Table(title="evaluation")
    table.add_column("metric")
    for run in runs:
        table.add_column(run["name"], justify="right")
    metrics = runs[0]["metrics"]
    names = [n for n, v in metrics.items() if isinstance(v, float | int) or v is None]
    for name in names:
        if name in ("questions", "expected_documents"):
            continue
        table.add_row(name, *(_cell(run["metrics"].get(name)) for run in runs))
    for endpoint in metrics["latency_ms"]:
        for quantile in ("p50", "p95"):
            table.add_row(
                f"{endpoint} {quantile} ms",
                *(_cell(run["metrics"]["latency_ms"][endpoint][quantile]) for run in runs),
            )
    console.print(table)
    # One plain line per run, for logs and CI.
    for run in runs:
        line = " ".join(f"{n}={_cell(run['metrics'].get(n))}" for n in names)
        console.print(f"{run['name']}: {line}", highlight=False, soft_wrap=True)


# (name, command) registered on the `parallax` app by `register`.
COMMANDS = (
    ("eval", eval_command),
    ("eval-squad", eval_squad_command),
    ("eval-stories", eval_stories_command),
    ("bench", bench_command),
)


def register(app: typer.Typer) -> None:
    """Add the evaluation and benchmark commands to the `parallax` app."""
    for name, command in COMMANDS:
        app.command(name)(command)
