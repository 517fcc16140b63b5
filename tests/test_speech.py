"""Reported speech: who said it, with which verb, and the quoted words (no model)."""

from __future__ import annotations

import pytest

from search.speech import parse_speech_question, score_speech, speaker_names

TRUMP = parse_speech_question("What did Trump tweet about Iran?")
PM = parse_speech_question("What did the Iraqi prime minister say?")


def test_questions_about_speech_name_the_speaker_and_verb() -> None:
    assert TRUMP is not None and TRUMP.keys == ("trump",) and TRUMP.verb == "tweet"
    assert PM is not None and PM.role == "prime minister" and PM.verb == "say"
    pompeo = parse_speech_question("What did Secretary of State Mike Pompeo say?")
    assert pompeo is not None and pompeo.keys == ("pompeo",)
    assert parse_speech_question("How many were injured?") is None
    assert parse_speech_question("What happened to the trailers?") is None


def test_a_role_is_matched_to_the_name_the_document_gives_it() -> None:
    assert PM is not None
    text = "Pompeo spoke to Iraqi Prime Minister Adil Abdul-Mahdi by phone."
    assert speaker_names(PM, text) == ("prime minister", "abdul-mahdi")
    other = parse_speech_question("What did the interior minister say?")
    assert other is not None
    names = speaker_names(other, "The Iraqi interior minister, Yassin al-Yasiri, said so.")
    assert "al-yasiri" in names


def test_the_speakers_quoted_tweet_beats_a_senators_tweet_about_him() -> None:
    assert TRUMP is not None
    own = (
        "President Donald Trump, who tweeted that he expected protection, said the Iranian "
        'government "will be held fully responsible."'
    )
    senator = '"Really hard to overstate how badly Trump has bungled things," he wrote on Twitter.'
    before_senator = "Sen. Chris Murphy said the attacks were a reminder of a bad year."
    match = score_speech(TRUMP, ("trump",), own, None)
    assert match is not None and own[match.start : match.end] == "will be held fully responsible."
    assert score_speech(TRUMP, ("trump",), senator, before_senator) is None


def test_a_pronoun_speaker_takes_the_subject_of_the_sentence_before() -> None:
    assert TRUMP is not None
    previous = "In response, President Trump accused Iran of being behind them."
    sentence = "\u201cThey will be held fully responsible,\u201d he tweeted."
    match = score_speech(TRUMP, ("trump",), sentence, previous)
    assert match is not None
    assert sentence[match.start : match.end] == "They will be held fully responsible,"
    # The previous sentence itself names Trump but only as the one who accused: less sure.
    accused = score_speech(TRUMP, ("trump",), previous, None)
    assert accused is not None and accused.score < match.score


@pytest.mark.parametrize(
    "sentence",
    [
        "Secretary of State Mike Pompeo spoke to Iraqi Prime Minister Adil Abdul-Mahdi by phone.",
        '"Both Abdul-Mahdi and Salih assured the Secretary," the statement said.',
    ],
)
def test_a_speaker_named_as_an_object_or_inside_a_quote_is_not_the_speaker(sentence: str) -> None:
    assert PM is not None
    assert score_speech(PM, ("prime minister", "abdul-mahdi"), sentence, None) is None


def test_the_subject_of_a_statement_is_the_speaker() -> None:
    assert PM is not None
    sentence = (
        'Abdul-Mahdi issued a statement urging people to leave, warning that "any aggressive '
        'behavior against foreign embassies" will be stopped.'
    )
    match = score_speech(PM, ("prime minister", "abdul-mahdi"), sentence, None)
    assert match is not None and match.score == 1.0
    assert sentence[match.start : match.end] == "any aggressive behavior against foreign embassies"
