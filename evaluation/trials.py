"""Kill a real server with SIGKILL during ingest, restart it, and check that nothing was lost.

    .venv/bin/python -m evaluation.trials --trials 100 [--seed 0] [--workers 2] [--workdir DIR]

Each trial starts `parallax serve` (hashing embedder) on a fresh copy of the seeds' index,
posts small batches of new documents from a client thread (with an occasional
replacement or delete of an acknowledged one) while the server merges its segments
in the background (a small merge policy, so merges are frequent), sends SIGKILL after
a random delay, restarts the server on the same directory and checks:

- every acknowledged document is there, with the text last acknowledged for it,
  and a lexical search for its distinctive word finds it; an acknowledged
  delete stays deleted; a request cut off by the kill left either state;
- `/health` counts equal what `GET /documents` lists and the sum of its
  passage counts, and every listed passage is a slice of its document's text;
- the index directory, read directly, is the generation `/health` reports and
  holds exactly the server's documents and passages, with the vectors and
  sentence vectors of exactly those passages;
- every document is in exactly one story, on disk and in `GET /stories`, each
  story's headline is one of its documents, and an acknowledged document is in
  the story its last acknowledged write said (story ids survive the kill).

A missing or unsearchable acknowledged document counts as lost; any other
disagreement as a mismatch. The exit status is 1 unless both are 0.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from evaluation.server import free_port, serve_command, wait_for
from index.embed import HashingEmbedder
from index.errors import ParallaxError
from index.store import IndexStore

ROOT = Path(__file__).resolve().parent.parent

KEY = "k"
AUTH = {"Authorization": f"Bearer {KEY}"}
START_TIMEOUT = 30.0  # seconds for a server to answer /health 200
REQUEST_TIMEOUT = 10.0
MAX_REQUESTS = 500  # per trial, a bound on the writer loop besides the kill
MIN_DELAY, MAX_DELAY = 0.05, 1.5  # seconds of ingest before the kill
# The servers' merge policy: two small segments are folded at once. With three, 4 to 6
# of the durability test's 20 trials merged, and its floor of 5 failed a CI run; with two,
# 7 and 9 (a trial killed within a few writes merges nothing either way).
MERGE_FACTOR, MERGE_FLOOR = 2, 40
# Consonants only, without s, y or l: a stemmer leaves these words whole.
_LETTERS = "bcdfghjkmnpqrtvwxz"


@dataclass(frozen=True)
class TrialReport:
    """What a run of kill trials found; `lost` and `mismatches` must both be 0."""

    trials: int
    acknowledged: int
    lost: int
    mismatches: int
    cut_requests: int = 0  # requests in flight when the server was killed
    mid_write_kills: int = 0  # kills that left a half-written *.tmp file behind
    mid_merge_kills: int = 0  # kills that left a merge's segment written but not published
    merged_trials: int = 0  # trials whose index holds a merged segment at the end
    seconds: float = 0.0
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.mismatches == 0

    def summary(self) -> str:
        return (
            f"trials={self.trials} acknowledged={self.acknowledged} lost={self.lost} "
            f"mismatches={self.mismatches} cut_requests={self.cut_requests} "
            f"mid_write_kills={self.mid_write_kills} mid_merge_kills={self.mid_merge_kills} "
            f"merged_trials={self.merged_trials} seconds={self.seconds:.1f}"
        )


@dataclass
class _Expected:
    """What the restarted server must hold, from the responses the writer saw."""

    must_have: dict[str, str] = field(default_factory=dict)  # id -> last acknowledged text
    maybe: dict[str, set[str]] = field(default_factory=dict)  # cut off: absent or one of these
    deleted: set[str] = field(default_factory=set)  # acknowledged deletes
    words: dict[str, str] = field(default_factory=dict)  # id -> its distinctive word
    acknowledged: set[str] = field(default_factory=set)  # ids ever acknowledged by a POST
    stories: dict[str, str] = field(default_factory=dict)  # id -> story its last POST gave
    cut_requests: int = 0
    problems: list[str] = field(default_factory=list)  # unexpected responses before the kill


def run_trials(trials: int, seed: int, workdir: Path, *, workers: int = 1) -> TrialReport:
    """Run `trials` kill-and-restart trials in `workdir`, `workers` at a time.

    Each trial has its own data directory and port; the seed fixes every trial's delay
    and documents whatever the number of workers.
    """
    rng = random.Random(seed)
    plans = [(rng.randrange(2**32), rng.uniform(MIN_DELAY, MAX_DELAY)) for _ in range(trials)]
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # One server builds the seed index; each trial starts from a copy (a build costs a start).
    template = workdir / "seeded"
    with _server(template, workdir / "seeded.log"):
        pass

    def trial(number: int) -> TrialReport:
        directory = workdir / f"trial-{number:04d}"
        shutil.copytree(template, directory / "data")
        result = _run_trial(number, *plans[number], directory)
        if result.ok:
            # Keep the directories of failed trials only, for a post-mortem.
            shutil.rmtree(directory, ignore_errors=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(trial, range(trials)))
    return TrialReport(
        trials=trials,
        acknowledged=sum(r.acknowledged for r in results),
        lost=sum(r.lost for r in results),
        mismatches=sum(r.mismatches for r in results),
        cut_requests=sum(r.cut_requests for r in results),
        mid_write_kills=sum(r.mid_write_kills for r in results),
        mid_merge_kills=sum(r.mid_merge_kills for r in results),
        merged_trials=sum(r.merged_trials for r in results),
        seconds=time.monotonic() - started,
        problems=tuple(
            f"trial {number}: {problem}"
            for number, result in enumerate(results)
            for problem in result.problems
        ),
    )


def _run_trial(trial: int, writer_seed: int, delay: float, directory: Path) -> TrialReport:
    """Start, ingest, SIGKILL after `delay` seconds, restart, verify."""
    directory.mkdir(parents=True, exist_ok=True)
    data_dir = directory / "data"  # the seeds, indexed
    log_path = directory / "server.log"
    expected = _Expected()
    stop = threading.Event()
    with _server(data_dir, log_path) as url:
        seed_ids = set(_list_documents(url))
        writer = threading.Thread(
            target=_write_until_stopped,
            args=(url, trial, random.Random(writer_seed), stop, expected),
            name=f"writer-{trial}",
            daemon=True,
        )
        writer.start()
        time.sleep(delay)
        # Leaving the block kills the server with SIGKILL, in the middle of the writer's work.
    stop.set()
    writer.join(REQUEST_TIMEOUT + 5)
    if writer.is_alive():
        expected.problems.append("the writer thread did not stop after the kill")
    mid_write = int(any((data_dir / "index").glob("*.tmp")))
    mid_merge = int(bool(_unpublished_merges(data_dir / "index")))
    try:
        with _server(data_dir, log_path) as url:
            lost, lost_messages, problems = _verify(url, data_dir / "index", expected, seed_ids)
    except ServerNotReady as exc:
        # Not coming back after a kill is a durability failure, not a broken test run.
        lost, lost_messages, problems = len(expected.must_have), [str(exc)], []
    except (ParallaxError, httpx.HTTPError, OSError, ValueError, KeyError) as exc:
        # An index on disk that cannot be read, or a server that fails the checks' requests.
        lost, lost_messages, problems = 0, [], [f"the checks failed: {exc!r}"]
    problems = expected.problems + problems
    return TrialReport(
        trials=1,
        acknowledged=len(expected.acknowledged),
        lost=lost,
        mismatches=len(problems),
        cut_requests=expected.cut_requests,
        mid_write_kills=mid_write,
        mid_merge_kills=mid_merge,
        merged_trials=int(_has_merged_segment(data_dir / "index")),
        problems=tuple(lost_messages + problems),
    )


_MERGED = re.compile(r"^segment-\d+-\d+(\.tmp)?$")


def _unpublished_merges(index_dir: Path) -> list[str]:
    """Merged segment folders (whole or half written) that the manifest does not name."""
    try:
        named = {s["name"] for s in IndexStore(index_dir).read_manifest().segments}
    except (OSError, ValueError, ParallaxError):
        return []
    return [p.name for p in index_dir.iterdir() if _MERGED.match(p.name) and p.name not in named]


def _has_merged_segment(index_dir: Path) -> bool:
    try:
        segments = IndexStore(index_dir).read_manifest().segments
    except (OSError, ValueError, ParallaxError):
        return False
    return any(_MERGED.match(s["name"]) for s in segments)


class ServerNotReady(RuntimeError):
    """A `parallax serve` child that never answered /health 200."""


@contextmanager
def _server(data_dir: Path, log_path: Path) -> Iterator[str]:
    """A `parallax serve` child on a free port, ready; SIGKILLed when the block ends."""
    last = "no answer"
    for _ in range(3):
        port = free_port()
        process = _spawn(port, data_dir, log_path)
        try:
            healthy, last = _wait_healthy(process, port)
            if healthy:
                yield f"http://127.0.0.1:{port}"
                return
            if process.poll() is None:
                break  # up but not ready (loading too long, or a damaged index): no retry
        finally:
            _kill(process)
        # A port taken between probing and binding makes the child exit; try another one.
    raise ServerNotReady(
        f"the server in {data_dir} never became healthy (last /health: {last}); "
        f"{log_path} ends with:\n{_tail(log_path)}"
    )


def _spawn(port: int, data_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    command = serve_command(
        port,
        "--data-dir",
        str(data_dir),
        "--embedder",
        "hashing",
        "--api-key",
        KEY,
        "--seeds-dir",
        str(ROOT / "seeds"),
        "--log-level",
        "warning",
        # Small merges, often: most trials merge, and some are killed in the middle of one.
        "--merge-factor",
        str(MERGE_FACTOR),
        "--merge-floor",
        str(MERGE_FLOOR),
    )
    # Only the flags configure the child, not PARALLAX_* variables of whoever runs this.
    env = {name: value for name, value in os.environ.items() if not name.startswith("PARALLAX_")}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
        )


def _wait_healthy(process: subprocess.Popen[bytes], port: int) -> tuple[bool, str]:
    """Poll /health until 200, an error status, the child's exit or the timeout."""
    last = "no answer"

    def healthy() -> bool | None:
        nonlocal last
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
        except httpx.HTTPError:
            return None
        last = f"{response.status_code} {response.text}"
        if response.status_code == 200:
            return True
        try:
            return False if response.json().get("status") == "error" else None
        except ValueError:
            return None

    return wait_for(healthy, START_TIMEOUT, process), last


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# The writer


def _write_until_stopped(
    url: str, trial: int, rng: random.Random, stop: threading.Event, expected: _Expected
) -> None:
    """POST batches of new documents (now and then a replacement or a delete) until cut off."""
    serial = 0
    with httpx.Client(base_url=url, headers=AUTH, timeout=REQUEST_TIMEOUT) as client:
        for _ in range(MAX_REQUESTS):
            if stop.is_set():
                return
            choice = rng.random()
            if choice < 0.1 and expected.must_have:
                doc_id = rng.choice(sorted(expected.must_have))
                if not _delete(client, doc_id, expected):
                    return
                continue
            batch: list[dict[str, Any]] = []
            if choice < 0.2 and expected.must_have:
                doc_id = rng.choice(sorted(expected.must_have))
                batch.append(_document(doc_id, expected.words[doc_id], rng))
            for _ in range(rng.randint(1, 3) - len(batch)):
                serial += 1
                doc_id = f"kill-{trial:04d}-{serial:05d}"
                expected.words[doc_id] = _word(trial * 100_000 + serial)
                batch.append(_document(doc_id, expected.words[doc_id], rng))
            if not _post(client, batch, expected):
                return


def _post(client: httpx.Client, batch: list[dict[str, Any]], expected: _Expected) -> bool:
    try:
        response = client.post("/documents", json={"documents": batch})
    except httpx.HTTPError:
        # Cut off by the kill: each document may hold its old state or the new one.
        expected.cut_requests += 1
        for doc in batch:
            versions = expected.maybe.setdefault(doc["id"], set())
            versions.add(doc["text"])
            if doc["id"] in expected.must_have:
                versions.add(expected.must_have.pop(doc["id"]))
        return False
    if response.status_code != 200:
        expected.problems.append(f"POST /documents got {response.status_code}: {response.text}")
        return False
    story_ids = response.json().get("story_ids", {})
    for doc in batch:
        expected.must_have[doc["id"]] = doc["text"]
        expected.acknowledged.add(doc["id"])
        expected.stories[doc["id"]] = story_ids.get(doc["id"], "")
    # Writes never move another document to another story, so earlier answers still hold.
    return True


def _delete(client: httpx.Client, doc_id: str, expected: _Expected) -> bool:
    try:
        response = client.delete(f"/documents/{doc_id}")
    except httpx.HTTPError:
        expected.cut_requests += 1
        expected.maybe[doc_id] = {expected.must_have.pop(doc_id)}
        return False
    if response.status_code != 200:
        expected.problems.append(f"DELETE {doc_id} got {response.status_code}: {response.text}")
        return False
    del expected.must_have[doc_id]
    expected.deleted.add(doc_id)
    return True


def _word(number: int) -> str:
    letters = []
    while True:
        number, digit = divmod(number, len(_LETTERS))
        letters.append(_LETTERS[digit])
        if not number:
            break
    return "zq" + "".join(reversed(letters))


def _document(doc_id: str, word: str, rng: random.Random) -> dict[str, Any]:
    """A document of 1-30 sentences (often more than one passage) naming `word`."""
    version = rng.randrange(10**6)
    sentences = [f"The {word} council met on day {version} to discuss the harbour plan."]
    for n in range(rng.randint(0, 29)):
        sentences.append(
            f"Witness {n} told reporters that {rng.randint(2, 900)} residents attended the "
            f"{rng.choice(['morning', 'evening', 'late'])} session about the {word} bridge."
        )
    return {"id": doc_id, "text": " ".join(sentences), "source": "Kill Trials", "title": word}


# The checks after the restart


def _list_documents(url: str) -> dict[str, int]:
    """Every listed document id with its passage count, page by page."""
    listed: dict[str, int] = {}
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        for _ in range(10_000):
            page = client.get("/documents", params={"offset": len(listed), "limit": 1000})
            page.raise_for_status()
            body = page.json()
            listed.update((doc["id"], doc["passages"]) for doc in body["documents"])
            if not body["documents"] or len(listed) >= body["total"]:
                break
    return listed


def _verify(
    url: str, index_dir: Path, expected: _Expected, seed_ids: set[str]
) -> tuple[int, list[str], list[str]]:
    """Check the restarted server and its directory: (lost, what was lost, other problems)."""
    lost: list[str] = []
    problems: list[str] = []
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        health = client.get("/health").json()
        listed = _list_documents(url)
        if (health["documents"], health["passages"]) != (len(listed), sum(listed.values())):
            problems.append(
                f"/health says {health['documents']} documents and {health['passages']} "
                f"passages, GET /documents lists {len(listed)} and {sum(listed.values())}"
            )
        served: dict[str, dict[str, Any]] = {}
        for doc_id in listed:
            response = client.get(f"/documents/{doc_id}")
            if response.status_code != 200:
                problems.append(f"{doc_id} is listed but GET gives {response.status_code}")
                continue
            doc = served[doc_id] = response.json()
            if len(doc["passages"]) != listed[doc_id]:
                problems.append(
                    f"{doc_id}: listed with {listed[doc_id]} passages, GET gives "
                    f"{len(doc['passages'])}"
                )
            for passage in doc["passages"]:
                if doc["text"][passage["char_start"] : passage["char_end"]] != passage["text"]:
                    problems.append(f"{passage['passage_id']} is not a slice of its document")

        for doc_id, text in expected.must_have.items():
            if doc_id not in served:
                lost.append(f"acknowledged {doc_id} is missing")
                continue
            if served[doc_id]["text"] != text:
                problems.append(f"{doc_id} does not hold its last acknowledged text")
            word = expected.words[doc_id]
            found = client.post("/search", json={"query": word, "mode": "lexical", "k": 10})
            hits = found.json()["hits"] if found.status_code == 200 else []
            if doc_id not in {hit["doc_id"] for hit in hits}:
                lost.append(f"acknowledged {doc_id} is not found by a search for {word!r}")
        for doc_id, versions in expected.maybe.items():
            if doc_id in served and served[doc_id]["text"] not in versions:
                problems.append(f"{doc_id}, cut off mid-write, holds a text never sent for it")
        for doc_id in sorted(expected.deleted & set(served)):
            problems.append(f"{doc_id} was deleted (acknowledged) but is back")
        known = seed_ids | set(expected.must_have) | set(expected.maybe) | expected.deleted
        for doc_id in sorted(set(served) - known):
            problems.append(f"{doc_id} is served but was never acknowledged nor cut off")
        story_of = _list_stories(client, problems)

    for doc_id in sorted(set(served) ^ set(story_of)):
        problems.append(f"{doc_id}: served but in no story, or in a story but not served")
    for doc_id in expected.must_have:
        if doc_id in story_of and expected.stories.get(doc_id) != story_of[doc_id]:
            problems.append(
                f"{doc_id} was acknowledged in story {expected.stories.get(doc_id)!r}, after "
                f"the restart it is in {story_of[doc_id]!r}"
            )
    problems += _compare_with_disk(index_dir, health, served, story_of)
    return len(lost), lost, problems


def _list_stories(client: httpx.Client, problems: list[str]) -> dict[str, str]:
    """Each document's story from GET /stories and GET /stories/{id}, checking that no
    document is in two stories and each story's count matches its documents."""
    story_of: dict[str, str] = {}
    listed: list[dict[str, Any]] = []
    for _ in range(10_000):
        page = client.get("/stories", params={"offset": len(listed), "limit": 1000})
        page.raise_for_status()
        body = page.json()
        listed.extend(body["stories"])
        if not body["stories"] or len(listed) >= body["total"]:
            break
    for story in listed:
        detail = client.get(f"/stories/{story['id']}").json()
        members = [d["id"] for d in detail["documents"]]
        if len(members) != story["documents"] or not members:
            problems.append(
                f"story {story['id']} lists {story['documents']} documents, has {members}"
            )
        for doc_id in members:
            if doc_id in story_of:
                problems.append(f"{doc_id} is in stories {story_of[doc_id]} and {story['id']}")
            story_of[doc_id] = story["id"]
    return story_of


def _compare_with_disk(
    index_dir: Path,
    health: dict[str, Any],
    served: dict[str, dict[str, Any]],
    story_of: dict[str, str],
) -> list[str]:
    """The committed generation on disk is the one served, passage for passage, vector for
    vector and story for story."""
    store = IndexStore(index_dir)
    manifest = store.read_manifest()
    corpus = store.load("hashing", 384)
    problems = []
    if not manifest.generation == corpus.generation == health["generation"]:
        problems.append(
            f"generation: manifest {manifest.generation}, loaded {corpus.generation}, "
            f"/health {health['generation']}"
        )
    on_disk = {
        doc_id: [
            (p.passage_id, p.char_start, p.char_end, p.text) for p in corpus.passages_of(doc_id)
        ]
        for doc_id in corpus.documents
    }
    by_server = {
        doc_id: [
            (p["passage_id"], p["char_start"], p["char_end"], p["text"]) for p in doc["passages"]
        ]
        for doc_id, doc in served.items()
    }
    if on_disk != by_server:
        differ = sorted(
            doc_id
            for doc_id in on_disk.keys() | by_server.keys()
            if on_disk.get(doc_id) != by_server.get(doc_id)
        )
        problems.append(f"passages on disk and on the server differ for {differ[:5]}")
    for doc_id, doc in corpus.documents.items():
        if doc_id in served and doc.text != served[doc_id]["text"]:
            problems.append(f"{doc_id}: the text on disk differs from the served text")
    if dict(corpus.stories.story_of) != story_of:
        problems.append("the stories on disk are not those the server lists")
    for story, headline in corpus.stories.headline.items():
        if corpus.stories.story_of.get(headline) != story:
            problems.append(f"story {story}'s headline {headline} is not one of its documents")
    embedder = HashingEmbedder(dim=corpus.dim)
    if corpus.passages:
        passages = embedder.encode([p.text for p in corpus.passages])
        sentences = embedder.encode([s for p in corpus.passages for s in p.sentence_texts()])
        if not np.allclose(corpus.vectors, passages, atol=1e-6):
            problems.append("the passage vectors on disk are not those of the stored passages")
        # Sentence vectors are stored in 8 bits: components within 1/254 (index/quantize.py).
        if not np.allclose(corpus.sentence_vectors, sentences, atol=4e-3):
            problems.append("the sentence vectors on disk are not those of the stored sentences")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100, help="kill-and-restart trials to run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the delays and documents")
    parser.add_argument("--workers", type=int, default=2, help="trials run at the same time")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where data dirs go (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.workdir is None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="kill-trials-") as workdir:
            report = run_trials(args.trials, args.seed, Path(workdir), workers=args.workers)
    else:
        report = run_trials(args.trials, args.seed, args.workdir, workers=args.workers)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
