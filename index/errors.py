"""Errors raised by parallax's domain code: what went wrong and how to fix it, with no
notion of HTTP (`api/errors.py` maps each to its status).

    ParallaxError                 base: `code`, a message that says what to do
    ├── BadRequest                a request or a document the caller must fix
    │   └── DocumentError         a document (or a JSONL line) that cannot be ingested
    ├── NotFound                  an unknown document or story id
    ├── NotReady                  the index is still loading, or failed to load
    ├── IndexMismatch             a stored index built with another model or dimension
    └── DataDirLocked             another process is writing to the same data directory

The service's own errors (a missing key, writes disabled) are in `api/errors.py`.
"""

from __future__ import annotations


class ParallaxError(Exception):
    """Base error: a message for the user and a machine-readable code."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ParallaxError):
    """A request or a document the caller must fix; the message says what and how."""

    code = "bad_request"


class DocumentError(BadRequest):
    """A document (or a line of a JSON Lines file) that cannot be ingested: a missing
    field, a bad id or date, no text after cleaning."""

    code = "invalid_document"


class NotFound(ParallaxError):
    """An unknown document or story id."""

    code = "not_found"


class NotReady(ParallaxError):
    """The index is still loading, or failed to load (the message says why); try again."""

    code = "not_ready"


class IndexMismatch(ParallaxError):
    """A stored index built with another model or dimension than the one configured;
    the message names both."""

    code = "index_mismatch"


class DataDirLocked(ParallaxError):
    """Another process is writing to the same data directory."""

    code = "data_dir_locked"
