"""Request and response models of the HTTP API (API v1, docs/api.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

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
from typing_extensions import TypedDict

from index.documents import DATE_PATTERN
from search.engine import Mode
from search.timeline import Disagreement

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


# The bodies of /search and /ask are TypedDicts, not models: `api.bodies` builds them as
# plain dicts, which orjson writes (api/app.py), and mypy checks every key of every builder
# against these declarations. A /search over a large archive holds a group for each of a
# few hundred documents, and building and validating models for them took 2.3 ms of a
# 3.2 ms serialisation (dicts and orjson: 0.7 ms; `parallax bench`). pydantic still reads
# these classes for /openapi.json, with the same component names, descriptions and
# defaults as a model's. A field with a default is one a client may go without; the
# server always sends it.


class Hit(TypedDict):
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
    story_id: Annotated[str | None, Field(description="The story (event) the document belongs to.")]


class SourceGroup(TypedDict):
    doc_id: str
    source: str | None
    title: str | None
    published: str | None
    story_id: str | None
    hits: list[Hit]


class SearchResponse(TypedDict):
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


class Citation(TypedDict):
    passage_id: str
    char_start: Annotated[int, Field(description="Start of the answer's sentence in the document.")]
    char_end: Annotated[int, Field(description="End of the answer's sentence in the document.")]
    answer_start: Annotated[int, Field(description="Start of the short answer in the document.")]
    answer_end: Annotated[int, Field(description="End of the short answer in the document.")]


class Answer(TypedDict):
    doc_id: str
    source: str | None
    title: str | None
    published: str | None
    answer: Annotated[str, Field(description="The short answer span.")]
    answer_type: Annotated[
        str,
        Field(
            "sentence",
            description="What the span is: quantity, date, person, organization or place "
            "(typed values, compared across sources), phrase, clause, quote, or sentence (the "
            "whole sentence answers; never compared).",
        ),
    ]
    sentence: Annotated[str, Field(description="The sentence the answer stands in.")]
    value: Annotated[
        dict[str, int | float | str | None] | None,
        Field(
            None, description="The normalised claim, for a quantity {low, high, qualifier, unit}."
        ),
    ]
    score: float
    coverage: Annotated[
        float,
        Field(
            0.0,
            description="Share of the question's specific words the sentence holds (0..1), "
            "each weighted by how rare it is among the sentences read.",
        ),
    ]
    compared: Annotated[
        bool,
        Field(
            False,
            description="Whether the answer was compared with the others for a conflict: a "
            "typed value whose sentence is about what the question asks (coverage at least "
            "half the best-covered answer's).",
        ),
    ]
    attributed_to: Annotated[
        str | None,
        Field(None, description="Who the sentence credits the claim to ('a U.S. official')."),
    ]
    confidence: Annotated[
        float,
        Field(
            description="How likely the answer is right (0..1), from the reader's own signals "
            "by a model fitted on the development questions (search/calibration.json).",
        ),
    ]
    story_id: str | None
    citation: Citation


class ContextCitation(TypedDict):
    passage_id: str
    char_start: Annotated[int, Field(description="Start of the context sentence in the document.")]
    char_end: Annotated[int, Field(description="End of the context sentence in the document.")]


class Unanswered(TypedDict):
    doc_id: str
    source: str | None
    title: str | None
    published: str | None
    context: Annotated[str, Field(description="The document's sentence closest to the question.")]
    story_id: str | None
    citation: ContextCitation


class TimelinePoint(TypedDict):
    published: Annotated[str | None, Field(description="When the reports were published.")]
    value: Annotated[str, Field(description="The figure as a reader says it ('at least 6').")]
    answer: Annotated[str, Field(description="The answer span of the first report.")]
    doc_ids: list[str]
    sources: list[str]
    story_id: str | None


class AnswerGroup(TypedDict):
    value: str
    doc_ids: list[str]
    story_id: str | None


class SameOutlet(TypedDict):
    source: str
    doc_ids: list[str]
    answers: list[str]
    story_id: str | None


class StoryRef(TypedDict):
    id: str
    title: str | None


class StoryMatch(TypedDict):
    id: str
    title: str | None
    documents: Annotated[int, Field(description="How many documents the story has.")]
    score: Annotated[float, Field(description="The score of the story's best passage.")]


class AskResponse(TypedDict):
    question: str
    took_ms: float
    answer_type: Annotated[
        str,
        Field(
            description="What the question asks for: quantity, date, person, organization, "
            "place, category, yes_no, reason, manner or other.",
        ),
    ]
    about: Annotated[
        str | None, Field(None, description="What the question asks about ('injured').")
    ]
    note: Annotated[
        str | None,
        Field(
            None,
            description="Why there are no answers when the question cannot be read (only "
            "function words, not English); null otherwise.",
        ),
    ]
    answers: Annotated[
        list[Answer],
        Field(description="One per document that answers with at least PARALLAX_MIN_CONFIDENCE."),
    ]
    unanswered: Annotated[
        list[Unanswered],
        Field(
            description="The documents read that give no answer (or none confident enough), "
            "each with its sentence closest to the question.",
        ),
    ]
    timeline: Annotated[
        list[TimelinePoint],
        Field(description="The compared answers of the story, oldest first."),
    ]
    disagreement: Annotated[
        Disagreement | None,
        Field(
            description="revised: the figures differ but each later report supersedes the "
            "earlier (an outlet's later version, a count that grew); disputed: figures given at "
            "about the same time, or by different parties, cannot all be true; null: they agree.",
        ),
    ]
    conflict: bool
    groups: list[AnswerGroup]
    reasons: Annotated[list[str], Field(description="One line per disagreement.")]
    same_outlet: Annotated[
        list[SameOutlet],
        Field(description="Documents of one outlet that answer differently (a revised figure)."),
    ]
    story: Annotated[
        StoryRef | None,
        Field(description="The story the answers come from; null when asked across all stories."),
    ]
    other_stories: Annotated[
        list[StoryMatch],
        Field(description="Other stories that match the question, best first; ask with one's id."),
    ]
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
