"""With the real all-MiniLM-L6-v2: the right passage per source, and no truncation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from index.chunk import chunk
from index.documents import Document
from search.engine import SearchOptions, search

pytestmark = pytest.mark.slow

NBC_OLD, NBC_NEW, HILL, AGENCIES, GLOBE = (
    "000_487d20731cd06fa7",
    "001_f41bc6fbf25c952a",
    "002_811ad477ead50ed2",
    "003_ec9ad3d51fc008de",
    "004_72b5cb386ec7b792",
)


def _top_texts(model_index, model_embedder, question: str, mode: str = "hybrid") -> dict:  # type: ignore[no-untyped-def]
    result = search(model_index.corpus, model_embedder, question, SearchOptions(mode=mode))
    return {
        group.document.id: [hit.passage.text for hit in group.hits] for group in result.by_source
    }


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "How many were injured?",
            {
                NBC_OLD: r"At least 10 demonstrators",
                NBC_NEW: r"At least 62 demonstrators",
                HILL: r"at least 10 protesters",
            },
        ),
        (
            "How many militia fighters were killed in the airstrikes?",
            {
                NBC_OLD: r"At least 25 militia fighters",
                NBC_NEW: r"At least 25 militia fighters",
                HILL: r"killed 25 people",
                AGENCIES: r"killed 25 fighters",
                GLOBE: r"killed 24 members|two dozen fighters",
            },
        ),
        (
            "How many protesters were there?",
            {
                NBC_NEW: r"roughly 6,000 protesters",
                HILL: r"Thousands of demonstrators",
                AGENCIES: r"Hundreds of (people|angry demonstrators)",
                GLOBE: r"thousands of protesters",
            },
        ),
    ],
)
def test_each_source_reporting_a_figure_has_it_in_its_top_two(  # type: ignore[no-untyped-def]
    model_index, model_embedder, question: str, expected: dict[str, str]
) -> None:
    groups = _top_texts(model_index, model_embedder, question)
    for doc_id, pattern in expected.items():
        assert doc_id in groups, f"{doc_id} has no group for {question!r}"
        assert any(re.search(pattern, text, re.I) for text in groups[doc_id]), (
            f"{doc_id}: {pattern!r} not in its top hits {groups[doc_id]}"
        )


def test_no_seed_passage_is_truncated_by_the_model(model_index, model_embedder) -> None:  # type: ignore[no-untyped-def]
    limit = model_embedder.max_tokens - 2  # [CLS] and [SEP]
    for passage in model_index.corpus.passages:
        assert model_embedder.count_tokens(passage.text) <= limit, passage.passage_id


def test_a_sentence_longer_than_the_model_limit_is_split_not_truncated(model_embedder) -> None:  # type: ignore[no-untyped-def]
    words = " ".join(f"casualty{n} reported" for n in range(400))
    doc = Document(id="long", text=f"{words}. Short ending sentence.")
    assert model_embedder.count_tokens(doc.text) > 3 * model_embedder.max_tokens
    passages = chunk(doc, 160, 0, model_embedder.count_tokens)
    assert len(passages) > 3
    assert all(model_embedder.count_tokens(p.text) <= 160 for p in passages)
    # Every word is in some passage: nothing was dropped to make it fit.
    assert " ".join(p.text for p in passages).split() == doc.text.split()


def test_vectors_are_normalised_and_deterministic(model_embedder) -> None:  # type: ignore[no-untyped-def]
    first = model_embedder.encode(["How many were injured?", "Protesters stormed the embassy."])
    second = model_embedder.encode(["How many were injured?", "Protesters stormed the embassy."])
    assert first.shape == (2, 384) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.allclose(first, second, atol=1e-6)


@pytest.fixture(scope="module")
def public_runs(model_index):  # type: ignore[no-untyped-def]
    """The public question set through the API's functions, in each retrieval mode."""
    from api.settings import Settings
    from evaluation.metrics import load_questions
    from evaluation.questions import InProcessClient, run_questions
    from helpers import SHARED

    questions = load_questions(SHARED / "eval" / "questions.jsonl")
    client = InProcessClient(model_index, Settings())
    return {
        mode: run_questions(questions, client, name=mode, mode=mode)["metrics"]
        for mode in ("hybrid", "dense", "lexical")
    }


@pytest.mark.parametrize(("mode", "floor"), [("hybrid", 0.9), ("dense", 0.7), ("lexical", 0.7)])
def test_public_question_set_source_recall(public_runs, mode, floor) -> None:  # type: ignore[no-untyped-def]
    """Issue 2's bar: an expected passage in a document's top 2 for at least 90% (hybrid)."""
    print(f"{mode}: {public_runs[mode]}")
    assert public_runs[mode]["source_recall"] >= floor


def test_public_question_set_answer_and_conflict_accuracy(public_runs) -> None:  # type: ignore[no-untyped-def]
    """Issue 3's bar: answer accuracy >= 0.9, conflict accuracy 1.0 on the labelled questions."""
    assert public_runs["hybrid"]["answer_accuracy"] >= 0.9
    assert public_runs["hybrid"]["conflict_accuracy"] == 1.0
    assert public_runs["hybrid"]["coverage"] == 1.0


def _ask(model_index, model_embedder, question: str):  # type: ignore[no-untyped-def]
    from search.answers import ask

    return ask(model_index.corpus, model_embedder, question, SearchOptions())


def _groups(result) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {g.value: sorted(d[:3] for d in g.doc_ids) for g in result.comparison.groups}


def test_injured_gives_10_62_10_a_conflict_and_the_nbc_revision(
    model_index, model_embedder
) -> None:  # type: ignore[no-untyped-def]
    result = _ask(model_index, model_embedder, "How many were injured?")
    answers = {a.document.id: a.answer for a in result.answers}
    assert answers == {
        NBC_OLD: "At least 10 demonstrators",
        NBC_NEW: "At least 62 demonstrators",
        HILL: "at least 10 protesters",
    }  # 003 (a quoted "injured many") and 004 give no answer rather than a wrong one
    assert result.comparison.conflict is True
    assert _groups(result) == {"10": ["000", "002"], "62": ["001"]}
    assert any("different reported figures" in r for r in result.comparison.reasons)
    (revision,) = result.comparison.same_outlet
    assert revision.source == "NBC News" and set(revision.doc_ids) == {NBC_OLD, NBC_NEW}
    new = next(a for a in result.answers if a.document.id == NBC_NEW)
    assert new.value is not None and new.value.as_dict() == {
        "low": 62,
        "high": None,
        "qualifier": "at least",
        "unit": "demonstrators",
    }


def test_killed_gives_25_from_four_sources_and_24_from_the_globe(
    model_index, model_embedder
) -> None:  # type: ignore[no-untyped-def]
    result = _ask(
        model_index, model_embedder, "How many militia fighters were killed in the airstrikes?"
    )
    answers = {a.document.id: a for a in result.answers}
    assert set(answers) == {NBC_OLD, NBC_NEW, HILL, AGENCIES, GLOBE}
    assert answers[GLOBE].answer in ("24 members", "two dozen fighters")
    assert all(answers[d].value.low == 25 for d in (NBC_OLD, NBC_NEW, HILL, AGENCIES))
    assert result.comparison.conflict is True
    assert _groups(result)["25"] == ["000", "001", "002", "003"]


def test_crowd_size_puts_hundreds_against_thousands(model_index, model_embedder) -> None:  # type: ignore[no-untyped-def]
    result = _ask(model_index, model_embedder, "How many protesters were there?")
    answers = {a.document.id: a.answer.lower() for a in result.answers}
    # The question's own noun is left out of the span ("protesters"); another noun stays.
    assert answers[NBC_NEW] == "roughly 6,000"
    assert answers[HILL] == "thousands of demonstrators"
    assert answers[AGENCIES].startswith("hundreds")
    assert answers[GLOBE] == "thousands"
    assert result.comparison.conflict is True
    groups = list(_groups(result).values())
    assert ["001", "002", "004"] in groups and ["003"] in groups


def test_press_secretary_is_grisham_without_conflict(model_index, model_embedder) -> None:  # type: ignore[no-untyped-def]
    result = _ask(model_index, model_embedder, "Who is the White House press secretary?")
    assert [(a.document.id, a.answer) for a in result.answers] == [(NBC_NEW, "Stephanie Grisham")]
    assert result.comparison.conflict is False


def test_ask_works_on_articles_it_has_never_seen(tmp_path, model_embedder) -> None:  # type: ignore[no-untyped-def]
    """Made-up reports that disagree on a toll and on a name, ingested over HTTP."""
    import time

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from helpers import SEEDS

    articles = [
        (
            "quake-a",
            "Harbor Tribune",
            "A strong earthquake struck the hill town of Varnia on Monday. "
            "At least 14 people were killed when two school buildings collapsed, the regional "
            "governor Elena Marsh said.",
        ),
        (
            "quake-b",
            "Valley Post",
            "An earthquake shook Varnia early on Monday. Rescue teams said "
            "21 people were killed and dozens more were trapped. The regional governor, Elena "
            "Marsh, asked for calm.",
        ),
        (
            "quake-c",
            "Coast Daily",
            "The quake in Varnia destroyed two schools. Officials said 14 "
            "people were killed. The regional governor, Paul Okafor, visited the town on Tuesday.",
        ),
    ]
    settings = Settings(data_dir=tmp_path, seeds_dir=SEEDS, api_key="k")
    with TestClient(create_app(settings, embedder=model_embedder)) as client:
        deadline = time.monotonic() + 60
        while client.get("/health").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        documents = [
            {"id": i, "source": s, "published": "2024-03-04", "text": t} for i, s, t in articles
        ]
        added = client.post(
            "/documents", json={"documents": documents}, headers={"Authorization": "Bearer k"}
        )
        assert added.json()["counts"]["added"] == 3
        only = {"doc_ids": ["quake-a", "quake-b", "quake-c"]}

        toll = client.post(
            "/ask", json={"question": "How many people were killed?", "filters": only}
        ).json()
        answers = {a["doc_id"]: a["answer"] for a in toll["answers"]}
        assert answers == {
            "quake-a": "At least 14 people",
            "quake-b": "21 people",
            "quake-c": "14 people",
        }
        assert toll["conflict"] is True
        assert sorted(sorted(g["doc_ids"]) for g in toll["groups"]) == [
            ["quake-a", "quake-c"],
            ["quake-b"],
        ]

        governor = client.post(
            "/ask", json={"question": "Who is the regional governor?", "filters": only}
        ).json()
        names = {a["doc_id"]: a["answer"] for a in governor["answers"]}
        assert names == {
            "quake-a": "Elena Marsh",
            "quake-b": "Elena Marsh",
            "quake-c": "Paul Okafor",
        }
        assert governor["conflict"] is True
        assert sorted(g["value"] for g in governor["groups"]) == ["Elena Marsh", "Paul Okafor"]
        for answer in governor["answers"]:
            stored = client.get(f"/documents/{answer['doc_id']}").json()["text"]
            citation = answer["citation"]
            assert answer["answer"] in stored[citation["char_start"] : citation["char_end"]]


def test_answers_carry_their_attribution(model_index, model_embedder) -> None:  # type: ignore[no-untyped-def]
    injured = _ask(model_index, model_embedder, "How many were injured?")
    assert {a.attributed_to for a in injured.answers} == {"the Popular Mobilization Forces"}
    crowd = _ask(model_index, model_embedder, "How many protesters were there?")
    by_doc = {a.document.id: a.attributed_to for a in crowd.answers}
    assert by_doc[NBC_NEW] == "a U.S. official"


def test_bf16_vectors_match_fp32_to_a_cosine_of_0_999(model_index, torch_embedder) -> None:  # type: ignore[no-untyped-def]
    """torch bf16 autocast (where the CPU has native bf16) stays lossless enough."""
    from index.embed import SentenceTransformerEmbedder

    texts = [p.text for p in model_index.corpus.passages]
    bf16 = SentenceTransformerEmbedder(precision="bf16").encode(texts)
    cosines = (torch_embedder.encode(texts) * bf16).sum(axis=1)
    assert cosines.min() >= 0.999


def test_the_onnx_query_encoder_gives_the_same_vectors_as_torch(
    model_index, torch_embedder, tmp_path_factory
) -> None:  # type: ignore[no-untyped-def]
    from index.onnx import OnnxEmbedder

    onnx = OnnxEmbedder("all-MiniLM-L6-v2", tmp_path_factory.mktemp("models"))
    texts = ["How many were injured?"] + [p.text for p in model_index.corpus.passages[:12]]
    cosines = (onnx.encode(texts) * torch_embedder.encode(texts)).sum(axis=1)
    assert cosines.min() >= 0.9999
    long = "casualty " * 600
    assert onnx.count_tokens(long) == torch_embedder.count_tokens(long) > 256


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_the_openvino_ingest_encoder_matches_torch_fp32(
    precision, model_index, model_embedder, torch_embedder
) -> None:  # type: ignore[no-untyped-def]
    """The default ingest backend keeps a cosine of at least 0.999 to fp32."""
    from index.openvino import OpenVinoEmbedder

    openvino = OpenVinoEmbedder("all-MiniLM-L6-v2", model_embedder.query.cache_dir, 0, precision)
    passages = model_index.corpus.passages
    texts = [p.text for p in passages]
    reference = torch_embedder.encode(texts)
    assert (openvino.encode(texts) * reference).sum(axis=1).min() >= 0.999
    vectors, _ = openvino.encode_passages(passages)
    assert (vectors * reference).sum(axis=1).min() >= 0.999


def test_work_done_while_the_ingest_encoder_computes_leaves_its_vectors_unchanged(  # type: ignore[no-untyped-def]
    model_index, model_embedder
) -> None:
    """Ingest chunks and places documents while a batch computes (index/pipeline.py)."""
    passages = model_index.corpus.passages
    batch = model_embedder.batch
    alone, alone_sentences = batch.encode_passages(passages)
    steps = iter(range(40))
    beside, sentences = batch.encode_passages(passages, idle=lambda: next(steps, None) is not None)
    assert next(steps, None) is None  # every step was taken while the encoder computed
    assert np.array_equal(alone, beside)
    assert all(np.array_equal(a, b) for a, b in zip(alone_sentences, sentences, strict=True))
    encodings = batch.tokenize([p.text for p in passages])
    ahead, _ = batch.encode_passages(passages, encodings=encodings)
    assert np.array_equal(alone, ahead)
    # Each document tokenised once, its passages cut from it (`DocumentTokens`).
    documents = model_index.corpus.documents
    tokens = {doc_id: batch.document_tokens(documents[doc_id].text) for doc_id in documents}
    cut = [tokens[p.doc_id].inputs(p) for p in passages]
    assert sum(inputs is not None for inputs in cut) >= len(passages) - 1
    cut = [inputs or encoding for inputs, encoding in zip(cut, encodings, strict=True)]
    once, _ = batch.encode_passages(passages, encodings=cut)
    assert np.array_equal(alone, once)


def test_the_ingest_encoder_runs_numpy_blas_on_one_thread_and_gives_it_back(  # type: ignore[no-untyped-def]
    model_index, model_embedder
) -> None:
    """BLAS threads left spinning after pooling took the encoder's cores (index/openvino.py)."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    before = blas_threads()
    seen: list[set[int]] = []
    batch = model_embedder.batch
    batch._infer(
        [p.text for p in model_index.corpus.passages[:12]],
        lambda *_: seen.append(blas_threads()),
        progress=False,
    )
    assert seen and all(threads == {1} for threads in seen)
    assert blas_threads() == before


def test_pooled_sentence_vectors_stand_for_their_own_sentence(model_index, torch_embedder) -> None:  # type: ignore[no-untyped-def]
    """Of a passage's sentences encoded alone, a pooled vector is nearest its own."""
    corpus = model_index.corpus
    row, hits, total = 0, 0, 0
    for passage in corpus.passages:
        count = len(passage.sentences)
        pooled = corpus.sentence_vectors[row : row + count]
        row += count
        if count < 2:
            continue
        alone = torch_embedder.encode(passage.sentence_texts())
        nearest = (pooled @ alone.T).argmax(axis=1)
        hits += int((nearest == np.arange(count)).sum())
        total += count
    assert row == len(corpus.sentence_vectors)
    assert hits / total >= 0.8, hits / total  # 0.87 on the seeds


def test_a_prebuilt_index_serves_queries_without_importing_torch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from helpers import SEEDS

    env = {"PARALLAX_DATA_DIR": str(tmp_path), "PARALLAX_SEEDS_DIR": str(SEEDS)}
    from pathlib import Path

    build = [str(Path(sys.executable).parent / "parallax"), "search", "injured", "--k", "1"]
    subprocess.run(build, env={**_environ(), **env}, check=True, capture_output=True)
    probe = (
        "import sys; from api.settings import Settings; from api.state import open_from_settings;"
        "from search.engine import SearchOptions, search;"
        "live = open_from_settings(Settings());"
        "hits = search(live.corpus, live.embedder, 'How many were injured?', SearchOptions()).hits;"
        "assert hits, 'no hits';"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env={**_environ(), **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)
