"""Seed and JSON Lines documents load with their metadata; a bad line is named with its number."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from api.errors import status_of
from helpers import SEEDS
from index.documents import Document, load_jsonl, load_seeds
from index.errors import DocumentError

IDS = [
    "000_487d20731cd06fa7",
    "001_f41bc6fbf25c952a",
    "002_811ad477ead50ed2",
    "003_ec9ad3d51fc008de",
    "004_72b5cb386ec7b792",
]


def test_seeds_load_in_file_order_with_ids_from_file_names(
    seed_documents: list[Document],
) -> None:
    assert [doc.id for doc in seed_documents] == IDS


def test_seed_metadata_comes_from_sources_json(seed_documents: list[Document]) -> None:
    by_id = {doc.id: doc for doc in seed_documents}
    assert {doc_id: doc.source for doc_id, doc in by_id.items()} == {
        IDS[0]: "NBC News",
        IDS[1]: "NBC News",
        IDS[2]: "The Hill",
        IDS[3]: None,
        IDS[4]: "The Globe and Mail",
    }
    assert by_id[IDS[0]].title == (
        "U.S. Embassy in Baghdad stormed by protesters after Iraq airstrikes"
    )
    assert by_id[IDS[1]].title == (
        "U.S. Embassy compound in Baghdad stormed by protesters after Iraq airstrikes"
    )
    for doc_id in IDS[2:]:
        assert by_id[doc_id].title is None
    assert {doc.published for doc in seed_documents} == {"2019-12-31"}
    assert {doc.url for doc in seed_documents} == {None}


def test_seed_text_is_the_cleaned_reporting(seed_documents: list[Document]) -> None:
    by_id = {doc.id: doc for doc in seed_documents}
    assert by_id[IDS[0]].text.startswith("Dozens of people stormed the compound")
    assert "source: nbcnews.com" not in by_id[IDS[0]].text
    assert by_id[IDS[2]].text.startswith("Protesters on Tuesday stormed")
    assert "TrumpDonald" not in by_id[IDS[2]].text


def test_seeds_without_sources_json_take_metadata_from_the_page(tmp_path: Path) -> None:
    for doc_id in (IDS[0], IDS[2]):
        shutil.copy(SEEDS / f"{doc_id}.txt", tmp_path)
    first, second = load_seeds(tmp_path)
    # The headline line gives the title; the ` date` marker gives the date.
    assert first.title == "U.S. Embassy in Baghdad stormed by protesters after Iraq airstrikes"
    assert first.source is None
    assert second.published == "2019-12-31"
    assert second.title is None


def test_a_folder_without_articles_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no .txt articles") as caught:
        load_seeds(tmp_path)
    assert "PARALLAX_SEEDS_DIR" in caught.value.message


GOOD = {
    "id": "nbc-2019-12-31",
    "source": "NBC News",
    "title": "Embassy stormed",
    "published": "2019-12-31",
    "url": None,
    "text": "Protesters stormed the embassy.\n\nStory continues below advertisement\n\n"
    "At least 62 were injured.",
}


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_lines_parse_into_clean_documents(tmp_path: Path) -> None:
    second = {"id": "hill:2019-b", "text": "  Trump accused Iran.  ", "source": " "}
    path = _write(tmp_path, json.dumps(GOOD), "", "   ", json.dumps(second))
    docs = list(load_jsonl(path))
    assert docs == [
        Document(
            id="nbc-2019-12-31",
            text="Protesters stormed the embassy.\n\nAt least 62 were injured.",
            source="NBC News",
            title="Embassy stormed",
            published="2019-12-31",
        ),
        # A blank source reads as unknown, and surrounding spaces go.
        Document(id="hill:2019-b", text="Trump accused Iran."),
    ]


def test_a_file_of_blank_lines_yields_nothing(tmp_path: Path) -> None:
    assert list(load_jsonl(_write(tmp_path, "", "  ", "\t"))) == []


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="missing.jsonl"):
        list(load_jsonl(tmp_path / "missing.jsonl"))


BAD_LINES = {
    "invalid JSON": ('{"id": "a", "text": ', ["invalid JSON"]),
    "not an object": ('["a", "b"]', ["expected a JSON object", "list"]),
    "missing id": ('{"text": "Some text."}', ["'id'", "None"]),
    "bad id characters": ('{"id": "a b/c", "text": "Some text."}', ["'id'", "'a b/c'"]),
    "empty text": ('{"id": "a", "text": ""}', ["'text' is empty"]),
    "whitespace text": ('{"id": "a", "text": "  \\n\\t "}', ["'text' is empty"]),
    "only boilerplate": (
        '{"id": "a", "text": "Story continues below advertisement"}',
        ["'text' is empty"],
    ),
    "unknown field": ('{"id": "a", "text": "Some text.", "byline": "X"}', ["byline"]),
    "wrong date format": (
        '{"id": "a", "text": "Some text.", "published": "31/12/2019"}',
        ["ISO 8601", "1987-03-09T15:01:01Z", "31/12/2019"],
    ),
    "impossible date": (
        '{"id": "a", "text": "Some text.", "published": "2019-02-30"}',
        ["1987-03-09", "2019-02-30"],
    ),
    "non-string text": ('{"id": "a", "text": 42}', ["'text' must be a string", "42"]),
    "non-string source": ('{"id": "a", "text": "Some text.", "source": 7}', ["'source'"]),
}


@pytest.mark.parametrize("line, problems", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_bad_line_is_refused_with_its_number_and_problem(
    tmp_path: Path, line: str, problems: list[str]
) -> None:
    # Line 1 is good and line 2 blank: the count still includes them.
    path = _write(tmp_path, json.dumps(GOOD), "", line)
    with pytest.raises(DocumentError) as caught:
        list(load_jsonl(path))
    message = caught.value.message
    assert message.startswith("line 3 of docs.jsonl")
    for problem in problems:
        assert problem in message
    assert status_of(caught.value) == 422
