"""A segment's documents and passages as columns, and its documents read on access.

At a million passages (some 660k documents) reading every document and passage as an
object when the index opened took 12.9 of its 20 seconds and gigabytes of memory, and a
search reads only the few hundred passages it shows. So a segment keeps what must be at
hand for every row as arrays (`Columns`: each document's id, outlet, date and passage
count; each passage's character offsets and sentence spans), and its documents stay in
their file until asked for (`DocumentFile`: the byte offset of each line, parsed on
access). A passage is made from its columns and its document's text when it is read.
"""

from __future__ import annotations

import mmap
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from index.chunk import Passage
from index.documents import PUBLISHED_DTYPE, Document

# Documents kept parsed, per segment file: a search shows some 55 passages, several from
# one document, and the answer reader reads their documents again. (A few dozen segments
# of long articles at this size hold tens of megabytes.)
DOCUMENT_CACHE = 1024


def concatenated_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """start, start + 1, ..., start + count - 1 for each (start, count), concatenated."""
    starts, counts = np.asarray(starts, dtype=np.int64), np.asarray(counts, dtype=np.int64)
    shifts = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return np.arange(int(counts.sum()), dtype=np.int64) + shifts


def _strings(values: Sequence[str]) -> np.ndarray:
    """Strings as one JSON list in bytes: a numpy string column is as wide as its longest
    value (an id may have 200 characters), and this parses back in milliseconds."""
    return np.frombuffer(orjson.dumps(list(values)), dtype=np.uint8)


def _read_strings(data: np.ndarray) -> list[str]:
    return orjson.loads(data.tobytes()) if len(data) else []


def _coded(values: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Distinct values (in order of first use) and each value's index among them."""
    names: dict[str, int] = {}
    codes = np.fromiter(
        (names.setdefault(v, len(names)) for v in values), dtype=np.int32, count=len(values)
    )
    return list(names), codes


@dataclass(frozen=True, eq=False)
class Columns:
    """A segment's documents in order and their passages (grouped by document, in order).

    Passage `i` is `text[spans[i, 0]:spans[i, 1]]` of its document, with the sentences
    `sentence_spans[sentence_offsets[i]:sentence_offsets[i + 1]]` (offsets into that text).
    """

    ids: list[str]
    outlets: list[str]  # the distinct outlets ("" for none), as written
    outlet_codes: np.ndarray  # int32: each document's index into `outlets`
    published: np.ndarray  # "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", "" for undated
    passage_counts: np.ndarray  # int64: passages of each document
    spans: np.ndarray  # int32 (passages, 2)
    sentence_counts: np.ndarray  # int64: sentences of each passage
    sentence_spans: np.ndarray  # int32 (sentences, 2)

    @classmethod
    def of(cls, documents: Sequence[Document], passages: Sequence[Passage]) -> Columns:
        """The columns of documents and their passages (grouped by document, in order)."""
        outlets, codes = _coded([d.source or "" for d in documents])
        counts: dict[str, int] = {}
        for p in passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        passage_counts = np.array([counts.pop(d.id, 0) for d in documents], dtype=np.int64)
        if counts or [p.doc_id for p in passages] != [
            d.id for d, n in zip(documents, passage_counts.tolist(), strict=True) for _ in range(n)
        ]:
            raise ValueError("passages are not grouped in document order")
        sentences = [span for p in passages for span in p.sentences]
        return cls(
            ids=[d.id for d in documents],
            outlets=outlets,
            outlet_codes=codes,
            published=np.array([d.published or "" for d in documents], dtype=PUBLISHED_DTYPE),
            passage_counts=passage_counts,
            spans=np.array([(p.char_start, p.char_end) for p in passages], dtype=np.int32).reshape(
                -1, 2
            ),
            sentence_counts=np.array([len(p.sentences) for p in passages], dtype=np.int64),
            sentence_spans=np.array(sentences, dtype=np.int32).reshape(-1, 2),
        )

    @classmethod
    def concatenate(cls, parts: Sequence[tuple[Columns, np.ndarray | None]]) -> Columns:
        """The documents of several columns in order, keeping those marked alive in each
        (a boolean per document; None: all)."""
        outlets: dict[str, int] = {}
        ids: list[str] = []
        codes, published, counts, spans, sentence_counts, sentence_spans = [], [], [], [], [], []
        for columns, alive in parts:
            if alive is None:
                alive = np.ones(len(columns.ids), dtype=bool)
            rows, sentences = columns.rows_of_documents(alive)
            remap = np.array(
                [outlets.setdefault(name, len(outlets)) for name in columns.outlets], np.int32
            )
            ids.extend(i for i, keep in zip(columns.ids, alive.tolist(), strict=True) if keep)
            codes.append(
                remap[columns.outlet_codes[alive]] if len(remap) else np.zeros(0, np.int32)
            )
            published.append(columns.published[alive])
            counts.append(columns.passage_counts[alive])
            spans.append(columns.spans[rows])
            sentence_counts.append(columns.sentence_counts[rows])
            sentence_spans.append(columns.sentence_spans[sentences])
        return cls(
            ids=ids,
            outlets=list(outlets),
            outlet_codes=np.concatenate(codes).astype(np.int32),
            published=np.concatenate(published).astype(PUBLISHED_DTYPE),
            passage_counts=np.concatenate(counts).astype(np.int64),
            spans=np.concatenate(spans).astype(np.int32).reshape(-1, 2),
            sentence_counts=np.concatenate(sentence_counts).astype(np.int64),
            sentence_spans=np.concatenate(sentence_spans).astype(np.int32).reshape(-1, 2),
        )

    def __len__(self) -> int:
        """The number of passages."""
        return len(self.spans)

    @cached_property
    def position(self) -> dict[str, int]:
        """Document id -> its index."""
        return {doc_id: n for n, doc_id in enumerate(self.ids)}

    @cached_property
    def doc_starts(self) -> np.ndarray:
        """Each document's first passage row, plus the number of passages at the end."""
        return np.concatenate([[0], np.cumsum(self.passage_counts)]).astype(np.int64)

    @cached_property
    def doc_of_row(self) -> np.ndarray:
        """Each passage row's document index."""
        return np.repeat(np.arange(len(self.ids), dtype=np.int32), self.passage_counts)

    @cached_property
    def sentence_offsets(self) -> np.ndarray:
        """Where each passage's sentence rows start, plus the total at the end."""
        return np.concatenate([[0], np.cumsum(self.sentence_counts)]).astype(np.int64)

    def rows_of(self, doc_id: str) -> range:
        """A document's passage rows (empty for a document not here)."""
        n = self.position.get(doc_id)
        if n is None:
            return range(0)
        return range(int(self.doc_starts[n]), int(self.doc_starts[n + 1]))

    def alive(self, dead: frozenset[str] | set[str]) -> np.ndarray:
        """A boolean per document: not in `dead`."""
        alive = np.ones(len(self.ids), dtype=bool)
        gone = [self.position[d] for d in dead if d in self.position]
        alive[gone] = False
        return alive

    def rows_of_documents(self, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The passage rows and the sentence rows of the documents marked alive."""
        passages = concatenated_ranges(self.doc_starts[:-1][alive], self.passage_counts[alive])
        first = self.sentence_offsets[passages]
        return passages, concatenated_ranges(first, self.sentence_offsets[passages + 1] - first)

    def passage(self, row: int, document: Document) -> Passage:
        """Passage `row`, cut from its document's text."""
        start, end = self.spans[row].tolist()
        first = int(self.doc_starts[self.doc_of_row[row]])
        sentences = self.sentence_spans[self.sentence_offsets[row] : self.sentence_offsets[row + 1]]
        return Passage(
            f"{document.id}#{row - first}",
            document.id,
            document.text[start:end],
            start,
            end,
            tuple(map(tuple, sentences.tolist())),
        )

    # --- on disk -------------------------------------------------------------------------

    def save_to(self, handle: IO[bytes], offsets: np.ndarray, stories: Sequence[str]) -> None:
        """The columns, each document's byte offset in the documents file (and the file's
        length at the end) and each document's story ("" for none)."""
        story_names, story_codes = _coded(stories)
        np.savez(
            handle,
            ids=_strings(self.ids),
            outlets=_strings(self.outlets),
            outlet_codes=self.outlet_codes,
            published=self.published,
            passage_counts=self.passage_counts,
            spans=self.spans,
            sentence_counts=self.sentence_counts,
            sentence_spans=self.sentence_spans,
            offsets=np.asarray(offsets, dtype=np.int64),
            stories=_strings(story_names),
            story_codes=story_codes,
        )

    @classmethod
    def load(cls, path: Path) -> tuple[Columns, np.ndarray, list[str]]:
        """The columns saved by `save_to`, the documents' byte offsets and their stories."""
        with np.load(path, allow_pickle=False) as data:
            columns = cls(
                ids=_read_strings(data["ids"]),
                outlets=_read_strings(data["outlets"]),
                outlet_codes=data["outlet_codes"],
                published=data["published"],
                passage_counts=data["passage_counts"],
                spans=data["spans"],
                sentence_counts=data["sentence_counts"],
                sentence_spans=data["sentence_spans"],
            )
            story_names = _read_strings(data["stories"])
            stories = [story_names[c] for c in data["story_codes"].tolist()]
            offsets = data["offsets"]
        if len(offsets) != len(columns.ids) + 1 or len(stories) != len(columns.ids):
            raise ValueError(f"{path.name}: offsets or stories do not match the documents")
        if int(columns.passage_counts.sum()) != len(columns.spans):
            raise ValueError(f"{path.name}: passage counts do not match the passages")
        if int(columns.sentence_counts.sum()) != len(columns.sentence_spans):
            raise ValueError(f"{path.name}: sentence counts do not match the sentences")
        return columns, offsets, stories


def document_line(document: Document) -> bytes:
    """A document as one line of a segment's documents file (the shape `POST /documents`
    takes, so the file can be fed to `parallax build` again)."""
    return orjson.dumps(document.to_dict()) + b"\n"  # UTF-8; 5x faster than json.dumps


class DocumentFile(Mapping[str, Document]):
    """A segment's documents, in order, read from its documents file when asked for.

    The file is memory-mapped: it never changes, and it stays readable while a snapshot
    holds it even after a merge removed it from the directory."""

    def __init__(self, path: Path, columns: Columns, offsets: np.ndarray) -> None:
        self._columns = columns
        self._offsets = offsets
        size = int(offsets[-1])
        with path.open("rb") as handle:
            if handle.seek(0, 2) < size:
                raise ValueError(f"{path.name} is shorter than its index says")
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        self._cache: OrderedDict[int, Document] = OrderedDict()
        self._lock = threading.Lock()

    def at(self, n: int) -> Document:
        """The `n`th document."""
        with self._lock:
            doc = self._cache.get(n)
            if doc is not None:
                self._cache.move_to_end(n)
                return doc
        assert self._map is not None
        record = orjson.loads(self._map[int(self._offsets[n]) : int(self._offsets[n + 1])])
        doc = Document(**record)
        if doc.id != self._columns.ids[n]:
            raise ValueError(
                f"document {n} of the file is {doc.id!r}, not {self._columns.ids[n]!r}"
            )
        with self._lock:
            self._cache[n] = doc
            if len(self._cache) > DOCUMENT_CACHE:
                self._cache.popitem(last=False)
        return doc

    def __getitem__(self, doc_id: str) -> Document:
        return self.at(self._columns.position[doc_id])

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._columns.position

    def get(self, doc_id: str, default: Any = None) -> Any:  # type: ignore[override]
        n = self._columns.position.get(doc_id)
        return default if n is None else self.at(n)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns.ids)

    def __len__(self) -> int:
        return len(self._columns.ids)


class SegmentPassages(Sequence[Passage]):
    """A segment's passages, each made from its columns and its document when read."""

    def __init__(self, columns: Columns, documents: Mapping[str, Document]) -> None:
        self._columns = columns
        self._documents = documents

    def __len__(self) -> int:
        return len(self._columns)

    def _document(self, n: int) -> Document:
        if isinstance(self._documents, DocumentFile):
            return self._documents.at(n)
        return self._documents[self._columns.ids[n]]

    def __getitem__(self, row: Any) -> Any:
        if isinstance(row, slice):
            return [self[n] for n in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._columns.passage(row, self._document(int(self._columns.doc_of_row[row])))

    def with_document(self, row: int) -> tuple[Passage, Document]:
        """Passage `row` (a valid local row) and its document, the document read once."""
        document = self._document(int(self._columns.doc_of_row[row]))
        return self._columns.passage(row, document), document

    def __iter__(self) -> Iterator[Passage]:
        columns = self._columns
        for n, (start, end) in enumerate(
            zip(columns.doc_starts[:-1].tolist(), columns.doc_starts[1:].tolist(), strict=True)
        ):
            if end > start:
                document = self._document(n)
                for row in range(start, end):
                    yield columns.passage(row, document)


class JoinedDocuments(Mapping[str, Document]):
    """Documents of several mappings as one (what a merge folds together), in the order
    of `owners`, which names the mapping each document is read from."""

    def __init__(self, owners: dict[str, int], parts: Sequence[Mapping[str, Document]]) -> None:
        self._owners = owners
        self._parts = parts

    def __getitem__(self, doc_id: str) -> Document:
        return self._parts[self._owners[doc_id]][doc_id]

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._owners

    def __iter__(self) -> Iterator[str]:
        return iter(self._owners)

    def __len__(self) -> int:
        return len(self._owners)
