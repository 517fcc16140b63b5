"""How the story matcher (index/stories.py) describes a document and sums a story: a
document's vector, its four bags of tf-idf weighted words (content, title and lead,
names, figures), and the word statistics the weights come from."""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from index.documents import Document
from index.words import DocumentWords, document_words, zipf

# The background of general English counts as this many documents of this many words.
BACKGROUND_DOCUMENTS = 1000
BACKGROUND_DOCUMENT_WORDS = 300
# The most weighted words a document keeps in each bag (content, lead, names, figures):
# the rest weigh little and cost time on every comparison.
BAG_SIZES = (60, 40, 25, 15)


def document_vector(passage_vectors: np.ndarray) -> np.ndarray:
    """A document's unit vector: the mean of its passages', the lead passage counted once more."""
    if len(passage_vectors) == 0:
        return np.zeros(passage_vectors.shape[1], dtype=np.float32)
    vector = passage_vectors.mean(axis=0) + passage_vectors[0]
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm else vector.astype(np.float32)


@dataclass(frozen=True)
class Bag:
    """A unit-length sparse vector: word ids and their weights, heaviest first."""

    ids: tuple[int, ...]
    weights: tuple[float, ...]

    @cached_property
    def id_array(self) -> np.ndarray:
        """The ids as int32, made once: a bag is compared with every story of a shortlist."""
        return np.asarray(self.ids, dtype=np.int32)


@dataclass(frozen=True)
class Features:
    vector: np.ndarray  # the document's unit vector
    bags: tuple[Bag, Bag, Bag, Bag]
    day: int | None  # date ordinal of publication
    words: np.ndarray  # every word id it counted (int32), for document frequencies

    def packed(self) -> Packed:
        return Packed(
            self.vector,
            np.array([i for b in self.bags for i in b.ids], dtype=np.int32),
            np.array([w for b in self.bags for w in b.weights], dtype=np.float64),
            tuple(len(b.ids) for b in self.bags),
            self.day,
            self.words,
        )


@dataclass(frozen=True, slots=True)
class Packed:
    """A placed document's features as numpy arrays (a tenth of the memory of tuples),
    kept so that removing it subtracts exactly what was added. An archive has one per
    document, so it is lean: its four bags share two arrays.

    The vector is None while the document is alone in its story: the story's centroid
    row is then that vector (`StoryMatcher._vector`)."""

    vector: np.ndarray | None
    ids: np.ndarray  # int32: the word ids of its bags, one bag after another
    weights: np.ndarray  # float64: their weights
    sizes: tuple[int, ...]  # the words of each bag
    day: int | None
    words: np.ndarray

    @property
    def bags(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Each bag's (word ids, weights)."""
        bags, start = [], 0
        for size in self.sizes:
            bags.append((self.ids[start : start + size], self.weights[start : start + size]))
            start += size
        return tuple(bags)

    def unpacked(self) -> Features:
        bags = tuple(Bag(tuple(ids.tolist()), tuple(w.tolist())) for ids, w in self.bags)
        return Features(self.vector, bags, self.day, self.words)  # type: ignore[arg-type]


class Sums:
    """A story's summed bag: its word ids, sorted, and their summed weights.

    Two arrays instead of a dict of floats: 12 bytes a word against about 100 (the dict's
    slot, an int and a float object), 850 MB at 520k stories. Adding and taking out a
    bag do the float arithmetic the dict did, word by word, so the sums are the same
    numbers."""

    __slots__ = ("ids", "weights")

    def __init__(self, ids: np.ndarray, weights: np.ndarray) -> None:
        self.ids = ids  # int32, sorted, distinct
        self.weights = weights  # float64

    @classmethod
    def of(cls, ids: np.ndarray, weights: np.ndarray) -> Sums:
        """One bag's words (distinct, in any order) as sums."""
        order = np.argsort(ids, kind="stable")
        return cls(
            ids[order].astype(np.int32, copy=False), weights[order].astype(np.float64, copy=False)
        )

    def __len__(self) -> int:
        return len(self.ids)

    def values_of(self, wanted: np.ndarray) -> list[float]:
        """The summed weight of each word id of `wanted` (0.0 for one not in the sums)."""
        if not len(self.ids):
            return [0.0] * len(wanted)
        at = np.searchsorted(self.ids, wanted)
        at[at == len(self.ids)] = 0
        return np.where(self.ids[at] == wanted, self.weights[at], 0.0).tolist()

    def add(self, bag: Bag) -> None:
        """Add a bag: each word's weight to its sum (0.0 + w for a new word)."""
        ids, weights, at, present = self._located(bag)
        self.weights[at[present]] += weights[present]
        new = ~present
        if new.any():
            self._merge(ids[new], 0.0 + weights[new])

    def subtract(self, bag: Bag) -> None:
        """Take a bag out: each word's weight from its sum; a sum left near zero is gone."""
        ids, weights, at, present = self._located(bag)
        rows = at[present]
        self.weights[rows] -= weights[present]
        gone = np.zeros(len(self.ids), dtype=bool)
        gone[rows] = np.abs(self.weights[rows]) < 1e-9
        if gone.any():
            self.ids, self.weights = self.ids[~gone], self.weights[~gone]
        # A word the story did not have is left at 0.0 - w.
        missing = ids[~present]
        if len(missing):
            lost = 0.0 - weights[~present]
            stays = np.abs(lost) >= 1e-9
            self._merge(missing[stays], lost[stays])

    def _located(self, bag: Bag) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The bag's word ids and weights, where each id stands (or would stand) in the
        sums, and whether it is there."""
        ids = bag.id_array
        weights = np.asarray(bag.weights, dtype=np.float64)
        at = np.searchsorted(self.ids, ids)
        present = at < len(self.ids)
        present[present] = self.ids[at[present]] == ids[present]
        return ids, weights, at, present

    def _merge(self, ids: np.ndarray, weights: np.ndarray) -> None:
        """Words not in the sums, with their weights, taken in (the ids kept sorted)."""
        merged = Sums.of(np.concatenate([self.ids, ids]), np.concatenate([self.weights, weights]))
        self.ids, self.weights = merged.ids, merged.weights

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.ids.tolist(), self.weights.tolist(), strict=True))


@dataclass(frozen=True)
class MatcherState:
    """What a matcher learned that a snapshot cannot recompute cheaply."""

    vocabulary: tuple[str, ...]  # word id -> stem
    df: np.ndarray  # int64: documents that counted each word
    background: np.ndarray  # float64: each word's share of documents in general English
    documents: int  # documents counted in `df`
    features: Mapping[str, Packed]  # each placed document's features


class WordStatistics:
    """The words the matcher has seen, with their document frequencies, blended with a
    background of general English (wordfreq) so that a small archive still weighs words
    sensibly and a word every article of an archive uses counts for little."""

    def __init__(self, common_share: float) -> None:
        # Words in more than this share of documents are left out of the bags (`StoryOptions`).
        self.floor = -math.log(common_share)
        self.vocabulary: dict[str, int] = {}  # stem -> word id
        self.df: list[int] = []  # documents that counted each word
        self.background: list[float] = []  # each word's share of documents in general English
        self.documents = 0  # documents counted in `df`

    @classmethod
    def restored(cls, common_share: float, state: MatcherState) -> WordStatistics:
        stats = cls(common_share)
        stats.vocabulary = {stem: word for word, stem in enumerate(state.vocabulary)}
        stats.df = state.df.tolist()
        stats.background = state.background.tolist()
        stats.documents = state.documents
        return stats

    def count(self, words: np.ndarray) -> None:
        """Count one more document holding `words` (word ids)."""
        self.documents += 1
        for word in words.tolist():
            self.df[word] += 1

    def uncount(self, words: np.ndarray) -> None:
        """Take out a document counted with `words`."""
        self.documents -= 1
        for word in words.tolist():
            self.df[word] -= 1

    def describe(
        self, doc: Document, passage_vectors: np.ndarray, vector: np.ndarray | None = None
    ) -> Features:
        """A document's features: its vector and its four bags of weighted words."""
        words = document_words(doc.title, doc.text)
        ids = {stem: self._word_id(stem, words) for stem in words.content}
        idf = {stem: self._idf(word) for stem, word in ids.items()}
        idf = {stem: value for stem, value in idf.items() if value > self.floor}
        bags = tuple(
            _bag(counts, ids, idf, size)
            for counts, size in zip(
                (words.content, words.lead, words.names, words.figures), BAG_SIZES, strict=True
            )
        )
        return Features(
            document_vector(passage_vectors) if vector is None else vector,
            bags,  # type: ignore[arg-type]
            day_of(doc.published),
            np.array(sorted(ids.values()), dtype=np.int32),
        )

    def _word_id(self, stem: str, words: DocumentWords) -> int:
        word = self.vocabulary.get(stem)
        if word is None:
            word = self.vocabulary[stem] = len(self.df)
            self.df.append(0)
            frequency = 10 ** (zipf(words.surface.get(stem, stem)) - 9)
            self.background.append(1 - math.exp(-BACKGROUND_DOCUMENT_WORDS * frequency))
        return word

    def _idf(self, word: int) -> float:
        documents = BACKGROUND_DOCUMENTS + self.documents + 1
        return math.log(
            documents / (BACKGROUND_DOCUMENTS * self.background[word] + self.df[word] + 1)
        )


def _bag(
    counts: Mapping[str, int],
    ids: Mapping[str, int],
    idf: Mapping[str, float],
    size: int,
) -> Bag:
    """The `size` heaviest words of `counts`, weighted by tf-idf, as a unit vector."""
    weighted = [
        (ids[stem], (1 + math.log(count)) * idf[stem])
        for stem, count in counts.items()
        if stem in idf
    ]
    weighted.sort(key=lambda pair: (-pair[1], pair[0]))
    kept = weighted[:size]
    norm = math.sqrt(sum(w * w for _, w in kept))
    if not kept or not norm:
        return Bag((), ())
    return Bag(tuple(i for i, _ in kept), tuple(w / norm for _, w in kept))


def dot(bag: Bag, sums: Sums) -> float:
    """The inner product of a document's bag with a story's summed bag (summed in the bag's
    order, one float at a time, so that it is the same number however it is reached)."""
    return sum(map(operator.mul, bag.weights, sums.values_of(bag.id_array)))


def day_of(published: str | None) -> int | None:
    """The day of a date or a date-time, as a day number (stories count time in days)."""
    return date.fromisoformat(published[:10]).toordinal() if published else None
