"""A segment read from disk parses no document until one is asked for, gives the same
passages and documents as the segment written, and an index of the previous format (3)
still loads, takes writes, and is rewritten in the current one by a merge."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import orjson
import pytest

from index.columns import Columns, DocumentFile
from index.documents import Document
from index.live import LiveIndex, open_index
from index.merge import MergePolicy
from index.quantize import Int8Rows
from index.store import FORMAT_VERSION, MANIFEST, IndexStore
from search.engine import SearchOptions, group_by_source, rank, rank_to_result, search

QUERIES = ("embassy protesters injured", "tear gas", "who stormed the compound")


def _reopened(live: LiveIndex) -> LiveIndex:
    return open_index(live.store.directory, live.embedder, live.chunking)


def test_a_reopened_segment_reads_documents_only_when_asked(hashing_index: LiveIndex) -> None:
    reopened = _reopened(hashing_index)
    segment = reopened.corpus.segments[0]
    assert isinstance(segment.documents, DocumentFile)
    assert not segment.documents._cache  # opening parsed no document
    result = search(reopened.corpus, reopened.embedder, QUERIES[0], SearchOptions(k=3))
    assert result.hits
    assert 0 < len(segment.documents._cache) <= len(segment.documents)


def test_passages_and_documents_read_back_are_those_written(hashing_index: LiveIndex) -> None:
    written = hashing_index.corpus
    read = _reopened(hashing_index).corpus
    assert list(read.documents) == list(written.documents)
    assert dict(read.documents.items()) == dict(written.documents.items())
    assert list(read.passages) == list(written.passages)
    for passage in read.passages:
        text = read.documents[passage.doc_id].text
        assert text[passage.char_start : passage.char_end] == passage.text
        for start, end in passage.sentences:
            assert passage.char_start <= start < end <= passage.char_end
    assert [read.passages[n] for n in (0, -1)] == [written.passages[0], written.passages[-1]]


def test_the_documents_file_holds_documents_as_a_build_takes_them(
    hashing_index: LiveIndex,
) -> None:
    folder = hashing_index.store.directory / hashing_index.corpus.segments[0].name
    lines = (folder / "documents.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines]
    assert [r["id"] for r in records] == list(hashing_index.corpus.documents)
    assert set(records[0]) == {"id", "text", "source", "title", "published", "url"}


def test_columns_round_trip_and_keep_only_the_documents_alive(hashing_index: LiveIndex) -> None:
    corpus = hashing_index.corpus
    documents = list(corpus.documents.values())
    columns = Columns.of(documents, list(corpus.passages))
    handle = io.BytesIO()
    stories = [corpus.stories.story_of.get(d.id, "") for d in documents]
    columns.save_to(handle, np.arange(len(documents) + 1), stories)
    handle.seek(0)
    path = hashing_index.store.directory.parent / "columns.npz"
    path.write_bytes(handle.getvalue())
    loaded, offsets, read_stories = Columns.load(path)
    assert loaded.ids == columns.ids and read_stories == stories
    assert np.array_equal(loaded.spans, columns.spans)
    assert np.array_equal(loaded.sentence_spans, columns.sentence_spans)
    assert offsets.tolist() == list(range(len(documents) + 1))
    # Keeping every other document is the columns of those documents alone.
    alive = np.arange(len(documents)) % 2 == 0
    kept = [d for d, keep in zip(documents, alive, strict=True) if keep]
    passages = [p for d in kept for p in corpus.passages_of(d.id)]
    joined = Columns.concatenate([(columns, alive)])
    expected = Columns.of(kept, passages)
    assert joined.ids == expected.ids
    assert np.array_equal(joined.spans, expected.spans)
    assert np.array_equal(joined.sentence_counts, expected.sentence_counts)
    assert np.array_equal(joined.published, expected.published)


def test_each_row_names_its_document_without_reading_it(hashing_index: LiveIndex) -> None:
    hashing_index.delete(next(iter(hashing_index.corpus.documents)))
    hashing_index.upsert([Document(id="late", text="A later note on tear gas.", source="X")])
    corpus = hashing_index.corpus
    rows = np.arange(len(corpus.passages))
    assert corpus.document_ids_of(rows) == [p.doc_id for p in corpus.passages]


@pytest.mark.parametrize("k,per_source,max_sources", [(3, 1, 2), (10, 2, 50), (1, 3, 1)])
def test_only_the_hits_shown_are_read_and_they_are_those_of_the_whole_ranking(
    hashing_index: LiveIndex, k: int, per_source: int, max_sources: int
) -> None:
    corpus, embedder = hashing_index.corpus, hashing_index.embedder
    options = SearchOptions(k=k, per_source=per_source, max_sources=max_sources)
    for query in QUERIES:
        ranking = rank(corpus, embedder, query, options)
        result = rank_to_result(corpus, ranking, options)
        every = [
            (corpus.passages[int(row)], float(score))
            for row, score in zip(ranking.rows, ranking.scores, strict=True)
        ]
        assert [(h.passage, h.score, h.rank) for h in result.hits] == [
            (p, s, n) for n, (p, s) in enumerate(every[:k], start=1)
        ]
        shown = [(g.document.id, [h.rank for h in g.hits]) for g in result.by_source]
        expected = group_by_source(list(result.hits), per_source, max_sources)
        assert len(shown) >= len(expected)
        for (doc_id, ranks), group in zip(shown, expected, strict=False):
            assert doc_id == group.document.id
            assert ranks[: len(group.hits)] == [h.rank for h in group.hits]
        for doc_id, ranks in shown:
            assert all(every[r - 1][0].doc_id == doc_id for r in ranks)


def _as_format_3(directory: Path) -> None:
    """Rewrite an index in format 3: documents files holding each document's story and
    passages, float32 sentence vectors, no columns files."""
    store = IndexStore(directory)
    corpus = store.load("hashing", 384)
    manifest = json.loads((directory / MANIFEST).read_text())
    for segment in corpus.segments:
        folder = directory / segment.name
        lines = []
        for doc_id, doc in segment.documents.items():
            rows = segment.rows_of(doc_id)
            record = doc.to_dict()
            record["story"] = corpus.stories.story_of.get(doc_id)
            record["passages"] = [
                [p.char_start, p.char_end, [list(s) for s in p.sentences]]
                for p in segment.passages[rows.start : rows.stop]
            ]
            lines.append(orjson.dumps(record) + b"\n")
        (folder / "documents.jsonl").write_bytes(b"".join(lines))
        (folder / "columns.npz").unlink()
        np.save(folder / "sentences.npy", np.asarray(segment.sentence_vectors, np.float32))
        (folder / "sentence_scales.npy").unlink()
    manifest["format_version"] = 3
    (directory / MANIFEST).write_text(json.dumps(manifest))


def test_an_index_of_format_3_loads_takes_writes_and_is_rewritten_by_a_merge(
    hashing_index: LiveIndex,
) -> None:
    directory = hashing_index.store.directory
    before = hashing_index.corpus
    expected = [
        [h.passage for h in search(before, hashing_index.embedder, q, SearchOptions()).hits]
        for q in QUERIES
    ]
    _as_format_3(directory)
    old = _reopened(hashing_index)
    assert not isinstance(old.corpus.segments[0].documents, DocumentFile)
    assert list(old.corpus.passages) == list(before.passages)
    assert dict(old.corpus.stories.story_of) == dict(before.stories.story_of)
    found = [
        [h.passage for h in search(old.corpus, old.embedder, q, SearchOptions()).hits]
        for q in QUERIES
    ]
    assert found == expected
    old.merge_policy = MergePolicy(factor=2, floor=1000)  # both segments at level 0
    old.upsert([Document(id="late", text="A later note on tear gas.", source="X")])
    while old.merge():
        pass
    assert json.loads((directory / MANIFEST).read_text())["format_version"] == FORMAT_VERSION
    again = _reopened(hashing_index)
    assert len(again.corpus.segments) == 1
    assert isinstance(again.corpus.segments[0].documents, DocumentFile)
    assert list(again.corpus.passages)[: len(before.passages)] == list(before.passages)
    assert again.corpus.documents["late"].source == "X"
    assert isinstance(again.corpus.segments[0].sentence_vectors, Int8Rows)
