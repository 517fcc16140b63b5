"""Acknowledged writes survive SIGKILL; a save that fails part-way leaves the previous
generation whole; leftovers of a crash are ignored, then cleaned by the next save."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.store
from evaluation.trials import run_trials
from index.corpus import Corpus
from index.documents import Document
from index.embed import HashingEmbedder
from index.live import Chunking, LiveIndex, open_index
from index.store import MANIFEST

NEW_DOC = Document(
    id="durable-1",
    text="The wombat parade crossed the bridge at noon. "
    + " ".join(f"Marshal {n} counted {n * 7} wombats on the bridge." for n in range(40)),
    source="Durability Desk",
    title="Wombats",
    published="2020-01-02",
)
OTHER_DOC = Document(id="durable-2", text="A second report of the parade, filed later.")


@pytest.mark.slow
def test_no_acknowledged_document_is_lost_when_the_server_is_killed(tmp_path: Path) -> None:
    report = run_trials(20, seed=20200103, workdir=tmp_path, workers=2)
    problems = "\n".join(report.problems[:20])
    assert report.lost == 0, f"{report.summary()}\n{problems}"
    assert report.mismatches == 0, f"{report.summary()}\n{problems}"
    # The kills did land during ingest: requests were cut off and documents acknowledged.
    assert report.trials == 20
    assert report.cut_requests >= 10, report.summary()
    assert report.acknowledged >= 40, report.summary()
    # And the servers merged segments while they wrote (the trials' small merge policy:
    # 7 and 9 of these 20 trials merged in two runs; one killed early merges nothing).
    assert report.merged_trials >= 3, report.summary()


# A save that fails between its files


def _assert_whole(corpus: Corpus, before: Corpus) -> None:
    """`corpus` is exactly `before`, and every passage and vector is of that one generation."""
    assert corpus.generation == before.generation
    assert corpus.documents == before.documents
    assert corpus.passages == before.passages
    assert np.array_equal(corpus.vectors, before.vectors)
    assert np.array_equal(corpus.sentence_vectors, before.sentence_vectors)
    for passage in corpus.passages:
        assert corpus.documents[passage.doc_id].text[passage.char_start : passage.char_end] == (
            passage.text
        )
    embedder = HashingEmbedder()
    assert np.allclose(corpus.vectors, embedder.encode([p.text for p in corpus.passages]))
    sentences = [s for p in corpus.passages for s in p.sentence_texts()]
    # Sentence vectors are stored in 8 bits: a unit vector's components are within 1/254.
    assert np.allclose(corpus.sentence_vectors, embedder.encode(sentences), atol=4e-3)


def _fail_saving_sentences(monkeypatch: pytest.MonkeyPatch) -> None:
    real_save = np.save

    def save(file: Any, array: np.ndarray, *args: Any, **kwargs: Any) -> None:
        if "sentences" in str(getattr(file, "name", file)):
            file.write(b"\x93NUMPY half a header")
            raise OSError("simulated failure while writing the sentence vectors")
        real_save(file, array, *args, **kwargs)

    monkeypatch.setattr(np, "save", save)


def _fail_writing_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    real_line = index.store.document_line
    written = []

    def line(document: Document) -> bytes:
        written.append(document.id)
        if len(written) == 2:  # the second document of the batch
            raise OSError("simulated failure while writing the documents file")
        return real_line(document)

    monkeypatch.setattr(index.store, "document_line", line)


@pytest.mark.parametrize(
    "fail", [_fail_saving_sentences, _fail_writing_documents], ids=["sentences", "documents"]
)
def test_a_save_that_fails_midway_leaves_the_previous_generation_whole(
    hashing_index: LiveIndex, monkeypatch: pytest.MonkeyPatch, fail: Any
) -> None:
    directory = hashing_index.store.directory
    before = hashing_index.corpus
    fail(monkeypatch)
    with pytest.raises(OSError, match="simulated failure"):
        hashing_index.upsert([NEW_DOC, OTHER_DOC])
    monkeypatch.undo()

    # Nothing was published: not in memory, and on disk the manifest still names generation 1.
    assert hashing_index.corpus is before
    assert not list(directory.glob("*.tmp"))
    reopened = open_index(directory, HashingEmbedder(), Chunking())
    _assert_whole(reopened.corpus, before)
    assert NEW_DOC.id not in reopened.corpus.documents
    assert OTHER_DOC.id not in reopened.corpus.documents

    # The next write succeeds over whatever the failed one left, and only its files remain.
    reopened.upsert([NEW_DOC])
    assert sorted(os.listdir(directory)) == [
        MANIFEST,
        "matcher-000001.npz",
        "segment-000001",
        "segment-000002",
        "stories-000002.json",
    ]
    again = open_index(directory, HashingEmbedder(), Chunking())
    _assert_whole(again.corpus, reopened.corpus)
    assert again.corpus.documents[NEW_DOC.id] == NEW_DOC


def test_files_left_by_a_crash_are_ignored_then_cleaned_by_the_next_save(
    hashing_index: LiveIndex,
) -> None:
    directory = hashing_index.store.directory
    before = hashing_index.corpus
    # What SIGKILL leaves in the middle of saving generation 2: its segment folder renamed
    # into place but never named by a manifest (with garbage in it), a merge's half-written
    # folder, a stories file and a manifest never committed.
    (directory / "segment-000002").mkdir()
    (directory / "segment-000002" / "vectors.npy").write_bytes(b"\x93NUMPY garbage")
    (directory / "segment-000001-000002.tmp").mkdir()
    (directory / "stories-000002.json.tmp").write_text('{"next_number": ')
    (directory / f"{MANIFEST}.tmp").write_text('{"format_version": 3, "generation": 2, "mo')

    reopened = open_index(directory, HashingEmbedder(), Chunking())
    _assert_whole(reopened.corpus, before)

    reopened.upsert([NEW_DOC])
    assert sorted(os.listdir(directory)) == [
        MANIFEST,
        "matcher-000001.npz",
        "segment-000001",
        "segment-000002",
        "stories-000002.json",
    ]
    again = open_index(directory, HashingEmbedder(), Chunking())
    assert again.corpus.generation == 2
    assert set(again.corpus.documents) == set(before.documents) | {NEW_DOC.id}
    _assert_whole(again.corpus, reopened.corpus)


def test_a_failure_after_the_commit_never_lets_a_later_write_reuse_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that fails after renaming the manifest (cleanup, directory fsync) has
    committed; the next write must take a new generation, not overwrite that one."""
    from helpers import SEEDS
    from index.documents import load_seeds
    from index.store import IndexStore

    store_module = index.store
    live = open_index(tmp_path / "index", HashingEmbedder(), Chunking(), load_seeds(SEEDS))
    first = Document(id="a", text="Alpha beta gamma delta.")
    second = Document(id="a", text="Zeta theta iota kappa.")
    real_fsync = store_module._fsync_dir
    calls = {"n": 0}

    def failing_fsync(directory: Path) -> None:
        calls["n"] += 1
        real_fsync(directory)
        if calls["n"] == 4:  # the segment's folder, the directory, the stories, the manifest
            raise OSError("disk went away after the manifest rename")

    monkeypatch.setattr(store_module, "_fsync_dir", failing_fsync)
    with pytest.raises(OSError):
        live.upsert([first])
    monkeypatch.setattr(store_module, "_fsync_dir", real_fsync)
    committed = IndexStore(tmp_path / "index").read_manifest().generation
    live.upsert([second])
    assert live.corpus.generation == committed + 1
    loaded = IndexStore(tmp_path / "index").load("hashing", 384)
    assert loaded.documents["a"].text == second.text
    passage = loaded.passages_of("a")[0]
    vector = HashingEmbedder().encode([passage.text])[0]
    row = loaded.rows_of("a").start
    assert np.allclose(loaded.vectors[row], vector, atol=1e-6)
