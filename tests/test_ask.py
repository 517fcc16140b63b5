"""`ask` and POST /ask with the hashing embedder: plumbing, citations, validation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import app_client, wait_ready
from index.live import LiveIndex
from search.answers import ask
from search.document_reader import ReaderOptions
from search.engine import SearchOptions
from search.retrieve import PassageFilters

KILLED = "How many militia fighters were killed in the airstrikes?"


def test_every_source_answers_with_a_cited_figure_and_the_24_stands_apart(
    hashing_index: LiveIndex,
) -> None:
    corpus = hashing_index.corpus
    result = ask(corpus, hashing_index.embedder, KILLED, SearchOptions())
    answers = {a.document.id[:3]: a for a in result.answers}
    assert set(answers) == {"000", "001", "002", "003", "004"}
    assert answers["001"].answer == "At least 25 militia fighters"
    assert answers["003"].answer == "25 fighters"
    assert answers["004"].value is not None and answers["004"].value.low == 24
    assert result.comparison.conflict is True
    groups = {
        group.value: sorted(d[:3] for d in group.doc_ids) for group in result.comparison.groups
    }
    assert groups["25"] == ["000", "001", "002", "003"]
    assert ["004"] in groups.values()
    for answer in result.answers:
        text = answer.document.text
        assert text[answer.sentence_start : answer.sentence_end] == answer.sentence
        assert text[answer.answer_start : answer.answer_end] == answer.answer
        passage = answer.passage
        assert passage.char_start <= answer.sentence_start < answer.sentence_end <= passage.char_end


def test_filters_limit_which_sources_answer(hashing_index: LiveIndex) -> None:
    options = SearchOptions(filters=PassageFilters(sources=("NBC News",)))
    result = ask(hashing_index.corpus, hashing_index.embedder, KILLED, options)
    assert {a.document.source for a in result.answers} == {"NBC News"}
    assert result.comparison.conflict is False


def test_reader_options_are_passed_not_patched(hashing_index: LiveIndex) -> None:
    corpus, embedder = hashing_index.corpus, hashing_index.embedder
    fewer = ask(corpus, embedder, KILLED, SearchOptions(), reader=ReaderOptions(max_sources=2))
    assert len(fewer.answers) == 2  # only the two best sources are read
    strict = ReaderOptions(min_answer_score=2.0)  # no typed span can score this
    none_typed = ask(corpus, embedder, KILLED, SearchOptions(), reader=strict)
    assert all(a.answer_type in ("sentence", "phrase") for a in none_typed.answers)
    assert none_typed.comparison.conflict is False
    # The defaults are untouched by either call.
    assert len(ask(corpus, embedder, KILLED, SearchOptions()).answers) == 5


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    for client in app_client(tmp_path):
        wait_ready(client)
        yield client


def test_ask_over_http_gives_answers_groups_reasons_and_per_source_hits(client: TestClient) -> None:
    response = client.post("/ask", json={"question": KILLED})
    assert response.status_code == 200
    body = response.json()
    assert body["answer_type"] == "quantity" and body["about"] == "killed"
    assert body["conflict"] is True
    assert any("24" in reason or "two dozen" in reason for reason in body["reasons"])
    first = body["answers"][0]
    assert first["value"]["low"] == 25 and isinstance(first["value"]["low"], int)
    stored = client.get(f"/documents/{first['doc_id']}").json()["text"]
    citation = first["citation"]
    assert stored[citation["char_start"] : citation["char_end"]] == first["sentence"]
    assert stored[citation["answer_start"] : citation["answer_end"]] == first["answer"]
    # One hit per source by default, each from a different document.
    doc_ids = [hit["doc_id"] for hit in body["hits"]]
    assert len(doc_ids) == len(set(doc_ids)) == 5
    two = client.post("/ask", json={"question": KILLED, "per_source": 2}).json()
    assert len(two["hits"]) > 5


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"question": " "}, "'question' is empty"),
        ({"question": "x" * 2000}, "limit is 1000"),
        ({"query": "How many?"}, "question: Field required"),
        ({"question": "How many?", "per_source": 0}, "'per_source' must be between"),
        ({"question": "How many?", "filters": {"sources": "NBC"}}, "filters.sources"),
    ],
)
def test_bad_questions_get_a_422_that_says_what_is_wrong(
    client: TestClient, payload: dict, fragment: str
) -> None:
    response = client.post("/ask", json=payload)
    assert response.status_code == 422
    assert fragment in response.json()["error"]["message"]
