"""Shared fixtures: the seed corpus with the fast hashing embedder, and the real model once."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import SEEDS
from index.documents import Document, load_seeds
from index.embed import HashingEmbedder
from index.live import Chunking, LiveIndex, open_index


@pytest.fixture(scope="session")
def seed_documents() -> list[Document]:
    return load_seeds(SEEDS)


@pytest.fixture
def hashing_index(tmp_path: Path, seed_documents: list[Document]) -> LiveIndex:
    """A live index of the seeds, built with the hashing embedder in a temp dir."""
    return open_index(tmp_path / "index", HashingEmbedder(), Chunking(), seed_documents)


@pytest.fixture(scope="session")
def model_embedder(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real all-MiniLM-L6-v2 as the service runs it (ONNX Runtime queries, OpenVINO
    ingest with pooled sentence vectors), loaded once per test session."""
    from index.embed import EmbedderOptions, make_embedder

    return make_embedder(EmbedderOptions("model", cache=tmp_path_factory.mktemp("models")))


@pytest.fixture(scope="session")
def torch_embedder():  # type: ignore[no-untyped-def]
    """sentence-transformers in fp32: the reference the faster encoders are held to."""
    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(precision="fp32")


@pytest.fixture(scope="session")
def model_index(tmp_path_factory: pytest.TempPathFactory, model_embedder, seed_documents):  # type: ignore[no-untyped-def]
    """The seeds indexed with the real model, once per session."""
    directory = tmp_path_factory.mktemp("model-index") / "index"
    return open_index(directory, model_embedder, Chunking(), seed_documents)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment for CLI tests: a temp data dir, the seeds, the hashing embedder."""
    return {
        "PARALLAX_DATA_DIR": str(tmp_path / "data"),
        "PARALLAX_SEEDS_DIR": str(SEEDS),
        "PARALLAX_EMBEDDER": "hashing",
        "COLUMNS": "200",
    }
