"""When to say "the documents do not answer this", and how (with the programme's contact)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_INJECTION = re.compile(
    r"ignore (all |any |your |the |previous |prior )*(instructions|rules|prompts?)|disregard (the|your|all)|"
    r"system prompt|you are now|act as|pretend (to be|you)|jailbreak|developer mode|"
    r"vergiss (alle|deine|die|jegliche)|ignorier(e|en)? (alle|deine|die|bisherigen)|"
    r"du bist (jetzt|nun|ab sofort)|tu so,? als|neue (rolle|anweisung)|"
    r"write (me )?(a |an )?(poem|story|song|essay|code|joke)|schreib(e)? (mir )?(ein|eine|einen) "
    r"(gedicht|geschichte|lied|witz|aufsatz|code)|erzähl(e)? (mir )?(einen|einen) witz|tell (me )?a joke",
    re.IGNORECASE)
_AMOUNT = re.compile(r"\b(wie hoch|how much is|how high|betrag|euro|eur\b|gebühr|gebuehr|fee|fees|"
                     r"mitgliedsbeitrag|beitrag|preis|price|förderhöhe|funding amount|zuschuss|grant amount)|€",
                     re.IGNORECASE)
_MONEY = re.compile(r"(\d[\d.,]*\s?(€|eur|euro)|€\s?\d)", re.IGNORECASE)

MESSAGES = {
    "de": ("Dazu finde ich in den Programmunterlagen von go-cluster keine Angabe, deshalb kann ich die Frage "
           "nicht beantworten. Bitte wenden Sie sich an das Programmteam: Telefon {phone}, E-Mail {email}."),
    "en": ("I can't answer that from the go-cluster programme documents. Please contact the programme team: "
           "phone {phone}, email {email}."),
}
OFF_TOPIC = {
    "de": "Ich beantworte nur Fragen zum Programm go-cluster aus dessen offiziellen Unterlagen. ",
    "en": "I only answer questions about the go-cluster programme from its official documents. ",
}


@dataclass(frozen=True)
class AbstentionPolicy:
    """Thresholds calibrated on the development question set (see evaluation/calibrate.py)."""

    min_coverage: float = 0.5
    min_dense: float = 0.80
    strong_coverage: float = 0.75

    def refuses(self, question: str) -> bool:
        """Attempts to make the bot do something else are declined before retrieval."""
        return bool(_INJECTION.search(question))

    def lacks_evidence(self, question: str, best_coverage: float, best_dense: float, evidence: str) -> bool:
        if _AMOUNT.search(question) and not _MONEY.search(evidence):
            return True  # never invent a figure: an amount asked for must stand in the passage
        if best_coverage >= self.strong_coverage:
            return False
        return best_coverage < self.min_coverage or best_dense < self.min_dense


def abstention_text(lang: str, phone: str, email: str, off_topic: bool = False) -> str:
    lang = lang if lang in MESSAGES else "en"
    prefix = OFF_TOPIC[lang] if off_topic else ""
    return prefix + MESSAGES[lang].format(phone=phone, email=email)
