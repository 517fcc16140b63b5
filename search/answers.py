"""Ask: one short, cited answer per source, and whether the sources agree.

For each document that has a passage relevant to the question, the sentences
of its best passages are scored by their own similarity to the question (the
sentence vectors stored at ingest), by their passage's retrieval score, and by
how well a span of the expected type answers it (`search.extract`). The best
sentence gives the document's answer; a document with no span of the right
type above the threshold gives none rather than a wrong one. The answers are
then compared (`search.conflicts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.chunk import Passage
from index.corpus import Corpus
from index.documents import Document
from index.embed import Embedder
from search.claims import Quantity
from search.conflicts import Claim, Comparison, compare_claims
from search.engine import SearchOptions, SearchResult, rank, rank_to_result
from search.extract import extract_answer
from search.question import QuestionAnalysis, analyze_question

# How many of a document's best passages are read for its answer.
PASSAGES_PER_DOCUMENT = 3
# Weights of a sentence's score: its similarity to the question, the extracted
# span's own score, and its passage's place in the document's ranking.
SENTENCE_WEIGHT = 0.5
SPAN_WEIGHT = 0.4
PASSAGE_WEIGHT = 0.1
# Below this combined score a typed answer (a count, a name, a place) is no answer:
# a figure about something else ("wounded dozens of others" in the airstrikes, for
# "How many were injured?" about the protest) scores under it.
MIN_ANSWER_SCORE = 0.5
# A free-text ("other") answer is a whole sentence; below this similarity it is no answer.
MIN_SENTENCE_SIMILARITY = 0.3


@dataclass(frozen=True)
class Answer:
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


@dataclass(frozen=True)
class AskResult:
    analysis: QuestionAnalysis
    answers: tuple[Answer, ...]
    comparison: Comparison
    search: SearchResult


def ask(corpus: Corpus, embedder: Embedder, question: str, options: SearchOptions) -> AskResult:
    """Answer `question` from every relevant document and compare the answers."""
    analysis = analyze_question(question)
    vector = embedder.encode([question])[0]
    ranking = rank(corpus, embedder, question, options, vector=vector)
    result = rank_to_result(
        corpus, ranking, SearchOptions(k=options.k, per_source=PASSAGES_PER_DOCUMENT)
    )
    answers = []
    for group in result.by_source:
        best = _best_answer(corpus, analysis, vector, [hit.passage for hit in group.hits])
        if best is not None:
            answers.append(best)
    answers.sort(key=lambda a: -a.score)
    claims = [
        Claim(a.document.id, a.document.source, a.answer, a.value, analysis.answer_type)
        for a in answers
    ]
    shown = rank_to_result(corpus, ranking, options)
    return AskResult(analysis, tuple(answers), compare_claims(claims), shown)


def _best_answer(
    corpus: Corpus, analysis: QuestionAnalysis, vector: np.ndarray, passages: list[Passage]
) -> Answer | None:
    """The best-scoring answer among the sentences of a document's top passages."""
    best: Answer | None = None
    seen: set[tuple[int, int]] = set()
    for place, passage in enumerate(passages):
        row = corpus.rows_of(passage.doc_id).start + int(passage.passage_id.rsplit("#", 1)[1])
        similarities = corpus.sentence_vectors[corpus.sentence_rows(np.array([row]))] @ vector
        document = corpus.documents[passage.doc_id]
        for (start, end), similarity in zip(passage.sentences, similarities.tolist(), strict=True):
            if (start, end) in seen:
                continue
            seen.add((start, end))
            candidate = _answer_from_sentence(
                analysis, document, passage, start, end, similarity, place
            )
            if candidate is not None and (best is None or candidate.score > best.score):
                best = candidate
    return best


def _answer_from_sentence(
    analysis: QuestionAnalysis,
    document: Document,
    passage: Passage,
    start: int,
    end: int,
    similarity: float,
    place: int,
) -> Answer | None:
    sentence = document.text[start:end]
    passage_score = 1.0 / (1 + place)
    if analysis.answer_type == "other":
        if similarity < MIN_SENTENCE_SIMILARITY:
            return None
        span_start, span_end, span_score, value = 0, len(sentence), similarity, None
    else:
        extraction = extract_answer(analysis, sentence)
        if extraction is None:
            return None
        span_start, span_end = extraction.start, extraction.end
        span_score, value = extraction.score, extraction.value
    score = SENTENCE_WEIGHT * similarity + SPAN_WEIGHT * span_score + PASSAGE_WEIGHT * passage_score
    if analysis.answer_type != "other" and score < MIN_ANSWER_SCORE:
        return None
    return Answer(
        document=document,
        passage=passage,
        answer=sentence[span_start:span_end],
        sentence=sentence,
        sentence_start=start,
        sentence_end=end,
        answer_start=start + span_start,
        answer_end=start + span_end,
        value=value,
        score=round(score, 4),
    )
