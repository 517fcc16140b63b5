"""Request and response models of the HTTP API (DESIGN.md, API v1)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from search.engine import Hit as FoundHit
from search.engine import SearchResult


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filters(_Strict):
    doc_ids: list[StrictStr] | None = Field(None, description="Only these documents.")
    sources: list[StrictStr] | None = Field(None, description="Only these outlets.")
    published_from: dt.date | None = Field(None, description="Published on or after (YYYY-MM-DD).")
    published_to: dt.date | None = Field(None, description="Published on or before (YYYY-MM-DD).")


class SearchRequest(_Strict):
    query: StrictStr = Field(..., description="What to look for, in plain words.")
    k: StrictInt | None = Field(None, description="How many hits in the overall ranking.")
    per_source: StrictInt | None = Field(None, description="Hits per source group.")
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    filters: Filters | None = None


class Hit(BaseModel):
    passage_id: str
    doc_id: str
    source: str | None
    title: str | None
    published: str | None
    url: str | None
    text: str
    score: float
    rank: int
    char_start: int
    char_end: int

    @classmethod
    def of(cls, hit: FoundHit) -> Hit:
        doc, passage = hit.document, hit.passage
        return cls(
            passage_id=passage.passage_id,
            doc_id=doc.id,
            source=doc.source,
            title=doc.title,
            published=doc.published,
            url=doc.url,
            text=passage.text,
            score=round(hit.score, 6),
            rank=hit.rank,
            char_start=passage.char_start,
            char_end=passage.char_end,
        )


class SourceGroup(BaseModel):
    doc_id: str
    source: str | None
    title: str | None
    published: str | None
    hits: list[Hit]


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    hits: list[Hit]
    by_source: list[SourceGroup]

    @classmethod
    def of(cls, query: str, result: SearchResult, took_ms: float) -> SearchResponse:
        return cls(
            query=query,
            took_ms=round(took_ms, 2),
            hits=[Hit.of(hit) for hit in result.hits],
            by_source=[
                SourceGroup(
                    doc_id=group.document.id,
                    source=group.document.source,
                    title=group.document.title,
                    published=group.document.published,
                    hits=[Hit.of(hit) for hit in group.hits],
                )
                for group in result.by_source
            ],
        )


class DocumentIn(_Strict):
    id: StrictStr = Field(..., description="Stable unique id: letters, digits, . _ : @ -")
    text: StrictStr = Field(..., description="Plain text; paragraphs separated by newlines.")
    source: StrictStr | None = Field(None, description="The outlet.")
    title: StrictStr | None = None
    published: StrictStr | None = Field(None, description="YYYY-MM-DD")
    url: StrictStr | None = None


class IngestRequest(_Strict):
    documents: list[DocumentIn]


class IngestResponse(BaseModel):
    added: list[str]
    replaced: list[str]
    unchanged: list[str]
    counts: dict[str, int]
    passages: int = Field(..., description="Passages embedded by this request.")


class PassageOut(BaseModel):
    passage_id: str
    text: str
    char_start: int
    char_end: int


class DocumentOut(BaseModel):
    id: str
    source: str | None
    title: str | None
    published: str | None
    url: str | None
    text: str
    passages: list[PassageOut]


class DocumentSummary(BaseModel):
    id: str
    source: str | None
    title: str | None
    published: str | None
    passages: int


class DocumentPage(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[DocumentSummary]


class Health(BaseModel):
    status: Literal["ok", "loading", "error"]
    documents: int | None = None
    passages: int | None = None
    model: str | None = None
    generation: int | None = None
    reason: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Deleted(BaseModel):
    deleted: str
