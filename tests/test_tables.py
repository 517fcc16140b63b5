"""What the evaluation and bench commands print, from a result of each kind."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from evaluation import tables


def rendered(*shown: Any) -> str:
    console = Console(record=True, width=200)
    for item in shown:
        console.print(item)
    return console.export_text()


BENCH: dict[str, Any] = {
    "ingest": {
        "articles": 20,
        "passages": 30,
        "encoder": "openvino fp32",
        "sentence_vectors": "pooled",
        "ingest_passages_per_s": 80.0,
        "encoder_fp32_passages_per_s": 40.0,
        "ratio_ingest_to_encoder": 2.0,
        "ingest_seconds": 0.375,
        "stage_seconds": {"encoding": 0.3, "story placement": 0.05, "other": 0.025},
        "encoder_alone_passages_per_s": 100.0,
        "ratio_ingest_to_encoder_alone": 0.8,
        "peak_rss_mb": 900.0,
        "baseline": {"query_p50_ms": 10.0, "served_query_p50_ms": 16.0},
    },
    "http": {
        "cold_start_s": 1.7,
        "search@1": {
            "p50_ms": 12.0,
            "p95_ms": 15.0,
            "p99_ms": 20.0,
            "requests_per_s": 70,
            "errors": 0,
        },
    },
    "breakdown_ms": {"encode": 5.0},
    "sentence_candidates": {
        "candidates": 1000,
        "top10_overlap": 1.0,
        "top10_overlap_min": 1.0,
        "top200_overlap": 0.998,
        "queries": 108,
        "p50_ms": 4.5,
        "all_sentences_p50_ms": 13.0,
    },
    "archive": {
        "million": {
            "passages": 996000,
            "copies": 35,
            "build_s": 900.0,
            "graph_s": 600.0,
            "open_s": 12.5,
            "rss_after_open_mb": 5000,
            "rss_searching_mb": 5100,
            "rss_peak_mb": 5200,
            "dense_p50_ms": 14.0,
            "dense_p95_ms": 20.0,
            "search_p50_ms": 30.0,
            "search_p95_ms": 45.0,
            "recall@10": 0.981,
            "first_answer_s": 3.2,
            "first_write_s": 55.0,
            "http_p50_ms": 17.0,
            "http_p95_ms": 19.0,
            "served_rss_mb": 7200,
            "served_anon_mb": 5300,
            "served_file_mb": 1900,
            "served_peak_mb": 7250,
        },
        "copies": 10,
        "writes": [
            {
                "passages": 28470,
                "write_p50_ms": 31.0,
                "write_p95_ms": 40.0,
                "segments_after_writes": 16,
                "merges": 1,
                "merge_s": 0.1,
                "segments_after_merges": 7,
                "open_s": 2.0,
            }
        ],
        "search_while_ingesting": [
            {
                "rate": "5/s",
                "idle_p50_ms": 12.0,
                "idle_p95_ms": 15.0,
                "ingesting_p50_ms": 15.0,
                "ingesting_p95_ms": 30.0,
                "ratio_p50": 1.25,
                "writes_per_s": 5.0,
            }
        ],
    },
    "backends": [],
    "ann": [
        {
            "vectors": 100000,
            "exact_p50_ms": 9.0,
            "hnsw_build_s": 30.0,
            "hnsw_sweep": [{"ef_search": 64, "p50_ms": 0.5, "recall@10": 0.97}],
        }
    ],
}


def test_the_bench_prints_each_speed_beside_its_baseline() -> None:
    text = rendered(*tables.bench_output(BENCH))
    assert "ingest: 20 articles, 30 passages" in text
    assert "2.0x" in text and "40.0" in text  # ours against the bare encoder
    words = " ".join(text.split())  # the long lines wrap
    assert "openvino fp32 encoder alone, same passages │ 100.0 │ 2.5x" in words
    # Where ingest's time went, largest stage first, as shares of the whole.
    assert "ingest is 0.8x the encoder alone" in words
    assert words.index("encoding │ 0.3 │ 80.0%") < words.index("story placement │ 0.05 │ 13.3%")
    assert "cold start to first answer 1.7 s" in text
    # /search against the plain script over the same (served) passages: 12 / 16.
    assert "/search p50 at 1 client is 0.75x" in text
    assert "100000" in text and "0.97" in text  # the HNSW sweep row
    assert "28470" in text and "31.0" in text  # a one-document write at 28k passages
    assert "5/s: p50 15.0 ms against 12.0 ms idle (1.25x;" in text  # while documents stream in
    assert "996000 passages" in words and "recall@10 0.981 against exact" in words


def test_squad_tables_show_each_mode_and_the_first_mode_by_type() -> None:
    scores = {"recall@1": 0.5, "recall@5": 0.8, "mrr": 0.6, "exact_match": 0.25, "f1": 0.375}
    by_type = {"date": {"count": 4, "answer_contains_gold": 0.75, "exact_match": 0.5}}
    by_type["date"] |= {"f1": 0.6, "short_answers": 4}
    results = [
        {"mode": "hybrid", **scores, "answer_contains_gold": 0.75, "latency_ms": {"p50": 12.0}},
        {"mode": "dense", **scores, "answer_contains_gold": 0.7, "latency_ms": {"p50": 9.0}},
    ]
    results[0]["by_type"] = by_type
    text = rendered(*tables.squad_tables("xquad (test): 10 paragraphs", results))
    assert "xquad (test): 10 paragraphs" in text
    assert "0.750" in text and "0.700" in text
    assert "hybrid: by question type" in text and "date" in text


def test_a_floor_missed_or_not_measured_is_named() -> None:
    metrics = {"f1": 0.3, "mrr": None, "scoping": 0.99}
    missed = tables.missed_floors(metrics, {"f1": 0.36, "mrr": 0.5, "scoping": 0.95, "x": None})
    assert missed == ["f1 0.300 < 0.36", "mrr - < 0.5"]


def test_eval_runs_show_readers_side_by_side_with_the_calibration_apart() -> None:
    from evaluation.metrics import calibration

    latency = {"ask": {"p50": 5.0, "p95": 9.0}}
    parallax = {"precision": 0.9, "precision_all": 0.7, "conflict_accuracy": 0.8}
    parallax |= {"calibration": calibration([0.9, 0.3], [True, False]), "latency_ms": latency}
    baseline = {"precision": 0.4, "precision_all": 0.2, "conflict_accuracy": None}
    baseline |= {"calibration": None, "latency_ms": latency}
    runs = [{"name": "parallax", "metrics": parallax}, {"name": "baseline", "metrics": baseline}]
    text = rendered(tables.runs_table(runs), *tables.calibration_tables(runs))
    assert "│ precision_all     │    0.700 │    0.200 │" in text
    assert "│ conflict_accuracy │    0.800 │        - │" in text
    # One pair of columns for the reader that gives a confidence, none for the baseline.
    assert "parallax answers" in text and "baseline answers" not in text
    assert "│ 0.9-1.0    │                1 │          1.000 │" in text
    assert "│ >= 0.8     │                1 │          1.000 │" in text
    lines = tables.runs_lines(runs)
    assert lines[1] == "baseline: precision=0.400 precision_all=0.200 conflict_accuracy=-"
    assert not tables.calibration_tables(runs[1:])
