"""Run a question set through the API's own functions (or a running server) and score it.

The in-process client renders results through the same response models as the
HTTP routes, so both clients hand the scorer the same JSON; an evaluation over
`--url` measures what an outside client sees, latency included.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from api.app import search_options
from api.models import AskRequest, SearchRequest, ask_body, search_body
from api.settings import Settings
from api.state import embedder_from_settings
from index.documents import Document, load_jsonl, load_seeds
from index.embed import Embedder
from index.errors import BadRequest
from index.live import Chunking, LiveIndex, open_index
from search.answers import ask
from search.engine import SearchOptions, search
from search.evaluate import (
    Question,
    SquadQuestion,
    percentiles,
    question_row,
    retrieval_metrics,
    summarize,
)

# Hits fetched per source to find a document's first correct passage for MRR.
MRR_DEPTH = 10


class Client(Protocol):
    """Sends one request to an endpoint; returns the JSON body and the latency in ms."""

    def post(self, endpoint: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]: ...


class InProcessClient:
    """Calls `search` and `ask` on a live index, through the API's validation and models."""

    def __init__(self, live: LiveIndex, settings: Settings) -> None:
        self.live = live
        self.settings = settings

    def post(self, endpoint: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        corpus, embedder = self.live.corpus, self.live.embedder
        if endpoint == "search":
            request = SearchRequest(**payload)
            options = search_options(request, self.settings)
            result = search(corpus, embedder, request.query, options)
            took = (time.perf_counter() - started) * 1000
            body = search_body(request.query, result, took)
        elif endpoint == "ask":
            question = AskRequest(**payload)
            per_source = question.per_source or 1
            options = search_options(
                SearchRequest(query=question.question, per_source=per_source, mode=question.mode),
                self.settings,
                field="question",
            )
            result = ask(corpus, embedder, question.question, options)
            took = (time.perf_counter() - started) * 1000
            body = ask_body(question.question, result, per_source, took)
        else:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        return body, (time.perf_counter() - started) * 1000


class HttpClient:
    """Posts to a running parallax server, as an outside client would."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def post(self, endpoint: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
        import httpx

        started = time.perf_counter()
        try:
            response = self._http.post(f"/{endpoint}", json=payload)
        except httpx.HTTPError as exc:
            raise BadRequest(f"cannot reach {self.url}/{endpoint}: {exc}") from None
        latency = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BadRequest(
                f"{self.url}/{endpoint} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json(), latency

    def close(self) -> None:
        self._http.close()


def run_questions(
    questions: Sequence[Question],
    client: Client,
    *,
    name: str,
    mode: str = "hybrid",
    k: int = 10,
    per_source: int = 2,
    config: dict[str, Any] | None = None,
    progress: Callable[[Iterator[Question]], Iterator[Question]] | None = None,
) -> dict[str, Any]:
    """Ask every question of both endpoints and score the answers: one run's result."""
    rows = []
    for question in progress(iter(questions)) if progress else questions:
        found, search_ms = client.post(
            "search",
            {
                "query": question.question,
                "k": k,
                "per_source": max(per_source, MRR_DEPTH),
                "mode": mode,
            },
        )
        answered, ask_ms = client.post("ask", {"question": question.question, "mode": mode})
        groups = {g["doc_id"]: [hit["text"] for hit in g["hits"]] for g in found["by_source"]}
        answers = {a["doc_id"]: (a["answer"], a["sentence"]) for a in answered["answers"]}
        rows.append(
            question_row(
                question,
                groups,
                answers,
                bool(answered["conflict"]),
                per_source,
                {"search": search_ms, "ask": ask_ms},
            )
        )
    return {
        "name": name,
        "config": {
            **(config or {}),
            "mode": mode,
            "k": k,
            "per_source": per_source,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "metrics": summarize(rows),
        "questions": rows,
    }


@contextmanager
def temporary_index(
    settings: Settings,
    corpus: Path | Sequence[Document] | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
) -> Iterator[LiveIndex]:
    """A throw-away index of the seeds (or of a JSONL file, or of given documents), so
    an evaluation never touches the service's own data directory."""
    if corpus is None:
        documents = load_seeds(settings.seeds_dir)
    elif isinstance(corpus, Path):
        documents = list(load_jsonl(corpus))
    else:
        documents = list(corpus)
    # The service's own encoders; their exports are cached in the models folder.
    embedder = embedder or embedder_from_settings(settings, settings.models_dir)
    chunking = Chunking(settings.chunk_tokens, settings.chunk_overlap)
    with tempfile.TemporaryDirectory(prefix="parallax-eval-") as directory:
        yield open_index(Path(directory) / "index", embedder, chunking, documents, progress)


def run_squad(
    live: LiveIndex,
    questions: Sequence[SquadQuestion],
    mode: str,
    progress: Callable[[Iterator[SquadQuestion]], Iterator[SquadQuestion]] | None = None,
) -> dict[str, Any]:
    """Retrieval of the gold paragraph and answer containment for SQuAD-style questions.

    Each question is asked once: its source ranking gives the gold paragraph's
    rank, and the best answer (or its sentence) is checked for a gold answer.
    """
    options = SearchOptions(k=10, per_source=1, mode=mode)  # type: ignore[arg-type]
    ranks: list[int | None] = []
    contained = 0
    latencies = []
    for question in progress(iter(questions)) if progress else questions:
        started = time.perf_counter()
        result = ask(live.corpus, live.embedder, question.question, options)
        latencies.append((time.perf_counter() - started) * 1000)
        order = [group.document.id for group in result.search.by_source]
        ranks.append(order.index(question.doc_id) + 1 if question.doc_id in order else None)
        if result.answers:
            best = result.answers[0]
            text = f"{best.answer} {best.sentence}".casefold()
            contained += any(answer.casefold() in text for answer in question.answers)
    return {
        "mode": mode,
        "questions": len(ranks),
        **retrieval_metrics(ranks),
        "answer_contains_gold": round(contained / len(ranks), 4) if ranks else None,
        "latency_ms": percentiles(latencies),
    }
