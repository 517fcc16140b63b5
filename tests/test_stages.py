"""Ingest's stage split: each stage's own time, inner stages left out, off unless asked."""

from __future__ import annotations

import threading
import time
from contextvars import copy_context

from index.stages import recording, stage


def test_a_stage_counts_its_own_time_without_the_stages_inside_it() -> None:
    with recording() as times:
        with stage("outer"):
            time.sleep(0.02)
            with stage("inner"):
                time.sleep(0.05)
        with stage("inner"):
            time.sleep(0.01)
    assert 0.02 <= times.seconds["outer"] < 0.045
    assert 0.06 <= times.seconds["inner"] < 0.09
    assert set(times.shares(1.0)) == {"outer", "inner"}


def test_stages_run_in_another_thread_with_the_context_count_too() -> None:
    def work() -> None:
        with stage("producer"):
            time.sleep(0.01)

    with recording() as times:
        thread = threading.Thread(target=copy_context().run, args=(work,))
        thread.start()
        with stage("consumer"):
            time.sleep(0.01)
        thread.join()
    assert times.seconds.keys() == {"producer", "consumer"}


def test_nothing_is_recorded_outside_a_recording() -> None:
    with recording() as times:
        pass
    with stage("late"):
        pass
    assert times.seconds == {}


def test_an_ingest_is_split_into_its_stages(tmp_path, seed_documents) -> None:  # type: ignore[no-untyped-def]
    from index.embed import HashingEmbedder
    from index.live import Chunking, open_index

    live = open_index(tmp_path / "index", HashingEmbedder(), Chunking())
    started = time.perf_counter()
    with recording() as times:
        live.upsert(seed_documents)
    whole = time.perf_counter() - started
    assert {
        "sentence splitting",
        "tokenising and chunking",
        "encoding",
        "passage table",
        "BM25",
        "quantising",
        "story placement",
        "snapshot",
        "writing and fsync",
    } <= times.seconds.keys()
    assert 0 < sum(times.seconds.values()) <= whole
