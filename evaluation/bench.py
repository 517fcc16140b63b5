"""`parallax bench`: ingest and query speed, each beside a baseline measured in the same run.

- Ingest: Reuters-21578 articles through the real ingest path (chunk, embed
  passages and sentences, save) against the bare fp32 encoder on the same
  passages (a plain `SentenceTransformer.encode` loop): the ratio is the figure.
- Baseline service: a plain sentence-transformers + FAISS flat script over the
  same passages, for both ingest and one-query latency.
- Queries: `/search` and `/ask` over HTTP against a real `parallax serve` on
  the benchmark's index at several client counts (p50/p95/p99, requests/s),
  with an in-process breakdown of one query (encode, retrieve, fuse, extract,
  serialise).
- Cold start: from `parallax serve` starting to its first answered query.

Speed is always reported as a ratio to a baseline run in the same process on
the same data, never as a lone time.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from api.settings import Settings
from evaluation.server import BenchServer
from index.documents import Document, parse_document

# The API key of the bench's servers (writes, and the warm-up barrier, need one).
BENCH_KEY = "bench-key"
# Saved web pages for the HTML intake row (skipped where absent).
ARTICLE_PAGES = Path("../shared/data/article-extraction")
QUERIES = [
    "How many were injured?",
    "What did the central bank say about interest rates?",
    "Which company agreed to buy the mining group?",
    "How much did crude oil prices rise?",
    "Who is the chairman of the board?",
    "What happened to coffee exports from Brazil?",
    "How many shares were offered?",
    "Where will the new plant be built?",
]


def reuters_documents(
    path: Path, limit: int | None = None, ids: set[str] | None = None
) -> list[Document]:
    """`reuters_records` read through the service's own intake (`parse_document`)."""
    return [parse_document(record, record["id"]) for record in reuters_records(path, limit, ids)]


def reuters_records(
    path: Path, limit: int | None = None, ids: set[str] | None = None
) -> list[dict[str, Any]]:
    """Reuters-21578 records with a body, as the documents `POST /documents` takes: id
    `r<newid>`, outlet Reuters, the date and time of the record, and the body as the
    archive holds it (hard-wrapped: the service's own intake joins the wraps, so every
    figure measures it). `ids` keeps only those documents."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            body = record.get("body") or ""
            doc_id = f"r{record['newid']}"
            if not body.strip() or (ids is not None and doc_id not in ids):
                continue
            records.append(
                {
                    "id": doc_id,
                    "source": "Reuters",
                    "title": record.get("title") or None,
                    "published": reuters_date(record.get("date")),
                    "text": body,
                }
            )
            if limit and len(records) >= limit:
                break
    return records


def reuters_date(value: str | None) -> str | None:
    """ "26-FEB-1987 15:01:01.79" -> "1987-02-26T15:01:01Z": the archive gives no zone, so
    its clock is taken as UTC; a record without a time keeps its day, and a missing or
    unreadable date gives None."""
    from datetime import datetime

    parts = (value or "").strip().split()
    try:
        day = datetime.strptime(parts[0], "%d-%b-%Y")
    except (ValueError, IndexError):
        return None
    try:
        clock = datetime.strptime(parts[1].split(".")[0], "%H:%M:%S")
    except (ValueError, IndexError):
        return day.date().isoformat()
    return f"{day.date().isoformat()}T{clock.time().isoformat()}Z"


def bench_ingest(
    settings: Settings,
    embedder: Any,
    records: Sequence[Mapping[str, Any]],
    directory: Path,
    more: Sequence[Document] = (),
) -> dict:
    """Ingest through the real path, from the raw records (intake: wraps joined, debris
    dropped) to the saved index; then the bare fp32 encoder and a plain ST+FAISS script.

    `more` articles are added afterwards, in batches as a feed would post them, to
    grow the index the query benchmarks run against (no baseline for those).
    """
    from index.live import Chunking, open_index
    from index.stages import recording

    # Load (and on a first run export) the encoders before the clock starts: 16 texts go
    # to the batch encoder.
    embedder.encode(["warm up the encoder"] * 16)
    batch = getattr(embedder, "batch", embedder)
    with recording() as stages:
        started = time.perf_counter()
        documents = [parse_document(record, record["id"]) for record in records]
        intake_seconds = time.perf_counter() - started
        stages.add("cleaning", intake_seconds)
        live = open_index(
            directory / "index",
            embedder,
            Chunking(settings.chunk_tokens, settings.chunk_overlap),
            stories=settings.story_options(),
        )
        first = live.upsert(documents, progress=True)
        live.wait_for_merges()
        ingest_seconds = time.perf_counter() - started
    corpus = live.corpus
    texts = [p.text for p in corpus.passages]
    # The ingest encoder backend alone on the same passages, in the same process: what
    # ingest would take were everything but the model free.
    started = time.perf_counter()
    batch.encode(texts)
    alone_seconds = time.perf_counter() - started
    split = {name: round(seconds, 3) for name, seconds in stages.seconds.items()}
    split["other"] = round(ingest_seconds - sum(stages.seconds.values()), 3)

    baseline, plain_model = _plain_service(settings, texts)
    grown: dict[str, Any] = {}
    if more:
        started = time.perf_counter()
        # In writes of 2,500 articles: every write rebuilds BM25 and saves the whole
        # snapshot (2-3 s at 28k passages), which is not what this phase measures.
        story_seconds = 0.0
        for start in range(0, len(more), 2500):
            story_seconds += live.upsert(more[start : start + 2500], progress=True).story_seconds
        seconds = time.perf_counter() - started
        added = len(live.corpus.passages) - len(texts)
        # The plain script's query over the served passages, with the served index's
        # passage vectors (OpenVINO fp32 gives ST fp32's vectors: cosine 1.0): encoding
        # 28k passages again with ST would add ten minutes and change nothing.
        baseline["served_query_p50_ms"] = _plain_queries(plain_model, live.corpus.vectors)
        grown = {
            "served_articles": len(documents) + len(more),
            "served_passages": len(live.corpus.passages),
            "served_sentences": int(live.corpus.sentence_vectors.shape[0]),
            "growth_passages_per_s": round(added / seconds, 1),
            "growth_story_share": round(story_seconds / seconds, 4),
            "growth_story_ms_per_article": round(story_seconds / len(more) * 1000, 3),
            "served_stories": len(set(live.corpus.stories.story_of.values())),
        }
    return {
        **grown,
        "articles": len(documents),
        "passages": len(texts),
        "sentences": int(corpus.sentence_vectors.shape[0]),
        "encoder": f"{settings.ingest_encoder} {batch.precision}",
        "sentence_vectors": settings.sentence_vectors,
        "ingest_seconds": round(ingest_seconds, 2),
        # Reading the raw records into documents (the plain-text intake), a share of ingest.
        "intake_seconds": round(intake_seconds, 2),
        "intake_share": round(intake_seconds / ingest_seconds, 4),
        # Placing the articles in stories, as a share of the ingest it is part of.
        "story_seconds": round(first.story_seconds, 2),
        "story_share": round(first.story_seconds / ingest_seconds, 4),
        "ingest_passages_per_s": round(len(texts) / ingest_seconds, 1),
        # Seconds of each stage of ingest (its own time, inner stages left out; "other"
        # is what no stage covers), and the ingest encoder alone on the same passages.
        "stage_seconds": split,
        "encoder_alone_passages_per_s": round(len(texts) / alone_seconds, 1),
        "ratio_ingest_to_encoder_alone": round(alone_seconds / ingest_seconds, 3),
        "ingest_articles_per_s": round(len(documents) / ingest_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "encoder_fp32_passages_per_s": baseline["encode_passages_per_s"],
        "ratio_ingest_to_encoder": round(
            (len(texts) / ingest_seconds) / baseline["encode_passages_per_s"], 3
        ),
        "baseline": baseline,
    }


def _plain_model(settings: Settings) -> Any:
    """sentence-transformers fp32, as a script with no service around it would load it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    from index.embed import resolve_model_path

    torch.set_num_threads(settings.threads or os.cpu_count() or 1)
    return SentenceTransformer(str(resolve_model_path(settings.model)), device="cpu")


def _plain_service(settings: Settings, texts: list[str]) -> tuple[dict, Any]:
    """The bare fp32 encoder and a plain ST + FAISS flat index over the same passages
    (the result, and the model for more baseline queries)."""
    model = _plain_model(settings)
    model.encode(["warm up the encoder"] * 8)
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    encode_seconds = time.perf_counter() - started
    return {
        "encode_passages_per_s": round(len(texts) / encode_seconds, 1),
        "query_p50_ms": _plain_queries(model, vectors),
    }, model


def _plain_queries(model: Any, vectors: np.ndarray) -> float:
    """Median ms of the plain script's query: encode with ST, top 10 from a FAISS flat index."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    latencies = []
    for query in QUERIES * 3:
        began = time.perf_counter()
        index.search(model.encode([query], normalize_embeddings=True), 10)
        latencies.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(latencies), 2)


def breakdown(settings: Settings, directory: Path) -> dict:
    """Where one query's time goes, in process, with the service's own query encoder."""
    from api.state import embedder_from_settings

    embedder = embedder_from_settings(settings, directory / "models")
    import orjson

    from api.bodies import ask_body, search_body
    from index.live import Chunking, open_index
    from search.answers import answer_from_ranking, ask, story_matches, within_story
    from search.document_reader import READER
    from search.engine import SearchOptions, fuse, rank, rank_to_result, rankings

    live = open_index(directory / "index", embedder, Chunking(), stories=settings.story_options())
    corpus = live.corpus
    options = SearchOptions()
    stages: dict[str, list[float]] = {
        k: []
        for k in (
            "encode",
            "retrieve",
            "fuse",
            "group",
            "serialise",
            "choose_story",
            "extract",
            "ask_total",
        )
    }
    for query in QUERIES * 3:
        t0 = time.perf_counter()
        vector = embedder.encode([query])[0]
        t1 = time.perf_counter()
        found = rankings(corpus, embedder, query, options, vector)
        t2 = time.perf_counter()
        fused = fuse(found, options)
        t3 = time.perf_counter()
        result = rank_to_result(corpus, fused, options)
        t4 = time.perf_counter()
        orjson.dumps(search_body(query, result, 0))
        t5 = time.perf_counter()
        # As /ask does by default: the best-matching story, then the passages within it.
        best = story_matches(corpus, fused, READER.other_stories + 1)[0].story.id
        within = within_story(options, best)
        ranked = rank(corpus, embedder, query, within, vector=vector)
        t6 = time.perf_counter()
        answer_from_ranking(corpus, query, vector, ranked, within)
        t7 = time.perf_counter()
        answered = ask(corpus, embedder, query, options)
        orjson.dumps(ask_body(query, answered, 1, 0))
        t8 = time.perf_counter()
        for name, seconds in zip(
            stages,
            (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6, t8 - t7),
            strict=True,
        ):
            stages[name].append(seconds * 1000)
    medians = {name: round(statistics.median(values), 2) for name, values in stages.items()}
    # The story matcher is built once per process (a server does it in the background).
    medians["story_matcher_build"] = round(live.warm_stories() * 1000, 1)
    # A write of one short article to the whole served index (new snapshot, BM25, save).
    writes = []
    for n in range(3):
        article = parse_document(
            {
                "id": f"bench-write-{n}",
                "text": f"Oil prices rose {n + 2} percent on Tuesday after producers agreed "
                "to cut output. Traders said the rally could last into next week.",
                "source": "Bench",
            }
        )
        began = time.perf_counter()
        live.upsert([article], progress=False)
        writes.append((time.perf_counter() - began) * 1000)
    medians["write_one_document"] = round(statistics.median(writes), 1)
    return medians


def sentence_candidate_agreement(
    settings: Settings, directory: Path, count: int = 100, candidates: int | None = None
) -> dict:
    """How far scoring sentences for the best passages only departs from scoring them all.

    Dense search scores sentences only for the passages whose own vectors rank
    best (search/retrieve.py). On the served index this compares its top 10
    and top 200 with scoring every sentence, for the benchmark's questions and
    for `count` fragments of stored sentences (the hard case: one sentence
    matches, its passage may not). `candidates` is the number of passages whose
    sentences are scored (by default as search takes them, `sentence_candidates`).
    """
    from api.state import embedder_from_settings
    from index.live import Chunking, open_index
    from search.engine import SearchOptions
    from search.retrieve import SENTENCE_CANDIDATES, dense_ranking, sentence_candidates

    if candidates is None:
        candidates = sentence_candidates(SearchOptions().depth, SENTENCE_CANDIDATES)

    embedder = embedder_from_settings(settings, directory / "models")
    corpus = open_index(directory / "index", embedder, Chunking()).corpus
    depth = SearchOptions().depth
    rng = np.random.default_rng(0)
    fragments = []
    for row in rng.permutation(len(corpus.passages)).tolist():
        sentences = [s for s in corpus.passages[row].sentence_texts() if len(s.split()) > 8]
        if len(sentences) > 2:
            fragments.append(" ".join(sentences[len(sentences) // 2].split()[:10]))
        if len(fragments) == count:
            break
    top10, top200, two_step, every = [], [], [], []
    for vector in embedder.encode(QUERIES + fragments):
        began = time.perf_counter()
        fast = dense_ranking(corpus, vector, depth, candidates=candidates).rows
        middle = time.perf_counter()
        full = dense_ranking(corpus, vector, depth, candidates=len(corpus.passages)).rows
        two_step.append((middle - began) * 1000)
        every.append((time.perf_counter() - middle) * 1000)
        top10.append(
            len(set(fast[:10].tolist()) & set(full[:10].tolist())) / max(1, len(full[:10]))
        )
        top200.append(len(set(fast.tolist()) & set(full.tolist())) / max(1, len(full)))
    return {
        "queries": len(top10),
        "candidates": candidates,
        "top10_overlap": round(float(np.mean(top10)), 4),
        "top10_overlap_min": round(float(np.min(top10)), 4),
        "top200_overlap": round(float(np.mean(top200)), 4),
        "p50_ms": round(statistics.median(two_step), 2),
        "all_sentences_p50_ms": round(statistics.median(every), 2),
    }


def _overlap(found: np.ndarray, expected: np.ndarray) -> float:
    return len(set(found.tolist()) & set(expected.tolist())) / max(1, len(expected))


def bench_http(directory: Path, clients: Sequence[int], requests: int) -> dict:
    """Latency and throughput of /search and /ask over HTTP at each client count."""
    import httpx

    with BenchServer(directory):
        pass  # the first start exports the ONNX query encoder; a prebuilt index has it
    server = BenchServer(directory, key=BENCH_KEY)
    with server as (url, cold_start):
        results: dict[str, Any] = {"cold_start_s": round(cold_start, 2)}
        # After its first answer a server restores story matching in the background (2.4 s
        # alone at 19k documents, longer beside searches); the load below measures the
        # steady state after it.
        results["warm_up_s"] = round(server.wait_for_warm_up(url), 2)
        for endpoint, payload in (
            ("search", lambda q: {"query": q}),
            ("ask", lambda q: {"question": q}),
        ):
            for count in clients:
                results[f"{endpoint}@{count}"] = _load(
                    httpx, f"{url}/{endpoint}", payload, count, requests
                )
        # Baselines in the same run, one client: /search with a group for every matching
        # document (as before max_sources), and /ask across every story (as before stories).
        for name, endpoint, payload in (
            ("search unbounded", "search", lambda q: {"query": q, "max_sources": 1000}),
            ("ask all stories", "ask", lambda q: {"question": q, "story": "all"}),
        ):
            results[f"{name}@1"] = _load(httpx, f"{url}/{endpoint}", payload, 1, requests)
        return results


def _load(httpx: Any, url: str, payload: Callable[[str], dict], clients: int, total: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, total // clients)

    def run(offset: int) -> None:
        nonlocal errors
        with httpx.Client(timeout=30) as http:
            for n in range(per_client):
                query = QUERIES[(offset + n) % len(QUERIES)]
                began = time.perf_counter()
                response = http.post(url, json=payload(query))
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors += response.status_code != 200

    with httpx.Client(timeout=30) as warm:
        for query in QUERIES:
            warm.post(url, json=payload(query))
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = np.array(latencies)
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(float(np.percentile(ordered, 50)), 2),
        "p95_ms": round(float(np.percentile(ordered, 95)), 2),
        "p99_ms": round(float(np.percentile(ordered, 99)), 2),
        "requests_per_s": round(len(latencies) / wall, 1),
    }


def bench_html(pages_dir: Path, rounds: int = 3) -> dict:
    """What reading a saved page costs beyond its text: the article extraction of each of
    the article-extraction benchmark's pages (`index.pages`, trafilatura) against the
    plain-text intake of the same article's text (`index.clean`), medians of `rounds`."""
    from evaluation.extract import load_pages
    from index.clean import clean_text
    from index.pages import extract_page

    pages = [(page.html(), page.url) for page in load_pages(pages_dir)]
    extract_ms, text_ms = [], []
    for html, url in pages:
        times, text = [], ""
        for _ in range(rounds):
            started = time.perf_counter()
            text = extract_page(html, url).text
            times.append(time.perf_counter() - started)
        extract_ms.append(statistics.median(times) * 1000)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            clean_text(text)
            times.append(time.perf_counter() - started)
        text_ms.append(statistics.median(times) * 1000)
    return {
        "pages": len(pages),
        "html_mean_ms": round(statistics.fmean(extract_ms), 2),
        "html_p50_ms": round(statistics.median(extract_ms), 2),
        "html_p95_ms": round(sorted(extract_ms)[int(0.95 * (len(extract_ms) - 1))], 2),
        "text_mean_ms": round(statistics.fmean(text_ms), 3),
        "added_mean_ms": round(statistics.fmean(extract_ms) - statistics.fmean(text_ms), 2),
    }


def run_bench(
    settings: Settings,
    reuters: Path,
    limit: int,
    clients: Sequence[int],
    requests: int,
    ann_sizes: Sequence[int] = (),
    quality_sets: tuple[Path, Path] | None = None,
    serve_limit: int = 0,
    archive_copies: int = 10,
    million_passages: int = 0,
    pages: Path | None = ARTICLE_PAGES,
    peers: Sequence[str] = (),
    peer_python: str | None = None,
) -> dict:
    """The whole benchmark; returns the result (also printed by the CLI).

    `quality_sets` (XQuAD JSON, public questions) adds the encoder backends' table;
    `peers` (`evaluation.peers`) adds a row for each peer service, run by `peer_python`.
    """
    from api.state import embedder_from_settings
    from index.store import IndexStore

    records = reuters_records(reuters, max(limit, serve_limit))
    documents = records[:limit]
    more = [parse_document(record, record["id"]) for record in records[limit:]]
    with tempfile.TemporaryDirectory(prefix="parallax-bench-") as scratch:
        directory = Path(scratch)
        embedder = embedder_from_settings(settings, directory / "models")
        ingest = bench_ingest(settings, embedder, documents, directory, more)
        http = bench_http(directory, clients, requests)
        stages = breakdown(settings, directory)
        agreement = sentence_candidate_agreement(settings, directory)
        archive = bench_archive(settings, directory, embedder.dim, archive_copies)
        if million_passages:
            from evaluation.scale import million

            target = directory / "million" / "index"
            firsts = [parse_document(record, record["id"]) for record in documents]
            recall_sets = million_recall_sets([*firsts, *more], quality_sets)
            archive["million"] = million(
                settings, directory / "index", target, QUERIES, million_passages, recall_sets
            )
        backends = []
        if quality_sets:
            passages = IndexStore(directory / "index").load(settings.model, embedder.dim).passages
            sample = [p.text for p in passages[:300]]
            sets = retrieval_sets(settings, *quality_sets)
            backends = bench_backends(settings, directory / "models", sample, sets)
        peer_rows = bench_peer_rows(settings, directory, documents, peers, peer_python)
    ann = bench_ann(ann_sizes, ef_searches=(128, 512)) if ann_sizes else []
    html = bench_html(pages) if pages is not None and pages.is_dir() else {}
    return {
        "ingest": ingest,
        "html": html,
        "breakdown_ms": stages,
        "sentence_candidates": agreement,
        "http": http,
        "archive": archive,
        "backends": backends,
        "ann": ann,
        "peers": peer_rows,
        "limit": limit,
    }


def bench_peer_rows(
    settings: Settings,
    directory: Path,
    records: Sequence[Mapping[str, Any]],
    peers: Sequence[str],
    python: str | None,
) -> list[dict]:
    """The peers on the ingest articles: the passages parallax cut from them (a peer does
    not chunk), the same model folder (`evaluation.peers`)."""
    if not peers:
        return []
    from evaluation.peers import bench_peers
    from index.encoder import resolve_model_path
    from index.store import IndexStore

    store = IndexStore(directory / "index")
    corpus = store.load(settings.model, store.read_manifest().dim)
    ids = {record["id"] for record in records}
    passages = [(p.passage_id, p.text) for p in corpus.passages if p.doc_id in ids]
    model = resolve_model_path(settings.model)
    return bench_peers(peers, model, passages, len(records), QUERIES, python)


def bench_archive(settings: Settings, directory: Path, dim: int, copies: int) -> dict:
    """Writes at the served index's size and at `copies` times it, the merges they leave,
    and /search while documents stream in (`evaluation.scale`)."""
    from evaluation.scale import replicate, search_while_ingesting, write_latency

    server = BenchServer(directory, key=BENCH_KEY)
    with server as (url, _):
        server.wait_for_warm_up(url)
        streaming = search_while_ingesting(url, BENCH_KEY, QUERIES)
        if any(row["failed"] for row in streaming):
            print("requests failed while writing; the server's threads:", file=sys.stderr)
            server.dump_stacks()
    rows = [write_latency(settings, directory / "index", "small")]
    if copies > 1:
        archive = directory / "archive"
        replicate(directory / "index", archive / "index", copies, settings.model, dim)
        (archive / "models").symlink_to(directory / "models")
        rows.append(write_latency(settings, archive / "index", "large"))
        shutil.rmtree(archive, ignore_errors=True)
    return {"writes": rows, "search_while_ingesting": streaming, "copies": copies}


def structured_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around a few thousand topics, like embeddings of a news archive.

    Uniform random vectors make every neighbour equally far and flatter an index;
    clustered ones show the recall an approximate index loses on real data.
    """
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((max(16, count // 300), dim)).astype(np.float32)
    vectors = topics[rng.integers(0, len(topics), count)]
    vectors += 0.6 * rng.standard_normal((count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def bench_ann(
    sizes: Sequence[int], queries: int = 200, dim: int = 384, ef_searches: Sequence[int] = ()
) -> list[dict]:
    """Exact (flat) against HNSW at each size: build time, recall@10, one-query latency.

    HNSW is measured at the service's efSearch and at each of `ef_searches` on the
    same graph (searching is cheap; building is not), to show the recall it trades.
    """
    from index.vectors import VECTOR_OPTIONS, vector_index

    rows = []
    for size in sizes:
        vectors = structured_vectors(size, dim, seed=size)
        probes = structured_vectors(queries, dim, seed=size + 1)
        measured: dict[str, Any] = {"vectors": size}
        builds = {}
        for kind in ("exact", "hnsw"):
            started = time.perf_counter()
            builds[kind] = vector_index(vectors, kind=kind)
            measured[f"{kind}_build_s"] = round(time.perf_counter() - started, 2)
        exact_ms, exact = _one_by_one(builds["exact"], probes)
        measured["exact_p50_ms"] = exact_ms
        sweep = []
        for ef in sorted({VECTOR_OPTIONS.ef_search, *ef_searches}):
            builds["hnsw"].graph.hnsw.efSearch = ef
            hnsw_ms, found = _one_by_one(builds["hnsw"], probes)
            overlap = [
                len(set(a.tolist()) & set(b.tolist())) / 10
                for a, b in zip(exact, found, strict=True)
            ]
            sweep.append(
                {"ef_search": ef, "p50_ms": hnsw_ms, "recall@10": round(float(np.mean(overlap)), 4)}
            )
        default = next(row for row in sweep if row["ef_search"] == VECTOR_OPTIONS.ef_search)
        measured["hnsw_p50_ms"] = default["p50_ms"]
        measured["hnsw_recall@10"] = default["recall@10"]
        measured["hnsw_ef_search"] = VECTOR_OPTIONS.ef_search
        measured["hnsw_sweep"] = sweep
        rows.append(measured)
    return rows


def _one_by_one(index: Any, probes: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Median milliseconds of one-query searches for the top 10, and what each found."""
    latencies, results = [], []
    for probe in probes:
        began = time.perf_counter()
        ids, _ = index.nearest(probe, 10)
        latencies.append((time.perf_counter() - began) * 1000)
        results.append(ids)
    return round(statistics.median(latencies), 3), results


def bench_backends(
    settings: Settings,
    models: Path,
    sample: Sequence[str],
    retrieval_sets: dict[str, tuple[list[str], list[str]]],
) -> list[dict]:
    """Each encoder backend against sentence-transformers fp32 on the same texts.

    Throughput on `sample` (benchmark passages), the mean and least cosine of its
    vectors to fp32's, and for each retrieval set (passages, questions) how many of
    fp32's dense top 10 the backend also returns.
    """
    from index.embed import SentenceTransformerEmbedder, cpu_has_bf16
    from index.onnx import OnnxEmbedder
    from index.openvino import OpenVinoEmbedder

    def ranked(encode: Callable[[list[str]], np.ndarray]) -> dict[str, np.ndarray]:
        tops = {}
        for name, (passages, questions) in retrieval_sets.items():
            scores = encode(questions) @ encode(passages).T
            tops[name] = np.argsort(-scores, axis=1)[:, :10]
        return tops

    def measure(name: str, encode: Callable[[list[str]], np.ndarray]) -> dict:
        encode(list(sample[:16]))
        started = time.perf_counter()
        vectors = encode(list(sample))
        seconds = time.perf_counter() - started
        return {"backend": name, "passages_per_s": round(len(sample) / seconds, 1), "_v": vectors}

    model = SentenceTransformerEmbedder(settings.model, 32, settings.threads, "fp32")
    backends: list[tuple[str, Callable[[list[str]], np.ndarray]]] = [
        ("sentence-transformers fp32", model.encode)
    ]
    if cpu_has_bf16():
        bf16 = SentenceTransformerEmbedder(settings.model, 32, settings.threads, "bf16")
        backends.append(("sentence-transformers bf16 autocast", bf16.encode))
    onnx = OnnxEmbedder(settings.model, models, threads=settings.threads or os.cpu_count() or 1)
    backends.append(("onnxruntime fp32", lambda texts: _in_batches(onnx.encode, texts, 16)))
    int8 = OnnxEmbedder(settings.model, models, settings.threads or os.cpu_count() or 1, "int8")
    backends.append(("onnxruntime int8 dynamic", lambda texts: _in_batches(int8.encode, texts, 16)))
    for precision in ("fp32", "bf16") if cpu_has_bf16() else ("fp32",):
        ov = OpenVinoEmbedder(settings.model, models, settings.threads, precision)
        backends.append((f"openvino {precision}", ov.encode))
    rows, reference, reference_tops = [], None, None
    for name, encode in backends:
        row = measure(name, encode)
        vectors = row.pop("_v")
        tops = ranked(encode)
        if reference is None:
            reference, reference_tops = vectors, tops
        cosines = (vectors * reference).sum(axis=1)
        row["cosine_mean"] = round(float(cosines.mean()), 5)
        row["cosine_min"] = round(float(cosines.min()), 5)
        first = rows[0]["passages_per_s"] if rows else row["passages_per_s"]
        row["ratio_to_fp32"] = round(row["passages_per_s"] / first, 2)
        assert reference_tops is not None
        for set_name, top in tops.items():
            overlap = [
                len(set(a.tolist()) & set(b.tolist())) / 10
                for a, b in zip(top, reference_tops[set_name], strict=True)
            ]
            row[f"top10_overlap_{set_name}"] = round(float(np.mean(overlap)), 4)
        rows.append(row)
    return rows


def _in_batches(
    encode: Callable[[list[str]], np.ndarray], texts: list[str], size: int
) -> np.ndarray:
    """Length-sorted batches, as an ingest would run them (padding only to each batch's longest)."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    batches = [order[start : start + size] for start in range(0, len(texts), size)]
    encoded = [encode([texts[i] for i in rows]) for rows in batches]
    vectors = np.zeros((len(texts), encoded[0].shape[1]), dtype=np.float32)
    for rows, block in zip(batches, encoded, strict=True):
        vectors[rows] = block
    return vectors


def million_recall_sets(
    documents: Sequence[Document], quality_sets: tuple[Path, Path] | None, size: int = 100
) -> dict[str, list[str]]:
    """Query sets for the bulk archive's recall against exact search, `size` each, drawn
    with a fixed seed: headlines of the archive's own articles (in domain; each article
    has a near-copy in every copy of the archive), XQuAD questions (out of domain) and
    the public questions."""
    from evaluation.metrics import load_questions, load_squad

    rng = random.Random(0)

    def sample(items: Sequence[str]) -> list[str]:
        unique = list(dict.fromkeys(items))
        return rng.sample(unique, min(size, len(unique)))

    sets = {"headlines": sample([d.title for d in documents if d.title])}
    if quality_sets is not None:
        xquad, questions = quality_sets
        if xquad.is_file():
            sets["xquad questions"] = sample([q.question for q in load_squad(xquad)[1]])
        if questions.is_file():
            sets["public questions"] = sample([q.question for q in load_questions(questions)])
    return sets


def retrieval_sets(settings: Settings, xquad: Path, questions: Path) -> dict:
    """XQuAD paragraphs and questions; the seeds' passages and the public questions."""
    from evaluation.metrics import load_questions, load_squad
    from index.chunk import chunk
    from index.documents import load_seeds

    sets = {}
    if xquad.is_file():
        paragraphs, squad = load_squad(xquad)
        sets["xquad"] = ([p["text"] for p in paragraphs], [q.question for q in squad])
    if questions.is_file():
        passages = [p.text for doc in load_seeds(settings.seeds_dir) for p in chunk(doc, 192, 0)]
        sets["public"] = (passages, [q.question for q in load_questions(questions)])
    return sets
