#!/usr/bin/env python3
"""Validate the hand-labelled story sets and the question set.

Usage:  python3 eval/stories/check_labels.py
        (REUTERS_JSONL=/path/to/reuters21578.jsonl to override the data path)

Checks:
  * every id exists in Reuters-21578 with a non-empty body (or is a seed file);
  * no id appears twice in a file, no id is in both public.jsonl and dev.jsonl;
  * public ids are r1..r6500 (+ the five seeds), dev ids are r12000..r17500, no seeds in dev;
  * single-document stories are labelled with their own id, every other story has 2+ docs;
  * minimum counts: public >= 32 Reuters events with 2+ docs and >= 320 single distractors,
    dev >= 25 events and >= 250 distractors; the seed story holds exactly the five seeds;
    the Ecuador earthquake story contains its known core members;
  * questions: >= 30 questions over >= 14 stories, >= 3 about the seed story, unique ids,
    every story exists in public.jsonl, every expected doc belongs to that story, every regex
    compiles and matches (case-insensitively) the document's text, conflict is true/false/null.
Exit status 0 when everything passes, 1 otherwise.
"""

import json
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
REUTERS = os.environ.get(
    "REUTERS_JSONL",
    os.path.join(REPO, "..", "shared", "data", "reuters21578", "reuters21578.jsonl"),
)
SEED_DIR = os.path.join(REPO, "seeds")
SEEDS = [
    "000_487d20731cd06fa7",
    "001_f41bc6fbf25c952a",
    "002_811ad477ead50ed2",
    "003_ec9ad3d51fc008de",
    "004_72b5cb386ec7b792",
]
SEED_STORY = "baghdad-embassy-2019"
ECUADOR_STORY = "ecuador-earthquake-1987"
ECUADOR_CORE = ["r2957", "r3332", "r3388", "r3940", "r5145", "r5268"]

errors = []


def err(msg):
    errors.append(msg)


def load_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                err(f"{os.path.basename(path)}:{n}: bad JSON ({e})")
    return rows


def load_reuters():
    texts = {}
    with open(REUTERS, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if (r.get("body") or "").strip():
                texts[f"r{r['newid']}"] = r["body"]
    return texts


def load_seeds():
    texts = {}
    for s in SEEDS:
        p = os.path.join(SEED_DIR, s + ".txt")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                texts[s] = f.read()
        else:
            err(f"seed file missing: {p}")
    return texts


def check_set(name, rows, reuters, lo, hi, allow_seeds, min_events, min_single):
    ids = [r.get("id") for r in rows]
    for r in rows:
        if (
            set(r) != {"id", "story"}
            or not isinstance(r.get("id"), str)
            or not isinstance(r.get("story"), str)
        ):
            err(f"{name}: malformed row {r}")
    for i, c in Counter(ids).items():
        if c > 1:
            err(f"{name}: id {i} appears {c} times")
    stories = defaultdict(list)
    for r in rows:
        stories[r["story"]].append(r["id"])
        i = r["id"]
        if i in SEEDS:
            if not allow_seeds:
                err(f"{name}: seed {i} must not be in this set")
            continue
        m = re.fullmatch(r"r(\d+)", i)
        if not m:
            err(f"{name}: bad id {i}")
            continue
        if i not in reuters:
            err(f"{name}: {i} not found in Reuters with a non-empty body")
        if not lo <= int(m.group(1)) <= hi:
            err(f"{name}: {i} outside newid range {lo}..{hi}")
    events = singles = 0
    for st, members in stories.items():
        if not st.strip():
            err(f"{name}: empty story label")
        if len(members) == 1:
            if members[0] != st:
                err(
                    f"{name}: single-document story {st} must be labelled with its own id "
                    f"({members[0]})"
                )
            singles += 1
        else:
            if re.fullmatch(r"r\d+", st):
                err(f"{name}: multi-document story labelled like a doc id: {st}")
            if st != SEED_STORY:
                events += 1
            if any(m in SEEDS for m in members) and st != SEED_STORY:
                err(f"{name}: seeds placed in story {st}")
    if allow_seeds:
        if sorted(stories.get(SEED_STORY, [])) != sorted(SEEDS):
            err(f"{name}: story {SEED_STORY} must contain exactly the five seeds")
    if events < min_events:
        err(f"{name}: only {events} Reuters events with 2+ docs (need >= {min_events})")
    if singles < min_single:
        err(f"{name}: only {singles} single-document distractors (need >= {min_single})")
    sizes = sorted(
        (len(v) for k, v in stories.items() if len(v) > 1 and k != SEED_STORY), reverse=True
    )
    print(
        f"{name}: {len(rows)} docs, {events} Reuters events with 2+ docs "
        f"({sum(sizes)} docs, sizes {sizes}), {singles} single distractors"
        + (f", seed story with {len(stories.get(SEED_STORY, []))} docs" if allow_seeds else "")
    )
    return stories


def check_questions(qrows, pub_story_of, texts):
    qids = Counter(q.get("id") for q in qrows)
    for i, c in qids.items():
        if c > 1:
            err(f"questions: id {i} appears {c} times")
    qstories = Counter()
    for q in qrows:
        qid = q.get("id")
        for k in ("id", "question", "story", "expected", "conflict"):
            if k not in q:
                err(f"questions: {qid} lacks field {k}")
        st = q.get("story")
        qstories[st] += 1
        if st not in set(pub_story_of.values()):
            err(f"questions: {qid}: story {st} not in public.jsonl")
        if q.get("conflict") not in (True, False, None):
            err(f"questions: {qid}: conflict must be true, false or null")
        exp = q.get("expected") or {}
        if not isinstance(exp, dict) or not exp:
            err(f"questions: {qid}: expected must be a non-empty object")
            continue
        for doc, pats in exp.items():
            if pub_story_of.get(doc) != st:
                err(f"questions: {qid}: {doc} is not a member of story {st}")
            if not isinstance(pats, list) or not pats:
                err(f"questions: {qid}: {doc}: expected a non-empty list of regexes")
                continue
            text = texts.get(doc)
            if text is None:
                err(f"questions: {qid}: no text for {doc}")
                continue
            for p in pats:
                try:
                    rx = re.compile(p, re.I)
                except re.error as e:
                    err(f"questions: {qid}: {doc}: regex {p!r} does not compile ({e})")
                    continue
                if not rx.search(text):
                    err(f"questions: {qid}: {doc}: regex {p!r} does not match the text")
    if len(qrows) < 30:
        err(f"questions: only {len(qrows)} questions (need >= 30)")
    if len(qstories) < 14:
        err(f"questions: only {len(qstories)} stories covered (need >= 14)")
    if qstories.get(SEED_STORY, 0) < 3:
        err(f"questions: only {qstories.get(SEED_STORY, 0)} questions on {SEED_STORY} (need >= 3)")
    conf = Counter(q.get("conflict") for q in qrows)
    print(
        f"questions: {len(qrows)} questions over {len(qstories)} stories "
        f"({qstories.get(SEED_STORY, 0)} on the seed story); conflict true/false/null = "
        f"{conf.get(True, 0)}/{conf.get(False, 0)}/{conf.get(None, 0)}"
    )


def main():
    reuters = load_reuters()
    seeds = load_seeds()
    pub = load_jsonl(os.path.join(HERE, "public.jsonl"))
    dev = load_jsonl(os.path.join(HERE, "dev.jsonl"))
    qs = load_jsonl(os.path.join(HERE, "questions.jsonl"))

    pub_stories = check_set("public", pub, reuters, 1, 6500, True, 32, 320)
    check_set("dev", dev, reuters, 12000, 17500, False, 25, 250)

    both = set(r["id"] for r in pub) & set(r["id"] for r in dev)
    if both:
        err(f"ids in both sets: {sorted(both)[:10]}")
    eq = set(pub_stories.get(ECUADOR_STORY, []))
    missing = [i for i in ECUADOR_CORE if i not in eq]
    if missing:
        err(f"public: {ECUADOR_STORY} lacks {missing}")

    pub_story_of = {r["id"]: r["story"] for r in pub}
    texts = dict(reuters)
    texts.update(seeds)
    check_questions(qs, pub_story_of, texts)

    if errors:
        print(f"\nFAILED: {len(errors)} problem(s)")
        for e in errors:
            print("  -", e)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
