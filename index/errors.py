"""Errors raised by parallax, each carrying the HTTP status it maps to.

    ParallaxError                 base: `code`, `status`, a message that says what to do
    ├── BadRequest (400/422)      a request or a document the caller must fix
    │   └── DocumentError         a document (or a JSONL line) that cannot be ingested
    ├── Unauthorized (401)        a wrong or missing bearer key
    ├── Forbidden (403)           writes are disabled (no key configured)
    ├── NotFound (404)            an unknown document id
    ├── NotReady (503)            the index is still loading, or failed to load
    ├── IndexMismatch             a stored index built with another model or dimension
    └── DataDirLocked             another process is writing to the same data directory

They live in `index/` because ingest raises most of them; `api/` renders them as
JSON `{"error": {"code", "message"}}` with the status, in one exception handler.
"""

from __future__ import annotations


class ParallaxError(Exception):
    """Base error: a message for the user, a machine-readable code and an HTTP status."""

    code = "error"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ParallaxError):
    code = "bad_request"
    status = 422


class DocumentError(BadRequest):
    code = "invalid_document"


class Unauthorized(ParallaxError):
    code = "unauthorized"
    status = 401


class Forbidden(ParallaxError):
    code = "forbidden"
    status = 403


class NotFound(ParallaxError):
    code = "not_found"
    status = 404


class NotReady(ParallaxError):
    code = "not_ready"
    status = 503


class IndexMismatch(ParallaxError):
    code = "index_mismatch"
    status = 503


class DataDirLocked(ParallaxError):
    code = "data_dir_locked"
    status = 409
