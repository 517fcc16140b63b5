"""Merges: which segments to fold together, and the folded segment.

Every write adds a segment, so without merges a busy archive would have thousands, and
every search would visit each. The policy is Lucene's log-structured one on neighbours:
segments fall in levels by size (under `floor` live passages level 0, then one level per
`factor` times more), and `factor` neighbouring segments of one level are folded into one
of the next. A segment with more than `max_dead_share` of its passages dead is rewritten
on its own, which drops them. Only neighbours are folded, so the documents keep the order
they were written in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from index.columns import Columns, JoinedDocuments
from index.postings import Postings
from index.quantize import Int8Rows, quantized_rows
from index.segment import Segment, stack_rows


@dataclass(frozen=True)
class MergePolicy:
    factor: int = 10  # neighbours of one level folded at once
    floor: int = 1000  # live passages under which a segment is level 0
    max_dead_share: float = 0.3  # dead passages over which a segment is rewritten


MERGES = MergePolicy()


def pick_merge(
    segments: Sequence[Segment],
    dead: Mapping[str, frozenset[str]],
    policy: MergePolicy = MERGES,
) -> list[str]:
    """The names of the neighbouring segments to fold next (oldest first), or [] for none."""
    live = [s.live_passages(dead.get(s.name, frozenset())) for s in segments]
    levels = [_level(n, policy) for n in live]
    for start in range(len(segments) - policy.factor + 1):
        window = levels[start : start + policy.factor]
        if len(set(window)) == 1:
            return [s.name for s in segments[start : start + policy.factor]]
    for segment, count in zip(segments, live, strict=True):
        if len(segment.passages) and 1 - count / len(segment.passages) > policy.max_dead_share:
            return [segment.name]
    return []


def merged_name(names: Sequence[str], generation: int) -> str:
    """A folded segment is named by the first and last writes it holds, so a name is never
    reused: "segment-000003" ... "segment-000012" fold into "segment-000003-000012". A
    segment rewritten alone (to drop its dead passages) ends with the generation it was
    picked at instead: a delete came after its last write, so that number is newer and
    the name differs from the segment's own."""
    first = names[0].split("-")[1]
    last = names[-1].split("-")[-1] if len(names) > 1 else f"{generation:06d}"
    return f"segment-{first}-{last}"


def merge_segments(
    segments: Sequence[Segment], dead: Mapping[str, frozenset[str]], name: str
) -> Segment:
    """One segment of the live documents of `segments` (neighbours, oldest first), in
    order, with their vectors and postings; nothing is embedded or tokenized again, and
    no document is read (they are read as the merged segment is written)."""
    owners: dict[str, int] = {}
    columns, vectors, sentences, postings = [], [], [], []
    for n, segment in enumerate(segments):
        alive = segment.columns.alive(dead.get(segment.name, frozenset()))
        keep, sentence_keep = segment.columns.rows_of_documents(alive)
        ids = segment.columns.ids
        owners.update((doc_id, n) for doc_id, live in zip(ids, alive.tolist(), strict=True) if live)
        columns.append((segment.columns, alive))
        vectors.append(segment.vectors[keep])
        sentences.append(quantized_rows(segment.sentence_vectors, sentence_keep))
        postings.append((segment.postings, keep))
    dim = segments[0].vectors.shape[1]
    return Segment(
        name,
        JoinedDocuments(owners, [s.documents for s in segments]),
        Columns.concatenate(columns),
        stack_rows(vectors, dim),
        Int8Rows.concatenate(sentences, dim),
        Postings.merge(postings),
    )


def segment_generation(name: str) -> int:
    """The newest write a segment holds: "segment-000003-000012" -> 12."""
    return int(name.rsplit("-", 1)[1])


def _level(passages: int, policy: MergePolicy) -> int:
    if passages < policy.floor:
        return 0
    return 1 + int(math.log(passages / policy.floor, policy.factor))
