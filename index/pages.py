"""Web pages: the article body and its metadata, read from a saved page's HTML.

trafilatura finds the article body (it scores the page's blocks by text and link density
and falls back to readability and jusText where its own pass finds little) and the
page's metadata; htmldate, which it calls, finds the publication date and time. The body
comes out as one paragraph a line; the plain-text rules of `index.clean` then take out
the page debris that survives extraction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from index.clean import reads_as_prose, reporting_paragraphs
from index.errors import DocumentError
from index.text import UNICODE_WORD_RE, stored_moment

# The body only: comments are not the article (measured on the article-extraction pages,
# they cost precision for no recall), and a precise extraction drops more of the
# teasers, related links and captions around it (docs/intake.md).
_EXTRACTION = {"include_comments": False, "favor_precision": True, "include_tables": True}
# htmldate's date with its time of day and zone where the page gives them.
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": _DATE_FORMAT}


@dataclass(frozen=True)
class Page:
    """What a page says about its article: the body as paragraphs separated by blank lines,
    and the metadata found (None where the page gives none)."""

    text: str
    title: str | None = None
    published: str | None = None  # "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SSZ" (UTC)
    author: str | None = None
    site: str | None = None
    url: str | None = None


def extract_page(html: str | bytes, url: str | None = None, where: str = "page") -> Page:
    """The article of a saved web page; `DocumentError` (naming `where`) for a page with no
    article text."""
    trafilatura = _trafilatura()
    try:
        found: Any = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            date_extraction_params=_DATE_PARAMS,
            **_EXTRACTION,
        )
    except (ValueError, TypeError) as exc:  # lxml refuses some byte strings outright
        raise DocumentError(f"{where}: the HTML could not be parsed ({exc})") from None
    body = (found.text or "") if found is not None else ""
    title = _blank_to_none(found.title) if found is not None else None
    paragraphs = reporting_paragraphs(p for p in body.split("\n"))
    if paragraphs and title and _same_words(paragraphs[0], title):
        paragraphs.pop(0)  # the headline, repeated at the top of the body
    if not reads_as_prose(paragraphs):  # nothing, or only a menu's or a gallery's words
        raise DocumentError(
            f"{where}: no article text found in the page (a front page, a list of links or "
            "a page that needs JavaScript); send the article's own page, or its text as 'text'"
        )
    return Page(
        text="\n\n".join(paragraphs),
        title=title,
        published=page_date(found.date),
        author=_blank_to_none(found.author),
        site=_blank_to_none(found.sitename) or _blank_to_none(found.hostname),
        url=_blank_to_none(found.url) or url,
    )


@cache
def _trafilatura() -> Any:
    import trafilatura

    # trafilatura logs an ERROR for each page it cannot parse; the refusal says so already.
    for name in ("trafilatura", "htmldate", "justext"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return trafilatura


def page_date(value: str | None) -> str | None:
    """htmldate's date as stored: a day, or a UTC time where the page gave a zone."""
    if not value:
        return None
    try:
        moment = datetime.strptime(value, _DATE_FORMAT)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    if moment.tzinfo is None:  # no zone: the day is sure, the hour is not
        return moment.date().isoformat()
    return stored_moment(moment)


def _same_words(a: str, b: str) -> bool:
    return UNICODE_WORD_RE.findall(a.casefold()) == UNICODE_WORD_RE.findall(b.casefold())


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value else None
