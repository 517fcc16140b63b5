"""The sentence-transformers backend: the model on torch, on the CPU.

torch is imported only when one is built; the service's default encoders are ONNX
Runtime for queries and OpenVINO for batches (`index.embed`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.encoder import (
    PACKAGED_MODEL,
    PROBE_TEXTS,
    best_time,
    resolve_model_path,
    resolve_precision,
)


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder) on the CPU."""

    def __init__(
        self,
        model: str = PACKAGED_MODEL,
        batch_size: int = 32,
        threads: int = 0,
        precision: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        path = resolve_model_path(model)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from sentence_transformers import SentenceTransformer

        # One intra-op thread per core at most: more only oversubscribes the CPU when
        # several requests encode at once.
        torch.set_num_threads(threads or os.cpu_count() or 1)

        self._model = SentenceTransformer(str(path), device="cpu")
        self.name = model
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.batch_size = batch_size
        self._tokenizer = self._model.tokenizer

        def autocast(precision: str) -> Callable[[], contextlib.AbstractContextManager[object]]:
            if precision == "bf16":
                return lambda: torch.autocast("cpu", dtype=torch.bfloat16)
            return contextlib.nullcontext

        def probe(precision: str) -> float:
            self._autocast = autocast(precision)
            return best_time(lambda: self.encode(PROBE_TEXTS))

        self.precision = resolve_precision(precision, probe, cache_dir, "torch")
        self._autocast = autocast(self.precision)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._autocast():
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
