"""What kind of fact a question asks for (a number, a date, a contact), and whether a text holds one."""

from __future__ import annotations

import re
from enum import Enum


class AnswerType(Enum):
    ANY = "any"
    NUMBER = "number"
    DATE = "date"
    CONTACT = "contact"


_QUESTION_PATTERNS = [
    (AnswerType.DATE, r"\b(wann|seit wann|when|since when|in which year|in welchem jahr|which year|bis wann)\b"),
    (AnswerType.CONTACT, r"\b(kontakt\w*|contact|telefon\w*|phone|e-?mail|ansprechpart\w*|anrufen|call|"
                         r"adresse|address|wen kann ich|whom can i|who can i ask|reach)\b"),
    (AnswerType.NUMBER, r"\b(wie ?viele?|how many|anzahl|number of|wie viel|prozent|percent|share of|anteil)\b"),
]
_TEXT_PATTERNS = {
    # a count or share, not a year ("81 members", "13.000", "70 %"); years alone do not answer "how many"
    AnswerType.NUMBER: re.compile(r"(?<![\d.,])(?!(?:19|20)\d\d\b)\d[\d.,]*(?!\d)|\b(zwei|drei|vier|fünf|zwölf|"
                                  r"two|three|four|five|twelve|dozen)\b", re.I),
    AnswerType.DATE: re.compile(r"\b(19|20)\d\d\b|\b(januar|january|mitte|mid)\b", re.I),
    AnswerType.CONTACT: re.compile(r"\+49|\b[\w.-]+@[\w-]+\.[a-z]{2,}|\bwww\.|straße|steinplatz|"
                                   r"\b\d{5} [A-ZÄÖÜ]", re.I),
}


def answer_type(question: str) -> AnswerType:
    for kind, pattern in _QUESTION_PATTERNS:
        if re.search(pattern, question, re.IGNORECASE):
            return kind
    return AnswerType.ANY


def unit_has_type(text: str, kind: AnswerType) -> bool:
    pattern = _TEXT_PATTERNS.get(kind)
    return bool(pattern and pattern.search(text))
