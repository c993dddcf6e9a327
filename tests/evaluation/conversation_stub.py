"""Stand-in for evaluation/conversations.py (written by another helper) with the agreed interface:
`load_conversations(path) -> list[Conversation]`, Conversation(id, turns), Turn(question, lang, kind,
category, facts, answerable, sources). Delete it once that module is merged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    question: str
    lang: str
    kind: str  # "first" | "follow-up" | "switch"
    category: str
    facts: tuple[tuple[str, ...], ...]
    answerable: bool
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[Turn, ...]
