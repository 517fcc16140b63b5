"""Request and response models of the HTTP API (API v1, the README's "HTTP API")."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
)

from index.documents import DATE_PATTERN
from search.answers import Answer as ReadAnswer
from search.answers import AskResult
from search.answers import Unanswered as ReadUnanswered
from search.engine import Hit as FoundHit
from search.engine import Mode, SearchResult
from search.timeline import Disagreement
from search.timeline import TimelinePoint as FoundPoint

# A date is a "YYYY-MM-DD" string: numbers are not read as Unix timestamps.
IsoDate = Annotated[StrictStr, StringConstraints(pattern=DATE_PATTERN)]


def _whole_number(value: object) -> object:
    """JSON has one kind of number, and 100.0 is the integer 100 (JSON Schema counts it as
    one); a bool or a numeric string is still not an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[StrictInt, BeforeValidator(_whole_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filters(_Strict):
    doc_ids: list[StrictStr] | None = Field(None, description="Only these documents.")
    sources: list[StrictStr] | None = Field(None, description="Only these outlets.")
    published_from: IsoDate | None = Field(None, description="Published on or after.")
    published_to: IsoDate | None = Field(None, description="Published on or before.")
    story_ids: list[StrictStr] | None = Field(
        None, description="Only the documents of these stories (GET /stories lists them)."
    )

    @field_validator("published_from", "published_to")
    @classmethod
    def _real_date(cls, value: str | None) -> str | None:
        # The pattern admits 2019-02-31; only a calendar date is a date.
        if value is not None:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a calendar date (YYYY-MM-DD)") from None
        return value


class SearchRequest(_Strict):
    query: StrictStr = Field(..., description="What to look for, in plain words.")
    k: WholeNumber | None = Field(None, description="How many hits in the overall ranking.")
    per_source: WholeNumber | None = Field(None, description="Hits per source group.")
    max_sources: WholeNumber | None = Field(
        None, description="Most source groups in `by_source` (default 50), best first."
    )
    mode: Mode = "hybrid"
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
    story_id: str | None = Field(..., description="The story (event) the document belongs to.")


class SourceGroup(BaseModel):
    doc_id: str
    source: str | None
    title: str | None
    published: str | None
    story_id: str | None
    hits: list[Hit]


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    hits: list[Hit]
    by_source: list[SourceGroup]


class AskRequest(_Strict):
    question: StrictStr = Field(..., description="A question in plain words.")
    per_source: WholeNumber | None = Field(
        None, description="Hits per source in `hits` (default 1)."
    )
    mode: Mode = Field("hybrid", description="Retrieval that picks each source's passages.")
    story: StrictStr = Field(
        "auto",
        description="'auto': answer within the story that matches the question best; a story "
        "id: within that story; 'all': across the whole archive (answers still compared "
        "story by story).",
    )
    filters: Filters | None = None


class Citation(BaseModel):
    passage_id: str
    char_start: int = Field(..., description="Start of the answer's sentence in the document.")
    char_end: int = Field(..., description="End of the answer's sentence in the document.")
    answer_start: int = Field(..., description="Start of the short answer in the document.")
    answer_end: int = Field(..., description="End of the short answer in the document.")


class Answer(BaseModel):
    doc_id: str
    source: str | None
    title: str | None
    published: str | None
    answer: str = Field(..., description="The short answer span.")
    answer_type: str = Field(
        "sentence",
        description="What the span is: quantity, date, person, organization or place (typed "
        "values, compared across sources), phrase, clause, quote, or sentence (the whole "
        "sentence answers; never compared).",
    )
    sentence: str = Field(..., description="The sentence the answer stands in.")
    value: dict[str, int | float | str | None] | None = Field(
        None, description="The normalised claim, for a quantity {low, high, qualifier, unit}."
    )
    score: float
    coverage: float = Field(
        0.0,
        description="Share of the question's specific words the sentence holds (0..1), each "
        "weighted by how rare it is among the sentences read.",
    )
    compared: bool = Field(
        False,
        description="Whether the answer was compared with the others for a conflict: a typed "
        "value whose sentence is about what the question asks (coverage at least half the "
        "best-covered answer's).",
    )
    attributed_to: str | None = Field(
        None, description="Who the sentence credits the claim to ('a U.S. official')."
    )
    confidence: float = Field(
        ...,
        description="How likely the answer is right (0..1), from the reader's own signals by a "
        "model fitted on the development questions (search/calibration.json).",
    )
    story_id: str | None
    citation: Citation


class ContextCitation(BaseModel):
    passage_id: str
    char_start: int = Field(..., description="Start of the context sentence in the document.")
    char_end: int = Field(..., description="End of the context sentence in the document.")


class Unanswered(BaseModel):
    doc_id: str
    source: str | None
    title: str | None
    published: str | None
    context: str = Field(..., description="The document's sentence closest to the question.")
    story_id: str | None
    citation: ContextCitation


class TimelinePoint(BaseModel):
    published: str | None = Field(..., description="When the reports were published.")
    value: str = Field(..., description="The figure as a reader says it ('at least 6').")
    answer: str = Field(..., description="The answer span of the first report.")
    doc_ids: list[str]
    sources: list[str]
    story_id: str | None


class AnswerGroup(BaseModel):
    value: str
    doc_ids: list[str]
    story_id: str | None


class SameOutlet(BaseModel):
    source: str
    doc_ids: list[str]
    answers: list[str]
    story_id: str | None


class StoryRef(BaseModel):
    id: str
    title: str | None


class StoryMatch(BaseModel):
    id: str
    title: str | None
    documents: int = Field(..., description="How many documents the story has.")
    score: float = Field(..., description="The score of the story's best passage.")


class AskResponse(BaseModel):
    question: str
    took_ms: float
    answer_type: str = Field(
        ...,
        description="What the question asks for: quantity, date, person, organization, place, "
        "category, yes_no, reason, manner or other.",
    )
    about: str | None = Field(None, description="What the question asks about ('injured').")
    note: str | None = Field(
        None,
        description="Why there are no answers when the question cannot be read (only "
        "function words, not English); null otherwise.",
    )
    answers: list[Answer] = Field(
        ...,
        description="One per document that answers with at least PARALLAX_MIN_CONFIDENCE.",
    )
    unanswered: list[Unanswered] = Field(
        ...,
        description="The documents read that give no answer (or none confident enough), each "
        "with its sentence closest to the question.",
    )
    timeline: list[TimelinePoint] = Field(
        ..., description="The compared answers of the story, oldest first."
    )
    disagreement: Disagreement | None = Field(
        ...,
        description="revised: the figures differ but each later report supersedes the earlier "
        "(an outlet's later version, a count that grew); disputed: figures given at about the "
        "same time, or by different parties, cannot all be true; null: they agree.",
    )
    conflict: bool
    groups: list[AnswerGroup]
    reasons: list[str] = Field(..., description="One line per disagreement.")
    same_outlet: list[SameOutlet] = Field(
        ..., description="Documents of one outlet that answer differently (a revised figure)."
    )
    story: StoryRef | None = Field(
        ..., description="The story the answers come from; null when asked across all stories."
    )
    other_stories: list[StoryMatch] = Field(
        ..., description="Other stories that match the question, best first; ask with one's id."
    )
    hits: list[Hit]


class DocumentIn(_Strict):
    id: StrictStr = Field(..., description="Stable unique id: letters, digits, . _ : @ -")
    text: StrictStr | None = Field(
        None,
        description="Plain text, maybe hard-wrapped: wraps are joined, paragraph breaks (blank "
        "or indented lines) kept, tables and lists keep their lines. Send this or `html`. "
        "Refused (422) when nothing is left once page boilerplate is taken out.",
    )
    html: StrictStr | None = Field(
        None,
        description="A whole saved web page instead of `text`: the article body is stored, and "
        "the page's title, date, author, site name and address fill the fields left empty. "
        "Refused (422) when the page holds no article text.",
    )
    source: StrictStr | None = Field(None, description="The outlet.")
    title: StrictStr | None = None
    published: StrictStr | None = Field(
        None,
        description="ISO 8601 date, or date-time with seconds and a zone (1987-03-09, "
        "1987-03-09T15:01:01Z, 2019-12-31T09:15:00-05:00); a time is stored in UTC.",
    )
    url: StrictStr | None = None
    author: StrictStr | None = Field(None, description="The byline.")


class IngestRequest(_Strict):
    documents: list[DocumentIn] = Field(
        ...,
        min_length=1,
        description="An id sent more than once is stored as its last copy.",
    )


class IngestResponse(BaseModel):
    added: list[str]
    replaced: list[str]
    unchanged: list[str]
    counts: dict[str, int]
    passages: int = Field(..., description="Passages embedded by this request.")
    story_ids: dict[str, str] = Field(..., description="The story of each document sent.")
    stories: int = Field(..., description="How many stories the documents sent belong to.")
    new_stories: int = Field(..., description="How many of those this request started.")


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
    author: str | None = None
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


class StorySummary(BaseModel):
    id: str
    title: str | None = Field(..., description="The headline of its most representative document.")
    documents: int
    sources: list[str]
    first_published: str | None
    last_published: str | None


class StoryPage(BaseModel):
    total: int
    offset: int
    limit: int
    stories: list[StorySummary] = Field(..., description="Newest first (by latest document).")


class StoryDocument(BaseModel):
    id: str
    source: str | None
    title: str | None
    published: str | None


class StoryOut(BaseModel):
    id: str
    title: str | None
    documents: list[StoryDocument] = Field(..., description="Oldest first.")
    sources: list[str]
    first_published: str | None
    last_published: str | None


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


# The bodies of /search and /ask are built as plain data and serialised by orjson
# (api/app.py), not as model instances: a /search over a large archive holds a group for
# each of a few hundred documents, and building and validating those models took 2.3 ms
# of a 3.2 ms serialisation (dicts and orjson: 0.7 ms; `parallax bench`); pydantic's own
# serialiser is 5x slower than orjson on them, and even a keyword call per part costs 15%.
# The models stay the one definition of the shape: `shaped` checks a body against its
# model, every part of it, until each part has been seen once.


@functools.cache
def _part_models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The fields of `model` whose values are models themselves (alone, in a list, or
    optional), with those models."""
    parts = {}
    for name, field in model.model_fields.items():
        found = [
            t
            for t in _flatten(field.annotation)
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if found:
            parts[name] = found[0]
    return parts


def _flatten(annotation: Any) -> list[Any]:
    return [annotation, *(t for arg in get_args(annotation) for t in _flatten(arg))]


@functools.cache
def _reachable(model: type[BaseModel]) -> frozenset[type[BaseModel]]:
    """`model` and the models of its parts, and of theirs."""
    return frozenset({model}.union(*(_reachable(part) for part in _part_models(model).values())))


_SEEN: set[type[BaseModel]] = set()  # models one body of which was checked
_DONE: set[type[BaseModel]] = set()  # models whose bodies have no part left to check


def shaped(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """`body`, once its fields are found to be exactly `model`'s, and those of each of its
    parts their models' (TypeError if not). Each model's bodies are built in one place in
    this module, so one body of each is checked; after that a request pays nothing."""
    if model not in _DONE:
        _check(model, body)
        if _reachable(model) <= _SEEN:
            _DONE.add(model)
    return body


def _check(model: type[BaseModel], body: dict[str, Any]) -> None:
    fields = model.model_fields.keys()
    if body.keys() != fields:
        missing, unknown = sorted(fields - body.keys()), sorted(body.keys() - fields)
        raise TypeError(f"a {model.__name__} body: missing {missing}, unknown {unknown}")
    _SEEN.add(model)
    for name, part in _part_models(model).items():
        if part in _SEEN:
            continue
        value = body[name]
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                _check(part, item)


def hit_body(hit: FoundHit) -> dict[str, Any]:
    """A Hit: the passage, where it stands in its document, and its score and rank."""
    doc, passage = hit.document, hit.passage
    return {
        "passage_id": passage.passage_id,
        "doc_id": doc.id,
        "source": doc.source,
        "title": doc.title,
        "published": doc.published,
        "url": doc.url,
        "text": passage.text,
        "score": round(hit.score, 6),
        "rank": hit.rank,
        "char_start": passage.char_start,
        "char_end": passage.char_end,
        "story_id": hit.story_id,
    }


def search_body(query: str, result: SearchResult, took_ms: float) -> dict[str, Any]:
    """The body of a /search response (`SearchResponse`)."""
    return shaped(
        SearchResponse,
        {
            "query": query,
            "took_ms": round(took_ms, 2),
            "hits": [hit_body(hit) for hit in result.hits],
            "by_source": [
                {
                    "doc_id": group.document.id,
                    "source": group.document.source,
                    "title": group.document.title,
                    "published": group.document.published,
                    "story_id": group.story_id,
                    "hits": [hit_body(hit) for hit in group.hits],
                }
                for group in result.by_source
            ],
        },
    )


def ask_body(question: str, result: AskResult, per_source: int, took_ms: float) -> dict[str, Any]:
    """The body of an /ask response (`AskResponse`)."""
    comparison = result.comparison
    compared = {doc_id for group in comparison.groups for doc_id in group.doc_ids}
    return shaped(
        AskResponse,
        {
            "question": question,
            "took_ms": round(took_ms, 2),
            "answer_type": result.analysis.answer_type,
            "about": result.analysis.target,
            "note": result.note,
            "answers": [answer_body(a, a.document.id in compared) for a in result.answers],
            "unanswered": [unanswered_body(u) for u in result.unanswered],
            "timeline": [timeline_body(point) for point in result.timeline.points],
            "disagreement": result.timeline.disagreement,
            "conflict": comparison.conflict,
            "groups": [
                {"value": g.value, "doc_ids": list(g.doc_ids), "story_id": g.story_id}
                for g in comparison.groups
            ],
            "reasons": list(comparison.reasons),
            "same_outlet": [
                {
                    "source": r.source,
                    "doc_ids": list(r.doc_ids),
                    "answers": list(r.answers),
                    "story_id": r.story_id,
                }
                for r in comparison.same_outlet
            ],
            "story": {"id": result.story.id, "title": result.story.title} if result.story else None,
            "other_stories": [
                {
                    "id": m.story.id,
                    "title": m.story.title,
                    "documents": len(m.story.documents),
                    "score": m.score,
                }
                for m in result.other_stories
            ],
            "hits": [
                hit_body(hit)
                for group in result.search.by_source
                for hit in group.hits[:per_source]
            ],
        },
    )


def answer_body(a: ReadAnswer, compared: bool) -> dict[str, Any]:
    """An Answer: the span, its sentence and value, how sure the reader is, and where."""
    return {
        "doc_id": a.document.id,
        "source": a.document.source,
        "title": a.document.title,
        "published": a.document.published,
        "answer": a.answer,
        "answer_type": a.answer_type,
        "sentence": a.sentence,
        "value": a.value.as_dict() if a.value is not None else None,
        "score": a.score,
        "coverage": a.coverage,
        "compared": compared,
        "attributed_to": a.attributed_to,
        "confidence": a.confidence,
        "story_id": a.story_id,
        "citation": {
            "passage_id": a.passage.passage_id,
            "char_start": a.sentence_start,
            "char_end": a.sentence_end,
            "answer_start": a.answer_start,
            "answer_end": a.answer_end,
        },
    }


def unanswered_body(u: ReadUnanswered) -> dict[str, Any]:
    """An Unanswered document with its sentence closest to the question."""
    return {
        "doc_id": u.document.id,
        "source": u.document.source,
        "title": u.document.title,
        "published": u.document.published,
        "context": u.sentence,
        "story_id": u.story_id,
        "citation": {
            "passage_id": u.passage.passage_id,
            "char_start": u.sentence_start,
            "char_end": u.sentence_end,
        },
    }


def timeline_body(point: FoundPoint) -> dict[str, Any]:
    """A TimelinePoint: one figure at one time, and who reported it."""
    return {
        "published": point.published,
        "value": point.value,
        "answer": point.answer,
        "doc_ids": list(point.doc_ids),
        "sources": list(point.sources),
        "story_id": point.story_id,
    }
