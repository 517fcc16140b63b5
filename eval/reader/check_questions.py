#!/usr/bin/env python3
"""Validate a reader question file (stories.jsonl, reworded.jsonl, dev.jsonl).

Usage (from the repo root):
    python3 eval/reader/check_questions.py eval/reader/stories.jsonl [more files ...]
    (REUTERS_JSONL=/path/to/reuters21578.jsonl overrides the Reuters path)

Line format:
    {"id": ..., "question": ..., "story": ..., "type": ..., "expected": {doc_id: [regex, ...]},
     "conflict": true | false | null}

Checks, for every line:
  * the line parses as a JSON object with the fields id, question, story, type, expected,
    conflict; id, question and story are non-empty strings; ids are unique within the file;
  * type is one of quantity, date, person, organization, place, category, yes_no, reason,
    manner;
  * conflict is true/false for typed questions (quantity ... category) and null for
    yes_no / reason / manner;
  * story is a multi-document story of eval/stories/public.jsonl or eval/stories/dev.jsonl
    (not a single-document distractor label);
  * expected is a non-empty object; every document id carries the question's story label in
    public.jsonl or dev.jsonl (seed ids, i.e. seed file names without .txt, count for the
    seed story) and has a text;
  * every pattern is a non-empty string, compiles as a Python regex and matches
    (case-insensitively) its document's text - title + "\\n\\n" + body with single newlines
    joined into spaces - inside a single paragraph, and the match is short
    (at most MAX_MATCH characters: the answer, not a whole sentence).

Stops at the first problem with a message naming the file, line, question and document, and
exits 1; exits 0 (with a short summary) when every file passes. Standard library only.
"""

import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
REUTERS = os.environ.get(
    "REUTERS_JSONL",
    os.path.join(REPO, "..", "shared", "data", "reuters21578", "reuters21578.jsonl"),
)
SEED_DIR = os.path.join(REPO, "seeds")
SEED_STORY = "baghdad-embassy-2019"
LABEL_FILES = [
    os.path.join(REPO, "eval", "stories", "public.jsonl"),
    os.path.join(REPO, "eval", "stories", "dev.jsonl"),
]
TYPES = (
    "quantity",
    "date",
    "person",
    "organization",
    "place",
    "category",
    "yes_no",
    "reason",
    "manner",
)
UNTYPED = ("yes_no", "reason", "manner")  # conflict must be null for these
FIELDS = ("id", "question", "story", "type", "expected", "conflict")
MAX_MATCH = 120


class Problem(Exception):
    pass


def fail(msg):
    print(f"FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def join_lines(s):
    """Join hard line wraps (single newlines) into spaces; keep blank-line breaks."""
    return re.sub(r"(?<!\n)\n(?!\n)", " ", s)


def reuters_paragraphs(body):
    """Paragraphs of a Reuters body: a new paragraph starts with an indented line."""
    parts = re.split(r"\n(?=[ \t])|\n[ \t]*\n", body)
    return [join_lines(p).strip() for p in parts if p.strip()]


def seed_paragraphs(text):
    parts = re.split(r"\n[ \t]*\n", text)
    return [join_lines(p).strip() for p in parts if p.strip()]


def load_labels():
    story_of = {}
    for path in LABEL_FILES:
        if not os.path.exists(path):
            fail(f"label file missing: {path}")
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    fail(f"{path}:{n}: bad JSON ({e})")
                story_of[r["id"]] = r["story"]
    return story_of


def load_docs(needed):
    """Return {doc_id: (text, [paragraphs])} for the needed ids."""
    docs = {}
    want_r = {d for d in needed if re.fullmatch(r"r\d+", d)}
    if want_r:
        if not os.path.exists(REUTERS):
            fail(f"Reuters file not found: {REUTERS} (set REUTERS_JSONL)")
        with open(REUTERS, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                i = f"r{r['newid']}"
                if i not in want_r:
                    continue
                body = r.get("body") or ""
                if not body.strip():
                    continue
                title = (r.get("title") or "").strip()
                text = title + "\n\n" + join_lines(body)
                paras = ([title] if title else []) + reuters_paragraphs(body)
                docs[i] = (text, paras)
    for d in needed - want_r:
        p = os.path.join(SEED_DIR, d + ".txt")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                raw = f.read()
            docs[d] = (join_lines(raw), seed_paragraphs(raw))
    return docs


def read_questions(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
            except json.JSONDecodeError as e:
                fail(f"{path}:{n}: line does not parse as JSON ({e})")
            if not isinstance(q, dict):
                fail(f"{path}:{n}: line is not a JSON object")
            rows.append((n, q))
    if not rows:
        fail(f"{path}: no questions")
    return rows


def check_file(path, story_of):
    rows = read_questions(path)
    multi = Counter(s for i, s in story_of.items() if s != i)
    seen = set()
    # structural checks first, so the doc loading knows which ids to read
    for n, q in rows:
        where = f"{path}:{n}"
        for k in FIELDS:
            if k not in q:
                fail(f"{where}: question {q.get('id')!r} lacks field {k!r}")
        qid = q["id"]
        where = f"{path}:{n} ({qid})"
        for k in ("id", "question", "story"):
            if not isinstance(q[k], str) or not q[k].strip():
                fail(f"{where}: field {k!r} must be a non-empty string")
        if qid in seen:
            fail(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        if q["type"] not in TYPES:
            fail(f"{where}: type {q['type']!r} is not one of {', '.join(TYPES)}")
        c = q["conflict"]
        if q["type"] in UNTYPED:
            if c is not None:
                fail(f"{where}: conflict must be null for a {q['type']} question (got {c!r})")
        elif c not in (True, False):
            fail(f"{where}: conflict must be true or false for a {q['type']} question (got {c!r})")
        st = q["story"]
        if multi.get(st, 0) < 2:
            fail(
                f"{where}: story {st!r} is not a multi-document story of "
                "eval/stories/public.jsonl or dev.jsonl"
            )
        exp = q["expected"]
        if not isinstance(exp, dict) or not exp:
            fail(f"{where}: expected must be a non-empty object {{doc_id: [regex, ...]}}")
        for doc, pats in exp.items():
            if story_of.get(doc) != st:
                lab = story_of.get(doc)
                fail(
                    f"{where}: document {doc} is labelled {lab!r}, not {st!r}"
                    if lab is not None
                    else f"{where}: document {doc} is not in public.jsonl or dev.jsonl"
                )
            if not isinstance(pats, list) or not pats:
                fail(f"{where}: {doc}: expected a non-empty list of regexes")
            for p in pats:
                if not isinstance(p, str) or not p.strip():
                    fail(f"{where}: {doc}: pattern {p!r} must be a non-empty string")
                try:
                    re.compile(p, re.I)
                except re.error as e:
                    fail(f"{where}: {doc}: regex {p!r} does not compile ({e})")
    needed = {d for _, q in rows for d in q["expected"]}
    docs = load_docs(needed)
    for n, q in rows:
        where = f"{path}:{n} ({q['id']})"
        for doc, pats in q["expected"].items():
            if doc not in docs:
                fail(f"{where}: no text found for document {doc}")
            text, paras = docs[doc]
            for p in pats:
                rx = re.compile(p, re.I)
                if not rx.search(text):
                    fail(f"{where}: {doc}: regex {p!r} does not match the document text")
                hits = [m for para in paras for m in [rx.search(para)] if m]
                if not hits:
                    fail(
                        f"{where}: {doc}: regex {p!r} matches only across a paragraph "
                        "boundary; it must match inside a single paragraph"
                    )
                if min(len(m.group(0)) for m in hits) > MAX_MATCH:
                    fail(
                        f"{where}: {doc}: regex {p!r} matches more than {MAX_MATCH} "
                        "characters; match the short answer, not a sentence"
                    )
    types = Counter(q["type"] for _, q in rows)
    stories = Counter(q["story"] for _, q in rows)
    conf = Counter(q["conflict"] for _, q in rows)
    multi_doc = sum(1 for _, q in rows if len(q["expected"]) >= 2)
    print(
        f"{path}: OK - {len(rows)} questions over {len(stories)} stories; "
        f"{multi_doc} with 2+ answering documents; "
        f"conflict true/false/null = {conf.get(True, 0)}/{conf.get(False, 0)}/{conf.get(None, 0)}"
    )
    print("  types:   " + ", ".join(f"{t} {types[t]}" for t in TYPES if types[t]))
    print("  stories: " + ", ".join(f"{s} {c}" for s, c in stories.most_common()))


def main(argv):
    paths = argv[1:] or [os.path.join(HERE, "stories.jsonl")]
    for p in paths:
        if not os.path.exists(p):
            fail(f"question file not found: {p}")
    story_of = load_labels()
    for p in paths:
        check_file(p, story_of)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
