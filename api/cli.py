"""The `parallax` command: serve, build, ingest, search."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from index.errors import ParallaxError

app = typer.Typer(
    help="parallax: search news by meaning and see what every source says.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Index directory [PARALLAX_DATA_DIR].")
]
SeedsOpt = Annotated[
    Path | None, typer.Option("--seeds-dir", help="Seed articles [PARALLAX_SEEDS_DIR].")
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", help="Model name or folder [PARALLAX_MODEL].")
]
EmbedderOpt = Annotated[
    str | None, typer.Option("--embedder", help="'model' or 'hashing' [PARALLAX_EMBEDDER].")
]


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with every flag that was given taking precedence."""
    try:
        return Settings(**{name: value for name, value in overrides.items() if value is not None})
    except ValueError as exc:
        errors.print(f"[red]error:[/red] invalid setting: {exc}")
        raise typer.Exit(2) from None


def _fail(exc: ParallaxError) -> None:
    errors.print(f"[red]error:[/red] {exc.message}")
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [PARALLAX_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [PARALLAX_PORT].")] = None,
    data_dir: DataDirOpt = None,
    seeds_dir: SeedsOpt = None,
    model: ModelOpt = None,
    embedder: EmbedderOpt = None,
) -> None:
    """Serve the API; builds the index from the seeds on first start."""
    import uvicorn

    from api.app import create_app

    settings = _settings(
        host=host,
        port=port,
        data_dir=data_dir,
        seeds_dir=seeds_dir,
        model=model,
        embedder=embedder,
    )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level
    )


@app.command()
def build(
    source: Annotated[
        Path | None, typer.Argument(help="JSONL file to index instead of the seed folder.")
    ] = None,
    data_dir: DataDirOpt = None,
    seeds_dir: SeedsOpt = None,
    model: ModelOpt = None,
    embedder: EmbedderOpt = None,
) -> None:
    """Rebuild the index from scratch, from the seeds or from a JSONL file."""
    from index.documents import load_jsonl, load_seeds

    settings = _settings(data_dir=data_dir, seeds_dir=seeds_dir, model=model, embedder=embedder)
    try:
        documents = list(load_jsonl(source)) if source else load_seeds(settings.seeds_dir)
        with _writer(settings) as live:
            report = live.replace_all(documents, progress=True)
    except ParallaxError as exc:
        _fail(exc)
    console.print(
        f"built {settings.index_dir}: {len(report.added)} documents, {report.passages} passages"
    )


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="JSON Lines file, one document per line.")],
    data_dir: DataDirOpt = None,
    model: ModelOpt = None,
    embedder: EmbedderOpt = None,
) -> None:
    """Add or replace documents from a JSONL file (same id and text: unchanged)."""
    from index.documents import load_jsonl

    settings = _settings(data_dir=data_dir, model=model, embedder=embedder)
    try:
        documents = list(load_jsonl(file))
        with _writer(settings) as live:
            report = live.upsert(documents, progress=True)
    except ParallaxError as exc:
        _fail(exc)
    console.print(
        f"{len(report.added)} added, {len(report.replaced)} replaced, "
        f"{len(report.unchanged)} unchanged, {report.passages} passages embedded"
    )


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option(help="Hits in the overall ranking.")] = 10,
    per_source: Annotated[int, typer.Option(help="Hits per source.")] = 2,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    data_dir: DataDirOpt = None,
    model: ModelOpt = None,
    embedder: EmbedderOpt = None,
) -> None:
    """Search the index and print the best passages of each source."""
    from search.engine import SearchOptions, search

    if mode not in ("hybrid", "dense", "lexical"):
        errors.print(f"[red]error:[/red] --mode must be hybrid, dense or lexical, got {mode!r}")
        raise typer.Exit(2)
    settings = _settings(data_dir=data_dir, model=model, embedder=embedder)
    try:
        with _writer(settings, write=False) as live:
            corpus = live.corpus
        options = SearchOptions(
            k=k,
            per_source=per_source,
            mode=mode,  # type: ignore[arg-type]
            depth=settings.search_depth,
            min_similarity=settings.min_similarity,
        )
        result = search(corpus, live.embedder, query, options)
    except ParallaxError as exc:
        _fail(exc)
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


class _writer:
    """Open the index, building it from the seeds if there is none yet.

    Writers hold the data directory's lock; a reader of an existing index does
    not, so `parallax search` works beside a running server.
    """

    def __init__(self, settings: Settings, write: bool = True) -> None:
        self.settings = settings
        self.write = write or not (settings.index_dir / "manifest.json").exists()
        self.lock: Any = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        from api.state import open_from_settings
        from index.live import DataDirLock

        if self.write:
            self.lock = DataDirLock(self.settings.data_dir)
            self.lock.acquire()
        try:
            return open_from_settings(self.settings, progress=True)
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *_: object) -> None:
        if self.lock is not None:
            self.lock.release()


def main() -> None:  # pragma: no cover - console entry for `python -m api.cli`
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
