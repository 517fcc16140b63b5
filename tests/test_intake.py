"""Intake (`index/intake.py`): files, directories, WARC crawls and feed files read into
documents, each bad item refused with its reason and the rest read."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import pytest

from index.documents import ID_PATTERN, Document
from index.intake import (
    Refusal,
    Skipped,
    Unchanged,
    document_id,
    entry_id,
    read_inputs,
    url_id,
)

HARBOUR = [
    "The city council of Velmar voted on Tuesday to expand the harbour, approving a budget "
    "of 40 million euros after a debate that lasted more than six hours.",
    "Mayor Anya Kross said the new quay would let larger container ships dock and could "
    "bring some 300 jobs to the port district within three years.",
    "Opponents, led by councillor Tomas Brandt, said the plan would destroy wetlands used by "
    "migrating birds and called for an independent environmental review.",
    "Construction is expected to begin next spring, the port authority said in a statement.",
]


def article(title: str, paragraphs: list[str], site: str = "Harbour News") -> str:
    """A saved news page: navigation, the article, a footer."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta property='og:site_name' content='{site}'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer><a href='/about'>About us</a> <a href='/contact'>Contact</a></footer>"
        "</body></html>"
    )


def read(*inputs: str | Path, **options: object) -> list[object]:
    return list(read_inputs(inputs, **options))  # type: ignore[arg-type]


def documents(items: list[object]) -> dict[str, Document]:
    return {item.id: item for item in items if isinstance(item, Document)}


def test_a_directory_reads_text_html_and_gzip_pages_and_skips_other_files(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "archive"
    (folder / "2024").mkdir(parents=True)
    (folder / "crane collapse.txt").write_text(
        "Crane collapses at Velmar port\n\n"
        "A harbour crane collapsed at the port of Velmar on Monday, injuring three\n"
        "workers, the port authority said. It was the second accident at the port\n"
        "this year.\n"
    )
    (folder / "harbour.html").write_text(article("Velmar votes to expand harbour", HARBOUR))
    strike = [p.replace("harbour", "dockers' strike") for p in HARBOUR]
    (folder / "2024" / "strike.html.gz").write_bytes(
        gzip.compress(article("Dockers strike in Velmar", strike).encode())
    )
    (folder / "2024" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / ".git").mkdir()  # hidden: not the archive's, not even counted
    (folder / ".git" / "notes.txt").write_text("A note that is not an article at all.\n")

    items = read(folder)

    found = documents(items)
    assert sorted(found) == ["crane-collapse", "harbour", "strike"]
    crane = found["crane-collapse"]
    assert crane.title == "Crane collapses at Velmar port"
    assert "injuring three workers" in crane.text  # the hard wrap joined
    assert found["harbour"].title == "Velmar votes to expand harbour"
    assert found["harbour"].source == "Harbour News"
    assert "300 jobs" in found["harbour"].text
    assert "dockers' strike" in found["strike"].text
    skipped = [item for item in items if isinstance(item, Skipped)]
    assert [(Path(s.where).name, s.reason) for s in skipped] == [
        ("photo.png", ".png is not a supported file type")
    ]
    assert not [item for item in items if isinstance(item, Refusal)]


def test_a_bad_jsonl_line_is_refused_with_its_number_and_the_others_are_read(
    tmp_path: Path,
) -> None:
    file = tmp_path / "wire.jsonl"
    lines = [
        json.dumps({"id": "w1", "source": "Wire", "text": "A volcano erupted near Catania."}),
        '{"id": "w2", "text": ',
        json.dumps({"id": "bad id!", "text": "An id with a space and a bang."}),
        "",
        json.dumps({"id": "w3", "source": "Wire", "text": "Flights resumed at Catania."}),
    ]
    file.write_text("\n".join(lines) + "\n")

    items = read(file)

    assert sorted(documents(items)) == ["w1", "w3"]
    refused = {r.where: r.reason for r in items if isinstance(r, Refusal)}
    assert set(refused) == {f"line 2 of {file}", f"line 3 of {file}"}
    assert refused[f"line 2 of {file}"].startswith("invalid JSON")
    assert "'id' must be a string" in refused[f"line 3 of {file}"]


def test_a_page_without_article_text_is_refused_with_the_reason(tmp_path: Path) -> None:
    links = "".join(f"<li><a href='/news/{n}'>Headline {n}</a></li>" for n in range(20))
    (tmp_path / "front.html").write_text(f"<html><body><ul>{links}</ul></body></html>")

    (refusal,) = read(tmp_path / "front.html")

    assert isinstance(refusal, Refusal)
    assert refusal.where == str(tmp_path / "front.html")
    assert refusal.reason.startswith("no article text found in the page")


def test_a_warc_gives_its_html_responses_refuses_other_responses_and_skips_requests(
    tmp_path: Path,
) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    page_uri = "https://www.harbour.example/news/2024/velmar-harbour.html?ref=rss"
    image_uri = "https://www.harbour.example/img/quay.png"
    file = tmp_path / "crawl.warc.gz"
    with file.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        request = StatusAndHeaders(
            "GET /news/2024/velmar-harbour.html HTTP/1.1",
            [("Host", "www.harbour.example")],
            is_http_request=True,
        )
        writer.write_record(
            writer.create_warc_record(
                page_uri, "request", payload=io.BytesIO(b""), length=0, http_headers=request
            )
        )
        for uri, content_type, body in (
            (page_uri, "text/html; charset=utf-8", article("Velmar harbour", HARBOUR).encode()),
            (image_uri, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
        ):
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1"
            )
            writer.write_record(
                writer.create_warc_record(
                    # With its length, warcio writes the payload without buffering it.
                    uri,
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    http_headers=headers,
                )
            )

    items = read(file)

    assert len(items) == 2  # the request record is not an item
    page, image = items
    assert isinstance(page, Document)
    assert page.id == "harbour.example-news-2024-velmar-harbour.html-ref-rss"
    assert page.url == page_uri
    assert "300 jobs" in page.text
    assert isinstance(image, Refusal)
    assert image_uri in image.where
    assert image.reason == "not an HTML page: image/png"


def test_a_feed_file_uses_the_content_it_carries_and_refuses_an_entry_it_cannot_fetch(
    tmp_path: Path,
) -> None:
    body = "".join(f"<p>{p}</p>" for p in HARBOUR)
    feed = tmp_path / "harbour.rss"
    feed.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>Harbour News</title><link>https://harbour.example/</link>"
        "<description>Port news</description>"
        '<item><title>Velmar votes to expand harbour</title><guid isPermaLink="false">4711</guid>'
        "<link>https://harbour.example/a/4711</link>"
        "<pubDate>Tue, 07 May 2024 18:30:00 +0200</pubDate>"
        "<description>The council voted.</description>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        # No content, and a link nothing answers at (port 9, discard): refused, not fatal.
        "<item><title>Unreachable</title><link>http://127.0.0.1:9/a/4712</link>"
        "<description>Short.</description></item>"
        "</channel></rss>"
    )

    items = read(feed)

    (found,) = documents(items).values()
    assert found.id == "harbour.example:4711"  # a bare guid, after the feed's host
    assert found.title == "Velmar votes to expand harbour"
    assert found.source == "Harbour News"
    assert found.published == "2024-05-07T16:30:00Z"
    assert found.url == "https://harbour.example/a/4711"
    assert "Mayor Anya Kross" in found.text
    (refusal,) = [item for item in items if isinstance(item, Refusal)]
    assert "entry 2 (http://127.0.0.1:9/a/4712)" in refusal.where
    assert refusal.reason.startswith("could not connect")

    # An entry already stored is not read again.
    again = read(feed, known={"harbour.example:4711"})
    where = f"{feed} entry 1 (https://harbour.example/a/4711)"
    assert again[0] == Unchanged(where, "harbour.example:4711")


def test_inputs_that_cannot_be_read_are_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    items = read(tmp_path / "missing.jsonl", tmp_path / "notes.pdf")
    assert [type(item) for item in items] == [Refusal, Refusal]
    assert items[0].reason.startswith("no such file or directory")  # type: ignore[union-attr]
    assert items[1].reason.startswith("not a supported file type")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://www.example.com/news/2024/story.html", "example.com-news-2024-story.html"),
        ("http://example.com/news/2024/story.html#top", "example.com-news-2024-story.html"),
        ("https://example.com/", "example.com"),
        ("https://example.com:8080/a b/ü?id=7&x=1", "example.com:8080-a-b-ü-id-7-x-1"),
    ],
)
def test_url_ids_are_readable(given: str, expected: str) -> None:
    assert url_id(given) == expected


def test_ids_are_id_safe_stable_and_kept_apart_when_cut() -> None:
    odd = ["a/b c", "Über «News»", "???", "x" * 500, "x" * 499 + "y", "tag:a.example,2024:1"]
    ids = [document_id(text) for text in odd]
    assert all(re.fullmatch(ID_PATTERN, doc_id) for doc_id in ids), ids
    assert ids[:3] == ["a-b-c", "Über-News", ids[2]] and ids[2].startswith("id-")
    assert len(ids[3]) == 200 and ids[3] != ids[4]  # cut, a hash of the whole keeps them apart
    assert ids == [document_id(text) for text in odd]  # the same text, the same id
    feed = "https://harbour.example/rss.xml"
    assert entry_id("https://harbour.example/a/1", feed) == "harbour.example-a-1"
    assert entry_id("tag:harbour.example,2024:1", feed) == "tag:harbour.example-2024:1"
    assert entry_id("4711", feed) == "harbour.example:4711"
    assert entry_id("4711", feed) != entry_id("4711", "https://other.example/rss.xml")
