"""Reading one document for its answer to a question: the sentences of its best passages
scored by their similarity to the question, their keywords and the span of the expected
type they hold (`search.extract`); a quotation for what somebody said; a reason clause for
a why-question. The reader's tuning values are `ReaderOptions`."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from index.chunk import Passage
from index.corpus import Corpus
from index.documents import Document
from index.text import stem, stems, word_list
from search.attribution import find_attribution
from search.claims import Quantity
from search.extract import extract_answer
from search.gazetteer import is_place
from search.question import SENTENCE_TYPES, TYPED, QuestionAnalysis
from search.speech import SpeechQuestion, score_speech, speaker_names
from search.timeline import SAME_TIME_HOURS

# Question types a "What did X say?" reading may answer.
SPEECH_TYPES = ("other", "manner")


@dataclass(frozen=True)
class ReaderOptions:
    """The reader's tuning values, with their measured defaults (docs/concepts.md,
    "Answers"). `ask` takes one by keyword, so an evaluation tries other values by
    passing them rather than patching this module."""

    # How many of a document's best passages are read for its answer.
    passages_per_document: int = 4
    # How many sources (best first) are read for answers: every outlet of a story, while
    # a large corpus does not cost a read of hundreds of documents per question.
    max_sources: int = 20
    # Other matching stories listed beside the one answered.
    other_stories: int = 5
    # Weights of a sentence's score: its similarity to the question, the extracted span's
    # own score, its passage's place in the document's ranking, and its coverage of the
    # question's specific words (`keyword_coverage`).
    sentence_weight: float = 0.5
    span_weight: float = 0.4
    passage_weight: float = 0.1
    coverage_weight: float = 0.1
    # Below this score (coverage left out) a typed answer (a count, a name, a place) is no
    # answer: a figure about something else ("wounded dozens of others" in another attack,
    # for "How many were injured?" about a protest) scores under it.
    min_answer_score: float = 0.5
    # A sentence answer (yes/no, why, how, or a question no typed span answers): below this
    # similarity to the question it is no answer. Its span score is the share of the
    # question's keywords the sentence holds, times `typed_sentence_share` for a typed
    # question (so a typed span beats it).
    min_sentence_similarity: float = 0.3
    typed_sentence_share: float = 0.5
    # A sentence answer to a typed question ("When ...?" read from a sentence without a
    # date) must be this similar to the question, so a document that does not answer gives
    # nothing rather than a loosely related sentence; the closest sentence of all those
    # read answers even below it, so the question is never left with no answer where one
    # sentence is clearly the nearest (2 points of XQuAD answer-contains-gold on its dev
    # half).
    min_fallback_similarity: float = 0.5
    # A sentence that gives a reason ("because ...", "in protest at ...") answers a
    # why-question better than one that only restates the event: this much more span score.
    reason_bonus: float = 0.2
    # Below the extractor's floor a span of the asked kind is no typed value, but above this
    # it still marks which words of a sentence answer ("Who ...?" read from a sentence: the
    # likeliest name), as a "phrase" that is never compared.
    weak_span: float = 0.2
    # A typed span beats a sentence answer unless the sentence scores this much higher.
    typed_margin: float = 0.05
    # A typed answer is compared with the others (and can raise a conflict) only when its
    # sentence holds at least this share of the specific question words that the
    # best-covered answer holds: a figure from a sentence about something else in the story
    # ("the debt" for a question about the offer) is shown, but it is no rival claim.
    claim_coverage: float = 0.5
    # A name, place or date needs more: a document that never names the one asked about
    # still names somebody, in a sentence about the story but not about the question.
    name_claim_coverage: float = 0.8
    # A question reads as English when this share of its words are common English words
    # (wordfreq Zipf frequency of at least `english_zipf`); one of fewer than
    # `english_words` words is not judged, as a name or two need not be common words.
    english_share: float = 0.4
    english_zipf: float = 3.0
    english_words: int = 3
    # Below this confidence (`search.confidence`) a document's answer is not shown: it is
    # listed as not answering, with its best sentence. Off by default: out of the
    # development set's domain the model is under-confident, and the threshold that kept
    # its answers right 9 times in 10 there hid most right answers elsewhere
    # (docs/evaluation.md, "Confidence"); search/calibration.json lists the thresholds for
    # other precisions.
    min_confidence: float = 0.0
    # A typed answer is compared with the others (and can raise a conflict) only at this
    # confidence or more: a flag says two sources cannot both be right, which may ask more
    # certainty than showing an answer. Off by default for the reason `min_confidence` is
    # (docs/evaluation.md, "Confidence": 0.4 raised the development set's conflict precision
    # from 0.29 to 0.60, and drops all three of the seed questions' conflicts).
    min_compared_confidence: float = 0.0
    # Reports within this many hours are "at about the same time" (`search.timeline`).
    same_time_hours: float = SAME_TIME_HOURS


READER = ReaderOptions()


@dataclass(frozen=True)
class ReadAnswer:
    document: Document
    passage: Passage
    answer: str
    sentence: str
    sentence_start: int  # offsets of the sentence in the document text
    sentence_end: int
    answer_start: int  # offsets of the answer span in the document text
    answer_end: int
    value: Quantity | None
    score: float
    attributed_to: str | None = None  # who the sentence credits the claim to
    story_id: str | None = None
    # What the span is: a typed value ("quantity", "date", "person", "organization",
    # "place"), a "phrase" or "clause" of the sentence, a "quote", or the whole "sentence".
    answer_type: str = "sentence"
    # Share of the question's specific words (weighted by `keyword_weights`) the sentence holds.
    coverage: float = 0.0
    # The reader's own signals, which `search.confidence` weighs: the sentence's similarity
    # to the question, the span's own score, and the place of the document among those
    # read (0 best).
    similarity: float = 0.0
    span_score: float = 0.0
    rank: int = 0
    # How likely the answer is right (`search.confidence`, calibrated on a development set),
    # and the values of the signals it was computed from (`search.confidence.FEATURES`).
    confidence: float = 1.0
    signals: tuple[float, ...] = ()


def sentence_similarities(
    corpus: Corpus, document: Document, passages: Sequence[Passage], vector: np.ndarray
) -> list[tuple[int, Passage, tuple[int, int], float]]:
    """(place of the passage, passage, sentence span, cosine to the question) of each
    distinct sentence of a document's passages, in reading order, from the sentence vectors
    stored at ingest."""
    found = []
    seen: set[tuple[int, int]] = set()
    rows = corpus.rows_of(document.id)
    for place, passage in enumerate(passages):
        row = rows.start + int(passage.passage_id.rsplit("#", 1)[1])
        vectors = corpus.sentence_vectors[corpus.sentence_rows(np.array([row]))]
        for span, similarity in zip(passage.sentences, (vectors @ vector).tolist(), strict=True):
            if span not in seen:
                seen.add(span)
                found.append((place, passage, span, similarity))
    return found


def keyword_weights(
    keywords: Sequence[tuple[str, ...]], sentences: Sequence[str]
) -> dict[tuple[str, ...], float]:
    """How specific each question keyword (a stem, or stems that are alternatives) is
    among the sentences read for it.

    A word in most of them names the story ("Acme", "embassy") and tells its answers
    apart little; a rare one ("creditors") says which sentence answers. Weighted like an
    inverse document frequency over the sentences read, so it needs no corpus statistics.
    """
    count = len(sentences)
    held = [stems(sentence) for sentence in sentences]
    return {
        k: math.log(1 + count / (1 + sum(_holds(words, k) for words in held)))
        for k in dict.fromkeys(keywords)
        if any(k)
    }


def keyword_coverage(weights: dict[tuple[str, ...], float], sentence: str) -> float:
    """The weighted share of the question's keywords that `sentence` holds (0..1)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    held = stems(sentence)
    return sum(weight for k, weight in weights.items() if _holds(held, k)) / total


# An alternative term this long or longer also matches the words it begins ("kill" in
# "killings"); a shorter one only itself, as "war" is no stem of "warn".
_PREFIX_TERM_CHARS = 4


def _holds(words: frozenset[str], terms: tuple[str, ...]) -> bool:
    """A sentence's stems hold a keyword (its stem), or one of the alternative terms of
    what the question asks about: the term or (`_PREFIX_TERM_CHARS`+ letters) a word it
    begins. Only alternatives are matched as prefixes: scanning every word for every
    keyword of every sentence read doubled /ask's p95."""
    if len(terms) == 1:
        return terms[0] in words
    return any(
        term in words
        or (len(term) >= _PREFIX_TERM_CHARS and any(w.startswith(term) for w in words))
        for term in terms
    )


class _Span(NamedTuple):
    """The answering words of a sentence: offsets into it, their score and kind."""

    start: int
    end: int
    score: float
    answer_type: str
    value: Quantity | None = None
    sentence_end: int | None = None  # a quotation runs on past the sentence: its end


class DocumentReader:
    """Scores the sentences of one document's best passages as answers to one question."""

    def __init__(
        self,
        corpus: Corpus,
        document: Document,
        analysis: QuestionAnalysis,
        speech: SpeechQuestion | None,
        vector: np.ndarray,
        weights: dict[tuple[str, ...], float],
        *,
        options: ReaderOptions,
    ) -> None:
        self.corpus = corpus
        self.options = options
        self.weights = weights
        self.document = document
        self.analysis = analysis
        self.speech = speech
        self.vector = vector
        self.names = speaker_names(speech, document.text) if speech else ()
        spans = {span for p in corpus.passages_of(document.id) for span in p.sentences}
        self.sentences = sorted(spans)
        self.position = {span: n for n, span in enumerate(self.sentences)}
        self.keywords = tuple(stem(k) for k in analysis.keywords)

    def read(self, passages: list[Passage]) -> list[tuple[int, Passage, tuple[int, int], float]]:
        """(place, passage, sentence span, similarity to the question) of each distinct
        sentence of the document's best passages."""
        return sentence_similarities(self.corpus, self.document, passages, self.vector)

    def best_answer(
        self, sentences: list[tuple[int, Passage, tuple[int, int], float]], closest: float
    ) -> ReadAnswer | None:
        """The document's best answer among its `sentences` (`read`); `closest` is the
        similarity of the sentence closest to the question of all documents read."""
        best: ReadAnswer | None = None
        for place, passage, span, similarity in sentences:
            candidate = self._answer(passage, span, similarity, place, closest)
            if candidate is not None and (
                best is None or _better(candidate, best, self.options.typed_margin)
            ):
                best = candidate
        # Only the document's best answer is shown, so only it is attributed.
        return None if best is None else replace(best, attributed_to=_attribution(best.sentence))

    def _answer(
        self,
        passage: Passage,
        span: tuple[int, int],
        similarity: float,
        place: int,
        closest: float,
    ) -> ReadAnswer | None:
        """The sentence at `span` as an answer: its answering words (a quote, a clause, a
        typed value or a phrase) and its score, or None when it does not answer."""
        start, end = span
        sentence = self.document.text[start:end]
        if self.speech is not None:
            found = self._quote(span, sentence)
        elif self.analysis.answer_type in SENTENCE_TYPES:
            found = self._sentence_answer(sentence, similarity)
        else:
            found = self._typed_answer(sentence, similarity, closest)
        if found is None:
            return None
        options = self.options
        base = options.sentence_weight * similarity + options.span_weight * found.score
        base += options.passage_weight / (1 + place)
        if found.answer_type in TYPED and base < options.min_answer_score:
            return None
        end = found.sentence_end or end
        sentence = self.document.text[start:end]
        # Coverage only ranks: it decides between a document's sentences, never whether a
        # weak figure is an answer at all.
        coverage = keyword_coverage(self.weights, sentence)
        return ReadAnswer(
            document=self.document,
            passage=passage,
            answer=sentence[found.start : found.end],
            sentence=sentence,
            sentence_start=start,
            sentence_end=end,
            answer_start=start + found.start,
            answer_end=start + found.end,
            value=found.value,
            score=round(base + options.coverage_weight * coverage, 4),
            answer_type=found.answer_type,
            coverage=round(coverage, 4),
            similarity=similarity,
            span_score=found.score,
        )

    def _quote(self, span: tuple[int, int], sentence: str) -> _Span | None:
        """What the asked speaker said in this sentence, run on to the end of the quotation."""
        assert self.speech is not None
        match = score_speech(self.speech, self.names, sentence, self._neighbour(span, -1))
        if match is None:
            return None
        whole = match.end == len(sentence)
        end = self._quote_end(span)
        # The answer runs to the end of the quotation when it reaches the sentence's end.
        answer_end = end - span[0] if whole or end > span[1] else match.end
        kind = "sentence" if whole else "quote"
        return _Span(match.start, answer_end, match.score, kind, sentence_end=end)

    def _sentence_answer(self, sentence: str, similarity: float) -> _Span | None:
        """A yes/no, why or how question: the sentence (a why-question's reason clause)."""
        options = self.options
        if similarity < options.min_sentence_similarity:
            return None
        share = self._keyword_share(sentence)
        if self.analysis.answer_type == "reason":
            clause = reason_clause(sentence)
            if clause is not None:
                return _Span(*clause, min(1.0, share + options.reason_bonus), "clause")
        return _Span(0, len(sentence), share, "sentence")

    def _typed_answer(self, sentence: str, similarity: float, closest: float) -> _Span | None:
        """A span of the asked type (or, too weak to be a typed value, the phrase it marks);
        else, for a question that asks for no type, the sentence when it is close to the
        question."""
        options = self.options
        asked = self.analysis.answer_type
        extraction = extract_answer(self.analysis, sentence)
        if extraction is not None and asked != "other":
            kind = "phrase" if asked == "category" else asked
            if kind == "place" and not is_place(tuple(word_list(extraction.text))):
                kind = "phrase"  # "out of the country": no place a gazetteer can normalise
            return _Span(extraction.start, extraction.end, extraction.score, kind, extraction.value)
        floor = options.min_sentence_similarity
        if asked != "other":
            floor = max(floor, min(options.min_fallback_similarity, closest))
        if similarity < floor:
            return None
        share = self._keyword_share(sentence)
        if asked != "other":
            share *= options.typed_sentence_share
        if extraction is None and (asked != "quantity" or similarity >= closest):
            # A span of the asked kind too weak to be a typed value still says which words
            # of the sentence answer ("Who ...?" -> the likeliest name). A figure only in the
            # sentence closest to the question of all: elsewhere a weak one is about
            # something else ("wounded dozens of others" in another attack, for "How many
            # were injured?").
            extraction = extract_answer(self.analysis, sentence, floor=options.weak_span)
        if extraction is None:
            # A question that asks for a figure, a date, a name or a place is not answered by
            # a sentence without one: the document is listed as not answering instead.
            return None if asked in TYPED else _Span(0, len(sentence), share, "sentence")
        # "other", or a weak span: the phrase, with the sentence's score.
        return _Span(extraction.start, extraction.end, share, "phrase")

    def _neighbour(self, span: tuple[int, int], step: int) -> str | None:
        n = self.position[span] + step
        if 0 <= n < len(self.sentences):
            start, end = self.sentences[n]
            return self.document.text[start:end]
        return None

    def _quote_end(self, span: tuple[int, int]) -> int:
        """Where a quotation that starts in this sentence ends, within its paragraph.

        pysbd splits a long quote into sentences; the speaker's words run on
        through the following sentences that open with a quotation mark.
        """
        end = span[1]
        n = self.position[span] + 1
        text = self.document.text
        while n < len(self.sentences):
            start, next_end = self.sentences[n]
            if "\n" in text[end:start] or text[start] not in '"\u201c':
                break
            end, n = next_end, n + 1
        return end

    def _keyword_share(self, sentence: str) -> float:
        if not self.keywords:
            return 0.0
        words = {stem(w) for w in word_list(sentence)}
        return sum(k in words for k in self.keywords) / len(self.keywords)


def _better(candidate: ReadAnswer, best: ReadAnswer, margin: float) -> bool:
    """A typed span beats a sentence that only resembles the question; else the score."""
    typed, best_typed = candidate.answer_type in TYPED, best.answer_type in TYPED
    if typed != best_typed and abs(candidate.score - best.score) < margin:
        return typed
    return candidate.score > best.score


_REASON_RE = re.compile(
    r"\b(?:because(?:\s+of)?|due\s+to|owing\s+to|in\s+protest\s+(?:at|against)"
    r"|in\s+response\s+to|in\s+retaliation\s+for|so\s+that|in\s+order\s+to|after|since"
    r"|following|amid|in\s+support\s+of|to\s+protest|citing|caused\s+by|as\s+a\s+result"
    r"|in\s+an\s+effort\s+to|aimed\s+at|so\s+as\s+to|to\s+enable|to\s+allow)\b"
)
# A reason clause shorter than this many characters, its opening word included, gives no
# reason: a bare "since" or "after" ending the sentence, "amid it".
_MIN_REASON_CHARS = 8


def reason_clause(sentence: str) -> tuple[int, int] | None:
    """The clause of a sentence that gives a reason: from "because", "due to", "in response
    to", "after" ... to the end of the clause."""
    match = _REASON_RE.search(sentence)
    if match is None:
        return None
    end = len(sentence.rstrip().rstrip('.!?"”'))
    clause_end = re.search(r"[;:,]", sentence[match.end() :])
    if clause_end is not None:
        end = match.end() + clause_end.start()
    if end - match.start() < _MIN_REASON_CHARS:
        return None
    return match.start(), end


def _attribution(sentence: str) -> str | None:
    found = find_attribution(sentence)
    return found.text if found is not None else None
