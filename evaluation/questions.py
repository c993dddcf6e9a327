"""Evaluation questions: the data type, the JSON-lines loader and fact matching.

A question file holds one JSON object per line::

    {"id": "news-de-2", "lang": "de", "category": "facts",
     "question": "Seit wann gibt es den Newsletter?",
     "facts": [["2014"], ["newsletter"]], "answerable": true,
     "sources": ["go-cluster-decade-publication-2023-en.txt"]}

Optional fields: ``sources`` (corpus file names that contain the answer), ``history``
(the previous turns of a follow-up question, ``[{"role": "user", "content": "..."}]``) and
``style`` (how the question is phrased: plain, typo, colloquial, indirect, other-language, keyword).
Unknown extra fields are ignored, so files written by other tools load as well. Blank lines
are skipped.

``facts`` is a list of *groups*; each group is a list of Python regular expressions. A text
contains the facts when, for every group, at least one of its expressions is found
(``re.search``, case-insensitive). Unanswerable questions have ``facts: []``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")  # a parsed record with an `id`
CATEGORIES: tuple[str, ...] = (
    "eligibility",
    "criteria",
    "process",
    "benefits",
    "costs",
    "labels",
    "contact",
    "facts",
    "history",
    "changing-figures",
    "cross-language",
    "follow-up",
    "unanswerable",
)
"""The category names used by the project's own question sets (the loader accepts any name)."""

REQUIRED_FIELDS: tuple[str, ...] = ("id", "lang", "category", "question", "facts", "answerable")
HISTORY_ROLES: frozenset[str] = frozenset({"user", "assistant"})

FactGroups = Sequence[Sequence[str]]


class QuestionFileError(ValueError):
    """A question file is malformed. The message starts with ``path:line:``."""

    def __init__(self, path: str | Path, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class Question:
    """One evaluation question (see the module docstring for the meaning of the fields)."""

    id: str
    lang: str
    category: str
    question: str
    facts: tuple[tuple[str, ...], ...]
    answerable: bool
    sources: tuple[str, ...] = ()
    history: tuple[dict, ...] = ()
    style: str = ""


# --------------------------------------------------------------------------- matching


def _normalize(text: str) -> str:
    """NFC-normalise and turn no-break/narrow spaces into plain spaces.

    NFC makes a decomposed "u" + combining diaeresis match a pattern written with "ü";
    the space mapping lets "13 000" typed with U+202F match ``13[ .,]?000``.
    """
    text = unicodedata.normalize("NFC", text)
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")


def _group_matches(group: Iterable[str], text: str) -> bool:
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in group)


def matched_groups(facts: FactGroups, text: str) -> int:
    """How many fact groups have at least one expression found in ``text``."""
    norm = _normalize(text or "")
    return sum(1 for group in facts if _group_matches(group, norm))


def facts_match(facts: FactGroups, text: str) -> bool:
    """True when every fact group matches ``text``.

    An empty fact list matches nothing (returns False): a question without facts can never
    count as answered or retrieved; unanswerable questions are scored by abstention instead.
    """
    if not facts:
        return False
    return matched_groups(facts, text) == len(facts)


# --------------------------------------------------------------------------- loading


def _check_str_list(value: Any, what: str, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"'{what}' must be a list of strings")
    return tuple(value)


def _parse_facts(value: Any, answerable: bool, fail) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        fail("'facts' must be a list of groups (lists of regular expressions)")
    groups: list[tuple[str, ...]] = []
    for gi, group in enumerate(value, start=1):
        if not isinstance(group, list) or not group or not all(isinstance(p, str) for p in group):
            fail(f"fact group {gi} must be a non-empty list of strings")
        for pattern in group:
            if not pattern:
                fail(f"fact group {gi} contains an empty expression")
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                fail(f"fact group {gi}: invalid regular expression {pattern!r}: {exc}")
        groups.append(tuple(group))
    if answerable and not groups:
        fail("an answerable question needs at least one fact group")
    if not answerable and groups:
        fail("an unanswerable question must have 'facts': []")
    return tuple(groups)


def _parse_history(value: Any, fail) -> tuple[dict, ...]:
    if not isinstance(value, list):
        fail("'history' must be a list of {\"role\", \"content\"} objects")
    turns: list[dict] = []
    for ti, turn in enumerate(value, start=1):
        if not isinstance(turn, dict):
            fail(f"history turn {ti} must be an object")
        role, content = turn.get("role"), turn.get("content")
        if role not in HISTORY_ROLES:
            fail(f"history turn {ti}: 'role' must be one of {sorted(HISTORY_ROLES)}")
        if not isinstance(content, str) or not content.strip():
            fail(f"history turn {ti}: 'content' must be a non-empty string")
        turns.append({"role": role, "content": content})
    return tuple(turns)


def parse_question(obj: Any, path: str | Path = "<string>", line: int = 1) -> Question:
    """Validate one decoded JSON object and build a Question (errors name ``path:line``)."""

    def fail(message: str):
        raise QuestionFileError(path, line, message)

    if not isinstance(obj, dict):
        fail("expected a JSON object")
    missing = [f for f in REQUIRED_FIELDS if f not in obj]
    if missing:
        fail(f"missing field(s): {', '.join(missing)}")
    for name in ("id", "lang", "category", "question"):
        if not isinstance(obj[name], str) or not obj[name].strip():
            fail(f"'{name}' must be a non-empty string")
    if not isinstance(obj["answerable"], bool):
        fail("'answerable' must be true or false")
    facts = _parse_facts(obj["facts"], obj["answerable"], fail)
    sources = _check_str_list(obj.get("sources", []), "sources", fail)
    history = _parse_history(obj.get("history", []), fail)
    style = obj.get("style", "")
    if not isinstance(style, str):
        fail("'style' must be a string")
    return Question(
        id=obj["id"],
        lang=obj["lang"],
        category=obj["category"],
        question=obj["question"],
        facts=facts,
        answerable=obj["answerable"],
        sources=sources,
        history=history,
        style=style,
    )


def load_questions(path: str | Path) -> list[Question]:
    """Read a JSON-lines question file.

    Raises QuestionFileError (a ValueError) naming the file and the 1-based line number for
    malformed JSON, missing or mistyped fields, invalid regular expressions and duplicate ids.
    """
    return read_records(path, parse_question)


def read_records(path: str | Path, parse: Callable[[Any, Path, int], T]) -> list[T]:
    """Each non-blank line of a JSON-lines file parsed by `parse(obj, path, line)`; ids must be unique."""
    path = Path(path)
    records: list[T] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                message = f"malformed JSON: {exc.msg} (column {exc.colno})"
                raise QuestionFileError(path, lineno, message) from exc
            record = parse(obj, path, lineno)
            if record.id in seen:
                raise QuestionFileError(path, lineno, f"duplicate id {record.id!r} (first on line {seen[record.id]})")
            seen[record.id] = lineno
            records.append(record)
    return records
