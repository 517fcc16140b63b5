"""Stories over HTTP: listing, scoping /ask to one story, story filters (hashing embedder)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from helpers import SEED_IDS, SEEDS

KEY = "test-secret"
AUTH = {"Authorization": f"Bearer {KEY}"}
# Another event with injury figures that disagree, in the same archive as the seeds.
BLAST = [
    {
        "id": "blast-1",
        "source": "Harbin Daily",
        "title": "Explosion at Harbin flax mill injures 40",
        "published": "2020-03-15",
        "text": "An explosion tore through a flax mill in Harbin on Sunday. At least 40 workers "
        "were injured, the city fire department said.",
    },
    {
        "id": "blast-2",
        "source": "Northeast Wire",
        "title": "Harbin flax mill blast: 185 injured",
        "published": "2020-03-16",
        "text": "Investigators blamed flax dust for Sunday's explosion at the Harbin flax mill. "
        "At least 185 workers were injured, the city fire department said on Monday.",
    },
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        seeds_dir=SEEDS,
        embedder="hashing",
        api_key=KEY,
    )
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 30
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline, "the index never loaded"
            time.sleep(0.05)
        response = client.post("/documents", json={"documents": BLAST}, headers=AUTH)
        assert response.status_code == 200, response.text
        yield client


def _story_of(client: TestClient, doc_id: str) -> str:
    body = client.post("/search", json={"query": "x", "filters": {"doc_ids": [doc_id]}}).json()
    hits = [hit for group in body["by_source"] for hit in group["hits"]]
    if hits:
        return hits[0]["story_id"]  # type: ignore[no-any-return]
    stories = client.get("/stories", params={"limit": 1000}).json()["stories"]
    for story in stories:
        detail = client.get(f"/stories/{story['id']}").json()
        if doc_id in {d["id"] for d in detail["documents"]}:
            return story["id"]  # type: ignore[no-any-return]
    raise AssertionError(f"{doc_id} is in no story")


def test_writes_say_which_story_each_document_joined(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", seeds_dir=SEEDS, embedder="hashing", api_key=KEY
    )
    with TestClient(create_app(settings)) as client:
        while client.get("/health").status_code != 200:
            time.sleep(0.05)
        body = client.post("/documents", json={"documents": BLAST}, headers=AUTH).json()
    assert set(body["story_ids"]) == {"blast-1", "blast-2"}
    assert body["stories"] == len(set(body["story_ids"].values()))
    assert body["new_stories"] == body["stories"]  # neither joined the seeds' story


def test_the_seeds_are_one_story_listed_with_headline_outlets_and_dates(
    client: TestClient,
) -> None:
    page = client.get("/stories").json()
    assert page["total"] == 2 and page["offset"] == 0 and page["limit"] == 50
    blast, seeds = page["stories"]  # newest first: the blast is in 2020
    assert blast["documents"] == 2 and blast["first_published"] == "2020-03-15"
    assert seeds["documents"] == 5
    assert seeds["sources"] == ["NBC News", "The Hill", "The Globe and Mail"]
    assert seeds["first_published"] == seeds["last_published"] == "2019-12-31"
    assert "Baghdad" in seeds["title"]
    detail = client.get(f"/stories/{seeds['id']}").json()
    assert {d["id"] for d in detail["documents"]} == SEED_IDS
    assert detail["title"] == seeds["title"]
    second = client.get("/stories", params={"offset": 1, "limit": 1}).json()
    assert [s["id"] for s in second["stories"]] == [seeds["id"]] and second["total"] == 2


def test_an_unknown_story_is_a_404_that_says_where_to_look(client: TestClient) -> None:
    response = client.get("/stories/s999999")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        "no story with id 's999999'; GET /stories lists them"
    )


def test_hits_and_groups_carry_their_story_and_story_filters_restrict(client: TestClient) -> None:
    blast = _story_of(client, "blast-1")
    body = client.post("/search", json={"query": "how many were injured"}).json()
    groups = {g["doc_id"]: g["story_id"] for g in body["by_source"]}
    assert groups["blast-1"] == groups["blast-2"] == blast
    assert all(groups[d] != blast for d in groups if d in SEED_IDS)
    assert all(hit["story_id"] == groups[hit["doc_id"]] for hit in body["hits"])
    only = client.post(
        "/search", json={"query": "how many were injured", "filters": {"story_ids": [blast]}}
    ).json()
    assert {g["doc_id"] for g in only["by_source"]} == {"blast-1", "blast-2"}
    none = client.post(
        "/search", json={"query": "injured", "filters": {"story_ids": ["s999999"]}}
    ).json()
    assert none["hits"] == [] and none["by_source"] == []


def test_by_source_is_bounded_by_max_sources(client: TestClient) -> None:
    body = client.post("/search", json={"query": "injured", "max_sources": 2}).json()
    assert len(body["by_source"]) == 2
    everything = client.post("/search", json={"query": "injured"}).json()
    assert [g["doc_id"] for g in body["by_source"]] == [
        g["doc_id"] for g in everything["by_source"][:2]
    ]
    for bad in (0, 1001, "3"):
        response = client.post("/search", json={"query": "injured", "max_sources": bad})
        assert response.status_code == 422
        assert "max_sources" in response.json()["error"]["message"]


def test_a_question_that_names_its_event_is_answered_from_that_story_alone(
    client: TestClient,
) -> None:
    body = client.post(
        "/ask", json={"question": "How many were injured at the U.S. embassy in Baghdad?"}
    ).json()
    seeds = _story_of(client, "000_487d20731cd06fa7")
    assert body["story"]["id"] == seeds and "Baghdad" in body["story"]["title"]
    assert body["answers"] and {a["doc_id"] for a in body["answers"]} <= SEED_IDS
    assert {a["story_id"] for a in body["answers"]} == {seeds}
    assert all(hit["doc_id"] in SEED_IDS for hit in body["hits"])
    assert [s["id"] for s in body["other_stories"]] == [_story_of(client, "blast-1")]
    assert body["other_stories"][0]["documents"] == 2
    # Any conflict is the seeds' own, never against the blast's 40 or 185. (Which sentence
    # answers depends on the embedder: with the real model the seeds' 10 vs 62 conflict is
    # checked by test_stories_model.py.)
    assert all(g["story_id"] == seeds for g in body["groups"])
    assert {d for g in body["groups"] for d in g["doc_ids"]} <= SEED_IDS
    assert not any("185" in reason or "40" in reason for reason in body["reasons"])


def test_asking_within_another_story_and_across_all_of_them(client: TestClient) -> None:
    blast = _story_of(client, "blast-1")
    within = client.post("/ask", json={"question": "How many were injured?", "story": blast}).json()
    assert within["story"]["id"] == blast
    assert {a["doc_id"] for a in within["answers"]} == {"blast-1", "blast-2"}
    assert within["conflict"] is True  # 40 vs 185, within the blast's own story
    assert {d for g in within["groups"] for d in g["doc_ids"]} == {"blast-1", "blast-2"}

    everywhere = client.post(
        "/ask", json={"question": "How many demonstrators were injured?", "story": "all"}
    ).json()
    assert everywhere["story"] is None
    answered = {a["doc_id"] for a in everywhere["answers"]}
    assert answered & {"blast-1", "blast-2"} and answered & SEED_IDS
    # Answers of both stories, each group still of one story only.
    for group in everywhere["groups"]:
        assert len({_story_of(client, d) for d in group["doc_ids"]}) == 1
    assert all(reason.startswith("s0") for reason in everywhere["reasons"])


def test_an_unknown_story_in_ask_is_a_404(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "How many were injured?", "story": "nope"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        "'story': no story with id 'nope'; GET /stories lists them"
    )
