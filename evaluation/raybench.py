"""`parallax bench --ray`: the Ray build (index/distributed.py) against the single-process
build, on all of Reuters, on this machine.

Four builds from scratch of the same documents, each in a fresh data dir sharing one
model cache, each timed from the call to the published index (story placement and, for
Ray, starting Ray and merging the parts the job leaves, as `parallax build --ray` does):

- the single-process build, its encoder on every core (what `parallax build` does);
- the same on one core;
- Ray with one worker (one core), and with two.

Ray with two workers against the first gives the throughput ratio the issue sets a floor
on; one worker against the one-core build gives what Ray adds per document (starting the
instance and the actors, moving the documents, writing and reading back the parts, the
merges), since both embed on one core.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.state import embedder_from_settings
from index.documents import Document
from index.live import Chunking, open_index


def bench_ray(settings: Settings, documents: Sequence[Document]) -> dict[str, Any]:
    """The four builds of `documents`; each row's throughput and its ratio to the first."""
    import ray

    from index.distributed import RayBuild, worker_options

    with tempfile.TemporaryDirectory(prefix="parallax-raybench-") as scratch:
        root = Path(scratch)
        models = root / "models"
        embedder = embedder_from_settings(settings, models)
        options = worker_options(settings.embedder_options(models), embedder)
        chunking = Chunking(settings.chunk_tokens, settings.chunk_overlap)

        def build(name: str, threads: int = 0, workers: int = 0) -> dict[str, Any]:
            directory = root / name / "index"
            local = settings.model_copy(update={"threads": threads})
            live = open_index(
                directory,
                embedder_from_settings(local, models),
                chunking,
                stories=settings.story_options(),
                merges=settings.merge_policy(),
            )
            job = None
            if workers:
                job = RayBuild(directory, options, chunking, address=None, workers=workers)
            started = time.perf_counter()
            report = live.replace_all(documents, remote=job)
            merged = live.merge_all() if job is not None else 0
            seconds = time.perf_counter() - started
            if workers:
                ray.shutdown()  # each Ray run starts its own instance, as a command does
            shutil.rmtree(directory.parent)
            return {
                "run": name,
                "workers": workers,
                "seconds": round(seconds, 1),
                "passages": report.passages,
                "passages_per_s": round(report.passages / seconds, 1),
                "merges": merged,
                "story_seconds": round(report.story_seconds, 1),  # the driver's own part
            }

        runs = [
            build("single process, every core"),
            build("single process, one core", threads=1),
            build("ray, 1 worker", workers=1),
            build("ray, 2 workers", workers=2),
        ]
    first = runs[0]["passages_per_s"]
    for run in runs:
        run["x_single_process"] = round(run["passages_per_s"] / first, 2)
    one_core, one_worker = runs[1], runs[2]
    return {
        "documents": len(documents),
        "runs": runs,
        "ray_overhead_ms_per_document": round(
            (one_worker["seconds"] - one_core["seconds"]) * 1000 / len(documents), 2
        ),
        "speedup_1_to_2_workers": round(runs[3]["passages_per_s"] / runs[2]["passages_per_s"], 2),
    }
