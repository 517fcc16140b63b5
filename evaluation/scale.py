"""Archive scale for `parallax bench`: one-document writes at 28k and at 280k passages, the
merge that folds the larger archive, and query latency while documents stream in.

The 280k-passage archive is the benchmark's Reuters index repeated: each copy is the same
articles under new ids (`r123~3`), with their vectors nudged by a little noise and their
stories renumbered, so that nothing is embedded again (embedding 280k passages here takes
an hour). It is the same text ten times, which is what it is said to be: a test of how
the write and merge costs grow with the archive, not of retrieval quality.
"""

from __future__ import annotations

import functools
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from api.settings import Settings
from index.corpus import Corpus
from index.documents import parse_document
from index.live import Chunking, LiveIndex, open_index
from index.merge import merge_segments
from index.segment import Segment
from index.store import IndexStore
from index.stories import StoryTable, story_id, story_number
from index.story_features import MatcherState
from index.vectors import VectorOptions

WRITES = 15  # one-document writes timed per archive size
NOISE = 0.01  # scale of the noise added to a copy's vectors (before renormalising)


def replicate(source: Path, target: Path, copies: int, model: str, dim: int) -> int:
    """Write an index of `copies` copies of the index in `source` (one segment each) to
    `target`; returns its passages."""
    store = IndexStore(source)
    corpus = store.load(model, dim)
    saved = store.load_matcher_state(corpus)
    base = merge_segments(corpus.segments, corpus.dead, "base")  # one segment, live only
    rng = np.random.default_rng(0)
    segments = [_copy(base, copy, rng) for copy in range(copies)]
    # The matcher's saved state, copied, so writes to the copy restore it rather than
    # read 190k documents again (without one they rebuild it, which only costs time).
    state = _copied_state(saved[0], copies) if saved else None
    table = replace(_copied_stories(corpus.stories, copies), state=state)
    replicated = Corpus(tuple(segments), model, dim, 1, stories=table)
    IndexStore(target).save(replicated, Chunking().as_dict(), matcher=state is not None)
    return len(replicated.passages)


def million(
    settings: Settings,
    source: Path,
    target: Path,
    queries: Sequence[str],
    passages: int = 1_000_000,
    recall_sets: Mapping[str, Sequence[str]] | None = None,
) -> dict:
    """The index in `source` repeated to about `passages` passages as ONE segment (as a
    bulk build makes it), its HNSW graph built and saved in `target` with the story
    matcher's state; then what a server starting on it sees: in a fresh process
    (`measure`: opening, search in process, recall against exact, also for each of
    `recall_sets`), and as `parallax serve` (`served`: first answer, /search over HTTP,
    memory with story matching ready).

    The copies share one array of sentence vectors (the sentence step reads only a few
    thousand rows a query) and nudge their passage vectors, which the graph indexes."""
    import json
    import subprocess
    import sys

    store = IndexStore(source)
    corpus = store.load(settings.model, store.read_manifest().dim)
    saved = store.load_matcher_state(corpus)
    base = merge_segments(corpus.segments, corpus.dead, "base")
    copies = max(1, round(passages / len(base.passages)))
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    parts = [_copy(base, copy, rng, nudge_sentences=False) for copy in range(copies)]
    whole = merge_segments(parts, {}, "segment-000000-000001")
    del parts
    graphed = time.perf_counter()
    whole.searcher(VectorOptions(ann_threshold=1))  # its graph, whatever its size
    graph_s = time.perf_counter() - graphed
    state = _copied_state(saved[0], copies) if saved else None
    table = replace(_copied_stories(corpus.stories, copies), state=state)
    built = Corpus((whole,), settings.model, whole.vectors.shape[1], 1, stories=table)
    IndexStore(target).save(built, Chunking().as_dict(), matcher=state is not None)
    build_s = time.perf_counter() - started
    del whole, built, table, state, saved
    models = target.parent / "models"
    if not models.exists():
        models.symlink_to((source.parent / "models").resolve(), target_is_directory=True)
    child = subprocess.run(
        [sys.executable, "-m", "evaluation.scale", str(target), str(source.parent / "models")],
        input=json.dumps({"queries": list(queries), "recall_sets": dict(recall_sets or {})}),
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    built_in = {"copies": copies, "build_s": round(build_s, 1), "graph_s": round(graph_s, 1)}
    return built_in | measured | served(target.parent, queries)


def served(directory: Path, queries: Sequence[str], rounds: int = 10) -> dict[str, Any]:
    """`parallax serve` on the data dir `directory`: seconds from start to the first
    /search answer; then one document written, which waits for story matching (restored
    in the background); then /search at one client over HTTP, and the server's memory
    (RSS, of it anonymous and file-backed pages, and its peak)."""
    import httpx

    from evaluation.server import BenchServer

    key = "million-bench-key"
    server = BenchServer(directory, key)
    with server as (url, first_answer_s):
        with httpx.Client(timeout=600) as client:
            began = time.perf_counter()
            written = client.post(
                f"{url}/documents",
                # A new id each run: an unchanged document would not wait for stories.
                json={"documents": [{"id": f"bench-{time.time_ns()}", "text": queries[0]}]},
                headers={"Authorization": f"Bearer {key}"},
            )
            written.raise_for_status()
            stories_s = time.perf_counter() - began
            for query in queries:  # a first pass maps the pages the queries read
                client.post(f"{url}/search", json={"query": query}).raise_for_status()
            latencies = []
            for _ in range(rounds):
                for query in queries:
                    began = time.perf_counter()
                    client.post(f"{url}/search", json={"query": query}).raise_for_status()
                    latencies.append((time.perf_counter() - began) * 1000)
        memory = {
            f: _memory(f, server.process.pid) for f in ("VmRSS", "RssAnon", "RssFile", "VmHWM")
        }
    return {
        "first_answer_s": round(first_answer_s, 2),
        "first_write_s": round(stories_s, 1),
        "http_p50_ms": round(statistics.median(latencies), 2),
        "http_p95_ms": round(float(np.percentile(latencies, 95)), 2),
        "served_rss_mb": memory["VmRSS"],
        "served_anon_mb": memory["RssAnon"],
        "served_file_mb": memory["RssFile"],
        "served_peak_mb": memory["VmHWM"],
    }


def measure(
    settings: Settings,
    index: Path,
    models: Path,
    queries: Sequence[str],
    recall_sets: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Open the index as a server would (the time, the peak RSS), then dense and hybrid
    search over the benchmark's questions, and dense search's recall@10 against exact
    search over the same vectors: for those questions, and for each of `recall_sets`.

    Eight questions are too few to measure recall by: they gave 1.000 at efSearch 1024
    while 100 XQuAD questions gave 0.82-0.84 and 100 of the archive's headlines 0.92-0.95
    (`recall_by_set`)."""
    from api.state import embedder_from_settings
    from search.engine import SearchOptions, search
    from search.retrieve import dense_ranking

    embedder = embedder_from_settings(settings, models)
    opened = time.perf_counter()
    live = open_index(index, embedder, Chunking(), stories=settings.story_options())
    open_s = time.perf_counter() - opened
    rss_open = _memory("VmRSS")
    snapshot = live.corpus
    vectors = {query: embedder.encode([query])[0] for query in queries}
    for query, vector in vectors.items():  # a first pass reads the pages a query needs
        dense_ranking(snapshot, vector, 10)
        search(snapshot, embedder, query, SearchOptions())
    dense, hybrid = [], []
    for query, vector in vectors.items():
        began = time.perf_counter()
        dense_ranking(snapshot, vector, 10)
        dense.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        search(snapshot, embedder, query, SearchOptions())
        hybrid.append((time.perf_counter() - began) * 1000)
    rss_searching = _memory("VmRSS")
    exact = replace(
        snapshot, vector_options=VectorOptions(ann_threshold=len(snapshot.passages) + 1)
    )

    def recall(vectors: Iterable[np.ndarray]) -> float:
        shares = []
        for vector in vectors:
            found = set(dense_ranking(snapshot, vector, 10).rows.tolist())
            truth = dense_ranking(exact, vector, 10).rows.tolist()
            shares.append(len(found.intersection(truth)) / max(1, len(truth)))
        return round(float(np.mean(shares)), 3)

    by_set = {
        name: {"queries": len(asked), "recall@10": recall(embedder.encode(list(asked)))}
        for name, asked in (recall_sets or {}).items()
        if asked
    }
    return {
        "passages": len(snapshot.passages),
        "open_s": round(open_s, 2),
        "rss_after_open_mb": rss_open,
        "rss_searching_mb": rss_searching,
        "rss_peak_mb": _memory("VmHWM"),
        "dense_p50_ms": round(statistics.median(dense), 2),
        "dense_p95_ms": round(float(np.percentile(dense, 95)), 2),
        "search_p50_ms": round(statistics.median(hybrid), 2),
        "search_p95_ms": round(float(np.percentile(hybrid, 95)), 2),
        "recall@10": recall(vectors.values()),
        "recall_by_set": by_set,
    }


def _memory(field: str, pid: int | str = "self") -> int:
    """A line of /proc/PID/status in MB: VmRSS now, VmHWM the most so far, RssAnon and
    RssFile the anonymous and the file-backed part of VmRSS. (getrusage's peak is kept
    across exec on Linux, so a child would report its parent's.)"""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) // 1024
    return 0


def write_latency(settings: Settings, directory: Path, label: str) -> dict[str, Any]:
    """Median and p95 of one-document writes to the index in `directory`, story matching
    ready (as a server has it after its warm-up), then the merges they leave."""
    from api.state import embedder_from_settings

    embedder = embedder_from_settings(settings, directory.parent / "models")
    started = time.perf_counter()
    live = open_index(directory, embedder, Chunking(), stories=settings.story_options())
    opened = time.perf_counter() - started
    matcher = live.warm_stories()
    passages = len(live.corpus.passages)
    times = [_one_write(live, f"{label}-{n}") for n in range(WRITES)]
    segments = len(live.corpus.segments)
    merge_started = time.perf_counter()
    merged = live.merge_all()
    return {
        "passages": passages,
        "open_s": round(opened, 1),
        "story_matcher_s": round(matcher, 1),
        "write_p50_ms": round(statistics.median(times), 1),
        "write_p95_ms": round(float(np.percentile(times, 95)), 1),
        "segments_after_writes": segments,
        "merges": merged,
        "merge_s": round(time.perf_counter() - merge_started, 2),
        "segments_after_merges": len(live.corpus.segments),
    }


def _one_write(live: LiveIndex, doc_id: str) -> float:
    article = parse_document(
        {
            "id": doc_id,
            "text": f"Oil prices rose {len(doc_id)} percent on Tuesday after producers agreed "
            "to cut output. Traders said the rally could last into next week.",
            "source": "Bench",
        }
    )
    began = time.perf_counter()
    live.upsert([article])
    return (time.perf_counter() - began) * 1000


def search_while_ingesting(
    url: str, key: str, queries: Sequence[str], rates: Sequence[float | None] = (5.0, None)
) -> list[dict[str, Any]]:
    """/search latency at one client, idle and while a second client posts one document at
    a time, at each rate of writes per second (None: as fast as the server takes them):
    what a newsroom feeding the archive costs its readers.

    Idle and writing alternate in windows of `WINDOW` seconds, so a load that comes and
    goes on a shared machine falls on both alike (one idle stretch, then one writing
    stretch, measured the machine's other users as much as the writes). A request that
    fails or times out is counted (`failed`), not fatal: the bench goes on and says so."""
    import httpx

    rows = []
    for rate in rates:
        idle: list[float] = []
        busy: list[float] = []
        failed, written, writing_s = 0, 0, 0.0
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:
            for _ in range(round(SECONDS / WINDOW)):
                failed += _search_latencies(client, queries, WINDOW, idle)
                began = time.perf_counter()
                searching = functools.partial(_search_latencies, client, queries, WINDOW, busy)
                done, errors = _while_writing(url, key, rate, searching)
                writing_s += time.perf_counter() - began
                written += done
                failed += errors
        rows.append(
            {
                "rate": "as fast as it takes them" if rate is None else f"{rate:g}/s",
                "idle_p50_ms": round(statistics.median(idle), 2),
                "idle_p95_ms": round(float(np.percentile(idle, 95)), 2),
                "ingesting_p50_ms": round(statistics.median(busy), 2),
                "ingesting_p95_ms": round(float(np.percentile(busy, 95)), 2),
                "ingesting_max_ms": round(max(busy), 1),
                "ratio_p50": round(statistics.median(busy) / statistics.median(idle), 2),
                "writes_per_s": round(written / writing_s, 1),
                "failed": failed,
            }
        )
    return rows


SECONDS = 15.0  # of queries, idle and while writing, per rate
WINDOW = 3.0  # seconds of one idle or one writing stretch
REQUEST_TIMEOUT = 30.0  # a request that takes longer is counted as failed


def _search_latencies(client: Any, queries: Sequence[str], seconds: float, into: list) -> int:
    """/search one query after another for `seconds`, each latency appended to `into`;
    how many failed (an error status, a timeout, a dropped connection)."""
    import httpx

    failed = 0
    until = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < until:
        began = time.perf_counter()
        try:
            ok = client.post("/search", json={"query": queries[n % len(queries)]}).is_success
        except httpx.HTTPError:
            ok = False
        into.append((time.perf_counter() - began) * 1000)
        failed += not ok
        n += 1
    return failed


def _while_writing(
    url: str, key: str, rate: float | None, searching: Callable[[], int]
) -> tuple[int, int]:
    """Run `searching` while another thread posts one document at a time at `rate` a
    second (None: each as soon as the last is answered); the writes acknowledged, and the
    failures of both."""
    import httpx

    stop = threading.Event()
    written, failed = [0], [0]

    def ingest() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        began = time.perf_counter()
        sent = 0
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT, headers=headers) as client:
            while not stop.is_set():
                n = time.time_ns()
                text = f"Wire update {n}: shipping rates rose {n % 17} percent this week."
                document = {"id": f"stream-{n}", "text": text, "source": "Wire"}
                try:
                    ok = client.post("/documents", json={"documents": [document]}).is_success
                except httpx.HTTPError:
                    ok = False
                written[0] += ok
                failed[0] += not ok
                sent += 1
                if rate is not None:  # paced: the next write when it is due
                    stop.wait(max(0.0, began + sent / rate - time.perf_counter()))

    writer = threading.Thread(target=ingest, daemon=True)
    writer.start()
    searches_failed = searching()
    stop.set()
    writer.join(REQUEST_TIMEOUT * 2)
    return written[0], failed[0] + searches_failed


def _copy(
    base: Segment, copy: int, rng: np.random.Generator, nudge_sentences: bool = True
) -> Segment:
    documents = {
        _renamed(doc_id, copy): replace(doc, id=_renamed(doc_id, copy))
        for doc_id, doc in base.documents.items()
    }
    # Named as folded writes up to generation 1 (the copy's own number first, so names
    # differ): the matcher state saved with the copy is of generation 1, and a segment of
    # a later generation would have its documents described again on restore.
    return Segment(
        f"segment-{copy:06d}-000001",
        documents,
        replace(base.columns, ids=list(documents)),
        _nudged(base.vectors, rng) if copy else base.vectors,
        _nudged(base.sentence_vectors, rng) if copy and nudge_sentences else base.sentence_vectors,
        base.postings,
    )


def _nudged(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    noisy = vectors + rng.normal(0, NOISE / np.sqrt(vectors.shape[1]), vectors.shape)
    norms = np.linalg.norm(noisy, axis=1, keepdims=True)
    return (noisy / np.maximum(norms, 1e-12)).astype(np.float32)


def _renamed(doc_id: str, copy: int) -> str:
    return doc_id if copy == 0 else f"{doc_id}~{copy}"


def _copied_stories(table: StoryTable, copies: int) -> StoryTable:
    """The story table of `copies` copies: each copy's documents in renumbered stories."""
    span = _story_span(table)
    story_of, headline = {}, {}
    for copy in range(copies):
        for doc_id, sid in table.story_of.items():
            story_of[_renamed(doc_id, copy)] = _restoried(sid, copy, span)
        for sid, doc_id in table.headline.items():
            headline[_restoried(sid, copy, span)] = _renamed(doc_id, copy)
    return StoryTable(story_of, headline, span * copies + 1)


def _story_span(table: StoryTable) -> int:
    numbers = [story_number(s) or 0 for s in set(table.story_of.values())]
    return max([table.next_number - 1, *numbers])


def _restoried(sid: str, copy: int, span: int) -> str:
    number = story_number(sid)
    return sid if number is None or copy == 0 else story_id(number + copy * span)


def _copied_state(state: MatcherState, copies: int) -> MatcherState:
    features = {}
    for copy in range(copies):
        features.update((_renamed(d, copy), packed) for d, packed in state.features.items())
    return MatcherState(
        state.vocabulary,
        state.df * copies,
        state.background,
        state.documents * copies,
        features,
    )


if __name__ == "__main__":  # `million` measures in a fresh process: python -m evaluation.scale
    import json
    import sys

    asked = json.loads(sys.stdin.read())
    print(
        json.dumps(
            measure(
                Settings(),
                Path(sys.argv[1]),
                Path(sys.argv[2]),
                asked["queries"],
                asked["recall_sets"],
            )
        )
    )
