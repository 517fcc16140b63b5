"""The FastAPI app: thin routes over `search/` and `index/`."""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from api.bodies import ask_body, search_body
from api.errors import RETRY_AFTER_LOADING, Forbidden, Unauthorized, install_error_handlers
from api.limits import LimitsMiddleware
from api.models import (
    AskRequest,
    AskResponse,
    Deleted,
    DocumentOut,
    DocumentPage,
    DocumentSummary,
    ErrorBody,
    Health,
    IngestRequest,
    IngestResponse,
    PassageOut,
    SearchRequest,
    SearchResponse,
    StoryDocument,
    StoryOut,
    StoryPage,
    StorySummary,
)
from api.openapi import contract
from api.settings import Settings
from api.state import AppState
from index.documents import is_valid_unicode, parse_document
from index.embed import Embedder
from index.errors import BadRequest, NotFound
from index.live import LiveIndex
from index.stories import Story
from search.answers import ask
from search.engine import SearchOptions, search
from search.retrieve import PassageFilters

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
# The longest page of stories or documents one request gets.
MAX_PAGE = 1000
# A batch of this many documents or more reports its embedding progress; a smaller one is
# embedded before a progress bar would say anything.
PROGRESS_FROM = 50
T = TypeVar("T")

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 413, 422, 503)
}


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    """Build the app; the index loads in the lifespan (pass `embedder` to skip the model)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = AppState(settings, embedder=embedder)
        app.state.parallax = state
        state.start()
        try:
            yield
        finally:
            state.stop()

    app = FastAPI(
        title="parallax",
        version="1",
        summary="Search news by meaning and see what every source says.",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    install_error_handlers(app)
    _instrument(app)
    _publish_contract(app, settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(
        LimitsMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_in_flight=settings.max_in_flight,
    )
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _publish_contract(app: FastAPI, settings: Settings) -> None:
    """/openapi.json states the settings' limits (`api.openapi.contract`)."""
    derived = app.openapi

    def published() -> dict[str, Any]:
        if getattr(app.state, "contract", None) is None:
            app.state.contract = contract(derived(), settings)
        return app.state.contract  # type: ignore[no-any-return]

    app.openapi = published  # type: ignore[method-assign]


# The dependencies are `async def` because they never block: FastAPI runs a plain `def`
# dependency on its thread pool, a thread hop each (/search took two before its own).
async def _state(request: Request) -> AppState:
    return request.app.state.parallax  # type: ignore[no-any-return]


async def _live(state: Annotated[AppState, Depends(_state)]) -> LiveIndex:
    return state.require_live()


async def _writer(
    state: Annotated[AppState, Depends(_state)],
    authorization: Annotated[str | None, Header()] = None,
) -> LiveIndex:
    """Writes need `Authorization: Bearer <PARALLAX_API_KEY>`."""
    key = state.settings.api_key
    if key is None:
        raise Forbidden(
            "writes are disabled because no API key is set; start the server with "
            "PARALLAX_API_KEY=<secret> and send 'Authorization: Bearer <secret>'"
        )
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), key.get_secret_value().encode()
    ):
        raise Unauthorized("missing or wrong API key; send 'Authorization: Bearer <key>'")
    return state.require_live()


StateDep = Annotated[AppState, Depends(_state)]
LiveDep = Annotated[LiveIndex, Depends(_live)]
WriterDep = Annotated[LiveIndex, Depends(_writer)]


router = APIRouter()


@router.get("/", include_in_schema=False)
def chat_page() -> FileResponse:
    """The chat page: ask, see every source's answer side by side, open the citation."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    responses={503: {"model": Health}},
)
def health(state: StateDep) -> Health | JSONResponse:
    """200 with counts once the index is loaded; 503 with the reason before."""
    if state.live is None:
        status = "error" if state.error else "loading"
        reason = state.error or "the index is loading"
        body = Health(status=status, reason=reason).model_dump(exclude_none=True)
        return JSONResponse(body, status_code=503, headers={"Retry-After": RETRY_AFTER_LOADING})
    corpus = state.live.corpus
    return Health(
        status="ok",
        documents=len(corpus.documents),
        passages=len(corpus.passages),
        model=corpus.model,
        generation=corpus.generation,
    )


@router.post("/search", response_model=SearchResponse)
async def search_passages(body: SearchRequest, state: StateDep, live: LiveDep) -> Response:
    """Rank passages for a query, overall and grouped by source."""
    options = search_options(body, state.settings)
    started = time.perf_counter()
    with live.readers.reading():  # writes step aside meanwhile (`index.priority.Readers`)
        result = await run_in_threadpool(
            search, live.corpus, state.require_embedder(), body.query, options
        )
    return _json(search_body(body.query, result, (time.perf_counter() - started) * 1000))


@router.post("/ask", response_model=AskResponse)
async def ask_sources(body: AskRequest, state: StateDep, live: LiveDep) -> Response:
    """One short, cited answer per source, the claims compared, conflicts flagged."""
    per_source = 1 if body.per_source is None else body.per_source
    options = search_options(
        SearchRequest(
            query=body.question, per_source=per_source, mode=body.mode, filters=body.filters
        ),
        state.settings,
        field="question",
    )
    started = time.perf_counter()
    with live.readers.reading():
        result = await run_in_threadpool(
            functools.partial(ask, reader=state.reader),
            live.corpus,
            state.require_embedder(),
            body.question,
            options,
            body.story,
        )
    took_ms = (time.perf_counter() - started) * 1000
    return _json(ask_body(body.question, result, per_source, took_ms))


def _json(body: Mapping[str, object]) -> Response:
    """A body built as plain data (`api.bodies.search_body`), serialised by orjson.

    Returning a model would have FastAPI validate it against `response_model` first:
    a second walk over every hit of every group. orjson writes a 300 KB /search body
    (a few hundred groups) in 0.24 ms, pydantic's core in 1.17 ms."""
    return Response(orjson.dumps(body), media_type="application/json")


@dataclass(frozen=True)
class Page:
    """Which slice of a listing a request asks for (`?offset=&limit=`)."""

    offset: int
    limit: int

    def of(self, items: Sequence[T]) -> Sequence[T]:
        return items[self.offset : self.offset + self.limit]


def paging(default_limit: int) -> Callable[..., Page]:
    """The `offset` and `limit` query parameters of a listing, as a dependency."""

    def page(
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = default_limit,
    ) -> Page:
        return Page(offset, limit)

    return page


@router.get("/stories", response_model=StoryPage)
def list_stories(live: LiveDep, page: Annotated[Page, Depends(paging(50))]) -> StoryPage:
    """A page of the stories (documents about one event each), the latest first."""
    corpus = live.corpus
    ids = corpus.stories_newest_first
    stories = (corpus.story(i) for i in page.of(ids))
    summaries = [story_summary(story) for story in stories if story is not None]
    return StoryPage(total=len(ids), offset=page.offset, limit=page.limit, stories=summaries)


@router.get("/stories/{story_id}", response_model=StoryOut)
def get_story(story_id: str, live: LiveDep) -> StoryOut:
    """A story with its documents, oldest first."""
    story = live.corpus.story(story_id)
    if story is None:
        raise NotFound(f"no story with id {story_id!r}; GET /stories lists them")
    return StoryOut(
        id=story.id,
        title=story.title,
        documents=[
            StoryDocument(id=d.id, source=d.source, title=d.title, published=d.published)
            for d in story.documents
        ],
        sources=list(story.sources),
        first_published=story.first_published,
        last_published=story.last_published,
    )


def story_summary(story: Story) -> StorySummary:
    return StorySummary(
        id=story.id,
        title=story.title,
        documents=len(story.documents),
        sources=list(story.sources),
        first_published=story.first_published,
        last_published=story.last_published,
    )


@router.get("/documents", response_model=DocumentPage)
def list_documents(live: LiveDep, page: Annotated[Page, Depends(paging(100))]) -> DocumentPage:
    """A page of the stored documents, in the order they were added."""
    corpus = live.corpus
    summaries = [
        DocumentSummary(
            id=doc.id,
            source=doc.source,
            title=doc.title,
            published=doc.published,
            passages=len(corpus.rows_of(doc.id)),
        )
        for doc in (corpus.documents[i] for i in page.of(list(corpus.documents)))
    ]
    total = len(corpus.documents)
    return DocumentPage(total=total, offset=page.offset, limit=page.limit, documents=summaries)


@router.get("/documents/{doc_id}", response_model=DocumentOut)
def get_document(doc_id: str, live: LiveDep) -> DocumentOut:
    """A document's stored text, metadata and passages with their offsets."""
    corpus = live.corpus
    doc = corpus.documents.get(doc_id)
    if doc is None:
        raise NotFound(f"no document with id {doc_id!r}; GET /documents lists them")
    return DocumentOut(
        **doc.to_dict(),
        passages=[
            PassageOut(
                passage_id=p.passage_id, text=p.text, char_start=p.char_start, char_end=p.char_end
            )
            for p in corpus.passages_of(doc_id)
        ],
    )


@router.post("/documents", response_model=IngestResponse)
async def add_documents(body: IngestRequest, state: StateDep, live: WriterDep) -> IngestResponse:
    """Add or replace documents by id (same text: unchanged); needs the API key."""
    limit = state.settings.max_batch_documents
    if len(body.documents) > limit:
        raise BadRequest(
            f"{len(body.documents)} documents in one request, the limit is {limit}; "
            "split the batch (PARALLAX_MAX_BATCH_DOCUMENTS)"
        )
    # On the write thread, below searches (`index.priority`): extracting a page's article
    # (trafilatura) takes ~15 ms a page.
    parsed = await asyncio.wrap_future(
        live.in_background(
            lambda: [
                parse_document(doc.model_dump(exclude_none=True), f"documents[{n}]")
                for n, doc in enumerate(body.documents)
            ]
        )
    )
    # An id sent twice is stored as its last copy, as if the copies came one request after
    # another (JSON Schema cannot say that a list's items differ in one field, so the
    # published schema allows such a batch, and the server serves it).
    documents = list({doc.id: doc for doc in parsed}.values())
    report = await asyncio.wrap_future(
        live.in_background(live.upsert, documents, len(documents) >= PROGRESS_FROM)
    )
    return IngestResponse(
        added=report.added,
        replaced=report.replaced,
        unchanged=report.unchanged,
        counts={
            "added": len(report.added),
            "replaced": len(report.replaced),
            "unchanged": len(report.unchanged),
        },
        passages=report.passages,
        story_ids=report.story_ids,
        stories=report.stories,
        new_stories=report.new_stories,
    )


@router.delete("/documents/{doc_id}", response_model=Deleted)
async def delete_document(doc_id: str, live: WriterDep) -> Deleted:
    """Remove a document and its passages; needs the API key."""
    await asyncio.wrap_future(live.in_background(live.delete, doc_id))
    return Deleted(deleted=doc_id)


def search_options(body: SearchRequest, settings: Settings, field: str = "query") -> SearchOptions:
    """Check a search request against the configured limits and turn it into options."""
    query = body.query
    if not query.strip():
        raise BadRequest(f"'{field}' is empty; send some words to search for")
    if len(query) > settings.max_query_chars:
        raise BadRequest(
            f"'{field}' has {len(query)} characters, the limit is {settings.max_query_chars}"
        )
    if "\x00" in query:
        raise BadRequest(f"'{field}' contains a NUL character")
    if not is_valid_unicode(query):
        raise BadRequest(f"'{field}' holds a lone surrogate or other invalid Unicode")
    k = settings.default_k if body.k is None else body.k
    per_source = settings.per_source if body.per_source is None else body.per_source
    for name, value in (("k", k), ("per_source", per_source)):
        if not 1 <= value <= settings.max_k:
            raise BadRequest(f"'{name}' must be between 1 and {settings.max_k}, got {value}")
    max_sources = settings.max_sources if body.max_sources is None else body.max_sources
    if not 1 <= max_sources <= settings.max_sources_limit:
        raise BadRequest(
            f"'max_sources' must be between 1 and {settings.max_sources_limit}, got {max_sources}"
        )
    filters = body.filters
    return SearchOptions(
        k=k,
        per_source=per_source,
        max_sources=max_sources,
        mode=body.mode,
        filters=PassageFilters(
            doc_ids=tuple(filters.doc_ids) if filters and filters.doc_ids else None,
            sources=tuple(filters.sources) if filters and filters.sources else None,
            published_from=filters.published_from if filters else None,
            published_to=filters.published_to if filters else None,
            story_ids=tuple(filters.story_ids)
            if filters and filters.story_ids is not None
            else None,
        ),
        depth=max(settings.search_depth, k),
        min_similarity=settings.min_similarity,
    )


def _instrument(app: FastAPI) -> None:
    from prometheus_client import CollectorRegistry
    from prometheus_fastapi_instrumentator import Instrumentator

    # A registry per app, so several apps in one process (tests) each count their own requests.
    Instrumentator(excluded_handlers=["/metrics"], registry=CollectorRegistry()).instrument(
        app
    ).expose(app, include_in_schema=False)
