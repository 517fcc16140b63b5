"""The stories' side of the index on disk: what storage (index/store.py) writes and reads
for stories, as opaque bytes and arrays it never looks inside.

Two pieces, each made and read here only:

- the **story table** (`table_bytes` / `read_table`): the next story number, each
  story's headline document, and the header of the saved matcher state; storage keeps
  it in `stories-NNNNNN.json` and each document's story id in its segment's columns;
- the **matcher state** (`MatcherFile`): the story matcher's word statistics and each
  document's features as flat arrays (`matcher-NNNNNN.npz`), so that a restart restores
  the matcher instead of describing every document again. It is derived: storage may
  drop it, and a missing or unreadable one is rebuilt from the documents.

Changing how stories are found changes this module, not storage.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from index.columns import concatenated_ranges
from index.stories import StoryTable
from index.story_features import BAG_SIZES, MatcherState, Packed

_BAGS = len(BAG_SIZES)


@dataclass(frozen=True)
class MatcherFile:
    """A matcher state to save: `header` goes into the story table, `arrays` into its own
    file."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray]


def table_bytes(table: StoryTable, matcher_header: Mapping[str, Any] | None) -> bytes:
    """The story table of a snapshot, with the header of the matcher state saved beside it
    (None: no state saved)."""
    data: dict[str, Any] = {"next_number": table.next_number, "headlines": dict(table.headline)}
    if matcher_header is not None:
        data["matcher"] = dict(matcher_header)
    return orjson.dumps(data)


def read_table(data: bytes | None, story_of: dict[str, str]) -> StoryTable:
    """The table `table_bytes` wrote, with each document's story from the columns (None:
    an index from before stories, whose documents are in none yet)."""
    if data is None:
        return StoryTable(story_of)
    table = orjson.loads(data)
    return StoryTable(story_of, dict(table["headlines"]), int(table["next_number"]))


def matcher_header(data: bytes, *, legacy: bool = False) -> dict[str, Any] | None:
    """The header of the matcher state a story table names, if any; with `legacy`, an
    early table that held the header's fields at its top level counts as one."""
    table = orjson.loads(data)
    header = table.get("matcher") or (table if legacy else None)
    return dict(header) if header else None


def saved_generation(header: Mapping[str, Any] | None, default: int = 0) -> int:
    """The generation a saved matcher state describes."""
    return int((header or {}).get("generation", default))


def matcher_file(table: StoryTable, live: Collection[str], generation: int) -> MatcherFile | None:
    """The table's matcher state to save at `generation`, when it describes exactly the
    `live` documents (else None: an older saved state is kept)."""
    state = table.state
    if state is None or set(state.features) != set(live):
        return None
    header = {"vocabulary": state.vocabulary, "documents": state.documents}
    return MatcherFile({**header, "generation": generation}, _arrays(state, list(state.features)))


def _arrays(state: MatcherState, order: list[str]) -> dict[str, np.ndarray]:
    """The matcher state as flat arrays, documents in `order` (their vectors are not
    saved: they are their passages' mean, recomputed on load)."""
    features = [state.features[doc_id] for doc_id in order]
    arrays = {
        "ids": np.array(order, dtype=str),
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


def matcher_state(
    header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], order: Sequence[str]
) -> MatcherState | None:
    """The saved state (None when its parts do not fit together); a document no longer live
    keeps its words (to be taken out of the statistics) but no vector. A format 2 file
    lists no ids: its documents are in `order`, the snapshot's."""
    order = arrays["ids"].tolist() if "ids" in arrays else list(order)
    vocabulary = header["vocabulary"]
    if len(arrays["days"]) != len(order) or len(vocabulary) != len(arrays["df"]):
        return None
    words = np.split(arrays["words"], np.cumsum(arrays["word_counts"])[:-1])
    # The bags are saved bag by bag; a document's four are made contiguous here, so that
    # each document holds two arrays instead of eight.
    counts = np.stack([arrays[f"bag{n}_counts"] for n in range(_BAGS)], axis=1)
    every_id = np.concatenate([arrays[f"bag{n}_ids"] for n in range(_BAGS)])
    every_weight = np.concatenate([arrays[f"bag{n}_weights"] for n in range(_BAGS)])
    bag_starts = np.cumsum([0] + [int(counts[:, n].sum()) for n in range(_BAGS)])[:-1]
    starts = np.cumsum(counts, axis=0) - counts + bag_starts  # (documents, bags)
    gathered = concatenated_ranges(starts.reshape(-1), counts.reshape(-1))
    ids, weights = every_id[gathered].astype(np.int32), every_weight[gathered]
    ends = np.cumsum(counts.sum(axis=1)).tolist()
    features = {}
    for i, (doc_id, sizes, day) in enumerate(
        zip(order, counts.tolist(), arrays["days"].tolist(), strict=True)
    ):
        start = ends[i - 1] if i else 0
        features[doc_id] = Packed(
            None,  # made from the passages' vectors as the matcher is restored
            ids[start : ends[i]],
            weights[start : ends[i]],
            tuple(sizes),
            None if day < 0 else day,
            words[i],
        )
    return MatcherState(
        tuple(vocabulary),
        arrays["df"],
        arrays["background"],
        int(header.get("documents", header.get("matcher_documents", 0))),
        features,
    )


def _concatenate(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)
