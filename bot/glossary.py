"""DE<->EN glossary of programme terms: translates the known terms of a question into the other language."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.keywords import fold, stems, words

DEFAULT_GLOSSARY = Path(__file__).with_name("glossary.toml")
OTHER = {"de": "en", "en": "de"}


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

    def translate(self, question: str, lang: str) -> str:
        """The other language's terms for every glossary term found in the question ('' if none)."""
        if lang not in OTHER:
            return ""
        q_words = [w for w in words(question)]
        q_stems = [sorted(stems(w, [lang]))[0] for w in q_words]
        q_folded = " ".join(fold(w) for w in q_words)
        found: list[str] = []
        for entry in self.entries:
            if any(self._contains(q_stems, q_folded, phrase, lang) for phrase in entry[lang]):
                found.extend(entry[OTHER[lang]])
        return " ".join(dict.fromkeys(found))

    @staticmethod
    def _contains(q_stems: list[str], q_folded: str, phrase: str, lang: str) -> bool:
        key = _key(phrase, lang)
        if not key:
            return False
        if len(key) == 1 and len(key[0]) >= 5 and any(key[0] in s for s in q_stems if len(s) > len(key[0])):
            return True  # compounds: "Aufnahmekriterien" contains "kriteri"
        n = len(key)
        return any(tuple(q_stems[i:i + n]) == key for i in range(len(q_stems) - n + 1))
