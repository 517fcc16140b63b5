"""The on-disk index round-trips exactly, refuses mismatches and damage, and survives a crash;
the live index adds, replaces, skips and deletes documents, and a re-opened index sees it all."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from api.errors import status_of
from index.corpus import Corpus
from index.documents import Document
from index.embed import HashingEmbedder
from index.errors import BadRequest, IndexMismatch, NotFound
from index.live import Chunking, LiveIndex, open_index
from index.store import FORMAT_VERSION, MANIFEST, IndexCorrupt, IndexStore
from index.vectors import VectorOptions
from index.words import tokenize_for_bm25
from search.engine import SearchOptions, search
from search.retrieve import lexical_ranking

NBC_000 = "000_487d20731cd06fa7"
AFTER_ONE_WRITE = [
    MANIFEST,
    "matcher-000001.npz",
    "segment-000001",
    "segment-000002",
    "stories-000002.json",
]
UNKNOWN_003 = "003_ec9ad3d51fc008de"

NEW_DOC = Document(
    id="reuters-2020-01-01",
    text="Quokka sightings rose sharply in Perth on Wednesday.\n\nRangers counted 62 quokkas "
    "near the café, a “record” for the island.",
    source="Reuters",
    title="Quokkas everywhere",
    published="2020-01-01",
    url="https://example.com/quokkas",
)


def _directory(live: LiveIndex) -> Path:
    return live.store.directory


def _manifest(live: LiveIndex) -> dict:
    return json.loads((_directory(live) / MANIFEST).read_text(encoding="utf-8"))


def _lexical_doc_ids(live: LiveIndex, query: str) -> set[str]:
    result = search(live.corpus, live.embedder, query, SearchOptions(k=100, mode="lexical"))
    return {hit.document.id for hit in result.hits}


# IndexStore


def test_save_then_load_round_trips_everything_exactly(hashing_index: LiveIndex) -> None:
    hashing_index.upsert([NEW_DOC])
    saved = hashing_index.corpus
    loaded = IndexStore(_directory(hashing_index)).load("hashing", 384)
    assert list(loaded.documents) == list(saved.documents)
    assert loaded.documents == saved.documents
    assert loaded.documents[NEW_DOC.id] == NEW_DOC
    assert loaded.passages == saved.passages
    assert loaded.vectors.dtype == np.float32
    assert np.array_equal(loaded.vectors, saved.vectors)
    assert loaded.generation == saved.generation == 2
    for passage in loaded.passages:
        doc = loaded.documents[passage.doc_id]
        assert doc.text[passage.char_start : passage.char_end] == passage.text


def test_manifest_describes_the_index(hashing_index: LiveIndex) -> None:
    manifest = _manifest(hashing_index)
    corpus = hashing_index.corpus
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == "hashing"
    assert manifest["dim"] == 384
    assert manifest["documents"] == 5
    assert manifest["passages"] == len(corpus.passages) > 5
    assert manifest["generation"] == corpus.generation == 1
    assert manifest["normalized"] is True
    assert manifest["chunking"] == {"max_tokens": 192, "overlap": 0}
    assert manifest["sentences"] == len(corpus.sentence_vectors) >= manifest["passages"]
    built_at = datetime.fromisoformat(manifest["built_at"])
    assert built_at.tzinfo is not None
    assert manifest["files"] == {"stories": "stories-000001.json", "matcher": "matcher-000001.npz"}
    for name in manifest["files"].values():
        assert (_directory(hashing_index) / name).exists()
    assert manifest["segments"] == [
        {
            "name": "segment-000001",
            "documents": 5,
            "passages": manifest["passages"],
            "sentences": manifest["sentences"],
            "dead": [],
        }
    ]
    assert sorted(os.listdir(_directory(hashing_index) / "segment-000001")) == [
        "columns.npz",
        "documents.jsonl",
        "postings.npz",
        "sentence_scales.npy",
        "sentences.npy",
        "vectors.npy",
    ]


def test_lexical_search_over_several_segments_scores_as_one_index_would(
    hashing_index: LiveIndex,
) -> None:
    hashing_index.upsert([NEW_DOC])
    corpus = hashing_index.corpus
    assert [s.name for s in corpus.segments] == ["segment-000001", "segment-000002"]
    whole = Corpus.of(
        corpus.documents, corpus.passages, corpus.vectors, corpus.sentence_vectors, "x"
    )
    for query in ("embassy protesters", "quokka record", "killed in the airstrikes"):
        tokens = tokenize_for_bm25([query])[0]
        assert np.allclose(corpus.lexical_scores(tokens), whole.lexical_scores(tokens), atol=1e-5)
    reopened = IndexStore(_directory(hashing_index)).load("hashing", 384)
    expected = lexical_ranking(corpus, "embassy", 10)
    assert len(expected.rows) > 0
    assert lexical_ranking(reopened, "embassy", 10).rows.tolist() == expected.rows.tolist()


def test_a_damaged_postings_file_is_rebuilt_and_lexical_search_still_works(
    hashing_index: LiveIndex, caplog: pytest.LogCaptureFixture
) -> None:
    directory = _directory(hashing_index)
    (directory / "segment-000001" / "postings.npz").write_bytes(b"not a zip file")
    reopened = IndexStore(directory).load("hashing", 384)
    assert "rebuilding the BM25 postings" in caplog.text
    expected = lexical_ranking(hashing_index.corpus, "embassy", 10)
    assert lexical_ranking(reopened, "embassy", 10).rows.tolist() == expected.rows.tolist()


def test_loading_for_another_model_names_both_models(hashing_index: LiveIndex) -> None:
    with pytest.raises(IndexMismatch) as caught:
        IndexStore(_directory(hashing_index)).load("all-MiniLM-L6-v2", 384)
    assert "'hashing'" in caught.value.message
    assert "'all-MiniLM-L6-v2'" in caught.value.message
    assert status_of(caught.value) == 503


def test_loading_with_another_dimension_names_both_dimensions(hashing_index: LiveIndex) -> None:
    with pytest.raises(IndexMismatch) as caught:
        open_index(_directory(hashing_index), HashingEmbedder(dim=768), Chunking())
    assert "384" in caught.value.message
    assert "768" in caught.value.message


def test_a_truncated_vectors_file_is_reported_as_corrupt(hashing_index: LiveIndex) -> None:
    vectors = _directory(hashing_index) / "segment-000001" / "vectors.npy"
    data = vectors.read_bytes()
    vectors.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt) as caught:
        open_index(_directory(hashing_index), HashingEmbedder(), Chunking())
    assert status_of(caught.value) == 503
    assert str(_directory(hashing_index)) in caught.value.message


def test_a_missing_documents_file_is_reported_as_corrupt(hashing_index: LiveIndex) -> None:
    (_directory(hashing_index) / "segment-000001" / "documents.jsonl").unlink()
    with pytest.raises(IndexCorrupt) as caught:
        IndexStore(_directory(hashing_index)).load("hashing", 384)
    assert status_of(caught.value) == 503


@pytest.mark.parametrize("field", ["documents", "passages"])
def test_a_manifest_with_wrong_counts_is_reported_as_corrupt(
    hashing_index: LiveIndex, field: str
) -> None:
    manifest = _manifest(hashing_index)
    manifest[field] += 1
    (_directory(hashing_index) / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorrupt) as caught:
        IndexStore(_directory(hashing_index)).load("hashing", 384)
    assert status_of(caught.value) == 503
    assert str(manifest[field]) in caught.value.message


def test_an_unreadable_manifest_is_reported_as_corrupt(hashing_index: LiveIndex) -> None:
    (_directory(hashing_index) / MANIFEST).write_text('{"model": "hash', encoding="utf-8")
    with pytest.raises(IndexCorrupt) as caught:
        IndexStore(_directory(hashing_index)).load("hashing", 384)
    assert "delete" in caught.value.message


def test_a_new_generation_removes_the_old_generations_files(hashing_index: LiveIndex) -> None:
    hashing_index.upsert([NEW_DOC])
    # The write added a segment; the first segment and the matcher state saved with the
    # build stay (the matcher describes the new document again when it is restored).
    assert sorted(os.listdir(_directory(hashing_index))) == AFTER_ONE_WRITE
    assert _manifest(hashing_index)["generation"] == 2


def test_a_crash_before_the_manifest_commit_keeps_the_previous_generation(
    hashing_index: LiveIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _directory(hashing_index)
    before = hashing_index.corpus
    real_replace = os.replace

    def crash_at_manifest(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == MANIFEST:
            # The new generation's data files are on disk; the commit never happens.
            assert (directory / "segment-000002" / "vectors.npy").is_file()
            assert (directory / "segment-000002" / "documents.jsonl").is_file()
            raise OSError("simulated crash while committing the manifest")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_at_manifest)
    with pytest.raises(OSError, match="simulated crash"):
        hashing_index.upsert([NEW_DOC])
    monkeypatch.undo()

    # The failed write was not published in memory ...
    assert hashing_index.corpus is before
    assert NEW_DOC.id not in hashing_index.corpus.documents
    # ... and on disk the previous generation is still whole and loadable.
    assert _manifest(hashing_index)["generation"] == 1
    reopened = open_index(directory, HashingEmbedder(), Chunking())
    assert reopened.corpus.generation == 1
    assert reopened.corpus.documents == before.documents
    assert reopened.corpus.passages == before.passages
    assert np.array_equal(reopened.corpus.vectors, before.vectors)

    # The next write succeeds and leaves only its own generation behind.
    reopened.upsert([NEW_DOC])
    assert sorted(os.listdir(directory)) == AFTER_ONE_WRITE


# LiveIndex


def test_upsert_adds_a_new_document_and_makes_it_searchable(hashing_index: LiveIndex) -> None:
    assert _lexical_doc_ids(hashing_index, "quokka") == set()
    report = hashing_index.upsert([NEW_DOC])
    assert report.added == [NEW_DOC.id]
    assert report.replaced == report.unchanged == []
    assert report.passages == len(hashing_index.corpus.passages_of(NEW_DOC.id)) >= 1
    assert hashing_index.corpus.generation == 2
    assert _lexical_doc_ids(hashing_index, "quokka") == {NEW_DOC.id}


def test_upserting_the_same_document_changes_nothing(
    hashing_index: LiveIndex, seed_documents: list[Document]
) -> None:
    before = hashing_index.corpus
    manifest = _manifest(hashing_index)
    report = hashing_index.upsert([seed_documents[0]])
    assert report.unchanged == [seed_documents[0].id]
    assert report.added == report.replaced == []
    assert report.passages == 0
    assert hashing_index.corpus is before
    assert hashing_index.corpus.generation == 1
    assert _manifest(hashing_index) == manifest


def test_changed_text_replaces_the_old_passages(hashing_index: LiveIndex) -> None:
    old = hashing_index.corpus.documents[UNKNOWN_003]
    # Only 003 speaks of caravans.
    assert _lexical_doc_ids(hashing_index, "caravans") == {UNKNOWN_003}
    changed = replace(old, text="Zebras crossed the green zone at dawn, witnesses said.")
    report = hashing_index.upsert([changed])
    assert report.replaced == [UNKNOWN_003]
    corpus = hashing_index.corpus
    assert corpus.generation == 2
    assert corpus.documents[UNKNOWN_003] == changed
    passages = corpus.passages_of(UNKNOWN_003)
    assert [p.passage_id for p in passages] == [f"{UNKNOWN_003}#0"]
    assert passages[0].text == changed.text
    assert all(p.doc_id == UNKNOWN_003 for p in passages)
    assert sum(p.doc_id == UNKNOWN_003 for p in corpus.passages) == 1
    assert _lexical_doc_ids(hashing_index, "caravans") == set()
    assert _lexical_doc_ids(hashing_index, "zebras") == {UNKNOWN_003}


def test_one_batch_reports_added_replaced_and_unchanged(
    hashing_index: LiveIndex, seed_documents: list[Document]
) -> None:
    same = seed_documents[1]
    changed = replace(seed_documents[2], title="A new title")
    report = hashing_index.upsert([same, changed, NEW_DOC])
    assert report.unchanged == [same.id]
    assert report.replaced == [changed.id]
    assert report.added == [NEW_DOC.id]
    assert hashing_index.corpus.generation == 2
    assert hashing_index.corpus.documents[changed.id].title == "A new title"


def test_delete_removes_the_document_and_its_passages(hashing_index: LiveIndex) -> None:
    assert NBC_000 in _lexical_doc_ids(hashing_index, "embassy")
    hashing_index.delete(NBC_000)
    corpus = hashing_index.corpus
    assert NBC_000 not in corpus.documents
    assert not [p for p in corpus.passages if p.doc_id == NBC_000]
    assert NBC_000 not in _lexical_doc_ids(hashing_index, "embassy")
    assert len(corpus.documents) == 4
    assert corpus.generation == 2


def test_deleting_an_unknown_id_raises_not_found(hashing_index: LiveIndex) -> None:
    with pytest.raises(NotFound) as caught:
        hashing_index.delete("no-such-doc")
    assert status_of(caught.value) == 404
    assert "'no-such-doc'" in caught.value.message
    assert hashing_index.corpus.generation == 1


def test_duplicate_ids_in_one_batch_are_refused(hashing_index: LiveIndex) -> None:
    twin = replace(NEW_DOC, text="Another text under the same id.")
    with pytest.raises(BadRequest) as caught:
        hashing_index.upsert([NEW_DOC, twin])
    assert f"'{NEW_DOC.id}'" in caught.value.message
    assert status_of(caught.value) == 422
    # Nothing of the batch was applied.
    assert NEW_DOC.id not in hashing_index.corpus.documents
    assert hashing_index.corpus.generation == 1


def test_a_reopened_index_sees_every_change(hashing_index: LiveIndex) -> None:
    old = hashing_index.corpus.documents[UNKNOWN_003]
    hashing_index.upsert([NEW_DOC, replace(old, text="Zebras crossed the green zone.")])
    hashing_index.delete(NBC_000)
    reopened = open_index(_directory(hashing_index), HashingEmbedder(), Chunking())
    assert reopened.corpus.generation == hashing_index.corpus.generation == 3
    assert reopened.corpus.documents == hashing_index.corpus.documents
    assert reopened.corpus.passages == hashing_index.corpus.passages
    assert NBC_000 not in reopened.corpus.documents
    assert _lexical_doc_ids(reopened, "quokka") == {NEW_DOC.id}
    assert _lexical_doc_ids(reopened, "zebras") == {UNKNOWN_003}
    assert _lexical_doc_ids(reopened, "caravans") == set()
    # Re-sending a document after a restart is recognised as unchanged.
    assert reopened.upsert([NEW_DOC]).unchanged == [NEW_DOC.id]
    assert reopened.corpus.generation == 3


def test_a_write_tokenizes_and_saves_only_its_own_documents(hashing_index: LiveIndex) -> None:
    before = hashing_index.corpus
    hashing_index.upsert([NEW_DOC])
    hashing_index.delete(NBC_000)
    corpus = hashing_index.corpus
    # The first segment is the same object: nothing of it was rebuilt or copied ...
    assert corpus.segments[0] is before.segments[0]
    assert list(corpus.segments[1].documents) == [NEW_DOC.id]
    # ... the delete is a tombstone in the manifest ...
    entries = {e["name"]: e for e in _manifest(hashing_index)["segments"]}
    assert entries["segment-000001"]["dead"] == [NBC_000]
    assert corpus.dead == {"segment-000001": frozenset({NBC_000})}
    # ... and the rows the search code sees are the live passages only.
    assert all(p.doc_id != NBC_000 for p in corpus.passages)
    assert len(corpus.vectors) == len(corpus.passages)
    for doc_id in corpus.documents:
        rows = corpus.rows_of(doc_id)
        assert [p.doc_id for p in corpus.passages[rows.start : rows.stop]] == [doc_id] * len(rows)


def test_a_large_segments_graph_is_saved_with_it_and_read_back_not_rebuilt(
    hashing_index: LiveIndex, tmp_path: Path
) -> None:
    # The seed segment is "large"; the options are recorded in the manifest.
    corpus = replace(hashing_index.corpus, vector_options=VectorOptions(20, ef_search=64))
    corpus.warm()  # builds its HNSW graph, as a build or a merge does
    store = IndexStore(tmp_path / "copy")
    store.save(corpus, Chunking().as_dict())
    assert (tmp_path / "copy" / "segment-000001" / "graph.faiss").is_file()
    loaded = store.load("hashing", 384)
    assert loaded.vector_options == VectorOptions(20, ef_search=64)
    graph = loaded.segments[0].graph  # read with the segment, not rebuilt
    assert graph is not None and graph.graph.hnsw.efSearch == 64
    query = hashing_index.embedder.encode(["protesters stormed the embassy"])[0]
    assert loaded.nearest(query, 5)[0].tolist() == corpus.nearest(query, 5)[0].tolist()
