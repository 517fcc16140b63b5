"""Short-answer extraction from one sentence (search/extract.py).

Sentences are copied verbatim from seeds/ (curly quotes and all).
"""

from __future__ import annotations

import pytest

from search.claims import Quantity
from search.extract import MIN_SCORE, Extraction, extract_answer
from search.question import analyze_question

INJURED = analyze_question("How many were injured?")
KILLED = analyze_question("How many militia fighters were killed in the airstrikes?")
CROWD = analyze_question("How many protesters were there?")

# 000 (NBC News, first version)
NBC_INJURED_10 = (
    "At least 10 demonstrators were injured by live bullets and tear gas, according to the "
    "Popular Mobilization Forces, an umbrella group for the militias recognized by the Iraqi "
    "government."
)
NBC_KILLED_25 = (
    "At least 25 militia fighters were killed in the airstrikes, and on Tuesday a large crowd "
    "of supporters gathered after funerals for some of the dead and marched on the U.S. "
    "Embassy in Baghdad’s heavily fortified Green Zone."
)
NBC_ROCKET = (
    "The latest of these came on Friday, when a rocket attack killed a U.S. contractor and "
    "injured four other American service members."
)
NBC_TROOPS = (
    "The U.S. has some 5,000 troops in Iraq train and assist government troops in the fight "
    "against the Islamic State militant group."
)
NBC_ROOF = (
    "An AP reporter at the scene saw flames rising from inside the compound and at least "
    "three U.S. soldiers on the roof of the main building inside embassy."
)
NBC_STORMED = (
    "Dozens of people stormed the compound of the United States embassy in Iraq on Tuesday in "
    "response to American airstrikes that killed dozens of fighters from an Iran-backed "
    "militia group."
)
NBC_GROUP_CALLED = (
    "American fighter jets on Sunday bombed weapons depots in Iraq and Syria that the U.S. "
    "said were linked with a group called Kataeb Hezbollah, which it blames for attacks on "
    "coalition bases in recent months."
)
# 001 (NBC News, updated version)
NBC_INJURED_62 = (
    "At least 62 demonstrators were injured by live bullets and tear gas, according to the "
    "Popular Mobilization Forces, an umbrella group for the militias recognized by the Iraqi "
    "government."
)
NBC_CROWD = (
    "There were roughly 6,000 protesters at the height of the demonstrations, a U.S. official "
    "estimated, composed mostly of Kataib Hezbollah members."
)
NBC_GRISHAM = (
    'His press secretary, Stephanie Grisham, said the president will choose "how and when we '
    'respond to their escalation."'
)
NBC_POMPEO = (
    "Secretary of State Mike Pompeo spoke to Iraqi Prime Minister Adil Abdul-Mahdi and "
    'President Barham Salih separately by phone on Tuesday and told them "the United States '
    "will protect and defend its people, who are there to support a sovereign and independent "
    'Iraq," according to a State Department statement.'
)
NBC_AMBASSADOR = (
    "Matthew Tueller, the U.S. ambassador to Iraq, was out of the country during the protests, "
    "two U.S. officials with knowledge of the situation told NBC News."
)
# 002 (The Hill)
HILL_LEAD = (
    "date 2019-12-31 Protesters on Tuesday stormed the U.S. Embassy in Baghdad after the U.S. "
    "launched airstrikes on an Iranian-backed militia in the country over the weekend that "
    "killed 25 people."
)
HILL_INJURED = (
    "Live bullets and tear gas injured at least 10 protesters, according to the Popular "
    "Mobilization Forces, a group for the militias recognized in Iraq, NBC News reported."
)
HILL_TWEET = "Iran killed an American contractor, wounding many."
HILL_CROWD = (
    "Thousands of demonstrators and supporters of the militia protested outside while chanting "
    "“Death to America” to express anger over the attacks."
)
HILL_ATTACKS = (
    "The U.S. says Kataib Hezbollah is responsible for 11 attacks on U.S.-led coalition bases "
    "in the past two months, most recently one on Friday that killed a U.S. contractor and "
    "injured four U.S. military members."
)
HILL_INTERIOR = (
    "Yassine al-Yasseri, Iraq’s interior minister, was on the scene and told the AP that the "
    "prime minister had cautioned that the U.S. strikes over the weekend would cause a reaction."
)
# 003 (agencies)
AGENCIES_KILLED = (
    "Hundreds of people turned to the embassy after American airstrikes killed 25 fighters "
    "from an Iranian-backed Shiite militia."
)
AGENCIES_TENTS = (
    "Hundreds of angry demonstrators, some in militia uniforms, set up tents in front of the "
    "embassy."
)
AGENCIES_TWEET = (
    "“Iran killed an American contractor and injured many. We have replied strongly and will "
    "always do so. Iran is now planning an attack on the US embassy in Iraq. You will be held "
    "fully responsible. We also expect Iraq to use its armed forces to protect the embassy, "
    "and have communicated this, ”Trump said in a Twitter post."
)
# 004 (The Globe and Mail)
GLOBE_LEAD = (
    "Protesters broke into the heavily guarded compound of the United States Embassy in "
    "Baghdad on Tuesday and lit fires inside to express their anger over U.S. airstrikes that "
    "killed 24 members of an Iranian-backed militia over the weekend."
)
GLOBE_RESPONSE = (
    "But the size of the U.S. response — five strikes in Iraq and Syria that killed two dozen "
    "fighters and wounded dozens of others — prompted condemnation from across the political "
    "spectrum and accusations that the United States had violated Iraqi sovereignty."
)
GLOBE_CROWD = (
    "Chanting “Death to America!” thousands of protesters and militia members demonstrated "
    "outside the embassy compound, throwing rocks, shattering surveillance cameras, covering "
    "the walls with graffiti and demanding that the United States withdraw its forces from "
    "Iraq."
)
GLOBE_TWEET = (
    "“Iran killed an American contractor, wounding many. We strongly responded, and always "
    "will,” he wrote on Twitter."
)
GLOBE_INTERIOR = (
    "The Iraqi interior minister, Yassin al-Yasiri, said in an interview near the embassy that "
    "U.S. attacks on an Iraqi militia had invited trouble."
)
GLOBE_BACKED_BY = (
    "The militia is separate from the Hezbollah movement in Lebanon, although both groups are "
    "backed by Iran and oppose the United States."
)


def _answer(question: str, sentence: str) -> Extraction:
    extraction = extract_answer(analyze_question(question), sentence)
    assert extraction is not None, f"no answer to {question!r} in {sentence!r}"
    assert sentence[extraction.start : extraction.end] == extraction.text
    assert MIN_SCORE < extraction.score <= 1.0
    return extraction


# --- counts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "span", "low", "unit"),
    [
        (NBC_INJURED_10, "At least 10 demonstrators", 10, "demonstrators"),
        (NBC_INJURED_62, "At least 62 demonstrators", 62, "demonstrators"),
        (HILL_INJURED, "at least 10 protesters", 10, "protesters"),
    ],
)
def test_injured_figures(sentence: str, span: str, low: int, unit: str) -> None:
    extraction = _answer("How many were injured?", sentence)
    assert (extraction.text, extraction.value) == (span, Quantity(low, None, "at least", unit))


def test_injured_span_offsets() -> None:
    extraction = _answer("How many were injured?", HILL_INJURED)
    assert (extraction.start, extraction.end) == (34, 56)


def test_reported_injured_figure_beats_a_secondary_one() -> None:
    reported = extract_answer(INJURED, NBC_INJURED_10)
    secondary = extract_answer(INJURED, NBC_ROCKET)
    assert reported is not None and secondary is not None
    assert secondary.text == "four other American service members"
    assert reported.score > secondary.score


@pytest.mark.parametrize("tweet", [AGENCIES_TWEET, GLOBE_TWEET, HILL_TWEET])
def test_quoted_or_vague_echo_of_the_question_scores_below_a_reported_figure(tweet: str) -> None:
    reported = extract_answer(INJURED, NBC_INJURED_10)
    echo = extract_answer(INJURED, tweet)
    assert reported is not None
    assert echo is None or echo.score < reported.score


def test_quoted_mention_scores_lower_than_the_same_words_unquoted() -> None:
    plain = extract_answer(INJURED, "The attack injured 12 guards.")
    quoted = extract_answer(INJURED, "“The attack injured 12 guards,” he said.")
    assert plain is not None and plain.text == "12 guards"
    assert quoted is None or quoted.score < plain.score


@pytest.mark.parametrize(
    "sentence",
    [
        NBC_TROOPS,  # "some 5,000 troops"
        NBC_ROOF,  # "at least three U.S. soldiers"
        NBC_KILLED_25,  # a figure for the killed, not the injured
        "The U.S. blames Kataeb Hezbollah for 11 attacks on bases used by the U.S.-led "
        "coalition over the past two months.",
    ],
)
def test_unrelated_counts_do_not_answer_the_injured_question(sentence: str) -> None:
    assert extract_answer(INJURED, sentence) is None


@pytest.mark.parametrize(
    ("question", "sentence", "span"),
    [
        ("How many were killed?", "The death toll rose to 40 on Monday.", "40"),
        ("How many were killed?", "The attack left 3 dead and 12 wounded.", "3 dead"),
        ("How many were injured?", "The attack left 3 dead and 12 wounded.", "12 wounded"),
        ("How many were injured?", "Two of them were injured.", "Two"),
        (
            "How many people were arrested?",
            "Police arrested 30 people after the march.",
            "30 people",
        ),
        ("How many were killed?", "A bomb exploded, killing 3 soldiers.", "3 soldiers"),
    ],
)
def test_common_casualty_phrasings(question: str, sentence: str, span: str) -> None:
    assert _answer(question, sentence).text == span


def test_attack_count_is_not_the_injured_answer() -> None:
    assert _answer("How many were injured?", HILL_ATTACKS).text == "four U.S. military members"


@pytest.mark.parametrize(
    ("sentence", "span", "low"),
    [
        (NBC_KILLED_25, "At least 25 militia fighters", 25),
        (HILL_LEAD, "25 people", 25),
        (AGENCIES_KILLED, "25 fighters", 25),
        (GLOBE_LEAD, "24 members", 24),
        (GLOBE_RESPONSE, "two dozen fighters", 24),
    ],
)
def test_killed_figures(sentence: str, span: str, low: int) -> None:
    extraction = _answer("How many militia fighters were killed in the airstrikes?", sentence)
    assert extraction.text == span
    assert extraction.value is not None and extraction.value.low == low


def test_precise_killed_figure_beats_vague_one_in_a_relative_clause() -> None:
    precise = extract_answer(KILLED, NBC_KILLED_25)
    vague = extract_answer(KILLED, NBC_STORMED)
    assert precise is not None and vague is not None
    assert vague.text == "dozens of fighters"
    assert precise.score > vague.score


@pytest.mark.parametrize(
    ("sentence", "span"),
    [
        (NBC_CROWD, "roughly 6,000"),
        (HILL_CROWD, "Thousands of demonstrators"),
        (AGENCIES_TENTS, "Hundreds of angry demonstrators"),
        (AGENCIES_KILLED, "Hundreds of people"),
        (GLOBE_CROWD, "thousands"),
    ],
)
def test_crowd_figures(sentence: str, span: str) -> None:
    assert _answer("How many protesters were there?", sentence).text == span


def test_crowd_question_ignores_casualty_figures() -> None:
    # "injured at least 10 protesters" counts protesters, but the injured ones.
    assert extract_answer(CROWD, HILL_INJURED) is None


def test_existential_crowd_figure_beats_a_loose_one() -> None:
    stated = extract_answer(CROWD, NBC_CROWD)
    loose = extract_answer(CROWD, NBC_STORMED)
    assert stated is not None and loose is not None
    assert loose.text == "Dozens of people"
    assert stated.score > loose.score


# --- names, places, dates ------------------------------------------------------------------


def test_press_secretary_is_the_appositive_name() -> None:
    extraction = _answer("Who is the White House press secretary?", NBC_GRISHAM)
    assert (extraction.text, extraction.start, extraction.end) == ("Stephanie Grisham", 21, 38)
    assert extraction.value is None


def test_secretary_of_state_is_not_the_press_secretary() -> None:
    analysis = analyze_question("Who is the White House press secretary?")
    assert extract_answer(analysis, NBC_POMPEO) is None


@pytest.mark.parametrize(
    ("sentence", "name"),
    [(HILL_INTERIOR, "Yassine al-Yasseri"), (GLOBE_INTERIOR, "Yassin al-Yasiri")],
)
def test_interior_minister_before_or_after_the_role(sentence: str, name: str) -> None:
    assert _answer("Who is Iraq's interior minister?", sentence).text == name


def test_prime_minister_is_not_the_interior_minister() -> None:
    sentence = (
        "Iraqi Prime Minister Adel Abdul-Mahdi issued a statement urging people to leave the "
        "U.S. Embassy."
    )
    assert extract_answer(analyze_question("Who is Iraq's interior minister?"), sentence) is None
    assert _answer("Who is the Iraqi prime minister?", sentence).text == "Adel Abdul-Mahdi"


def test_ambassador_name_and_whereabouts() -> None:
    assert _answer("Who is the U.S. ambassador to Iraq?", NBC_AMBASSADOR).text == (
        "Matthew Tueller"
    )
    where = _answer("Where was the U.S. ambassador during the protests?", NBC_AMBASSADOR)
    assert (where.text, where.start, where.end) == ("out of the country", 50, 68)


@pytest.mark.parametrize(
    ("sentence", "span"),
    [
        (NBC_STORMED, "Iran-backed"),
        (HILL_LEAD, "Iranian-backed"),
        (GLOBE_LEAD, "Iranian-backed"),
        (GLOBE_BACKED_BY, "Iran"),
    ],
)
def test_which_country_backs_the_militia(sentence: str, span: str) -> None:
    assert _answer("Which country backs the militia?", sentence).text == span


def test_which_country_ignores_places_merely_named() -> None:
    analysis = analyze_question("Which country backs the militia?")
    assert extract_answer(analysis, NBC_TROOPS) is None


def test_which_group_is_the_named_group() -> None:
    extraction = _answer("Which group does the U.S. blame for the attacks?", NBC_GROUP_CALLED)
    assert extraction.text == "Kataeb Hezbollah"


def test_when_question_finds_the_day() -> None:
    extraction = _answer("When did American fighter jets bomb weapons depots?", NBC_GROUP_CALLED)
    assert extraction.text == "Sunday"


def test_other_questions_get_a_phrase_outside_the_question_s_words() -> None:
    analysis = analyze_question("What did Trump tweet about Iran?")
    extraction = extract_answer(analysis, GLOBE_TWEET)
    # "What did X say" is read by search.speech; a phrase here never repeats the question.
    assert extraction is None or extraction.text.lower() not in ("trump", "iran", "tweet")


def test_sentence_without_an_answer_of_the_right_type() -> None:
    assert extract_answer(INJURED, "The embassy was on lockdown by evening.") is None
    person = analyze_question("Who is the White House press secretary?")
    assert extract_answer(person, "The White House did not respond.") is None
    assert extract_answer(INJURED, "") is None
