"""Multi-turn evaluation conversations: the data types and the JSON-lines loader.

A conversation file holds one conversation per line::

    {"id": "conv-de-01", "turns": [
      {"question": "Was macht go-cluster auf der Hannover Messe?", "lang": "de", "kind": "first",
       "category": "facts", "facts": [["Stand|Bühne"]], "answerable": true,
       "sources": ["go-cluster-jahrzehnt-publikation-2023-de.txt"]},
      {"question": "Und in welchen Jahren war das Team dort?", "lang": "de", "kind": "follow-up",
       "category": "facts", "facts": [["2017|2019|2022"]], "answerable": true, "sources": [...]}]}

``kind`` says how a turn relates to the conversation: ``first`` opens it; a ``follow-up``
can only be understood with the earlier turns (pronouns, ellipsis, "what about X?", the next
fact of the passage just cited); a ``switch`` changes the topic and must be answered on its
own. The file holds no answers: the evaluation asks turn by turn and passes the assistant's
own earlier answers as the history, so a wrong answer early on weighs on the later turns as
it would for a real user.

``facts``, ``answerable`` and ``sources`` mean what they mean for single questions
(:mod:`evaluation.questions`; match answers with ``facts_match``). ``sources`` is optional;
unknown extra fields are ignored; blank lines are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.questions import Question, QuestionFileError, _check_str_list, _parse_facts, read_records

KINDS: tuple[str, ...] = ("first", "follow-up", "switch")
TURN_FIELDS: tuple[str, ...] = ("question", "lang", "kind", "category", "facts", "answerable")
MIN_TURNS, MAX_TURNS = 2, 4


@dataclass(frozen=True)
class Turn:
    """One user turn of a conversation (see the module docstring for the fields)."""

    question: str
    lang: str
    kind: str
    category: str
    facts: tuple[tuple[str, ...], ...]
    answerable: bool
    sources: tuple[str, ...] = ()

    def as_question(self, id: str, history: tuple[dict, ...] = ()) -> Question:
        """The turn as a single question (what the metrics and the selector's training take)."""
        return Question(id=id, lang=self.lang, category=self.category, question=self.question,
                        facts=tuple(tuple(g) for g in self.facts), answerable=self.answerable,
                        sources=tuple(self.sources), history=tuple(history))


@dataclass(frozen=True)
class Conversation:
    """A conversation of 2-4 turns, the first of kind ``first``. Usage::

        for conv in load_conversations("evaluation/data/conversations-dev.jsonl"):
            history = []
            for turn in conv.turns:
                answer = ask(turn.question, history)   # the assistant's own earlier answers
                correct = facts_match(turn.facts, answer)
                history += [{"role": "user", "content": turn.question},
                            {"role": "assistant", "content": answer}]
    """

    id: str
    turns: tuple[Turn, ...]


def _parse_turn(obj: Any, number: int, fail) -> Turn:
    def fail_turn(message: str):
        fail(f"turn {number}: {message}")

    if not isinstance(obj, dict):
        fail_turn("expected a JSON object")
    missing = [f for f in TURN_FIELDS if f not in obj]
    if missing:
        fail_turn(f"missing field(s): {', '.join(missing)}")
    for name in ("question", "lang", "kind", "category"):
        if not isinstance(obj[name], str) or not obj[name].strip():
            fail_turn(f"'{name}' must be a non-empty string")
    if obj["kind"] not in KINDS:
        fail_turn(f"'kind' must be one of {list(KINDS)}, not {obj['kind']!r}")
    if number == 1 and obj["kind"] != "first":
        fail_turn("the first turn must have kind 'first'")
    if number > 1 and obj["kind"] == "first":
        fail_turn("only the first turn may have kind 'first'")
    if not isinstance(obj["answerable"], bool):
        fail_turn("'answerable' must be true or false")
    return Turn(
        question=obj["question"],
        lang=obj["lang"],
        kind=obj["kind"],
        category=obj["category"],
        facts=_parse_facts(obj["facts"], obj["answerable"], fail_turn),
        answerable=obj["answerable"],
        sources=_check_str_list(obj.get("sources", []), "sources", fail_turn),
    )


def parse_conversation(obj: Any, path: str | Path = "<string>", line: int = 1) -> Conversation:
    """Validate one decoded JSON object and build a Conversation (errors name ``path:line``)."""

    def fail(message: str):
        raise QuestionFileError(path, line, message)

    if not isinstance(obj, dict):
        fail("expected a JSON object")
    missing = [f for f in ("id", "turns") if f not in obj]
    if missing:
        fail(f"missing field(s): {', '.join(missing)}")
    if not isinstance(obj["id"], str) or not obj["id"].strip():
        fail("'id' must be a non-empty string")
    turns = obj["turns"]
    if not isinstance(turns, list) or not MIN_TURNS <= len(turns) <= MAX_TURNS:
        fail(f"'turns' must be a list of {MIN_TURNS} to {MAX_TURNS} turns")
    parsed = tuple(_parse_turn(turn, number, fail) for number, turn in enumerate(turns, start=1))
    return Conversation(id=obj["id"], turns=parsed)


def load_conversations(path: str | Path) -> list[Conversation]:
    """Read a JSON-lines conversation file.

    Raises QuestionFileError (a ValueError) naming the file and the 1-based line number for
    malformed JSON, missing or mistyped fields, wrong turn kinds or counts, invalid regular
    expressions and duplicate ids.
    """
    return read_records(path, parse_conversation)
