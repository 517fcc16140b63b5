"""Embedders: build the one a setting names.

The interface and what the backends share are in `index.encoder`; each backend is its
own module and imports only that one:

- `index.onnx`: ONNX Runtime, for queries (no torch import);
- `index.openvino`: OpenVINO, for batches, with sentence vectors pooled per passage;
- `index.sbert`: sentence-transformers on torch;
- `index.service`: queries on one encoder, batches on another;
- `index.hashing`: a fast deterministic stand-in for tests.

`make_embedder(EmbedderOptions(...))` picks and combines them; the names below are
re-exported so callers keep importing them from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from index.encoder import (
    PACKAGED_MODEL,
    PROBE_TEXTS,
    Embedder,
    ModelNotFound,
    Precision,
    best_time,
    cpu_has_bf16,
    cpu_model,
    embed_passages,
    encode_separately,
    resolve_model_path,
    resolve_precision,
)
from index.hashing import HashingEmbedder
from index.onnx import OnnxEmbedder
from index.openvino import OpenVinoEmbedder
from index.sbert import SentenceTransformerEmbedder
from index.service import ServiceEmbedder

__all__ = [
    "PACKAGED_MODEL",
    "PROBE_TEXTS",
    "Embedder",
    "EmbedderOptions",
    "HashingEmbedder",
    "ModelNotFound",
    "SentenceTransformerEmbedder",
    "best_time",
    "cpu_has_bf16",
    "cpu_model",
    "embed_passages",
    "encode_separately",
    "make_embedder",
    "resolve_model_path",
    "resolve_precision",
]


# The choices of each option below, listed once (the settings take their types from here).
EmbedderKind = Literal["model", "hashing"]  # the real model, or a fast stand-in for tests
QueryEncoder = Literal["onnx", "torch"]
IngestEncoder = Literal["openvino", "torch"]
SentenceVectors = Literal["pooled", "encoded"]


@dataclass(frozen=True)
class EmbedderOptions:
    """Which embedder to build (`api.settings.Settings.embedder_options` fills it)."""

    kind: EmbedderKind = "model"
    model: str = PACKAGED_MODEL  # the packaged name or a local folder
    batch_size: int = 32
    threads: int = 0  # 0: one per core
    precision: Precision = "auto"
    cache: Path | None = None  # where the ONNX export is kept; None: torch only
    query: QueryEncoder = "onnx"  # query encoder
    ingest: IngestEncoder = "openvino"  # batch encoder
    sentences: SentenceVectors = "pooled"  # sentence vectors: pooled from the passage, or encoded


def make_embedder(options: EmbedderOptions) -> Embedder:
    """Build the embedder `options` name.

    The ONNX export of the model is kept in `options.cache`. With it, queries run on
    ONNX Runtime (`query="onnx"`) and batches on OpenVINO (`ingest="openvino"`,
    sentence vectors pooled from their passage's pass unless `sentences="encoded"`);
    either may be "torch" (sentence-transformers) instead. Without a cache everything
    runs on sentence-transformers.
    """
    if options.kind == "hashing":
        return HashingEmbedder()
    for name, value, allowed in (
        ("embedder", options.kind, get_args(EmbedderKind)),
        ("query encoder", options.query, get_args(QueryEncoder)),
        ("ingest encoder", options.ingest, get_args(IngestEncoder)),
        ("sentence vectors", options.sentences, get_args(SentenceVectors)),
    ):
        if value not in allowed:
            raise ValueError(f"unknown {name} {value!r}; use one of {', '.join(allowed)}")

    def torch_encoder() -> Embedder:
        return SentenceTransformerEmbedder(
            options.model, options.batch_size, options.threads, options.precision, options.cache
        )

    folder = options.cache
    if folder is None or (options.query == "torch" and options.ingest == "torch"):
        return torch_encoder()

    def batch_encoder() -> Embedder:
        if options.ingest == "torch":
            return torch_encoder()
        return OpenVinoEmbedder(
            options.model,
            folder,
            options.threads,
            options.precision,
            pooled_sentences=options.sentences == "pooled",
        )

    queries = (
        torch_encoder()
        if options.query == "torch"
        else OnnxEmbedder(options.model, folder, options.threads or os.cpu_count() or 1)
    )
    return ServiceEmbedder(queries, batch_encoder)
