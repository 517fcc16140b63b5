"""Bad input gets a clear 4xx, overload a quick 503, faults a 503 with the reason."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from helpers import AUTH, KEY, SEEDS, serve_app, wait_ready
from index.embed import HashingEmbedder


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path, seeds_dir=SEEDS, embedder="hashing", api_key=KEY, max_body_bytes=65536
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        wait_ready(client)
        yield client


def _post_raw(client: TestClient, path: str, body: bytes) -> httpx.Response:
    return client.post(path, content=body, headers={"content-type": "application/json", **AUTH})


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/search", b'{"query": "\xff\xfe injured"}', "UTF-8 JSON"),
        ("/search", b'{"query": "\\ud800 injured"}', "invalid Unicode"),
        ("/search", b'{"query": "injured\\u0000"}', "NUL"),
        ("/ask", b'{"question": "\\udfff?"}', "invalid Unicode"),
        ("/search", b"[1, 2]", "valid dictionary"),
        ("/search", b"", "Field required"),
        ("/documents", b'{"documents": [{"id": "x", "text": "a \\ud800 b"}]}', "invalid Unicode"),
        ("/documents", b'{"documents": [{"id": "x", "text": "\\u0000"}]}', "NUL"),
    ],
)
def test_malformed_bodies_get_a_422_with_the_reason(
    client: TestClient, path: str, body: bytes, fragment: str
) -> None:
    response = _post_raw(client, path, body)
    assert response.status_code in (400, 422), response.text
    assert fragment in response.json()["error"]["message"]
    assert client.get("/health").json()["documents"] == 5


def test_a_one_megabyte_query_is_refused_by_the_length_limit(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, seeds_dir=SEEDS, embedder="hashing")
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        response = client.post("/search", json={"query": "injured " * 131072})
        assert response.status_code == 422
        assert "limit is 1000" in response.json()["error"]["message"]


def test_a_body_over_the_limit_is_a_413_before_it_is_read(client: TestClient) -> None:
    huge = json.dumps({"documents": [{"id": "big", "text": "word " * 20000}]}).encode()
    response = _post_raw(client, "/documents", huge)
    assert response.status_code == 413
    assert "65536 bytes" in response.json()["error"]["message"]

    # A body streamed without Content-Length is cut off once it passes the limit.
    chunks_sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal chunks_sent
        yield b'{"documents": [{"id": "big", "text": "'
        for _ in range(1000):
            chunks_sent += 1
            yield b"word " * 1000
        yield b'"}]}'

    streamed = client.post("/documents", content=chunks(), headers=AUTH)
    assert streamed.status_code == 413
    assert client.get("/health").json()["documents"] == 5


def test_an_internal_error_is_a_generic_500_with_an_id_and_the_detail_only_in_the_log(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr("api.app.search", broken)
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = client.post("/search", json={"query": "injured"})
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text
    request_id = error["message"].split("(id ")[1].rstrip(")")
    assert any(request_id in r.getMessage() for r in caplog.records)
    assert "secret detail of the failure" in caplog.text


def test_cors_is_off_by_default_and_an_allow_list_when_set(tmp_path: Path) -> None:
    preflight = {
        "Origin": "https://news.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    plain = Settings(data_dir=tmp_path / "a", seeds_dir=SEEDS, embedder="hashing")
    with TestClient(create_app(plain)) as client:
        response = client.options("/search", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    allowed = plain.model_copy(
        update={"data_dir": tmp_path / "b", "cors_origins": ["https://news.example"]}
    )
    with TestClient(create_app(allowed)) as client:
        response = client.options("/search", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://news.example"
        other = client.options("/search", headers={**preflight, "Origin": "https://evil.example"})
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_cors_origins_setting_reads_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLAX_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


class SlowEmbedder(HashingEmbedder):
    """Hashing vectors that take 50 ms per call, so requests stay in flight."""

    def encode(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        return super().encode(texts, progress=progress)


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path, seeds_dir=SEEDS, max_in_flight=2)
    running = serve_app(create_app(settings, embedder=SlowEmbedder()))
    try:
        yield running.url
    finally:
        running.stop()


def test_past_the_in_flight_bound_the_server_answers_503_fast_then_recovers(
    slow_server: str,
) -> None:
    def one(n: int) -> tuple[int, float]:
        started = time.perf_counter()
        response = httpx.post(f"{slow_server}/search", json={"query": f"embassy {n}"}, timeout=30)
        return response.status_code, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(one, range(48)))
    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 503}
    assert statuses.count(503) > 0 and statuses.count(200) > 0
    health = httpx.get(f"{slow_server}/health", timeout=5)
    assert health.status_code == 200
    after = httpx.post(f"{slow_server}/search", json={"query": "embassy"}, timeout=10)
    assert after.status_code == 200 and after.json()["hits"]


def _built(tmp_path: Path) -> Settings:
    """Settings whose data dir holds a hashing index of the seeds (built, then closed)."""
    settings = Settings(data_dir=tmp_path, seeds_dir=SEEDS, embedder="hashing")
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
    return settings


def _health_after_start(settings: Settings) -> httpx.Response:
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            response = client.get("/health")
            if response.json()["status"] != "loading":
                return response
            time.sleep(0.05)
    raise AssertionError("still loading")


def _manifest(settings: Settings) -> dict:
    return json.loads((settings.index_dir / "manifest.json").read_text())


@pytest.mark.parametrize("damage", ["truncate vectors", "garbage vectors", "missing passages"])
def test_a_damaged_index_leaves_the_service_not_ready_with_the_reason(
    tmp_path: Path, damage: str
) -> None:
    settings = _built(tmp_path)
    segment = settings.index_dir / _manifest(settings)["segments"][0]["name"]
    vectors = segment / "vectors.npy"
    if damage == "truncate vectors":
        vectors.write_bytes(vectors.read_bytes()[:1000])
    elif damage == "garbage vectors":
        vectors.write_bytes(np.random.default_rng(0).bytes(4096))
    else:
        (segment / "documents.jsonl").unlink()
    response = _health_after_start(settings)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert "delete" in body["reason"] and str(settings.index_dir) in body["reason"]


def test_an_index_built_for_another_model_is_refused_naming_both(tmp_path: Path) -> None:
    settings = _built(tmp_path)
    manifest = _manifest(settings)
    manifest["model"] = "some-other-model"
    (settings.index_dir / "manifest.json").write_text(json.dumps(manifest))
    response = _health_after_start(settings)
    assert response.status_code == 503
    assert "'some-other-model'" in response.json()["reason"]
    assert "'hashing'" in response.json()["reason"]


def test_a_garbage_manifest_is_not_ready_either(tmp_path: Path) -> None:
    settings = _built(tmp_path)
    (settings.index_dir / "manifest.json").write_text("{not json")
    response = _health_after_start(settings)
    assert response.status_code == 503 and "unreadable" in response.json()["reason"]


@pytest.mark.parametrize("value", [0, "1577750400", 1.5e9, "2019-02-31", "2019-12-31T00:00"])
def test_a_date_filter_must_be_a_calendar_date_string(client: TestClient, value: object) -> None:
    response = client.post(
        "/search", json={"query": "embassy", "filters": {"published_from": value}}
    )
    assert response.status_code == 422
    assert "published_from" in response.json()["error"]["message"]
