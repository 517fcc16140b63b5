"""Plain text as archives deliver it: hard wraps joined, paragraph breaks kept, tables
and lists line by line (index/clean.py). Fast: small texts written here, and a property
over texts wrapped at any width."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from index.clean import clean_text

# Wire copy as Reuters-21578 holds it: the dateline cut from the first line (so it is
# short), paragraphs opened by an indented line, a sign-off on a line of its own.
WIRE = (
    "Showers continued throughout the week in\n"
    "the Bahia cocoa zone, alleviating the drought since early\n"
    "January and improving prospects for the coming temporao,\n"
    "although normal humidity levels have not been restored,\n"
    "Comissaria Smith said in its weekly review.\n"
    "    The dry period means the temporao will be late this year.\n"
    "    Arrivals for the week ended February 22 were 155,221 bags\n"
    "of 60 kilos making a cumulative total for the season of 5.93\n"
    "mln against 5.81 at the same stage last year.\n"
    " Reuter\n"
)


def test_wire_copy_comes_out_in_whole_paragraphs_without_its_sign_off() -> None:
    assert clean_text(WIRE).split("\n\n") == [
        "Showers continued throughout the week in the Bahia cocoa zone, alleviating the "
        "drought since early January and improving prospects for the coming temporao, "
        "although normal humidity levels have not been restored, Comissaria Smith said in "
        "its weekly review.",
        "The dry period means the temporao will be late this year.",
        "Arrivals for the week ended February 22 were 155,221 bags of 60 kilos making a "
        "cumulative total for the season of 5.93 mln against 5.81 at the same stage last year.",
    ]


def test_a_full_stop_of_an_abbreviation_at_a_wrap_does_not_end_the_paragraph() -> None:
    text = (
        "President Reagan is going to the U.S.\n"
        "Capitol to personally urge senators to support his veto of an\n"
        "88 billion dlr highway and mass transit funding bill,\n"
        "Republican leader Robert Dole of Kansas said.\n"
        "    Reagan will meet with senators at 1115 est, Dole told the\n"
        "senate.\n"
    )
    assert (
        clean_text(text)
        .split("\n\n")[0]
        .startswith("President Reagan is going to the U.S. Capitol to personally urge")
    )
    assert clean_text(text).split("\n\n")[1] == (
        "Reagan will meet with senators at 1115 est, Dole told the senate."
    )


def test_a_table_keeps_its_lines_and_the_sentence_that_introduces_it_is_joined() -> None:
    text = (
        "The U.S. Agriculture Department reported the farmer-owned\n"
        "reserve national five-day average price through February 25 as\n"
        "follows (Dlrs/Bu-Sorghum Cwt) -\n"
        "         Natl   Loan           Release   Call\n"
        "         Avge   Rate-X  Level    Price  Price\n"
        " Wheat   2.55   2.40       IV     4.65     --\n"
        " Corn    1.35   1.92       IV     3.15   3.15\n"
        "    Reserves I, II and III have matured. Level IV reflects\n"
        "grain entered after Oct 6, 1981 for feedgrain.\n"
    )
    intro, table, after = clean_text(text).split("\n\n")
    assert intro == (
        "The U.S. Agriculture Department reported the farmer-owned reserve national five-day "
        "average price through February 25 as follows (Dlrs/Bu-Sorghum Cwt) -"
    )
    assert table.split("\n") == [
        "Natl   Loan           Release   Call",
        "Avge   Rate-X  Level    Price  Price",
        "Wheat   2.55   2.40       IV     4.65     --",
        "Corn    1.35   1.92       IV     3.15   3.15",
    ]
    assert after == (
        "Reserves I, II and III have matured. Level IV reflects grain entered after Oct 6, "
        "1981 for feedgrain."
    )


def test_short_rows_of_an_earnings_report_stay_one_a_line() -> None:
    text = (
        "Shr 47 cts vs 40 cts\n"
        "    Net 4,258,000 vs 5,942,000\n"
        "    Revs 92.6 mln vs 77.1 mln\n"
        "    Year\n"
        "    Shr 1.22 dlrs vs 1.34 dlrs\n"
        "    NOTE: Interest expense 4,384,000 dlrs vs 545,000 dlrs in\n"
        "quarter and 6,979,000 dlrs vs 2,425,000 dlrs in year.\n"
        " Reuter\n"
    )
    rows, note = clean_text(text).split("\n\n")
    assert rows.split("\n") == [
        "Shr 47 cts vs 40 cts",
        "Net 4,258,000 vs 5,942,000",
        "Revs 92.6 mln vs 77.1 mln",
        "Year",
        "Shr 1.22 dlrs vs 1.34 dlrs",
    ]
    assert note == (
        "NOTE: Interest expense 4,384,000 dlrs vs 545,000 dlrs in quarter and 6,979,000 dlrs "
        "vs 2,425,000 dlrs in year."
    )


def test_list_items_are_one_a_line_with_their_wrapped_words_joined() -> None:
    text = (
        "The study said the pact should include the following points,\n"
        "which the two governments have discussed for several months:\n"
        "    - Elimination of tariffs between the two countries, phased\n"
        "in over a five to 10-year period;\n"
        "    - Fewer restrictions in trade in services, chiefly finance\n"
        "and transportation;\n"
        "    - A commission to resolve bilateral trade disputes.\n"
    )
    intro, items = clean_text(text).split("\n\n")
    assert intro.endswith("discussed for several months:")
    assert items.split("\n") == [
        "- Elimination of tariffs between the two countries, phased in over a five to "
        "10-year period;",
        "- Fewer restrictions in trade in services, chiefly finance and transportation;",
        "- A commission to resolve bilateral trade disputes.",
    ]


def test_a_dash_a_wrap_put_first_on_a_line_is_not_a_list_item() -> None:
    text = (
        "Bankers said new issues of the type that had done well last\n"
        "year - with warrants or a mix of fixed and floating rates\n"
        "- which were neglected in January are finding buyers again.\n"
    )
    assert "\n" not in clean_text(text)


def test_a_word_hyphenated_at_the_wrap_keeps_its_hyphen_and_no_space() -> None:
    text = (
        "The measures are part of a broad anti-\n"
        "inflation package the government announced on Tuesday after\n"
        "weeks of talks with the unions and employers' groups.\n"
    )
    assert "broad anti-inflation package" in clean_text(text)


def test_text_with_a_paragraph_a_line_keeps_every_line_apart() -> None:
    text = (
        "Protesters stormed the embassy compound on Tuesday, setting fire to a reception "
        "area and smashing security cameras, witnesses said.\n"
        "Guards used tear gas.\n"
        "At least 62 demonstrators were injured by live bullets and tear gas, according to a "
        "group of militias recognised by the government.\n"
    )
    assert clean_text(text) == text.strip().replace("\n", "\n\n")


def test_a_sign_off_is_dropped_but_a_last_word_that_ends_the_sentence_is_not() -> None:
    text = (
        "Morocco is the last stop of a tour that has taken the secretary\n"
        "to Iraq, Kuwait, Qatar, Bahrain, Saudi Arabia and\n"
        "Egypt.\n"
    )
    assert clean_text(text).endswith("Saudi Arabia and Egypt.")
    assert clean_text("The talks ended.\n\nThird.") == "The talks ended.\n\nThird."


def test_a_heading_in_capitals_is_not_run_into_the_text() -> None:
    text = (
        "LORD ABBETT VALUE APPRECIATION FUND\n"
        "The fund said its directors declared an annual dividend of 33\n"
        "cts a share, against 23 cts a share a year earlier, payable on\n"
        "April 6 to holders of record March 12.\n"
    )
    heading, body = clean_text(text).split("\n\n")
    assert heading == "LORD ABBETT VALUE APPRECIATION FUND"
    assert body.startswith("The fund said its directors declared")


# Words in about the mix of English prose, where nearly half are function words.
FUNCTION = "the of and a to in that for on with was".split()
CONTENT = (
    "said officials company government people protesters police week prices market rose "
    "fell billion percent reported".split()
)
WORDS = st.sampled_from(CONTENT + FUNCTION)
# A sentence ends in a word that can end one, after "the": prose is never without one.
LAST_WORDS = st.sampled_from("officials company government people week prices market".split())
SENTENCE = st.tuples(st.lists(WORDS, min_size=4, max_size=30), LAST_WORDS).map(
    lambda parts: " ".join([*parts[0], "the", parts[1]]).capitalize() + "."
)
PARAGRAPHS = st.lists(
    st.lists(SENTENCE, min_size=1, max_size=5).map(" ".join), min_size=1, max_size=6
)


@settings(max_examples=150, deadline=None)
@given(paragraphs=PARAGRAPHS, width=st.integers(40, 80), style=st.sampled_from(["blank", "indent"]))
def test_paragraphs_wrapped_at_any_width_come_back_whole(
    paragraphs: list[str], width: int, style: str
) -> None:
    if style == "blank":
        text = "\n\n".join(textwrap.fill(p, width) for p in paragraphs)
    else:
        text = "\n".join(textwrap.fill(p, width, initial_indent="    ") for p in paragraphs)
    assert clean_text(text).split("\n\n") == paragraphs


@settings(max_examples=150, deadline=None)
@given(paragraphs=PARAGRAPHS, width=st.integers(40, 80))
def test_wrapped_text_without_paragraph_marks_never_ends_a_paragraph_mid_sentence(
    paragraphs: list[str], width: int
) -> None:
    text = "\n".join(textwrap.fill(p, width) for p in paragraphs)
    stored = clean_text(text).split("\n\n")
    assert " ".join(stored) == " ".join(paragraphs)
    assert all(p.endswith(".") for p in stored)


@settings(max_examples=100, deadline=None)
@given(paragraphs=PARAGRAPHS, width=st.integers(40, 80))
def test_stored_prose_reads_back_as_itself(paragraphs: list[str], width: int) -> None:
    # A client that posts a document's stored text again changes nothing.
    once = clean_text("\n".join(textwrap.fill(p, width, initial_indent="  ") for p in paragraphs))
    assert clean_text(once) == once


def test_the_seed_pages_read_back_as_themselves() -> None:
    from helpers import SEEDS
    from index.clean import clean_page

    for page in SEEDS.glob("*.txt"):
        text = clean_page(page.read_text(encoding="utf-8")).text
        assert clean_text(text) == text
