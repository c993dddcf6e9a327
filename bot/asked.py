"""What kind of thing a question asks for, and whether a text holds such a thing.

These are features for the answer selector, not answers: "wer/who/quién" asks for a person or an
organisation, "wann/when/cuándo" for a date, "wie viele/how many/combien" for a count. The selector
learns how much a match matters; nothing here decides an answer alone.

>>> sorted(k.value for k in asked_kinds("Wann wurde das Programm gestartet?"))
['date']
>>> has_kind("Seit 2012 gibt es das Programm.", Kind.DATE)
True
"""

from __future__ import annotations

import re
from enum import Enum


class Kind(Enum):
    PERSON = "person"  # a person or an organisation
    DATE = "date"
    PLACE = "place"
    NUMBER = "number"
    CONTACT = "contact"
    YESNO = "yes-no"


# Question words of the languages the embedder reads well; matched on lower-cased words.
_ASKS = {
    Kind.PERSON: r"wer|wem|wen|who|whom|whose|which organisation|welche organisation|quién|quien|quiénes|qui|"
                 r"chi|kto|kim|quem|wie(?= (is|zijn|heeft|kan|organiseert))",
    Kind.DATE: r"wann|seit wann|bis wann|when|since when|what year|which year|in welchem jahr|welches jahr|"
               r"cuándo|cuando|quand|quando|kiedy|ne zaman|wanneer|depuis quand|desde cuándo",
    Kind.PLACE: r"wo|wohin|woher|where|in welcher stadt|which city|dónde|donde|où|dove|gdzie|nerede|waar|onde",
    Kind.NUMBER: r"wie ?viele?|how many|how much|anzahl|number of|prozent|percent|share of|anteil|cuántos|"
                 r"cuántas|cuantos|combien|quanti|quante|ile|kaç|hoeveel|quantos|quantas",
    Kind.CONTACT: r"kontakt\w*|contact\w*|telefon\w*|phone|e-?mail|ansprechpart\w*|anrufen|call|reach|"
                  r"erreiche\w*|adresse|address|anschrift|contacto|contatto|kontakt|iletişim",
}
_ASK_PATTERNS = {kind: re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE)
                 for kind, pattern in _ASKS.items()}
# A yes/no question starts with its verb: "Kann ...", "Gibt es ...", "Is ...", "Do ...".
_YESNO = re.compile(r"^(kann|können|koennen|darf|dürfen|muss|müssen|gibt|gab|ist|sind|war|waren|hat|haben|"
                    r"wird|werden|lohnt|bekommt|bekommen|zahlt|kostet|is|are|was|were|can|could|may|must|do|"
                    r"does|did|has|have|will|would|should|es|est|czy|kan|mag|moet|è|posso|pode)\b", re.IGNORECASE)

_HAS = {
    # "Sabine Maass", "VDI/VDE Innovation + Technik GmbH", "Bundesministerium", "BMWK"
    Kind.PERSON: re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+ (?:[A-ZÄÖÜ]\. )?[A-ZÄÖÜ][a-zäöüß]{2,}\b|\b(?:GmbH|e\. ?V\.|AG|"
                            r"Ministerium|Ministry|BMWK|BMWi|BMBF|VDI/VDE|Initiative|team|Team|Beirat|"
                            r"board|Geschäftsstelle|office|Projektträger|sponsor)\b"),
    Kind.DATE: re.compile(r"\b(?:19|20)\d\d\b|\b(?:januar|februar|märz|april|mai|juni|juli|august|september|"
                          r"oktober|november|dezember|january|february|march|may|june|july|october|december|"
                          r"frühjahr|herbst|spring|autumn)\b", re.IGNORECASE),
    Kind.PLACE: re.compile(r"\b\d{5} [A-ZÄÖÜ]|\b(?:in|im|at|bei|auf der|on the) [A-ZÄÖÜ][\w-]+|\b(?:Berlin|"
                           r"Bonn|Brüssel|Brussels|Nürnberg|Nuremberg|Hannover|Hanover|Deutschland|Germany|"
                           r"Europa|Europe|Messe|Fair)\b"),
    # a count or share, not a year ("81 members", "13.000", "70 %"); years alone do not answer "how many"
    Kind.NUMBER: re.compile(r"(?<![\d.,])(?!(?:19|20)\d\d\b)\d[\d.,]*(?!\d)|\b(?:zwei|drei|vier|fünf|sechs|zehn|"
                            r"zwölf|two|three|four|five|six|ten|twelve|dozen|hundert|hundred)\b", re.IGNORECASE),
    Kind.CONTACT: re.compile(r"\+49|\b[\w.-]+@[\w-]+\.[a-z]{2,}|\bwww\.|straße|strasse|steinplatz|\b\d{5} [A-ZÄÖÜ]",
                             re.IGNORECASE),
    Kind.YESNO: re.compile(r"\b(?:nur|only|ausschließlich|exclusively|nicht|not|no|kein\w*|jede[rs]?|every|all|"
                           r"alle|verbindlich|mandatory|must|müssen|muss|kann|can|may|darf|jederzeit|any time)\b",
                           re.IGNORECASE),
}


def asked_kinds(question: str) -> set[Kind]:
    kinds = {kind for kind, pattern in _ASK_PATTERNS.items() if pattern.search(question)}
    if _YESNO.match(question.strip("¿¡ \"'„“")):
        kinds.add(Kind.YESNO)
    return kinds


def has_kind(text: str, kind: Kind) -> bool:
    return bool(_HAS[kind].search(text))


_COUNT = re.compile(r"(?<![\d.,])(?!(?:19|20)\d\d\b)\d[\d.,]*(?![\d.]*(?:th|st|nd|rd)\b)")
_COUNTED = re.compile(r"\b(?:how many|wie ?viele?|number of|anzahl(?: der| an)?)\s+(.*)", re.IGNORECASE)
# Words between "how many" and the thing counted: "wie viele davon haben ein Gold-Label" counts gold labels.
_NOT_NOUNS = frozenset(["haben", "hat", "gibt", "gab", "sind", "waren", "werden", "wurden", "are", "were",
                        "have", "has", "had", "do", "does", "did", "there", "can", "could", "will", "would", "es",
                        "of", "them", "the", "its", "their", "davon", "der", "die", "den", "des", "ein", "eine",
                        "einen", "a", "an", "hold", "holds", "tragen", "trugen", "go-cluster", "go", "cluster-",
                        "insgesamt", "in", "total", "überhaupt", "eigentlich", "genau", "exactly", "currently",
                        "derzeit", "aktuell"])


def counted_noun(question: str) -> str | None:
    """What a "how many ..." question counts ("Mitarbeitende", "members"), if it says."""
    match = _COUNTED.search(question)
    if not match:
        return None
    for word in re.findall(r"[\w-]+", match.group(1)):
        word = word.removeprefix("go-cluster-")
        if word and word.lower() not in _NOT_NOUNS:
            return word
    return None


def number_windows(text: str, width: int = 5) -> list[str]:
    """The few words after each count in the text: where the thing counted is named ("81 Mitglieder")."""
    return [" ".join(text[m.end():].split()[:width]) for m in _COUNT.finditer(text)]
