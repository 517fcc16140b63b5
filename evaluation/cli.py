"""The evaluation and benchmark commands of `parallax`: eval, eval-squad, eval-stories,
eval-extract and bench.

They are developer tooling, not the service: this package is never imported by `index`,
`search` or `api`. `api.cli` finds these commands through the `parallax.commands` entry
point (pyproject.toml) and registers them with `register`, so the one `parallax` command
has them wherever this package is installed (`make test` installs it; a server image
need not).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from api.cli import REUTERS, console, errors, with_settings
from api.settings import Settings
from evaluation import tables
from search.engine import MODES

# The readers `parallax eval --reader` measures: the service's /ask, and the baseline (each
# document read answers with its sentence most similar to the question).
READERS = ("parallax", "baseline")

# Options more than one command takes.
JsonOut = Annotated[Path | None, typer.Option("--json", help="Write the result here.")]
StoryChoice = Annotated[
    str, typer.Option(help="How /ask picks its story: auto, or all (across every story).")
]
ReutersFile = Annotated[
    Path, typer.Option(help="Reuters-21578 JSONL, for labelled r<newid> documents.")
]
Floor = Annotated[float | None, typer.Option(help="Fail below this.")]


@with_settings
def eval_command(
    settings: Settings,
    questions: Annotated[
        Path | None,
        typer.Argument(help="Question set, JSON Lines (the format: docs/evaluation.md)."),
    ] = None,
    k: Annotated[int, typer.Option(help="Hits in the overall ranking.")] = 10,
    per_source: Annotated[int, typer.Option(help="Top hits per source that count.")] = 2,
    mode: Annotated[str, typer.Option(help=f"Retrieval: {', '.join(MODES)}.")] = "hybrid",
    json_out: JsonOut = None,
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
        list[str] | None,
        typer.Option(
            help="Story labels (JSONL: id, story): evaluate over the labelled documents and "
            "score scoping (answers from the story each question names). Several files: "
            "comma-separated or the option repeated."
        ),
    ] = None,
    reuters: ReutersFile = REUTERS,
    story: StoryChoice = "auto",
    baselines: Annotated[
        bool, typer.Option(help="Also run dense-only and lexical-only retrieval.")
    ] = False,
    reader: Annotated[
        str,
        typer.Option(
            help="Who answers: parallax (/ask), baseline (each document read answers with its "
            "sentence most similar to the question; in process only), or both, "
            "comma-separated."
        ),
    ] = "parallax",
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(help="Show the metric deltas between two --json results, A then B."),
    ] = None,
    min_source_recall: Floor = None,
    min_mrr: Floor = None,
    min_answer_acc: Floor = None,
    min_coverage: Floor = None,
    min_precision: Annotated[
        float | None, typer.Option(help="Fail below this share of shown answers that are right.")
    ] = None,
    min_conflict_acc: Floor = None,
    min_scoping: Annotated[
        float | None, typer.Option(help="Fail below this share of answers from the named story.")
    ] = None,
) -> None:
    """Run a question set and report source recall, MRR, answer accuracy, coverage and
    precision, conflict and disagreement accuracy, the calibration of the answers'
    confidence, and latency; per retrieval mode and reader.

    Exits 1 when a --min-* threshold of the first run is missed, so it can gate CI.
    """
    from evaluation.metrics import load_questions
    from evaluation.questions import run_questions

    if compare is not None:
        _print_comparison(*compare)
        return
    if questions is None:
        _usage("give a QUESTIONS.jsonl file (or --compare A.json B.json)")
    modes = _modes(mode if not baselines else f"{mode},dense,lexical", "--mode")
    readers = _readers(reader, url)
    label_files = _label_files(labels)
    question_set = load_questions(questions)
    gold, documents = _labelled(settings, label_files, reuters, corpus, url)
    config = {
        "questions": str(questions),
        "corpus": ",".join(map(str, label_files))
        or str(corpus or ("server" if url else settings.seeds_dir)),
        "url": url,
        "model": settings.model,
    }
    runs = []
    with _client(settings, url, documents) as client:
        for run_mode in modes:
            for run_reader in readers:
                name = _run_name(run_mode, run_reader, modes, readers)
                runs.append(
                    run_questions(
                        question_set,
                        _reader_client(client, run_reader),
                        name=name,
                        mode=run_mode,
                        k=k,
                        per_source=per_source,
                        config={**config, "reader": run_reader},
                        progress=lambda items, n=name: _progress(items, len(question_set), n),
                        gold=gold,
                        story=story,
                    )
                )
    _show(tables.runs_table(runs), *tables.calibration_tables(runs), *tables.runs_lines(runs))
    _write_json(json_out, {"runs": runs})
    if report:
        from evaluation.report import write_report

        console.print(f"report: {', '.join(str(path) for path in write_report(runs, report))}")
    _check_floors(
        runs[0]["metrics"],
        source_recall=min_source_recall,
        mrr=min_mrr,
        answer_accuracy=min_answer_acc,
        coverage=min_coverage,
        precision=min_precision,
        conflict_accuracy=min_conflict_acc,
        scoping=min_scoping,
    )


@with_settings
def eval_squad_command(
    settings: Settings,
    file: Annotated[Path, typer.Argument(help="SQuAD v1.1 JSON, e.g. XQuAD's xquad.en.json.")],
    modes: Annotated[str, typer.Option(help="Comma-separated retrieval modes.")] = (
        "dense,lexical,hybrid"
    ),
    limit: Annotated[int | None, typer.Option(help="Ask only the first N questions.")] = None,
    story: StoryChoice = "auto",
    json_out: JsonOut = None,
    part: Annotated[
        str,
        typer.Option(
            help="Which questions: all, dev (the first half of the articles, for tuning) or "
            "test (the second half, never tuned on). Every paragraph is indexed either way."
        ),
    ] = "all",
    min_contains: Floor = None,
    min_f1: Floor = None,
) -> None:
    """Index each paragraph as a document, ask every question: recall@1/5/10 and MRR of the
    gold paragraph, how often the best answer (or its sentence) holds a gold answer, and
    the short answer's exact match and F1 (SQuAD's normalisation), per question type.

    Exits 1 when the first mode's answer-contains-gold is under --min-contains or its F1
    under --min-f1, so it can gate CI."""
    from evaluation.metrics import load_squad, squad_part
    from evaluation.questions import run_squad, temporary_index
    from index.documents import parse_document

    chosen = _modes(modes, "--modes")
    if part not in ("all", "dev", "test"):
        _usage(f"--part takes all, dev or test; got {part!r}")
    records, questions = load_squad(file)
    questions = squad_part(questions, part)[: limit or None]
    documents = [parse_document(record, f"paragraph {record['id']}") for record in records]
    with temporary_index(settings, documents) as live:
        results = [
            run_squad(
                live,
                questions,
                mode,
                progress=lambda items, m=mode: _progress(items, len(questions), f"squad {m}"),
                story=story,
            )
            for mode in chosen
        ]
    title = f"{file.name} ({part}): {len(documents)} paragraphs, {len(questions)} questions"
    _show(*tables.squad_tables(title, results))
    _write_json(json_out, {"file": str(file), "results": results})
    _check_floors(results[0], answer_contains_gold=min_contains, f1=min_f1)


@with_settings
def eval_stories_command(
    settings: Settings,
    labels: Annotated[
        Path, typer.Argument(help="Labelled documents, JSON Lines: {id, story} (+ text).")
    ],
    reuters: ReutersFile = REUTERS,
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
    json_out: JsonOut = None,
    min_f1: Annotated[float | None, typer.Option(help="Fail below this B-cubed F1.")] = None,
) -> None:
    """Ingest labelled documents oldest first and score the stories they form: B-cubed
    precision, recall and F1, the number of stories, the time per document.

    Exits 1 when --min-f1 is missed, so it can gate CI.
    """
    from evaluation.bench import reuters_documents
    from evaluation.metrics import load_story_labels
    from evaluation.questions import evaluate_stories, labelled_documents

    try:
        thresholds = [float(t) for t in sweep.split(",") if t.strip()]
    except ValueError:
        _usage(f"--sweep takes numbers like 0.4,0.5; got {sweep!r}")
    records = load_story_labels(labels)
    documents = labelled_documents(records, settings, reuters, corpus)
    extra: list[Any] = []
    if background:
        labelled = {doc.id for doc in documents}
        extra = [d for d in reuters_documents(reuters) if d.id not in labelled]
        extra = extra if background < 0 else extra[:background]
    result = evaluate_stories(settings, records, documents, thresholds, extra)
    result["labels"] = str(labels)
    _show(tables.stories_table(labels.name, result), tables.stories_line(result))
    _write_json(json_out, result)
    _check_floors(result, f1=min_f1)


@with_settings
def eval_extract_command(
    settings: Settings,
    directory: Annotated[
        Path,
        typer.Argument(
            help="The article-extraction benchmark: ground-truth.json and html/<sha256>.html.gz."
        ),
    ],
    url: Annotated[
        str | None,
        typer.Option(
            help="Post to a running server instead; the pages it did not have are deleted "
            "again afterwards (unless --keep)."
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="The server's write key, with --url. [PARALLAX_API_KEY]"),
    ] = None,
    keep: Annotated[
        bool, typer.Option(help="With --url, leave the pages stored on the server.")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Only the first N pages (by sha).")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Pages per POST /documents.")] = 10,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also list the 10 worst pages.")
    ] = False,
    json_out: JsonOut = None,
    min_f1: Floor = None,
) -> None:
    """Post each saved page through POST /documents (html), read its stored text back and
    score it against the page's annotated article body with the benchmark's metric:
    precision, recall and F1 of 4-word shingles, a page refused (422) counting as nothing
    extracted, and the intake's milliseconds per page.

    In process the service embeds with the hashing stand-in (whatever --embedder says):
    embedding does not change the stored text. Exits 1 when F1 is under --min-f1, so it
    can gate CI.
    """
    from evaluation.extract import (
        evaluate_extraction,
        extraction_output,
        intake_client,
        load_pages,
        remove,
    )

    pages = load_pages(directory, limit)
    key = api_key or (settings.api_key.get_secret_value() if settings.api_key else None)
    with intake_client(settings, url, key) as client:
        result = evaluate_extraction(
            client,
            pages,
            progress=lambda items: _progress(items, len(pages), "extract", "page"),
            batch=batch,
        )
        if url and not keep:
            remove(client, result["added"])
    result = {"directory": str(directory), "url": url, **result}
    title = f"{directory.name}: {len(pages)} pages, {'server ' + url if url else 'in process'}"
    _show(*extraction_output(title, result, verbose))
    _write_json(json_out, result)
    _check_floors(result["metrics"], f1=min_f1)


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
    archive_copies: Annotated[
        int,
        typer.Option(help="Copies of the served index for the large-archive write row (0 skips)."),
    ] = 10,
    million: Annotated[
        int,
        typer.Option(
            help="Also build a bulk archive of about this many passages (1000000: about 30 "
            "minutes) and measure its start, RSS, search latency and recall (0 skips)."
        ),
    ] = 0,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            help="Instead: build all of --reuters on Ray with 1 and 2 workers and in one "
            "process (about 25 minutes; needs the 'ray' extra).",
        ),
    ] = False,
    peers: Annotated[
        str,
        typer.Option(
            help="Peer services measured on the same articles and model, comma-separated: "
            "txtai (from the 'peers' extra; skipped with a note when absent)."
        ),
    ] = "",
    peer_python: Annotated[
        str | None,
        typer.Option(help="Python that runs the peers (a separate venv with txtai[api])."),
    ] = None,
    json_out: JsonOut = None,
) -> None:
    """Ingest and query speed, each as a ratio to a baseline measured in the same run."""
    from evaluation.bench import reuters_documents, run_bench

    if ray:
        from evaluation.raybench import bench_ray

        built = bench_ray(settings, reuters_documents(reuters))
        _show(*tables.ray_output(built))
        _write_json(json_out, built)
        return

    counts = [int(c) for c in clients.split(",") if c.strip()]
    sizes = [int(n) for n in ann_sizes.split(",") if n.strip()]
    quality = (xquad, questions) if str(xquad) not in ("", ".") else None
    result = run_bench(
        settings,
        reuters,
        limit,
        counts,
        requests,
        sizes,
        quality,
        serve_limit,
        archive_copies,
        million,
        peers=[p.strip() for p in peers.split(",") if p.strip()],
        peer_python=peer_python,
    )
    _write_json(json_out, result)  # first: a run of many minutes is kept whatever the tables do
    _show(*tables.bench_output(result))


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


def _progress(
    items: Iterable[Any], total: int, label: str, unit: str = "question"
) -> Iterator[Any]:
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=f"eval {label}", unit=unit, file=sys.stderr)


def _usage(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _modes(given: str, option: str) -> list[str]:
    """Retrieval modes from a comma-separated option, in order, each once."""
    chosen = list(dict.fromkeys(m.strip() for m in given.split(",") if m.strip()))
    if not chosen or any(m not in MODES for m in chosen):
        _usage(f"{option} takes {', '.join(MODES)}; got {given!r}")
    return chosen


def _readers(given: str, url: str | None) -> list[str]:
    """The readers of `--reader`, in order, each once; the baseline runs in process only."""
    chosen = list(dict.fromkeys(r.strip() for r in given.split(",") if r.strip()))
    if not chosen or any(r not in READERS for r in chosen):
        _usage(f"--reader takes {', '.join(READERS)}; got {given!r}")
    if url and "baseline" in chosen:
        _usage(
            "--reader baseline runs in process only (a server has no baseline reader); "
            "drop --url, or measure --reader parallax against the server"
        )
    return chosen


def _run_name(mode: str, reader: str, modes: list[str], readers: list[str]) -> str:
    """A run's column: its mode, its reader when readers are compared, or both."""
    if readers == ["parallax"]:
        return mode
    return reader if len(modes) == 1 else f"{mode} {reader}"


def _reader_client(client: Any, reader: str) -> Any:
    """The client that answers /ask with `reader` (the in-process one for the baseline)."""
    if reader == "parallax":
        return client
    from evaluation.questions import BaselineClient

    return BaselineClient(client.live, client.settings)


def _label_files(given: list[str] | None) -> list[Path]:
    """The label files of `--labels`, repeated or comma-separated, each once."""
    names = [n.strip() for option in given or () for n in option.split(",") if n.strip()]
    return [Path(name) for name in dict.fromkeys(names)]


def _labelled(
    settings: Settings, labels: list[Path], reuters: Path, corpus: Path | None, url: str | None
) -> tuple[dict[str, str] | None, Any]:
    """The gold story of each labelled document (of every label file), and the documents
    to evaluate over: the labelled ones (from `corpus` or Reuters), `corpus` itself, or
    the seeds (None)."""
    if not labels:
        return None, corpus
    from evaluation.metrics import load_story_labels
    from evaluation.questions import labelled_documents

    records: list[dict[str, Any]] = []
    gold: dict[str, str] = {}
    for path in labels:
        for record in load_story_labels(path):
            known = gold.get(record["id"])
            if known is not None and known != record["story"]:
                _usage(
                    f"document {record['id']!r} is labelled {known!r} and, in {path}, "
                    f"{record['story']!r}; a document belongs to one story"
                )
            if known is None:
                gold[record["id"]] = record["story"]
                records.append(record)
    return gold, None if url else labelled_documents(records, settings, reuters, corpus)


def _print_comparison(first: Path, second: Path) -> None:
    from evaluation.report import compare as compare_runs

    console.print(compare_runs(*(json.loads(path.read_text()) for path in (first, second))))


def _show(*shown: Any) -> None:
    for item in shown:
        console.print(item, highlight=False, soft_wrap=isinstance(item, str))


def _write_json(path: Path | None, result: Any) -> None:
    if path is not None:
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False))


def _check_floors(metrics: dict[str, Any], **floors: float | None) -> None:
    """Exit 1, naming each, when a metric is under its floor (a --min-* option)."""
    missed = tables.missed_floors(metrics, floors)
    if missed:
        errors.print(f"[red]thresholds missed:[/red] {'; '.join(missed)}")
        raise typer.Exit(1)


@with_settings
def calibrate_command(
    settings: Settings,
    questions: Annotated[
        Path, typer.Option(help="Development questions (never a held-out set).")
    ] = Path("eval/reader/dev.jsonl"),
    labels: Annotated[
        Path, typer.Option(help="Their story labels (JSON Lines: id, story).")
    ] = Path("eval/stories/dev.jsonl"),
    reuters: ReutersFile = REUTERS,
    out: Annotated[Path | None, typer.Option(help="Where to write the model.")] = None,
) -> None:
    """Refit the reader's confidence on the development questions (search/calibration.json)."""
    from evaluation.calibrate import CALIBRATION, answer_rows, fit, write
    from evaluation.metrics import load_questions

    rows = list(answer_rows(settings, load_questions(questions), labels, reuters))
    if not rows:
        _usage(f"{questions} gave no answers to fit on")
    model = fit(rows)
    write(model, out or CALIBRATION)
    about = model["about"]
    console.print(
        f"fitted on {about['answers']} answers ({about['right']} right) to {questions}: "
        f"log loss {about['log_loss']}; written to {out or CALIBRATION}"
    )
    for point in about["operating_points"]:
        console.print(
            f"  precision {point['precision']}: PARALLAX_MIN_CONFIDENCE={point['min_confidence']} "
            f"keeps {point['right_kept']} right of {point['answers_kept']} answers"
        )


# (name, command) registered on the `parallax` app by `register`.
COMMANDS = (
    ("eval", eval_command),
    ("calibrate", calibrate_command),
    ("eval-squad", eval_squad_command),
    ("eval-stories", eval_stories_command),
    ("eval-extract", eval_extract_command),
    ("bench", bench_command),
)


def register(app: typer.Typer) -> None:
    """Add the evaluation and benchmark commands to the `parallax` app."""
    for name, command in COMMANDS:
        app.command(name)(command)
