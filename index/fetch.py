"""Fetching feeds and pages over HTTP for intake, politely and within bounds.

One `httpx.Client` for a whole run: a timeout on connecting and on each wait for data,
at most five redirects, a size limit enforced while the body streams in (a compressed
body is counted as it is decoded, so a small gzip cannot unpack into gigabytes), and a
User-Agent naming parallax. Whatever goes wrong with one URL (an HTTP error status, a
timeout, a refused connection, too big a body) raises `DocumentError` saying what, so
the caller refuses that URL and goes on with the rest.

`FetchState` keeps, between runs, the validators (ETag, Last-Modified) each feed and page
answered with, so the next request for it is conditional and a 304 costs nothing.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import Any

from index.errors import DocumentError

log = logging.getLogger(__name__)


def default_user_agent() -> str:
    """ "parallax/<version>": who is asking, for a site's logs (set a contact with
    `FetchOptions.user_agent`)."""
    try:
        release = version("parallax")
    except PackageNotFoundError:
        release = "dev"
    return f"parallax/{release} (news archive intake)"


@dataclass(frozen=True)
class FetchOptions:
    """How intake fetches: seconds to connect and to wait for data, the largest body read,
    the User-Agent (None: `default_user_agent()`), redirects followed."""

    timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    user_agent: str | None = None
    max_redirects: int = 5


@dataclass(frozen=True)
class Response:
    """What a URL answered: 200 with its body, or 304 (not modified) with none.

    `url` is where the body came from, after redirects; `validators` are the ETag and
    Last-Modified to send next time ({"etag": ..., "last_modified": ...}, either absent)."""

    url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    validators: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """GETs URLs with one HTTP client (made at the first request, closed by `close`)."""

    def __init__(self, options: FetchOptions = FetchOptions(), transport: Any = None) -> None:
        self.options = options
        self._transport = transport  # an httpx transport, for tests
        self._client: Any = None

    def get(self, url: str, validators: Mapping[str, str] | None = None) -> Response:
        """The body of `url`, or a 304 when `validators` (from an earlier `Response`) still
        hold; `DocumentError` saying what went wrong otherwise."""
        import httpx

        headers = {}
        if validators and validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators and validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        try:
            with self._http().stream("GET", url, headers=headers) as answer:
                if answer.status_code == 304:
                    return Response(str(answer.url), 304, validators=dict(validators or {}))
                if answer.status_code >= 400:
                    raise DocumentError(f"HTTP {answer.status_code} {answer.reason_phrase}".strip())
                content = self._read(answer)
                return Response(
                    url=str(answer.url),
                    status=answer.status_code,
                    content=content,
                    content_type=answer.headers.get("content-type", ""),
                    validators={
                        name: answer.headers[header]
                        for name, header in (("etag", "etag"), ("last_modified", "last-modified"))
                        if header in answer.headers
                    },
                )
        except httpx.TimeoutException:
            raise DocumentError(
                f"timed out: no answer within {self.options.timeout:g} s (the fetch_timeout "
                "setting)"
            ) from None
        except httpx.TooManyRedirects:
            raise DocumentError(
                f"more than {self.options.max_redirects} redirects; give the final URL"
            ) from None
        except httpx.ConnectError as exc:
            raise DocumentError(f"could not connect ({exc})") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise DocumentError(f"{type(exc).__name__}: {exc}") from None

    def _read(self, answer: Any) -> bytes:
        limit = self.options.max_bytes
        too_big = f"larger than {limit:,} bytes (the fetch_max_bytes setting); not read to the end"
        declared = answer.headers.get("content-length", "")
        if (
            declared.isdigit()
            and "content-encoding" not in answer.headers
            and int(declared) > limit
        ):
            raise DocumentError(too_big)
        body = bytearray()
        for chunk in answer.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise DocumentError(too_big)
        return bytes(body)

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                timeout=httpx.Timeout(self.options.timeout),
                follow_redirects=True,
                max_redirects=self.options.max_redirects,
                headers={"User-Agent": self.options.user_agent or default_user_agent()},
                transport=self._transport,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FetchState:
    """The validators each feed and each fetched page last answered with, and the ids of
    each feed's entries, kept in a JSON file between runs (`{"feeds": {url: validators},
    "pages": {url: validators}, "entries": {feed url: [id, ...]}}`).

    Changes stay in memory until `save`, which the caller makes once what was read is
    stored: a run that fails keeps the old state, so nothing it read is taken as seen."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.feeds: dict[str, dict[str, str]] = {}
        self.pages: dict[str, dict[str, str]] = {}
        self.entries: dict[str, list[str]] = {}
        if path is not None and path.exists():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                self.feeds = dict(saved.get("feeds", {}))
                self.pages = dict(saved.get("pages", {}))
                self.entries = dict(saved.get("entries", {}))
            except (OSError, ValueError, AttributeError) as exc:
                # Only a cache of validators: without it every feed is fetched whole once.
                log.warning("ignoring %s, which cannot be read (%s)", path, exc)

    def save(self) -> None:
        """Write the state in place of the old (a temp file renamed over it)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        saved = {"feeds": self.feeds, "pages": self.pages, "entries": self.entries}
        text = json.dumps(saved, indent=1, sort_keys=True)
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
