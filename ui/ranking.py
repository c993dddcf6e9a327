"""Answer sentences for the hotline: the passages' sentences ranked by how many of the query's words they hold.

Pure functions over `bot.search` hits (no model call): each passage is split with the project's
sentence splitter, a sentence scores the share of the query's content words it contains (a word
matches on its first five letters, so "Aufnahme" finds "Aufnahmekriterien"), ties go to the better
passage and the earlier sentence.

>>> ranked = rank_sentences(hits, "Wer kann sich bewerben?")      # doctest: +SKIP
>>> ranked[0].text, ranked[0].hit.chunk.page                      # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.results import Hit
from indexer.sentences import split_sentences

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_SENTENCE_CHARS = 25
STOP_WORDS = frozenset("""
aber alle als also auch auf aus bei beim bin bis das dass dem den der des die dies diese dieser durch ein eine
einem einen einer eines für gibt hat ich ihr ist kann können man mit muss nach nicht noch oder sich sie sind so
über und uns von vor was welche welcher welches wenn wer werden wie wir wird wo zu zum zur
about also and any are can could does for from has have how into its may more must not one our should than
that the their them then there these they this was what when where which who why will with would you your
""".split())  # noqa: SIM905 (a word list reads better as text)


@dataclass(frozen=True)
class RankedSentence:
    text: str
    hit: Hit
    match: float  # share of the query's content words found in the sentence, 0..1
    position: int  # the sentence's number within its passage


def _key(word: str) -> str:
    return word.casefold()[:5]


def content_words(query: str) -> list[str]:
    """The query's words that carry meaning (3+ letters, no stop word), each once."""
    seen: dict[str, str] = {}
    for word in _WORD.findall(query or ""):
        if len(word) >= 3 and word.casefold() not in STOP_WORDS and not word.isdigit():
            seen.setdefault(_key(word), word)
    return list(seen.values())


def match_share(sentence: str, words: Sequence[str]) -> float:
    if not words:
        return 0.0
    keys = {_key(w) for w in _WORD.findall(sentence)}
    return sum(_key(w) in keys for w in words) / len(words)


def rank_sentences(hits: Sequence[Hit], query: str, limit: int = 5) -> list[RankedSentence]:
    """The `limit` best sentences of all passages; none when no sentence holds a query word."""
    words = content_words(query)
    candidates = []
    for hit in hits:
        for position, sentence in enumerate(split_sentences(" ".join(hit.chunk.text.split()))):
            if len(sentence) >= MIN_SENTENCE_CHARS:
                candidates.append(RankedSentence(sentence, hit, match_share(sentence, words), position))
    candidates = [c for c in candidates if c.match > 0]
    candidates.sort(key=lambda c: (-c.match, c.hit.rank, c.position))
    return candidates[:limit]
