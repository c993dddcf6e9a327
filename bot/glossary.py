"""DE<->EN glossary of programme terms: translates the known terms of a question into the other language."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.keywords import fold, stems, words

DEFAULT_GLOSSARY = Path(__file__).with_name("glossary.toml")
OTHER = {"de": "en", "en": "de"}


@lru_cache(maxsize=4096)  # glossary phrases are fixed: stem each once, not on every question
def _key(phrase: str, lang: str) -> tuple[str, ...]:
    return tuple(sorted(stems(w, [lang]))[0] for w in words(phrase))


@dataclass(frozen=True)
class Glossary:
    """>>> Glossary.load().translate("Welche Aufnahmekriterien gelten?", "de")  # doctest: +ELLIPSIS
    'criteria ...'
    """

    entries: tuple[dict[str, tuple[str, ...]], ...]

    @classmethod
    def load(cls, path: Path = DEFAULT_GLOSSARY) -> Glossary:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(tuple({lang: tuple(t[lang]) for lang in ("de", "en")} for t in data["terms"]))

    def translate(self, question: str, lang: str, compact: bool = False) -> str:
        """The other language's terms for every glossary term found in the question ('' if none);
        `compact`: only each entry's first (main) term, a short query for the embedder."""
        if compact:
            found = [t[0] for t in self._matched_entries(question, lang)]
        else:
            found = [t for terms in self.word_translations(question, lang).values() for t in terms]
        return " ".join(dict.fromkeys(found))

    def main_terms(self, question: str, lang: str) -> list[str]:
        """The other language's main term of each glossary entry the question contains."""
        return list(dict.fromkeys(t[0] for t in self._matched_entries(question, lang)))

    def _matched_entries(self, question: str, lang: str) -> list[tuple[str, ...]]:
        if lang not in OTHER:
            return []
        q_stems = [sorted(stems(w, [lang]))[0] for w in words(question)]
        return [entry[OTHER[lang]] for entry, positions in self._phrase_hits(q_stems, lang) if positions]

    def word_translations(self, question: str, lang: str, synonyms: bool = False,
                          head_only: bool = False) -> dict[str, list[str]]:
        """For each question word (folded) that is part of a glossary term: the other language's terms
        (with `synonyms`, the entry's terms in the question's language too)."""
        if lang not in OTHER:
            return {}
        q_words = words(question)
        q_stems = [sorted(stems(w, [lang]))[0] for w in q_words]
        out: dict[str, list[str]] = {}
        for entry, positions in self._phrase_hits(q_stems, lang, head_only):
            for i in positions:
                out.setdefault(fold(q_words[i]), []).extend(entry[OTHER[lang]] + (entry[lang] if synonyms else ()))
        return {w: list(dict.fromkeys(t)) for w, t in out.items()}

    def _phrase_hits(self, q_stems: list[str], lang: str, head_only: bool = False
                     ) -> list[tuple[dict[str, tuple[str, ...]], list[int]]]:
        """(entry, positions) for each of the entry's phrases found in the question, in glossary order.
        A phrase none of whose stems can stand in the question is skipped unread: every question would
        otherwise walk all 359 phrases twice (1.2 of the retriever's 1.7 ms, measured)."""
        present, joined = set(q_stems), "\x00".join(q_stems)
        out = []
        for entry in self.entries:
            for phrase in entry[lang]:
                key = _key(phrase, lang)
                if not key or (key[0] not in joined if len(key) == 1 else not present.issuperset(key)):
                    continue
                out.append((entry, self._positions(q_stems, phrase, lang, head_only)))
        return out

    @staticmethod
    def _positions(q_stems: list[str], phrase: str, lang: str, head_only: bool = False) -> list[int]:
        """Where the phrase stands in the question; `head_only`: inside a compound only as its last
        part (an "Aufnahmekriterium" is a criterion, not an admission)."""
        key = _key(phrase, lang)
        if not key:
            return []
        if len(key) == 1 and len(key[0]) >= 5:
            hits = [i for i, s in enumerate(q_stems) if len(s) > len(key[0])
                    and (s.endswith(key[0]) if head_only else key[0] in s)]
            if hits:
                return hits  # compounds: "Aufnahmekriterien" contains "kriteri"
        n = len(key)
        return [j for i in range(len(q_stems) - n + 1) if tuple(q_stems[i:i + n]) == key
                for j in range(i, i + n)]
