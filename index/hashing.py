"""A fast deterministic stand-in for the model, for tests: bag-of-words vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from index.text import ALNUM_RE, PIECE_RE


class HashingEmbedder:
    """Deterministic bag-of-words vectors: words that match give similar vectors.

    For fast tests only: it knows no synonyms, but a query that shares words
    with a passage scores higher than one that does not.
    """

    def __init__(self, dim: int = 384, max_tokens: int = 256) -> None:
        self.name = "hashing"
        self.dim = dim
        self.max_tokens = max_tokens

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in ALNUM_RE.findall(text.lower()):
                digest = hashlib.blake2b(_stem(word).encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                vectors[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def count_tokens(self, text: str) -> int:
        return len(PIECE_RE.findall(text))


def _stem(word: str) -> str:
    for suffix in ("ing", "ers", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
