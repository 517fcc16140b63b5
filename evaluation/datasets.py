"""Checks of the hand-written evaluation data sets: the story labels with their questions
(eval/stories/) and the reader question sets (eval/reader/).

Run from the repo root:
    python -m evaluation.datasets                    # both: labels, then the four reader sets
    python -m evaluation.datasets labels             # eval/stories/{public,dev,questions}.jsonl
    python -m evaluation.datasets questions FILE...  # reader question files
                                                     # (none: eval/reader/{stories,reworded,dev,
                                                     #  time})
REUTERS_JSONL=/path/to/reuters21578.jsonl overrides the Reuters path
(default ../shared/data/reuters21578/reuters21578.jsonl beside the repo).

Story labels (`labels`), every problem is listed:
  * every id exists in Reuters-21578 with a non-empty body (or is a seed file);
  * no id appears twice in a file, no id is in both public.jsonl and dev.jsonl;
  * public ids are r1..r6500 (+ the five seeds), dev ids are r12000..r17500, no seeds in dev;
  * single-document stories are labelled with their own id, every other story has 2+ docs;
  * minimum counts: public >= 32 Reuters events with 2+ docs and >= 320 single distractors,
    dev >= 25 events and >= 250 distractors; the seed story holds exactly the five seeds;
    the Ecuador earthquake story contains its known core members;
  * questions.jsonl: >= 30 questions over >= 14 stories, >= 3 about the seed story, unique ids,
    every story exists in public.jsonl, every expected doc belongs to that story, every regex
    compiles and matches (case-insensitively) the document's body, conflict is true/false/null.
It prints a summary per file, then "OK: all checks passed" or "FAILED: n problem(s)" and the list.

Reader question files (`questions`), line format
    {"id": ..., "question": ..., "story": ..., "type": ..., "expected": {doc_id: [regex, ...]},
     "conflict": true | false | null}
  * the line parses as a JSON object with the fields id, question, story, type, expected,
    conflict; id, question and story are non-empty strings; ids are unique within the file;
  * type is an answer type of `search.question.AnswerType` other than "other";
  * conflict is null for the types answered by a sentence (`search.question.SENTENCE_TYPES`:
    yes_no, reason, manner) and true/false for the others;
  * story is a multi-document story of eval/stories/public.jsonl or eval/stories/dev.jsonl;
  * expected is a non-empty object; every document id carries the question's story label in
    public.jsonl or dev.jsonl (seed ids, i.e. seed file names without .txt, count for the
    seed story) and has a text;
  * every pattern is a non-empty string, compiles as a Python regex and matches
    (case-insensitively) its document's text - title + "\\n\\n" + body with single newlines
    joined into spaces - inside a single paragraph, and the match is short
    (at most MAX_MATCH characters: the answer, not a whole sentence).
Two more fields say how the answering documents' figures relate over time. They are required
in the time set (a file named like eval/reader/time.jsonl, TIME_SET) and checked wherever
they appear, so the older sets, whose lines lack them, keep passing:
    "no_answer": [doc_id, ...], "disagreement": "revised" | "disputed" | null
  * disagreement is "revised" (later reports supersede earlier figures), "disputed" (figures
    of about the same time or of different parties that cannot all be true) or null (the
    answering documents agree, or only one answers); conflict is true exactly when
    disagreement is not null, and a sentence-answered question has neither;
  * no_answer is a list of distinct document ids (possibly empty) that carry the question's
    story label, have a text, and are not in expected: documents of the story that do not
    answer the question;
  * questions of the time set have a typed answer (not yes_no, reason or manner).
It stops at the first problem with "FAILED: " and a message naming the file, line, question and
document on stderr; when a file passes it prints a summary of it.

Exit status 0 when everything checked passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn, get_args

from search.question import SENTENCE_TYPES, AnswerType

REPO = Path(__file__).resolve().parent.parent
STORIES = REPO / "eval" / "stories"
READER_SETS = tuple(
    REPO / "eval" / "reader" / f"{name}.jsonl" for name in ("stories", "reworded", "dev", "time")
)
# The reader set on figures that change over time or disagree between documents: its lines must
# carry TIME_FIELDS (a file with this name, wherever it is, is checked as this set).
TIME_SET = REPO / "eval" / "reader" / "time.jsonl"
SEED_DIR = REPO / "seeds"
DEFAULT_REUTERS = REPO / ".." / "shared" / "data" / "reuters21578" / "reuters21578.jsonl"
# A Reuters document's id: "r" + newid.
REUTERS_ID = re.compile(r"r(\d+)")

# The five seed articles, which form one story of public.jsonl.
SEEDS = (
    "000_487d20731cd06fa7",
    "001_f41bc6fbf25c952a",
    "002_811ad477ead50ed2",
    "003_ec9ad3d51fc008de",
    "004_72b5cb386ec7b792",
)
SEED_STORY = "baghdad-embassy-2019"
ECUADOR_STORY = "ecuador-earthquake-1987"
ECUADOR_CORE = ("r2957", "r3332", "r3388", "r3940", "r5145", "r5268")

# The answer types a reader question may have: every type the reader tells apart but "other".
TYPES = tuple(t for t in get_args(AnswerType) if t != "other")
FIELDS = ("id", "question", "story", "type", "expected", "conflict")
# The fields the time set adds: documents of the story that do not answer, and how the answering
# documents' figures relate ("revised", "disputed" or null).
TIME_FIELDS = ("no_answer", "disagreement")
DISAGREEMENTS = ("revised", "disputed", None)
# The longest match an answer pattern may have: the answer, not a whole sentence.
MAX_MATCH = 120

# A reader question document: its text and its paragraphs.
Text = tuple[str, list[str]]


class Problem(Exception):
    """A data set breaks a rule; the message names the file, line, question and document."""


def refuse(message: str) -> NoReturn:
    """Raise `message` as a Problem (for the callbacks that stop at the first problem)."""
    raise Problem(message)


@dataclass(frozen=True)
class LabelSet:
    """A hand-labelled story set and the rules its file keeps."""

    name: str
    first: int  # the lowest Reuters newid it may hold
    last: int  # the highest
    seeds: bool  # whether the seed story belongs to it
    min_events: int  # Reuters stories with 2+ documents
    min_singles: int  # single-document distractors

    @property
    def path(self) -> Path:
        return STORIES / f"{self.name}.jsonl"


PUBLIC = LabelSet("public", 1, 6500, seeds=True, min_events=32, min_singles=320)
DEV = LabelSet("dev", 12000, 17500, seeds=False, min_events=25, min_singles=250)


# ---- the readers both checks use ----------------------------------------------------------


def read_jsonl(
    path: Path, bad_line: Callable[[int, json.JSONDecodeError], object]
) -> list[tuple[int, Any]]:
    """Every non-blank line of `path` parsed, with its number (from 1). A line that is not
    JSON is handed to `bad_line`, which may raise, and is left out."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                bad_line(n, e)
    return rows


@cache
def reuters_records() -> dict[str, dict[str, Any]]:
    """The Reuters-21578 records with a non-empty body, by document id "r<newid>", read from
    REUTERS_JSONL or the shared data folder."""
    path = Path(os.environ.get("REUTERS_JSONL", DEFAULT_REUTERS))
    if not path.exists():
        refuse(f"Reuters file not found: {path} (set REUTERS_JSONL)")
    rows = read_jsonl(path, lambda n, e: refuse(f"{path}:{n}: bad JSON ({e})"))
    return {f"r{r['newid']}": r for _, r in rows if (r.get("body") or "").strip()}


def seed_path(seed_id: str) -> Path:
    """Where the seed `seed_id` is: seeds/<seed_id>.txt."""
    return SEED_DIR / f"{seed_id}.txt"


def seed_text(seed_id: str) -> str | None:
    """The text the service stores for the seed file named `seed_id` (its own intake reads
    the page), None when there is no such file."""
    from index.clean import clean_page

    path = seed_path(seed_id)
    return clean_page(path.read_text(encoding="utf-8")).text if path.exists() else None


def stored_text(record: Mapping[str, Any]) -> str:
    """What a question about a Reuters record is matched against: its title, a paragraph of
    its own, then the hard-wrapped body as the service's own intake stores it
    (`index.clean`; the service keeps the title in its own field)."""
    from index.clean import clean_text

    title = (record.get("title") or "").strip()
    body = clean_text(record["body"])
    return f"{title}\n\n{body}" if title else body


def answer_regex(pattern: str, where: str) -> re.Pattern[str]:
    """`pattern` compiled case-insensitively, as every expected answer is matched."""
    try:
        return re.compile(pattern, re.I)
    except re.error as e:
        raise Problem(f"{where}: regex {pattern!r} does not compile ({e})") from e


def require_match(regex: re.Pattern[str], text: str, where: str) -> None:
    """Raise a Problem unless `regex` matches somewhere in `text`."""
    if not regex.search(text):
        raise Problem(f"{where}: regex {regex.pattern!r} does not match the document text")


def conflict_counts(conflicts: Iterable[Any]) -> str:
    """How many of `conflicts` are true, false and null, as the summaries print it."""
    counts = Counter(conflicts)
    return (
        "conflict true/false/null = "
        f"{counts.get(True, 0)}/{counts.get(False, 0)}/{counts.get(None, 0)}"
    )


# ---- story labels and story questions (eval/stories/) -------------------------------------


def check_labels() -> list[str]:
    """Every problem of the two story label sets and the story questions; prints a summary of
    each file."""
    problems: list[str] = []
    reuters = reuters_records()
    seeds = label_seeds(problems)
    public, dev, questions = (
        label_rows(path, problems) for path in (PUBLIC.path, DEV.path, STORIES / "questions.jsonl")
    )
    public_stories = check_set(PUBLIC, public, reuters, problems)
    check_set(DEV, dev, reuters, problems)
    both = {r["id"] for r in public} & {r["id"] for r in dev}
    if both:
        problems.append(f"ids in both sets: {sorted(both)[:10]}")
    missing = [i for i in ECUADOR_CORE if i not in set(public_stories.get(ECUADOR_STORY, []))]
    if missing:
        problems.append(f"public: {ECUADOR_STORY} lacks {missing}")
    texts = {doc: stored_text(record) for doc, record in reuters.items()} | seeds
    check_story_questions(questions, {r["id"]: r["story"] for r in public}, texts, problems)
    return problems


def label_seeds(problems: list[str]) -> dict[str, str]:
    """The stored texts of the five seeds; a missing seed file is a problem."""
    texts = {}
    for seed in SEEDS:
        text = seed_text(seed)
        if text is None:
            problems.append(f"seed file missing: {seed_path(seed)}")
        else:
            texts[seed] = text
    return texts


def label_rows(path: Path, problems: list[str]) -> list[Any]:
    """The parsed lines of `path`; a line that is not JSON is a problem."""
    rows = read_jsonl(path, lambda n, e: problems.append(f"{path.name}:{n}: bad JSON ({e})"))
    return [row for _, row in rows]


def check_set(
    spec: LabelSet, rows: list[Any], reuters: Mapping[str, Any], problems: list[str]
) -> dict[str, list[str]]:
    """The stories of one label set (label -> member ids), after checking its rows, ids,
    stories and counts; prints its summary."""
    name = spec.name
    for r in rows:
        if set(r) != {"id", "story"} or not all(isinstance(r.get(k), str) for k in ("id", "story")):
            problems.append(f"{name}: malformed row {r}")
    for i, c in Counter(r.get("id") for r in rows).items():
        if c > 1:
            problems.append(f"{name}: id {i} appears {c} times")
    stories: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        stories[r["story"]].append(r["id"])
    for r in rows:
        problems.extend(id_problems(spec, r["id"], reuters))
    events, singles = check_stories(name, stories, problems)
    if spec.seeds and sorted(stories.get(SEED_STORY, [])) != sorted(SEEDS):
        problems.append(f"{name}: story {SEED_STORY} must contain exactly the five seeds")
    if events < spec.min_events:
        problems.append(
            f"{name}: only {events} Reuters events with 2+ docs (need >= {spec.min_events})"
        )
    if singles < spec.min_singles:
        problems.append(
            f"{name}: only {singles} single-document distractors (need >= {spec.min_singles})"
        )
    print(set_summary(spec, stories, events, singles))
    return stories


def id_problems(spec: LabelSet, doc: str, reuters: Mapping[str, Any]) -> list[str]:
    """What is wrong with document id `doc` in set `spec`: a seed where seeds do not belong,
    an id that is not "r<newid>", a Reuters document without a body or out of range."""
    if doc in SEEDS:
        return [] if spec.seeds else [f"{spec.name}: seed {doc} must not be in this set"]
    m = REUTERS_ID.fullmatch(doc)
    if not m:
        return [f"{spec.name}: bad id {doc}"]
    found = []
    if doc not in reuters:
        found.append(f"{spec.name}: {doc} not found in Reuters with a non-empty body")
    if not spec.first <= int(m.group(1)) <= spec.last:
        found.append(f"{spec.name}: {doc} outside newid range {spec.first}..{spec.last}")
    return found


def check_stories(
    name: str, stories: Mapping[str, list[str]], problems: list[str]
) -> tuple[int, int]:
    """The number of Reuters events (2+ documents, not the seed story) and of single-document
    distractors, after checking each story's label and members."""
    events = singles = 0
    for story, members in stories.items():
        if not story.strip():
            problems.append(f"{name}: empty story label")
        if len(members) == 1:
            if members[0] != story:
                problems.append(
                    f"{name}: single-document story {story} must be labelled with its own id "
                    f"({members[0]})"
                )
            singles += 1
            continue
        if REUTERS_ID.fullmatch(story):
            problems.append(f"{name}: multi-document story labelled like a doc id: {story}")
        if story != SEED_STORY:
            events += 1
            if any(m in SEEDS for m in members):
                problems.append(f"{name}: seeds placed in story {story}")
    return events, singles


def set_summary(spec: LabelSet, stories: Mapping[str, list[str]], events: int, singles: int) -> str:
    """One line: documents, events with their sizes, distractors (and the seed story)."""
    sizes = sorted(
        (len(v) for k, v in stories.items() if len(v) > 1 and k != SEED_STORY), reverse=True
    )
    seeds = f", seed story with {len(stories.get(SEED_STORY, []))} docs" if spec.seeds else ""
    documents = sum(len(v) for v in stories.values())
    return (
        f"{spec.name}: {documents} docs, {events} Reuters events with 2+ docs "
        f"({sum(sizes)} docs, sizes {sizes}), {singles} single distractors{seeds}"
    )


def check_story_questions(
    questions: list[Any], story_of: Mapping[str, str], texts: Mapping[str, str], problems: list[str]
) -> None:
    """Checks questions.jsonl against public.jsonl's labels and the documents' texts; prints
    its summary."""
    for i, c in Counter(q.get("id") for q in questions).items():
        if c > 1:
            problems.append(f"questions: id {i} appears {c} times")
    labels = set(story_of.values())
    for q in questions:
        problems.extend(story_question_problems(q, story_of, labels, texts))
    stories = Counter(q.get("story") for q in questions)
    on_seeds = stories.get(SEED_STORY, 0)
    if len(questions) < 30:
        problems.append(f"questions: only {len(questions)} questions (need >= 30)")
    if len(stories) < 14:
        problems.append(f"questions: only {len(stories)} stories covered (need >= 14)")
    if on_seeds < 3:
        problems.append(f"questions: only {on_seeds} questions on {SEED_STORY} (need >= 3)")
    print(
        f"questions: {len(questions)} questions over {len(stories)} stories "
        f"({on_seeds} on the seed story); {conflict_counts(q.get('conflict') for q in questions)}"
    )


def story_question_problems(
    q: Mapping[str, Any], story_of: Mapping[str, str], labels: set[str], texts: Mapping[str, str]
) -> list[str]:
    """What is wrong with one story question: fields, story, conflict and expected answers."""
    qid, story = q.get("id"), q.get("story")
    found = [
        f"questions: {qid} lacks field {k}"
        for k in ("id", "question", "story", "expected", "conflict")
        if k not in q
    ]
    if story not in labels:
        found.append(f"questions: {qid}: story {story} not in public.jsonl")
    if q.get("conflict") not in (True, False, None):
        found.append(f"questions: {qid}: conflict must be true, false or null")
    expected = q.get("expected") or {}
    if not isinstance(expected, dict) or not expected:
        return [*found, f"questions: {qid}: expected must be a non-empty object"]
    for doc, patterns in expected.items():
        where = f"questions: {qid}: {doc}"
        if story_of.get(doc) != story:
            found.append(f"questions: {qid}: {doc} is not a member of story {story}")
        if not isinstance(patterns, list) or not patterns:
            found.append(f"{where}: expected a non-empty list of regexes")
        elif doc not in texts:
            found.append(f"questions: {qid}: no text for {doc}")
        else:
            found.extend(pattern_problems(patterns, texts[doc], where))
    return found


def pattern_problems(patterns: list[str], text: str, where: str) -> list[str]:
    """The patterns that do not compile or do not match `text`, as problems."""
    found = []
    for pattern in patterns:
        try:
            require_match(answer_regex(pattern, where), text, where)
        except Problem as problem:
            found.append(str(problem))
    return found


# ---- reader question sets (eval/reader/) ---------------------------------------------------


def check_reader_sets(paths: Sequence[Path]) -> None:
    """Checks each reader question file in turn and prints its summary; raises a Problem at
    the first thing wrong."""
    for path in paths:
        if not path.exists():
            refuse(f"question file not found: {path}")
    story_of = story_labels()
    for path in paths:
        check_reader_file(path, story_of)


def story_labels() -> dict[str, str]:
    """Document id -> story label, over eval/stories/public.jsonl and dev.jsonl."""
    story_of = {}
    for path in (PUBLIC.path, DEV.path):
        if not path.exists():
            refuse(f"label file missing: {path}")
        for _, r in read_jsonl(path, lambda n, e, p=path: refuse(f"{p}:{n}: bad JSON ({e})")):
            story_of[r["id"]] = r["story"]
    return story_of


def check_reader_file(path: Path, story_of: Mapping[str, str]) -> None:
    """Checks every question of one reader file: its form first (so the documents to read
    are known), then every expected answer in its document and every no-answer document's
    text; prints the file's summary. A file named like TIME_SET must carry TIME_FIELDS."""
    rows = reader_questions(path)
    multi = Counter(s for i, s in story_of.items() if s != i)
    time_set = path.name == TIME_SET.name
    seen: set[str] = set()
    for n, q in rows:
        where = check_reader_fields(f"{path}:{n}", q, FIELDS + TIME_FIELDS if time_set else FIELDS)
        if q["id"] in seen:
            refuse(f"{where}: duplicate id {q['id']!r}")
        seen.add(q["id"])
        check_type_and_conflict(where, q["type"], q["conflict"])
        check_story_and_expected(where, q, story_of, multi)
        check_time_fields(where, q, story_of, time_set)
    docs = reader_documents({d for _, q in rows for d in (*q["expected"], *q.get("no_answer", ()))})
    for n, q in rows:
        where = f"{path}:{n} ({q['id']})"
        check_reader_answers(where, q["expected"], docs)
        for doc in q.get("no_answer", ()):
            if doc not in docs:
                refuse(f"{where}: no text found for no_answer document {doc}")
    print_reader_summary(path, [q for _, q in rows])


def reader_questions(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The questions of `path` with their line numbers; every line must be a JSON object."""
    rows = read_jsonl(path, lambda n, e: refuse(f"{path}:{n}: line does not parse as JSON ({e})"))
    for n, q in rows:
        if not isinstance(q, dict):
            refuse(f"{path}:{n}: line is not a JSON object")
    if not rows:
        refuse(f"{path}: no questions")
    return rows


def check_reader_fields(line: str, q: Mapping[str, Any], fields: Sequence[str] = FIELDS) -> str:
    """Checks that a question has every one of `fields` and that id, question and story are
    non-empty strings; returns how messages name it: "file:line (id)"."""
    for k in fields:
        if k not in q:
            refuse(f"{line}: question {q.get('id')!r} lacks field {k!r}")
    where = f"{line} ({q['id']})"
    for k in ("id", "question", "story"):
        if not isinstance(q[k], str) or not q[k].strip():
            refuse(f"{where}: field {k!r} must be a non-empty string")
    return where


def check_story_and_expected(
    where: str, q: Mapping[str, Any], story_of: Mapping[str, str], multi: Mapping[str, int]
) -> None:
    """The story has 2+ labelled documents, every expected document carries it, and every
    pattern is a non-empty string that compiles (that it matches is checked once the texts
    are read)."""
    story = q["story"]
    if multi.get(story, 0) < 2:
        refuse(
            f"{where}: story {story!r} is not a multi-document story of "
            "eval/stories/public.jsonl or dev.jsonl"
        )
    expected = q["expected"]
    if not isinstance(expected, dict) or not expected:
        refuse(f"{where}: expected must be a non-empty object {{doc_id: [regex, ...]}}")
    for doc, patterns in expected.items():
        check_expected_document(where, story, doc, story_of.get(doc))
        if not isinstance(patterns, list) or not patterns:
            refuse(f"{where}: {doc}: expected a non-empty list of regexes")
        for p in patterns:
            if not isinstance(p, str) or not p.strip():
                refuse(f"{where}: {doc}: pattern {p!r} must be a non-empty string")
            answer_regex(p, f"{where}: {doc}")


def check_type_and_conflict(where: str, answer_type: Any, conflict: Any) -> None:
    """The type is a reader answer type; conflict is null for sentence answers, true or false
    for typed ones."""
    if answer_type not in TYPES:
        refuse(f"{where}: type {answer_type!r} is not one of {', '.join(TYPES)}")
    if answer_type in SENTENCE_TYPES:
        if conflict is not None:
            refuse(
                f"{where}: conflict must be null for a {answer_type} question (got {conflict!r})"
            )
    elif conflict not in (True, False):
        refuse(
            f"{where}: conflict must be true or false for a {answer_type} question "
            f"(got {conflict!r})"
        )


def check_time_fields(
    where: str, q: Mapping[str, Any], story_of: Mapping[str, str], time_set: bool
) -> None:
    """The time set's fields, wherever a question has them (the time set's questions have
    both, checked by `check_reader_fields`, and a typed answer)."""
    if time_set and q["type"] in SENTENCE_TYPES:
        refuse(
            f"{where}: a question of the time set needs a typed answer, not {q['type']!r} "
            "(answered by a sentence)"
        )
    if "disagreement" in q:
        check_disagreement(where, q["type"], q["conflict"], q["disagreement"])
    if "no_answer" in q:
        check_no_answer(where, q["story"], q["no_answer"], q["expected"], story_of)


def check_disagreement(where: str, answer_type: Any, conflict: Any, disagreement: Any) -> None:
    """disagreement is "revised", "disputed" or null; conflict is true exactly when it is not
    null (a sentence-answered question, whose conflict is null, has no disagreement)."""
    if disagreement not in DISAGREEMENTS:
        refuse(
            f'{where}: disagreement must be "revised", "disputed" or null (got {disagreement!r})'
        )
    if answer_type in SENTENCE_TYPES:
        if disagreement is not None:
            refuse(f"{where}: disagreement must be null for a {answer_type} question")
    elif conflict is not (disagreement is not None):
        refuse(
            f"{where}: conflict must be {str(disagreement is not None).lower()} when "
            f"disagreement is {json.dumps(disagreement)} (got {json.dumps(conflict)})"
        )


def check_no_answer(
    where: str,
    story: str,
    no_answer: Any,
    expected: Mapping[str, Any],
    story_of: Mapping[str, str],
) -> None:
    """no_answer lists distinct documents that carry the question's story label and are not
    among the expected (answering) documents."""
    if not isinstance(no_answer, list):
        refuse(f"{where}: no_answer must be a list of document ids (got {no_answer!r})")
    for doc in no_answer:
        if not isinstance(doc, str) or not doc.strip():
            refuse(f"{where}: no_answer entry {doc!r} must be a non-empty document id")
    for doc, count in Counter(no_answer).items():
        if count > 1:
            refuse(f"{where}: no_answer lists {doc} {count} times")
    for doc in no_answer:
        check_expected_document(f"{where}: no_answer", story, doc, story_of.get(doc))
        if doc in expected:
            refuse(f"{where}: {doc} is both in expected and in no_answer")


def check_expected_document(where: str, story: str, doc: str, label: str | None) -> None:
    """An expected document carries the question's story label."""
    if label is None:
        refuse(f"{where}: document {doc} is not in public.jsonl or dev.jsonl")
    if label != story:
        refuse(f"{where}: document {doc} is labelled {label!r}, not {story!r}")


def reader_documents(needed: set[str]) -> dict[str, Text]:
    """The text and paragraphs of each needed document that has a text: a Reuters record
    (`stored_text`: its title, then the body as the service stores it) or a seed file as
    the service stores it. A paragraph is a line of the text, as the sentence splitter
    reads it."""
    reuters_ids = {d for d in needed if REUTERS_ID.fullmatch(d)}
    records = reuters_records() if reuters_ids else {}
    texts = {d: stored_text(records[d]) for d in reuters_ids if d in records}
    for doc in needed - reuters_ids:
        text = seed_text(doc)
        if text is not None:
            texts[doc] = text
    return {
        doc: (text, [line for line in text.split("\n") if line.strip()])
        for doc, text in texts.items()
    }


def check_reader_answers(
    where: str, expected: Mapping[str, list[str]], docs: Mapping[str, Text]
) -> None:
    """Each pattern matches its document's text inside one paragraph, with a short match."""
    for doc, patterns in expected.items():
        if doc not in docs:
            refuse(f"{where}: no text found for document {doc}")
        text, parts = docs[doc]
        for p in patterns:
            regex = answer_regex(p, f"{where}: {doc}")
            require_match(regex, text, f"{where}: {doc}")
            check_short_paragraph_match(regex, parts, f"{where}: {doc}")


def check_short_paragraph_match(regex: re.Pattern[str], parts: list[str], where: str) -> None:
    """`regex` matches inside one of the paragraphs `parts`, in at most MAX_MATCH characters
    somewhere."""
    hits = [m for m in map(regex.search, parts) if m]
    if not hits:
        refuse(
            f"{where}: regex {regex.pattern!r} matches only across a paragraph "
            "boundary; it must match inside a single paragraph"
        )
    if min(len(m.group(0)) for m in hits) > MAX_MATCH:
        refuse(
            f"{where}: regex {regex.pattern!r} matches more than {MAX_MATCH} "
            "characters; match the short answer, not a sentence"
        )


def print_reader_summary(path: Path, questions: list[dict[str, Any]]) -> None:
    """Three lines: counts and conflicts, questions per type, questions per story; a fourth
    with the disagreements and no-answer documents when the questions carry them."""
    types = Counter(q["type"] for q in questions)
    stories = Counter(q["story"] for q in questions)
    multi_doc = sum(1 for q in questions if len(q["expected"]) >= 2)
    print(
        f"{path}: OK - {len(questions)} questions over {len(stories)} stories; "
        f"{multi_doc} with 2+ answering documents; "
        f"{conflict_counts(q['conflict'] for q in questions)}"
    )
    print("  types:   " + ", ".join(f"{t} {types[t]}" for t in TYPES if types[t]))
    print("  stories: " + ", ".join(f"{s} {c}" for s, c in stories.most_common()))
    if any(k in q for q in questions for k in TIME_FIELDS):
        kinds = Counter(q.get("disagreement") for q in questions if "disagreement" in q)
        listed = [q["no_answer"] for q in questions if q.get("no_answer")]
        print(
            "  disagreement revised/disputed/null = "
            f"{kinds['revised']}/{kinds['disputed']}/{kinds[None]}; "
            f"no_answer: {sum(map(len, listed))} documents over {len(listed)} questions"
        )


# ---- command line ------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(
        prog="python -m evaluation.datasets",
        description="Check the hand-written evaluation data sets (no command: all of them).",
    )
    sub = commands.add_subparsers(dest="command")
    sub.add_parser("labels", help="the story label sets and the story questions (eval/stories/)")
    questions = sub.add_parser("questions", help="reader question files (eval/reader/)")
    questions.add_argument(
        "files", nargs="*", type=Path, help="question files (default: the four reader sets)"
    )
    return commands


def report_labels(problems: list[str]) -> bool:
    """Prints the verdict of the label checks; True when there was no problem."""
    if problems:
        print(f"\nFAILED: {len(problems)} problem(s)")
        for problem in problems:
            print("  -", problem)
        return False
    print("\nOK: all checks passed")
    return True


def default_reader_sets() -> list[Path]:
    """The four reader sets, as paths relative to the working directory."""
    return [Path(os.path.relpath(path)) for path in READER_SETS]


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the checks the command line asks for; 0 when they pass, 1 otherwise."""
    args = parser().parse_args(argv)
    passed = True
    try:
        if args.command in (None, "labels"):
            passed = report_labels(check_labels())
        if args.command in (None, "questions"):
            check_reader_sets(getattr(args, "files", None) or default_reader_sets())
    except Problem as problem:
        print(f"FAILED: {problem}", file=sys.stderr)
        return 1
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
