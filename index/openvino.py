"""The ingest encoder: the exported model on OpenVINO, with sentence vectors pooled per passage.

Two things make ingest fast here, each measured by `parallax bench`:

- OpenVINO runs the ONNX export (`index.encoder.exported_model`) in length-sorted batches of 8
  (padded to the batch's longest, rounded up to 16 tokens: `PAD_TO`), in bf16 where the
  CPU computes it natively and a probe at first load finds it faster than fp32 (the choice is
  kept beside the export), in fp32 otherwise. On one machine of this kind bf16
  ran at about 4x sentence-transformers fp32 (cosine 0.99998); on another, bf16
  was slower and OpenVINO fp32 ran at 1.6x.
- Sentence vectors come from the same forward pass as their passage: each
  sentence's vector is the mean of the passage's token states that fall in
  the sentence (plus the passage's [CLS] and [SEP], as in the model's own
  mean pooling), instead of a second pass over every sentence on its own.
  That halves the encoder's work; docs/performance.md, "Encoder backends" gives the
  retrieval quality of both ways.

No library pools token states over character spans, so that part is written here.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.chunk import Passage
from index.encoder import (
    PROBE_TEXTS,
    DocumentTokens,
    best_time,
    encode_separately,
    exported_model,
    max_seq_length,
    padded_batch,
    pool_sentences,
    resolve_precision,
)
from index.stages import stage

# Batches are padded to a multiple of this many tokens. OpenVINO prepares each input shape
# it has not run yet, and shapes it has run again cost it less: 2,903 Reuters passages
# encoded in 11.7 s padded to multiples of 16 against 13.2 s (first run) and 12.7 s
# (again) padded to each batch's longest; multiples of 8 and 32 were slower. The padding
# is masked: the vectors are the encoder's (max difference 0.0008, bf16's own between
# batchings).
PAD_TO = 16

# The tokenizer runs a batch on a thread per core (Rust's rayon) unless told not to. Ingest
# tokenises each document's sentences while the encoder computes (`index.pipeline`), and
# those threads then fought the encoder's for the two cores: 2,000 Reuters articles
# ingested in 17.0 s with them, 14.7 s without. Set before the tokenizer first runs; an
# explicit setting is kept.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class OpenVinoEmbedder:
    """Batch encoder on OpenVINO; `encode_passages` gives passage and sentence vectors at once."""

    def __init__(
        self,
        model: str,
        cache_dir: Path,
        threads: int = 0,
        precision: str = "auto",
        batch_size: int = 8,
        pooled_sentences: bool = True,
    ) -> None:
        from tokenizers import Tokenizer

        openvino = import_openvino()
        model_dir, path = exported_model(model, cache_dir)
        self.name = model
        self.max_tokens = max_seq_length(model_dir)
        self.batch_size = batch_size
        self.pooled_sentences = pooled_sentences
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()  # the packaged tokenizer pads to 128; pad per batch instead
        self._tokenizer.enable_truncation(self.max_tokens)
        threads = threads or os.cpu_count() or 1
        core = openvino.Core()
        compiled: dict[str, Any] = {}

        def compile_model(precision: str) -> Any:
            if precision not in compiled:
                compiled[precision] = core.compile_model(
                    str(path),
                    "CPU",
                    {
                        "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
                        # One stream on every core. Two single-thread streams fed by an
                        # AsyncInferQueue were 8% faster, but destroying that compiled
                        # model deadlocked now and then (OpenVINO 2026.4, joining its
                        # stream threads).
                        "PERFORMANCE_HINT": "LATENCY",
                        "INFERENCE_NUM_THREADS": threads,
                        # OpenVINO pins its threads to cores counted from core 0, so two
                        # one-thread encoders in two processes (a Ray build's workers)
                        # shared core 0 and each ran at half speed. Pin only when this
                        # encoder has every core.
                        "ENABLE_CPU_PINNING": threads >= (os.cpu_count() or 1),
                    },
                )
            return compiled[precision]

        def probe(precision: str) -> float:
            request = compile_model(precision).create_infer_request()
            inputs = padded_batch(self._tokenizer.encode_batch(PROBE_TEXTS))
            return best_time(lambda: request.infer(inputs))

        self.precision = resolve_precision(
            precision, probe, cache_dir, f"openvino {openvino.get_version()}"
        )
        self._compiled = compile_model(self.precision)
        compiled.clear()
        self.dim = int(self._compiled.output("embedding").get_partial_shape()[1].get_length())
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)

        def keep(row: int, embedding: np.ndarray, states: np.ndarray, encoding: Any) -> None:
            vectors[row] = embedding

        self._infer(list(texts), keep, progress)
        return vectors

    def encode_passages(
        self,
        passages: Sequence[Passage],
        *,
        progress: bool = False,
        idle: Callable[[], bool] | None = None,
        encodings: Sequence[Any] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each passage's vector, and a `(len(p.sentences), dim)` array of its sentences';
        `idle()` is called while a batch is computed, until it returns False. `encodings`
        are the passages' `tokenize`d texts, when the caller made them ahead."""
        if not self.pooled_sentences:
            return encode_separately(self, passages, progress=progress)
        vectors = np.zeros((len(passages), self.dim), dtype=np.float32)
        sentences: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(passages)

        def pool(row: int, embedding: np.ndarray, states: np.ndarray, encoding: Any) -> None:
            vectors[row] = embedding
            sentences[row] = pool_sentences(passages[row], embedding, states, encoding)

        self._infer([p.text for p in passages], pool, progress, idle, encodings)
        return vectors, sentences

    def document_tokens(self, text: str) -> DocumentTokens:
        """`text` tokenised once, for chunking to count and `encode_passages` to read."""
        return DocumentTokens(
            text,
            self._counter.encode(text, add_special_tokens=False),
            lambda piece: self._counter.encode(piece, add_special_tokens=False),
            *self._specials,
            self.max_tokens,
        )

    @functools.cached_property
    def _specials(self) -> tuple[int, int]:
        """The ids of [CLS] and [SEP], what a passage opens and closes with."""
        cls_id, sep_id = self._tokenizer.encode("").ids
        return cls_id, sep_id

    def tokenize(self, texts: list[str]) -> list[Any]:
        """The model's input for each text (a tokenizers `Encoding`), for `encode_passages`
        to take ahead (unused when sentences are encoded on their own)."""
        return self._tokenizer.encode_batch(texts)  # type: ignore[no-any-return]

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """`count_tokens` of each text, in one call of the tokenizer."""
        encodings = self._counter.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def _infer(
        self,
        texts: list[str],
        handle: Callable[[int, np.ndarray, np.ndarray, Any], None],
        progress: bool,
        idle: Callable[[], bool] | None = None,
        encodings: Sequence[Any] | None = None,
    ) -> None:
        """Run `texts` (or their `encodings`) in length-sorted batches; `handle` gets each
        row's outputs."""
        if not texts:
            return
        # Pooling sentence vectors multiplies small matrices with numpy's BLAS; BLAS's own
        # threads then spin waiting for more and take the cores of the encoder's next
        # batch (2,903 Reuters passages: 18.9 s encoded and pooled with two BLAS threads,
        # 14.2 s with one, 14.7 s encoded alone). One BLAS thread while encoding.
        with _blas_controller().limit(limits=1, user_api="blas"):
            if encodings is None:
                with stage("tokenising and chunking"):
                    encodings = self.tokenize(texts)
            self._run(encodings, handle, progress, idle)

    def _run(
        self,
        encodings: Sequence[Any],
        handle: Callable[[int, np.ndarray, np.ndarray, Any], None],
        progress: bool,
        idle: Callable[[], bool] | None,
    ) -> None:
        """Run `encodings` in length-sorted batches; `handle` gets each row's outputs."""
        from tqdm import tqdm

        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        batches = [
            order[start : start + self.batch_size]
            for start in range(0, len(order), self.batch_size)
        ]
        with tqdm(total=len(encodings), disable=not progress, unit="passage") as bar:

            def inputs(rows: np.ndarray) -> dict[str, np.ndarray]:
                return padded_batch([encodings[r] for r in rows], PAD_TO, self.max_tokens)

            def pooled(rows: np.ndarray, request: Any) -> None:
                embeddings = request.get_tensor("embedding").data
                states = request.get_tensor("token_states").data
                with stage("sentence pooling"):
                    for i, row in enumerate(rows):
                        handle(int(row), embeddings[i], states[i], encodings[row])
                bar.update(len(rows))

            if idle is None or len(batches) == 1:
                # Nothing to do beside the encoder: each batch on this thread, synchronously
                # (a one-document write, a query; no request computing in the background).
                request = self._compiled.create_infer_request()
                for rows in batches:
                    request.infer(inputs(rows))
                    pooled(rows, request)
                return
            self._overlapped(batches, inputs, pooled, idle)

    def _overlapped(
        self,
        batches: list[np.ndarray],
        inputs: Callable[[np.ndarray], dict[str, np.ndarray]],
        pooled: Callable[[np.ndarray, Any], None],
        idle: Callable[[], bool],
    ) -> None:
        """Two requests take turns: the next batch is queued behind the one computing, so
        the encoder does not wait for this thread while it pools the batch before and does
        `idle` work (unless one step of that work outlasts a batch)."""
        requests = [self._compiled.create_infer_request() for _ in range(2)]
        busy: set[int] = set()

        def start(n: int) -> None:
            requests[n % 2].start_async(inputs(batches[n]))
            busy.add(n % 2)

        start(0)
        try:
            for n, rows in enumerate(batches):
                if n + 1 < len(batches):
                    start(n + 1)
                request = requests[n % 2]
                while not request.wait_for(0) and idle():
                    pass
                request.wait()
                pooled(rows, request)
        finally:
            # A batch still computing when this fails finishes before its request is freed
            # (one that failed raises again here: the first error is the one reported).
            for slot in busy:
                with contextlib.suppress(Exception):
                    requests[slot].wait()


def import_openvino() -> Any:
    """`openvino`, imported without its model-conversion tool (`openvino.tools.ovc`).

    Importing that tool sends usage telemetry to Intel by default (openvino-telemetry
    2025.2: unless a CI variable is set or the user opted out) from a child process that a
    background thread forks. A server must not fork: the forking thread holds the
    interpreter lock through fork(), and OpenBLAS's fork handler waits for its worker
    threads, which a search's matrix product can have in use. A `parallax bench` server
    froze for good that way at its first write, every thread stopped (gdb: the telemetry
    thread in OpenBLAS's `blas_thread_shutdown_`, joining a worker that never woke; the
    search and the write waiting for the interpreter lock). Parallax compiles its ONNX
    export and never converts a model, so the tool is left out (openvino imports it
    inside `try/except ImportError`); it still imports later if anything asks for it.
    """
    tool = "openvino.tools.ovc"
    if "openvino" not in sys.modules and tool not in sys.modules:
        sys.modules[tool] = None  # type: ignore[assignment]  # `import` raises ImportError
        try:
            import openvino
        finally:
            if tool in sys.modules and sys.modules[tool] is None:
                del sys.modules[tool]
    import openvino

    return openvino


@functools.cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, found once: finding them reads
    the process's memory map, 1.5 ms of a 20 ms one-document write."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
