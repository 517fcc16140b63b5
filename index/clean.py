"""Turn a scraped news page into the article's reporting text.

Seed files carry page debris around the reporting: a ` date 2019-12-31` marker,
a headline line, a trailing `source: nbcnews.com` line, newsletter promos,
photo-gallery captions, "Story continues below advertisement", name tooltips
run into the text, bare `pic.twitter.com` links and "Updated at ..." stamps.
The rules are hand-written regexes because the debris is outlet-specific page
chrome that no general boilerplate library (trafilatura, justext) sees once the
HTML is gone; each rule is named so a test can show what it removes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ` date 2019-12-31` at the very start of a scraped page.
_DATE_MARKER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")
# A last line such as `source: nbcnews.com`.
_SOURCE_LINE = re.compile(r"\n\s*source:\s*(\S+)\s*$", re.IGNORECASE)

# Whole paragraphs that are page chrome, not reporting.
_BOILERPLATE_PARAGRAPHS = {
    "newsletter promo": re.compile(r"^Let our news meet your inbox\b.*$", re.IGNORECASE),
    "gallery caption": re.compile(r"^Open this photo in gallery\b.*$", re.IGNORECASE),
    "advertisement": re.compile(
        r"^(Story continues below advertisement|advertisement|ad)\.?$", re.IGNORECASE
    ),
    # "Updated at 9:15 a.m.", "Updated Dec. 31, 2019": a stamp starts with a time or a date.
    "update stamp": re.compile(
        r"^(Updated|Last updated|Published)( at| on)?:?\s+"
        r"(\d{1,2}([:.]\d{2})?\s*[ap]\.?m\.?|[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}|\d{4}-\d{2}-\d{2})"
        r"[\w:.,() /-]{0,30}$",
        re.IGNORECASE,
    ),
}
# The Hill runs a name's tooltip into the text: "President TrumpDonald John TrumpSchumer
# renews call ... MORE accused": a surname, the full name ending in that surname, then
# related headlines up to " MORE".
_NAME_TOOLTIP = re.compile(
    r"\b(?P<surname>[A-Z][a-z]+)(?:[A-Z][\w.'-]* )+(?P=surname)(?=[A-Z])[^\n]*? MORE\b\s*"
)
# A gallery caption run into the next paragraph ends with a credit such as
# "THAIER AL-SUDANI/Reuters"; what follows is kept only if it reads as a sentence.
_GLUED_CAPTION = re.compile(
    r"^Open this photo in gallery\b.*?[A-Z]{2,}[\w.-]*/(?:[\w.-]+/)*"
    r"(?:Getty Images|The Associated Press|The Canadian Press|[A-Z][\w.-]*)\s+"
)
_SENTENCE = re.compile(r"^[A-Z\"\u201c].*[.!?\"\u201d]$")
_PIC_LINK = re.compile(r"\s*\bpic\.twitter\.com/\w+")


@dataclass(frozen=True)
class CleanedPage:
    """The reporting text of a page and the metadata found in its debris."""

    text: str
    title: str | None = None
    published: str | None = None
    site: str | None = None


def clean_page(raw: str) -> CleanedPage:
    """Split a scraped seed page into metadata (date, headline, site) and clean text."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    published = site = title = None
    if match := _DATE_MARKER.match(text):
        published = match.group(1)
        text = text[match.end() :]
    if match := _SOURCE_LINE.search(text):
        site = match.group(1)
        text = text[: match.start()]
    paragraphs = _paragraphs(text)
    if len(paragraphs) > 1 and _looks_like_headline(paragraphs[0]):
        title = paragraphs.pop(0)
    return CleanedPage(text=_join(paragraphs), title=title, published=published, site=site)


def clean_text(text: str) -> str:
    """Remove page boilerplate from article text, keeping every reporting paragraph."""
    return _join(_paragraphs(text.replace("\r\n", "\n").replace("\r", "\n")))


def _paragraphs(text: str) -> list[str]:
    kept = []
    for block in re.split(r"\n\s*\n|\n", text):
        paragraph = " ".join(block.split())
        if (
            (glued := _GLUED_CAPTION.match(paragraph))
            and _SENTENCE.match(rest := paragraph[glued.end() :])
            and len(rest.split()) >= 3
        ):
            paragraph = rest
        paragraph = _NAME_TOOLTIP.sub(r"\g<surname> ", paragraph)
        paragraph = _PIC_LINK.sub("", paragraph).strip()
        if paragraph and not any(
            rule.match(paragraph) for rule in _BOILERPLATE_PARAGRAPHS.values()
        ):
            kept.append(paragraph)
    return kept


def _looks_like_headline(line: str) -> bool:
    # Headlines are short and carry no sentence-final punctuation.
    return len(line.split()) <= 20 and not line.endswith((".", "!", "?", '"', "\u201d", ":"))


def _join(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)
