"""Building an archive's index on a Ray cluster (`parallax build FILE --ray`, issue 17).

Embedding is the cost of ingest: about 130 passages a second on two cores here, so an
archive of millions of articles is days of one machine. `RayBuild` hands that part to a
Ray cluster and leaves the rest to the one writer (`LiveIndex`), as any write does:

1. The driver reads and checks the file, orders the documents oldest first and skips
   those the index already holds unchanged (exactly as `LiveIndex.upsert` does).
2. Ray Data takes the documents as a dataset and runs `map_batches` over a pool of actors,
   each loading the service's own `Embedder` once. An actor chunks and embeds a batch and
   writes it as one segment, in the index's own format, into the index directory
   (`IndexStore.write_part`: no stories yet, no manifest names it).
3. The driver reads the parts back (mapped), places every document in a story in
   publication order with the same story matcher the service uses, and publishes all
   the parts with one manifest. Until then they are invisible: a job that fails or is
   killed publishes nothing, and the next save of any writer removes its parts.

A part is named after the position of its first document (`RemoteBuild`), so a batch
that Ray runs again (its actor died) writes the same folder again, and the driver checks
that the parts it is told about hold every document exactly once before it publishes.

Ray is an optional dependency (`pip install .[ray]`); nothing else imports this module.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from index.columns import document_line
from index.corpus import segment_name
from index.documents import Document, parse_document
from index.embed import EmbedderOptions, make_embedder
from index.errors import ParallaxError
from index.pipeline import Chunking, embed_documents
from index.segment import Segment
from index.store import IndexStore

log = logging.getLogger(__name__)

# Documents per part (one segment each). Larger parts mean fewer segments for the merges
# to fold; smaller ones spread a small job over more workers. Reuters averages 1.5
# passages a document, so a part is about 750 passages.
BATCH_DOCUMENTS = 500


class RayUnavailable(ParallaxError):
    """`--ray` was asked for but Ray is not installed, or its cluster cannot be reached."""

    code = "ray_unavailable"


@dataclass(frozen=True)
class RayBuild:
    """Chunk, embed and write documents on Ray (a `RemoteBuild` for `LiveIndex`).

    `address` is Ray's own: None starts a Ray instance on this machine (with `workers`
    CPUs), "auto" joins the cluster this machine belongs to (`ray start`), and
    "ray://HOST:10001" one reached through Ray Client. Every worker must see the index
    directory at the same path (a shared file system) and have parallax installed.
    """

    index_dir: Path
    embedder: EmbedderOptions
    chunking: Chunking
    address: str | None = None
    workers: int | None = None  # actors in the pool; None: one per CPU of the cluster
    batch_documents: int = BATCH_DOCUMENTS
    progress: bool = False

    def write_segments(self, documents: Sequence[Document], first_generation: int) -> list[str]:
        if not documents:
            return []
        ray = _connect(self.address, self.workers)
        workers = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = self.progress
        rows = [{"position": n, "line": document_line(d)} for n, d in enumerate(documents)]
        with warnings.catch_warnings():
            # Ray 2.60 calls the retry keywords below deprecated, and names no replacement
            # that 2.60 takes (pyproject pins Ray below 2.64, which drops them).
            warnings.simplefilter("ignore", DeprecationWarning)
            mapped = ray.data.from_items(rows).map_batches(
                WritePart,
                fn_constructor_args=(
                    # One thread per actor: each takes a CPU of its own.
                    replace(self.embedder, threads=1),
                    self.chunking,
                    str(self.index_dir),
                    first_generation,
                ),
                batch_size=self.batch_documents,
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=1,
                # Ray runs a batch again when its actor dies (a machine lost, a process
                # killed), up to these counts; an error in the batch itself is not retried.
                max_restarts=4,
                max_task_retries=4,
            )
        return checked_parts(mapped.take_all(), documents, first_generation)


def worker_options(options: EmbedderOptions, embedder: Any) -> EmbedderOptions:
    """`options` for the workers, with the precision `embedder`'s batch encoder chose here
    (its probe runs once, on the driver), so every part is embedded alike."""
    precision = getattr(getattr(embedder, "batch", None), "precision", None)
    if precision in ("fp32", "bf16"):
        return replace(options, precision=precision)
    return options


def checked_parts(
    written: Sequence[dict[str, Any]], documents: Sequence[Document], first_generation: int
) -> list[str]:
    """The parts' names in document order, once their reports show that together they
    hold each of `documents` exactly once; otherwise nothing is published."""
    failed = [row for row in written if row.get("error")]
    if failed:
        raise ParallaxError(
            f"the Ray job failed: {failed[0]['error']} (in {len(failed)} of its {len(written)} "
            "batches); nothing was published"
        )
    parts = sorted(written, key=lambda row: int(row["first"]))
    ids = [doc_id for row in parts for doc_id in orjson.loads(row["ids"])]
    expected = [doc.id for doc in documents]
    if sorted(ids) != sorted(expected):
        missing = len(set(expected) - set(ids))
        repeated = len(ids) - len(set(ids))
        raise ParallaxError(
            f"the Ray job's parts hold {len(ids)} documents of {len(expected)} ({missing} "
            f"missing, {repeated} repeated); nothing was published, run the job again"
        )
    names = [str(row["name"]) for row in parts]
    for row, name in zip(parts, names, strict=True):
        if name != segment_name(first_generation + int(row["first"])):
            raise ParallaxError(f"the Ray job wrote an unexpected part {name!r}; run it again")
    return names


class WritePart:
    """A Ray actor: loads the embedder once, then writes each batch of documents it is
    given as one segment of the index (`IndexStore.write_part`)."""

    def __init__(
        self, options: EmbedderOptions, chunking: Chunking, index_dir: str, first_generation: int
    ) -> None:
        self.embedder = make_embedder(options)
        self.chunking = chunking
        self.store = IndexStore(index_dir)
        self.first_generation = first_generation

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        """The part's report; a batch that fails reports why (Ray would carry the error
        back only inside its own traceback) and is not run again."""
        try:
            return self.write(batch)
        except Exception as exc:  # noqa: BLE001 - reported to the driver, which stops the job
            reason = f"{type(exc).__name__}: {exc}"
            log.exception("a part of the Ray job failed")
            return {"name": [""], "first": [-1], "ids": ["[]"], "passages": [0], "error": [reason]}

    def write(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        positions = [int(n) for n in batch["position"]]
        documents = [
            parse_document(orjson.loads(line), f"document {n} of the job")
            for n, line in zip(positions, batch["line"], strict=True)
        ]
        # In the job's order (a batch is a run of consecutive documents as `from_items`
        # reads them; sorted to be sure): the part is named after its first.
        order = np.argsort(positions, kind="stable")
        documents = [documents[i] for i in order]
        first = positions[order[0]]
        embedded = embed_documents(self.embedder, self.chunking, documents)
        segment = Segment.build(
            segment_name(self.first_generation + first), embedded, self.embedder.dim
        )
        self.store.write_part(segment)
        return {
            "name": [segment.name],
            "first": [first],
            "ids": [orjson.dumps([doc.id for doc in documents]).decode()],
            "passages": [len(segment.passages)],
            "error": [""],
        }


def _connect(address: str | None, workers: int | None) -> Any:
    """Ray, initialised: joined to `address`, or a new local instance."""
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data is the extra's, and the build needs it
    except ImportError as exc:
        raise RayUnavailable(
            f"--ray needs Ray ({exc}); install it with `pip install '.[ray]'`"
        ) from None
    if ray.is_initialized():
        return ray
    try:
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailable(
            f"cannot reach the Ray cluster at {address!r} ({exc}); start it with "
            "`ray start --head`, or leave out the address to run Ray on this machine"
        ) from None
    return ray
