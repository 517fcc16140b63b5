"""The bodies of /search and /ask are plain dicts built in the shapes `api.models` declares
(TypedDicts), the one definition of each: mypy checks the builders' keys (make lint), and
these tests check the bodies the server sends, every part of them, without mypy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from api.models import Answer, AskResponse, SearchResponse
from helpers import AUTH, FERRY, KEY, app_client, wait_ready

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
SEARCH = {"query": "q", "took_ms": 1.0, "hits": [HIT], "by_source": []}


def shaped(shape: Any, body: dict[str, Any]) -> bool:
    """Whether `body` is exactly `shape`: validating it in strict mode changes nothing (an
    unknown key would be dropped, a missing one refused or filled with its default)."""
    try:
        return TypeAdapter(shape).validate_python(body, strict=True) == body
    except ValueError:
        return False


def test_a_body_with_the_declared_fields_is_shaped() -> None:
    assert shaped(SearchResponse, SEARCH)


def test_a_missing_or_unknown_field_is_found_at_any_depth() -> None:
    assert not shaped(SearchResponse, {k: v for k, v in SEARCH.items() if k != "by_source"})
    leaked = {**HIT, "vector_id": 7}  # an internal field must never leak
    assert not shaped(SearchResponse, {**SEARCH, "hits": [leaked]})
    group = {k: HIT[k] for k in ("doc_id", "source", "title", "published", "story_id")}
    assert shaped(SearchResponse, {**SEARCH, "by_source": [{**group, "hits": [HIT]}]})
    assert not shaped(SearchResponse, {**SEARCH, "by_source": [{**group, "hits": [leaked]}]})


def test_a_field_with_a_default_must_still_be_sent() -> None:
    citation = {"passage_id": "a:0", "char_start": 0, "char_end": 39}
    answer = {k: HIT[k] for k in ("doc_id", "source", "title", "published", "score", "story_id")}
    answer |= {"answer": "10", "answer_type": "quantity", "sentence": HIT["text"]}
    answer |= {"value": None, "coverage": 1.0, "compared": True, "attributed_to": None}
    answer |= {"confidence": 0.9, "citation": {**citation, "answer_start": 9, "answer_end": 11}}
    assert shaped(Answer, answer)
    # Left out, it would read as "sentence", its default, not as the quantity it is.
    assert not shaped(Answer, {k: v for k, v in answer.items() if k != "answer_type"})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The seeds and one outlet's revised ferry reports (a timeline, a same-outlet pair)."""
    for client in app_client(tmp_path_factory.mktemp("bodies"), api_key=KEY):
        wait_ready(client)
        added = client.post("/documents", json={"documents": FERRY}, headers=AUTH)
        assert added.status_code == 200
        yield client


@pytest.mark.parametrize(
    "query", ["demonstrators injured by live bullets", "ferry capsized", "embassy"]
)
def test_search_bodies_are_shaped(client: TestClient, query: str) -> None:
    body = client.post("/search", json={"query": query}).json()
    assert body["by_source"] and shaped(SearchResponse, body)


def test_ask_bodies_are_shaped_in_every_part(client: TestClient) -> None:
    questions = [
        "How many were injured?",
        "Who is the White House press secretary?",
        "How many passengers were killed when the ferry capsized off Lorn?",
        "What did the ferry passengers say?",
    ]
    bodies = [client.post("/ask", json={"question": q}).json() for q in questions]
    assert all(shaped(AskResponse, body) for body in bodies)
    # Each part's shape was checked on at least one body that has it.
    for part in ("answers", "unanswered", "timeline", "groups", "same_outlet", "hits"):
        assert any(body[part] for body in bodies), part
    assert any(body["story"] for body in bodies)
    assert any(body["other_stories"] for body in bodies)
