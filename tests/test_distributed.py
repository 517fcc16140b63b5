"""Writes whose segments other processes embed and write (`LiveIndex` with a `RemoteBuild`,
as `parallax build --ray` does), here with an in-process stand-in for Ray: the parts are
read back, their documents placed in stories in publication order, and all published with
one manifest. tests/test_ray.py runs the same on a local Ray instance."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.corpus import segment_name
from index.distributed import checked_parts
from index.documents import Document
from index.embed import HashingEmbedder
from index.errors import ParallaxError
from index.live import Chunking, open_index
from index.pipeline import embed_documents
from index.segment import Segment
from index.store import IndexStore


class InProcessParts:
    """A `RemoteBuild` that writes `size` documents a part, as Ray's workers would."""

    def __init__(self, directory: Path, size: int, fail_after: int | None = None) -> None:
        self.directory = directory
        self.size = size
        self.fail_after = fail_after  # raise after writing this many parts
        self.calls = 0

    def write_segments(self, documents: Sequence[Document], first_generation: int) -> list[str]:
        self.calls += 1
        store, names = IndexStore(self.directory), []
        for start in range(0, len(documents), self.size):
            if self.fail_after is not None and len(names) == self.fail_after:
                raise RuntimeError("the job died")
            batch = documents[start : start + self.size]
            embedded = embed_documents(HashingEmbedder(), Chunking(), batch)
            segment = Segment.build(
                segment_name(first_generation + start), embedded, HashingEmbedder().dim
            )
            store.write_part(segment)
            names.append(segment.name)
        return names


def dated(documents: Sequence[Document]) -> list[Document]:
    """The seeds with distinct dates, newest first, so publication order is not file order."""
    days = [f"2019-12-{31 - n:02d}" for n in range(len(documents))]
    return [replace(doc, published=day) for doc, day in zip(documents, days, strict=True)]


def test_parts_publish_as_one_write_with_the_same_passages_and_stories(
    tmp_path: Path, seed_documents: list[Document]
) -> None:
    documents = dated(seed_documents)
    local = open_index(tmp_path / "local", HashingEmbedder(), Chunking())
    local.replace_all(documents)
    remote = open_index(tmp_path / "remote", HashingEmbedder(), Chunking())
    before = remote.corpus.generation
    report = remote.replace_all(documents, remote=InProcessParts(tmp_path / "remote", size=2))

    corpus = remote.corpus
    # Oldest first, two a part, each named after its first document's position.
    first = before + 1
    assert [s.name for s in corpus.segments] == [segment_name(first + n) for n in (0, 2, 4)]
    assert corpus.generation == first + len(documents)
    assert [d.published for d in corpus.documents.values()] == sorted(
        d.published for d in documents
    )
    assert report.passages == len(local.corpus.passages) == len(corpus.passages)
    assert dict(corpus.stories.story_of) == dict(local.corpus.stories.story_of)
    spans = {(p.doc_id, p.char_start, p.char_end, p.text) for p in local.corpus.passages}
    assert {(p.doc_id, p.char_start, p.char_end, p.text) for p in corpus.passages} == spans

    # What a restart reads: the same parts, each document with its story.
    reread = IndexStore(tmp_path / "remote").load(corpus.model, corpus.dim)
    assert [s.name for s in reread.segments] == [s.name for s in corpus.segments]
    assert dict(reread.stories.story_of) == dict(corpus.stories.story_of)
    assert np.allclose(np.asarray(reread.vectors), np.asarray(corpus.vectors))


def test_an_ingest_through_parts_skips_unchanged_documents_and_replaces_changed_ones(
    tmp_path: Path, seed_documents: list[Document]
) -> None:
    live = open_index(tmp_path / "index", HashingEmbedder(), Chunking(), seed_documents)
    parts = InProcessParts(tmp_path / "index", size=2)
    again = live.upsert(seed_documents, remote=parts)
    assert again.unchanged == [d.id for d in seed_documents] and parts.calls == 0

    changed = replace(seed_documents[1], text=seed_documents[1].text + " A later update.")
    report = live.upsert([seed_documents[0], changed], remote=parts)
    assert report.replaced == [changed.id] and report.unchanged == [seed_documents[0].id]
    assert live.corpus.documents[changed.id].text.endswith("A later update.")
    assert sum(p.doc_id == changed.id for p in live.corpus.passages) == len(live.chunk(changed))
    assert len(live.corpus.documents) == len(seed_documents)
    assert changed.id in live.corpus.stories.story_of


def test_a_job_that_fails_publishes_nothing_and_its_parts_are_removed_later(
    tmp_path: Path, seed_documents: list[Document]
) -> None:
    directory = tmp_path / "index"
    live = open_index(directory, HashingEmbedder(), Chunking(), seed_documents[:2])
    generation = live.corpus.generation
    manifest = (directory / "manifest.json").read_text()
    with pytest.raises(RuntimeError, match="the job died"):
        live.upsert(seed_documents[2:], remote=InProcessParts(directory, size=1, fail_after=2))

    assert (directory / "manifest.json").read_text() == manifest
    assert live.corpus.generation == generation and len(live.corpus.documents) == 2
    leftovers = {segment_name(generation + 1 + n) for n in (0, 1)}
    assert leftovers <= {p.name for p in directory.iterdir()}
    reopened = open_index(directory, HashingEmbedder(), Chunking())
    assert set(reopened.corpus.documents) == {d.id for d in seed_documents[:2]}

    # The next write (here the job again, whole) reuses the names and removes nothing live.
    reopened.upsert(seed_documents[2:], remote=InProcessParts(directory, size=1))
    assert set(reopened.corpus.documents) == {d.id for d in seed_documents}
    on_disk = {p.name for p in directory.iterdir() if p.name.startswith("segment-")}
    assert on_disk == {s.name for s in reopened.corpus.segments}


def test_parts_that_miss_or_repeat_a_document_are_refused(seed_documents: list[Document]) -> None:
    documents = seed_documents[:3]

    def part(first: int, ids: list[str]) -> dict[str, object]:
        return {"name": segment_name(10 + first), "first": first, "ids": json.dumps(ids)}

    whole = [part(2, [documents[2].id]), part(0, [documents[0].id, documents[1].id])]
    assert checked_parts(whole, documents, 10) == [segment_name(10), segment_name(12)]
    with pytest.raises(ParallaxError, match="1 missing, 0 repeated"):
        checked_parts(whole[1:], documents, 10)
    twice = [*whole, part(1, [documents[1].id])]
    with pytest.raises(ParallaxError, match="0 missing, 1 repeated"):
        checked_parts(twice, documents, 10)
