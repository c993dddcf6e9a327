"""Sentence splitting that knows German and English abbreviations ("z. B.", "u. a.", "ca.", "Nr.", "e.g.").

Used by the chunker to split overlong paragraphs; usable wherever a passage must be cut into sentences.

>>> split_sentences("Von ca. 2000 bis 2010 (z. B. in Bayern) folgte die Phase. Die rd. 100 Cluster wuchsen.")
['Von ca. 2000 bis 2010 (z. B. in Bayern) folgte die Phase.', 'Die rd. 100 Cluster wuchsen.']
"""

from __future__ import annotations

import re

# Tokens ending in "." that do not end a sentence (lower-cased, without the dot). Single letters
# ("z. B.", "u. a.", "E. Porter"), dotted forms ("e.g.") and 1-2 digit ordinals are caught by rule.
ABBREVIATIONS = frozenset((
    "ca", "rd", "nr", "bzw", "vgl", "ggf", "inkl", "usw", "etc", "dr", "prof", "dipl", "ing", "st", "abs",
    "tel", "fax", "mio", "mrd", "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "oct", "nov",
    "dez", "dec", "mr", "mrs", "ms", "no", "vs", "approx", "fig", "abb", "bspw", "sog", "evtl"))
# End punctuation, closing quotes, space, then something that can start a sentence.
_SENTENCE_END = re.compile(r"[.!?…]+[\"“”»’)]*\s+(?=[\"„“»(]?[A-ZÄÖÜ0-9])")


def split_sentences(text: str) -> list[str]:
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start:match.start()].split()
        token = before[-1].lstrip("(„“\"'") if before else ""
        if text[match.start()] == "." and is_abbreviation(token):
            continue
        sentences.append(text[start:match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    return [*sentences, tail] if tail else sentences


def is_abbreviation(token: str) -> bool:
    """`token` (the word before a period) is an abbreviation or an ordinal ("28. April")."""
    return (len(token) == 1 or "." in token or token.lower() in ABBREVIATIONS
            or (token.isdigit() and len(token) <= 2))
