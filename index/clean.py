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
    "update stamp": re.compile(
        r"^(Updated|Last updated|Published)( at| on)?\s+[\w:.,/ -]{1,40}$", re.IGNORECASE
    ),
}
# Page chrome glued to the start of the first paragraph (no line break after it).
_LEADING_DEBRIS = [
    re.compile(r"^advertisement\s+", re.IGNORECASE),
    # A gallery caption ends with a photo credit such as `NAME/Reuters` or
    # `NAME/AFP/Getty Images`; with nothing after it, the whole paragraph is a caption.
    re.compile(r"^Open this photo in gallery\b.*?[A-Z]{2,}[\w.-]*/[\w ./-]+?(?:\s+|$)(?=[A-Z]|$)"),
]
# A tooltip run into the text: "President TrumpDonald John TrumpSchumer renews ... MORE accused".
# It starts where a name is glued to the next capitalised word and ends at " MORE ".
_NAME_TOOLTIP = re.compile(r"(?<=[a-z])(?=[A-Z])[^\n]*? MORE\b\s*")
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
    for number, block in enumerate(re.split(r"\n\s*\n|\n", text)):
        paragraph = " ".join(block.split())
        if number == 0:
            for debris in _LEADING_DEBRIS:
                paragraph = debris.sub("", paragraph, count=1)
        paragraph = _NAME_TOOLTIP.sub(" ", paragraph) if " MORE" in paragraph else paragraph
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
