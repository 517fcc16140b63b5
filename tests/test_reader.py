"""The reader on questions of every kind, with no story's words in its rules: question
types, the asked role of the verb, typed spans from gazetteers and the date grammar,
sentence answers that never raise a conflict, and questions that cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evaluation.metrics import exact_match, normalize_answer, token_f1
from helpers import app_client, wait_ready
from index.chunk import Passage
from index.documents import Document
from index.text import find_dates, quoted_spans, stem
from search.answers import claims_of, unreadable
from search.conflicts import Claim, compare_claims
from search.document_reader import ReadAnswer, keyword_coverage, keyword_weights, reason_clause
from search.extract import extract_answer
from search.gazetteer import is_country, is_place
from search.question import analyze_question


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("How long is the Vistula river?", "quantity"),
        ("What is the population of Warsaw?", "quantity"),
        ("What percentage of voters backed the plan?", "quantity"),
        ("In what year was the university founded?", "date"),
        ("On what date did the strike end?", "date"),
        ("Who founded the company?", "person"),
        ("Which Democratic senator switched his vote?", "person"),
        ("Which news agency reported the fire?", "organization"),
        ("Which countries signed the pact?", "place"),
        ("What is the location of the plant?", "place"),
        ("What kind of flags did they carry?", "category"),
        ("What sport does he play?", "category"),
        ("Were staff evacuated?", "yes_no"),
        ("Why did the talks collapse?", "reason"),
        ("How did the protesters get in?", "manner"),
        ("What did the minister say?", "other"),
        ("If the mine stays open, how long will repairs take?", "quantity"),
        ("Besides the police, who is investigating the fire?", "person"),
        ("What was the company's estimate of the damage?", "quantity"),
    ],
)
def test_question_types_of_general_english(question: str, answer_type: str) -> None:
    assert analyze_question(question).answer_type == answer_type


def test_the_asked_role_of_the_verb_decides_between_names() -> None:
    sentence = "Senator John Smith blamed Acme Corp for the spill on Tuesday."
    blamed = extract_answer(analyze_question("Who was blamed for the spill?"), sentence)
    blamer = extract_answer(analyze_question("Who blamed Acme Corp for the spill?"), sentence)
    assert blamer is not None and blamer.text == "John Smith"
    assert blamed is None or blamed.text != "John Smith"


def test_an_answer_is_never_made_of_the_question_s_own_words() -> None:
    analysis = analyze_question("Who stormed the embassy?")
    extraction = extract_answer(analysis, "Protesters stormed the embassy on Tuesday.")
    assert extraction is None or "embassy" not in extraction.text.lower()


def test_places_and_nationalities_come_from_the_gazetteers() -> None:
    assert is_place(("quito",)) and is_place(("new", "york")) and is_place(("u.s.",))
    assert is_country(("ecuador",)) and is_country(("iraqi",)) and not is_country(("quito",))
    assert not is_place(("grisham",))
    person = extract_answer(
        analyze_question("Who is the finance minister?"),
        "French Finance Minister Edouard Balladur said the plan would cost 1 billion francs.",
    )
    assert person is not None and person.text == "Edouard Balladur"


def test_dates_of_every_written_form() -> None:
    text = "On 3 March 1987, on March 5, 1987, in May, in the 1990s and on Tuesday."
    found = [text[a:b] for a, b in find_dates(text)]
    assert found == ["3 March 1987", "March 5, 1987", "May", "the 1990s", "Tuesday"]
    year = extract_answer(
        analyze_question("In what year did the ferry sink?"),
        "The ferry sank off Zeebrugge on March 6, 1987.",
    )
    assert year is not None and year.text == "1987"


def test_a_how_much_question_takes_the_money_not_the_days() -> None:
    extraction = extract_answer(
        analyze_question("How much was the offer for the company worth?"),
        "In the past two days the company received an offer worth 3.2 billion dlrs.",
    )
    assert extraction is not None and extraction.text == "3.2 billion dlrs"


def test_a_price_question_takes_no_percentage() -> None:
    analysis = analyze_question("What per-share price did the bidder offer for the stock?")
    sentence = "The bidder holds 19.9 pct of the stock and offered 48.50 dlrs per share."
    extraction = extract_answer(analysis, sentence)
    assert extraction is not None and extraction.text.startswith("48.50 dlrs")
    only_percent = extract_answer(analysis, "The bidder now holds 19.9 pct of the stock.")
    assert only_percent is None


def test_company_names_are_read_whole_and_ticker_codes_are_not_names() -> None:
    analysis = analyze_question("Which company bid for Acme Mining?")
    sentence = "GlobexCorp PipeLines Ltd <GBX> bid for Acme Mining Ltd <ACM.TO> yesterday."
    extraction = extract_answer(analysis, sentence)
    assert extraction is not None and extraction.text == "GlobexCorp PipeLines Ltd"


def test_provinces_are_places_and_not_people() -> None:
    assert is_place(("quebec",)) and is_place(("new", "south", "wales"))
    assert not is_place(("eastern",))  # a common word that is also a province's name
    extraction = extract_answer(
        analyze_question("Who said the mine would reopen?"),
        "Quebec officials said the mine would reopen, Marc Tremblay said.",
    )
    assert extraction is None or extraction.text != "Quebec"


def test_specific_question_words_weigh_more_than_the_story_s_own() -> None:
    read = [
        "Acme received an offer from Globex.",
        "Acme shares rose after the Globex offer.",
        "Acme's creditors would get 3.87 billion dlrs in cash under the offer.",
        "Acme has debt of 4.5 billion dlrs.",
    ]
    weights = keyword_weights([(stem(w),) for w in ("acme", "creditors", "cash")], read)
    assert weights[(stem("creditors"),)] > weights[(stem("acme"),)]
    assert keyword_coverage(weights, read[2]) == 1.0
    assert keyword_coverage(weights, read[3]) < 0.3


def test_a_figure_from_a_sentence_about_something_else_raises_no_conflict() -> None:
    def answer(doc_id: str, text: str, coverage: float) -> ReadAnswer:
        document = Document(doc_id, f"{text} is the figure.", source=doc_id.upper())
        passage = Passage(f"{doc_id}#0", doc_id, document.text, 0, len(document.text))
        end = len(document.text)
        return ReadAnswer(
            document, passage, text, document.text, 0, end, 0, len(text), None, 0.7,
            answer_type="quantity", coverage=coverage,
        )  # fmt: skip

    on_topic = [answer("a", "3.87 billion dlrs", 1.0), answer("b", "3.87 billion dlrs", 0.8)]
    off_topic = answer("c", "4.5 billion dlrs", 0.2)  # a sentence about the debt
    compared = claims_of([*on_topic, off_topic])
    assert [claim.doc_id for claim in compared] == ["a", "b"]
    assert not compare_claims(compared).conflict


def test_dates_conflict_only_when_a_stated_part_differs() -> None:
    def claims(*answers: str) -> list[Claim]:
        return [Claim(f"d{n}", f"o{n}", a, None, "date") for n, a in enumerate(answers)]

    assert not compare_claims(claims("Tuesday", "March 3")).conflict
    assert not compare_claims(claims("March 3, 1987", "March 3")).conflict
    assert compare_claims(claims("March 3", "March 5")).conflict


def test_sentence_answers_never_raise_a_conflict() -> None:
    claims = [
        Claim("a", "A", "The talks failed because of the price.", None, "sentence"),
        Claim("b", "B", "Both sides walked out.", None, "sentence"),
    ]
    assert not compare_claims(claims).conflict


def test_a_reason_clause_is_cut_from_its_sentence() -> None:
    sentence = "Exports were halted because of the earthquake, officials said."
    start, end = reason_clause(sentence) or (0, 0)
    assert sentence[start:end] == "because of the earthquake"


def test_questions_that_cannot_be_read_say_why() -> None:
    assert unreadable("How many were injured?") is None
    assert "function words" in (unreadable("and the of it?") or "")
    assert "English" in (unreadable("¿Cuántos heridos hubo en la embajada?") or "")


def test_one_stemmer_and_one_quotation_scanner() -> None:
    assert stem("injured") == stem("injure") == "injur"
    text = 'He said "we will respond" and left.'
    ((start, end),) = quoted_spans(text)
    assert text[start:end] == '"we will respond"'


def test_squad_normalisation_exact_match_and_f1() -> None:
    assert normalize_answer("The Broncos!") == "broncos"
    assert exact_match("the Denver Broncos", ["Denver Broncos"]) == 1.0
    assert token_f1("Denver", ["Denver Broncos"]) == pytest.approx(2 / 3)
    assert token_f1("", ["Denver"]) == 0.0


@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    for client in app_client(tmp_path):
        wait_ready(client)
        yield client


def test_ask_marks_each_answer_s_type_and_explains_an_unreadable_question(
    client: TestClient,
) -> None:
    question = "How many militia fighters were killed in the airstrikes?"
    body = client.post("/ask", json={"question": question}).json()
    assert body["answers"] and body["note"] is None
    assert {a["answer_type"] for a in body["answers"]} <= {"quantity", "sentence"}
    odd = client.post("/ask", json={"question": "and the of it?"})
    assert odd.status_code == 200
    assert odd.json()["answers"] == [] and "function words" in odd.json()["note"]
    for answer in body["answers"]:
        assert 0.0 <= answer["coverage"] <= 1.0
    yes_no = client.post("/ask", json={"question": "Were embassy staff evacuated?"}).json()
    assert yes_no["answer_type"] == "yes_no" and yes_no["conflict"] is False
    assert all(a["answer_type"] == "sentence" for a in yes_no["answers"])
