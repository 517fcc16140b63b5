"""The bodies of /search and /ask are plain data checked against the response models, the
one definition of their shape."""

from __future__ import annotations

import pytest

from api import bodies, models
from api.bodies import shaped
from api.models import AskResponse, Hit, SearchResponse

HIT = {
    "passage_id": "a:0",
    "doc_id": "a",
    "source": "NBC News",
    "title": "Protest",
    "published": "2019-12-31",
    "url": None,
    "text": "At least 10 demonstrators were injured.",
    "score": 0.5,
    "rank": 1,
    "char_start": 0,
    "char_end": 39,
    "story_id": "s1",
}


@pytest.fixture(autouse=True)
def _unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "_SEEN", set())
    monkeypatch.setattr(bodies, "_DONE", set())


def test_a_body_with_the_models_fields_passes_unchanged() -> None:
    body = {"query": "q", "took_ms": 1.0, "hits": [HIT], "by_source": []}
    assert shaped(SearchResponse, body) is body
    SearchResponse.model_validate(body)


def test_a_missing_or_unknown_field_is_refused_at_any_depth() -> None:
    with pytest.raises(TypeError, match=r"SearchResponse body: missing \['by_source'\]"):
        shaped(SearchResponse, {"query": "q", "took_ms": 1.0, "hits": []})
    extra = {**HIT, "vector_id": 7}  # an internal field must never leak
    with pytest.raises(TypeError, match=r"Hit body: missing \[\], unknown \['vector_id'\]"):
        shaped(SearchResponse, {"query": "q", "took_ms": 1.0, "hits": [extra], "by_source": []})


def test_each_part_is_checked_once_then_requests_pay_nothing() -> None:
    body = {"query": "q", "took_ms": 1.0, "hits": [HIT], "by_source": []}
    shaped(SearchResponse, body)
    assert {SearchResponse, Hit} <= bodies._SEEN
    # The groups were empty: SourceGroup is still unchecked, so the check goes on.
    assert SearchResponse not in bodies._DONE
    group = {k: HIT[k] for k in ("doc_id", "source", "title", "published", "story_id")}
    shaped(SearchResponse, {**body, "by_source": [{**group, "hits": [HIT]}]})
    assert SearchResponse in bodies._DONE
    broken = {"query": "q", "took_ms": 1.0, "hits": [{"passage_id": "a:0"}], "by_source": []}
    assert shaped(SearchResponse, broken) is broken  # no longer looked at


def test_the_ask_body_reaches_every_part_model() -> None:
    assert bodies._reachable(AskResponse) >= {
        models.Answer,
        models.Citation,
        models.Unanswered,
        models.ContextCitation,
        models.TimelinePoint,
        models.AnswerGroup,
        models.SameOutlet,
        models.StoryRef,
        models.StoryMatch,
        Hit,
    }
