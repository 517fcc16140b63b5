"""Answers to "What did X say / tweet / write?": the words X is reported to have said.

Hand-written rules, because the answer is a reported-speech sentence with its
speaker as the subject, which a sentence embedding alone does not tell apart
from a sentence that merely mentions X (a senator's tweet about Trump is not
Trump's tweet). A sentence scores for:

- the speaker: named outside quotes near the start of the sentence or next to
  the speech verb, or a pronoun subject ("he wrote") right after a sentence
  whose subject is the speaker; a role ("the prime minister") also matches the
  name the document gives it ("Prime Minister Adil Abdul-Mahdi" -> "Abdul-Mahdi");
- the verb: the one asked ("tweeted", "on Twitter" for tweet) or any speech verb;
- quotation marks: the words themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import NAME_WORD_RE, SPEECH, outside_quotes
from search.gazetteer import is_place
from search.spans import EXTRACT, ExtractOptions

_QUESTION = re.compile(
    r"^\s*what\s+(?:did|does|do|has|have|had|will|would)\s+(?P<speaker>.+?)\s+"
    r"(?P<verb>say|tweet|write|post|tell|announce|claim|warn|declare|state)\b"
    r"(?:\s+(?:about|on|regarding|to)\s+(?P<topic>.+?))?\s*\??\s*$",
    re.IGNORECASE,
)
_VERBS = {
    "tweet": r"tweet(?:s|ed|ing)?|on Twitter|Twitter post|wrote on Twitter",
    "write": r"wr(?:ote|ites?|itten)|posted",
    "post": r"post(?:ed|s)?|on Twitter|on Facebook",
}
_PRONOUN_SUBJECT = re.compile(r"\b(he|she|they|it)\s+(?:" + SPEECH + r")\b", re.IGNORECASE)
_QUOTE = re.compile(r"[\"\u201c](.+?)(?:[\"\u201d]|$)")
_ARTICLES = {"the", "a", "an"}


@dataclass(frozen=True)
class SpeechQuestion:
    """Who is asked about (the words that name them) and which verb family."""

    speaker: str
    keys: tuple[str, ...]  # lower-case words, any of which names the speaker
    role: str | None  # a lower-case role such as "prime minister", to look up a name for
    verb: str


@dataclass(frozen=True)
class SpeechMatch:
    score: float  # 0..1
    start: int  # the answer span in the sentence: the quoted words, or the sentence
    end: int


def parse_speech_question(question: str) -> SpeechQuestion | None:
    """Recognise "What did <speaker> <say|tweet|write|...> [about ...]?"."""
    match = _QUESTION.match(question)
    if match is None:
        return None
    speaker = match.group("speaker").strip()
    # Articles and place words ("the U.S. president") do not name the speaker.
    words = [
        w
        for w in NAME_WORD_RE.findall(speaker)
        if w.lower() not in _ARTICLES and not is_place((w.lower(),))
    ]
    if not words:
        return None
    capitalised = [w for w in words if w[0].isupper()]
    if capitalised and capitalised[-1] == words[-1]:
        # A name: its last word ("Trump", "Pompeo") identifies the speaker.
        return SpeechQuestion(speaker, (words[-1].lower(),), None, match.group("verb").lower())
    role = " ".join(w.lower() for w in words[-2:])
    return SpeechQuestion(speaker, (role,), role, match.group("verb").lower())


def speaker_names(question: SpeechQuestion, document: str) -> tuple[str, ...]:
    """The speaker's keys plus the surname a document gives a role ("Abdul-Mahdi")."""
    if question.role is None:
        return question.keys
    role = re.escape(question.role).replace(r"\ ", r"\s+")
    word = r"(?:[A-Z]|al-|el-)[\w'-]+"  # "Yassin al-Yasiri"
    name = rf"((?:{word}\s+){{0,2}}{word})"
    patterns = (
        rf"(?i:{role})\s+{name}",  # "Prime Minister Adil Abdul-Mahdi"
        rf"(?i:{role}),\s+{name},",  # "interior minister, Yassin al-Yasiri,"
        # "Matthew Tueller, the U.S. ambassador"
        rf"{name},\s+(?:the\s+)?(?:[\w.-]+\s+){{0,3}}(?i:{role})\b",
    )
    names = list(question.keys)
    for pattern in patterns:
        for found in re.finditer(pattern, document):
            surname = found.group(1).split()[-1].lower()
            if surname not in names:
                names.append(surname)
    return tuple(names)


def score_speech(
    question: SpeechQuestion,
    names: tuple[str, ...],
    sentence: str,
    previous: str | None,
    options: ExtractOptions = EXTRACT,
) -> SpeechMatch | None:
    """How well `sentence` reports what the speaker said; None if it is not their speech."""
    outside = _outside_quotes(sentence)
    speaker = 1.0 if _names_subject(names, outside, options) else 0.0
    if not speaker and _PRONOUN_SUBJECT.search(outside) and previous is not None:
        named = _names_subject(names, _outside_quotes(previous), options)
        speaker = options.pronoun_speaker if named else 0.0
    if not speaker:
        return None
    # Any speech verb answers "say"; "tweet" prefers its own ("tweeted", "on Twitter").
    asked = _VERBS.get(question.verb, SPEECH)
    if re.search(rf"\b(?:{asked})\b", outside, re.IGNORECASE):
        verb = 1.0
    elif re.search(rf"\b(?:{SPEECH})\b", outside, re.IGNORECASE):
        verb = options.other_speech_verb
    else:
        verb = 0.0
    quote = _QUOTE.search(sentence)
    score = (speaker + verb + (1.0 if quote else 0.0)) / 3
    if quote:
        return SpeechMatch(round(score, 3), quote.start(1), quote.end(1))
    return SpeechMatch(round(score, 3), 0, len(sentence))


def _names_subject(names: tuple[str, ...], text: str, options: ExtractOptions) -> bool:
    """A name among the first `options.subject_words` words of `text`, or as the subject of
    a speech verb (within `options.speaker_verb_chars` after it, or right before it)."""
    lower = text.lower()
    for name in names:
        pattern = re.escape(name).replace(r"\ ", r"\s+")
        for found in re.finditer(rf"(?<![\w-]){pattern}(?![\w-])", lower):
            if len(lower[: found.start()].split()) < options.subject_words:
                return True
            # "X said", "X, 52, told"; or "said X" with the verb right before the name.
            after = lower[found.end() : found.end() + options.speaker_verb_chars]
            if re.match(rf"\W+(?:[\w.-]+\W+){{0,2}}(?:{SPEECH})\b", after):
                return True
            if re.search(rf"\b(?:{SPEECH})\s+$", lower[: found.start()]):
                return True
    return False


def _outside_quotes(sentence: str) -> str:
    """The sentence with quoted words blanked, so a name inside a quote is not its speaker."""
    return outside_quotes(sentence)
