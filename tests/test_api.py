"""The HTTP API through the app, with the hashing embedder (fast)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from helpers import AUTH, KEY, app_client, wait_ready


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    for client in app_client(tmp_path, api_key=KEY):
        wait_ready(client)
        yield client


@pytest.fixture
def readonly_client(tmp_path: Path) -> Iterator[TestClient]:
    for client in app_client(tmp_path):
        wait_ready(client)
        yield client


def test_health_reports_counts_and_model_once_loaded(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["documents"] == 5
    assert body["passages"] > 5
    assert body["model"] == "hashing"


def test_search_returns_grouped_hits_with_offsets_into_the_stored_text(client: TestClient) -> None:
    response = client.post("/search", json={"query": "demonstrators injured by live bullets"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "demonstrators injured by live bullets"
    groups = {group["doc_id"]: group for group in body["by_source"]}
    assert {"000_487d20731cd06fa7", "001_f41bc6fbf25c952a", "002_811ad477ead50ed2"} <= set(groups)
    top = groups["001_f41bc6fbf25c952a"]["hits"][0]
    assert "At least 62 demonstrators" in top["text"]
    assert top["source"] == "NBC News" and top["published"] == "2019-12-31"
    stored = client.get("/documents/001_f41bc6fbf25c952a").json()["text"]
    for group in body["by_source"]:
        assert len(group["hits"]) <= 2
        for hit in group["hits"]:
            text = (
                client.get(f"/documents/{hit['doc_id']}").json()["text"]
                if hit["doc_id"] != "001_f41bc6fbf25c952a"
                else stored
            )
            assert text[hit["char_start"] : hit["char_end"]] == hit["text"]
    ranks = [hit["rank"] for hit in body["hits"]]
    assert ranks == sorted(ranks) and len(ranks) <= 10


@pytest.mark.parametrize(
    ("path", "payload", "model"),
    [
        ("/search", {"query": "demonstrators injured by live bullets"}, "SearchResponse"),
        ("/ask", {"question": "How many were injured?"}, "AskResponse"),
        ("/ask", {"question": "Who is the White House press secretary?"}, "AskResponse"),
    ],
)
def test_search_and_ask_bodies_match_the_published_schema(
    client: TestClient, path: str, payload: dict, model: str
) -> None:
    # The bodies are built as plain data for speed; the shapes /openapi.json publishes must
    # still describe them exactly: every field present, of its declared type, and nothing else.
    from pydantic import TypeAdapter

    import api.models

    body = client.post(path, json=payload).json()
    shape = getattr(api.models, model)
    assert TypeAdapter(shape).validate_python(body, strict=True) == body
    assert set(body) == set(shape.__annotations__)


def test_search_respects_k_per_source_mode_and_filters(client: TestClient) -> None:
    body = client.post(
        "/search",
        json={
            "query": "protesters stormed the embassy",
            "k": 3,
            "per_source": 1,
            "mode": "lexical",
            "filters": {"sources": ["NBC News"], "published_from": "2019-12-31"},
        },
    ).json()
    assert len(body["hits"]) == 3
    assert {group["doc_id"] for group in body["by_source"]} == {
        "000_487d20731cd06fa7",
        "001_f41bc6fbf25c952a",
    }
    assert all(len(group["hits"]) == 1 for group in body["by_source"])
    empty = client.post(
        "/search", json={"query": "embassy", "filters": {"published_to": "2019-01-01"}}
    ).json()
    assert empty["hits"] == [] and empty["by_source"] == []


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"query": ""}, "'query' is empty"),
        ({"query": "   \n"}, "'query' is empty"),
        ({"query": "x" * 5000}, "limit is 1000"),
        ({"query": "injured", "k": 0}, "'k' must be between 1 and 100"),
        ({"query": "injured", "k": -1}, "'k' must be between 1 and 100"),
        ({"query": "injured", "k": 10**9}, "'k' must be between 1 and 100"),
        ({"query": "injured", "k": "5"}, "k: Input should be a valid integer"),
        ({"query": "injured", "mode": "fuzzy"}, "mode: Input should be"),
        ({"query": "injured", "filters": {"outlet": "x"}}, "filters.outlet: Extra inputs"),
        ({"query": "injured", "filters": {"published_from": "31/12/2019"}}, "published_from"),
        ({"question": "injured"}, "query: Field required"),
    ],
)
def test_bad_search_requests_get_a_422_that_says_what_is_wrong(
    client: TestClient, payload: dict, fragment: str
) -> None:
    response = client.post("/search", json=payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert fragment in error["message"]
    assert "Traceback" not in response.text


def test_invalid_json_is_a_422_not_a_500(client: TestClient) -> None:
    response = client.post(
        "/search", content=b'{"query": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["error"]["message"]


def test_ingest_update_delete_round_trip(client: TestClient) -> None:
    doc = {
        "id": "wire-1",
        "source": "Wire",
        "title": "Quake",
        "published": "2020-01-02",
        "text": "An earthquake shook the coastal town of Palu. Seven buildings collapsed.",
    }
    added = client.post("/documents", json={"documents": [doc]}, headers=AUTH).json()
    assert added["added"] == ["wire-1"] and added["counts"]["added"] == 1
    assert added["passages"] >= 1
    found = client.post("/search", json={"query": "earthquake Palu buildings"}).json()
    assert found["hits"][0]["doc_id"] == "wire-1"

    again = client.post("/documents", json={"documents": [doc]}, headers=AUTH).json()
    assert again["unchanged"] == ["wire-1"] and again["passages"] == 0

    changed = dict(doc, text="A flood covered the valley of Arno. Nobody was hurt.")
    replaced = client.post("/documents", json={"documents": [changed]}, headers=AUTH).json()
    assert replaced["replaced"] == ["wire-1"]
    stored = client.get("/documents/wire-1").json()
    assert stored["text"] == changed["text"]
    assert [p["text"] for p in stored["passages"]] == [changed["text"]]
    old = client.post("/search", json={"query": "earthquake Palu", "mode": "lexical"}).json()
    assert all(hit["doc_id"] != "wire-1" for hit in old["hits"])

    listing = client.get("/documents").json()
    assert listing["total"] == 6
    assert {
        "id": "wire-1",
        "source": "Wire",
        "title": "Quake",
        "published": "2020-01-02",
        "passages": 1,
    } in listing["documents"]

    assert client.delete("/documents/wire-1", headers=AUTH).json() == {"deleted": "wire-1"}
    assert client.get("/documents/wire-1").status_code == 404
    assert client.get("/health").json()["documents"] == 5


@pytest.mark.parametrize("left", [[], [{"id": "marks", "text": "?! -- ..."}]])
def test_an_index_with_no_words_left_still_answers(client: TestClient, left: list) -> None:
    """Deleting every article, or all but one without a word, leaves a searchable index."""
    if left:
        client.post("/documents", json={"documents": left}, headers=AUTH).raise_for_status()
    for doc in client.get("/documents").json()["documents"]:
        if doc["id"] != "marks":
            assert client.delete(f"/documents/{doc['id']}", headers=AUTH).status_code == 200
    assert client.get("/health").json()["documents"] == len(left)
    for mode in ("hybrid", "lexical", "dense"):
        found = client.post("/search", json={"query": "injured", "mode": mode})
        assert found.status_code == 200
        assert [hit["doc_id"] for hit in found.json()["hits"] if mode != "dense"] == []
    assert client.post("/ask", json={"question": "How many were injured?"}).json()["answers"] == []


@pytest.mark.parametrize(
    ("documents", "status", "fragment"),
    [
        ([{"id": "a", "text": "  "}], 422, "'text' is empty"),
        ([{"id": "a b", "text": "words"}], 422, "'id' must be"),
        ([{"id": "a", "text": "words", "published": "2020/01/02"}], 422, "1987-03-09T15:01:01Z"),
        ([], 422, "at least 1 item"),
        ([{"id": "a", "text": "x", "byline": "me"}], 422, "Extra inputs"),
        ([{"id": "a", "text": "x", "html": "<p>x</p>"}], 422, "exactly one of"),
        ([{"id": "a"}], 422, "exactly one of"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_stored(
    client: TestClient, documents: list, status: int, fragment: str
) -> None:
    response = client.post("/documents", json={"documents": documents}, headers=AUTH)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert client.get("/health").json()["documents"] == 5


def test_writes_need_the_right_key(client: TestClient) -> None:
    doc = {"documents": [{"id": "x", "text": "words"}]}
    assert client.post("/documents", json=doc).status_code == 401
    wrong = client.post("/documents", json=doc, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    assert client.delete("/documents/000_487d20731cd06fa7").status_code == 401
    assert client.get("/health").json()["documents"] == 5


def test_writes_are_refused_with_a_how_to_when_no_key_is_set(readonly_client: TestClient) -> None:
    response = readonly_client.post(
        "/documents", json={"documents": [{"id": "x", "text": "w"}]}, headers=AUTH
    )
    assert response.status_code == 403
    assert "PARALLAX_API_KEY" in response.json()["error"]["message"]
    assert readonly_client.post("/search", json={"query": "embassy"}).status_code == 200


def test_unknown_document_is_a_404_with_the_id(client: TestClient) -> None:
    response = client.get("/documents/nope")
    assert response.status_code == 404
    assert "'nope'" in response.json()["error"]["message"]
    assert client.delete("/documents/nope", headers=AUTH).status_code == 404


def test_document_view_gives_text_and_passages_that_cover_it(client: TestClient) -> None:
    doc = client.get("/documents/002_811ad477ead50ed2").json()
    assert doc["source"] == "The Hill" and doc["title"] is None
    assert not doc["text"].startswith(" date")
    for passage in doc["passages"]:
        assert doc["text"][passage["char_start"] : passage["char_end"]] == passage["text"]


def test_metrics_and_openapi_are_served(client: TestClient) -> None:
    client.post("/search", json={"query": "embassy"})
    metrics = client.get("/metrics").text
    assert 'handler="/search"' in metrics
    schema = client.get("/openapi.json").json()
    assert {"/search", "/documents", "/documents/{doc_id}", "/health"} <= set(schema["paths"])


def test_health_is_503_with_the_reason_until_the_index_loads(tmp_path: Path) -> None:
    config = Settings(data_dir=tmp_path, seeds_dir=tmp_path / "missing", embedder="hashing")
    with TestClient(create_app(config)) as client:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            response = client.get("/health")
            if response.json()["status"] == "error":
                break
            assert response.status_code == 503
            time.sleep(0.05)
        assert response.status_code == 503
        assert "no .txt articles" in response.json()["reason"]
        search = client.post("/search", json={"query": "x"})
        assert search.status_code == 503
        assert search.json()["error"]["code"] == "not_ready"


def test_a_thousand_documents_in_one_post_are_searchable_at_once(client: TestClient) -> None:
    documents = [
        {"id": f"b{n}", "source": "Wire", "text": f"Bulletin {n}: the ferry harbour{n} closed."}
        for n in range(1000)
    ]
    response = client.post("/documents", json={"documents": documents}, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["counts"]["added"] == 1000
    assert client.get("/health").json()["documents"] == 1005
    found = client.post("/search", json={"query": "harbour512", "mode": "lexical", "k": 1})
    assert found.json()["hits"][0]["doc_id"] == "b512"
    too_many = client.post(
        "/documents", json={"documents": documents + documents[:1]}, headers=AUTH
    )
    assert too_many.status_code == 422
    assert "limit is 1000" in too_many.json()["error"]["message"]


def test_an_id_sent_twice_in_one_batch_is_stored_as_its_last_copy(client: TestClient) -> None:
    batch = [
        {"id": "twice", "text": "The first copy says ten were hurt."},
        {"id": "twice", "text": "The second copy says twelve were hurt."},
    ]
    response = client.post("/documents", json={"documents": batch}, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["added"] == ["twice"]
    assert client.get("/documents/twice").json()["text"] == batch[1]["text"]


def test_a_wrong_method_gets_405_with_every_method_the_path_allows(client: TestClient) -> None:
    response = client.request("PUT", "/documents/some-id")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET"
    assert response.json()["error"]["code"] == "method_not_allowed"
