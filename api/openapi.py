"""The published contract: the OpenAPI schema FastAPI derives from the models, with every
limit the server enforces written into it from the same settings, so that a request the
schema calls valid is served and one it calls invalid is refused (issue 18).

The models cannot carry these limits themselves: they are settings, read when the app is
made (`PARALLAX_MAX_K`, ...), while the models are classes made once at import.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from api.settings import Settings
from index.documents import DATE_PATTERN, ID_PATTERN, PUBLISHED_PATTERN


@cache
def text_pattern() -> str:
    """What a query, a question or a document's text must match: a character that is not
    whitespace, and no NUL (the server refuses the rest with 422). Whitespace is Python's
    (what `str.strip` and `str.split` remove), spelled out: `\\s` means other characters
    in JSON Schema's regexes (ECMA-262) than in Python's."""
    blank = "\\u0000" + _escaped(c for c in _characters() if c.isspace())
    return f"^[^\\u0000]*[^{blank}][^\\u0000]*$"


@cache
def id_pattern() -> str:
    """A document id (`index.documents.ID_PATTERN`), its word characters (Python's, which
    the server checks) spelled out: ECMA-262's `\\w` is ASCII only."""
    word = _escaped(c for c in _characters() if re.fullmatch(r"\w", c))
    return ID_PATTERN.replace(r"\w", word)


def _characters() -> Iterator[str]:
    return (chr(n) for n in range(0x110000) if not 0xD800 <= n <= 0xDFFF)


def _escaped(characters: Iterable[str]) -> str:
    """A regex class body for `characters`, as ranges of \\u escapes; a character past the
    Basic Multilingual Plane as a \\U escape, which Python's regexes (schemathesis') read."""
    codes = sorted(ord(c) for c in characters)
    parts, start = [], None
    for n, code in enumerate(codes):
        if start is None:
            start = code
        if n + 1 == len(codes) or codes[n + 1] != code + 1:
            parts.append(_u(start) if start == code else f"{_u(start)}-{_u(code)}")
            start = None
    return "".join(parts)


def _u(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


# Statuses every route may answer with, each with the one error body.
ERROR_STATUSES = {
    400: "The body is not UTF-8 JSON.",
    401: "A write without the right API key.",
    403: "Writes are disabled: the server has no API key.",
    404: "No such document or story.",
    413: "The body is larger than PARALLAX_MAX_BODY_BYTES.",
    422: "The request breaks the schema or a limit.",
    503: "The index is loading, or too many requests are in flight; retry after Retry-After.",
}


def contract(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """`schema` (FastAPI's) with the settings' limits and every error status documented."""
    schema = copy.deepcopy(schema)
    models = schema["components"]["schemas"]
    text = {
        "type": "string",
        "minLength": 1,
        "maxLength": settings.max_query_chars,
        "pattern": text_pattern(),
    }
    _replace(models["SearchRequest"], "query", text)
    _replace(models["AskRequest"], "question", text)
    hits = _optional({"type": "integer", "minimum": 1, "maximum": settings.max_k})
    for model, name in (
        ("SearchRequest", "k"),
        ("SearchRequest", "per_source"),
        ("AskRequest", "per_source"),
    ):
        _replace(models[model], name, hits)
    _replace(
        models["SearchRequest"],
        "max_sources",
        _optional({"type": "integer", "minimum": 1, "maximum": settings.max_sources_limit}),
    )
    date = {"type": "string", "pattern": DATE_PATTERN, "format": "date"}
    for name in ("published_from", "published_to"):
        _replace(models["Filters"], name, _optional(date))
    document = models["DocumentIn"]
    _replace(document, "id", {"type": "string", "pattern": id_pattern()})
    for name in ("text", "html"):
        _replace(document, name, _optional({"type": "string", "pattern": text_pattern()}))
    moment = {"type": "string", "pattern": PUBLISHED_PATTERN, "format": "date-time"}
    _replace(
        document,
        "published",
        {"anyOf": [date, moment, {"type": "string", "maxLength": 0}, {"type": "null"}]},
    )
    document["oneOf"] = [_only("text", "html"), _only("html", "text")]
    documents = models["IngestRequest"]["properties"]["documents"]
    documents["maxItems"] = settings.max_batch_documents
    _document_errors(schema)
    _link_documents(schema)
    return schema


def _link_documents(schema: dict[str, Any]) -> None:
    """Links from a write to what a client does next with its ids (OpenAPI `links`, which
    generated clients and stateful testers follow): read or delete a document just
    written, and read one just deleted (404)."""
    paths = schema["paths"]
    one = paths["/documents/{doc_id}"]

    def to(method: str, expression: str) -> dict[str, Any]:
        return {"operationId": one[method]["operationId"], "parameters": {"doc_id": expression}}

    # The first document sent is stored once the write succeeds (added, replaced or
    # unchanged); a batch holds at least one.
    sent = "$request.body#/documents/0/id"
    paths["/documents"]["post"]["responses"]["200"]["links"] = {
        "GetWrittenDocument": to("get", sent),
        "DeleteWrittenDocument": to("delete", sent),
    }
    one["delete"]["responses"]["200"]["links"] = {
        "GetDeletedDocument": to("get", "$response.body#/deleted"),
    }


def _replace(model: dict[str, Any], name: str, constraint: dict[str, Any]) -> None:
    """Property `name` of `model` described by `constraint` (its title, description and
    default kept)."""
    old = model["properties"][name]
    kept = {k: old[k] for k in ("title", "description", "default") if k in old}
    model["properties"][name] = {**constraint, **kept}


def _only(given: str, left_out: str) -> dict[str, Any]:
    """A document that gives `given` as a string and not `left_out` (JSON Schema's way to
    say "exactly one of")."""
    string = {"type": "string"}
    return {
        "required": [given],
        "properties": {given: string},
        "not": {"required": [left_out], "properties": {left_out: string}},
    }


def _optional(constraint: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [constraint, {"type": "null"}]}


def _document_errors(schema: dict[str, Any]) -> None:
    """Each operation lists every error status with the error body; 503 with Retry-After."""
    body = {"$ref": "#/components/schemas/ErrorBody"}
    for path in schema["paths"].values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                response = responses.setdefault(str(status), {})
                response["description"] = description
                # /health answers 503 with its own body (the reason it is not ready).
                response.setdefault("content", {"application/json": {"schema": body}})
            responses["503"]["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                }
            }
