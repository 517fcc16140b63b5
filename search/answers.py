"""Ask: one short, cited answer per source, and whether the sources agree.

For each document that has a passage relevant to the question, the sentences
of its best passages are scored by their own similarity to the question (the
sentence vectors stored at ingest), by their passage's retrieval score, and by
how well a span of the expected type answers it (`search.extract`). The best
sentence gives the document's answer; a document with no span of the right
type above the threshold gives none rather than a wrong one. The answers are
then compared (`search.conflicts`).

Answers are read within one story (the documents about one event,
`index.stories`): by default the story whose passages rank best for the
question, so that a question that names its event is answered by that event's
sources, and a bare one by the best-matching story, with the other matching
stories listed so a client can ask again within one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.chunk import Passage
from index.corpus import Corpus
from index.documents import Document
from index.embed import Embedder
from index.errors import NotFound
from index.stories import Story
from index.text import stem, stopwords, word_list
from index.words import zipf
from search.confidence import calibration, signals
from search.conflicts import Claim, Comparison, compare_claims
from search.document_reader import (
    READER,
    SPEECH_TYPES,
    DocumentReader,
    ReadAnswer,
    ReaderOptions,
    keyword_weights,
)
from search.engine import RankedGroup, SearchOptions, SearchResult, rank, rank_to_result
from search.question import TYPED, QuestionAnalysis, analyze_question
from search.retrieve import Ranking
from search.speech import parse_speech_question
from search.timeline import Report, Timeline, story_timeline


@dataclass(frozen=True)
class UnansweredDocument:
    """A document read for the question that gives no answer the reader is confident of:
    its sentence closest to the question, as context."""

    document: Document
    passage: Passage
    sentence: str
    sentence_start: int
    sentence_end: int
    story_id: str | None = None


@dataclass(frozen=True)
class ScoredStory:
    """A story that matches a question, scored by its best passage's score."""

    story: Story
    score: float


@dataclass(frozen=True)
class AskResult:
    analysis: QuestionAnalysis
    answers: tuple[ReadAnswer, ...]
    comparison: Comparison
    search: SearchResult
    story: Story | None = None  # the story answered; None across the whole archive
    other_stories: tuple[ScoredStory, ...] = ()
    note: str | None = None  # why there is no answer, when the question cannot be read
    # The documents read that give no confident answer, in the order read.
    unanswered: tuple[UnansweredDocument, ...] = ()
    # The compared answers over time, and whether differing figures were revised or disputed.
    timeline: Timeline = Timeline((), None, ())
    # Every answer found, with its confidence, before the threshold (for evaluation).
    candidates: tuple[ReadAnswer, ...] = ()


def ask(
    corpus: Corpus,
    embedder: Embedder,
    question: str,
    options: SearchOptions,
    story: str = "auto",
    *,
    reader: ReaderOptions = READER,
) -> AskResult:
    """Answer `question` from every relevant document of one story and compare the answers.

    `story` is "auto" (the story that matches the question best), a story id, or
    "all" (every story; answers are still compared story by story).
    """
    if story not in ("auto", "all") and corpus.story(story) is None:
        raise NotFound(f"'story': no story with id {story!r}; GET /stories lists them")
    vector = embedder.encode([question])[0]
    ranking = rank(corpus, embedder, question, options, vector=vector)
    note = unreadable(question, reader)
    if note is not None:
        # Passages may still match; no answer is read from a question that asks nothing.
        shown = rank_to_result(corpus, ranking, options)
        return AskResult(analyze_question(question), (), compare_claims([]), shown, note=note)
    matches = story_matches(corpus, ranking, reader.other_stories + 1)
    chosen, within, ranked = story_ranking(
        corpus, embedder, question, vector, ranking, options, story, matches
    )
    result = answer_from_ranking(corpus, question, vector, ranked, within, reader=reader)
    if chosen is None:  # across every story, or nothing in the archive matches
        others = tuple(matches[: reader.other_stories]) if story == "all" else ()
        return replace(result, other_stories=others)
    others = tuple(m for m in matches if m.story.id != chosen)[: reader.other_stories]
    return replace(result, story=corpus.story(chosen), other_stories=others)


def story_ranking(
    corpus: Corpus,
    embedder: Embedder,
    question: str,
    vector: np.ndarray,
    ranking: Ranking,
    options: SearchOptions,
    story: str,
    matches: Sequence[ScoredStory],
) -> tuple[str | None, SearchOptions, Ranking]:
    """The story a question is answered within ("auto": the best of `matches`; a story id;
    "all": none), and the options and ranking narrowed to it; None, `options` and
    `ranking` unchanged across every story or when nothing matches."""
    chosen = None if story == "all" else story if story != "auto" else None
    if story == "auto" and matches:
        chosen = matches[0].story.id
    if chosen is None:
        return None, options, ranking
    within = within_story(options, chosen)
    return chosen, within, rank(corpus, embedder, question, within, vector=vector)


def unreadable(question: str, reader: ReaderOptions = READER) -> str | None:
    """Why a question cannot be answered as asked: only stopwords, or not English."""
    words = [w for w in word_list(question) if w.isalpha()]
    if not words or all(w in stopwords() for w in words):
        return "the question has only function words; name what you ask about"
    english = sum(zipf(w) >= reader.english_zipf for w in words)
    if len(words) >= reader.english_words and english / len(words) < reader.english_share:
        return "the question does not read as English; the reader answers English questions"
    return None


def within_story(options: SearchOptions, story_id: str) -> SearchOptions:
    """The options narrowed to one story (and still to the stories their filters allow)."""
    allowed = options.filters.story_ids
    narrowed = (story_id,) if allowed is None else tuple(i for i in allowed if i == story_id)
    return replace(options, filters=replace(options.filters, story_ids=narrowed))


def story_matches(corpus: Corpus, ranking: Ranking, limit: int) -> list[ScoredStory]:
    """The stories of the ranked passages, best first, each scored by its best passage."""
    found: dict[str, float] = {}
    story_of = corpus.stories.story_of
    for row, score in zip(ranking.rows.tolist(), ranking.scores.tolist(), strict=True):
        story = story_of.get(corpus.passages[row].doc_id)
        if story is not None and story not in found:
            found[story] = score
            if len(found) == limit:
                break
    matches = []
    for story_id, score in found.items():
        story = corpus.story(story_id)
        if story is not None:
            matches.append(ScoredStory(story, round(float(score), 6)))
    return matches


def answer_from_ranking(
    corpus: Corpus,
    question: str,
    vector: np.ndarray,
    ranking: Ranking,
    options: SearchOptions,
    *,
    reader: ReaderOptions = READER,
) -> AskResult:
    """The extraction half of `ask`: answers from the ranked passages, compared."""
    analysis = analyze_question(question)
    speech = parse_speech_question(question) if analysis.answer_type in SPEECH_TYPES else None
    groups = documents_read(corpus, ranking, options, reader)
    read = [text for group in groups for hit in group.hits for text in hit.passage.sentence_texts()]
    # The question's keywords, and the terms of what it asks about as one alternative
    # ("killed": "kill", "dead", "death").
    target = tuple(t for t in analysis.target_terms if t.isalpha())
    if len(target) == 1:
        target = tuple(dict.fromkeys((*target, stem(target[0]))))  # "estimate": "estim"
    terms = [(stem(k),) for k in analysis.keywords] + ([target] if target else [])
    weights = keyword_weights(terms, read)
    readers = []
    for group in groups:
        document = DocumentReader(
            corpus, group.document, analysis, speech, vector, weights, options=reader
        )
        readers.append((group, document, document.read([hit.passage for hit in group.hits])))
    # The sentence closest to the question of all those read: a sentence answer to a typed
    # question needs `min_fallback_similarity`, or to be this one.
    closest = max((read[3] for *_, sentences in readers for read in sentences), default=0.0)
    found = []
    for place, (group, document, sentences) in enumerate(readers):
        best = document.best_answer(sentences, closest)
        if best is not None:
            found.append(replace(best, story_id=group.story_id, rank=place))
    candidates = scored(found, analysis.answer_type, closest)
    answers = sorted(
        (a for a in candidates if a.confidence >= reader.min_confidence), key=lambda a: -a.score
    )
    answering = {a.document.id for a in answers}
    unanswered = tuple(
        _unanswered(group, sentences)
        for group, _, sentences in readers
        if group.document.id not in answering and sentences
    )
    comparison, times = compared(answers, reader)
    shown = rank_to_result(corpus, ranking, options)
    return AskResult(
        analysis,
        tuple(answers),
        comparison,
        shown,
        unanswered=unanswered,
        timeline=times,
        candidates=tuple(candidates),
    )


def compared(
    answers: Sequence[ReadAnswer], reader: ReaderOptions = READER
) -> tuple[Comparison, Timeline]:
    """Whether the answers' claims agree, and their timeline: revised or disputed figures,
    whose reasons lead the comparison's."""
    claims = claims_of(answers, reader)
    comparison = compare_claims(claims)
    by_doc = {a.document.id: a for a in answers}
    reports = [
        Report(c, by_doc[c.doc_id].document.published, by_doc[c.doc_id].attributed_to)
        for c in claims
    ]
    times = story_timeline(reports, reader.same_time_hours)
    if times.reasons:
        comparison = replace(comparison, reasons=[*times.reasons, *comparison.reasons])
    return comparison, times


def documents_read(
    corpus: Corpus, ranking: Ranking, options: SearchOptions, reader: ReaderOptions = READER
) -> tuple[RankedGroup, ...]:
    """The documents read for answers, best first: `reader.max_sources` of them, each with
    its `reader.passages_per_document` best passages."""
    per_document = SearchOptions(k=options.k, per_source=reader.passages_per_document)
    return rank_to_result(corpus, ranking, per_document).by_source[: reader.max_sources]


def scored(answers: Sequence[ReadAnswer], asked: str, closest: float) -> list[ReadAnswer]:
    """The answers with their signals and confidence (`search.confidence`); `closest` is
    the similarity of the sentence closest to the question of all those read."""
    model = calibration()
    found = []
    for answer in answers:
        values = tuple(signals(answer, answers, asked, closest))
        found.append(
            replace(answer, signals=values, confidence=round(model.probability(values), 4))
        )
    return found


def _unanswered(
    group: RankedGroup, sentences: list[tuple[int, Passage, tuple[int, int], float]]
) -> UnansweredDocument:
    """A document that does not answer, with its sentence closest to the question."""
    _, passage, (start, end), _ = max(sentences, key=lambda read: read[3])
    text = group.document.text
    return UnansweredDocument(group.document, passage, text[start:end], start, end, group.story_id)


def claims_of(answers: Sequence[ReadAnswer], reader: ReaderOptions = READER) -> list[Claim]:
    """The answers compared for conflicts: typed values (a sentence or phrase answer never
    raises a conflict) whose sentences are about what the question asks (`claim_coverage`)."""
    typed = [
        a
        for a in answers
        if a.answer_type in TYPED and a.confidence >= reader.min_compared_confidence
    ]
    top = max((a.coverage for a in typed), default=0.0)
    claims = []
    for a in typed:
        share = reader.claim_coverage if a.value is not None else reader.name_claim_coverage
        if a.coverage >= top * share:
            doc = a.document
            claims.append(Claim(doc.id, doc.source, a.answer, a.value, a.answer_type, a.story_id))
    return claims
