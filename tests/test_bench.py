"""The benchmark's own parts, on small inputs (the full run is `parallax bench`)."""

from __future__ import annotations

import json

from evaluation.bench import bench_ann, reuters_documents


def test_ann_benchmark_reports_recall_against_exact_search_at_each_ef_search() -> None:
    from index.vectors import VECTOR_OPTIONS

    HNSW_EF_SEARCH = VECTOR_OPTIONS.ef_search

    (row,) = bench_ann([3000], queries=20, dim=32, ef_searches=(16,))
    assert row["vectors"] == 3000
    sweep = {point["ef_search"]: point for point in row["hnsw_sweep"]}
    assert set(sweep) == {16, HNSW_EF_SEARCH}
    assert row["hnsw_recall@10"] == sweep[HNSW_EF_SEARCH]["recall@10"]
    # A wider search on the same graph finds at least as much of the exact top 10.
    assert 0 < sweep[16]["recall@10"] <= sweep[HNSW_EF_SEARCH]["recall@10"] <= 1
    assert row["exact_p50_ms"] > 0 and row["hnsw_build_s"] >= 0


def test_reuters_records_become_documents_as_the_archive_holds_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "reuters.jsonl"
    records = [
        {
            "newid": 1,
            "title": "COCOA",
            "date": "26-FEB-1987 15:01:01.79",
            "body": "Showers continued\nthroughout the week.\n",
        },
        {"newid": 2, "title": "EMPTY", "body": "  "},
        {"newid": 3, "title": None, "body": "First paragraph.\n    Second\nparagraph."},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records))
    documents = reuters_documents(path, limit=None)
    assert [d.id for d in documents] == ["r1", "r3"]  # no body: skipped
    # The time of day is kept (the archive's clock, as UTC).
    assert [d.published for d in documents] == ["1987-02-26T15:01:01Z", None]
    # The raw body is posted; the service's intake joins its wraps.
    assert documents[0].text == "Showers continued throughout the week."
    assert documents[1].text == "First paragraph.\n\nSecond paragraph."
    assert len(reuters_documents(path, limit=1)) == 1
    assert [d.id for d in reuters_documents(path, ids={"r3"})] == ["r3"]


def test_sentence_candidate_agreement_compares_with_scoring_every_sentence(
    tmp_path,
    hashing_index,  # type: ignore[no-untyped-def]
) -> None:
    from api.settings import Settings
    from evaluation.bench import sentence_candidate_agreement

    settings = Settings(embedder="hashing", data_dir=tmp_path)
    # Every seed passage is a candidate: the two rankings are the same.
    same = sentence_candidate_agreement(settings, tmp_path, count=5)
    assert same["top10_overlap"] == same["top200_overlap"] == 1.0
    assert same["queries"] > 8 and same["candidates"] == 1000
    # With a single candidate most of the top 200 is lost, and the report says so.
    narrow = sentence_candidate_agreement(settings, tmp_path, count=5, candidates=1)
    assert narrow["top200_overlap"] < 0.5


def test_breakdown_times_each_stage_and_a_one_document_write(tmp_path, hashing_index) -> None:  # type: ignore[no-untyped-def]
    from api.settings import Settings
    from evaluation.bench import breakdown
    from index.store import IndexStore

    stages = breakdown(Settings(embedder="hashing", data_dir=tmp_path), tmp_path)
    assert set(stages) == {
        "encode",
        "retrieve",
        "fuse",
        "group",
        "serialise",
        "choose_story",
        "extract",
        "ask_total",
        "story_matcher_build",
        "write_one_document",
    }
    assert all(value > 0 for value in stages.values())
    # The writes went through the real path: they are saved in the index on disk.
    saved = IndexStore(tmp_path / "index").load(hashing_index.corpus.model, 384)
    assert {f"bench-write-{n}" for n in range(3)} <= set(saved.documents)
    assert {f"bench-write-{n}" for n in range(3)} <= set(saved.stories.story_of)


def test_a_replicated_archive_holds_renamed_copies_and_takes_writes(
    tmp_path, hashing_index
) -> None:  # type: ignore[no-untyped-def]
    from api.settings import Settings
    from evaluation.scale import replicate, write_latency
    from index.store import IndexStore

    source = hashing_index.store.directory
    passages = replicate(source, tmp_path / "archive" / "index", 3, "hashing", 384)
    assert passages == 3 * len(hashing_index.corpus.passages)
    copy = IndexStore(tmp_path / "archive" / "index").load("hashing", 384)
    seed_ids = list(hashing_index.corpus.documents)
    assert list(copy.documents) == seed_ids + [f"{i}~{n}" for n in (1, 2) for i in seed_ids]
    # Each copy is in stories of its own, and its texts are the originals'.
    first, third = copy.stories.story_of[seed_ids[0]], copy.stories.story_of[f"{seed_ids[0]}~2"]
    assert first != third
    assert copy.documents[f"{seed_ids[0]}~2"].text == copy.documents[seed_ids[0]].text
    settings = Settings(embedder="hashing", data_dir=tmp_path / "archive")
    row = write_latency(settings, tmp_path / "archive" / "index", "w")
    assert row["passages"] == passages and row["write_p50_ms"] > 0
    assert row["segments_after_writes"] == 3 + 15
    assert row["merges"] >= 1 and row["segments_after_merges"] < row["segments_after_writes"]


def test_a_peer_that_is_not_installed_is_skipped_with_how_to_install_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from evaluation.peers import bench_peers
    from evaluation.tables import _peers

    # An interpreter that cannot import txtai (any check fails).
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    rows = bench_peers(["txtai"], tmp_path, [("a#0", "text")], 1, ["oil"], str(python))
    assert rows == [{"peer": "txtai", "skipped": rows[0]["skipped"]}]
    assert "not installed" in rows[0]["skipped"] and ".[peers]" in rows[0]["skipped"]
    shown = _peers({"peers": rows, "ingest": {}, "http": {}})
    assert shown == [f"peer txtai skipped: {rows[0]['skipped']}"]


def test_a_measured_peer_is_a_row_beside_parallax() -> None:
    from evaluation.tables import _peers

    ingest = {
        "articles": 2000,
        "passages": 3728,
        "served_passages": 28000,
        "ingest_passages_per_s": 150.0,
        "ingest_articles_per_s": 80.0,
    }
    peer = {
        "peer": "txtai",
        "version": "9.14.0",
        "passages": 3728,
        "ingest_passages_per_s": 60.0,
        "ingest_articles_per_s": 32.0,
        "in_process_search_p50_ms": 14.0,
        "http_search_p50_ms": 20.5,
    }
    result = {"peers": [peer], "ingest": ingest, "http": {"search@1": {"p50_ms": 9.5}}}
    (shown,) = _peers(result)
    assert list(shown.columns[0]._cells) == ["parallax", "txtai 9.14.0"]  # type: ignore[union-attr]
    assert "20.5 at 3728 passages" in shown.columns[4]._cells  # type: ignore[union-attr]
