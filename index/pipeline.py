"""Chunking and embedding a write's documents, with the CPU work overlapping the encoder.

The encoder (index/openvino.py) computes a batch on its own threads while the Python
thread that fed it waits. Ingest gives that thread work instead (`IdleWork`): the
documents are taken in groups, and while one group is encoded the next is split into
sentences and chunked, and the group before is placed in stories (`embed_documents`'s
`then`). On this machine's two cores the work done beside the encoder slows it by a
third to a half of that work's own time (docs/performance.md, "Where ingest time goes"),
so the write is shorter by the rest.

Groups start small, so that the encoder starts early, grow to `LARGEST_GROUP` documents,
so that batches still come from a wide choice of lengths (the encoder sorts each group's
passages by length), and shrink back at the end, so that little is left to place once
the encoder stops. In bf16 a passage's vector depends on the batch it was computed in (a
component moves by up to 8e-4), so grouping, like any batching, can move those last bits.

Hand-written because the overlap is cooperative, inside one thread: a second Python
thread doing the same work holds the interpreter lock the encoder's thread needs
between batches, and a second process would copy every passage across.
"""

from __future__ import annotations

import time
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.chunk import Passage, chunk
from index.documents import Document
from index.embed import Embedder, embed_passages
from index.encoder import DocumentTokens
from index.segment import EmbeddedDocument
from index.stages import stage
from index.stories import StoryMatcher, StoryTable

# The first group's documents, chunked before the encoder starts; each group after is
# twice as large as the one before, up to `LARGEST_GROUP`.
FIRST_GROUP = 16
LARGEST_GROUP = 256


@dataclass(frozen=True)
class Chunking:
    max_tokens: int = 192
    overlap: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"max_tokens": self.max_tokens, "overlap": self.overlap}


class Job:
    """Work cut into small steps (a generator yields after each), done a step at a time."""

    def __init__(self, steps: Iterable[object]) -> None:
        self._steps: Iterator[object] = iter(steps)
        self.done = False

    def step(self) -> bool:
        """Do one step; False once there is none left."""
        if self.done:
            return False
        try:
            next(self._steps)
        except StopIteration:
            self.done = True
            return False
        return True

    def complete(self) -> None:
        while self.step():
            pass


class IdleWork:
    """Jobs to do while the encoder computes, oldest first."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []

    def add(self, steps: Iterable[object], first: bool = False) -> Job:
        """Queue a job (`first`: before the others, for work needed sooner)."""
        job = Job(steps)
        self._jobs.insert(0 if first else len(self._jobs), job)
        return job

    def step(self) -> bool:
        """One step of the oldest unfinished job; False when every job is done."""
        while self._jobs:
            if self._jobs[0].step():
                return True
            self._jobs.pop(0)
        return False

    def complete(self) -> None:
        while self.step():
            pass


def chunk_document(
    embedder: Embedder, chunking: Chunking, doc: Document, tokens: DocumentTokens | None = None
) -> list[Passage]:
    """A document's passages: the model's own tokenizer decides sizes, so no passage is
    truncated when embedded (`tokens`: the document's text tokenised once, to count by)."""
    limit = min(chunking.max_tokens, embedder.max_tokens - 2)
    many = getattr(embedder, "count_tokens_many", None)
    spans = tokens.counts if tokens is not None else None
    with stage("tokenising and chunking"):
        return chunk(doc, limit, chunking.overlap, embedder.count_tokens, many, spans)


def document_groups(
    documents: Sequence[Document], first: int = FIRST_GROUP, largest: int = LARGEST_GROUP
) -> list[Sequence[Document]]:
    """`documents` in consecutive groups that grow from `first` (twice as large each) to
    `largest` and shrink back to `first` at the end: the first group is chunked before the
    encoder starts and the last placed after it stops, with nothing beside either."""
    ramp, size = [], first
    while size < largest:
        ramp.append(size)
        size *= 2
    head: list[int] = []
    tail: list[int] = []
    left = len(documents)
    for size in ramp:
        for sizes in (head, tail):
            if left:
                sizes.append(min(size, left))
                left -= sizes[-1]
    middle = [largest] * (left // largest) + ([left % largest] if left % largest else [])
    groups, start = [], 0
    for size in [*head, *middle, *reversed(tail)]:
        groups.append(documents[start : start + size])
        start += size
    return groups


Then = Callable[[Sequence[EmbeddedDocument]], Iterable[object]]


def embed_documents(
    embedder: Embedder,
    chunking: Chunking,
    documents: Sequence[Document],
    progress: bool = False,
    then: Then | None = None,
) -> list[EmbeddedDocument]:
    """Chunk and embed documents: each passage and each of its sentences, in their order.

    `then(group)` is called with each group as it is embedded and gives the steps of the
    work that group needs next (placing it in stories): they run while the encoder
    computes the groups after it, and all of them have run when this returns.
    """
    from tqdm import tqdm

    groups = document_groups(documents)
    chunked = [_Chunked() for _ in groups]
    work = IdleWork()
    embedded: list[EmbeddedDocument] = []
    upcoming = Job(_chunking(embedder, chunking, groups[0], chunked[0]) if groups else ())
    with tqdm(total=len(documents), disable=not progress, unit="document") as bar:
        for n, group in enumerate(groups):
            upcoming.complete()  # this group's passages, if the encoder left any unchunked
            if n + 1 < len(groups):
                # The next group is chunked before the earlier groups are placed.
                steps = _chunking(embedder, chunking, groups[n + 1], chunked[n + 1])
                upcoming = work.add(steps, first=True)
            done = _embedded_group(embedder, group, chunked[n], work.step)
            embedded.extend(done)
            if then is not None:
                work.add(then(done))
            bar.update(len(group))
    work.complete()
    return embedded


@dataclass
class _Chunked:
    """A group's passages, document by document, and their model inputs when the
    embedder makes those ahead (`tokenize`)."""

    passages: list[list[Passage]] = field(default_factory=list)
    encodings: list[Any] | None = None


def _chunking(
    embedder: Embedder, chunking: Chunking, group: Sequence[Document], into: _Chunked
) -> Iterator[None]:
    """Chunk (and tokenise) `group` into `into`, a document a step."""
    # An encoder that pools sentences from its passages' tokens gets them made here, from
    # each document tokenised once; one that encodes sentences on their own tokenises
    # every text itself.
    pooled = getattr(embedder, "pooled_sentences", True)
    tokenize = getattr(embedder, "tokenize", None) if pooled else None
    document_tokens = getattr(embedder, "document_tokens", None) if pooled else None
    if tokenize is not None:
        into.encodings = []
    for doc in group:
        with stage("tokenising and chunking"):
            tokens = document_tokens(doc.text) if document_tokens is not None else None
        passages = chunk_document(embedder, chunking, doc, tokens)
        into.passages.append(passages)
        if into.encodings is not None and passages:
            with stage("tokenising and chunking"):
                into.encodings.extend(_inputs(passages, tokens, tokenize))
        yield


def _inputs(
    passages: list[Passage], tokens: DocumentTokens | None, tokenize: Callable[..., list[Any]]
) -> list[Any]:
    """The passages as the model reads them: cut from the document's tokens where they can
    be (`DocumentTokens.inputs`), each other one tokenised alone."""
    made = [tokens.inputs(p) for p in passages] if tokens is not None else [None] * len(passages)
    missing = [n for n, inputs in enumerate(made) if inputs is None]
    if missing:
        for n, encoding in zip(missing, tokenize([passages[n].text for n in missing]), strict=True):
            made[n] = encoding
    return made


def _embedded_group(
    embedder: Embedder, group: Sequence[Document], chunked: _Chunked, idle: Callable[[], bool]
) -> list[EmbeddedDocument]:
    passages = [passage for parts in chunked.passages for passage in parts]
    vectors, sentences = embed_passages(embedder, passages, idle=idle, encodings=chunked.encodings)
    embedded, row = [], 0
    for doc, parts in zip(group, chunked.passages, strict=True):
        rows = slice(row, row + len(parts))
        sentence_vectors = sentences[rows]
        embedded.append(
            EmbeddedDocument(
                doc,
                parts,
                vectors[rows],
                np.concatenate(sentence_vectors)
                if sentence_vectors
                else np.zeros((0, vectors.shape[1]), np.float32),
            )
        )
        row += len(parts)
    return embedded


class Placement:
    """A write's story placement: the documents it replaces or deletes taken out of their
    stories, then its documents placed in publication order, a group at a time as their
    vectors arrive (`steps` is `embed_documents`'s `then`)."""

    def __init__(self, matcher: StoryMatcher, stories: StoryTable, remove: Sequence[str]) -> None:
        self.matcher = matcher
        previous = {doc_id: stories.story_of.get(doc_id) for doc_id in remove}
        for doc_id in remove:
            matcher.remove(doc_id)
        # A replaced document that starts a story of its own takes its old story id again.
        self._reuse = {doc_id: story for doc_id, story in previous.items() if story is not None}
        self.placed: dict[str, Document] = {}
        self.seconds = 0.0  # spent placing

    def steps(self, additions: Sequence[EmbeddedDocument]) -> Iterator[None]:
        """Place `additions` (after those placed before), a document a step."""
        items = [(added.document, added.vectors) for added in additions]
        placing = self.matcher.placing(items, self._reuse)
        for doc, _ in items:
            started = time.perf_counter()
            with stage("story placement"):
                next(placing)
            self.seconds += time.perf_counter() - started
            self.placed[doc.id] = doc
            yield

    def table(self, documents: Mapping[str, Document]) -> StoryTable:
        """The stories of the snapshot holding `documents` and the placed ones."""
        started = time.perf_counter()
        with stage("story placement"):
            table = self.matcher.table(ChainMap(self.placed, documents))
        self.seconds += time.perf_counter() - started
        return table
