"""Documents: the seed folder and JSON Lines files, validated into `Document`s.

A document arrives with exactly one of `text` (plain text, maybe hard-wrapped: see
`index.clean`) or `html` (a whole saved web page: see `index.pages`). Either way the
stored `text` is clean reporting text in whole paragraphs, and citations point into it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from index.clean import clean_page, clean_text
from index.errors import DocumentError
from index.text import stored_moment

_FIELDS = {"id", "source", "title", "published", "url", "author", "text", "html"}
# A document id; the published API schema spells it out (`api.openapi.id_pattern`).
ID_PATTERN = r"^[\w.:@-]{1,200}$"
_ID = re.compile(ID_PATTERN)
# A date, as documents and filters take it.
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_DATE = re.compile(DATE_PATTERN)
# A publication date-time: ISO 8601's profile that JSON Schema and OpenAPI call
# "date-time" (RFC 3339): seconds and a zone are given ("1987-03-09T15:01:01Z",
# "2019-12-31T09:15:00-05:00", a fraction of a second allowed); `parse_published` checks
# it is a real moment.
PUBLISHED_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_PUBLISHED = re.compile(PUBLISHED_PATTERN)
# How `published` is stored: a day, or a moment in UTC to the second. The two sort
# together as strings, a day before the times of that day.
PUBLISHED_FORMS = (
    "an ISO 8601 date (1987-03-09) or date-time with seconds and a zone "
    "(1987-03-09T15:01:01Z, 2019-12-31T09:15:00-05:00)"
)
# The fixed-width string type of a `published` column (segments written before times were
# kept hold "U10", which numpy widens when they are joined).
PUBLISHED_DTYPE = f"U{len('1987-03-09T15:01:01Z')}"


def day_end(day: str) -> str:
    """What every stored `published` of `day` sorts below ("T24" is ISO 8601's end of a
    day): a filter up to a day keeps the moments of that day."""
    return day + "T24"


@dataclass(frozen=True)
class Document:
    """One article: a stable id, its outlet and publication time, and its clean text.

    `published` is "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC)."""

    id: str
    text: str
    source: str | None = None
    title: str | None = None
    published: str | None = None
    url: str | None = None
    author: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # Every field is a str or None: a shallow dict, not `asdict`'s deep copy
        # (which took 0.48 s of each save of a 19k-document index).
        record = {
            "id": self.id,
            "text": self.text,
            "source": self.source,
            "title": self.title,
            "published": self.published,
            "url": self.url,
        }
        if self.author is not None:  # older readers know no author; write it only if set
            record["author"] = self.author
        return record


def _checked_fields(record: Any, where: str) -> str:
    """The record's id, once its fields are known, of the right types and valid Unicode;
    a `DocumentError` naming the first that is not."""
    if not isinstance(record, Mapping):
        raise DocumentError(f"{where}: expected a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - _FIELDS)
    if unknown:
        raise DocumentError(
            f"{where}: unknown field(s) {unknown}; allowed fields are {sorted(_FIELDS)}"
        )
    doc_id = record.get("id")
    if not isinstance(doc_id, str) or not _ID.fullmatch(doc_id):
        raise DocumentError(
            f"{where}: 'id' must be a string of 1-200 letters, digits or . _ : @ -, got {doc_id!r}"
        )
    where = f"{where} ({doc_id})"
    if (record.get("text") is None) == (record.get("html") is None):
        raise DocumentError(
            f"{where}: send exactly one of 'text' (plain text) and 'html' (a saved web page)"
        )
    for name in ("text", "html"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise DocumentError(f"{where}: {name!r} must be a string, got {value!r:.40}")
    for name in ("source", "title", "url", "author"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise DocumentError(f"{where}: {name!r} must be a string or null")
    for name in ("text", "html", "source", "title", "url", "author", "published"):
        if not is_valid_unicode(record.get(name)):
            raise DocumentError(
                f"{where}: {name!r} holds a lone surrogate or other invalid Unicode; "
                "send UTF-8 text"
            )
    for name in ("text", "html"):
        if "\x00" in (record.get(name) or ""):
            raise DocumentError(f"{where}: {name!r} contains NUL characters")
    return doc_id


def parse_document(record: Any, where: str = "document", cleaned: bool = False) -> Document:
    """Validate one JSON document (the shape `POST /documents` takes, docs/api.md)
    and clean its text, or extract it from its page's `html`.

    `where` names the record in error messages ("line 3 of docs.jsonl"); `cleaned` says
    that the text was cleaned already (a `.txt` page read by `clean_page`).
    """
    doc_id = _checked_fields(record, where)
    where = f"{where} ({doc_id})"
    text, html = record.get("text"), record.get("html")
    published = parse_published(record.get("published"), where)
    fields = {
        name: _blank_to_none(record.get(name)) for name in ("source", "title", "url", "author")
    }
    if html is not None:
        from index.pages import extract_page

        page = extract_page(html, fields["url"], where)
        stored = page.text
        published = published or page.published
        found = {"source": page.site, "title": page.title, "url": page.url, "author": page.author}
        fields = {name: value or found[name] for name, value in fields.items()}
    else:
        stored = text if cleaned else clean_text(text)
        if not stored.strip():
            raise DocumentError(
                f"{where}: 'text' is empty once page debris is taken out; a document needs "
                "some text"
            )
    return Document(id=doc_id, text=stored, published=published, **fields)


def load_jsonl(path: str | Path) -> Iterator[Document]:
    """Yield documents from a JSON Lines file; a bad line raises with its number."""
    for where, record in json_lines(path):
        yield parse_document(record, where)


def json_lines(path: str | Path) -> Iterator[tuple[str, Any]]:
    """Each non-blank line of a JSON Lines file, parsed, with where it stands ("line 3 of
    docs.jsonl"); a file that cannot be read or a line that is not JSON raises
    `DocumentError` saying which."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"line {number} of {path.name}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DocumentError(
                    f"{where}: invalid JSON ({exc.msg} at column {exc.colno})"
                ) from None
            yield where, record


def load_seeds(folder: str | Path) -> list[Document]:
    """Load the seed `.txt` pages with their metadata from `sources.json`."""
    folder = Path(folder)
    sources_file = folder / "sources.json"
    try:
        sources = json.loads(sources_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        sources = {}
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"{sources_file}: invalid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    documents = []
    for page in sorted(folder.glob("*.txt")):
        meta = sources.get(page.stem, {})
        cleaned = clean_page(page.read_text(encoding="utf-8"))
        documents.append(
            Document(
                id=page.stem,
                text=cleaned.text,
                source=meta.get("outlet"),
                title=meta.get("title") or cleaned.title,
                published=parse_published(meta.get("published") or cleaned.published, page.name),
                url=meta.get("url"),
            )
        )
    if not documents:
        raise DocumentError(f"no .txt articles in {folder}; point PARALLAX_SEEDS_DIR at them")
    return documents


def is_valid_unicode(value: object) -> bool:
    """False for a string that cannot be UTF-8 encoded (a lone surrogate from JSON "\\ud800")."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_published(value: Any, where: str) -> str | None:
    """A publication date or date-time as stored: "YYYY-MM-DD" for a date, the moment in
    UTC ("YYYY-MM-DDTHH:MM:SSZ") for a date-time. None for none; `DocumentError` naming the
    accepted forms for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            if _DATE.fullmatch(value):
                return date.fromisoformat(value).isoformat()
            if _PUBLISHED.fullmatch(value):
                return stored_moment(datetime.fromisoformat(value.upper()))
        except ValueError:  # not a calendar date or time
            pass
    raise DocumentError(f"{where}: 'published' must be {PUBLISHED_FORMS}, got {value!r}")


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def publication_order(documents: Sequence[Document]) -> list[int]:
    """Indices of `documents` oldest first; undated ones last; ties keep their order."""
    return sorted(range(len(documents)), key=lambda i: publication_key(documents[i], i))


def publication_key(document: Document, position: int) -> tuple[bool, str, int]:
    """Sorts documents oldest first, undated last, ties by `position`."""
    return (document.published is None, document.published or "", position)
