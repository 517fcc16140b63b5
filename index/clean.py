"""Plain text as archives deliver it, turned into whole paragraphs of reporting.

Wire copy, e-mail and saved text files are often hard-wrapped: lines of about 70
characters, a new paragraph marked by an indented line or a blank line. `clean_text`
joins the wraps and keeps the real breaks, so that no sentence ends at a line end, and
keeps tables and lists line by line. It decides from the text alone (how long its lines
run, how they are indented, where sentences end), never from the outlet.

No maintained library does this: textwrap only wraps, and the extractors (trafilatura,
jusText) read HTML, where paragraphs are marked up. The rules are hand-written and each
says why it exists.

Then a few general rules take out page debris that survives in text saved from web
pages (advertisement markers, update stamps, photo captions with their credits,
newsletter calls, inline cards, embedded picture links, wire sign-offs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.text import ANY_SENTENCE_END_RE, FUNCTION_WORDS, LETTERS_RE, LINE_END_RE, sentences

# ` date 2019-12-31` at the very start of a page of the seed folder.
_DATE_MARKER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")
# A last line such as `source: nbcnews.com` in the seed folder's pages.
_SOURCE_LINE = re.compile(r"\n\s*source:\s*(\S+)\s*$", re.IGNORECASE)

# --- Wrapping -----------------------------------------------------------------------

# A hard-wrapped text's lines are this long: wire copy and e-mail wrap at 60-80
# characters, some archives at up to about 130, a narrow column at 30. Longer lines are
# paragraphs of their own.
# The wrap width is read as this percentile of the lengths of lines before a break: most
# wrapped lines end near the width, a few (a paragraph's last) short of it.
_WIDTH_PERCENTILE = 0.9
_MIN_WRAP_WIDTH = 30
_MAX_WRAP_WIDTH = 132
# The widths most wrapped text is set at (wire copy, e-mail, books: 60-80 characters).
_USUAL_WIDTH = 80
# Share of a text's line breaks inside paragraphs that must fall where the next word
# would not have fitted on the line before, for the text to be taken as hard-wrapped. A
# wrapped paragraph of n lines has n-1 such breaks, so prose in paragraphs of three or
# more lines clears it easily; text with one paragraph a line does not.
_MIN_FULL_SHARE = 0.4
# Share of the lines before those breaks that read as prose, with a function word ("the",
# "of", "said it would"): nearly every wrapped line of prose has one; the rows of a list or
# an earnings table ("Net 4.2 mln vs 5.9 mln") seldom do, however alike their lengths.
_MIN_PROSE_SHARE = 0.5
# A line of wrapped text shorter than this share of the width, without a full stop, before
# a capital, ends a heading or an item.
_SHORT_LINE = 0.6
# How many characters short of the measured width a line may end and still count as
# full: wrappers measure with margins, and a width read from a percentile runs a little
# long.
_WIDTH_SLACK = 3

# How a continued sentence may start its next line: lower case, or a punctuation mark that
# cannot open a sentence. Not a figure or a bracket: the rows of a list start with them
# too ("12 mths", "(Santa Anita Realty)"); wrapped prose before them is told by its width.
_CONTINUES = re.compile(r"[a-z,;:%\u2013\u2014-]")
# A table row: columns set apart by runs of three or more spaces, or by tabs.
_COLUMNS = re.compile(r"\S(?: {3,}|\t)\S")
# A list item: a bullet, a number followed by "." or ")", or a letter followed by ")". A
# dash opens an item only before a capital or a figure: "- with warrants" is a dash of the
# sentence that a wrap put first on its line; and "a." at the start of a line is the end
# of a sentence more often than an item.
_LIST_ITEM = re.compile(
    r"(?:[*\u2022\u25aa+>]\s+\S|[-\u2013\u2014]\s+[A-Z0-9\"\u201c]|\(?\d{1,2}[.)]\s+\S"
    r"|\(?[a-z]\)\s+\S)"
)
# Text without a sentence longer than this is more than a menu's links.
_MENU_LENGTH = 200
# Characters of each line the sentence splitter reads around a break.
_CONTEXT = 80
_HYPHENATED = re.compile(r"[^\W\d_]-$")


@dataclass(frozen=True)
class _Line:
    text: str  # without its indentation or trailing spaces
    indent: int
    length: int  # with its indentation, as a wrapper counted it
    # A row of a table keeps its own line: it is never joined to another.
    in_table: bool
    # An item of a list starts a line of its own (its wrapped lines join it).
    is_item: bool

    @property
    def first_word(self) -> str:
        return self.text.split(None, 1)[0]


def unwrap(text: str) -> list[str]:
    """The paragraphs of plain text, each on one line; a table or a list is one block with
    a line per row or item."""
    blocks = [
        [_line(raw) for raw in block.split("\n") if raw.strip()]
        for block in re.split(r"\n[ \t]*\n", text.expandtabs(8))
    ]
    blocks = [block for block in blocks if block]
    for _ in range(_SIGN_OFFS):
        if not _signed_off(blocks):
            break
        blocks[-1].pop()
        blocks = [block for block in blocks if block]
    width = _wrap_width(blocks)
    paragraphs: list[str] = []
    for block in blocks:
        margin = _margin(block)
        units = [[block[0]]]
        for before, after in zip(block, block[1:], strict=False):
            continued = len(units[-1]) > 1
            if _joins(before, after, width, margin, first=before is block[0], continued=continued):
                units[-1].append(after)
            else:
                units.append([after])
        paragraphs.extend(_blocks(units))
    return paragraphs


def _signed_off(blocks: list[list[_Line]]) -> bool:
    """Whether the text's last line is a wire sign-off or end mark ("Reuter", "AP",
    "(END)", "###"): a short line of one word at most, no figure and no full stop, that
    stands apart from the text before it: after a blank line, indented otherwise than the
    line before, or after a finished sentence. The last name of a list ("Smith", "Jones",
    "Brown") or the word that finishes a sentence ("...Saudi Arabia and" + "Egypt") does
    not."""
    lines = [line for block in blocks for line in block]
    if len(lines) < 2 or not _SIGN_OFF.match(lines[-1].text):
        return False
    last, before = lines[-1], lines[-2]
    if LINE_END_RE.search(last.text) or _goes_on(before.text):
        return False
    apart = len(blocks[-1]) == 1 or last.indent != before.indent
    return apart or bool(LINE_END_RE.search(before.text))


def _line(raw: str) -> _Line:
    raw = raw.rstrip()
    text = raw.lstrip()
    # Whether it is a table row or a list item is asked of every line several times.
    return _Line(
        text,
        len(raw) - len(text),
        len(raw),
        in_table=bool(_COLUMNS.search(text)),
        is_item=bool(_LIST_ITEM.match(text)),
    )


def _wrap_width(blocks: list[list[_Line]]) -> int | None:
    """The width a hard-wrapped text was wrapped at, or None when it was not wrapped.

    A wrapper breaks a line where the next word would not fit. Measured over the breaks
    that may be wraps (no table row, no paragraph start after them), the width is the
    length most lines reach, and in wrapped text most breaks fall where the next word
    would have passed it."""
    pairs = [
        (before, after)
        for block, margin in zip(blocks, map(_margin, blocks), strict=True)
        for before, after in zip(block, block[1:], strict=False)
        if not _starts_unit(before, after, margin)
    ]
    if not pairs or (len(pairs) == 1 and pairs[0][0].indent == pairs[0][1].indent > 0):
        # Nothing to measure; or two lines indented alike, as likely two paragraphs each
        # marked by its indent as one wrapped paragraph.
        return None
    lengths = sorted(before.length for before, _ in pairs)
    width = lengths[round(_WIDTH_PERCENTILE * (len(lengths) - 1))]
    if not _MIN_WRAP_WIDTH <= width <= _MAX_WRAP_WIDTH:
        return None
    full = [before for before, after in pairs if _is_full(before, after, width)]
    prose = sum(_is_prose(line.text) for line in full)
    if len(full) < _MIN_FULL_SHARE * len(pairs) or prose < _MIN_PROSE_SHARE * len(full):
        return None
    # The longest line is full by definition: alone it proves a wrap only at a usual width.
    if len(full) < 2 and width > _USUAL_WIDTH:
        return None
    return width


def reads_as_prose(paragraphs: Sequence[str]) -> bool:
    """Whether the paragraphs hold prose, in any language: a sentence ended by its full stop
    (Latin or CJK), a line of English prose, or text too long for a menu. A menu's "Home
    News Sport" or a gallery's "Photo 1 of 12" does not."""
    return any(ANY_SENTENCE_END_RE.search(p) or _is_prose(p) for p in paragraphs) or (
        sum(map(len, paragraphs)) >= _MENU_LENGTH
    )


def _is_prose(line: str) -> bool:
    """A line that reads as prose: it holds a function word, in lower case as prose writes
    it ("Class A" in a list's row is a name)."""
    return any(word in FUNCTION_WORDS for word in LETTERS_RE.findall(line))


def _margin(block: list[_Line]) -> int:
    return min(line.indent for line in block)


def _starts_unit(before: _Line, after: _Line, margin: int) -> bool:
    """`after` begins a paragraph, row or item whatever the line before it: it is a table
    row or follows one, it is a list item, or it is indented past the block's margin (one
    space is noise, such as a wrapped ticker's " <DIS.N> expect")."""
    return before.in_table or after.in_table or after.is_item or after.indent >= margin + 2


def _is_full(before: _Line, after: _Line, width: int) -> bool:
    return before.length + 1 + len(after.first_word) > width - _WIDTH_SLACK


def _joins(
    before: _Line, after: _Line, width: int | None, margin: int, first: bool, continued: bool
) -> bool:
    """Whether the break between two lines of a block is a wrap (else a paragraph ends).
    `first`: `before` is the block's first line; `continued`: `before` was joined to the
    line above it."""
    if _starts_unit(before, after, margin):
        return False
    if LINE_END_RE.search(before.text):
        # A sentence ended: in wrapped text a full line goes on in the same paragraph. A
        # line that stops short at a full stop may only end an abbreviation ("going to the
        # U.S." + "Capitol to urge"): the sentence splitter tells, across the break.
        # Two lines indented alike, the first ending a sentence, are two paragraphs each
        # opened by its indent, however full.
        if width is None or before.indent == after.indent > 0:
            return False
        return _is_full(before, after, width) or not _sentence_ends(before.text, after.text)
    if _CONTINUES.match(after.text) or _goes_on(before.text):
        return True  # the sentence goes on: the next line cannot start one, this cannot end one
    if continued and width is not None:
        return True  # a wrapped line in the middle of a sentence that it does not finish
    if width is None:
        return False  # one paragraph a line: a line without a full stop is a heading or an item
    # In wrapped text, an unfinished sentence goes on, unless its line stops well short of
    # the width with a capital after it: a heading or an item of a list. A first line is
    # often short because a dateline stood before it ("SALVADOR, Feb 26 - Showers
    # continued throughout the week in"); only a heading in capitals is not continued.
    if first:
        return bool(LETTERS_RE.search(before.text)) and not before.text.isupper()
    return before.length >= _SHORT_LINE * width


def _sentence_ends(line: str, next_line: str) -> bool:
    """Whether the sentence splitter ends a sentence where `line` ends, reading on into
    `next_line`."""
    if not line.endswith("."):
        return True  # "!", "?", ":" and ";" end what they end
    tail = line[-_CONTEXT:]
    joined = f"{tail} {next_line[:_CONTEXT]}"
    cursor = 0
    for sentence in sentences(joined):
        stripped = sentence.strip()
        start = joined.find(stripped, cursor)
        if start < 0:
            return True
        cursor = start + len(stripped)
        if cursor >= len(tail):
            return cursor == len(tail)
    return True


def _goes_on(line: str) -> bool:
    """A line that leaves its sentence open: it ends in a comma, a word's hyphen ("anti-")
    or a word after which English sentences do not end ("the", "of", "and")."""
    last = line.rsplit(None, 1)[-1].lower() if line.strip() else ""
    return line.endswith(",") or bool(_HYPHENATED.search(line)) or last in FUNCTION_WORDS


def _blocks(units: list[list[_Line]]) -> list[str]:
    """Paragraphs, and the rows of tables and the items of lists gathered a block each. A
    line that stands alone without ending a sentence ("Net 4,258,000 vs 5,942,000", "Pay
    April 15") is a row beside another such line, a row or an item; alone it is a heading."""
    kinds = [_kind(unit) for unit in units]
    out: list[str] = []
    rows: list[str] = []
    for n, unit in enumerate(units):
        neighbours = kinds[max(n - 1, 0) : n] + kinds[n + 1 : n + 2]
        if kinds[n] == "row" or (kinds[n] == "alone" and any(k != "prose" for k in neighbours)):
            # A table row keeps its spacing; an item's wrapped lines are joined.
            rows.append(unit[0].text if unit[0].in_table else _paragraph(unit))
            continue
        if rows:
            out.append("\n".join(rows))
            rows = []
        out.append(_paragraph(unit))
    if rows:
        out.append("\n".join(rows))
    return out


def _kind(unit: list[_Line]) -> str:
    if unit[0].in_table or unit[0].is_item:
        return "row"
    if len(unit) == 1 and not LINE_END_RE.search(unit[0].text):
        return "alone"
    return "prose"


def _paragraph(lines: list[_Line]) -> str:
    """The lines of a paragraph joined by one space (a word hyphenated at the wrap,
    "anti-" + "inflation", keeps its hyphen and takes no space)."""
    text = lines[0].text
    for line in lines[1:]:
        text += ("" if _HYPHENATED.search(text) else " ") + line.text
    return " ".join(text.split())


# --- Page debris --------------------------------------------------------------------

# Whole paragraphs that are page furniture, not reporting.
_DEBRIS = {
    # Ad slots leave their label in saved text.
    "advertisement": re.compile(
        r"^(?:(?:story|article) continues (?:below|after) (?:this )?advertisement|"
        r"advertisement|ad)\.?$",
        re.IGNORECASE,
    ),
    # "Updated at 9:15 a.m.", "Updated Dec. 31, 2019": a page's time stamp, not a sentence.
    "update stamp": re.compile(
        r"^(?:Updated|Last updated|Published|Posted)(?: at| on)?:?\s+"
        r"(?:\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?m\.?|[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}"
        r"|\d{4}-\d{2}-\d{2})"
        r"[\w:.,() /-]{0,30}$",
        re.IGNORECASE,
    ),
    # A call to subscribe is short, opens by asking the reader ("Sign up", "Get ...",
    # "Let our news ...") and speaks of a newsletter or an inbox.
    "newsletter call": re.compile(
        r"^[-\u2022*\s]*(?:sign up|subscribe|get|let|join|don'?t miss|click|want)\b"
        r"(?=.*\b(?:newsletters?|inbox|subscrib\w*|sign up)\b)(?=.*\b(?:you|your|our)\b).{0,120}$",
        re.IGNORECASE,
    ),
}
# A photo caption ends with its credit: the photographer or agency, a slash, the agency
# ("THAIER AL-SUDANI/Reuters", "Khalid Mohammed/The Associated Press"). Prose does not end
# in "Name/Name" without a full stop. A paragraph that is one sentence and the credit is
# the caption; after reporting, only the caption's sentence and the credit are cut.
_PHOTO_CREDIT = re.compile(
    r"(?:^|(?<=[.!?])\s+)(?:[A-Z][\w.'\u2019-]*\s+){0,3}[A-Z][\w.'\u2019-]*"
    r"(?:/[A-Z][\w.'\u2019-]*(?:\s+[A-Z][\w.'\u2019-]*){0,3})+$"
)
# An inline card (a person's hover card, saved with the page's text) runs into the
# sentence: the name, glued to the card's full name ending in that name, then the card's
# headlines up to its "more" link ("Senator ReyesMaria Elena ReyesBudget talks stall
# ... MORE said"). The sentence keeps the name.
_INLINE_CARD = re.compile(
    r"\b(?P<name>[A-Z][a-z]+)(?:[A-Z][\w.'\u2019-]* )+(?P=name)(?=[A-Z])[^\n]{0,600}?"
    r" (?:MORE|Read more|See more)\b\s*"
)
# An embedded tweet's picture link, meaningless once the picture is gone.
_PICTURE_LINK = re.compile(r"\s*\bpic\.twitter\.com/\w+")
# Wire copy ends with the agency's sign-off or an end mark on a line of its own ("Reuter",
# "AP", "(END)", "###"): a short line with one word at most and no figure; now and then a
# second one ("REUTER" over " Reuter").
_SIGN_OFFS = 2
_SIGN_OFF = re.compile(r"^(?=.{1,16}$)[^\w\s]*(?:[^\W\d_]+[^\w\s]*){0,2}$")


@dataclass(frozen=True)
class CleanedPage:
    """The reporting text of a page and the metadata found in its debris."""

    text: str
    title: str | None = None
    published: str | None = None
    site: str | None = None


def clean_text(text: str) -> str:
    """Whole paragraphs of reporting from plain text (hard-wrapped or not), separated by
    blank lines, with page debris taken out; tables and lists keep a line per row."""
    return "\n\n".join(reporting_paragraphs(unwrap(_newlines(text))))


def clean_page(raw: str) -> CleanedPage:
    """A page of the seed folder: its metadata (the leading date marker, a headline line,
    the trailing `source:` line) and its clean text."""
    text = _newlines(raw)
    published = site = title = None
    if match := _DATE_MARKER.match(text):
        published = match.group(1)
        text = text[match.end() :]
    if match := _SOURCE_LINE.search(text):
        site = match.group(1)
        text = text[: match.start()]
    paragraphs = reporting_paragraphs(unwrap(text))
    if len(paragraphs) > 1 and _looks_like_headline(paragraphs[0]):
        title = paragraphs.pop(0)
    return CleanedPage(text="\n\n".join(paragraphs), title=title, published=published, site=site)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def reporting_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """The paragraphs that are reporting: page debris dropped, picture links taken out."""
    kept = []
    for paragraph in paragraphs:
        paragraph = _PICTURE_LINK.sub("", _INLINE_CARD.sub(r"\g<name> ", paragraph)).strip()
        paragraph = _without_caption(paragraph)
        if paragraph and not any(rule.search(paragraph) for rule in _DEBRIS.values()):
            kept.append(paragraph)
    return kept


def _without_caption(paragraph: str) -> str:
    """The paragraph without a photo caption at its end (its last sentence and the credit);
    empty when the caption is all of it."""
    credit = _PHOTO_CREDIT.search(paragraph)
    if credit is None:
        return paragraph
    before = sentences(paragraph[: credit.start()].strip())
    if len(before) <= 1:
        return ""
    return paragraph[: paragraph.rindex(before[-1].strip(), 0, credit.start())].strip()


# A headline is at most this many words.
_HEADLINE_WORDS = 20


def _looks_like_headline(line: str) -> bool:
    # Headlines are short and carry no sentence-final punctuation.
    short = len(line.split()) <= _HEADLINE_WORDS
    return short and not line.endswith((".", "!", "?", '"', "\u201d", ":"))
