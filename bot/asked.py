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
from functools import lru_cache


class Kind(Enum):
    PERSON = "person"  # a person or an organisation
    DATE = "date"
    PLACE = "place"
    NUMBER = "number"
    CONTACT = "contact"  # any way to reach someone
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    YESNO = "yes-no"


# Common German and English first names: a capitalised word after one of these is a person's name.
FIRST_NAMES = """Andreas Angela Anna Anne Annette Barbara Bernd Birgit Christian Christina Christine Claudia Daniel
David Dieter Dirk Elisabeth Eva Frank Gabriele Georg Gerhard Hans Heike Heinz Helmut Jan Jens Joachim Johannes Jörg
Jürgen Julia Jutta Karin Katharina Klaus Lena Lisa Manfred Marco Maria Marie Markus Martin Martina Matthias Michael
Monika Nicole Nina Oliver Peter Petra Ralf Renate Sabine Sandra Sarah Stefan Stefanie Stephan Susanne Thomas Tobias
Udo Ulrich Ulrike Ursula Uwe Werner Wolfgang Theresa Gerd Gerlinde Silke Simone Sebastian Alexander Anja Astrid
Axel Carsten Christoph Florian Gunnar Holger Ingo Kai Kerstin Lars Leonie Lukas Maximilian Nadine Patrick Robert Sven
Torsten Volker John James Mary Robert William Richard Joseph Charles Sarah Emily Emma Olivia Paul George Mark"""

# A small gazetteer: German cities and regions, neighbours and capitals, in both languages.
PLACES = """Berlin Hamburg München Munich Köln Cologne Frankfurt Stuttgart Düsseldorf Dortmund Essen Leipzig Bremen
Dresden Hannover Hanover Nürnberg Nuremberg Duisburg Bochum Wuppertal Bielefeld Bonn Münster Karlsruhe Mannheim
Augsburg Wiesbaden Mainz Kiel Magdeburg Freiburg Erfurt Rostock Kassel Halle Potsdam Saarbrücken Chemnitz Jena
Regensburg Würzburg Ulm Heidelberg Darmstadt Aachen Braunschweig Schwerin Bayern Bavaria Sachsen Saxony Hessen Hesse
Thüringen Thuringia Brandenburg Niedersachsen Nordrhein-Westfalen Baden-Württemberg Rheinland-Pfalz Saarland
Schleswig-Holstein Mecklenburg-Vorpommern Sachsen-Anhalt Deutschland Germany Europa Europe Brüssel Brussels Paris
Wien Vienna Zürich Zurich Schweiz Switzerland Frankreich France Österreich Austria Polen Poland Italien Italy
Spanien Spain Niederlande Netherlands Dänemark Denmark Messe Fair Steinplatz"""

# Question words of the languages the embedder reads well; matched on lower-cased words.
_ASKS = {
    Kind.PERSON: r"wer|wem|wen|who|whom|whose|which organisation|welche organisation|quién|quien|quiénes|qui|"
                 r"chi|kto|kim|quem|wie(?= (?:is|zijn|heeft|kan|organiseert)(?![\w-]))",  # Dutch "wie": who
    Kind.DATE: r"wann|seit wann|bis wann|when|since when|what year|which year|in welchem jahr|welches jahr|"
               r"cuándo|cuando|quand|quando|kiedy|ne zaman|wanneer|depuis quand|desde cuándo",
    Kind.PLACE: r"wo|wohin|woher|where|in welcher stadt|which city|dónde|donde|où|dove|gdzie|nerede|waar|onde",
    Kind.NUMBER: r"wie ?viele?|how many|how much|anzahl|number of|prozent|percent|share of|anteil|cuántos|"
                 r"cuántas|cuantos|combien|quanti|quante|ile|kaç|hoeveel|quantos|quantas",
    Kind.CONTACT: r"kontakt\w*|contact\w*|ansprechpart\w*|reach|erreiche\w*|contacto|contatto|iletişim|"
                  r"wen kann ich|whom can i|who can i ask|get in touch",
    Kind.PHONE: r"telefon\w*|phone\w*|anrufen|call|ruf\w* an|telefono|téléphone|telefone|fax\w*",
    Kind.EMAIL: r"e-?mail\w*|mail|correo|courriel",
    Kind.ADDRESS: r"adresse|address|anschrift|postanschrift|postal|sitz|located|dirección|indirizzo|adres",
}
_ASK_PATTERNS = {kind: re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE)
                 for kind, pattern in _ASKS.items()}
# A yes/no question starts with its verb: "Kann ...", "Gibt es ...", "Is ...", "Do ...".
_YESNO = re.compile(r"^(kann|können|koennen|darf|dürfen|muss|müssen|gibt|gab|ist|sind|war|waren|hat|haben|"
                    r"wird|werden|lohnt|bekommt|bekommen|zahlt|kostet|is|are|were|can|could|may|must|do|"
                    r"does|did|has|have|will|would|should|es|est|czy|kan|mag|moet|è|posso|pode|"
                    # English "Was it ...?", never German "Was ist ...?" (what is)
                    r"was(?= (?:the|there|it|this|that|a|an|he|she|they|go-cluster)\b))\b", re.IGNORECASE)

_HAS = {
    # "Sabine Maass", "VDI/VDE Innovation + Technik GmbH", "Bundesministerium", "BMWK"
    # A first name before a capitalised word ("Sabine Maass"), a title, or an organisation's name.
    Kind.PERSON: re.compile(rf"\b(?:{'|'.join(sorted(FIRST_NAMES.split()))}) (?:[A-ZÄÖÜ]\. )?[A-ZÄÖÜ][\w-]+|"
                            r"\b(?:Dr|Prof|Herr|Frau|Mr|Mrs|Ms)\.? [A-ZÄÖÜ][\w-]+|\b(?:GmbH|e\. ?V\.|AG|"
                            r"Bundesministeri\w*|Federal Ministry|BMWK|BMWi|BMBF|VDI/VDE|Programmbeirat|advisory board|"
                            r"Geschäftsstelle|Projektträger|project sponsor|Team „go-cluster“|team)\b"),
    Kind.DATE: re.compile(r"\b(?:19|20)\d\d\b|\b(?:januar|februar|märz|april|mai|juni|juli|august|september|"
                          r"oktober|november|dezember|january|february|march|may|june|july|october|december|"
                          r"frühjahr|herbst|spring|autumn)\b", re.IGNORECASE),
    Kind.PLACE: re.compile(rf"\b\d{{5}} [A-ZÄÖÜ]|\b(?:{'|'.join(sorted(PLACES.split()))})\b"),
    # a count or share, not a year ("81 members", "13.000", "70 %"); years alone do not answer "how many"
    Kind.NUMBER: re.compile(r"(?<![\d.,])(?!(?:19|20)\d\d\b)\d[\d.,]*(?!\d)|\b(?:zwei|drei|vier|fünf|sechs|zehn|"
                            r"zwölf|two|three|four|five|six|ten|twelve|dozen|hundert|hundred)\b", re.IGNORECASE),
    Kind.CONTACT: re.compile(r"\+49|\b[\w.-]+@[\w-]+\.[a-z]{2,}|\bwww\.|\b\d{5} [A-ZÄÖÜ]", re.IGNORECASE),
    Kind.PHONE: re.compile(r"\+\d{2}[\d ()/-]{6,}|\b0\d{2,4}[ /-]\d{3,}"),
    Kind.EMAIL: re.compile(r"\b[\w.-]+@[\w-]+\.[a-z]{2,}", re.IGNORECASE),
    Kind.ADDRESS: re.compile(r"\b\d{5} [A-ZÄÖÜ]|\w+(straße|strasse|platz|weg|allee)\s?\d", re.IGNORECASE),
    Kind.YESNO: re.compile(r"\b(?:nur|only|ausschließlich|exclusively|nicht|not|no|kein\w*|jede[rs]?|every|all|"
                           r"alle|verbindlich|mandatory|must|müssen|muss|kann|can|may|darf|jederzeit|any time)\b",
                           re.IGNORECASE),
}


def asked_kinds(question: str) -> set[Kind]:
    kinds = {kind for kind, pattern in _ASK_PATTERNS.items() if pattern.search(question)}
    if _YESNO.match(question.strip("¿¡ \"'„“")):
        kinds.add(Kind.YESNO)
    return kinds


@lru_cache(maxsize=65_536)  # called for every candidate unit of every question; the units recur
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
