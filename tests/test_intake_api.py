"""Documents as archives deliver them, through POST /documents (hashing embedder, fast):
a saved web page as `html`, publication times with zones, and the refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import AUTH, KEY, app_client, wait_ready

PARAGRAPHS = [
    "Firefighters battled a blaze at a chemical warehouse on the city's east side on "
    "Tuesday night, sending a column of black smoke over the river.",
    "At least 14 people were taken to hospital with breathing problems, the fire "
    "department said in a statement early on Wednesday.",
    "Residents within a mile of the site were told to keep their windows closed until "
    "the air had been tested, officials said.",
    "The cause of the fire was not yet known, and investigators were expected at the "
    "scene once the building had cooled.",
]
PAGE = f"""<!DOCTYPE html>
<html lang="en"><head>
<title>Chemical warehouse fire sends 14 to hospital | The Daily Ledger</title>
<meta property="og:title" content="Chemical warehouse fire sends 14 to hospital">
<meta property="og:site_name" content="The Daily Ledger">
<meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2019-12-31T23:30:00-05:00">
<link rel="canonical" href="https://ledger.example/news/warehouse-fire">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav>
<header><a href="/subscribe">Subscribe for $1</a></header>
<main><article>
<h1>Chemical warehouse fire sends 14 to hospital</h1>
<p class="byline">By Jane Roe</p>
{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Council votes on budget</a></li>
<li><a href="/b">Team wins cup final</a></li></ul></aside></main>
<footer><p>Copyright 2019 The Daily Ledger. All rights reserved.</p>
<a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>
</body></html>"""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    for client in app_client(tmp_path, api_key=KEY):
        wait_ready(client)
        yield client


def _post(client: TestClient, *documents: dict) -> dict:
    response = client.post("/documents", json={"documents": list(documents)}, headers=AUTH)
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_saved_page_is_stored_as_its_article_with_the_page_metadata(client: TestClient) -> None:
    _post(client, {"id": "fire", "html": PAGE})
    stored = client.get("/documents/fire").json()
    assert stored["text"].split("\n\n") == PARAGRAPHS
    assert stored["title"] == "Chemical warehouse fire sends 14 to hospital"
    assert stored["source"] == "The Daily Ledger"
    assert stored["author"] == "Jane Roe"
    assert stored["url"] == "https://ledger.example/news/warehouse-fire"
    # The page's time, with its zone, stored in UTC (the next day there).
    assert stored["published"] == "2020-01-01T04:30:00Z"
    for passage in stored["passages"]:
        assert stored["text"][passage["char_start"] : passage["char_end"]] == passage["text"]
    answer = client.post("/ask", json={"question": "How many people were taken to hospital?"})
    assert any(a["doc_id"] == "fire" for a in answer.json()["answers"])


def test_what_the_request_gives_wins_over_the_page(client: TestClient) -> None:
    _post(
        client,
        {"id": "fire", "html": PAGE, "source": "Ledger", "published": "2019-12-31", "title": "T"},
    )
    stored = client.get("/documents/fire").json()
    assert (stored["source"], stored["published"], stored["title"]) == ("Ledger", "2019-12-31", "T")
    assert stored["author"] == "Jane Roe"


def test_a_page_without_an_article_is_refused_and_nothing_changes(client: TestClient) -> None:
    before = client.get("/health").json()["documents"]
    page = "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></body></html>"
    response = client.post(
        "/documents",
        json={"documents": [{"id": "good", "text": "Words here."}, {"id": "x", "html": page}]},
        headers=AUTH,
    )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "documents[1] (x)" in message and "no article text" in message
    assert client.get("/health").json()["documents"] == before
    assert client.get("/documents/good").status_code == 404


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1987-03-09", "1987-03-09"),
        ("1987-03-09T15:01:01Z", "1987-03-09T15:01:01Z"),
        ("2019-12-31T09:15:00-05:00", "2019-12-31T14:15:00Z"),
        ("2019-12-31T09:15:00.25+01:00", "2019-12-31T08:15:00Z"),
    ],
)
def test_publication_times_are_stored_in_utc(client: TestClient, given: str, stored: str) -> None:
    _post(client, {"id": "t", "text": "The vote was held.", "published": given})
    assert client.get("/documents/t").json()["published"] == stored


@pytest.mark.parametrize(
    "given", ["09/03/1987", "1987-03-09T15:01", "1987-03-09 15:01:01", "1987-02-30"]
)
def test_a_time_that_is_not_iso_8601_is_refused_naming_the_forms(
    client: TestClient, given: str
) -> None:
    response = client.post(
        "/documents",
        json={"documents": [{"id": "t", "text": "Words.", "published": given}]},
        headers=AUTH,
    )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "ISO 8601" in message and "1987-03-09T15:01:01Z" in message and given in message


def test_date_filters_and_stories_keep_working_with_times(client: TestClient) -> None:
    text = "A fire broke out at the chemical warehouse and firefighters fought it all night."
    _post(
        client,
        {"id": "late", "text": text, "published": "2030-01-01T23:59:59Z"},
        {"id": "early", "text": text + " Smoke rose.", "published": "2030-01-01T00:00:00Z"},
        {"id": "next", "text": text + " It is out.", "published": "2030-01-02"},
    )

    def found(filters: dict) -> set[str]:
        body = client.post("/search", json={"query": "chemical warehouse fire", "filters": filters})
        return {group["doc_id"] for group in body.json()["by_source"]}

    assert found({"published_from": "2030-01-01", "published_to": "2030-01-01"}) == {
        "late",
        "early",
    }
    assert found({"published_from": "2030-01-02"}) == {"next"}
    story = client.get("/documents/late").json()
    stories = client.get("/stories").json()["stories"]
    ours = next(s for s in stories if "late" in [d for d in _members(client, s["id"])])
    assert ours["first_published"] == "2030-01-01T00:00:00Z"
    assert ours["last_published"] == "2030-01-02"
    assert story["published"] == "2030-01-01T23:59:59Z"


def _members(client: TestClient, story_id: str) -> list[str]:
    return [d["id"] for d in client.get(f"/stories/{story_id}").json()["documents"]]
