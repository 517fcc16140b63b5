"""The index on disk: one directory, one manifest, files named by generation.

    DIR/manifest.json            format version, model, dimension, counts, generation, files
    DIR/vectors-000007.npy       float32 (passages, dim), unit rows, in passage order
    DIR/sentences-000007.npy     float32 (sentences, dim), each passage's sentences in order
    DIR/documents-000007.jsonl   one document a line with its story id and its passages, in
                                 row order: each passage is [start, end, [[sentence start,
                                 end], ...]]
    DIR/stories-000007.json      the next story number, each story's headline document, and
                                 the story matcher's vocabulary
    DIR/matcher-000007.npz       the story matcher's word statistics and each document's
                                 features, so a restart restores it without reading every
                                 document again (derived: a missing one is rebuilt)
    DIR/bm25-000007/             the BM25 index of the passages (bm25s's own format)

A save writes the new generation's files, fsyncs them, then replaces
`manifest.json` by an atomic rename (and fsyncs the directory). The manifest
is the commit point: a crash before the rename leaves the previous
generation whole, a crash after it leaves the new one whole, never a mix.
Files of older generations are removed after the commit.

Format 2 added stories; a format 1 index loads with no stories placed, and
`index.live.open_index` places them (saved with the next write).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from index.chunk import Passage
from index.corpus import Corpus
from index.documents import Document
from index.errors import IndexMismatch, NotReady
from index.stories import BAG_SIZES, MatcherState, Packed, StoryTable, document_vector

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
MANIFEST = "manifest.json"
_GENERATION_FILE = re.compile(
    r"^(?:(vectors|sentences|documents|stories|matcher)-(\d+)\.(npy|jsonl|json|npz)|bm25-(\d+))"
    r"(\.tmp)?$"
)


class IndexCorrupt(NotReady):
    code = "index_corrupt"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dim: int
    normalized: bool
    documents: int
    passages: int
    sentences: int
    generation: int
    built_at: str
    files: dict[str, str]
    chunking: dict[str, int]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


class IndexStore:
    """Reads and writes a `Corpus` in one directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> Manifest:
        try:
            return Manifest.from_json(json.loads(self.manifest_path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(
                f"{self.manifest_path} is unreadable ({exc}); delete {self.directory} to rebuild "
                "the index from the source documents"
            ) from exc

    def load(self, model: str, dim: int) -> Corpus:
        """Load the committed generation, refusing an index built for another model."""
        manifest = self.read_manifest()
        if manifest.format_version not in READABLE_FORMATS:
            raise IndexMismatch(
                f"index format {manifest.format_version} in {self.directory}, this version reads "
                f"formats {', '.join(map(str, READABLE_FORMATS))}; rebuild it with `parallax build`"
            )
        if manifest.model != model or manifest.dim != dim:
            raise IndexMismatch(
                f"the index in {self.directory} was built with model {manifest.model!r} "
                f"(dimension {manifest.dim}) but the settings ask for {model!r} (dimension {dim}); "
                "set PARALLAX_MODEL to the index's model, or rebuild with `parallax build`"
            )
        try:
            vectors = np.load(self.directory / manifest.files["vectors"], allow_pickle=False)
            sentences = np.load(self.directory / manifest.files["sentences"], allow_pickle=False)
            documents, passages, story_of = _read_documents(
                self.directory / manifest.files["documents"]
            )
            stories = _read_stories(self.directory, manifest.files.get("stories"), story_of)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(
                f"index generation {manifest.generation} in {self.directory} is damaged ({exc}); "
                "delete the directory to rebuild it from the source documents"
            ) from exc
        for name, array, rows in (
            ("vectors", vectors, manifest.passages),
            ("sentence vectors", sentences, manifest.sentences),
        ):
            if array.shape != (rows, manifest.dim) or array.dtype != np.float32:
                raise IndexCorrupt(
                    f"{name} in {self.directory} have shape {array.shape} ({array.dtype}), the "
                    f"manifest says {(rows, manifest.dim)} float32; delete the directory to rebuild"
                )
        spans = sum(len(p.sentences) for p in passages)
        found = (len(documents), len(passages), spans)
        if found != (manifest.documents, manifest.passages, manifest.sentences):
            raise IndexCorrupt(
                f"{self.directory} holds {found[0]} documents, {found[1]} passages and {found[2]} "
                f"sentences, the manifest says {manifest.documents}, {manifest.passages} and "
                f"{manifest.sentences}; delete the directory to rebuild"
            )
        corpus = Corpus(
            documents,
            tuple(passages),
            vectors,
            sentences,
            model,
            manifest.generation,
            stories=stories,
        )
        if "bm25" in manifest.files:
            _prime_bm25(corpus, self.directory / manifest.files["bm25"])
        return corpus

    def save(self, corpus: Corpus, chunking: dict[str, int]) -> Manifest:
        """Write `corpus` as generation `corpus.generation`, crash-safely."""
        self.directory.mkdir(parents=True, exist_ok=True)
        generation = corpus.generation
        files = {
            "vectors": f"vectors-{generation:06d}.npy",
            "sentences": f"sentences-{generation:06d}.npy",
            "documents": f"documents-{generation:06d}.jsonl",
            "stories": f"stories-{generation:06d}.json",
        }
        with _atomic_file(self.directory / files["vectors"]) as handle:
            np.save(handle, corpus.vectors, allow_pickle=False)
        with _atomic_file(self.directory / files["sentences"]) as handle:
            np.save(handle, corpus.sentence_vectors, allow_pickle=False)
        with _atomic_file(self.directory / files["documents"]) as handle:
            for line in _document_lines(corpus):
                handle.write(line)
        table = corpus.stories
        stories: dict[str, Any] = {"next_number": table.next_number, "headlines": table.headline}
        if table.state is not None and set(table.state.features) == set(corpus.documents):
            files["matcher"] = f"matcher-{generation:06d}.npz"
            with _atomic_file(self.directory / files["matcher"]) as handle:
                np.savez(handle, **_matcher_arrays(table.state, list(corpus.documents)))
            stories["vocabulary"] = table.state.vocabulary
            stories["matcher_documents"] = table.state.documents
        with _atomic_file(self.directory / files["stories"]) as handle:
            handle.write(orjson.dumps(stories))
        files["bm25"] = _save_bm25(corpus, self.directory, generation)
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model=corpus.model,
            dim=corpus.dim,
            normalized=True,
            documents=len(corpus.documents),
            passages=len(corpus.passages),
            sentences=int(corpus.sentence_vectors.shape[0]),
            generation=generation,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            files=files,
            chunking=dict(chunking),
        )
        with _atomic_file(self.manifest_path) as handle:
            handle.write(json.dumps(manifest.__dict__, indent=2).encode())
        self._remove_stale(keep=set(files.values()))
        return manifest

    def load_matcher_state(self, corpus: Corpus) -> MatcherState | None:
        """The story matcher's saved state for `corpus` (the committed generation), or None
        when there is none or it does not fit: the matcher is then rebuilt from the
        documents, which only costs time."""
        if not corpus.documents or not self.exists():
            return None
        try:
            manifest = self.read_manifest()
            if manifest.generation != corpus.generation or "matcher" not in manifest.files:
                return None
            stories = orjson.loads((self.directory / manifest.files["stories"]).read_bytes())
            with np.load(self.directory / manifest.files["matcher"], allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            return _matcher_state(corpus, stories, arrays)
        except (OSError, ValueError, KeyError, TypeError, IndexError, FileNotFoundError) as exc:
            log.warning("rebuilding story matching: its saved state is unreadable (%s)", exc)
            return None

    def committed_generation(self) -> int:
        """The generation the manifest on disk names (0 when there is none)."""
        try:
            return self.read_manifest().generation
        except (FileNotFoundError, NotReady):
            return 0

    def _remove_stale(self, keep: set[str]) -> None:
        # After the commit a failure here must not fail the write: old files only waste space.
        try:
            for path in self.directory.iterdir():
                if _GENERATION_FILE.match(path.name) and path.name not in keep:
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove old index files in %s: %s", self.directory, exc)


class _atomic_file:
    """Write to `NAME.tmp`, fsync, rename over `NAME`, fsync the directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + ".tmp")

    def __enter__(self) -> Any:
        self.handle = self.tmp.open("wb")
        return self.handle

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        try:
            if exc_type is None:
                self.handle.flush()
                os.fsync(self.handle.fileno())
        finally:
            self.handle.close()
        if exc_type is not None:
            self.tmp.unlink(missing_ok=True)
            return
        os.replace(self.tmp, self.path)
        _fsync_dir(self.path.parent)


def _save_bm25(corpus: Corpus, directory: Path, generation: int) -> str:
    """The snapshot's BM25 index in its own folder (written, fsynced, then renamed), so a
    start loads it instead of tokenizing every passage again (seconds at 30k passages)."""
    name = f"bm25-{generation:06d}"
    partial = directory / f"{name}.tmp"
    shutil.rmtree(partial, ignore_errors=True)
    corpus.bm25.save(str(partial), show_progress=False)
    for path in partial.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(partial)
    target = directory / name
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    _fsync_dir(directory)
    return name


def _prime_bm25(corpus: Corpus, path: Path) -> None:
    """Use the saved BM25 index; if it is missing or does not fit, it is rebuilt on first use
    (it is derived from the passages, so a damaged copy never loses anything)."""
    import bm25s

    try:
        retriever = bm25s.BM25.load(str(path), show_progress=False, verbosity=0)
        indexed = int(retriever.scores["num_docs"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("rebuilding the BM25 index: %s is unreadable (%s)", path, exc)
        return
    if indexed != max(len(corpus.passages), 1):
        log.warning("rebuilding the BM25 index: %s holds %d passages", path, indexed)
        return
    corpus.__dict__["bm25"] = retriever  # what the cached property would have computed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _document_lines(corpus: Corpus) -> Iterator[bytes]:
    story_of = corpus.stories.story_of
    for doc in corpus.documents.values():
        record = doc.to_dict()
        record["story"] = story_of.get(doc.id)
        record["passages"] = [
            [p.char_start, p.char_end, [list(span) for span in p.sentences]]
            for p in corpus.passages_of(doc.id)
        ]
        yield orjson.dumps(record) + b"\n"  # UTF-8, as json.dumps(ensure_ascii=False); 5x faster


def _read_stories(directory: Path, name: str | None, story_of: dict[str, str]) -> StoryTable:
    if name is None:  # format 1: no stories yet
        return StoryTable(story_of)
    data = orjson.loads((directory / name).read_bytes())
    return StoryTable(story_of, dict(data["headlines"]), int(data["next_number"]))


def _read_documents(path: Path) -> tuple[dict[str, Document], list[Passage], dict[str, str]]:
    documents: dict[str, Document] = {}
    passages: list[Passage] = []
    story_of: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = orjson.loads(line)
            spans = record.pop("passages")
            story = record.pop("story", None)
            doc = Document(**record)
            if story is not None:
                story_of[doc.id] = story
            documents[doc.id] = doc
            passages.extend(
                Passage(
                    f"{doc.id}#{n}",
                    doc.id,
                    doc.text[start:end],
                    start,
                    end,
                    tuple((s_start, s_end) for s_start, s_end in sentences),
                )
                for n, (start, end, sentences) in enumerate(spans)
            )
    return documents, passages, story_of


_BAGS = len(BAG_SIZES)


def _matcher_arrays(state: MatcherState, order: list[str]) -> dict[str, np.ndarray]:
    """The matcher state as flat arrays, documents in `order` (their vectors are not
    saved: they are their passages' mean, recomputed on load)."""
    features = [state.features[doc_id] for doc_id in order]
    arrays = {
        "df": state.df,
        "background": state.background,
        "days": np.array([-1 if f.day is None else f.day for f in features], dtype=np.int64),
        "word_counts": np.array([len(f.words) for f in features], dtype=np.int64),
        "words": _concatenate([f.words for f in features], np.int32),
    }
    for n in range(_BAGS):
        arrays[f"bag{n}_counts"] = np.array([len(f.bags[n][0]) for f in features], np.int64)
        arrays[f"bag{n}_ids"] = _concatenate([f.bags[n][0] for f in features], np.int32)
        arrays[f"bag{n}_weights"] = _concatenate([f.bags[n][1] for f in features], np.float64)
    return arrays


def _matcher_state(
    corpus: Corpus, stories: dict[str, Any], arrays: dict[str, np.ndarray]
) -> MatcherState | None:
    order = list(corpus.documents)
    if len(arrays["days"]) != len(order) or len(stories["vocabulary"]) != len(arrays["df"]):
        return None
    words = np.split(arrays["words"], np.cumsum(arrays["word_counts"])[:-1])
    bags = [
        list(
            zip(
                np.split(arrays[f"bag{n}_ids"], np.cumsum(arrays[f"bag{n}_counts"])[:-1]),
                np.split(arrays[f"bag{n}_weights"], np.cumsum(arrays[f"bag{n}_counts"])[:-1]),
                strict=True,
            )
        )
        for n in range(_BAGS)
    ]
    features = {}
    for i, doc_id in enumerate(order):
        rows = corpus.rows_of(doc_id)
        day = int(arrays["days"][i])
        features[doc_id] = Packed(
            document_vector(corpus.vectors[rows.start : rows.stop]),
            tuple(bags[n][i] for n in range(_BAGS)),
            None if day < 0 else day,
            words[i],
        )
    return MatcherState(
        tuple(stories["vocabulary"]),
        arrays["df"],
        arrays["background"],
        int(stories["matcher_documents"]),
        features,
    )


def _concatenate(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)
