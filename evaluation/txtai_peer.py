"""txtai as a peer of `parallax bench`, run as a script by the interpreter that has txtai.

It imports nothing of parallax, so it runs under another environment's Python as well
(`parallax bench --peers txtai --peer-python /path/to/venv/bin/python`). It reads a job
from stdin as JSON: `{"model": folder, "passages": [[id, text], ...], "articles": n,
"queries": [...], "workdir": dir, "rounds": n}`, and prints one JSON line of results:

- ingest: the passages indexed by txtai's `Embeddings` (the same model folder, a FAISS
  index, hybrid with BM25, content stored) and saved, as passages/s and articles/s;
- in-process search p50 (`Embeddings.search`, top 10);
- HTTP search p50: txtai's own API server (`txtai.api` under uvicorn, loading the saved
  index from a config YAML), `GET /search?query=...&limit=10`, one client.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    job = json.loads(sys.stdin.read())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import txtai

    workdir = Path(job["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    index_dir = workdir / "txtai-index"
    config = {"path": job["model"], "content": True, "hybrid": True, "backend": "faiss"}
    embeddings = txtai.Embeddings(config)
    embeddings.transform("warm up the model")  # loaded before the clock, as parallax does
    passages = [(str(uid), text, None) for uid, text in job["passages"]]
    started = time.perf_counter()
    embeddings.index(passages)
    embeddings.save(str(index_dir))
    seconds = time.perf_counter() - started
    queries = job["queries"]
    rounds = int(job.get("rounds", 3))
    for query in queries:  # warm up
        embeddings.search(query, 10)
    in_process = []
    for _ in range(rounds):
        for query in queries:
            began = time.perf_counter()
            embeddings.search(query, 10)
            in_process.append((time.perf_counter() - began) * 1000)
    embeddings.close()
    result: dict[str, Any] = {
        "version": txtai.__version__ if hasattr(txtai, "__version__") else _version(),
        "passages": len(passages),
        "articles": int(job["articles"]),
        "ingest_seconds": round(seconds, 2),
        "ingest_passages_per_s": round(len(passages) / seconds, 1),
        "ingest_articles_per_s": round(int(job["articles"]) / seconds, 1),
        "in_process_search_p50_ms": round(statistics.median(in_process), 2),
    }
    result.update(_http(index_dir, workdir, config, queries, rounds))
    print(json.dumps(result))


def _version() -> str:
    from importlib.metadata import version

    return version("txtai")


def _http(
    index_dir: Path, workdir: Path, embeddings: dict[str, Any], queries: list[str], rounds: int
) -> dict[str, Any]:
    """txtai's API server on the saved index, as its documentation starts it: uvicorn
    "txtai.api:app" with CONFIG naming a YAML file."""
    import httpx

    config = workdir / "txtai.yml"
    # `path` loads the index saved above (read-only); the `embeddings` section, which adds
    # the /search route, repeats its settings. JSON is YAML, so no YAML writer is needed.
    settings = {"path": str(index_dir), "embeddings": embeddings}
    config.write_text(json.dumps(settings), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "CONFIG": str(config), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "uvicorn", "txtai.api:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}/search"
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                return {"http_error": "txtai's API server did not answer /search"}
            try:
                if httpx.get(url, params={"query": "oil", "limit": 10}, timeout=5).is_success:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        latencies, errors = [], 0
        with httpx.Client(timeout=30) as client:
            for query in queries:  # warm up
                client.get(url, params={"query": query, "limit": 10})
            for _ in range(rounds):
                for query in queries:
                    began = time.perf_counter()
                    response = client.get(url, params={"query": query, "limit": 10})
                    latencies.append((time.perf_counter() - began) * 1000)
                    errors += not response.is_success
        return {
            "http_search_p50_ms": round(statistics.median(latencies), 2),
            "http_requests": len(latencies),
            "http_errors": errors,
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
