"""Who a sentence attributes its claim to (search/attribution.py).

Seed sentences are copied verbatim from seeds/ (curly quotes and all); the
number in each comment is the seed file.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from search.attribution import Attribution, find_attribution

SEED_CASES = [
    # 000: "according to X" stops at the comma before the appositive.
    (
        "At least 10 demonstrators were injured by live bullets and tear gas, according to the "
        "Popular Mobilization Forces, an umbrella group for the militias recognized by the Iraqi "
        "government.",
        "the Popular Mobilization Forces",
    ),
    # 002: the militias made the claim; NBC News only relays it.
    (
        "Live bullets and tear gas injured at least 10 protesters, according to the Popular "
        "Mobilization Forces, a group for the militias recognized in Iraq, NBC News reported.",
        "the Popular Mobilization Forces",
    ),
    # 001: a trailing clause that is followed by more text after its comma.
    (
        "There were roughly 6,000 protesters at the height of the demonstrations, a U.S. official "
        "estimated, composed mostly of Kataib Hezbollah members.",
        "a U.S. official",
    ),
    # 001: the whole source, qualifiers included; the addressee is not the source.
    (
        "Matthew Tueller, the U.S. ambassador to Iraq, was out of the country during the protests, "
        "two U.S. officials with knowledge of the situation told NBC News.",
        "two U.S. officials with knowledge of the situation",
    ),
    # 000: "on condition of anonymity" ends the clause, not the source.
    (
        "Guards inside the embassy used tear gas to try and prevent demonstrators from moving "
        "towards main buildings inside the compound, an Iraqi security source told NBC News on "
        "condition of anonymity.",
        "an Iraqi security source",
    ),
    # 000: a sentence-final source keeps its capital and loses the full stop.
    (
        "They chanted “Down, Down USA!” while hurling water bottles and smashing security cameras, "
        "according to The Associated Press.",
        "The Associated Press",
    ),
    # 002: a news agency as the only source.
    (
        "Protesters smashed a main door to the compound and set a fire in the reception area, "
        "leading to the disposal of tear gas and gunfire, The Associated Press reported.",
        "The Associated Press",
    ),
    # 001: the dots of "U.S." belong to the source.
    (
        "Secretary of State Mike Pompeo spoke to Iraqi Prime Minister Adil Abdul-Mahdi and "
        'President Barham Salih separately by phone on Tuesday and told them "the United States '
        "will protect and defend its people, who are there to support a sovereign and independent "
        'Iraq," according to a State Department statement.',
        "a State Department statement",
    ),
    # 001: "according to" mid-sentence, followed by more of the claim.
    (
        "The clashes follow anti-government protests in recent months in which hundreds of people "
        "have been killed, according to protest groups, most of them by Iraqi security forces.",
        "protest groups",
    ),
    # 001 (the seed's typo "was knowledge"): a verb cannot continue the source's name.
    (
        "The embassy was on lockdown by evening, but American personnel were not being evacuated, "
        "according to a U.S. official was knowledge of the situation.",
        "a U.S. official",
    ),
    # 002: the speaker of a quotation, lowercase particle and all.
    ("“This is one of the implications,” al-Yasseri said.", "al-Yasseri"),
    # 002: the speaker beats the paper that reported the quote.
    (
        "“We will not leave these tents until the embassy and the ambassador leave Iraq,” "
        "Mohammed Muhi said, according to the Times.",
        "Mohammed Muhi",
    ),
    # 001: the claim is Grisham's, so her name, not her title or her boss.
    (
        'His press secretary, Stephanie Grisham, said the president will choose "how and when we '
        'respond to their escalation."',
        "Stephanie Grisham",
    ),
    # 004: the appositive name again, title first.
    (
        "A spokesman for Kataib Hezbollah, Mohammed Muhi, said his group intended to erect tents "
        "in the street in front of the U.S. Embassy for an opened-ended sit-in to pressure the "
        "Americans to leave Iraq.",
        "Mohammed Muhi",
    ),
    # 004
    (
        "The Iraqi interior minister, Yassin al-Yasiri, said in an interview near the embassy that "
        "U.S. attacks on an Iraqi militia had invited trouble.",
        "Yassin al-Yasiri",
    ),
    # 001: titles with a dot stay with the name; the party and state do not.
    (
        "Sen. Chris Murphy, D-Ct., a member of the Foreign Relations Committee, said the attacks "
        'were a reminder of how "catastrophic" the year has been for U.S. interests in the Middle '
        "East, and tweeted a long list of problems in the region.",
        "Sen. Chris Murphy",
    ),
    # 001: the speaker after a quote, without the appositive describing him.
    (
        '"It’s hard to overstate what a total failure Trump’s Iran policy has been," Ben Rhodes, a '
        "top national security aide in the Obama administration, wrote on Twitter.",
        "Ben Rhodes",
    ),
    # 001: a document can be the source.
    (
        '"Both Abdul-Mahdi and Salih assured the Secretary that they took seriously their '
        "responsibility for and would guarantee the safety and security of U.S. personnel and "
        'property," the statement said.',
        "the statement",
    ),
    # 003: a space before the closing mark, none after it.
    (
        "We also expect Iraq to use its armed forces to protect the embassy, and have "
        "communicated this, ”Trump said in a Twitter post.",
        "Trump",
    ),
    # 001: a leading conjunction is not part of the source.
    (
        "But Democrats said the embassy attack was the latest example of the failure of the "
        "Trump administration's policy in the region.",
        "Democrats",
    ),
    # 002: a title alone, when no name is given.
    (
        "A spokesman for Kataib Hizbollah said the group plans to stake out the street in front "
        "of the embassy to push U.S. officials to leave Iraq.",
        "A spokesman for Kataib Hizbollah",
    ),
    # 002: present tense, a country as the source.
    (
        "The U.S. says Kataib Hezbollah is responsible for 11 attacks on U.S.-led coalition bases "
        "in the past two months, most recently one on Friday that killed a U.S. contractor and "
        "injured four U.S. military members.",
        "The U.S.",
    ),
    # 000
    (
        "President Donald Trump tweeted that he expected protection from Iraq’s security forces.",
        "President Donald Trump",
    ),
]


@pytest.mark.parametrize(("sentence", "expected"), SEED_CASES)
def test_seed_sentences_name_their_source(sentence: str, expected: str) -> None:
    found = find_attribution(sentence)
    assert found is not None
    assert found.text == expected
    assert sentence[found.start : found.end] == expected


@pytest.mark.parametrize(
    "sentence",
    [
        # 000: a claim on the reporter's own authority.
        "At least 25 militia fighters were killed in the airstrikes, and on Tuesday a large crowd "
        "of supporters gathered after funerals for some of the dead and marched on the U.S. "
        "Embassy in Baghdad’s heavily fortified Green Zone.",
        # 004
        "Thousands of protesters marched into Baghdad’s heavily guarded Green Zone on Tuesday "
        "after prayer services for the militia fighters killed in the U.S. strikes.",
        # 000: "the U.S. said" qualifies only the relative clause, not the bombing.
        "American fighter jets on Sunday bombed weapons depots in Iraq and Syria that the U.S. "
        "said were linked with a group called Kataeb Hezbollah, which it blames for attacks on "
        "coalition bases in recent months.",
        # 002: "reported" as part of "reported injured" names nobody.
        "Three trailers used by security guards at the embassy were also set on fire, but no one "
        "was immediately reported injured.",
        # 003: a quoted word mid-sentence is not a quotation with a speaker.
        "US President Donald Trump accused Iran of “orchestrating” the attack and said he would "
        "hold Tehran responsible.",
        # "reportedly" hedges without naming anyone.
        "The demonstrators reportedly attended funerals for the fighters killed in the strikes "
        "over the weekend in Baghdad before marching to the U.S. Embassy.",
        "There were an estimated 5,000 troops in the country.",
        "",
    ],
)
def test_sentences_without_a_source_give_none(sentence: str) -> None:
    assert find_attribution(sentence) is None


@pytest.mark.parametrize(
    "sentence",
    [
        "“They will be held fully responsible,” he tweeted.",  # 002
        "“These are the dangerous ramifications of this strike,” he said.",  # 004
        '"Really hard to overstate how badly Trump has bungled things," he wrote on Twitter.',
        "“We strongly responded, and always will,” she wrote.",
        "The talks failed, they said.",
        "According to him, the talks failed.",
    ],
)
def test_a_pronoun_alone_is_not_a_source(sentence: str) -> None:
    assert find_attribution(sentence) is None


def test_a_named_source_still_counts_when_the_speaker_is_a_pronoun() -> None:
    sentence = "“We will not leave these tents,” he said, according to the Times."
    start = sentence.index("the Times")
    assert find_attribution(sentence) == Attribution("the Times", start, start + 9)


def test_according_to_at_the_start_of_the_sentence() -> None:
    found = find_attribution("According to the Times, the militia plans a sit-in.")
    assert found is not None and found.text == "the Times"


def test_according_to_stops_before_a_relative_clause() -> None:
    found = find_attribution("Ten were hurt according to the ministry which runs the hospitals.")
    assert found is not None and found.text == "the ministry"


def test_a_source_inside_a_quotation_is_the_speakers_wording() -> None:
    found = find_attribution("“Everything went according to plan,” the commander said.")
    assert found is not None and found.text == "the commander"


def test_an_introductory_phrase_is_not_the_speaker() -> None:
    found = find_attribution("In response, the ministry said the protests would be contained.")
    assert found is not None and found.text == "the ministry"


def test_a_trailing_speaker_after_a_short_claim() -> None:
    found = find_attribution("Iran killed a contractor, officials said.")
    assert found is not None and found.text == "officials"


def test_a_trailing_clause_that_states_its_own_claim_is_not_the_source() -> None:
    # "the group said it would respond" credits the group with the second clause only.
    assert find_attribution("The base was hit, and the group said it would respond.") is None


# --- properties ----------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        "according to ", "said", " said ", "told", "reported", ", ", ".", " ", "“", "”", '"',
        "he ", "the ", "U.S. ", "Sen. ", "al-Yasseri ", "officials ", "who ", "and ", "was ",
        "NBC News ", "on condition of anonymity", "A", "!", "?", "In response",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@example("0 .said")  # once gave the source "0 ", with its space
@example("Ben Smith .' said")
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(st.one_of(_FRAGMENTS, st.text(max_size=6)), max_size=25).map("".join),
    )
)
def test_never_raises_and_offsets_always_point_at_the_text(sentence: str) -> None:
    found = find_attribution(sentence)
    if found is not None:
        assert 0 <= found.start < found.end <= len(sentence)
        assert sentence[found.start : found.end] == found.text
        assert found.text == found.text.strip()


def test_a_whole_passage_gives_its_first_named_source() -> None:
    passage = "“Down, Down USA!” they said, according to the U.S. official. " * 400
    found = find_attribution(passage)
    start = passage.index("the U.S. official")
    assert found == Attribution("the U.S. official", start, start + len("the U.S. official"))


@pytest.mark.parametrize(
    "text",
    [
        "x, he said, " * 3000,  # many verbs, each with a comma before it
        "according to " * 10_000,  # many sources, none of them ending
        "said " * 20_000,
        '"a," b said ' * 3000,
    ],
)
def test_long_degenerate_text_returns_promptly(text: str) -> None:
    # The work per verb is bounded, so a pasted article cannot stall a request.
    started = time.perf_counter()
    find_attribution(text)
    assert time.perf_counter() - started < 2.0
