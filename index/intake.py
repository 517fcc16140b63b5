"""Intake: what `parallax ingest PATH...` is given, read into documents.

A path or URL may be a JSON Lines file, a plain-text (`.txt`) or saved web page
(`.html`/`.htm`, optionally gzip-compressed), a directory of such files (read
recursively, in sorted order), an RSS or Atom feed (a file or an http(s) URL), a web
page's URL, or a WARC file of a crawl. `read_inputs` yields, for each item found, either
its `Document` or why it was left out, and never stops for one bad item:

    Document    read, ready to store
    Refusal     could not be read: a bad JSONL line, a page without article text, an
                HTTP error or timeout, a WARC response that is not a page
    Unchanged   not read again: a feed entry or page already stored, or a feed (or page)
                that answered "304 Not Modified" to a conditional request
    Skipped     left alone: a file of an unsupported type in a directory, or a feed
                entry whose id another item of the run already had

Feeds are read idempotently: an entry whose id is stored is not fetched again, and the
feed itself is requested with the ETag / Last-Modified it last answered with (kept in a
`FetchState` with the ids of its entries), so an unchanged feed costs one 304 and its
entries count as unchanged. A feed's validators are kept only when every entry of it was
read, so an entry refused for a passing reason (a timeout) is tried again on the next
run; and they are used only while every entry of it is still stored.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import re
import unicodedata
import zlib
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from index.clean import clean_page
from index.documents import Document, parse_document
from index.errors import DocumentError
from index.fetch import Fetcher, FetchOptions, FetchState
from index.text import stored_moment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """An item that could not be read: where it was, and why."""

    where: str
    reason: str


@dataclass(frozen=True)
class Unchanged:
    """An item not read again: a stored document (`doc_id`), or a feed that answered 304
    (`doc_id` None)."""

    where: str
    doc_id: str | None = None


@dataclass(frozen=True)
class Skipped:
    """An item left alone on purpose: an unsupported file in a directory, an id seen twice."""

    where: str
    reason: str


Item = Document | Refusal | Unchanged | Skipped

SUPPORTED = ".jsonl, .txt, .html/.htm (optionally .gz), .xml/.rss/.atom feeds, .warc(.gz)"
_KINDS = {
    ".jsonl": "jsonl",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".html.gz": "html",
    ".htm.gz": "html",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".warc": "warc",
    ".warc.gz": "warc",
}
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_LONGEST_ID = 200
_NOT_IN_ID = re.compile(r"[^\w.:@-]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def read_inputs(
    inputs: Iterable[str | Path],
    *,
    known: Container[str] = frozenset(),
    fetch: FetchOptions | None = None,
    state: FetchState | None = None,
    transport: Any = None,
) -> Iterator[Item]:
    """Each item found in `inputs` (paths and http(s) URLs), as a `Document` or why not.

    `known` holds the ids already stored: a feed entry with one of them is not fetched
    again, a page URL is asked for only if modified. `state` keeps the validators of feeds
    and pages between runs (updated in memory: the caller saves it once the documents are
    stored). A document whose id an earlier item of the run had is refused, naming that
    item. `fetch` bounds every request; `transport` is an httpx transport (for tests)."""
    reader = _Reader(known, Fetcher(fetch or FetchOptions(), transport), state or FetchState())
    try:
        for given in inputs:
            yield from reader.one_input(str(given))
    finally:
        reader.fetcher.close()


def document_id(text: str) -> str:
    """`text` as a document id: runs of characters an id cannot hold become "-"; one too
    long is cut, with a hash of the whole so that different texts stay apart. The same
    text always gives the same id."""
    slug = _NOT_IN_ID.sub("-", unicodedata.normalize("NFC", text)).strip("-.")
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
    if not slug:
        return f"id-{digest[:12]}"
    if len(slug) > _LONGEST_ID:
        slug = f"{slug[: _LONGEST_ID - 9].rstrip('-.')}-{digest[:8]}"
    return slug


def url_id(url: str) -> str:
    """A page's id from its URL: host (without "www.") and path, with the query; the
    scheme, fragment and a trailing "/" left out ("example.com-news-a.html")."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    try:
        port = parts.port
    except ValueError:  # not a number: the id keeps what was given
        port = parts.netloc.rpartition(":")[2]
    if port:
        host = f"{host}:{port}"
    rest = parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
    return document_id(host + rest if host else url)


def entry_id(guid: str, feed: str) -> str:
    """A feed entry's id from its guid (or link): a URL, tag: or urn: guid as it is; any
    other (often a bare number, unique only within its feed) after the feed's host."""
    parts = urlsplit(guid.strip())
    if parts.scheme in ("http", "https") and parts.netloc:
        return url_id(guid)
    if parts.scheme in ("tag", "urn") or (parts.scheme and parts.netloc):
        return document_id(guid)
    return document_id(f"{urlsplit(feed).hostname or Path(feed).stem}:{guid}")


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(_KINDS, key=len, reverse=True):
        if name.endswith(suffix):
            return _KINDS[suffix]
    return None


def _stem(path: Path) -> str:
    """The file's name without its type (".html.gz" as a whole)."""
    name = path.name
    for suffix in sorted(_KINDS, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return path.stem


def _reason(exc: Exception, where: str) -> str:
    """An exception's message without the `where` that `parse_document` puts first."""
    message = exc.message if isinstance(exc, DocumentError) else f"{type(exc).__name__}: {exc}"
    if message.startswith(where):
        message = re.sub(r"^ \([^)]*\)", "", message[len(where) :]).removeprefix(":").strip()
    return message


def _is_html(content_type: str, content: bytes) -> bool:
    if content_type:
        return content_type.split(";")[0].strip().lower() in _HTML_TYPES
    head = content[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def decode_html(content: bytes, content_type: str = "") -> str:
    """A page's HTML as text: in the charset its Content-Type or its own <meta> names,
    else UTF-8 or trafilatura's guess (undecodable bytes replaced)."""
    declared = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    meta = _META_CHARSET.search(content[:4096])
    for charset in (declared and declared.group(1), meta and meta.group(1).decode("ascii")):
        if charset:
            try:
                return content.decode(charset, errors="replace")
            except LookupError:
                continue
    from trafilatura.utils import decode_file

    return decode_file(content)


def _hidden(path: Path, top: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(top).parts)


def _parse_feed(content: bytes, url: str) -> Any:
    """feedparser's reading of a feed (its `version` is "" for anything else)."""
    import feedparser

    # A stream, never the bytes: feedparser opens a bytes argument as a file name.
    headers = {"content-location": url} if url else {}
    return feedparser.parse(io.BytesIO(content), response_headers=headers)


def _published(entry: Any) -> str | None:
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    if not moment:
        return None
    return stored_moment(datetime(*moment[:6], tzinfo=UTC))


def _full_content(entry: Any) -> str | None:
    """The entry's HTML content when the feed carries the article (longer than its
    summary: `content:encoded`, Atom content of type html), else None."""
    contents = [
        item.get("value") or ""
        for item in entry.get("content") or []
        if (item.get("type") or "").lower() in _HTML_TYPES
    ]
    best = max(contents, key=len, default="")
    return best if best.strip() and len(best) > len(entry.get("summary") or "") else None


class _Reader:
    """One run's reading: the fetcher, the feed state, the ids stored and the ids read."""

    def __init__(self, known: Container[str], fetcher: Fetcher, state: FetchState) -> None:
        self.known = known
        self.fetcher = fetcher
        self.state = state
        self.read: dict[str, str] = {}  # id -> where it was read, this run

    def one_input(self, given: str) -> Iterator[Item]:
        if urlsplit(given).scheme in ("http", "https"):
            yield from self._guarded(given, self._url(given))
            return
        path = Path(given)
        if path.is_dir():
            # Hidden files and folders (.git, .DS_Store) are not the archive's.
            files = (p for p in path.rglob("*") if p.is_file())
            for child in sorted(p for p in files if not _hidden(p, path)):
                if _kind(child) is None:
                    suffix = "".join(child.suffixes[-2 if child.suffix == ".gz" else -1 :])
                    kind = suffix.lower() or "a name without a suffix"
                    yield Skipped(str(child), f"{kind} is not a supported file type")
                else:
                    yield from self._guarded(str(child), self._file(child))
        elif path.is_file():
            yield from self._guarded(given, self._file(path))
        else:
            yield Refusal(given, "no such file or directory (nor an http(s) URL)")

    def _guarded(self, where: str, items: Iterator[Item]) -> Iterator[Item]:
        """The items, with any error that stops them refused with `where`."""
        try:
            yield from items
        except Exception as exc:  # one bad input must not stop the run; the reason is kept
            log.debug("%s refused", where, exc_info=True)
            yield Refusal(where, _reason(exc, where))

    def _one(self, where: str, record: dict[str, Any], cleaned: bool = False) -> Document | Refusal:
        """The document of one record, or why not (its id read earlier in the run too);
        `cleaned`: its text is clean already."""
        try:
            document = parse_document(record, where, cleaned)
        except Exception as exc:  # a page that trips the extractor is one refusal
            log.debug("%s refused", where, exc_info=True)
            return Refusal(where, _reason(exc, where))
        first = self.read.setdefault(document.id, where)
        if first != where:
            return Refusal(where, f"id {document.id!r} was already read from {first}")
        return document

    # --- Files ---------------------------------------------------------------------

    def _file(self, path: Path) -> Iterator[Item]:
        kind = _kind(path)
        where = str(path)
        if kind == "jsonl":
            yield from self._jsonl(path)
        elif kind == "warc":
            yield from self._warc(path)
        elif kind == "text":
            page = clean_page(decode_html(path.read_bytes(), "text/plain"))
            record = {"id": document_id(_stem(path)), "text": page.text, "title": page.title}
            record |= {"published": page.published, "source": page.site}
            yield self._one(where, record, cleaned=True)
        elif kind == "html":
            content = path.read_bytes()
            if path.name.lower().endswith(".gz"):
                try:
                    content = gzip.decompress(content)
                except (OSError, EOFError, zlib.error) as exc:
                    yield Refusal(where, f"not a readable gzip file ({exc})")
                    return
            yield self._one(where, {"id": document_id(_stem(path)), "html": decode_html(content)})
        else:  # a feed by its name, or a file whose content may be one
            parsed = _parse_feed(path.read_bytes(), "")
            if kind is None and not parsed.version:
                yield Refusal(where, f"not a supported file type ({SUPPORTED})")
                return
            yield from self._feed(where, parsed, "", where)

    def _jsonl(self, path: Path) -> Iterator[Item]:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                where = f"line {number} of {path}"
                try:
                    record = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    yield Refusal(where, "not UTF-8 text")
                    continue
                except json.JSONDecodeError as exc:
                    yield Refusal(where, f"invalid JSON ({exc.msg} at column {exc.colno})")
                    continue
                yield self._one(where, record)

    def _warc(self, path: Path) -> Iterator[Item]:
        from warcio.archiveiterator import ArchiveIterator

        with path.open("rb") as stream:
            for number, record in enumerate(ArchiveIterator(stream), start=1):
                if record.rec_type != "response":
                    continue  # requests, metadata, warcinfo: not documents
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                where = f"record {number} of {path} ({uri})"
                headers = record.http_headers
                content_type = (headers.get_header("Content-Type") if headers else None) or ""
                status = headers.get_statuscode() if headers else ""
                if status and not status.startswith("2"):
                    yield Refusal(where, f"an HTTP {status} response, not a page")
                    continue
                if not content_type.lower().startswith(_HTML_TYPES):
                    yield Refusal(where, f"not an HTML page: {content_type or 'no content type'}")
                    continue
                limit = self.fetcher.options.max_bytes
                content = record.content_stream().read(limit + 1)
                if len(content) > limit:
                    yield Refusal(
                        where, f"larger than {limit:,} bytes (the fetch_max_bytes setting)"
                    )
                    continue
                html = decode_html(content, content_type)
                yield self._one(where, {"id": url_id(uri), "html": html, "url": uri or None})

    # --- The web -------------------------------------------------------------------

    def _url(self, url: str) -> Iterator[Item]:
        page_id = url_id(url)
        # A feed is asked "modified since?" only while all its entries are still stored (a
        # 304 would hide one deleted since), a page only while it is.
        entries = self.state.entries.get(url)
        if url in self.state.feeds and entries is not None:
            conditional = self.state.feeds[url] if all(i in self.known for i in entries) else None
        else:
            conditional = self.state.pages.get(url) if page_id in self.known else None
        response = self.fetcher.get(url, conditional)
        if response.not_modified:
            if entries is None:
                yield Unchanged(url, page_id)
                return
            yield Unchanged(url)
            for doc_id in entries:
                yield Unchanged(url, doc_id)
            return
        parsed = _parse_feed(response.content, response.url)
        if parsed.version:
            ids: list[str] = []
            refused = False
            for item in self._feed(url, parsed, response.url, url):
                refused = refused or isinstance(item, Refusal)
                if isinstance(item, Document):
                    ids.append(item.id)
                elif isinstance(item, Unchanged) and item.doc_id:
                    ids.append(item.doc_id)
                yield item
            # Only a feed read whole may answer 304 next time: else its refused entries
            # would never be tried again.
            self.state.feeds.pop(url, None)
            self.state.entries.pop(url, None)
            if not refused and response.validators:
                self.state.feeds[url] = response.validators
                self.state.entries[url] = ids
        elif _is_html(response.content_type, response.content):
            html = decode_html(response.content, response.content_type)
            document = self._one(url, {"id": page_id, "html": html, "url": response.url})
            if isinstance(document, Document) and response.validators:
                self.state.pages[url] = response.validators
            yield document
        else:
            kind = response.content_type or "no content type"
            yield Refusal(url, f"neither a feed nor an HTML page: {kind}")

    def _feed(self, where: str, parsed: Any, url: str, name: str) -> Iterator[Item]:
        """The entries of a feed parsed by feedparser (`url` is where it was fetched from,
        "" for a file; `name` makes a bare guid's id when the feed has no link)."""
        if not parsed.version:
            problem = parsed.get("bozo_exception")
            yield Refusal(where, f"not an RSS or Atom feed{f' ({problem})' if problem else ''}")
            return
        source = parsed.feed.get("title") or None
        home = url or parsed.feed.get("link") or name
        for number, entry in enumerate(parsed.entries, start=1):
            guid, link = entry.get("id") or "", entry.get("link") or ""
            place = f"{where} entry {number}" + (f" ({link or guid})" if link or guid else "")
            if not (guid or link):
                yield Refusal(place, "the entry has neither a guid nor a link")
                continue
            doc_id = entry_id(guid or link, home)
            if doc_id in self.known:
                yield Unchanged(place, doc_id)  # stored: its page is not fetched again
                continue
            if doc_id in self.read:
                yield Skipped(place, f"id {doc_id!r} was already read from {self.read[doc_id]}")
                continue
            record = {
                "id": doc_id,
                "title": entry.get("title"),
                "published": _published(entry),
                "author": entry.get("author"),
                "url": link or None,
                "source": source,
            }
            yield from self._guarded(place, self._entry(place, entry, record))

    def _entry(self, where: str, entry: Any, record: dict[str, Any]) -> Iterator[Item]:
        content = _full_content(entry)
        if content is not None:
            title = escape(record["title"] or "")
            html = f"<html><head><title>{title}</title></head><body><article>{content}"
            yield self._one(where, record | {"html": html + "</article></body></html>"})
            return
        link = record["url"]
        if not link or urlsplit(link).scheme not in ("http", "https"):
            yield Refusal(where, "the feed holds no article and the entry no link to fetch")
            return
        response = self.fetcher.get(link)
        if not _is_html(response.content_type, response.content):
            yield Refusal(where, f"not an HTML page: {response.content_type or 'no content type'}")
            return
        html = decode_html(response.content, response.content_type)
        yield self._one(where, record | {"html": html})
