"""Stories: documents about one event grouped at ingest, with stable ids (hashing embedder)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from evaluation.metrics import bcubed
from helpers import ARTICLES, GOLD
from index.documents import Document, publication_order
from index.embed import HashingEmbedder
from index.live import Chunking, LiveIndex, open_index
from index.store import IndexStore
from index.stories import StoryMatcher, StoryOptions, StoryTable

# Three invented events, two or three reports each from different outlets and days,
# and two unrelated articles. Nothing here appears in the code's vocabulary.
OPTIONS = StoryOptions()  # the measured defaults


def _documents() -> list[Document]:
    return [
        Document(id=doc_id, text=text, source=source, title=title, published=published)
        for doc_id, _, source, published, title, text in ARTICLES
    ]


def _open(directory: Path, documents: list[Document] | None = None) -> LiveIndex:
    return open_index(directory, HashingEmbedder(), Chunking(), documents, stories=OPTIONS)


def _partition(story_of: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, set[str]] = {}
    for doc_id, story in story_of.items():
        members.setdefault(story, set()).add(doc_id)
    return {frozenset(m) for m in members.values()}


def test_reports_of_one_event_form_one_story_and_other_events_their_own(tmp_path: Path) -> None:
    live = _open(tmp_path / "index", _documents())
    assert _partition(dict(live.corpus.stories.story_of)) == _partition(GOLD)
    scores = bcubed(dict(live.corpus.stories.story_of), GOLD)
    assert scores == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_a_story_has_a_headline_its_outlets_and_dates(tmp_path: Path) -> None:
    corpus = _open(tmp_path / "index", _documents()).corpus
    flood = corpus.story(corpus.story_id_of("flood-1"))  # type: ignore[arg-type]
    assert flood is not None
    assert [d.id for d in flood.documents] == ["flood-1", "flood-2", "flood-3"]  # oldest first
    assert flood.title in {"Floods kill 12 in Karvia province", "Karvia flood toll rises to 19"}
    assert flood.sources == ("Daily Courier", "Evening Post", "Wire Service")
    assert (flood.first_published, flood.last_published) == ("2021-05-03", "2021-05-06")
    # Newest first: the port story's last report is the latest of all.
    newest = corpus.story(corpus.stories_newest_first[0])
    assert newest is not None and newest.id == corpus.story_id_of("port-2")


def test_one_batch_and_the_same_documents_one_by_one_form_the_same_stories(
    tmp_path: Path,
) -> None:
    shuffled = _documents()
    random.Random(3).shuffle(shuffled)
    batch = _open(tmp_path / "batch")
    batch.upsert(shuffled)
    one_by_one = _open(tmp_path / "single")
    for i in publication_order(shuffled):
        one_by_one.upsert([shuffled[i]])
    assert dict(batch.corpus.stories.story_of) == dict(one_by_one.corpus.stories.story_of)


def test_story_ids_survive_a_restart_and_other_documents_coming_and_going(tmp_path: Path) -> None:
    directory = tmp_path / "index"
    live = _open(directory, _documents())
    before = dict(live.corpus.stories.story_of)

    reopened = _open(directory)
    assert dict(reopened.corpus.stories.story_of) == before
    assert reopened.corpus.stories.headline == live.corpus.stories.headline

    # A new report of the flood joins its story; nobody else's story changes.
    reopened.upsert(
        [
            Document(
                id="flood-4",
                text="Governor Tomas Brandt said the Karvia floods killed 23 people; the Orlen "
                "river is back within its banks and Velsk is dry.",
                source="Radio Karvia",
                published="2021-05-08",
            )
        ]
    )
    after = dict(reopened.corpus.stories.story_of)
    assert after["flood-4"] == before["flood-1"]
    assert {k: after[k] for k in before} == before

    # Deleting a document changes nobody else's story either, also after a restart.
    reopened.delete("steel-1")
    again = _open(directory)
    story_of = dict(again.corpus.stories.story_of)
    assert "steel-1" not in story_of
    assert {k: story_of[k] for k in before if k != "steel-1"} == {
        k: v for k, v in before.items() if k != "steel-1"
    }


def test_a_story_with_no_documents_left_disappears_and_its_id_is_never_reused(
    tmp_path: Path,
) -> None:
    live = _open(tmp_path / "index", _documents())
    chess = live.corpus.story_id_of("chess")
    assert chess is not None and live.corpus.story(chess) is not None
    live.delete("chess")
    assert live.corpus.story(chess) is None
    assert chess not in live.corpus.stories_newest_first
    live.upsert([Document(id="opera", text="The city opera staged a new Tosca.", title="Opera")])
    assert live.corpus.story_id_of("opera") not in set(live.corpus.stories.story_of.values()) - {
        live.corpus.story_id_of("opera")
    }
    assert live.corpus.story_id_of("opera") != chess


def test_a_replaced_document_is_placed_again(tmp_path: Path) -> None:
    live = _open(tmp_path / "index", _documents())
    port = live.corpus.story_id_of("port-1")
    steel = live.corpus.story_id_of("steel-1")
    # The second port report is rewritten into a report on the takeover: it moves stories.
    moved = Document(
        id="port-2",
        text="Halvorsen Steel completed its 420 million dollar purchase of Dunmore Metals, "
        "chief executive Ingrid Moe said on Friday.",
        source="Coastal Times",
        published="2021-05-07",
    )
    report = live.upsert([moved])
    assert report.replaced == ["port-2"]
    assert live.corpus.story_id_of("port-2") == steel
    assert live.corpus.story_id_of("port-1") == port  # the rest of its old story stays


def test_a_lone_document_replaced_with_a_small_fix_keeps_its_story_id(tmp_path: Path) -> None:
    live = _open(tmp_path / "index", _documents())
    bakery = live.corpus.story_id_of("bakery")
    fixed = next(d for d in _documents() if d.id == "bakery")
    live.upsert([Document(**{**fixed.to_dict(), "text": fixed.text.replace("200", "250")})])
    assert live.corpus.story_id_of("bakery") == bakery


def test_ingest_reports_each_documents_story_and_how_many_are_new(tmp_path: Path) -> None:
    live = _open(tmp_path / "index", _documents()[:4])
    report = live.upsert(_documents()[2:])
    assert set(report.story_ids) == {d.id for d in _documents()[2:]}
    assert report.unchanged == ["flood-3", "steel-1"]
    # flood-3 and steel-1 are in old stories; steel-2 joins one; port, chess and bakery are new.
    assert report.stories == 5 and report.new_stories == 3


def test_documents_far_apart_in_time_need_more_in_common(tmp_path: Path) -> None:
    first, second = (d for d in _documents() if d.id in ("port-1", "port-2"))
    matcher = StoryMatcher(StoryOptions(time_weight=0.8), 384)
    embedder = HashingEmbedder()
    vectors = {d.id: embedder.encode([d.text]) for d in (first, second)}
    next_day = Document(**{**second.to_dict(), "published": "2021-05-05"})
    near = matcher.assign([(first, vectors["port-1"]), (next_day, vectors["port-2"])])
    assert near[0] == near[1]
    # The same report half a year later is another event (a new strike at the same port).
    later = Document(**{**second.to_dict(), "id": "port-3", "published": "2021-11-07"})
    assert matcher.assign([(later, vectors["port-2"])])[0] != near[0]


def test_an_index_from_before_stories_gets_them_when_loaded(tmp_path: Path) -> None:
    directory = tmp_path / "index"
    live = _open(directory, _documents())
    expected = _partition(dict(live.corpus.stories.story_of))
    # Turn the saved index into format 1: one set of files per generation, no story
    # fields, no stories file.
    manifest = json.loads((directory / "manifest.json").read_text())
    segment = directory / manifest.pop("segments")[0]["name"]
    corpus = live.corpus
    lines = [
        doc.to_dict()
        | {
            "passages": [
                [p.char_start, p.char_end, [list(s) for s in p.sentences]]
                for p in corpus.passages_of(doc.id)
            ]
        }
        for doc in corpus.documents.values()
    ]
    (directory / "documents-000001.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (segment / "vectors.npy").rename(directory / "vectors-000001.npy")
    (segment / "sentences.npy").rename(directory / "sentences-000001.npy")
    shutil.rmtree(segment)
    for name in manifest["files"].values():
        (directory / name).unlink()
    manifest["files"] = {
        "vectors": "vectors-000001.npy",
        "sentences": "sentences-000001.npy",
        "documents": "documents-000001.jsonl",
    }
    manifest["format_version"] = 1
    (directory / "manifest.json").write_text(json.dumps(manifest))

    reopened = _open(directory)
    assert _partition(dict(reopened.corpus.stories.story_of)) == expected
    reopened.upsert([Document(id="note", text="A short unrelated note about gardening.")])
    saved = IndexStore(directory).load("hashing", 384)
    assert set(saved.stories.story_of) == {d.id for d in _documents()} | {"note"}
    # The first write saved the old index as a segment of the current format.
    assert json.loads((directory / "manifest.json").read_text())["format_version"] == 4
    assert not (directory / "vectors-000001.npy").exists()


def test_matching_prefers_the_story_that_shares_names_figures_and_words() -> None:
    embedder = HashingEmbedder()
    matcher = StoryMatcher(OPTIONS, 384)
    documents = _documents()
    placed = matcher.assign([(d, embedder.encode([d.text])) for d in documents])
    assert bcubed(dict(zip([d.id for d in documents], placed, strict=True)), GOLD)["f1"] == 1.0
    table = matcher.table({d.id: d for d in documents})
    assert isinstance(table, StoryTable) and table.next_number == len(set(placed)) + 1


def test_bcubed_scores_known_clusterings() -> None:
    gold = {"a": "x", "b": "x", "c": "y", "d": "z"}
    assert bcubed(gold, gold)["f1"] == 1.0
    lumped = bcubed({"a": "1", "b": "1", "c": "1", "d": "1"}, gold)
    # Each of a, b has precision 2/4, c and d 1/4; recall is 1 everywhere.
    assert lumped["precision"] == pytest.approx((0.5 + 0.5 + 0.25 + 0.25) / 4, abs=1e-4)
    assert lumped["recall"] == 1.0
    split = bcubed({"a": "1", "b": "2", "c": "3", "d": "4"}, gold)
    assert split["precision"] == 1.0 and split["recall"] == pytest.approx(0.75, abs=1e-4)


def test_document_vector_counts_the_lead_passage_twice() -> None:
    from index.story_features import document_vector

    vectors = np.eye(3, dtype=np.float32)
    combined = document_vector(vectors)
    assert combined[0] > combined[1] == pytest.approx(combined[2])
    assert np.linalg.norm(combined) == pytest.approx(1.0)


def test_a_restart_restores_the_story_matcher_it_saved(tmp_path: Path) -> None:
    documents = _documents()
    running = _open(tmp_path / "running", documents[:6])
    _open(tmp_path / "restarted", documents[:6])
    restarted = _open(tmp_path / "restarted")
    saved = restarted.store.load_matcher_state(restarted.corpus)
    assert saved is not None
    state, generation = saved
    assert set(state.features) == {d.id for d in documents[:6]} and generation == 1
    corpus = restarted.corpus
    restored = StoryMatcher.restore(
        list(corpus.documents),
        corpus.stories,
        state,
        OPTIONS,
        384,
        lambda doc_id: corpus.vectors[corpus.rows_of(doc_id).start : corpus.rows_of(doc_id).stop],
        corpus.documents.__getitem__,
    )
    assert restored is not None
    original = running._matcher
    assert original is not None
    assert restored.words.df == original.words.df
    assert restored.words.vocabulary == original.words.vocabulary
    for sid, story in original.stories.items():
        again = restored.stories[sid]
        assert again.members == story.members
        for sums, expected in zip(restored._sums_of(again), original._sums_of(story), strict=True):
            assert sums.as_dict() == pytest.approx(expected.as_dict())
        assert again.norms == pytest.approx(story.norms)
    # Both place the next documents alike.
    running.upsert(documents[6:8])
    restarted.upsert(documents[6:8])
    assert dict(restarted.corpus.stories.story_of) == dict(running.corpus.stories.story_of)
    # A write saves no matcher state: a restart after it restores the one saved with the
    # build and describes the documents written since, and still places the rest alike.
    running.delete(documents[0].id)
    restarted.delete(documents[0].id)
    again = _open(tmp_path / "restarted")
    running.upsert(documents[8:])
    again.upsert(documents[8:])
    assert dict(again.corpus.stories.story_of) == dict(running.corpus.stories.story_of)
    assert again._matcher is not None and running._matcher is not None
    assert again._matcher.words.df == running._matcher.words.df


def test_a_damaged_matcher_state_is_rebuilt_from_the_documents(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "index"
    _open(directory, _documents()[:6])
    manifest = json.loads((directory / "manifest.json").read_text())
    (directory / manifest["files"]["matcher"]).write_bytes(b"not numpy")
    reopened = _open(directory)
    reopened.upsert(_documents()[6:])
    assert "rebuilding story matching" in caplog.text
    assert _partition(dict(reopened.corpus.stories.story_of)) == _partition(GOLD)


def test_every_story_option_is_a_setting_with_its_default_and_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from api.settings import Settings

    assert Settings().story_options() == StoryOptions()
    monkeypatch.setenv("PARALLAX_STORY_THRESHOLD", "0.5")
    monkeypatch.setenv("PARALLAX_STORY_CROWD", "3")
    options = Settings().story_options()
    assert (options.threshold, options.crowd) == (0.5, 3)
    with pytest.raises(ValidationError, match="story_shortlist"):
        Settings(story_shortlist=0)  # a shortlist of no stories matches nothing


def test_a_large_batch_of_writes_saves_the_story_matcher_for_the_next_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.live

    monkeypatch.setattr(index.live, "MATCHER_SAVE_FROM", 3)
    documents = _documents()
    live = _open(tmp_path / "index")
    live.upsert(documents[:2])  # fewer than the threshold: no state saved yet
    assert IndexStore(tmp_path / "index").matcher_generation() == 0
    live.upsert(documents[2:8])  # 8 written since: saved
    saved = IndexStore(tmp_path / "index")
    assert saved.matcher_generation() == live.corpus.generation
    restarted = _open(tmp_path / "index")
    state = restarted.store.load_matcher_state(restarted.corpus)
    assert state is not None and set(state[0].features) == {d.id for d in documents[:8]}
    live.upsert(documents[8:])
    restarted.upsert(documents[8:])
    assert dict(restarted.corpus.stories.story_of) == dict(live.corpus.stories.story_of)


def test_story_sums_match_a_dict_of_floats_through_adds_and_removals() -> None:
    """A story's summed bags (two sorted arrays) hold the same floats a dict summed word by
    word would, through documents joining and leaving in any order."""
    from index.story_features import Bag, Sums

    rng = np.random.default_rng(7)
    bags = []
    for _ in range(12):
        ids = rng.choice(40, size=int(rng.integers(1, 15)), replace=False)
        weights = rng.random(len(ids))
        weights /= np.linalg.norm(weights)
        bags.append(Bag(tuple(ids.tolist()), tuple(weights.tolist())))
    sums, expected = Sums.of(np.array(bags[0].ids), np.array(bags[0].weights)), {}
    for word, weight in zip(bags[0].ids, bags[0].weights, strict=True):
        expected[word] = 0.0 + weight
    for bag in bags[1:]:
        sums.add(bag)
        for word, weight in zip(bag.ids, bag.weights, strict=True):
            expected[word] = expected.get(word, 0.0) + weight
    for bag in bags[3:9]:
        sums.subtract(bag)
        for word, weight in zip(bag.ids, bag.weights, strict=True):
            left = expected.get(word, 0.0) - weight
            if abs(left) < 1e-9:
                expected.pop(word, None)
            else:
                expected[word] = left
    assert sums.as_dict() == expected  # the same floats, not merely close ones
    assert list(sums.ids) == sorted(expected)
    assert sums.values_of(np.array([*bags[0].ids, 99], dtype=np.int32)) == [
        *(expected.get(w, 0.0) for w in bags[0].ids),
        0.0,
    ]
