"""Merges: small segments fold into one, searches see the same index before and after,
writes during a merge are kept, and a crash mid-merge leaves the previous index whole."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from index.documents import Document
from index.embed import HashingEmbedder
from index.live import Chunking, LiveIndex, open_index
from index.merge import MergePolicy, pick_merge
from index.store import MANIFEST
from search.engine import SearchOptions, search

SMALL = MergePolicy(factor=3, floor=10)
QUERIES = ("embassy protesters injured", "report number 4 about otters", "tear gas")


def _note(n: int) -> Document:
    return Document(
        id=f"note-{n}",
        text=f"Report number {n} about otters in the harbour. Keepers counted {n + 3} otters.",
        source=f"Desk {n % 3}",
        published=f"2021-03-{n + 1:02d}",
    )


def _small_writes(live: LiveIndex, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        live.upsert([_note(n)])


def _results(live: LiveIndex) -> list[list[tuple[str, str]]]:
    found = []
    for query in QUERIES:
        for mode in ("dense", "lexical", "hybrid"):
            result = search(live.corpus, live.embedder, query, SearchOptions(k=8, mode=mode))
            found.append([(h.document.id, h.passage.passage_id) for h in result.hits])
    return found


@pytest.fixture
def live(hashing_index: LiveIndex) -> LiveIndex:
    hashing_index.merge_policy = SMALL
    return hashing_index


def test_neighbouring_small_segments_fold_into_one_and_search_is_unchanged(
    live: LiveIndex,
) -> None:
    _small_writes(live, 3)
    before = live.corpus
    assert [s.name for s in before.segments][1:] == [
        "segment-000002",
        "segment-000003",
        "segment-000004",
    ]
    expected = _results(live)
    assert live.merge()
    after = live.corpus
    assert [s.name for s in after.segments] == ["segment-000001", "segment-000002-000004"]
    assert list(after.documents) == list(before.documents)
    assert after.passages == before.passages
    assert np.array_equal(np.asarray(after.vectors), np.asarray(before.vectors))
    assert np.array_equal(np.asarray(after.sentence_vectors), np.asarray(before.sentence_vectors))
    assert _results(live) == expected
    assert not live.merge()  # nothing left to fold
    # On disk: the folded segments are gone, and a restart sees the merged index.
    names = sorted(p.name for p in live.store.directory.iterdir() if p.is_dir())
    assert names == ["segment-000001", "segment-000002-000004"]
    reopened = open_index(live.store.directory, HashingEmbedder(), Chunking())
    assert list(reopened.corpus.documents) == list(before.documents)
    assert _results(reopened) == expected


def test_a_merge_drops_dead_passages_and_keeps_the_documents_order(live: LiveIndex) -> None:
    live.upsert([_note(0), _note(1), _note(2)])  # one segment of three
    _small_writes(live, 2, start=3)
    live.delete("note-1")
    live.upsert([Document(id="note-0", text="Report number 0 was withdrawn and rewritten.")])
    assert live.corpus.dead  # tombstones before the merge
    order = list(live.corpus.documents)
    expected = _results(live)
    while live.merge():
        pass
    corpus = live.corpus
    assert list(corpus.documents) == order
    assert "note-1" not in corpus.documents
    assert corpus.documents["note-0"].text.startswith("Report number 0 was withdrawn")
    merged = corpus.segments[-1]
    assert set(merged.documents) <= set(order) and "note-1" not in merged.documents
    assert _results(live) == expected


def test_writes_during_a_merge_are_kept(live: LiveIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    _small_writes(live, 3)
    real_write = live.store.write_segment
    during = {"done": False}

    def write_then_change(segment, story_of):  # type: ignore[no-untyped-def]
        written = real_write(segment, story_of)
        if not during["done"]:  # while the merged segment waits to be published
            during["done"] = True
            live.delete("note-1")
            live.upsert([_note(10)])
        return written

    monkeypatch.setattr(live.store, "write_segment", write_then_change)
    assert live.merge()
    corpus = live.corpus
    assert "note-1" not in corpus.documents
    assert "note-10" in corpus.documents
    assert all(p.doc_id != "note-1" for p in corpus.passages)
    reopened = open_index(live.store.directory, HashingEmbedder(), Chunking())
    assert list(reopened.corpus.documents) == list(corpus.documents)
    assert reopened.corpus.passages == corpus.passages


def test_a_crash_before_the_merge_is_published_leaves_the_index_as_it_was(
    live: LiveIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_writes(live, 3)
    before = live.corpus
    directory = live.store.directory
    real_replace = os.replace

    def crash_at_manifest(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == MANIFEST:
            raise OSError("simulated crash while publishing the merge")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_at_manifest)
    with pytest.raises(OSError, match="simulated crash"):
        live.merge()
    monkeypatch.undo()
    assert live.corpus is before
    reopened = open_index(directory, HashingEmbedder(), Chunking())
    assert [s.name for s in reopened.corpus.segments] == [s.name for s in before.segments]
    assert reopened.corpus.passages == before.passages
    # The merged folder no manifest names is removed by the next save.
    assert (directory / "segment-000002-000004").is_dir()
    reopened.upsert([_note(20)])
    assert not (directory / "segment-000002-000004").exists()


def test_the_policy_folds_neighbours_of_one_level_and_rewrites_mostly_dead_segments(
    live: LiveIndex,
) -> None:
    _small_writes(live, 2)
    corpus = live.corpus
    # The seed segment (over the floor of 10 passages) is a level above the notes.
    assert pick_merge(corpus.segments, corpus.dead, SMALL) == []
    live.delete("note-0")
    corpus = live.corpus
    # "note-0"'s segment is all dead: it was dropped, not kept as a husk.
    assert "segment-000002" not in [s.name for s in corpus.segments]
    big = corpus.segments[0]
    dead = frozenset(list(big.documents)[:3])
    assert pick_merge(corpus.segments, {big.name: dead}, SMALL) == [big.name]


def test_a_server_merges_in_the_background(tmp_path: Path, seed_documents: list) -> None:
    live = open_index(
        tmp_path / "index", HashingEmbedder(), Chunking(), seed_documents, background_merges=True
    )
    live.merge_policy = SMALL
    _small_writes(live, 6)
    live.wait_for_merges()
    assert len(live.corpus.segments) <= 3
    assert {f"note-{n}" for n in range(6)} <= set(live.corpus.documents)


def test_a_segment_rewritten_alone_takes_a_new_name_and_reloads(live: LiveIndex) -> None:
    live.upsert([_note(n) for n in range(4)])  # one segment of four
    live.merge_policy = MergePolicy(factor=50, floor=10)  # no neighbours fold: only rewrites
    live.delete("note-0")
    live.delete("note-1")  # half of it dead: over the 30% a segment is rewritten at
    before = [s.name for s in live.corpus.segments]
    assert live.merge()
    after = [s.name for s in live.corpus.segments]
    assert after[0] == before[0] and after[1] not in before
    assert after[1].startswith("segment-000002-")
    assert not live.corpus.dead
    reopened = open_index(live.store.directory, HashingEmbedder(), Chunking())
    assert list(reopened.corpus.documents) == list(live.corpus.documents)
    assert {"note-2", "note-3"} <= set(reopened.corpus.documents)


def test_a_write_during_a_merge_neither_removes_nor_rewrites_its_segment(
    live: LiveIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_writes(live, 3)
    store = live.store
    real_write = store._write_folder  # what a merge and a save both write folders with
    writes: list[str] = []

    def counted(segment, story_of):  # type: ignore[no-untyped-def]
        writes.append(segment.name)
        real_write(segment, story_of)
        if segment.name == "segment-000002-000004":
            live.upsert([_note(30)])  # saves, and cleans the directory, meanwhile
            assert (store.directory / segment.name / "vectors.npy").is_file()

    monkeypatch.setattr(store, "_write_folder", counted)
    assert live.merge()
    assert writes.count("segment-000002-000004") == 1
    assert (store.directory / "segment-000002-000004").is_dir()
