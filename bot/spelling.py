"""Typo tolerance: question words the corpus does not know are read as the nearest corpus word.

"welche kriterein gelten" -> "welche kriterien gelten". Only words of four letters or more that are
neither in the corpus vocabulary, nor words of some language (`common`: bot/common_words.py, so "Geld" is
never read as "gold"), nor common question words are touched, and only within a small edit
distance (1 up to six letters, 2 beyond); of equally near words the more frequent one wins. A typo
rarely hits the first letter, so the nearest word must share it ("hoch" is never read as "noch"), and a
word that is a corpus word with another ending is an inflection, not a typo ("erreiche" stays). The
answer says what it read ("Gelesen als: ...").

>>> SpellingCorrector({"kriterien": 5, "gelten": 2}).correct("welche kriterein gelten")
('welche kriterien gelten', [('kriterein', 'kriterien')])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extract

from bot.keywords import STOPWORDS, fold

_WORD = re.compile(r"[^\W\d_][^\W\d_'-]*[^\W\d_]|[^\W\d_]", re.UNICODE)
# Words as typed in a question, a hyphenated one whole: "Gold-Labl" is left alone (see _nearest).
_TYPED = re.compile(r"[^\W\d_](?:[^\W\d_]|-)*[^\W\d_]|[^\W\d_]", re.UNICODE)
# Question words that rarely stand in programme documents and that e5's vocabulary (bot/common_words.py)
# lacks: they must never be "corrected" either.
_QUESTION_WORDS = "worum mitmachen umsonst moin"
QUESTION_WORDS = frozenset(fold(w) for w in _QUESTION_WORDS.split())
# Endings that turn one German or English word form into another ("erreiche" / "erreichen").
_ENDINGS = ("e", "n", "s", "t", "en", "er", "es", "em", "st", "et", "ed")


class SpellingCorrector:
    """Built once from the corpus vocabulary (folded word -> count)."""

    def __init__(self, vocabulary: Mapping[str, int], protected: Iterable[str] = (),
                 surface: Mapping[str, str] | None = None, common: frozenset[str] = frozenset()) -> None:
        self.counts = dict(vocabulary)
        self.words = [w for w in self.counts if len(w) >= 3]
        # common: folded words of the languages (bot/common_words.py), never typos either
        self.protected = frozenset(fold(p) for p in protected) | QUESTION_WORDS | STOPWORDS | common
        self.surface = dict(surface or {})  # folded -> the spelling the documents use ("förderung")

    @classmethod
    def from_texts(cls, texts: Iterable[str], protected: Iterable[str] = (),
                   common: frozenset[str] = frozenset()) -> SpellingCorrector:
        forms: Counter[str] = Counter()
        for text in texts:
            forms.update(w.lower() for w in _WORD.findall(text))
        counts: Counter[str] = Counter()
        surface: dict[str, str] = {}
        for form, n in forms.most_common():
            counts[fold(form)] += n
            surface.setdefault(fold(form), form)
        return cls(counts, protected, surface, common)

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(text with unknown words replaced, [(word as typed, word as read)])."""
        changes: list[tuple[str, str]] = []

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            better = self._nearest(word)
            if better is None:
                return word
            changes.append((word, better))
            return better

        return _TYPED.sub(fix, text), changes

    def _nearest(self, word: str) -> str | None:
        folded = fold(word)
        if len(folded) < 4 or folded in self.counts or folded in self.protected or "-" in word:
            return None
        if any(folded + e in self.counts or (folded.endswith(e) and folded[: -len(e)] in self.counts)
               for e in _ENDINGS):
            return None
        limit = 1 if len(folded) <= 6 else 2
        found = extract(folded, self.words, scorer=Levenshtein.distance, score_cutoff=limit, limit=20)
        found = [f for f in found if f[0][0] == folded[0]]
        if not found:
            return None
        best = min(found, key=lambda f: (f[1], -self.counts[f[0]], f[0]))[0]
        return self.surface.get(best, best)
