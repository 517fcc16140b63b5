"""`parallax eval-extract`: how much of each saved page's article the intake keeps.

The pages and their human-annotated article bodies are the article-extraction benchmark's
(scrapinghub/article-extraction-benchmark, `../shared/data/article-extraction`). Each page
goes through the service's own intake, POST /documents with `html`, and the `text`
GET /documents/{id} then returns is scored against the annotation with the benchmark's
metric (its `evaluate.py`), so the figures compare with its published table:

- tokens are `\\w+` runs, case kept; a text is the multiset of its 4-token shingles, and a
  text of one to three tokens is one shingle of all of them (an empty text has none);
- per page, TP counts the shingles both texts have, FP the predicted ones beyond the
  expected, FN the expected ones missed; precision TP / (TP + FP), recall TP / (TP + FN);
- precision is averaged over the pages where something was predicted, recall over those
  where something was expected: a page with nothing predicted (a refused page) is left
  out of precision and scores 0 in recall, and a page with nothing expected and nothing
  predicted is left out of both (the benchmark's `tp + fp > 0` and `tp + fn > 0`);
- F1 = 2PR / (P + R) of the two averages, not an average of per-page F1.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from evaluation.tables import cell, table
from index.errors import BadRequest

SHINGLE = 4
_TOKEN = re.compile(r"\w+")
# Pages a POST /documents carries at most, and about the most HTML it carries: one request
# per page would add its own overhead (~10 ms a page in process) to the intake timed.
BATCH = 10
BATCH_BYTES = 4 * 1024 * 1024
# Bootstrap resamples of the pages for the spread of F1 (the benchmark's default).
BOOTSTRAP = 1000
WORST = 10


# ---- the metric ---------------------------------------------------------------------


def tokens(text: str | None) -> list[str]:
    """The benchmark's tokens: runs of word characters, case kept."""
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """The text's n-token shingles with their counts; a text shorter than n tokens is one
    shingle of all its tokens, an empty one has none."""
    words = tokens(text)
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)) if words)


@dataclass(frozen=True)
class Overlap:
    """One page's shingle counts: `tp` shared, `fp` predicted beyond the expected text,
    `fn` expected but missed."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        """TP / (TP + FP); None when nothing was predicted (the page is left out)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """TP / (TP + FN); None when nothing was expected (the page is left out)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def overlap(expected: str | None, predicted: str | None, n: int = SHINGLE) -> Overlap:
    """How the predicted text's shingles meet the expected text's."""
    want, got = shingles(expected, n), shingles(predicted, n)
    shared = sum((want & got).values())
    return Overlap(tp=shared, fp=sum(got.values()) - shared, fn=sum(want.values()) - shared)


def harmonic(precision: float | None, recall: float | None) -> float | None:
    """2PR / (P + R): 0.0 when both are 0, None when either was not measured."""
    if precision is None or recall is None:
        return None
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def scores(pages: Sequence[Overlap]) -> dict[str, float | None]:
    """Precision and recall averaged over the pages that have one, and their F1 (None
    where no page has one, which the benchmark leaves undefined)."""
    precision = _mean([p.precision for p in pages if p.precision is not None])
    recall = _mean([p.recall for p in pages if p.recall is not None])
    return {"precision": precision, "recall": recall, "f1": harmonic(precision, recall)}


def f1_spread(pages: Sequence[Overlap], samples: int = BOOTSTRAP, seed: int = 0) -> float | None:
    """The standard deviation of F1 over bootstrap resamples of the pages (as the benchmark
    reports it), with a fixed seed so a run repeats."""
    if len(pages) < 2:
        return None
    draw = random.Random(seed)
    values = []
    for _ in range(samples):
        value = scores([pages[draw.randrange(len(pages))] for _ in pages])["f1"]
        if value is not None:
            values.append(value)
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return float((sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5)


def _page_f1(counts: Overlap) -> float:
    """One page's F1, to rank pages: 1.0 for nothing expected and nothing predicted, 0.0
    for nothing predicted or nothing found."""
    if not (counts.tp or counts.fp or counts.fn):
        return 1.0
    return harmonic(counts.precision or 0.0, counts.recall or 0.0) or 0.0


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


# ---- the pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkPage:
    """A saved page of the benchmark: its sha256 (the id), URL, annotated article body and
    gzipped HTML file."""

    id: str
    url: str
    expected: str
    path: Path

    def html(self) -> str:
        # The benchmark's extractors read every page as UTF-8; all of them are.
        return gzip.decompress(self.path.read_bytes()).decode("utf-8")


def load_pages(directory: Path, limit: int | None = None) -> list[BenchmarkPage]:
    """The benchmark's pages in `directory` (ground-truth.json and html/<sha>.html.gz),
    in order of their sha; the first `limit` of them."""
    truth_file = directory / "ground-truth.json"
    try:
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadRequest(
            f"{truth_file} not found; give the article-extraction benchmark's folder "
            "(ground-truth.json and html/<sha256>.html.gz), e.g. ../shared/data/article-extraction"
        ) from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{truth_file}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    pages = []
    for sha in sorted(truth)[: limit or None]:
        path = directory / "html" / f"{sha}.html.gz"
        if not path.is_file():
            raise BadRequest(f"{path} not found: ground-truth.json names a page it lacks")
        record = truth[sha]
        pages.append(BenchmarkPage(sha, record.get("url", ""), record["articleBody"], path))
    return pages


# ---- the run ------------------------------------------------------------------------


def evaluate_extraction(
    client: Any,
    pages: Sequence[BenchmarkPage],
    progress: Callable[[Iterable[BenchmarkPage]], Iterable[BenchmarkPage]] | None = None,
    batch: int = BATCH,
) -> dict[str, Any]:
    """Post the pages to the service, read their stored text back and score it.

    `client` is an httpx client of the service (a TestClient in process) that sends the
    write key. A page refused with 422 scores as an empty prediction and is listed with
    the reason. The pages stay stored; `added` names those that were not there before.
    """
    refused, added, post_ms = _post(client, pages, progress or (lambda items: items), batch)
    rows = []
    for page in pages:
        text, stored = None, False
        if page.id not in refused:
            response = client.get(f"/documents/{page.id}")
            _expect(response, 200, f"GET /documents/{page.id}")
            text, stored = response.json()["text"], True
        counts = overlap(page.expected, text)
        rows.append(
            {
                "id": page.id,
                "url": page.url,
                "precision": counts.precision,
                "recall": counts.recall,
                "f1": _page_f1(counts),
                "tp": counts.tp,
                "fp": counts.fp,
                "fn": counts.fn,
                "exact": tokens(page.expected) == tokens(text),
                "stored": stored,
                "refused": refused.get(page.id),
            }
        )
    overlaps = [Overlap(r["tp"], r["fp"], r["fn"]) for r in rows]
    metrics = {
        **scores(overlaps),
        "f1_std": f1_spread(overlaps),
        "accuracy": _mean([float(r["exact"]) for r in rows]),
        "pages": len(rows),
        "refused": len(refused),
        "ms_per_page": round(post_ms / len(rows), 1) if rows else None,
    }
    worst = sorted(rows, key=lambda r: (r["f1"], r["url"]))[:WORST]
    return {
        "metrics": metrics,
        "worst": [{k: r[k] for k in ("url", "precision", "recall", "f1", "id")} for r in worst],
        "refused": [
            {"id": r["id"], "url": r["url"], "reason": r["refused"]}
            for r in rows
            if r["refused"] is not None
        ],
        "added": added,
        "pages": rows,
    }


def _post(
    client: Any,
    pages: Sequence[BenchmarkPage],
    progress: Callable[[Iterable[BenchmarkPage]], Iterable[BenchmarkPage]],
    batch: int,
) -> tuple[dict[str, str], list[str], float]:
    """POST the pages in batches: the pages refused (id -> the service's reason), the ids
    added, and the milliseconds the requests took. A refused page fails its whole batch, so
    that batch is sent again a page at a time (the failed attempt is not timed)."""
    refused: dict[str, str] = {}
    added: list[str] = []
    total_ms = 0.0
    for group in _batches(progress(pages), batch):
        documents = [{"id": p.id, "html": p.html(), "url": p.url} for p in group]
        attempts = [(documents, *_timed_post(client, documents))]
        if attempts[0][1].status_code == 422 and len(documents) > 1:
            attempts = [([doc], *_timed_post(client, [doc])) for doc in documents]
        for sent, response, ms in attempts:
            total_ms += ms
            if response.status_code == 422:
                refused[sent[0]["id"]] = _reason(response)
            else:
                _expect(response, 200, "POST /documents")
                added.extend(response.json()["added"])
    return refused, added, total_ms


def remove(client: Any, ids: Iterable[str]) -> None:
    """DELETE /documents/{id} for each id: what a run against a server added."""
    for doc_id in ids:
        _expect(client.delete(f"/documents/{doc_id}"), 200, f"DELETE /documents/{doc_id}")


def _batches(pages: Iterable[BenchmarkPage], size: int) -> Iterator[list[BenchmarkPage]]:
    group: list[BenchmarkPage] = []
    weight = 0
    for page in pages:
        group.append(page)
        weight += page.path.stat().st_size * 8  # gzip shrinks HTML about 5-10 times
        if len(group) >= size or weight >= BATCH_BYTES:
            yield group
            group, weight = [], 0
    if group:
        yield group


def _timed_post(client: Any, documents: list[dict[str, str]]) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.post("/documents", json={"documents": documents})
    return response, (time.perf_counter() - started) * 1000


def _reason(response: Any) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return str(response.text[:300])


def _expect(response: Any, status: int, what: str) -> None:
    if response.status_code != status:
        raise BadRequest(f"{what} answered {response.status_code}: {response.text[:300]}")


# ---- the service --------------------------------------------------------------------


@contextmanager
def intake_client(
    settings: Any, url: str | None = None, api_key: str | None = None, timeout: float = 300.0
) -> Iterator[Any]:
    """An httpx client of the service that sends the write key: of the server at `url`, or
    of the app run in process on a throw-away data dir (the settings' seeds, the hashing
    embedder: embedding does not change the stored text, and the model would only slow
    the run)."""
    import httpx

    if url:
        if not api_key:
            raise BadRequest(
                "POST /documents needs the server's write key: give --api-key (or PARALLAX_API_KEY)"
            )
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout) as client:
            try:
                client.get("/health")
            except httpx.HTTPError as exc:
                raise BadRequest(f"cannot reach {url}: {exc}") from None
            yield client
        return

    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from api.app import create_app

    key = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="parallax-extract-") as directory:
        config = settings.model_copy(
            update={"data_dir": Path(directory), "embedder": "hashing", "api_key": SecretStr(key)}
        )
        with TestClient(create_app(config), headers={"Authorization": f"Bearer {key}"}) as client:
            _wait_ready(client)
            yield client


def _wait_ready(client: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while (response := client.get("/health")).status_code != 200:
        if time.monotonic() > deadline:
            raise BadRequest(f"the in-process service never became ready: {response.text[:300]}")
        time.sleep(0.05)


# ---- what the command prints --------------------------------------------------------

_LINE = (
    "precision={precision} recall={recall} f1={f1} pages={pages} refused={refused} "
    "ms_per_page={ms_per_page}"
)


def extraction_output(
    title: str, result: Mapping[str, Any], verbose: bool = False
) -> list[Table | str]:
    """The scores as a table, the refused pages, the worst pages (verbose) and one line."""
    metrics = result["metrics"]
    ms = "-" if metrics["ms_per_page"] is None else f"{metrics['ms_per_page']:.1f}"
    rows = [
        ["precision", cell(metrics["precision"])],
        ["recall", cell(metrics["recall"])],
        ["f1", f"{cell(metrics['f1'])} ± {cell(metrics['f1_std'])}"],
        ["exact (same tokens)", cell(metrics["accuracy"])],
        ["pages", metrics["pages"]],
        ["refused (422)", metrics["refused"]],
        ["ms per page (POST)", ms],
    ]
    shown: list[Table | str] = [table(title, ["metric", "value"], rows)]
    shown.extend(f"refused: {r['url'] or r['id']}: {r['reason']}" for r in result["refused"])
    if verbose:
        worst = (
            [r["url"] or r["id"], cell(r["precision"]), cell(r["recall"]), cell(r["f1"])]
            for r in result["worst"]
        )
        shown.append(table(f"the {WORST} worst pages", ["url", "P", "R", "F1"], worst))
    shown.append(_LINE.format_map({**{k: cell(v) for k, v in metrics.items()}, "ms_per_page": ms}))
    return shown
