"""One embedder made of two: queries on a light encoder, batches on a heavy one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from index.encoder import embed_passages


class ServiceEmbedder:
    """Queries through ONNX Runtime, batches (ingest) through a heavier encoder.

    The batch encoder (OpenVINO or sentence-transformers) loads on the first
    batch, so a server that only answers queries never loads it. Both give the
    same vectors (cosine >= 0.9999 to sentence-transformers fp32).
    """

    def __init__(self, query: Any, make_batch: Any, batch_threshold: int = 8) -> None:
        self.query = query
        self._make_batch = make_batch
        self._batch: Any = None
        self.batch_threshold = batch_threshold
        self.name, self.dim, self.max_tokens = query.name, query.dim, query.max_tokens

    @property
    def batch(self) -> Any:
        """The batch encoder, loaded on first use."""
        if self._batch is None:
            self._batch = self._make_batch()
        return self._batch

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if len(texts) <= self.batch_threshold:
            return self.query.encode(texts)
        return self.batch.encode(texts, progress=progress)  # type: ignore[no-any-return]

    def encode_passages(
        self,
        passages: Sequence[Any],
        *,
        progress: bool = False,
        idle: Callable[[], bool] | None = None,
        encodings: Sequence[Any] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return embed_passages(
            self.batch, passages, progress=progress, idle=idle, encodings=encodings
        )

    @property
    def pooled_sentences(self) -> bool:
        return bool(getattr(self.batch, "pooled_sentences", False))

    @property
    def tokenize(self) -> Callable[[list[str]], list[Any]] | None:
        """The batch encoder's `tokenize`, when it has one."""
        return getattr(self.batch, "tokenize", None)

    @property
    def document_tokens(self) -> Callable[[str], Any] | None:
        """The batch encoder's `document_tokens`, when it has one."""
        return getattr(self.batch, "document_tokens", None)

    def count_tokens(self, text: str) -> int:
        return self.query.count_tokens(text)

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        many = getattr(self.query, "count_tokens_many", None)
        return many(texts) if many else [self.query.count_tokens(t) for t in texts]
