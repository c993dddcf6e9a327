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
_AMOUNT = re.compile(_AMOUNT.pattern + r"|\b(fördergeld\w*|foerdergeld\w*|budget\w*|gesamtbudget|fördersumme|"
                     r"how much (money|funding)|wie viel (geld|förderung)|salary|gehalt|verdien\w*|earns?|earnings)",
                     re.IGNORECASE)
_MONEY = re.compile(r"(\d[\d.,]*\s?(€|eur|euro|mio|million)|€\s?\d)", re.IGNORECASE)
_DEADLINE = re.compile(r"\b(deadline|frist|bewerbungsschluss|einsendeschluss|stichtag|closing date)", re.I)
_FULL_DATE = re.compile(r"\b\d{1,2}\.\s?(\d{1,2}\.|[a-zäöü]+)\s?\d{4}|\b\d{1,2}(st|nd|rd|th)? [A-Z][a-z]+ \d{4}")
_PERSONAL = re.compile(r"\b(home address|private (address|phone|number)|privatadresse|privatanschrift|wohnadresse|"
                       r"handynummer|mobile number|geburtsdatum|date of birth|birthday|geburtstag|"
                       r"how old is|wie alt ist|gehalt von|salary of)", re.I)
_SPECULATIVE = re.compile(r"\b(succeed|successor|nachfolger\w*|nachfolgen|next year|nächstes jahr|naechstes jahr|"
                          r"in (the )?future|in zukunft|künftig|will be (admitted|accepted|funded)|"
                          r"werden .* (künftig|nächstes))", re.I)
# Other funding programmes: the documents name some of them but describe none.
_OTHER_PROGRAMME = re.compile(r"\b(ZIM|EXIST|IGF|INNO-KOM|Horizon( Europe| 2020)?|EFRE|ERDF|GRW|KMU-innovativ|"
                              r"Zukunftscluster|Spitzencluster|Eurostars)\b")
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_COUNTED = re.compile(r"\b(?:how many|wie viele?)\s+(.*)", re.IGNORECASE)
_DURATION_Q = re.compile(r"\b(how long|wie lange)\b", re.IGNORECASE)
_DURATION = re.compile(r"\b(\d+|zwei|drei|two|three)\s+(jahre?n?|years?|monate?n?|months?)\b", re.IGNORECASE)


# Words between "how many" and the thing counted: "wie viele davon haben ein Gold-Label" counts gold labels.
_NOT_NOUNS = frozenset(["haben", "hat", "gibt", "gab", "sind", "waren", "werden", "wurden", "are", "were",
                        "have", "has", "had", "do", "does", "did", "there", "can", "could", "will", "would", "es",
                        "of", "them", "the", "its", "their", "davon", "der", "die", "den", "des", "ein", "eine",
                        "einen", "a", "an", "hold", "holds", "tragen", "trugen", "go-cluster", "go-cluster-"])


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

    min_coverage: float = 0.3
    min_dense: float = 0.80
    strong_coverage: float = 0.6
    typed_min_coverage: float = 0.2

    def refuses(self, question: str) -> bool:
        """Declined before retrieval: attempts to re-task the bot, personal data, speculation about
        the future, details of other funding programmes."""
        if _INJECTION.search(question) or _PERSONAL.search(question) or _SPECULATIVE.search(question):
            return True
        return bool(_OTHER_PROGRAMME.search(question)) and "go-cluster" not in question.lower()

    def lacks_evidence(self, question: str, best_coverage: float, best_dense: float, evidence: str,
                       typed_match: bool = False) -> bool:
        """`typed_match`: the evidence holds the kind of fact asked for (a number, a date, a contact)."""
        if _AMOUNT.search(question) and not _MONEY.search(evidence):
            return True  # never invent a figure: an amount asked for must stand in the passage
        if _DEADLINE.search(question) and not _FULL_DATE.search(evidence):
            return True
        if _DURATION_Q.search(question) and not _DURATION.search(evidence):
            return True
        if any(year not in evidence for year in (m.group(0) for m in _YEAR.finditer(question))):
            return True  # a year the question names must be in the evidence ("admitted in 2024")
        if best_coverage >= self.strong_coverage:
            return False
        min_coverage = self.typed_min_coverage if typed_match else self.min_coverage
        return best_coverage < min_coverage or best_dense < self.min_dense


def abstention_text(lang: str, phone: str, email: str, off_topic: bool = False) -> str:
    lang = lang if lang in MESSAGES else "en"
    prefix = OFF_TOPIC[lang] if off_topic else ""
    return prefix + MESSAGES[lang].format(phone=phone, email=email)
