"""Number parsing and count-phrase finding (search/claims.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.claims import Quantity, find_quantities, parse_quantity


@pytest.mark.parametrize(
    ("phrase", "low", "high", "qualifier", "unit"),
    [
        ("25", 25, 25, "exact", None),
        ("6,000", 6000, 6000, "exact", None),
        ("1.5 million", 1_500_000, 1_500_000, "exact", None),
        ("five", 5, 5, "exact", None),
        ("twenty-four", 24, 24, "exact", None),
        ("one hundred and five", 105, 105, "exact", None),
        ("a dozen", 12, 12, "exact", None),
        ("two dozen fighters", 24, 24, "exact", "fighters"),
        ("half a dozen", 6, 6, "exact", None),
        ("a hundred people", 100, 100, "exact", "people"),
        ("at least 62 demonstrators", 62, None, "at least", "demonstrators"),
        ("At least 25 militia fighters", 25, None, "at least", "fighters"),
        ("roughly 6,000 protesters", 6000, 6000, "about", "protesters"),
        ("about 5,000 troops", 5000, 5000, "about", "troops"),
        ("around 300", 300, 300, "about", None),
        ("approximately 40", 40, 40, "about", None),
        ("some 5,000 troops", 5000, 5000, "about", "troops"),
        ("more than 100", 100, None, "more than", None),
        ("over 200 people", 200, None, "more than", "people"),
        ("up to 20", 0, 20, "up to", None),
        ("as many as 30 people", 0, 30, "up to", "people"),
        ("nearly 100", 100, 100, "nearly", None),
        ("almost 50 people", 50, 50, "nearly", "people"),
        ("fewer than 10 people", 0, 10, "less than", "people"),
        ("exactly 7", 7, 7, "exact", None),
        ("dozens", 24, 99, None, None),
        ("dozens of others", 24, 99, None, "others"),
        ("Hundreds of people", 200, 999, None, "people"),
        ("Hundreds of angry demonstrators", 200, 999, None, "demonstrators"),
        ("Thousands of demonstrators", 2000, 9999, None, "demonstrators"),
        ("tens of thousands", 20_000, 99_999, None, None),
        ("hundreds of thousands of people", 200_000, 999_999, None, "people"),
        ("scores of people", 40, 199, None, "people"),
        ("several", 3, 9, None, None),
        ("a few", 2, 5, None, None),
        ("a couple of soldiers", 2, 3, None, "soldiers"),
        ("a few hundred feet", 200, 500, None, "feet"),
        ("several hundred", 300, 900, None, None),
        ("many", 2, None, None, None),
        ("at least dozens", 24, None, "at least", None),
        ("between 10 and 20", 10, 20, None, None),
        ("10 to 20 people", 10, 20, None, "people"),
        ("10-20", 10, 20, None, None),
        ("from two to three", 2, 3, None, None),
        ("2 to 3 million", 2_000_000, 3_000_000, None, None),
        ("40%", 40, 40, "exact", "percent"),
        ("40 percent of voters", 40, 40, "exact", "percent"),
        ("$5 million", 5_000_000, 5_000_000, "exact", "dollars"),
        ("killed 25 people", 25, 25, "exact", "people"),
        ("four other American service members", 4, 4, "exact", "members"),
        ("three U.S. soldiers", 3, 3, "exact", "soldiers"),
    ],
)
def test_parse_quantity(
    phrase: str, low: float, high: float | None, qualifier: str | None, unit: str | None
) -> None:
    assert parse_quantity(phrase) == Quantity(low, high, qualifier, unit)


@pytest.mark.parametrize(
    "phrase",
    ["", "no numbers here", "December 31, 2019", "Dec. 31", "9:15 a.m.", "the 31st", "no one"],
)
def test_parse_quantity_returns_none_without_a_count(phrase: str) -> None:
    assert parse_quantity(phrase) is None


def test_as_dict_is_json_ready_with_whole_numbers_as_ints() -> None:
    value = parse_quantity("at least 62 demonstrators")
    assert value is not None
    assert value.as_dict() == {
        "low": 62,
        "high": None,
        "qualifier": "at least",
        "unit": "demonstrators",
    }
    assert json.dumps(value.as_dict()) == (
        '{"low": 62, "high": null, "qualifier": "at least", "unit": "demonstrators"}'
    )
    assert parse_quantity("1.5 million").as_dict()["low"] == 1_500_000  # type: ignore[union-attr]
    assert parse_quantity("12.5").as_dict()["low"] == 12.5  # type: ignore[union-attr]


# --- find_quantities on seed sentences ---------------------------------------------------


def _texts(sentence: str) -> list[str]:
    return [m.text for m in find_quantities(sentence)]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "At least 10 demonstrators were injured by live bullets and tear gas, according "
            "to the Popular Mobilization Forces, an umbrella group for the militias "
            "recognized by the Iraqi government.",
            ["At least 10 demonstrators"],
        ),
        (
            "There were roughly 6,000 protesters at the height of the demonstrations, a U.S. "
            "official estimated, composed mostly of Kataib Hezbollah members.",
            ["roughly 6,000 protesters"],
        ),
        (
            "But the size of the U.S. response — five strikes in Iraq and Syria that killed "
            "two dozen fighters and wounded dozens of others — prompted condemnation from "
            "across the political spectrum and accusations that the United States had "
            "violated Iraqi sovereignty.",
            ["five strikes", "two dozen fighters", "dozens of others"],
        ),
        (
            "Thousands of demonstrators and supporters of the militia protested outside "
            "while chanting “Death to America” to express anger over the attacks.",
            ["Thousands of demonstrators"],
        ),
        (
            "Hundreds of people turned to the embassy after American airstrikes killed 25 "
            "fighters from an Iranian-backed Shiite militia.",
            ["Hundreds of people", "25 fighters"],
        ),
        (
            "Protesters broke into the heavily guarded compound of the United States Embassy "
            "in Baghdad on Tuesday and lit fires inside to express their anger over U.S. "
            "airstrikes that killed 24 members of an Iranian-backed militia over the weekend.",
            ["24 members"],
        ),
        (
            "The U.S. says Kataib Hezbollah is responsible for 11 attacks on U.S.-led "
            "coalition bases in the past two months, most recently one on Friday that killed "
            "a U.S. contractor and injured four U.S. military members.",
            ["11 attacks", "two months", "four U.S. military members"],
        ),
        (
            "The U.S. has some 5,000 troops in Iraq train and assist government troops in "
            "the fight against the Islamic State militant group.",
            ["some 5,000 troops"],
        ),
        (
            "They at first stopped in a corridor a few hundred feet away from the building, "
            "while U.S. soldiers on top pointed their firearms at the protesters.",
            ["a few hundred feet"],
        ),
    ],
)
def test_find_quantities_on_seed_sentences(sentence: str, expected: list[str]) -> None:
    assert _texts(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "CORRECTION (Dec. 31, 2019, 10:31 a.m.): An earlier version of this article "
        "misidentified the White House press secretary.",
        "Burning the outer fence of the US embassy pic.twitter.com/wAeLjjQMy4 — mustafa "
        "saadoon (@SaadoonMustafa) December 31, 2019",
        "Updated at 9:15 a.m.",
        "date 2019-12-31 The attack was described by the AP as one of the worst embassy "
        "attacks in recent history.",
        "The protests of 2019 began on the 31st.",
        "A 25-year-old man and a three-day siege.",
        "No one was hurt, and the one guard left.",
        "How many were injured?",
        "The COVID-19 rules changed.",
    ],
)
def test_find_quantities_skips_years_dates_times_ordinals_and_pronouns(sentence: str) -> None:
    assert _texts(sentence) == []


def test_find_quantities_keeps_one_when_it_counts_something() -> None:
    assert _texts("Police said one soldier was hurt.") == ["one soldier"]
    assert _texts("Only one soldier was hurt.") == ["Only one soldier"]


def test_mentions_carry_offsets_figure_and_value() -> None:
    sentence = "Live bullets and tear gas injured at least 10 protesters, officials said."
    [mention] = find_quantities(sentence)
    assert sentence[mention.start : mention.end] == mention.text == "at least 10 protesters"
    assert mention.figure == "at least 10"
    assert mention.value == Quantity(10, None, "at least", "protesters")


# --- properties --------------------------------------------------------------------------

_ONES = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def _spell(n: int, *, hyphen: bool, with_and: bool) -> str:
    """English words for 1 <= n <= 999, e.g. 'three hundred and forty-two'."""
    parts = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        parts.append(f"{_ONES[hundreds - 1]} hundred")
    if rest:
        if hundreds and with_and:
            parts.append("and")
        if rest < 10:
            parts.append(_ONES[rest - 1])
        elif rest < 20:
            parts.append(_TEENS[rest - 10])
        else:
            tens, ones = divmod(rest, 10)
            word = _TENS[tens - 2]
            if ones:
                word += ("-" if hyphen else " ") + _ONES[ones - 1]
            parts.append(word)
    return " ".join(parts)


@given(st.integers(min_value=0, max_value=10**12), st.booleans())
def test_digits_parse_to_their_value(n: int, commas: bool) -> None:
    written = f"{n:,}" if commas else str(n)
    value = parse_quantity(written)
    assert value is not None
    assert (value.low, value.high, value.qualifier) == (n, n, "exact")


@given(st.integers(min_value=0, max_value=10**9))
def test_at_least_is_open_upward(n: int) -> None:
    value = parse_quantity(f"at least {n:,} people")
    assert value == Quantity(n, None, "at least", "people")


@given(st.integers(min_value=1, max_value=999), st.booleans(), st.booleans(), st.booleans())
def test_number_words_round_trip(n: int, hyphen: bool, with_and: bool, capital: bool) -> None:
    words = _spell(n, hyphen=hyphen, with_and=with_and)
    if capital:
        words = words.capitalize()
    value = parse_quantity(words)
    assert value is not None, words
    assert value.low == value.high == n, words


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_ranges_are_ordered(a: int, b: int) -> None:
    value = parse_quantity(f"between {a:,} and {b:,}")
    assert value is not None
    assert (value.low, value.high) == (min(a, b), max(a, b))


@given(st.text())
def test_parse_never_raises_and_ranges_are_sane(text: str) -> None:
    value = parse_quantity(text)
    if value is not None:
        assert value.low >= 0
        assert value.high is None or value.high >= value.low


_PHRASES = st.sampled_from(
    ["at least 62 demonstrators", "roughly 6,000 protesters", "two dozen fighters", "2019",
     "Dec. 31", "dozens of others", "one of the", "9:15 a.m.", "hundreds", "twenty-four",
     "many", "$5 million", "10-20", "“", '"', "—", "’s"]
)  # fmt: skip


@given(st.lists(st.one_of(_PHRASES, st.text(max_size=8)), max_size=12))
def test_mentions_are_exact_ordered_and_disjoint(pieces: list[str]) -> None:
    sentence = " ".join(pieces)
    mentions = find_quantities(sentence)
    previous_end = 0
    for m in mentions:
        assert sentence[m.start : m.end] == m.text
        assert m.text.startswith(m.figure)
        assert m.start >= previous_end
        previous_end = m.end
