"""Run a question set through the API's own functions (or a running server) and score it.

The in-process client renders results through the same response models as the
HTTP routes, so both clients hand the scorer the same JSON; an evaluation over
`--url` measures what an outside client sees, latency included.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from api.app import search_options
from api.bodies import ask_body, search_body
from api.models import AskRequest, SearchRequest
from api.settings import Settings
from api.state import embedder_from_settings
from evaluation.metrics import (
    Question,
    SquadQuestion,
    exact_match,
    percentiles,
    question_row,
    retrieval_metrics,
    summarize,
    token_f1,
)
from index.chunk import Passage
from index.corpus import Corpus
from index.documents import Document, load_jsonl, load_seeds, parse_document
from index.embed import Embedder
from index.errors import BadRequest
from index.live import Chunking, LiveIndex, open_index
from search.answers import ask, documents_read, story_matches, story_ranking
from search.document_reader import READER, ReaderOptions, sentence_similarities
from search.engine import SearchOptions, SearchResult, rank, rank_to_result, search

# Hits fetched per source to find a document's first correct passage for MRR.
MRR_DEPTH = 10


class Client(Protocol):
    """Sends one request to an endpoint; returns the JSON body and the latency in ms."""

    def post(self, endpoint: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]: ...


class InProcessClient:
    """Calls `search` and `ask` on a live index, through the API's validation and models.

    Its /ask body also carries `candidates`, every answer before the confidence threshold
    (`AskResult.candidates`), which no server returns: the calibration is measured on them.
    """

    def __init__(self, live: LiveIndex, settings: Settings) -> None:
        self.live = live
        self.settings = settings

    def post(self, endpoint: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        corpus, embedder = self.live.corpus, self.live.embedder
        body: dict[str, Any]  # as a client reads it, JSON
        if endpoint == "search":
            request = SearchRequest(**payload)
            options = search_options(request, self.settings)
            result = search(corpus, embedder, request.query, options)
            took = (time.perf_counter() - started) * 1000
            body = {**search_body(request.query, result, took)}
        elif endpoint == "ask":
            body = self.ask(AskRequest(**payload), started)
        else:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        return body, (time.perf_counter() - started) * 1000

    def ask(self, question: AskRequest, started: float) -> dict[str, Any]:
        """The /ask body for `question`, as the route renders it, with the candidates."""
        result = ask(
            self.live.corpus,
            self.live.embedder,
            question.question,
            self.ask_options(question),
            question.story,
            reader=self.settings.reader_options(),
        )
        took = (time.perf_counter() - started) * 1000
        candidates = [
            {
                "doc_id": a.document.id,
                "answer": a.answer,
                "sentence": a.sentence,
                "confidence": a.confidence,
            }
            for a in result.candidates
        ]
        body = ask_body(question.question, result, question.per_source or 1, took)
        return {**body, "candidates": candidates}

    def ask_options(self, question: AskRequest) -> SearchOptions:
        """The search options the /ask route derives from a request and the settings."""
        return search_options(
            SearchRequest(
                query=question.question,
                per_source=question.per_source or 1,
                mode=question.mode,
                filters=question.filters,
            ),
            self.settings,
            field="question",
        )


class BaselineClient(InProcessClient):
    """The baseline reader in place of /ask (`baseline_read`); /search as the service's.

    Its body has the shape of /ask's, with `conflict` None: it compares nothing."""

    def ask(self, question: AskRequest, started: float) -> dict[str, Any]:
        read, shown = baseline_read(
            self.live.corpus,
            self.live.embedder,
            question.question,
            self.ask_options(question),
            question.story,
            reader=self.settings.reader_options(),
        )
        return {
            "question": question.question,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
            "answers": [
                {
                    "doc_id": a.document.id,
                    "answer": a.sentence,
                    "sentence": a.sentence,
                    "similarity": round(a.similarity, 4),
                    "confidence": None,
                }
                for a in read
            ],
            "unanswered": [],
            "conflict": None,
            "disagreement": None,
            "groups": [],
            "hits": [{"doc_id": hit.document.id} for hit in shown.hits],
        }


@dataclass(frozen=True)
class BaselineAnswer:
    """A document's sentence most similar to the question, the baseline's answer."""

    document: Document
    passage: Passage
    sentence: str
    similarity: float


def baseline_read(
    corpus: Corpus,
    embedder: Embedder,
    question: str,
    options: SearchOptions,
    story: str = "auto",
    *,
    reader: ReaderOptions = READER,
) -> tuple[list[BaselineAnswer], SearchResult]:
    """The baseline reader: each document /ask reads answers with its single sentence most
    similar to the question (cosine of the sentence vectors stored at ingest), with no
    rules, no threshold and no span; and the passages /ask would show.

    It reads what `search.answers.ask` reads: the same ranking, within the story /ask
    picks (`story`: "auto", "all" or a story id), the best `reader.max_sources`
    documents, each with its `reader.passages_per_document` best passages.
    """
    vector = embedder.encode([question])[0]
    ranking = rank(corpus, embedder, question, options, vector=vector)
    matches = story_matches(corpus, ranking, 1)
    _, options, ranking = story_ranking(
        corpus, embedder, question, vector, ranking, options, story, matches
    )
    answers = []
    for group in documents_read(corpus, ranking, options, reader):
        read = sentence_similarities(
            corpus, group.document, [hit.passage for hit in group.hits], vector
        )
        best = max(read, key=lambda found: found[3], default=None)
        if best is not None:
            _, passage, (start, end), similarity = best
            answers.append(
                BaselineAnswer(group.document, passage, group.document.text[start:end], similarity)
            )
    return answers, rank_to_result(corpus, ranking, options)


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
    gold: Mapping[str, str] | None = None,
    story: str = "auto",
) -> dict[str, Any]:
    """Ask every question of both endpoints and score the answers: one run's result.

    With `gold` story labels (document id -> label), questions that name their
    story are also scored for scoping: how many answers come from that story.
    """
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
        answered, ask_ms = client.post(
            "ask", {"question": question.question, "mode": mode, "story": story}
        )
        groups = {g["doc_id"]: [hit["text"] for hit in g["hits"]] for g in found["by_source"]}
        answers = {
            a["doc_id"]: (a["answer"], a["sentence"], a.get("confidence"))
            for a in answered["answers"]
        }
        conflict = answered["conflict"]
        rows.append(
            question_row(
                question,
                groups,
                answers,
                None if conflict is None else bool(conflict),
                per_source,
                {"search": search_ms, "ask": ask_ms},
                gold,
                [group["doc_ids"] for group in answered["groups"]],
                [hit["doc_id"] for hit in answered["hits"]],
                disagreement=answered.get("disagreement"),
                candidates=_candidates(answered),
            )
        )
    return {
        "name": name,
        "config": {
            **(config or {}),
            "mode": mode,
            "story": story,
            "k": k,
            "per_source": per_source,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "metrics": summarize(rows),
        "questions": rows,
    }


def _candidates(answered: Mapping[str, Any]) -> list[tuple[str, str, str, float]] | None:
    """Every answer of an /ask body before the confidence threshold: its `candidates` (in
    process), else the answers shown when they carry a confidence (a server shows no
    others), else None (the baseline gives no confidence)."""
    given = answered.get("candidates")
    if given is None:
        given = answered["answers"]
        if any(a.get("confidence") is None for a in given):
            return None
    return [(a["doc_id"], a["answer"], a["sentence"], a["confidence"]) for a in given]


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
        yield open_index(
            Path(directory) / "index",
            embedder,
            chunking,
            documents,
            progress,
            stories=settings.story_options(),
        )


def run_squad(
    live: LiveIndex,
    questions: Sequence[SquadQuestion],
    mode: str,
    progress: Callable[[Iterator[SquadQuestion]], Iterator[SquadQuestion]] | None = None,
    story: str = "auto",
) -> dict[str, Any]:
    """Retrieval of the gold paragraph and answer containment for SQuAD-style questions.

    Each question is asked once (within `story`, as /ask does): the best answer (or its
    sentence) is checked for a gold answer. The gold paragraph's rank is taken from the
    ranking over every paragraph, as a search gives it: /ask's own passages are those of
    the one story it answers from.
    """
    options = SearchOptions(k=10, per_source=1, mode=mode)  # type: ignore[arg-type]
    ranks: list[int | None] = []
    latencies = []
    scored: list[dict[str, Any]] = []
    for question in progress(iter(questions)) if progress else questions:
        started = time.perf_counter()
        result = ask(live.corpus, live.embedder, question.question, options, story)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = (
            result.search
            if story == "all"
            else search(live.corpus, live.embedder, question.question, options)
        )
        order = [group.document.id for group in ranked.by_source]
        ranks.append(order.index(question.doc_id) + 1 if question.doc_id in order else None)
        best = result.answers[0] if result.answers else None
        text = f"{best.answer} {best.sentence}".casefold() if best else ""
        answer = best.answer if best else ""
        scored.append(
            {
                "type": result.analysis.answer_type,
                "contains": float(any(a.casefold() in text for a in question.answers)),
                "em": exact_match(answer, question.answers),
                "f1": token_f1(answer, question.answers),
                "answered": float(best is not None),
                "span": float(best is not None and best.answer_type != "sentence"),
            }
        )
    by_type = {
        kind: _squad_scores([row for row in scored if row["type"] == kind])
        for kind in sorted({row["type"] for row in scored})
    }
    return {
        "mode": mode,
        "story": story,
        "questions": len(ranks),
        **retrieval_metrics(ranks),
        **_squad_scores(scored),
        "by_type": by_type,
        "latency_ms": percentiles(latencies),
    }


def _squad_scores(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Answer-contains-gold, SQuAD exact match and F1 of the best answer, and the share of
    questions answered with a span shorter than the sentence."""
    count = len(rows)

    def mean(key: str) -> float | None:
        return round(sum(row[key] for row in rows) / count, 4) if count else None

    return {
        "answer_contains_gold": mean("contains"),
        "exact_match": mean("em"),
        "f1": mean("f1"),
        "answered": mean("answered"),
        "short_answers": mean("span"),
        "count": count,
    }


def labelled_documents(
    records: Sequence[Mapping[str, Any]],
    settings: Settings,
    reuters: Path | None = None,
    corpus: Path | None = None,
) -> list[Document]:
    """The documents of labelled records, in their order: a record that carries its own
    text is the document; any other is found by id among the seeds, a JSONL `corpus`,
    or Reuters-21578 (`r<newid>`, read in place from `reuters`)."""
    from evaluation.bench import reuters_documents

    found: dict[str, Document] = {}
    inline = [r for r in records if "text" in r]
    for record in inline:
        fields = {k: v for k, v in record.items() if k != "story"}
        found[record["id"]] = parse_document(fields, f"labelled document {record['id']}")
    wanted = {r["id"] for r in records} - set(found)
    if wanted and settings.seeds_dir.is_dir():
        found.update((d.id, d) for d in load_seeds(settings.seeds_dir) if d.id in wanted)
    if wanted - set(found) and corpus is not None:
        found.update((d.id, d) for d in load_jsonl(corpus) if d.id in wanted)
    missing = wanted - set(found)
    if missing and reuters is not None and reuters.is_file():
        found.update((d.id, d) for d in reuters_documents(reuters, ids=missing))
    missing = sorted(wanted - set(found))
    if missing:
        raise BadRequest(
            f"{len(missing)} labelled documents not found ({', '.join(missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''}); give their text in the labels, a "
            "--corpus JSONL that holds them, or --reuters for r<newid> ids"
        )
    return [found[r["id"]] for r in records]


def evaluate_stories(
    settings: Settings,
    records: Sequence[Mapping[str, Any]],
    documents: Sequence[Document],
    thresholds: Sequence[float] = (),
    background: Sequence[Document] = (),
    embedder: Embedder | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Ingest labelled documents (with unlabelled `background` ones) through the real write
    path, oldest first, and score the stories they form: B-cubed precision, recall and F1
    over the labelled documents, the number of stories, and the time per document.

    `thresholds` adds the same scores at other story thresholds, placing the same
    documents again with their stored vectors (no second embedding).
    """
    from dataclasses import replace

    from evaluation.metrics import bcubed
    from index.stories import StoryMatcher

    gold = {r["id"]: r["story"] for r in records}
    options = settings.story_options()
    embedder = embedder or embedder_from_settings(settings, settings.models_dir)
    chunking = Chunking(settings.chunk_tokens, settings.chunk_overlap)
    with tempfile.TemporaryDirectory(prefix="parallax-stories-") as directory:
        live = open_index(Path(directory) / "index", embedder, chunking, stories=options)
        started = time.perf_counter()
        report = live.upsert([*documents, *background], progress=progress)
        seconds = time.perf_counter() - started
        corpus = live.corpus
    predicted = dict(corpus.stories.story_of)
    labelled = [doc_id for doc_id in gold if doc_id in predicted]
    sizes: dict[str, int] = {}
    for label in gold.values():
        sizes[label] = sizes.get(label, 0) + 1
    ingested = len(documents) + len(background)

    def passage_vectors(doc_id: str) -> Any:
        rows = corpus.rows_of(doc_id)
        return corpus.vectors[rows.start : rows.stop]

    sweep = []
    for threshold in thresholds:
        matcher = StoryMatcher(replace(options, threshold=threshold), corpus.dim)
        # The corpus holds one batch, stored oldest first: the order it was placed in.
        matcher.assign([(doc, passage_vectors(doc.id)) for doc in corpus.documents.values()])
        scores = bcubed(matcher.story_of, gold)
        stories = {matcher.story_of[doc_id] for doc_id in labelled}
        sweep.append({"threshold": threshold, **scores, "stories": len(stories)})
    return {
        "documents": len(labelled),
        "background_documents": len(background),
        "gold_stories": len(sizes),
        "gold_multi_document_stories": sum(1 for n in sizes.values() if n > 1),
        "stories": len({predicted[doc_id] for doc_id in labelled}),
        "threshold": options.threshold,
        **bcubed(predicted, gold),
        "story_ms_per_document": round(report.story_seconds / ingested * 1000, 3),
        "ingest_ms_per_document": round(seconds / ingested * 1000, 2),
        "story_share_of_ingest": round(report.story_seconds / seconds, 4) if seconds else None,
        "sweep": sweep,
    }
