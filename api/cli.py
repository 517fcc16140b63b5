"""The `parallax` command: serve, build, ingest, search, ask, stories, eval, eval-squad,
eval-stories, bench (`parallax --help` lists them).

Every setting is a flag on every command (`--data-dir`, `--port`, ...) and a
`PARALLAX_*` environment variable; a flag wins over the variable.
"""

from __future__ import annotations

import faulthandler
import functools
import inspect
import logging
import signal
import sys
import typing
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.settings import Settings
from api.show import print_answers
from index.errors import ParallaxError
from search.engine import MODES

if TYPE_CHECKING:
    from index.live import IngestReport

REUTERS = Path("../shared/data/reuters21578/reuters21578.jsonl")

app = typer.Typer(
    help="parallax: search news by meaning and see what every source says.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


def with_settings(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command one `--flag` per setting and call it with the resulting `Settings`.

    Typer reads options from the signature, so the wrapper's signature is the
    command's own parameters (less `settings`) plus one optional flag per field.
    """
    # Resolve the command's own annotations (strings under `from __future__ import
    # annotations`) so Typer sees their Annotated option declarations.
    hints = typing.get_type_hints(command, include_extras=True)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(command).parameters.values()
        if p.name != "settings"
    ]
    names = [name for name in Settings.model_fields if name not in {p.name for p in own}]
    # The story matcher's settings come first in the model (its base class); list them
    # last, in their own panel.
    names.sort(key=lambda name: name.startswith("story_"))
    flags = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Option(
                    f"--{name.replace('_', '-')}",
                    help=f"{Settings.model_fields[name].description} [PARALLAX_{name.upper()}]",
                    rich_help_panel="Story settings" if name.startswith("story_") else "Settings",
                    show_default=False,
                    metavar="VALUE",
                ),
            ],
        )
        for name in names
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        given = {name: kwargs.pop(name) for name in names if kwargs.get(name) is not None}
        for name in names:
            kwargs.pop(name, None)
        try:
            settings = Settings(**given)
        except ValidationError as exc:
            problems = "; ".join(
                f"--{'-'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            errors.print(f"[red]error:[/red] invalid setting: {problems}")
            raise typer.Exit(2) from None
        configure_logging(settings.log_level)
        try:
            command(*args, settings=settings, **kwargs)
        except ParallaxError as exc:
            errors.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(2) from None

    wrapper.__signature__ = inspect.Signature(own + flags)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in own + flags}
    return wrapper


# faiss logs each CPU-specific build it tries before the one that loads, httpx (and httpx2,
# which Starlette's TestClient sends through) every request the evaluation client sends,
# bm25s each index it builds.
_CHATTY = frozenset({"faiss", "httpx", "httpx2", "bm25s"})


def _not_chatty(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.split(".")[0] not in _CHATTY


def configure_logging(level: str) -> None:
    """The same logging for every command, at `--log-level` (PARALLAX_LOG_LEVEL)."""
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level.upper())
    # A filter on the handlers rather than a level on the libraries' loggers: bm25s sets
    # its own logger to DEBUG when it is imported, after this has run.
    for handler in logging.getLogger().handlers:
        if _not_chatty not in handler.filters:
            handler.addFilter(_not_chatty)


SWITCH_INTERVAL_S = 0.0005


@app.command()
@with_settings
def serve(settings: Settings) -> None:
    """Serve the API; builds the index from the seeds on first start."""
    import uvicorn

    from api.app import create_app

    # A thread that wants the interpreter lock gets it after at most this long (Python's
    # default is 5 ms): while a write runs Python, a search waits up to that at each of
    # its steps that hands the lock back and forth (the thread pool, ONNX Runtime, numpy).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # `kill -USR1 <pid>` prints every thread's Python stack to stderr: what a server that
    # stopped answering is doing (the bench sends it when requests fail while writing).
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level
    )


# Typer cannot parse an option whose value may be left out, so `--ray` always takes one.
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Chunk and embed on Ray: 'local' (a Ray instance on this machine), 'auto' (the "
        "cluster this machine joined with `ray start`), or ray://HOST:10001. Needs the "
        "'ray' extra; workers must see the data dir at the same path.",
        rich_help_panel="Ray",
    ),
]
RayWorkers = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Ray actors embedding at once, one CPU each (default: every CPU of the cluster).",
        rich_help_panel="Ray",
    ),
]


@app.command()
@with_settings
def build(
    settings: Settings,
    source: Annotated[
        Path | None, typer.Argument(help="JSONL file to index instead of the seed folder.")
    ] = None,
    ray: RayAddress = None,
    ray_workers: RayWorkers = None,
) -> None:
    """Rebuild the index from scratch, from the seeds or from a JSONL file."""
    from index.documents import load_jsonl, load_seeds

    documents = list(load_jsonl(source)) if source else load_seeds(settings.seeds_dir)
    with _open(settings) as live:
        remote = _ray_build(settings, live, ray, ray_workers)
        report = live.replace_all(documents, progress=True, remote=remote)
        if remote is not None:
            live.merge_all()  # fold the job's parts, one segment per batch
    console.print(
        f"built {settings.index_dir}: {len(report.added)} documents, {report.passages} passages, "
        f"{report.stories} stories"
    )


@app.command()
@with_settings
def ingest(
    settings: Settings,
    paths: Annotated[
        list[str],
        typer.Argument(
            help="JSON Lines, .txt, .html/.htm (optionally .gz) or WARC files, directories "
            "of them, RSS/Atom feeds (files or http(s) URLs) or web pages' URLs.",
            metavar="PATH...",
        ),
    ],
    ray: RayAddress = None,
    ray_workers: RayWorkers = None,
) -> None:
    """Add or replace documents from files, directories, feeds and URLs (same id and text:
    unchanged); what cannot be read is refused, with the reason, and the rest is stored."""
    from tqdm import tqdm

    from index.errors import DocumentError
    from index.fetch import FetchState
    from index.intake import SUPPORTED, read_inputs
    from index.live import IngestReport

    with _open(settings) as live:
        state = FetchState(settings.data_dir / "feeds.json")
        items = read_inputs(
            paths, known=live.corpus.documents, fetch=settings.fetch_options(), state=state
        )
        read = _Read()
        with tqdm(items, desc="reading", unit=" item") as bar:
            for item in bar:
                read.add(item)
                bar.set_postfix_str(read.last[-60:], refresh=False)
        if not read.documents and not read.unchanged and not read.not_modified:
            read.print_refusals()
            raise DocumentError(
                f"nothing could be read from {', '.join(paths)}: {read.counts()}; give "
                f"{SUPPORTED} files, directories of them, or http(s) URLs of feeds and pages"
            )
        report = IngestReport()
        if read.documents:
            remote = _ray_build(settings, live, ray, ray_workers)
            report = live.upsert(read.documents, progress=True, remote=remote)
            live.merge_all()  # fold the small segments that repeated ingests leave
        state.save()  # the documents are stored: the feeds may now answer 304
    _print_ingest_summary(report, read)


def _print_ingest_summary(report: IngestReport, read: _Read) -> None:
    """What an ingest added, replaced, left unchanged, skipped and refused, and why."""
    unchanged = len(report.unchanged) + len(read.unchanged)
    skipped = f", {len(read.skipped)} skipped" if read.skipped else ""
    stored = (
        f"; {report.passages} passages embedded; the documents form {report.stories} stories "
        f"({report.new_stories} new)"
        if read.documents
        else ""
    )
    console.print(
        f"{len(report.added)} added, {len(report.replaced)} replaced, {unchanged} unchanged, "
        f"{len(read.refused)} refused{skipped}{stored}"
    )
    for where in read.not_modified:
        console.print(f"not modified since the last run: {escape(where)}")
    for reason, count in Counter(skip.reason for skip in read.skipped).items():
        console.print(f"skipped {count}: {escape(reason)}")
    read.print_refusals()


class _Read:
    """What `ingest` read, sorted by kind."""

    def __init__(self) -> None:
        self.documents: list[Any] = []
        self.refused: list[Any] = []
        self.unchanged: list[str] = []  # stored ids not read again
        self.not_modified: list[str] = []  # feeds and pages that answered 304
        self.skipped: list[Any] = []
        self.last = ""

    def add(self, item: Any) -> None:
        from index.documents import Document
        from index.intake import Refusal, Skipped, Unchanged

        if isinstance(item, Refusal):
            self.refused.append(item)
        elif isinstance(item, Skipped):
            self.skipped.append(item)
        elif isinstance(item, Unchanged):
            if item.doc_id is None:
                self.not_modified.append(item.where)
            else:
                self.unchanged.append(item.doc_id)
        else:
            self.documents.append(item)
        self.last = item.id if isinstance(item, Document) else item.where

    def counts(self) -> str:
        return f"{len(self.refused)} refused, {len(self.skipped)} skipped"

    def print_refusals(self) -> None:
        for refusal in self.refused:
            console.print(f"refused {escape(refusal.where)}: {escape(refusal.reason)}")


@app.command("search")
@with_settings
def search_command(
    settings: Settings,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option(help="Hits in the overall ranking.")] = 10,
    per_source: Annotated[int | None, typer.Option(help="Hits per source.")] = None,
    mode: Annotated[str, typer.Option(help=f"Retrieval: {', '.join(MODES)}.")] = "hybrid",
) -> None:
    """Search the index and print the best passages of each source."""
    from api.app import search_options
    from api.models import SearchRequest
    from search.engine import search

    try:
        request = SearchRequest(query=query, k=k, per_source=per_source, mode=mode)  # type: ignore[arg-type]
    except ValidationError as exc:
        errors.print(f"[red]error:[/red] {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    options = search_options(request, settings)
    with _open(settings, write=False) as live:
        result = search(live.corpus, live.embedder, query, options)
    table = Table(title=f"{query}  ({mode})", show_lines=True)
    for column in ("rank", "outlet", "score", "passage", "citation"):
        table.add_column(column, overflow="fold")
    for group in result.by_source:
        for hit in group.hits:
            table.add_row(
                str(hit.rank),
                group.document.source or "unknown",
                f"{hit.score:.4f}",
                hit.passage.text,
                f"{hit.passage.doc_id} [{hit.passage.char_start}:{hit.passage.char_end}]",
            )
    console.print(table)


@app.command("ask")
@with_settings
def ask_command(
    settings: Settings,
    question: Annotated[str, typer.Argument(help="A question in plain words.")],
    story: Annotated[
        str,
        typer.Option(help="auto (the best-matching story), a story id, or all (every story)."),
    ] = "auto",
) -> None:
    """Ask a question: one short, cited answer per source of one story with its confidence, the
    sources read that do not answer, and the figures over time, revised or disputed."""
    from api.app import search_options
    from api.models import SearchRequest
    from search.answers import ask

    options = search_options(SearchRequest(query=question), settings, field="question")
    with _open(settings, write=False) as live:
        result = ask(
            live.corpus, live.embedder, question, options, story, reader=settings.reader_options()
        )
    print_answers(console, question, result)


@app.command("stories")
@with_settings
def stories_command(
    settings: Settings,
    limit: Annotated[int, typer.Option(help="How many stories to list.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many (newest first).")] = 0,
) -> None:
    """List the stories (the documents about one event each), the latest first."""
    with _open(settings, write=False) as live:
        corpus = live.corpus
        ids = corpus.stories_newest_first
        table = Table(title=f"{len(ids)} stories, {len(corpus.documents)} documents")
        for column in ("story", "title", "documents", "sources", "dates"):
            table.add_column(column, overflow="fold")
        for story_id in ids[offset : offset + limit]:
            story = corpus.story(story_id)
            if story is None:
                continue
            dates = " to ".join(
                dict.fromkeys(d for d in (story.first_published, story.last_published) if d)
            )
            table.add_row(
                story.id,
                escape(story.title or ""),
                str(len(story.documents)),
                escape(", ".join(story.sources)),
                dates,
            )
    console.print(table)


def _ray_build(settings: Settings, live: Any, address: str | None, workers: int | None) -> Any:
    """The Ray job for `--ray ADDRESS` (None without it).

    The model's files are made here first, so the workers only read them: the ONNX export
    (made when the embedder was built) and the batch encoder's precision, probed once here
    and given to every worker, so that all parts are embedded alike."""
    if address is None:
        return None
    from index.distributed import RayBuild, worker_options
    from index.live import Chunking

    return RayBuild(
        index_dir=settings.index_dir,
        embedder=worker_options(settings.embedder_options(settings.models_dir), live.embedder),
        chunking=Chunking(settings.chunk_tokens, settings.chunk_overlap),
        address=None if address == "local" else address,
        workers=workers,
        progress=True,
    )


class _open:
    """Open the index, building it from the seeds if there is none yet.

    Writers hold the data directory's lock; a reader of an existing index does
    not, so `parallax search` works beside a running server.
    """

    def __init__(self, settings: Settings, write: bool = True) -> None:
        self.settings = settings
        self.write = write or not (settings.index_dir / "manifest.json").exists()
        self.lock: Any = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        from api.state import lock_data_dir, open_from_settings

        if self.write:
            self.lock = lock_data_dir(self.settings)
        try:
            return open_from_settings(self.settings, progress=True)
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *_: object) -> None:
        if self.lock is not None:
            self.lock.release()


def _register_tooling() -> None:
    """Add the commands installed packages offer under the `parallax.commands` entry point:
    the evaluation tooling (`evaluation.cli`) when it is installed. The service never
    imports it; without it `parallax` has the service's commands only."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="parallax.commands"):
        try:
            entry.load()(app)
        except ImportError as exc:  # a partial install: say so, keep the service's commands
            logging.getLogger(__name__).debug("%s not loaded: %s", entry.name, exc)


def _service_command(argv: list[str]) -> bool:
    """Whether the command line runs one of the service's own commands (serve, ask, ...):
    those start without scanning the installed packages for tooling (about 0.2 s)."""
    names = {command.name or command.callback.__name__ for command in app.registered_commands}
    return len(argv) > 1 and argv[1] in names


if __name__ == "__main__":
    # `python -m api.cli`: the tooling imports this module by its name; without this it
    # would import a second copy, which registers the tooling again, half-initialised.
    sys.modules.setdefault("api.cli", sys.modules[__name__])

if not _service_command(sys.argv):
    _register_tooling()

if __name__ == "__main__":
    app()
