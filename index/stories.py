"""Stories: the documents about one event, found online as documents arrive.

A story is the set of documents that report one event, whatever outlet wrote
them; answers are compared within a story, never across events. Stories are
found at ingest by single-pass clustering, as streaming news clustering does it
(Topic Detection and Tracking; Miranda et al., "Multilingual Clustering of
Streaming News", EMNLP 2018):

- A document is described by its dense vector and four bags of tf-idf weighted words
  (content, title and lead, names, figures; `index.story_features`), the document
  frequencies the archive's own blended with general English's (wordfreq), so that a
  word every article of an archive uses counts for little.
- A story keeps the sums of its documents' vectors and bags (its centroids)
  and the dates of its documents.
- A new document is scored against a shortlist of stories, those whose
  centroid vector is nearest its own: a weighted sum of the cosine similarity
  of its vector and of each bag to the story's centroids, less a penalty that
  grows with the days between the document and the story's first or last
  document. It joins the best story when that score reaches the threshold, and
  starts a new story otherwise. The weights and the threshold are
  `StoryOptions`, measured on a labelled development set (docs/evaluation.md, "Stories").
- Documents are taken in publication order, so one batch and the same
  documents sent one by one form the same stories.
- A story id (`s000001`, ...) is given once and never reused or changed: adding,
  replacing or deleting a document never renames another document's story. A
  replaced document is assigned again; a story left without documents is gone.

Hand-written because no maintained package clusters a stream with stable
cluster ids, deletions and mixed dense and sparse features (river's stream
clusterers and scikit-learn's Birch re-label clusters and take one dense vector).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from index.documents import Document
from index.story_features import (
    Features,
    MatcherState,
    Packed,
    Sums,
    WordStatistics,
    document_vector,
    dot,
)
from index.vectors import top

# The longest story title taken from a document's first sentence, where it has no title.
_HEADLINE_CHARS = 120
# Documents whose shortlists come from one matrix product.
_BLOCK = 256


def _option(default: Any, help: str, **bounds: float) -> Any:
    """A field of `StoryOptions`: its default, what it does and its bounds (`ge`, `gt`,
    `le`), which the `story_<name>` setting of the same name takes (api/settings.py)."""
    return field(default=default, metadata={"help": help, "bounds": bounds})


@dataclass(frozen=True)
class StoryOptions:
    """How documents are matched to stories; the defaults are measured (docs/evaluation.md,
    "Stories").

    Declared once: each field is also a setting, `PARALLAX_STORY_<NAME>`."""

    threshold: float = _option(
        0.25, "A document joins the best-matching story at this score, else starts one."
    )
    dense_weight: float = _option(
        0.4, "Story score weight: document vector against the story's centroid.", ge=0
    )
    content_weight: float = _option(0.3, "Story score weight: tf-idf of all content words.", ge=0)
    lead_weight: float = _option(
        0.1, "Story score weight: tf-idf of the title's and the lead's words.", ge=0
    )
    names_weight: float = _option(0.1, "Story score weight: tf-idf of the names mentioned.", ge=0)
    figures_weight: float = _option(0.1, "Story score weight: tf-idf of the figures given.", ge=0)
    time_weight: float = _option(
        0.2, "Story score penalty for a document far from the story's dates.", ge=0
    )
    time_scale_days: float = _option(
        7.0, "Days over which the date penalty grows (to 63% at this gap).", gt=0
    )
    shortlist: int = _option(
        10, "Stories nearest by vector that a new document is scored against.", ge=1
    )
    # Words in more than this share of documents (the archive's, blended with general
    # English) are left out of the bags, as scikit-learn's `max_df` does: "said", or a
    # wire's sign-off and table headings, would otherwise make a bag of nothing else
    # look like a perfect match.
    common_share: float = _option(
        0.1,
        "Words in more than this share of documents are left out of story matching.",
        gt=0,
        le=1,
    )
    # How much of the document's mean similarity to its `crowd` nearest stories is taken off
    # its similarity to each (a margin, as in bitext mining against hubness): a templated
    # document (a dividend notice, a table of results) is as near a dozen stories as the
    # one it would join, and only what sets a story apart should count.
    crowd_share: float = _option(
        1.0,
        "Share of a document's mean similarity to its nearest stories taken off its "
        "similarity to each.",
        ge=0,
    )
    crowd: int = _option(10, "How many nearest stories that mean similarity is taken over.", ge=1)

    def bag_weights(self) -> tuple[float, float, float, float]:
        return (self.content_weight, self.lead_weight, self.names_weight, self.figures_weight)


@dataclass(frozen=True)
class StoryTable:
    """Which story each document of a snapshot belongs to, and what names each story."""

    story_of: Mapping[str, str] = field(default_factory=dict)  # document id -> story id
    headline: Mapping[str, str] = field(default_factory=dict)  # story id -> document id
    next_number: int = 1  # the number the next new story takes
    # Each story's document ids in the order they joined it (None: derive from `story_of`).
    members: Mapping[str, tuple[str, ...]] | None = field(default=None, compare=False, repr=False)
    # The matcher's word statistics and each document's features, saved with the snapshot
    # so that a restart restores the matcher instead of reading every document again.
    state: MatcherState | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Story:
    """A story as readers see it: its headline, its documents (oldest first), outlets, dates."""

    id: str
    title: str | None
    documents: tuple[Document, ...]
    sources: tuple[str, ...]
    first_published: str | None
    last_published: str | None

    @classmethod
    def of(cls, sid: str, documents: tuple[Document, ...], headline: Document | None) -> Story:
        dates = [d.published for d in documents if d.published]
        return cls(
            sid,
            headline_text(headline or documents[0]) if documents else None,
            documents,
            tuple(dict.fromkeys(d.source for d in documents if d.source)),
            min(dates) if dates else None,
            max(dates) if dates else None,
        )


def story_id(number: int) -> str:
    return f"s{number:06d}"


def story_number(identifier: str) -> int | None:
    if len(identifier) >= 2 and identifier[0] == "s" and identifier[1:].isdigit():
        return int(identifier[1:])
    return None


@dataclass(slots=True)
class _Story:
    id: str
    row: int  # its row in the matcher's centroid matrix
    members: list[str]
    # The summed bags, one dict per bag; None while the story has had only its one
    # document, whose bags they are (`StoryMatcher._sums_of`). Most stories of an archive
    # have one document, and four dicts each took 4.6 KB a story (2.4 GB at 520k).
    sums: list[Sums] | None
    norms: list[float]
    days: dict[int, int] = field(default_factory=dict)  # day ordinal -> documents
    first: int | None = None
    last: int | None = None


class StoryMatcher:
    """The writer's working state: story centroids, word statistics, each document's story.

    It lives beside the live index and changes only under its write lock; a
    snapshot takes an immutable `StoryTable` from it.
    """

    def __init__(self, options: StoryOptions, dim: int, next_number: int = 1) -> None:
        self.options = options
        self.dim = dim
        self.next_number = next_number
        self.words = WordStatistics(options.common_share)
        self.story_of: dict[str, str] = {}
        self.headline: dict[str, str] = {}
        self.stories: dict[str, _Story] = {}
        self._features: dict[str, Packed] = {}
        self._sums = np.zeros((64, dim), dtype=np.float32)
        self._norms = np.zeros(64, dtype=np.float32)  # 0 marks a row with no story
        self._rows = 0
        self._by_row: list[_Story | None] = []
        self._touched: set[str] = set()
        # Each story's members as a tuple, for snapshots; refreshed for touched stories.
        self._member_tuples: dict[str, tuple[str, ...]] | None = None

    # --- building ------------------------------------------------------------------------

    @classmethod
    def rebuild(
        cls,
        documents: Iterable[Document],
        vectors_of: Callable[[str], np.ndarray],
        table: StoryTable,
        options: StoryOptions,
        dim: int,
    ) -> StoryMatcher:
        """The state a matcher had after placing `documents` (in their order) as `table` says;
        documents the table does not place (an index from before stories) are matched."""
        matcher = cls(options, dim, table.next_number)
        unplaced: list[tuple[Document, np.ndarray]] = []
        for doc in documents:
            sid = table.story_of.get(doc.id)
            if sid is None:
                unplaced.append((doc, vectors_of(doc.id)))
                continue
            if unplaced:
                matcher.assign(unplaced)
                unplaced = []
            features = matcher.words.describe(doc, vectors_of(doc.id))
            matcher._join(doc.id, features, matcher.stories.get(sid) or matcher._new(sid))
        if unplaced:
            matcher.assign(unplaced)
        matcher._adopt_headlines(table)
        return matcher

    @classmethod
    def restore(
        cls,
        ids: Sequence[str],
        table: StoryTable,
        state: MatcherState,
        options: StoryOptions,
        dim: int,
        vectors_of: Callable[[str], np.ndarray],
        document_of: Callable[[str], Document],
        fresh: Collection[str] = frozenset(),
    ) -> StoryMatcher | None:
        """The matcher that placed the documents `ids` (in their order), from a saved state;
        None when the state does not fit them. `vectors_of` gives a document's passage
        vectors: a saved state holds no document vectors (they are the passages' mean).

        The state may be older than the documents: those in `fresh` (written since it was
        saved) and those it does not hold are read (`document_of`), described again and
        counted, and what it counted of documents gone since is taken out of the word
        statistics, as `remove` would have done. The other documents are not read: their
        saved features are all the matcher needs.
        """
        if len(state.vocabulary) != len(state.df):
            return None
        if any(doc_id not in table.story_of for doc_id in ids):
            return None
        matcher = cls(options, dim, table.next_number)
        matcher._reserve(len(set(table.story_of.values())))
        matcher.words = WordStatistics.restored(options.common_share, state)
        live = set(ids) - set(fresh)
        for doc_id, packed in state.features.items():
            if doc_id not in live:  # deleted or replaced since the state was saved
                matcher.words.uncount(packed.words)
        for doc_id in ids:
            sid = table.story_of[doc_id]
            story = matcher.stories.get(sid) or matcher._new(sid)
            packed = state.features.get(doc_id)
            if packed is not None and doc_id in live:
                # The vector is made here and kept only if the story has other documents:
                # kept for all, 666k of them stayed in memory as 1 GB of small arrays.
                packed = replace(packed, vector=document_vector(vectors_of(doc_id)))
                matcher._join(doc_id, packed.unpacked(), story, count=False, packed=packed)
            else:
                doc = document_of(doc_id)
                matcher._join(doc_id, matcher.words.describe(doc, vectors_of(doc_id)), story)
        matcher._adopt_headlines(table)
        return matcher

    def _adopt_headlines(self, table: StoryTable) -> None:
        self.headline = {sid: doc for sid, doc in table.headline.items() if sid in self.stories}
        self._touched = {sid for sid in self.stories if sid not in self.headline}

    # --- writes --------------------------------------------------------------------------

    def remove(self, doc_id: str) -> None:
        """Take a document out of its story; a story left empty is gone."""
        sid = self.story_of.pop(doc_id, None)
        packed = self._features.pop(doc_id, None)
        if sid is None or packed is None:
            return
        features = packed.unpacked()
        story = self.stories[sid]
        story.members.remove(doc_id)
        self.words.uncount(features.words)
        if not story.members:
            del self.stories[sid]
            self.headline.pop(sid, None)
            self._touched.discard(sid)
            if self._member_tuples is not None:
                self._member_tuples.pop(sid, None)
            self._sums[story.row] = 0
            self._norms[story.row] = 0
            self._by_row[story.row] = None
            return
        assert features.vector is not None and story.sums is not None  # it had company
        self._sums[story.row] -= features.vector
        self._norms[story.row] = np.linalg.norm(self._sums[story.row])
        for n, (sums, bag) in enumerate(zip(story.sums, features.bags, strict=True)):
            if not bag.ids:
                continue
            # |s - b|^2 = |s|^2 - 2 s.b + |b|^2, with b among the summed bags.
            squared = story.norms[n] ** 2 - 2 * dot(bag, sums) + 1
            sums.subtract(bag)
            story.norms[n] = math.sqrt(max(squared, 0.0)) if sums else 0.0
        if features.day is not None:
            story.days[features.day] -= 1
            if not story.days[features.day]:
                del story.days[features.day]
            story.first, story.last = (
                (min(story.days), max(story.days)) if story.days else (None, None)
            )
        self._touched.add(sid)

    def assign(
        self, items: Sequence[tuple[Document, np.ndarray]], reuse: Mapping[str, str] | None = None
    ) -> list[str]:
        """`placing` all of `items`: their story ids."""
        return list(self.placing(items, reuse))

    def placing(
        self, items: Sequence[tuple[Document, np.ndarray]], reuse: Mapping[str, str] | None = None
    ) -> Iterator[str]:
        """Place each (document, passage vectors) in the best story or a new one, in the
        order given (publication order: `index.documents.publication_order`); yield each
        one's story id once it is placed.

        `reuse` maps a replaced document to the story id it had, taken again when
        the document starts a story of its own and that id has no documents left.
        """
        vectors = np.stack([document_vector(v) for _, v in items]) if items else None
        for n, (doc, passage_vectors) in enumerate(items):
            assert vectors is not None
            if n % _BLOCK == 0:
                # The shortlist's similarities to every story, for a block of documents at
                # once: one matrix product instead of one matrix-vector product per document.
                # Stories that change within the block are scored afresh (`changed`).
                # The product is over every row, then cut to the live ones: cutting the
                # centroid matrix first would copy it (228 MB at 148k stories) per block.
                norms = self._norms[: self._rows]
                live = np.flatnonzero(norms > 0)
                product = vectors[n : n + _BLOCK] @ self._sums[: self._rows].T
                block = product[:, live] / norms[live]
                changed: list[int] = []
            features = self.words.describe(doc, passage_vectors, vectors[n])
            rows, similarities = self._nearest(vectors[n], live, block[n % _BLOCK], changed)
            # Stories an archive does not have yet count as unlike the document, so that in
            # a young archive the one story there is does not cancel its own similarity.
            crowd = float(similarities[: self.options.crowd].sum()) / self.options.crowd
            best = self._best(features, rows[: self.options.shortlist], crowd)
            sid = self._place(doc, features, best, (reuse or {}).get(doc.id))
            changed.append(self.stories[sid].row)
            yield sid

    def table(self, documents: Mapping[str, Document]) -> StoryTable:
        """An immutable copy for a snapshot, headlines chosen for the stories that changed."""
        if self._member_tuples is None:
            self._member_tuples = {sid: tuple(s.members) for sid, s in self.stories.items()}
        for sid in self._touched:
            if sid in self.stories:
                self.headline[sid] = self._headline(self.stories[sid], documents)
                self._member_tuples[sid] = tuple(self.stories[sid].members)
            else:
                self._member_tuples.pop(sid, None)
        self._touched.clear()
        return StoryTable(
            dict(self.story_of),
            dict(self.headline),
            self.next_number,
            members=dict(self._member_tuples),
        )

    def state(self) -> MatcherState:
        """A copy of what this matcher learned, for the snapshot to save (made only for a
        snapshot that saves it: copying every document's features on each write took
        2.3 ms of a one-document write at 19k documents, growing with the archive)."""
        return MatcherState(
            tuple(self.words.vocabulary),
            np.array(self.words.df, dtype=np.int64),
            np.array(self.words.background, dtype=np.float64),
            self.words.documents,
            dict(self._features),
        )

    # --- matching ------------------------------------------------------------------------

    def _nearest(
        self, vector: np.ndarray, live: np.ndarray, block_row: np.ndarray, changed: list[int]
    ) -> tuple[list[int], np.ndarray]:
        """Rows of the stories nearest `vector` (as many as the shortlist or the crowd needs)
        and their similarities, best first, exactly as one matrix-vector
        product over every story would rank them: the block's similarities stand for the
        stories that have not changed since it was computed, the rest are computed afresh,
        and the best of both are ranked again by their exact similarity."""
        size = max(self.options.shortlist, self.options.crowd)
        pool: list[int] = []
        if len(live):
            similarities = block_row.copy()
            if changed:
                similarities[np.isin(live, changed)] = -np.inf
            best = top(similarities, 2 * size)
            pool.extend(live[best][np.isfinite(similarities[best])].tolist())
        if changed:
            pool.extend(changed)
        rows = np.unique(np.array(pool, dtype=np.int64))
        rows = rows[self._norms[rows] > 0]
        exact = self._similarities(vector, rows)
        best = top(exact, size)
        order = best[np.lexsort((rows[best], -exact[best]))]  # best first; ties by row
        return rows[order].tolist(), exact[order]

    def _best(
        self, features: Features, rows: list[int], crowd: float = 0.0
    ) -> tuple[_Story, float] | None:
        """The best-scoring story among `rows`, with its score; `crowd` is the document's
        mean similarity to its nearest stories."""
        best: tuple[_Story, float] | None = None
        for row in sorted(set(rows)):
            story = self._by_row[row]
            if story is None:
                continue
            score = self.score(features, story, crowd)
            if best is None or score > best[1]:
                best = (story, score)
        return best

    def _similarities(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine similarities of `vector` to the centroids of `rows`, each row summed on its
        own (not by BLAS, whose order of summation depends on the shape), so a story's
        similarity is the same number whatever it is computed with."""
        return (self._sums[rows] * vector).sum(axis=1) / self._norms[rows]

    def score(self, features: Features, story: _Story, crowd: float = 0.0) -> float:
        """How well a document fits a story: weighted similarities less the time penalty."""
        options = self.options
        dense = float((self._sums[story.row] * features.vector).sum()) / float(
            self._norms[story.row]
        )
        total = options.dense_weight * (dense - options.crowd_share * crowd)
        for weight, bag, sums, norm in zip(
            options.bag_weights(), features.bags, self._sums_of(story), story.norms, strict=True
        ):
            if weight and norm and len(bag.ids):
                total += weight * dot(bag, sums) / norm
        gap = _gap(features.day, story.first, story.last)
        if gap and options.time_weight:
            total -= options.time_weight * (1 - math.exp(-gap / options.time_scale_days))
        return total

    def _place(
        self,
        doc: Document,
        features: Features,
        best: tuple[_Story, float] | None,
        previous: str | None = None,
    ) -> str:
        if best is not None and best[1] >= self.options.threshold:
            story = best[0]
        elif previous is not None and previous not in self.stories:
            story = self._new(previous)
        else:
            story = self._new(story_id(self.next_number))
        self._join(doc.id, features, story)
        return story.id

    def _new(self, sid: str) -> _Story:
        number = story_number(sid)
        if number is not None and number >= self.next_number:
            self.next_number = number + 1
        if self._rows == len(self._sums):
            self._reserve(2 * self._rows)
        story = _Story(sid, self._rows, [], None, [0.0] * 4)
        self._rows += 1
        self._by_row.append(story)
        self.stories[sid] = story
        return story

    def _join(
        self,
        doc_id: str,
        features: Features,
        story: _Story,
        count: bool = True,
        packed: Packed | None = None,
    ) -> None:
        """Add a document to a story (and, with `count`, to the word statistics)."""
        packed = packed or features.packed()
        first = not story.members
        if first:  # the story's centroid row will be the vector, and its sums the bags
            packed = replace(packed, vector=None)
        elif story.sums is None:  # a second document: the first one's part is kept apart
            story.sums = self._sums_of(story)
            self._features[story.members[0]] = replace(
                self._features[story.members[0]], vector=self._sums[story.row].copy()
            )
        story.members.append(doc_id)
        self.story_of[doc_id] = story.id
        self._features[doc_id] = packed
        if count:
            self.words.count(features.words)
        self._sums[story.row] += features.vector
        self._norms[story.row] = np.linalg.norm(self._sums[story.row]) or 1e-12
        if first:
            # |0 + b|^2 = 1 for each bag that has words, as the sums below would give.
            story.norms = [1.0 if bag.ids else 0.0 for bag in features.bags]
            story.first = story.last = features.day
            if features.day is not None:
                story.days[features.day] = 1
            self._touched.add(story.id)
            return
        assert story.sums is not None
        for n, (sums, bag) in enumerate(zip(story.sums, features.bags, strict=True)):
            if not bag.ids:
                continue
            # |s + b|^2 = |s|^2 + 2 s.b + |b|^2, and a bag is a unit vector.
            squared = story.norms[n] ** 2 + 2 * dot(bag, sums) + 1
            sums.add(bag)
            story.norms[n] = math.sqrt(max(squared, 0.0))
        if features.day is not None:
            story.days[features.day] = story.days.get(features.day, 0) + 1
            story.first, story.last = min(story.days), max(story.days)
        self._touched.add(story.id)

    def _sums_of(self, story: _Story) -> list[Sums]:
        """A story's summed bags: for a story that has had one document, that document's
        bags (0.0 + w is w, so these are the sums joining it gave)."""
        if story.sums is not None:
            return story.sums
        packed = self._features[story.members[0]]
        return [Sums.of(ids, weights) for ids, weights in packed.bags]

    def _vector(self, doc_id: str) -> np.ndarray:
        """A placed document's vector (its story's centroid row while it is alone there)."""
        vector = self._features[doc_id].vector
        return self._sums[self.stories[self.story_of[doc_id]].row] if vector is None else vector

    def _reserve(self, rows: int) -> None:
        """Room for at least `rows` stories in the centroid matrix."""
        if rows > len(self._sums):
            grown = np.zeros((rows, self.dim), dtype=np.float32)
            grown[: self._rows] = self._sums[: self._rows]
            norms = np.zeros(rows, dtype=np.float32)
            norms[: self._rows] = self._norms[: self._rows]
            self._sums, self._norms = grown, norms

    def _headline(self, story: _Story, documents: Mapping[str, Document]) -> str:
        """The member nearest the story's centroid, preferring one with a title; the earlier
        member where two are as near. Nearness is rounded to 4 decimals: the two members of
        a two-document story are exactly as near to their mean, and which looked nearer
        depended on the last bits of how their vectors were computed (a Ray worker's and
        this process's differ in those)."""
        centroid = self._sums[story.row]
        _, _, _, best = min(
            (
                documents[d].title is None if d in documents else True,
                -round(float(self._vector(d) @ centroid), 4),
                n,
                d,
            )
            for n, d in enumerate(story.members)
        )
        return best


def headline_text(document: Document) -> str:
    """What names a story after its headline document: its title, else its first sentence."""
    if document.title:
        return document.title
    lead = document.text.strip().split("\n", 1)[0]
    end = lead.find(". ")
    lead = lead[: end + 1] if 0 < end else lead
    return lead if len(lead) <= _HEADLINE_CHARS else lead[: _HEADLINE_CHARS - 1].rstrip() + "\u2026"


def _gap(day: int | None, first: int | None, last: int | None) -> int:
    """Days between a date and a story's span (0 inside it, or when either is undated)."""
    if day is None or first is None or last is None:
        return 0
    return max(0, first - day, day - last)
