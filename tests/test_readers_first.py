"""Readers first while writing: a server whose index was grown in several large segments
answers every search and every one-document write within seconds while the writes stream
in and background merges fold its segments (`parallax bench`'s search-while-ingesting
phase once went 30 s without an answer)."""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from helpers import AUTH, KEY, SEEDS, serve_app
from index.documents import Document
from index.embed import HashingEmbedder
from index.live import Chunking, open_index

ANSWER_WITHIN_S = 5.0  # every request, read or write
WRITES = 40  # one-document writes, at most
SECONDS = 6.0  # of writing, at most
SEGMENTS = 8  # large segments the index is grown in before the server starts
MERGES = {"merge_factor": 3, "merge_floor": 40}


def _article(rng: random.Random, doc_id: str) -> Document:
    sentences = [
        f"Shipping rates rose {rng.randint(2, 40)} percent this week, the port of "
        f"{rng.choice(['Velmar', 'Lorn', 'Karvia'])} said on {rng.choice(['Monday', 'Friday'])}.",
    ] + [
        f"Dock workers unloaded {rng.randint(10, 900)} containers at berth {n}, "
        f"according to harbour master {rng.choice(['Moe', 'Kross', 'Brandt'])}."
        for n in range(rng.randint(4, 30))
    ]
    return Document(
        id=doc_id,
        text=" ".join(sentences),
        source=rng.choice(["Harbour News", "Coastal Times", "Wire"]),
        title="Shipping rates",
        published=f"2021-05-{rng.randint(1, 28):02d}",
    )


def test_searches_and_writes_are_answered_within_seconds_while_segments_merge(
    tmp_path: Path,
) -> None:
    rng = random.Random(29)
    live = open_index(tmp_path / "index", HashingEmbedder(), Chunking(), seed=None)
    for batch in range(SEGMENTS):
        live.upsert([_article(rng, f"grown-{batch}-{n}") for n in range(12)])
    assert len(live.corpus.segments) == SEGMENTS
    del live

    settings = Settings(
        data_dir=tmp_path,
        seeds_dir=SEEDS,
        embedder="hashing",
        api_key=KEY,
        max_in_flight=64,
        # Writes at the searches' priority: this test counts the writes done in a few
        # seconds, which a lowered writer on a busy CI machine would not reach
        # (`test_a_servers_writes_run_below_its_searches` covers the lowering).
        write_niceness=0,
        **MERGES,
    )
    app = create_app(settings)
    server = serve_app(app)
    failures: list[str] = []
    searches: list[float] = []
    writes: list[float] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=ANSWER_WITHIN_S) as client:
            until = time.monotonic() + SECONDS
            for n in range(WRITES):
                if time.monotonic() > until:
                    break
                article = {"id": f"stream-{n}", "text": f"Wire update {n}: rates rose {n} pct."}
                began = time.perf_counter()
                try:
                    response = client.post("/documents", json={"documents": [article]})
                    if response.status_code != 200:
                        failures.append(f"write {n}: {response.status_code} {response.text}")
                except httpx.HTTPError as exc:
                    failures.append(f"write {n}: {type(exc).__name__} {exc}")
                writes.append(time.perf_counter() - began)
        stop.set()

    def read() -> None:
        with httpx.Client(base_url=server.url, timeout=ANSWER_WITHIN_S) as client:
            n = 0
            while not stop.is_set():
                payload: dict[str, Any] = {"query": f"shipping rates berth {n % 30}"}
                began = time.perf_counter()
                try:
                    response = client.post("/search", json=payload)
                    if response.status_code != 200:
                        failures.append(f"search {n}: {response.status_code} {response.text}")
                except httpx.HTTPError as exc:
                    failures.append(f"search {n}: {type(exc).__name__} {exc}")
                searches.append(time.perf_counter() - began)
                n += 1

    try:
        threads = [threading.Thread(target=write), threading.Thread(target=read)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 4 * ANSWER_WITHIN_S)
        assert not any(thread.is_alive() for thread in threads)
        live_index = app.state.parallax.live
        live_index.wait_for_merges()
        segments = len(live_index.corpus.segments)
    finally:
        stop.set()
        server.stop()

    assert failures == []
    assert len(writes) >= 10 and len(searches) >= 20
    assert max(searches) < ANSWER_WITHIN_S and max(writes) < ANSWER_WITHIN_S
    # The load did fold segments while it ran: the large ones and the writes' own.
    assert segments < SEGMENTS + len(writes) - 5


def test_a_write_steps_aside_until_the_searches_in_flight_finish_but_never_for_long() -> None:
    from index.priority import Readers

    readers = Readers(step_aside_s=2.0)
    began = time.perf_counter()
    readers.step_aside()  # nobody reads: no wait
    assert time.perf_counter() - began < 0.05

    searching = threading.Event()

    def search() -> None:
        with readers.reading():
            searching.set()
            time.sleep(0.2)

    reader = threading.Thread(target=search)
    reader.start()
    searching.wait()
    began = time.perf_counter()
    readers.step_aside()  # goes on as the search ends, not after its whole budget
    waited = time.perf_counter() - began
    reader.join()
    assert 0.1 < waited < 1.0

    short = Readers(step_aside_s=0.05)
    with short.reading():  # a search that outlasts the budget does not hold a write back
        began = time.perf_counter()
        short.step_aside()
        assert 0.04 < time.perf_counter() - began < 0.5


def test_a_servers_writes_run_below_its_searches(tmp_path: Path) -> None:
    """POST /documents parses and writes on the index's write thread at `write_niceness`
    above the server's own nice value; searches keep the server's priority."""
    from helpers import app_client, wait_ready
    from index.priority import LOWEST_PRIORITY, thread_niceness

    if sys.platform != "linux":
        pytest.skip("threads have nice values of their own on Linux only")
    base = thread_niceness()
    for client in app_client(tmp_path, api_key=KEY, write_niceness=7):
        wait_ready(client)
        state = client.app.state.parallax  # type: ignore[attr-defined]
        live, embedder = state.live, state.embedder
        seen: dict[str, list[int]] = {"write": [], "search": []}
        live.upsert = _recording(seen["write"], live.upsert)
        embedder.encode = _recording(seen["search"], embedder.encode)
        quay = {"id": "quay-1", "source": "Harbour News", "text": "Dock workers struck on Monday."}
        written = client.post("/documents", json={"documents": [quay]}, headers=AUTH)
        assert written.status_code == 200, written.text
        assert seen["write"] == [min(LOWEST_PRIORITY, base + 7)]
        seen["search"].clear()  # the write encoded its passages on its own thread
        assert client.post("/search", json={"query": "dock workers"}).status_code == 200
        assert seen["search"] == [base]
        assert client.delete("/documents/quay-1", headers=AUTH).status_code == 200


def _recording(niceness: list[int], work: Any) -> Any:
    """`work`, noting the nice value of the thread each call runs on."""
    from index.priority import thread_niceness

    def recorded(*args: Any, **kwargs: Any) -> Any:
        niceness.append(thread_niceness())
        return work(*args, **kwargs)

    return recorded


def test_background_work_is_lowered_once_whoever_starts_it() -> None:
    """A merge thread started by the (lowered) write thread lowers itself to the same
    level, not twice as low."""
    from index.priority import LOWEST_PRIORITY, lower_priority, thread_niceness

    if sys.platform != "linux":
        pytest.skip("threads have nice values of their own on Linux only")
    wanted = min(LOWEST_PRIORITY, thread_niceness() + 4)
    seen: list[int] = []

    def merge() -> None:
        lower_priority(4)
        seen.append(thread_niceness())

    def write() -> None:
        lower_priority(4)
        seen.append(thread_niceness())
        started = threading.Thread(target=merge)
        started.start()
        started.join()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    assert seen == [wanted, wanted]


def test_a_closed_index_refuses_background_work_with_a_503_error(tmp_path: Path) -> None:
    from index.errors import NotReady

    live = open_index(tmp_path / "index", HashingEmbedder(), Chunking())
    assert live.in_background(lambda: 42).result() == 42
    live.close()
    with pytest.raises(NotReady, match="shutting down"):
        live.in_background(lambda: 42)
    assert live.warm_stories() >= 0  # a warm-up after closing does nothing, quickly
