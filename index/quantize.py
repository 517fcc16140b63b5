"""Sentence vectors in eight bits: each row as int8 codes times its own scale.

Sentence vectors are about five per passage, so at a million passages they were 7.5 GB in
float32, most of an index. A query reads only its candidates' sentences (some 5,000 rows)
and takes the best cosine of each passage's, so eight bits a component are enough: with a
scale per row (its largest component maps to 127) a cosine moves by 4e-4 on average and
2e-3 at most over 5,000 random unit vectors (`tests/test_quantize.py`), and
converting int8 to float32 is ten times faster in numpy than converting float16 (0.4 vs
3.8 ms for 5,000 rows with the product; numpy's half-precision cast does not vectorise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Int8Rows:
    """A float32 matrix stored as `codes[i] * scales[i]`; reading rows gives float32."""

    codes: np.ndarray  # int8 (rows, dim)
    scales: np.ndarray  # float32 (rows,)

    def __post_init__(self) -> None:
        if self.codes.ndim != 2 or len(self.codes) != len(self.scales):
            raise ValueError(f"{self.codes.shape} codes but {self.scales.shape} scales")

    @classmethod
    def of(cls, vectors: Any) -> Int8Rows:
        """Rows quantized (rows already quantized are returned as they are)."""
        if isinstance(vectors, Int8Rows):
            return vectors
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"expected a matrix, got shape {matrix.shape}")
        largest = np.abs(matrix).max(axis=1) if len(matrix) else np.zeros(0, np.float32)
        scales = np.where(largest > 0, largest / 127, 1).astype(np.float32)
        codes = np.rint(matrix / scales[:, None]).clip(-127, 127).astype(np.int8)
        return cls(codes, scales)

    @classmethod
    def concatenate(cls, parts: Sequence[Int8Rows], dim: int) -> Int8Rows:
        if not parts:
            return cls(np.zeros((0, dim), np.int8), np.zeros(0, np.float32))
        return cls(
            np.ascontiguousarray(np.concatenate([p.codes for p in parts])),
            np.ascontiguousarray(np.concatenate([p.scales for p in parts]), dtype=np.float32),
        )

    def take(self, rows: np.ndarray) -> Int8Rows:
        """Some rows, still quantized (what a merge copies)."""
        return Int8Rows(self.codes[rows], self.scales[rows])

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape  # type: ignore[return-value]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float32)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: Any) -> np.ndarray:
        return self.codes[rows].astype(np.float32) * self.scales[rows, None]

    def dot(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The inner products of some rows with `query`, without building the rows as
        float32 first (the scales apply to the products: 5,000 multiplications, not
        two million)."""
        return (self.codes[rows].astype(np.float32) @ query) * self.scales[rows]

    def __matmul__(self, query: np.ndarray) -> np.ndarray:
        return (self.codes.astype(np.float32) @ query) * self.scales

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[slice(None)]
        return whole if dtype is None else whole.astype(dtype)


def quantized_rows(vectors: Any, rows: np.ndarray) -> Int8Rows:
    """Rows of a sentence matrix, quantized: copied when they already are, else quantized
    (a float32 matrix of an older index)."""
    if isinstance(vectors, Int8Rows):
        return vectors.take(rows)
    return Int8Rows.of(np.asarray(vectors[rows], dtype=np.float32))
