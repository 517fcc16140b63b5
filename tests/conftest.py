"""Shared fixtures: the seed corpus with the fast hashing embedder, and the real model once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from index.documents import Document, load_seeds
from index.embed import HashingEmbedder
from index.live import Chunking, LiveIndex, open_index

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
# The five seed articles: one event (the storming of the U.S. embassy in Baghdad).
SEED_IDS = frozenset(
    {
        "000_487d20731cd06fa7",
        "001_f41bc6fbf25c952a",
        "002_811ad477ead50ed2",
        "003_ec9ad3d51fc008de",
        "004_72b5cb386ec7b792",
    }
)


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


@dataclass
class RunningServer:
    url: str
    stop: Callable[[], None]


def serve_app(app: Any, timeout: float = 60.0) -> RunningServer:
    """Run `app` with uvicorn in a thread on a free 127.0.0.1 port; return once /health is 200."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # log_config=None: uvicorn's own errors reach the root logger, where caplog sees them.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return RunningServer(url, stop)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    stop()
    raise AssertionError("the server never became ready")
