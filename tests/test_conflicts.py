"""Grouping agreeing answers and flagging conflicts (search/conflicts.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.claims import Quantity, parse_quantity
from search.conflicts import Claim, ClaimGroup, Comparison, SameOutletRevision, compare_claims
from search.extract import extract_answer
from search.question import analyze_question

NBC_1 = "000_487d20731cd06fa7"
NBC_2 = "001_f41bc6fbf25c952a"
HILL = "002_811ad477ead50ed2"
AGENCIES = "003_ec9ad3d51fc008de"
GLOBE = "004_72b5cb386ec7b792"
OUTLETS = {NBC_1: "NBC News", NBC_2: "NBC News", HILL: "The Hill", AGENCIES: None,
           GLOBE: "The Globe and Mail"}  # fmt: skip


def count(doc_id: str, answer: str) -> Claim:
    return Claim(doc_id, OUTLETS.get(doc_id), answer, parse_quantity(answer), "quantity")


def name(doc_id: str, answer: str, answer_type: str = "person") -> Claim:
    return Claim(doc_id, OUTLETS.get(doc_id), answer, None, answer_type)


def groups(comparison: Comparison) -> list[tuple[str, list[str]]]:
    return [(g.value, g.doc_ids) for g in comparison.groups]


# --- the seed questions --------------------------------------------------------------------


def test_injured_conflict_and_nbc_revision() -> None:
    comparison = compare_claims(
        [
            count(NBC_1, "At least 10 demonstrators"),
            count(NBC_2, "At least 62 demonstrators"),
            count(HILL, "at least 10 protesters"),
        ]
    )
    assert comparison.conflict is True
    assert groups(comparison) == [("10", [NBC_1, HILL]), ("62", [NBC_2])]
    assert comparison.reasons[0] == (
        f"different reported figures: at least 10 ({NBC_1}, {HILL}) vs at least 62 ({NBC_2})"
    )
    assert comparison.same_outlet == [
        SameOutletRevision(
            "NBC News", [NBC_1, NBC_2], ["At least 10 demonstrators", "At least 62 demonstrators"]
        )
    ]
    assert comparison.reasons[1].startswith("same outlet, different answers: NBC News gives")


def test_militia_killed_25_vs_24() -> None:
    comparison = compare_claims(
        [
            count(NBC_1, "At least 25 militia fighters"),
            count(NBC_2, "At least 25 militia fighters"),
            count(HILL, "25 people"),
            count(AGENCIES, "25 fighters"),
            count(GLOBE, "24 members"),
        ]
    )
    assert comparison.conflict is True
    assert groups(comparison) == [("25", [NBC_1, NBC_2, HILL, AGENCIES]), ("24", [GLOBE])]
    assert comparison.reasons == [
        f"different reported figures: at least 25 / 25 ({NBC_1}, {NBC_2}, {HILL}, {AGENCIES})"
        f" vs 24 ({GLOBE})"
    ]
    assert comparison.same_outlet == []  # NBC gives 25 in both versions


@pytest.mark.parametrize("globe_answer", ["24 members", "two dozen fighters"])
def test_two_dozen_is_24(globe_answer: str) -> None:
    comparison = compare_claims([count(HILL, "25 people"), count(GLOBE, globe_answer)])
    assert comparison.conflict is True
    assert groups(comparison)[1] == ("24", [GLOBE])


def test_crowd_size_hundreds_conflict_with_thousands() -> None:
    comparison = compare_claims(
        [
            count(NBC_2, "roughly 6,000 protesters"),
            count(HILL, "Thousands of demonstrators"),
            count(AGENCIES, "Hundreds of angry demonstrators"),
            count(GLOBE, "thousands of protesters"),
        ]
    )
    assert comparison.conflict is True
    assert groups(comparison) == [
        ("roughly 6,000 / thousands", [NBC_2, HILL, GLOBE]),
        ("hundreds", [AGENCIES]),
    ]
    assert comparison.reasons == [
        f"roughly 6,000 / thousands ({NBC_2}, {HILL}, {GLOBE}) vs hundreds ({AGENCIES})"
        " cannot both be true"
    ]


def test_press_secretary_single_answer() -> None:
    comparison = compare_claims([name(NBC_2, "Stephanie Grisham")])
    assert comparison == Comparison(False, [ClaimGroup("Stephanie Grisham", [NBC_2])], [], [])


# --- quantity rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("10 demonstrators", "10 protesters"),
        ("25 fighters", "25 people"),
        ("25 militia fighters", "at least 25 people"),
        ("two dozen fighters", "24 members"),
        ("roughly 6,000 protesters", "thousands of demonstrators"),
        ("about 5,000 troops", "some 5,000 troops"),
        ("about 100", "110"),
        ("nearly 100", "90"),
        ("dozens of people", "at least 62 people"),
        ("between 10 and 20 people", "15 people"),
        ("several", "five"),
    ],
)
def test_quantities_that_agree(a: str, b: str) -> None:
    comparison = compare_claims([count(HILL, a), count(GLOBE, b)])
    assert comparison.conflict is False, comparison.reasons
    assert len(comparison.groups) == 1


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("25 people", "24 people", "different reported figures: 25"),
        ("at least 10", "at least 62", "different reported figures: at least 10"),
        ("hundreds of people", "thousands of people", "cannot both be true"),
        ("dozens of people", "thousands of people", "cannot both be true"),
        ("roughly 6,000 protesters", "hundreds of protesters", "cannot both be true"),
        ("about 100", "200", "different reported figures"),
        ("more than 100", "100", "different reported figures"),
    ],
)
def test_quantities_that_conflict(a: str, b: str, reason: str) -> None:
    comparison = compare_claims([count(HILL, a), count(GLOBE, b)])
    assert comparison.conflict is True
    assert reason in comparison.reasons[0]
    assert HILL in comparison.reasons[0] and GLOBE in comparison.reasons[0]


def test_clustering_is_complete_linkage_from_the_best_supported_answer() -> None:
    # "dozens" agrees with both "at least 10" and "at least 62", which disagree with
    # each other: it joins the better supported figure, and no group mixes 10 and 62.
    comparison = compare_claims(
        [
            count(NBC_1, "at least 10 demonstrators"),
            count(NBC_2, "at least 62 demonstrators"),
            count(HILL, "at least 10 protesters"),
            count(GLOBE, "dozens of others"),
        ]
    )
    assert groups(comparison) == [
        ("at least 10 / dozens", [NBC_1, HILL, GLOBE]),
        ("62", [NBC_2]),
    ]


def test_no_claims_and_single_claim_never_conflict() -> None:
    assert compare_claims([]) == Comparison(False, [], [], [])
    single = compare_claims([count(HILL, "at least 10 protesters")])
    assert single.conflict is False
    assert groups(single) == [("10", [HILL])]


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kataeb Hezbollah", "Kataib Hezbollah"),
        ("Kataib Hezbollah", "Kataib Hizbollah"),
        ("al-Yasseri", "al-Yasiri"),
        ("Yassine al-Yasseri", "Yassin al-Yasiri"),
        ("Iran-backed", "Iranian-backed"),
        ("Iran", "Iran-backed"),
        ("Grisham", "Stephanie Grisham"),
        ("Adel Abdul-Mahdi", "Adil Abdul-Mahdi"),
    ],
)
def test_spelling_variants_agree(a: str, b: str) -> None:
    comparison = compare_claims([name(HILL, a), name(GLOBE, b)])
    assert comparison.conflict is False
    assert groups(comparison) == [(f"{a} / {b}", [HILL, GLOBE])]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Iran-backed", "Iraq-backed"),
        ("Stephanie Grisham", "Stephanie Graham"),
        ("Eli Cohen", "Ali Cohen"),
        ("Kataeb Hezbollah", "Popular Mobilization Forces"),
        ("out of the country", "in Baghdad"),
    ],
)
def test_different_names_conflict(a: str, b: str) -> None:
    comparison = compare_claims([name(HILL, a), name(GLOBE, b)])
    assert comparison.conflict is True
    assert comparison.reasons == [f"different answers: {a} ({HILL}) vs {b} ({GLOBE})"]


def test_backer_answers_from_all_seeds_agree() -> None:
    comparison = compare_claims(
        [
            name(NBC_1, "Iran-backed", "place"),
            name(NBC_2, "Iran-backed", "place"),
            name(HILL, "Iranian-backed", "place"),
            name(AGENCIES, "Iranian-backed", "place"),
            name(GLOBE, "Iranian-backed", "place"),
        ]
    )
    assert comparison.conflict is False
    assert groups(comparison) == [
        ("Iranian-backed / Iran-backed", [NBC_1, NBC_2, HILL, AGENCIES, GLOBE])
    ]


def test_same_outlet_needs_a_known_outlet() -> None:
    unknown = [
        Claim("a", None, "Graham", None, "person"),
        Claim("b", None, "Grisham", None, "person"),
    ]
    assert compare_claims(unknown).same_outlet == []
    known = [Claim("a", "NBC News", "Graham", None, "person"),
             Claim("b", " nbc news ", "Grisham", None, "person")]  # fmt: skip
    [revision] = compare_claims(known).same_outlet
    assert (revision.source, revision.doc_ids) == ("NBC News", ["a", "b"])


def test_free_text_answers_are_not_compared() -> None:
    claims = [
        name(HILL, "They will be held fully responsible.", "other"),
        name(GLOBE, "Trump blamed Iran.", "other"),
    ]
    assert compare_claims(claims) == Comparison(False, [], [], [])


# --- properties ----------------------------------------------------------------------------

_ANSWERS = st.sampled_from(
    ["at least 10 demonstrators", "at least 62 demonstrators", "10 protesters", "25 people",
     "24 members", "two dozen fighters", "dozens of others", "hundreds of people",
     "thousands of protesters", "roughly 6,000 protesters", "about 100", "nearly 100",
     "more than 100", "up to 20", "between 10 and 20", "many", "several"]
)  # fmt: skip


@given(st.lists(_ANSWERS, max_size=8))
def test_groups_partition_the_documents_and_flag_conflicts(answers: list[str]) -> None:
    claims = [count(f"doc{i}", a) for i, a in enumerate(answers)]
    comparison = compare_claims(claims)
    grouped = [d for g in comparison.groups for d in g.doc_ids]
    assert sorted(grouped) == sorted(c.doc_id for c in claims)
    assert comparison.conflict == (len(comparison.groups) > 1)
    assert len(comparison.reasons) == max(0, len(comparison.groups) - 1)
    sizes = [len(g.doc_ids) for g in comparison.groups]
    assert sizes == sorted(sizes, reverse=True)


@given(st.lists(_ANSWERS, min_size=1, max_size=8))
def test_every_group_is_internally_consistent(answers: list[str]) -> None:
    claims = {f"doc{i}": count(f"doc{i}", a) for i, a in enumerate(answers)}
    for group in compare_claims(list(claims.values())).groups:
        members = [claims[d] for d in group.doc_ids]
        for a in members:
            for b in members:
                assert compare_claims([a, b]).conflict is False, (a.answer, b.answer)


# --- the whole pure pipeline on seed sentences -------------------------------------------


def test_pipeline_from_sentences_to_conflict() -> None:
    sentences = {
        NBC_1: "At least 10 demonstrators were injured by live bullets and tear gas, according "
        "to the Popular Mobilization Forces.",
        NBC_2: "At least 62 demonstrators were injured by live bullets and tear gas, according "
        "to the Popular Mobilization Forces.",
        HILL: "Live bullets and tear gas injured at least 10 protesters, according to the "
        "Popular Mobilization Forces, a group for the militias recognized in Iraq, NBC News "
        "reported.",
    }
    analysis = analyze_question("How many were injured?")
    claims = []
    for doc_id, sentence in sentences.items():
        extraction = extract_answer(analysis, sentence)
        assert extraction is not None
        claims.append(Claim(doc_id, OUTLETS[doc_id], extraction.text, extraction.value, "quantity"))
    comparison = compare_claims(claims)
    assert comparison.conflict is True
    assert groups(comparison) == [("10", [NBC_1, HILL]), ("62", [NBC_2])]
    assert [r.doc_ids for r in comparison.same_outlet] == [[NBC_1, NBC_2]]
    assert claims[1].value == Quantity(62, None, "at least", "demonstrators")
