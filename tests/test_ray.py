"""`parallax build --ray` on a local Ray instance with two CPUs (issue 17): the same
documents built with and without Ray give the same passages, vectors and stories; a
worker that dies is retried without a duplicate passage; a killed driver leaves the index
as it was before the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.columns import document_line
from index.documents import Document
from index.embed import EmbedderOptions, HashingEmbedder
from index.errors import ParallaxError
from index.live import Chunking, LiveIndex, open_index
from index.store import IndexStore

ray = pytest.importorskip("ray", reason="the 'ray' extra is not installed")

import index.distributed as distributed  # noqa: E402 - needs ray to mean anything

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def archive(seed_documents: list[Document]) -> list[Document]:
    """The seeds and, when the shared data is beside the repo, 60 Reuters articles."""
    from evaluation.bench import reuters_documents
    from evaluation.datasets import DEFAULT_REUTERS

    more = reuters_documents(DEFAULT_REUTERS, 60) if DEFAULT_REUTERS.is_file() else []
    return [*seed_documents, *more]


def passages_of(live: LiveIndex) -> dict[tuple[str, int, int], int]:
    return {(p.doc_id, p.char_start, p.char_end): n for n, p in enumerate(live.corpus.passages)}


def test_a_ray_build_gives_the_passages_vectors_and_stories_of_a_local_one(
    tmp_path: Path, local_ray: None, model_embedder: Any, archive: list[Document]
) -> None:
    local = open_index(tmp_path / "local" / "index", model_embedder, Chunking())
    local.replace_all(archive)
    # The workers load the model from the same files, in the precision probed here.
    options = EmbedderOptions(
        "model", cache=model_embedder.query.cache_dir, precision=model_embedder.batch.precision
    )
    directory = tmp_path / "ray" / "index"
    remote = open_index(directory, model_embedder, Chunking())
    job = distributed.RayBuild(directory, options, Chunking(), workers=2, batch_documents=16)
    remote.replace_all(archive, remote=job)

    assert len(remote.corpus.segments) == -(-len(archive) // 16)  # one part a batch at most
    mine, theirs = passages_of(local), passages_of(remote)
    assert set(mine) == set(theirs)
    here, there = np.asarray(local.corpus.vectors), np.asarray(remote.corpus.vectors)
    cosines = [float(here[mine[key]] @ there[theirs[key]]) for key in mine]
    assert min(cosines) >= 0.9999
    assert dict(remote.corpus.stories.story_of) == dict(local.corpus.stories.story_of)
    assert remote.corpus.stories.headline == local.corpus.stories.headline

    reread = IndexStore(directory).load(remote.corpus.model, remote.corpus.dim)
    assert dict(reread.stories.story_of) == dict(local.corpus.stories.story_of)


def test_a_worker_that_dies_is_retried_and_no_passage_is_stored_twice(
    tmp_path: Path, local_ray: None, archive: list[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    died = tmp_path / "died"

    class DiesOnce(distributed.WritePart):
        """Dies (the whole actor process) once, after writing its first part."""

        def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
            written = super().__call__(batch)
            if not died.exists():
                died.touch()
                os._exit(1)
            return written

    monkeypatch.setattr(distributed, "WritePart", DiesOnce)
    directory = tmp_path / "index"
    live = open_index(directory, HashingEmbedder(), Chunking())
    options = EmbedderOptions("hashing")
    job = distributed.RayBuild(directory, options, Chunking(), workers=2, batch_documents=8)
    live.replace_all(archive, remote=job)

    assert died.exists()
    local = open_index(tmp_path / "local", HashingEmbedder(), Chunking())
    local.replace_all(archive)
    assert len(live.corpus.passages) == len(local.corpus.passages)
    assert len(passages_of(live)) == len(live.corpus.passages)  # no passage twice
    assert set(live.corpus.documents) == {d.id for d in archive}
    on_disk = {p.name for p in directory.iterdir() if p.name.startswith("segment-")}
    assert on_disk == {s.name for s in live.corpus.segments}


def test_a_killed_driver_leaves_the_index_of_before_the_job(
    tmp_path: Path, env: dict[str, str], seed_documents: list[Document]
) -> None:
    from evaluation.bench import reuters_documents
    from evaluation.datasets import DEFAULT_REUTERS

    if not DEFAULT_REUTERS.is_file():
        pytest.skip("needs the shared Reuters data for a job long enough to interrupt")
    source = tmp_path / "archive.jsonl"
    source.write_bytes(b"".join(document_line(d) for d in reuters_documents(DEFAULT_REUTERS, 3000)))
    environment = {**os.environ, **env, "HF_HUB_OFFLINE": "1"}
    parallax = [str(Path(sys.executable).with_name("parallax"))]
    subprocess.run([*parallax, "build"], env=environment, cwd=REPO, check=True, capture_output=True)
    index = Path(env["PARALLAX_DATA_DIR"]) / "index"
    before = (index / "manifest.json").read_bytes()
    known = {p.name for p in index.iterdir()}

    driver = subprocess.Popen(
        [*parallax, "build", str(source), "--ray", "local"],
        env=environment,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and driver.poll() is None:
            if any(p.name.startswith("segment-") for p in index.iterdir() if p.name not in known):
                break  # a worker has begun writing a part
            time.sleep(0.02)
        assert driver.poll() is None, "the job ended before it could be interrupted"
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
    finally:
        # Ray's agents outlive a killed driver (Ray 2.60); take its whole session down.
        with_suppressed(lambda: os.killpg(driver.pid, signal.SIGKILL))

    assert (index / "manifest.json").read_bytes() == before
    reopened = open_index(index, HashingEmbedder(), Chunking())
    assert set(reopened.corpus.documents) == {d.id for d in seed_documents}

    # Run again to the end: it publishes, and no part of the killed job is left behind.
    finished = subprocess.run(
        [*parallax, "build", str(source), "--ray", "local"],
        env=environment,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    corpus = IndexStore(index).load(reopened.corpus.model, reopened.corpus.dim)
    assert len(corpus.documents) == 3000
    on_disk = {p.name for p in index.iterdir() if p.name.startswith("segment-")}
    assert on_disk == {s.name for s in corpus.segments}


def with_suppressed(action: Any) -> None:
    try:
        action()
    except ProcessLookupError:
        pass


def test_without_an_address_ray_runs_on_this_machine_and_workers_default_to_its_cpus(
    tmp_path: Path, local_ray: None, seed_documents: list[Document]
) -> None:
    directory = tmp_path / "index"
    live = open_index(directory, HashingEmbedder(), Chunking())
    job = distributed.RayBuild(directory, EmbedderOptions("hashing"), Chunking())
    report = live.replace_all(seed_documents, remote=replace(job, batch_documents=2))
    assert report.added == [d.id for d in seed_documents]
    assert len(live.corpus.segments) == 3


def test_a_batch_that_fails_fails_the_job_with_its_reason_and_publishes_nothing(
    tmp_path: Path,
    local_ray: None,
    seed_documents: list[Document],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Fails(distributed.WritePart):
        def write(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
            raise OSError("No space left on device")

    monkeypatch.setattr(distributed, "WritePart", Fails)
    directory = tmp_path / "index"
    live = open_index(directory, HashingEmbedder(), Chunking(), seed_documents[:1])
    manifest = (directory / "manifest.json").read_bytes()
    job = distributed.RayBuild(directory, EmbedderOptions("hashing"), Chunking(), workers=1)
    with pytest.raises(
        ParallaxError, match="OSError: No space left on device .*nothing was published"
    ):
        live.upsert(seed_documents[1:], remote=job)
    assert (directory / "manifest.json").read_bytes() == manifest
    assert set(live.corpus.documents) == {seed_documents[0].id}
