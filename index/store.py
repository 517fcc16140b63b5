"""The index on disk: one directory, one manifest naming the live segments.

    DIR/manifest.json            format version, model, dimension, counts, generation, the
                                 live segments (each with its dead document ids), files
    DIR/segment-000007/          one segment, written once and never changed:
        vectors.npy              float32 (passages, dim), unit rows, in passage order
        sentences.npy            int8 (sentences, dim), each passage's sentences in order,
        sentence_scales.npy      float32 (sentences,): a sentence vector is its codes times its
                                 scale (index/quantize.py)
        documents.jsonl          one document a line, as `POST /documents` takes it
        columns.npz              what must be at hand for every row (index/columns.py): each
                                 document's id, outlet, date, story, passage count and byte
                                 offset in documents.jsonl; each passage's character span
                                 and its sentences' spans
        postings.npz             the BM25 term frequencies of its passages (index/postings.py)
        graph.faiss              the HNSW graph of a large segment's vectors, if it has one
    DIR/stories-000009.json      the story table (the next story number, each story's
                                 headline document)
    DIR/matcher-000008.npz       the story matcher's state at some generation, so a restart
                                 restores it and describes only the documents written since
                                 (derived: a missing one is rebuilt); saved by full builds
                                 and merges

What the stories files hold is made and read by index/story_files.py: to this module they
are bytes and arrays, and each document's story id a string in its segment's columns.

A write adds one segment: it writes the segment's folder (each file fsynced, the folder
renamed into place), the stories file, then replaces `manifest.json` by an atomic rename
(and fsyncs the directory). The manifest is the commit point: a crash before the rename
leaves the previous set of segments whole, a crash after it the new one, never a mix.
A delete writes only a manifest, whose segment entry lists the dead document (a
tombstone). Files and folders the manifest does not name are removed after the commit.

Opening an index reads the columns and maps the vectors; documents are parsed when
asked for. Formats 1 (before stories) and 2 (one set of files per generation) load as one
segment, and the next write saves that segment in this layout. A format 3 segment (its
documents file held each document's passages and story, float32 sentence vectors and no
columns) is read whole, and is rewritten in this layout when a merge folds it.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from index.chunk import Passage
from index.columns import (
    Columns,
    DocumentFile,
    SegmentPassages,
    document_line,
)
from index.corpus import Corpus
from index.documents import Document
from index.errors import IndexMismatch, NotReady
from index.postings import Postings
from index.quantize import Int8Rows
from index.segment import Segment
from index.story_files import (
    matcher_file,
    matcher_header,
    matcher_state,
    read_table,
    saved_generation,
    table_bytes,
)
from index.vectors import VECTOR_OPTIONS, HnswIndex, VectorOptions

if TYPE_CHECKING:
    from index.stories import StoryTable
    from index.story_features import MatcherState
from index.words import tokenize_for_bm25

log = logging.getLogger(__name__)

FORMAT_VERSION = 4
READABLE_FORMATS = (1, 2, 3, 4)
MANIFEST = "manifest.json"
_OWN_FILE = re.compile(
    r"^(?:(vectors|sentences|documents|stories|matcher)-(\d+)\.(npy|jsonl|json|npz)"
    r"|bm25-(\d+)|segment-\d+(?:-\d+)?)(\.tmp)?$"
)


class IndexCorrupt(NotReady):
    """The index on disk cannot be read as its manifest describes it."""

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
    # Format 3: each live segment, oldest first: name, counts, and its dead documents.
    segments: list[dict[str, Any]] = field(default_factory=list)
    # How the segments' vectors are searched (`index.vectors.VectorOptions`); an index
    # written before it was recorded has the defaults.
    vectors: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        # A missing field is a TypeError here, reported as a corrupt manifest; `segments`
        # has a default, for formats 1 and 2, and `vectors` for indexes before it.
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


class IndexStore:
    """Reads and writes a `Corpus` in one directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        # Segment folders known to be whole: named by a manifest this store read or wrote,
        # or written by this store. Any other folder of that name is a crash's leftover.
        self._whole: set[str] = set()
        # The matcher state the committed manifest names (None: not known yet).
        self._matcher: dict[str, Any] | None = None
        # Segments written (or being written) by a merge that no manifest names yet: a
        # save meanwhile must neither remove their folders nor write them again.
        self._pending: set[str] = set()
        # Segments other processes wrote without their stories (`write_part`), read back
        # by `read_parts`: the save that first names them writes their stories in.
        self._unstoried: set[str] = set()

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
            if manifest.format_version < 3:
                corpus = self._load_generation(manifest, model)
            else:
                corpus = self._load_segments(manifest, model)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(
                f"index generation {manifest.generation} in {self.directory} is damaged ({exc}); "
                "delete the directory to rebuild it from the source documents"
            ) from exc
        spans = int(corpus.sentence_offsets[-1])
        found = (len(corpus.documents), len(corpus.passages), spans)
        if found != (manifest.documents, manifest.passages, manifest.sentences):
            raise IndexCorrupt(
                f"{self.directory} holds {found[0]} documents, {found[1]} passages and {found[2]} "
                f"sentences, the manifest says {manifest.documents}, {manifest.passages} and "
                f"{manifest.sentences}; delete the directory to rebuild"
            )
        return corpus

    def _load_segments(self, manifest: Manifest, model: str) -> Corpus:
        segments, dead, story_of = [], {}, {}
        options = VectorOptions.of(manifest.vectors)
        for entry in manifest.segments:
            segment, stories = self._read_segment(entry["name"], manifest.dim, options)
            if (len(segment.documents), len(segment.passages)) != (
                entry["documents"],
                entry["passages"],
            ):
                raise ValueError(f"segment {entry['name']} does not hold what the manifest says")
            segments.append(segment)
            gone = frozenset(entry.get("dead", ()))
            if gone:
                dead[segment.name] = gone
            story_of.update((i, s) for i, s in stories.items() if i not in gone)
        table = _read_stories(self.directory, manifest.files.get("stories"), story_of)
        self._whole.update(s.name for s in segments)
        return Corpus(
            tuple(segments),
            model,
            manifest.dim,
            manifest.generation,
            dead,
            table,
            options,
        )

    def _read_segment(
        self, name: str, dim: int, options: VectorOptions = VECTOR_OPTIONS
    ) -> tuple[Segment, dict[str, str]]:
        folder = self.directory / name
        vectors = _read_matrix(folder / "vectors.npy", dim)
        sentences = _read_sentences(folder, dim)
        if (folder / "columns.npz").is_file():
            columns, offsets, stories = Columns.load(folder / "columns.npz")
            documents: Mapping[str, Document] = DocumentFile(
                folder / "documents.jsonl", columns, offsets
            )
            story_of = {i: s for i, s in zip(columns.ids, stories, strict=True) if s}
        else:  # format 3: the documents file holds the passages; read it whole
            documents, passages, story_of = _read_documents(folder / "documents.jsonl")
            columns = Columns.of(list(documents.values()), passages)
        try:
            postings = Postings.load(folder / "postings.npz")
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            # Derived from the passages: a damaged copy loses nothing.
            log.warning("rebuilding the BM25 postings of %s: they are unreadable (%s)", name, exc)
            texts = [p.text for p in SegmentPassages(columns, documents)]
            postings = Postings.build(tokenize_for_bm25(texts))
        segment = Segment(name, documents, columns, vectors, sentences, postings)
        if (folder / "graph.faiss").is_file():
            graph = HnswIndex.read(folder / "graph.faiss", vectors, options)
            segment.__dict__["graph"] = graph
        return segment, story_of

    def _load_generation(self, manifest: Manifest, model: str) -> Corpus:
        """A format 1 or 2 index (one set of files per generation) as one segment."""
        vectors = _read_matrix(self.directory / manifest.files["vectors"], manifest.dim)
        sentences = _read_matrix(self.directory / manifest.files["sentences"], manifest.dim)
        documents, passages, story_of = _read_documents(
            self.directory / manifest.files["documents"]
        )
        stories = _read_stories(self.directory, manifest.files.get("stories"), story_of)
        return Corpus.of(
            documents, passages, vectors, sentences, model, manifest.generation, stories
        )

    def save(self, corpus: Corpus, chunking: dict[str, int], matcher: bool = False) -> Manifest:
        """Commit `corpus` as generation `corpus.generation`, crash-safely: write the segments
        not on disk yet, the stories, and (with `matcher`) the story matcher's state."""
        self.directory.mkdir(parents=True, exist_ok=True)
        generation = corpus.generation
        previous = self._matcher if self._matcher is not None else self._previous_files()
        for segment in corpus.segments:
            if segment.name in self._unstoried:
                self._write_stories(segment, corpus.stories.story_of)
            elif segment.name not in self._whole and segment.name not in self._pending:
                # A write's own small segment stays in memory as it is.
                self._write_folder(segment, corpus.stories.story_of)
        files = {"stories": f"stories-{generation:06d}.json"}
        saved = matcher_file(corpus.stories, corpus.documents, generation) if matcher else None
        header = None
        if saved is not None:
            files["matcher"] = f"matcher-{generation:06d}.npz"
            with _atomic_file(self.directory / files["matcher"]) as handle:
                np.savez(handle, **saved.arrays)
            header = saved.header
        elif "matcher" in previous:
            files["matcher"] = previous["matcher"]
            header = previous["matcher_header"]
        with _atomic_file(self.directory / files["stories"]) as handle:
            handle.write(table_bytes(corpus.stories, header))
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model=corpus.model,
            dim=corpus.dim,
            normalized=True,
            documents=len(corpus.documents),
            passages=len(corpus.passages),
            sentences=int(corpus.sentence_offsets[-1]),
            generation=generation,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            files=files,
            chunking=dict(chunking),
            vectors=corpus.vector_options.as_dict(),
            segments=[
                {
                    "name": s.name,
                    "documents": len(s.documents),
                    "passages": len(s.passages),
                    "sentences": len(s.sentence_vectors),
                    "dead": sorted(corpus.dead.get(s.name, ())),
                }
                for s in corpus.segments
            ],
        )
        with _atomic_file(self.manifest_path) as handle:
            handle.write(json.dumps(manifest.__dict__, indent=1).encode())
        self._whole = {s.name for s in corpus.segments}
        self._pending -= self._whole
        self._unstoried.clear()
        self._matcher = (
            {"matcher": files["matcher"], "matcher_header": header} if "matcher" in files else {}
        )
        self._remove_stale(keep={*files.values(), *self._whole})
        return manifest

    def _previous_files(self) -> dict[str, Any]:
        """The matcher state the committed manifest names (kept until a newer one is saved)."""
        try:
            manifest = self.read_manifest()
        except (FileNotFoundError, NotReady):
            return {}
        name, stories = manifest.files.get("matcher"), manifest.files.get("stories")
        if name is None or stories is None:
            return {}
        try:
            header = matcher_header((self.directory / stories).read_bytes())
        except (OSError, ValueError):
            return {}
        return {"matcher": name, "matcher_header": header} if header else {}

    def matcher_generation(self) -> int:
        """The generation the saved story matcher state describes (0: none saved)."""
        files = self._matcher if self._matcher is not None else self._previous_files()
        return saved_generation(files.get("matcher_header")) if "matcher" in files else 0

    def abandon(self, name: str) -> None:
        """A merged segment that will not be published: the next save removes its folder."""
        self._pending.discard(name)

    def write_segment(self, segment: Segment, story_of: Mapping[str, str]) -> Segment:
        """Write a merged segment's folder (before the manifest that names it) and return it
        read back as a load reads it (vectors mapped, documents parsed on access), so a
        large merged segment does not stay in memory twice over."""
        self._write_folder(segment, story_of)
        mapped, _ = self._read_segment(segment.name, segment.vectors.shape[1])
        if segment.graph is not None:
            mapped.__dict__["graph"] = HnswIndex(segment.graph.graph, mapped.vectors)
        return mapped

    def write_part(self, segment: Segment) -> None:
        """Write a segment for another process to publish (a worker of a distributed
        build, `index.distributed`): its folder whole, its documents without stories,
        since stories are placed once every part is embedded. No manifest names it until
        that process's `read_parts` and `save`; until then the next save of any writer
        removes it. Writing a name again replaces the folder (a retried part)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_folder(segment, {})

    def read_parts(self, names: Sequence[str], dim: int) -> list[Segment]:
        """The segments `write_part` wrote (in other processes), read as a load reads them;
        the next `save` that names them writes their stories in first."""
        parts = []
        for name in names:
            if not (self.directory / name / "columns.npz").is_file():
                raise IndexCorrupt(
                    f"segment {name} was reported written but is not in {self.directory}"
                )
            segment, _ = self._read_segment(name, dim)
            parts.append(segment)
        self._whole.update(names)
        self._unstoried.update(names)
        return parts

    def _write_stories(self, segment: Segment, story_of: Mapping[str, str]) -> None:
        """Rewrite the columns of a segment no manifest names yet with its stories."""
        folder = self.directory / segment.name
        columns, offsets, _ = Columns.load(folder / "columns.npz")
        stories = [story_of.get(doc_id, "") for doc_id in columns.ids]
        with _atomic_file(folder / "columns.npz") as handle:
            columns.save_to(handle, offsets, stories)

    def _write_folder(self, segment: Segment, story_of: Mapping[str, str]) -> None:
        """Write a segment's folder: each file fsynced, then the folder renamed into place."""
        final = self.directory / segment.name
        partial = self.directory / f"{segment.name}.tmp"
        self._pending.add(segment.name)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            with _synced(partial / "vectors.npy") as handle:
                np.save(handle, segment.vectors, allow_pickle=False)
            sentences = Int8Rows.of(segment.sentence_vectors)
            with _synced(partial / "sentences.npy") as handle:
                np.save(handle, sentences.codes, allow_pickle=False)
            with _synced(partial / "sentence_scales.npy") as handle:
                np.save(handle, sentences.scales, allow_pickle=False)
            with _synced(partial / "documents.jsonl") as handle:
                offsets = [0]
                for doc in segment.documents.values():
                    offsets.append(offsets[-1] + handle.write(document_line(doc)))
            with _synced(partial / "columns.npz") as handle:
                stories = [story_of.get(doc_id, "") for doc_id in segment.columns.ids]
                segment.columns.save_to(handle, np.array(offsets, dtype=np.int64), stories)
            with _synced(partial / "postings.npz") as handle:
                segment.postings.save_to(handle)
            if segment.graph is not None:  # built (a large segment): saved, never rebuilt
                segment.graph.write(partial / "graph.faiss")
                with (partial / "graph.faiss").open("rb") as handle:
                    os.fsync(handle.fileno())
            _fsync_dir(partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            self._pending.discard(segment.name)
            raise
        shutil.rmtree(final, ignore_errors=True)  # a crash's leftover of the same name
        os.replace(partial, final)
        _fsync_dir(self.directory)
        self._whole.add(segment.name)

    def load_matcher_state(self, corpus: Corpus) -> tuple[MatcherState, int] | None:
        """The story matcher's saved state and the generation it was saved at, or None when
        there is none or it is unreadable: the matcher is then rebuilt from the documents,
        which only costs time."""
        if not corpus.documents or not self.exists():
            return None
        try:
            manifest = self.read_manifest()
            if "matcher" not in manifest.files or "stories" not in manifest.files:
                return None
            table = (self.directory / manifest.files["stories"]).read_bytes()
            header = matcher_header(table, legacy=True) or {}
            with np.load(self.directory / manifest.files["matcher"], allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            state = matcher_state(header, arrays, list(corpus.documents))
            generation = saved_generation(header, manifest.generation)
            return None if state is None else (state, generation)
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
                if path.name.removesuffix(".tmp") in self._pending:
                    continue  # a merge's segment, written before its manifest
                if _OWN_FILE.match(path.name) and path.name not in keep:
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove old index files in %s: %s", self.directory, exc)


class _synced:
    """Write a new file and fsync it (inside a folder that is renamed into place later)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Any:
        self.handle = self.path.open("wb")
        return self.handle

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        try:
            if exc_type is None:
                self.handle.flush()
                os.fsync(self.handle.fileno())
        finally:
            self.handle.close()


class _atomic_file(_synced):
    """Write to `NAME.tmp` (fsynced), rename it over `NAME`, fsync the directory."""

    def __init__(self, path: Path) -> None:
        super().__init__(path.with_name(path.name + ".tmp"))
        self.final = path

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        super().__exit__(exc_type, *rest)
        if exc_type is not None:
            self.path.unlink(missing_ok=True)
            return
        os.replace(self.path, self.final)
        _fsync_dir(self.final.parent)


def _read_sentences(folder: Path, dim: int) -> Int8Rows | np.ndarray:
    """A segment's sentence vectors: int8 codes and their scales (format 4), or float32."""
    codes = _read_matrix(folder / "sentences.npy", dim)
    if codes.dtype != np.int8:
        return codes
    scales = np.load(folder / "sentence_scales.npy", allow_pickle=False, mmap_mode="r")
    return Int8Rows(codes, scales)


def _read_matrix(path: Path, dim: int) -> np.ndarray:
    """A segment's vectors, memory-mapped: a start reads only the header, and the pages a
    search touches are read then (and can be dropped again under memory pressure). A
    segment's files never change, so the mapping stays valid; a file removed after a
    merge stays readable while a snapshot maps it. (Sentence vectors are int8 codes from
    format 4 on, float32 before.)"""
    array = np.load(path, allow_pickle=False, mmap_mode="r")
    mapping = getattr(array, "_mmap", None)
    if mapping is not None and hasattr(mapping, "madvise"):
        # A search reads scattered rows (its candidates' sentences): the kernel's
        # read-ahead would map 128 KB around each, and a hundred queries mapped gigabytes.
        mapping.madvise(mmap.MADV_RANDOM)
    if array.ndim != 2 or array.shape[1] != dim or array.dtype not in (np.float32, np.int8):
        raise ValueError(f"{path.name} has shape {array.shape} ({array.dtype}), not (n, {dim})")
    # A plain array over the mapping (which it keeps open): np.memmap's indexing runs
    # Python code on every read, three reads a query.
    return array.view(np.ndarray)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_stories(directory: Path, name: str | None, story_of: dict[str, str]) -> StoryTable:
    """The story table a manifest names (format 1 names none: no stories yet)."""
    return read_table(None if name is None else (directory / name).read_bytes(), story_of)


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
