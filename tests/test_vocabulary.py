"""One vocabulary: `index/text.py` alone defines what a word is (token patterns), which
words are stopwords and the names of months and days; every other module of the product
imports them from there, so a fix to a word or a stopword list lands everywhere at once."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = ROOT / "index" / "text.py"
PRODUCT = ("index", "search", "api")

_GROUP_NAME = re.compile(r"\(\?P<\w+>|\(\?P=\w+\)|\(\?[aiLmsux-]+[:)]")
_ESCAPE = re.compile(r"\\(?:[ux][0-9a-fA-F]+|.)")
_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_REPEAT = re.compile(r"\{\d*,?\d*\}")
# A class of word characters: \w or \S, [^\W...], or one holding \w or a letter range.
_WORD_CLASS = (
    r"(?:\\[wS]|\[\^\\W(?:\\.|[^\]\\])*\]"
    r"|\[(?!\^)(?:\\.|[^\]\\])*(?:\\w|a-z|A-Z)(?:\\.|[^\]\\])*\])"
)
# ... repeated (a run of them is a word), or an abbreviation's letter-and-dot repeated.
_WORD_RUN = re.compile(rf"{_WORD_CLASS}(?:[+*]|\{{\d*,)|\((?:\?:)?{_WORD_CLASS}\\\.\)\{{\d*,")
_REGEX_CALLS = {"compile", "findall", "finditer", "search", "match", "fullmatch", "sub", "split"}


def is_word_pattern(pattern: str) -> bool:
    """A pattern that only says what a word is: runs of word characters, and nothing of its
    own but grouping and repetition ("\\w+", "[A-Za-z]+|\\d+", "(?:[A-Za-z]\\.){2,}");
    "^how (\\w+)" or ",\\s+([A-Z][a-z]+)" are rules that use words, not definitions of one."""
    if not _WORD_RUN.search(pattern):
        return False
    bare = _REPEAT.sub("", _CLASS.sub("", _ESCAPE.sub("", _GROUP_NAME.sub("", pattern))))
    return set(bare) <= set("()|?:+*<!=")


def _modules() -> Iterator[Path]:
    for package in PRODUCT:
        yield from sorted((ROOT / package).rglob("*.py"))


def _word_patterns(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in _REGEX_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and is_word_pattern(node.args[0].value)
        ):
            yield node.lineno, node.args[0].value


def _stopword_sets(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Functions named for stopwords, and module-level names such as `_STOP` or
    `QUESTION_STOPWORDS` (a local alias of an imported set is no definition)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and "stopword" in node.name.lower():
            yield node.lineno, node.name
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and re.search(
                r"(?:^|_)stop(?:words?)?$", target.id, re.I
            ):
                yield node.lineno, target.id


_CALENDAR_WORD = re.compile(
    r"\b(?:january|february|march|april|june|july|august|september|october|november|december"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|jan|feb|mar|apr|jun|jul|aug"
    r"|sept?|oct|nov|dec)\b",
    re.IGNORECASE,
)


def _calendar_lists(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """String constants that list month or day names (three or more): a copy of the
    calendar `index.text` reads from the standard library."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and len(_CALENDAR_WORD.findall(node.value)) >= 3
        ):
            yield node.lineno, node.value[:40]


def test_only_the_vocabulary_defines_words_and_stopwords() -> None:
    found = []
    for path in _modules():
        if path == VOCABULARY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        found += [f"{where}:{line}: word pattern {p!r}" for line, p in _word_patterns(tree)]
        found += [f"{where}:{line}: stopword set {n}" for line, n in _stopword_sets(tree)]
        found += [f"{where}:{line}: month or day names {v!r}" for line, v in _calendar_lists(tree)]
    assert not found, "define these in index/text.py and import them:\n" + "\n".join(found)


def test_the_vocabulary_defines_them() -> None:
    tree = ast.parse(VOCABULARY.read_text(encoding="utf-8"))
    assert len(list(_word_patterns(tree))) >= 5
    assert {name for _, name in _stopword_sets(tree)} >= {"stopwords", "index_stopwords"}


@pytest.mark.parametrize(
    "pattern",
    [r"\w+", r"[^\W\d_]+", r"[A-Za-z]+|\d+", r"[a-z0-9]+", r"(?:[A-Za-z]\.){2,}",
     r"\s+(?P<tok>(?:[A-Za-z]\.){2,}|[A-Za-z][\w’'-]*)", r"[\w.'-]+", r"\S+"],
)  # fmt: skip
def test_a_token_pattern_is_a_word_pattern(pattern: str) -> None:
    assert is_word_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [r"^how (?P<adj>\w+)\b", r"[^\w.:@-]+", r"[A-Za-z],\s+$", r"\w", r"[A-Z]{2,6}s?",
     r"charset\s*=\s*[\"']?([\w.:-]+)", r"\bthere\b", r"[^\n]+",
     r",\s+(?P<region>[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2})\b"],
)  # fmt: skip
def test_a_grammar_rule_is_not_a_word_pattern(pattern: str) -> None:
    assert not is_word_pattern(pattern)
