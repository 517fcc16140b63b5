"""The bodies of /search and /ask, built as plain data in the shapes `api.models`
declares (TypedDicts: mypy checks each builder's keys against them, and orjson writes the
dicts, api/app.py)."""

from __future__ import annotations

from api.models import (
    Answer,
    AskResponse,
    Hit,
    SearchResponse,
    TimelinePoint,
    Unanswered,
)
from search.answers import AskResult, UnansweredDocument
from search.document_reader import ReadAnswer
from search.engine import RankedHit, SearchResult
from search.timeline import ReportedFigure


def hit_body(hit: RankedHit) -> Hit:
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


def search_body(query: str, result: SearchResult, took_ms: float) -> SearchResponse:
    """The body of a /search response."""
    return {
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
    }


def ask_body(question: str, result: AskResult, per_source: int, took_ms: float) -> AskResponse:
    """The body of an /ask response."""
    comparison = result.comparison
    compared = {doc_id for group in comparison.groups for doc_id in group.doc_ids}
    return {
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
            hit_body(hit) for group in result.search.by_source for hit in group.hits[:per_source]
        ],
    }


def answer_body(a: ReadAnswer, compared: bool) -> Answer:
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


def unanswered_body(u: UnansweredDocument) -> Unanswered:
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


def timeline_body(point: ReportedFigure) -> TimelinePoint:
    """A TimelinePoint: one figure at one time, and who reported it."""
    return {
        "published": point.published,
        "value": point.value,
        "answer": point.answer,
        "doc_ids": list(point.doc_ids),
        "sources": list(point.sources),
        "story_id": point.story_id,
    }
