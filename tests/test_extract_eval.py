"""`parallax eval-extract`: the article-extraction benchmark's metric, and the command run
through the service's intake (in process, and against a server)."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from evaluation.extract import Overlap, overlap, scores, shingles, tokens
from helpers import KEY, SEEDS, SHARED, serve_app

runner = CliRunner()
BENCHMARK = SHARED / "data" / "article-extraction"
# Not the key of the shell the tests run in: the command must ask for one.
NO_KEY: dict[str, str | None] = {"COLUMNS": "200", "PARALLAX_API_KEY": None}

# ---- the metric (scrapinghub/article-extraction-benchmark, evaluate.py) ---------------


def test_identical_texts_score_one_and_disjoint_texts_zero() -> None:
    text = "Floods in the northern province of Karvia killed 12 people on Monday."
    assert scores([overlap(text, text)]) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    other = "A volcano erupted near Catania, sending ash over the airport runway."
    assert scores([overlap(text, other)]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_tokens_are_word_runs_with_their_case_kept() -> None:
    assert tokens("It's U.S.-made: 3,400 résidents!") == [
        "It",
        "s",
        "U",
        "S",
        "made",
        "3",
        "400",
        "résidents",
    ]
    # Punctuation and spacing do not matter; case does.
    assert overlap("the cat sat, down", "the  cat -- sat down") == Overlap(tp=1, fp=0, fn=0)
    assert overlap("the cat sat down", "The cat sat down") == Overlap(tp=0, fp=1, fn=1)


def test_shingles_are_counted_four_tokens_at_a_time() -> None:
    assert shingles("a b c d a b c d") == Counter(
        {
            ("a", "b", "c", "d"): 2,
            ("b", "c", "d", "a"): 1,
            ("c", "d", "a", "b"): 1,
            ("d", "a", "b", "c"): 1,
        }
    )
    # A repeated passage predicted once finds one of its two copies.
    assert overlap("a b c d a b c d", "a b c d") == Overlap(tp=1, fp=0, fn=4)
    # One extra word at the end adds one shingle that is not expected.
    assert overlap("a b c d", "a b c d e") == Overlap(tp=1, fp=1, fn=0)


def test_a_text_under_four_tokens_is_one_shingle_of_all_of_them() -> None:
    assert shingles("Hello world") == Counter({("Hello", "world"): 1})
    assert shingles("") == Counter() and shingles(" -- ") == Counter()
    assert overlap("Hello world", "Hello world") == Overlap(tp=1, fp=0, fn=0)
    # "Hello world again" is the shingle (Hello, world, again), not a superset of the other.
    assert overlap("Hello world", "Hello world again") == Overlap(tp=0, fp=1, fn=1)


def test_pages_are_averaged_and_f1_is_taken_of_the_averages() -> None:
    long = Overlap(tp=1000, fp=0, fn=1000)  # P 1, R 0.5
    short = Overlap(tp=1, fp=1, fn=0)  # P 0.5, R 1
    # Each page weighs the same whatever its length; F1 of the averages (0.75), not the
    # average of the pages' F1 (0.667).
    assert scores([long, short]) == {"precision": 0.75, "recall": 0.75, "f1": 0.75}


def test_a_page_with_nothing_predicted_costs_recall_only() -> None:
    good = overlap("the crane fell onto the ship", "the crane fell onto the ship")
    refused = overlap("the crane fell onto the ship", "")
    assert refused == Overlap(tp=0, fp=0, fn=3)
    assert (refused.precision, refused.recall) == (None, 0.0)
    # Left out of the precision average (the benchmark averages where tp + fp > 0).
    assert scores([good, refused]) == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3}


def test_a_page_with_nothing_expected_costs_precision_only() -> None:
    good = overlap("the crane fell onto the ship", "the crane fell onto the ship")
    extra = overlap("", "Subscribe to our newsletter")
    assert (extra.precision, extra.recall) == (0.0, None)
    assert scores([good, extra]) == {"precision": 0.5, "recall": 1.0, "f1": 2 / 3}


def test_a_page_with_nothing_expected_and_nothing_predicted_is_left_out() -> None:
    # The benchmark's precision_score gives such a page 1.0, but its averages only take the
    # pages with tp + fp > 0 (precision) and tp + fn > 0 (recall): it counts in neither.
    empty = overlap("", "")
    assert empty == Overlap(tp=0, fp=0, fn=0)
    half = Overlap(tp=1, fp=1, fn=1)
    assert scores([half, empty]) == scores([half]) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert scores([empty]) == {"precision": None, "recall": None, "f1": None}


# ---- the command, on pages made here --------------------------------------------------

ARTICLE = (
    "The harbour crane at Velsk fell onto a cargo ship on Monday, the port authority said, "
    "and two workers were taken to hospital with minor injuries.",
    "Engineers will inspect the other four cranes of the port this week before loading "
    "resumes, a spokeswoman for the authority told reporters on Tuesday.",
)
PAGE = (
    "<html><head><title>Crane falls at Velsk harbour</title></head><body>"
    '<nav><a href="/">Home</a> <a href="/news">News</a></nav><article>'
    "<h1>Crane falls at Velsk harbour</h1><p>{}</p><p>{}</p></article>"
    "<footer>Copyright 2024 Velsk Courier. All rights reserved.</footer></body></html>"
)
# Nothing to extract: the service refuses it (422).
EMPTY_PAGE = "<html><head><title>Gallery</title></head><body><img src=a.png></body></html>"


def _benchmark(directory: Path, pages: list[tuple[str, str, str]]) -> Path:
    """A benchmark folder of (url, html, articleBody) pages, named by the sha of the url."""
    (directory / "html").mkdir(parents=True)
    truth = {}
    for url, html, body in pages:
        sha = hashlib.sha256(url.encode()).hexdigest()
        (directory / "html" / f"{sha}.html.gz").write_bytes(gzip.compress(html.encode()))
        truth[sha] = {"url": url, "articleBody": body}
    (directory / "ground-truth.json").write_text(json.dumps(truth))
    return directory


@pytest.fixture
def small_benchmark(tmp_path: Path) -> Path:
    return _benchmark(
        tmp_path / "benchmark",
        [
            ("https://courier.example/crane", PAGE.format(*ARTICLE), "\n".join(ARTICLE)),
            ("https://courier.example/gallery", EMPTY_PAGE, "Photos of the crane at Velsk."),
        ],
    )


def test_eval_extract_scores_the_stored_text_and_lists_refused_pages(
    env: dict[str, str], small_benchmark: Path, tmp_path: Path
) -> None:
    out = tmp_path / "extract.json"
    args = ["eval-extract", str(small_benchmark), "--json", str(out), "-v"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    # The article is stored whole; the gallery page is refused and scores nothing found.
    assert "precision=1.000 recall=0.500 f1=0.667 pages=2 refused=1" in result.output
    assert "refused: https://courier.example/gallery: " in result.output
    assert "no article text" in result.output
    assert "worst pages" in result.output
    written = json.loads(out.read_text())
    assert written["metrics"]["refused"] == 1
    stored = {row["url"]: row["stored"] for row in written["pages"]}
    assert stored == {
        "https://courier.example/crane": True,
        "https://courier.example/gallery": False,
    }
    assert written["worst"][0]["url"] == "https://courier.example/gallery"

    floor = runner.invoke(app, [*args, "--min-f1", "0.9"], env=env)
    assert floor.exit_code == 1
    assert "f1 0.667 < 0.9" in floor.output


def test_eval_extract_against_a_server_removes_the_pages_it_added(
    tmp_path: Path, small_benchmark: Path
) -> None:
    from api.app import create_app
    from api.settings import Settings

    settings = Settings(
        data_dir=tmp_path / "data", seeds_dir=SEEDS, embedder="hashing", api_key=KEY
    )
    server = serve_app(create_app(settings))
    try:
        args = ["eval-extract", str(small_benchmark), "--url", server.url]
        refused = runner.invoke(app, args, env=NO_KEY)
        assert refused.exit_code == 2
        assert "--api-key" in refused.output

        result = runner.invoke(app, [*args, "--api-key", KEY], env=NO_KEY)
        assert result.exit_code == 0, result.output
        assert "f1=0.667 pages=2 refused=1" in result.output
        documents = httpx.get(f"{server.url}/documents").json()
        assert documents["total"] == 5  # the seeds, as before
    finally:
        server.stop()


# ---- the benchmark's own pages ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    not (BENCHMARK / "ground-truth.json").exists(),
    reason=f"the article-extraction benchmark is not in {BENCHMARK} (../shared/data)",
)
def test_eval_extract_on_ten_real_pages(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "extract.json"
    args = ["eval-extract", str(BENCHMARK), "--limit", "10", "--json", str(out)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert written["metrics"]["pages"] == 10
    assert all(row["stored"] for row in written["pages"]), written["refused"]
    assert written["metrics"]["f1"] > 0.85
