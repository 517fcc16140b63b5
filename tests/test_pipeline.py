"""Ingest overlapping its CPU work with the encoder (`index.pipeline`): a write chunks the
next group of documents and places the previous one in stories while a group is encoded,
and gives exactly what the same write done one step after another gives."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.chunk import Passage
from index.documents import Document
from index.embed import HashingEmbedder
from index.encoder import encode_separately
from index.live import Chunking, open_index
from index.pipeline import FIRST_GROUP, LARGEST_GROUP, IdleWork, document_groups
from index.words import tokenize_for_bm25

TOPICS = [
    ("port", "Dock workers at the port of Velmar unloaded {n} containers on {day}."),
    ("quake", "An earthquake of magnitude {m} shook the valley town of Orsk on {day}."),
    ("vote", "The council of Lorn voted {n} to {k} to close the old library on {day}."),
    ("fire", "Firefighters fought a blaze at the Karvia mill for {n} hours on {day}."),
]


def _documents(count: int, seed: int = 30) -> list[Document]:
    rng = random.Random(seed)
    documents = []
    for n in range(count):
        topic, line = rng.choice(TOPICS)
        day = rng.randint(1, 28)
        sentences = [
            line.format(n=rng.randint(2, 900), k=rng.randint(1, 9), m=rng.randint(3, 8), day=day)
            for _ in range(rng.randint(1, 12))
        ]
        documents.append(
            Document(
                id=f"{topic}-{n}",
                text=" ".join(sentences) + f" Reporter {rng.randint(1, 5)} filed it.",
                source=rng.choice(["Harbour News", "Valley Times", "Wire"]),
                title=f"{topic.title()} report {n}",
                published=f"2022-03-{day:02d}",
            )
        )
    return documents


class IdleHashing(HashingEmbedder):
    """The hashing embedder, encoding in batches of 4 and calling `idle` (8 steps at most)
    after each, as an encoder computing on its own threads would; counts the steps taken."""

    def __init__(self) -> None:
        super().__init__()
        self.idle_steps = 0

    def encode_passages(
        self,
        passages: Sequence[Passage],
        *,
        progress: bool = False,
        idle: Callable[[], bool] | None = None,
        encodings: Sequence[Any] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        vectors, sentences = [], []
        for start in range(0, len(passages), 4):
            some, theirs = encode_separately(self, passages[start : start + 4])
            vectors.append(some)
            sentences.extend(theirs)
            for _ in range(8):
                if idle is None or not idle():
                    break
                self.idle_steps += 1
        return np.concatenate(vectors), sentences


def test_groups_grow_from_small_to_the_largest_and_shrink_back_keeping_the_order() -> None:
    documents = _documents(1000)
    groups = document_groups(documents)
    sizes = [len(group) for group in groups]
    assert sizes[0] == sizes[-1] == FIRST_GROUP and max(sizes) == LARGEST_GROUP
    assert sizes[:3] == [FIRST_GROUP, 2 * FIRST_GROUP, 4 * FIRST_GROUP] == sizes[-1:-4:-1]
    assert [doc for group in groups for doc in group] == documents
    assert document_groups(documents[:1]) == [documents[:1]] and document_groups([]) == []
    assert [len(g) for g in document_groups(documents[:40])] == [16, 8, 16]


def test_idle_work_runs_a_step_at_a_time_and_urgent_jobs_first() -> None:
    done: list[str] = []

    def steps(name: str, count: int) -> Any:
        for n in range(count):
            done.append(f"{name}{n}")
            yield

    work = IdleWork()
    work.add(steps("place", 3))
    assert work.step() and done == ["place0"]
    chunking = work.add(steps("chunk", 2), first=True)
    assert work.step() and done[-1] == "chunk0"
    chunking.complete()
    work.complete()
    assert done == ["place0", "chunk0", "chunk1", "place1", "place2"]
    assert not work.step()


@pytest.mark.parametrize("count", [1, 40, 300])
def test_a_write_done_beside_the_encoder_gives_what_a_plain_write_gives(
    tmp_path: Path, count: int
) -> None:
    documents = _documents(count)
    plain = open_index(tmp_path / "plain", HashingEmbedder(), Chunking(), seed=None)
    plain_report = plain.upsert(documents)
    embedder = IdleHashing()
    overlapped = open_index(tmp_path / "overlapped", embedder, Chunking(), seed=None)
    report = overlapped.upsert(documents)

    assert [p.passage_id for p in overlapped.corpus.passages] == [
        p.passage_id for p in plain.corpus.passages
    ]
    assert np.array_equal(overlapped.corpus.vectors, plain.corpus.vectors)
    rows = np.arange(overlapped.corpus.sentence_vectors.shape[0])
    assert np.array_equal(
        overlapped.corpus.sentence_vectors[rows], plain.corpus.sentence_vectors[rows]
    )
    for tokens in tokenize_for_bm25(["containers unloaded at the port", "council vote"]):
        scores = overlapped.corpus.lexical_scores(tokens)
        assert scores.tolist() == plain.corpus.lexical_scores(tokens).tolist()
    assert report.story_ids == plain_report.story_ids
    assert overlapped.corpus.stories.headline == plain.corpus.stories.headline
    if count > FIRST_GROUP:
        # The later groups were chunked and the earlier ones placed while encoding.
        assert embedder.idle_steps >= count - FIRST_GROUP
    # A restart reads the same stories back.
    reopened = open_index(tmp_path / "overlapped", HashingEmbedder(), Chunking(), seed=None)
    assert reopened.corpus.stories.story_of == plain.corpus.stories.story_of


class FailingEncoder(IdleHashing):
    """Fails on its `fail_at`-th call, after doing idle work (stories placed) in earlier ones."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.calls, self.fail_at = 0, fail_at

    def encode_passages(self, passages: Sequence[Passage], **options: Any) -> Any:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("the encoder ran out of memory")
        return super().encode_passages(passages, **options)


def test_a_write_that_fails_mid_way_publishes_nothing_and_the_next_places_stories_anew(
    tmp_path: Path,
) -> None:
    documents = _documents(120)
    live = open_index(tmp_path / "index", HashingEmbedder(), Chunking(), seed=None)
    live.upsert(documents[:20])
    before = live.corpus
    live.embedder = FailingEncoder(fail_at=3)
    with pytest.raises(RuntimeError, match="out of memory"):
        live.upsert(documents[20:])
    assert live.corpus is before
    assert set(live.corpus.documents) == {doc.id for doc in documents[:20]}

    live.embedder = HashingEmbedder()
    report = live.upsert(documents[20:])
    reference = open_index(tmp_path / "reference", HashingEmbedder(), Chunking(), seed=None)
    reference.upsert(documents[:20])
    assert report.story_ids == reference.upsert(documents[20:]).story_ids
