"""Question analysis (search/question.py)."""

from __future__ import annotations

import pytest

from search.question import PERSON_NOUN, QuestionAnalysis, analyze_question, is_person_noun


def test_injured_question_is_a_count_of_injured() -> None:
    analysis = analyze_question("How many were injured?")
    assert analysis == QuestionAnalysis(
        text="How many were injured?",
        answer_type="quantity",
        target="injured",
        target_terms=("injur", "wound", "hurt", "hospitali"),
        keywords=(),
        stems=frozenset({"injur"}),
    )


def test_killed_question_keeps_the_other_words_as_keywords() -> None:
    analysis = analyze_question("How many militia fighters were killed in the airstrikes?")
    assert (analysis.answer_type, analysis.target) == ("quantity", "killed")
    assert {"kill", "dead", "death", "die"} <= set(analysis.target_terms)
    assert analysis.keywords == ("militia", "fighters", "airstrikes")


def test_crowd_question_targets_the_counted_noun_and_its_synonyms() -> None:
    analysis = analyze_question("How many protesters were there?")
    assert (analysis.answer_type, analysis.target) == ("quantity", "protesters")
    assert analysis.target_terms[0] == "protester"  # the asked word is the strongest signal
    # Any other noun for people counts them too, without a list of this story's words.
    assert "people" in analysis.target_terms and PERSON_NOUN in analysis.target_terms
    assert is_person_noun("demonstrators") and is_person_noun("mourners")
    assert not is_person_noun("airstrikes")
    assert analysis.keywords == ()


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("How many people died?", "killed"),
        ("What was the death toll?", "killed"),
        ("How many were wounded in the attack?", "injured"),
        ("How many demonstrators gathered outside?", "demonstrators"),
        ("How many U.S. troops are in Iraq?", "troops"),
    ],
)
def test_other_count_questions(question: str, target: str) -> None:
    analysis = analyze_question(question)
    assert (analysis.answer_type, analysis.target) == ("quantity", target)


def test_role_question_is_a_person_with_the_role_as_target() -> None:
    analysis = analyze_question("Who is the White House press secretary?")
    assert analysis.answer_type == "person"
    assert analysis.target == "white house press secretary"
    # The head noun first, then its modifiers from nearest to farthest.
    assert analysis.target_terms == ("secretary", "press", "house", "white")


def test_who_did_question_is_a_person_without_a_role() -> None:
    analysis = analyze_question("Who accused Iran of orchestrating the attack?")
    assert (analysis.answer_type, analysis.target) == ("person", None)
    assert analysis.keywords == ("accused", "iran", "orchestrating", "attack")


def test_who_is_a_named_person_asks_for_a_description() -> None:
    assert analyze_question("Who is Stephanie Grisham?").answer_type == "other"
    assert analyze_question("Who is Theresa May?").answer_type == "other"
    assert analyze_question("Who is Iraq's interior minister?").answer_type == "person"


def test_which_country_is_a_place_question() -> None:
    analysis = analyze_question("Which country backs the militia?")
    assert (analysis.answer_type, analysis.target) == ("place", "country")
    assert analysis.keywords == ("backs", "militia")


def test_where_question_targets_its_subject() -> None:
    analysis = analyze_question("Where was the U.S. ambassador during the protests?")
    assert analysis.answer_type == "place"
    assert analysis.target == "u.s. ambassador"
    assert analysis.target_terms == ("ambassador", "u.s.")
    assert analysis.keywords == ("protests",)


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("Where did the protesters set up tents?", "protesters"),
        ("Where is Kataib Hezbollah based?", "kataib hezbollah"),
        ("Where did Trump go?", "trump"),
    ],
)
def test_where_subject_stops_before_the_verb(question: str, target: str) -> None:
    assert analyze_question(question).target == target


@pytest.mark.parametrize(
    "question",
    [
        "When did the protesters storm the embassy?",
        "What time was the article updated?",
        "On what day did the airstrikes happen?",
    ],
)
def test_date_questions(question: str) -> None:
    assert analyze_question(question).answer_type == "date"


def test_which_group_is_an_organization() -> None:
    analysis = analyze_question("Which group does the U.S. blame for the attacks?")
    assert (analysis.answer_type, analysis.target) == ("organization", "group")
    assert analysis.keywords == ("u.s.", "blame", "attacks")
    # "does the U.S. blame": the question asks for the one blamed.
    assert (analysis.verb, analysis.passive) == ("blame", True)


@pytest.mark.parametrize(
    "question",
    [
        "What did Trump tweet about Iran?",
        "What did the Iraqi prime minister say?",
        "What happened to the trailers used by embassy security guards?",
    ],
)
def test_open_questions_are_other(question: str) -> None:
    analysis = analyze_question(question)
    assert (analysis.answer_type, analysis.target, analysis.target_terms) == ("other", None, ())


def test_trump_tweet_keywords() -> None:
    assert analyze_question("What did Trump tweet about Iran?").keywords == (
        "trump",
        "tweet",
        "iran",
    )


def test_empty_question_is_other() -> None:
    assert analyze_question("") == QuestionAnalysis("", "other", None, (), ())
