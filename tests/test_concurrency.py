"""Searches and ingests at the same time never crash, never 5xx, and every hit resolves;
a burst of concurrent queries returns exactly what the same queries return one by one."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from helpers import AUTH, KEY, SEEDS, serve_app

DURATION = 5.0  # seconds of mixed load
MAX_SEARCHES = 400  # per search thread
MAX_WRITES = 150
SEARCH_THREADS = 4

QUERIES = [
    "How many were injured?",
    "protesters stormed the embassy",
    "What did Trump say about Iran?",
    "harbour council storm damage",
    "Who was killed in the airstrikes?",
    "ferry passengers rescued",
    "When did the protest start?",
    "tear gas live bullets",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real uvicorn server in a thread on 127.0.0.1, the seeds indexed with hashing vectors."""
    settings = Settings(
        data_dir=tmp_path, seeds_dir=SEEDS, embedder="hashing", api_key=KEY, max_in_flight=64
    )
    running = serve_app(create_app(settings))
    try:
        yield running.url
    finally:
        running.stop()


@dataclass
class Published:
    """Every version of every document the index has held: texts and passages."""

    texts: dict[str, set[str]] = field(default_factory=dict)
    passages: set[tuple[str, int, int, str]] = field(default_factory=set)

    def record(self, document: dict[str, Any]) -> None:
        self.texts.setdefault(document["id"], set()).add(document["text"])
        self.passages.update(
            (p["passage_id"], p["char_start"], p["char_end"], p["text"])
            for p in document["passages"]
        )


def _article(rng: random.Random, doc_id: str) -> dict[str, Any]:
    injured = rng.randint(2, 90)
    sentences = [
        f"At least {injured} people were injured when a storm hit the harbour, the council said.",
        f"Ferry passengers were rescued by {rng.randint(3, 40)} volunteers before dawn.",
    ] + [
        f"Officials said the {rng.choice(['bridge', 'pier', 'market'])} would reopen "
        f"in {rng.randint(2, 30)} days, according to spokesperson {n}."
        for n in range(rng.randint(0, 25))
    ]
    return {
        "id": doc_id,
        "text": " ".join(sentences),
        "source": rng.choice(["Harbour Herald", "Coast News", None]),
        "title": "Storm at the harbour",
        "published": f"2020-01-{rng.randint(1, 28):02d}",
    }


def _write(url: str, stop: threading.Event, published: Published, failures: list[str]) -> None:
    """Add new documents, replace the text of existing ones, delete some; record each version."""
    rng = random.Random(7)
    live: list[str] = []
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
        for serial in range(MAX_WRITES):
            if stop.is_set():
                return
            choice = rng.random()
            if choice < 0.2 and len(live) > 2:
                doc_id = live.pop(rng.randrange(len(live)))
                response = client.delete(f"/documents/{doc_id}")
                changed: list[str] = []
            else:
                batch = [_article(rng, f"storm-{serial}-{n}") for n in range(rng.randint(1, 3))]
                if choice < 0.5 and live:
                    batch.append(_article(rng, rng.choice(live)))  # same id, new text
                response = client.post("/documents", json={"documents": batch})
                changed = [doc["id"] for doc in batch]
                live += [doc_id for doc_id in changed if doc_id not in live]
            if response.status_code != 200:
                failures.append(f"write {serial}: {response.status_code} {response.text}")
                return
            # The only writer: what GET returns now is the version just published.
            for doc_id in changed:
                published.record(client.get(f"/documents/{doc_id}").json())


def _read(
    url: str, seed: int, stop: threading.Event, responses: list[tuple[str, Any, httpx.Response]]
) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(MAX_SEARCHES):
            if stop.is_set():
                return
            query = rng.choice(QUERIES)
            mode = rng.choice(["hybrid", "dense", "lexical"])
            if rng.random() < 0.3:
                payload: dict[str, Any] = {"question": query, "mode": mode}
                path = "/ask"
            else:
                payload = {"query": query, "mode": mode, "k": rng.randint(1, 30)}
                path = "/search"
            if rng.random() < 0.2:
                payload["filters"] = {"published_from": "2019-12-31"}
            responses.append((path, payload, client.post(path, json=payload)))


def _unresolved(body: dict[str, Any], published: Published) -> list[str]:
    """The hits and citations of one response that are not a published passage."""
    hits = list(body["hits"])
    hits += [hit for group in body.get("by_source", []) for hit in group["hits"]]
    problems = []
    for hit in hits:
        key = (hit["passage_id"], hit["char_start"], hit["char_end"], hit["text"])
        if hit["passage_id"].rsplit("#", 1)[0] != hit["doc_id"] or key not in published.passages:
            problems.append(f"hit {key[:3]} of {hit['doc_id']} is no published passage")
    for answer in body.get("answers", []):
        citation = answer["citation"]
        if not any(
            text[citation["char_start"] : citation["char_end"]] == answer["sentence"]
            and text[citation["answer_start"] : citation["answer_end"]] == answer["answer"]
            for text in published.texts.get(answer["doc_id"], ())
        ):
            problems.append(f"answer {answer['answer']!r} of {answer['doc_id']} does not resolve")
    return problems


def test_searches_during_ingest_never_fail_and_every_hit_resolves(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    published = Published()
    with httpx.Client(base_url=server, timeout=30) as client:
        for doc in client.get("/documents").json()["documents"]:
            published.record(client.get(f"/documents/{doc['id']}").json())

    stop = threading.Event()
    failures: list[str] = []
    responses: list[tuple[str, Any, httpx.Response]] = []
    threads = [threading.Thread(target=_write, args=(server, stop, published, failures))]
    threads += [
        threading.Thread(target=_read, args=(server, seed, stop, responses))
        for seed in range(SEARCH_THREADS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(DURATION)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert failures == []
    bad = [(path, payload, r.status_code, r.text) for path, payload, r in responses if r.is_error]
    assert bad == []
    problems = [p for _, _, r in responses for p in _unresolved(r.json(), published)]
    assert problems == []
    # The load was real: many reads, and the index changed many times under them.
    assert len(responses) >= 100
    assert len(published.texts) >= 5 + 10
    assert sum(1 for _, _, r in responses if r.json()["hits"]) >= len(responses) // 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []

    # Afterwards the index is still consistent: counts agree and every passage resolves.
    with httpx.Client(base_url=server, timeout=30) as client:
        health = client.get("/health").json()
        listing = client.get("/documents", params={"limit": 1000}).json()
        assert health["documents"] == listing["total"] == len(listing["documents"])
        assert health["passages"] == sum(doc["passages"] for doc in listing["documents"])
        for summary in listing["documents"]:
            doc = client.get(f"/documents/{summary['id']}").json()
            for p in doc["passages"]:
                assert doc["text"][p["char_start"] : p["char_end"]] == p["text"]


# 16 queries across the modes and a range of k, all in flight at once.
BURST = [
    {
        "query": QUERIES[n % len(QUERIES)],
        "mode": ("hybrid", "dense", "lexical")[n % 3],
        "k": (5, 10, 20, 50, 100, 3)[n % 6],
    }
    for n in range(16)
]


def _ranking(body: dict[str, Any]) -> list[Any]:
    """What a search returns apart from its timing."""
    return [
        [(hit["passage_id"], hit["score"], hit["rank"]) for hit in body["hits"]],
        [
            (group["doc_id"], [(hit["passage_id"], hit["score"]) for hit in group["hits"]])
            for group in body["by_source"]
        ],
    ]


def test_a_burst_of_concurrent_queries_returns_what_sequential_ones_do(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        # One new document so the burst also covers an index that changed after the build.
        article = _article(random.Random(3), "burst-1")
        assert client.post("/documents", json={"documents": [article]}, headers=AUTH).is_success
        sequential = [client.post("/search", json=payload) for payload in BURST]
    assert all(r.status_code == 200 for r in sequential)
    expected = [_ranking(r.json()) for r in sequential]
    assert sum(1 for ranking in expected if ranking[0]) >= 12  # most queries find something

    barrier = threading.Barrier(len(BURST), timeout=30)

    def one(payload: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=server, timeout=30) as client:
            barrier.wait()
            return client.post("/search", json=payload)

    for _ in range(3):
        with ThreadPoolExecutor(max_workers=len(BURST)) as pool:
            concurrent = list(pool.map(one, BURST))
        assert [r.status_code for r in concurrent] == [200] * len(BURST)
        assert [_ranking(r.json()) for r in concurrent] == expected
