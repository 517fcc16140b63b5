"""Documents: the seed folder and JSON Lines files, validated into `Document`s."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from index.clean import clean_page, clean_text
from index.errors import DocumentError

_FIELDS = {"id", "source", "title", "published", "url", "text"}
# A document id; the published API schema spells it out (`api.openapi.id_pattern`).
ID_PATTERN = r"^[\w.:@-]{1,200}$"
_ID = re.compile(ID_PATTERN)
# A date as the API and the files give it; `_parse_date` checks it is a calendar date.
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_DATE = re.compile(DATE_PATTERN)


@dataclass(frozen=True)
class Document:
    """One article: a stable id, its outlet and date, and its clean text."""

    id: str
    text: str
    source: str | None = None
    title: str | None = None
    published: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # Every field is a str or None: a shallow dict, not `asdict`'s deep copy
        # (which took 0.48 s of each save of a 19k-document index).
        return {
            "id": self.id,
            "text": self.text,
            "source": self.source,
            "title": self.title,
            "published": self.published,
            "url": self.url,
        }


def parse_document(record: Any, where: str = "document") -> Document:
    """Validate one JSON document (the shape `POST /documents` takes, README "HTTP API")
    and clean its text.

    `where` names the record in error messages ("line 3 of docs.jsonl").
    """
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
    text = record.get("text")
    if not isinstance(text, str):
        raise DocumentError(f"{where} ({doc_id}): 'text' must be a string, got {text!r:.40}")
    for name in ("source", "title", "url"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise DocumentError(f"{where} ({doc_id}): {name!r} must be a string or null")
    for name in ("text", "source", "title", "url", "published"):
        if not is_valid_unicode(record.get(name)):
            raise DocumentError(
                f"{where} ({doc_id}): {name!r} holds a lone surrogate or other invalid "
                "Unicode; send UTF-8 text"
            )
    cleaned = clean_text(text)
    if not cleaned.strip():
        raise DocumentError(f"{where} ({doc_id}): 'text' is empty; a document needs some text")
    if "\x00" in cleaned:
        raise DocumentError(f"{where} ({doc_id}): 'text' contains NUL characters")
    return Document(
        id=doc_id,
        text=cleaned,
        source=_blank_to_none(record.get("source")),
        title=_blank_to_none(record.get("title")),
        published=_parse_date(record.get("published"), f"{where} ({doc_id})"),
        url=_blank_to_none(record.get("url")),
    )


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
                published=_parse_date(meta.get("published") or cleaned.published, page.name),
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


def _parse_date(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise DocumentError(f"{where}: 'published' must be a date as YYYY-MM-DD, got {value!r}")


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None
