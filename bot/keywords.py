"""Keyword retrieval (BM25) with a tokenizer that suits German and English.

Folding (case, umlauts, ß), stop words, Snowball stems per language and a light decompounding of long
German words against the corpus vocabulary ("Aufnahmekriterien" also yields "aufnahme", "kriterien").
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer

from indexer.chunk import Chunk

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

STOPWORDS = frozenset([
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "does", "for", "from",
    "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "may", "me", "my", "of", "on", "or",
    "our", "should", "so", "than", "that", "the", "their", "them", "there", "these", "they", "this", "to",
    "under", "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with",
    "would", "you", "your", "about", "also", "any", "all", "aber", "als", "am", "an", "auch", "auf", "aus",
    "bei", "bin", "bis", "bist", "da", "damit", "dann", "das", "dass", "dem", "den", "der", "des", "die",
    "dies", "diese", "dieser", "dieses", "doch", "du", "ein", "eine", "einem", "einen", "einer", "eines", "er",
    "es", "fuer", "gibt", "hat", "hatte", "ich", "ihr", "ihre", "im", "in", "darf", "duerfen", "muss",
    "muessen", "soll", "sollen", "koennte", "gelten", "gilt", "werde", "wurde", "wurden", "worden", "bekommt",
    "erhalte", "genau", "eigentlich", "bitte", "mal", "denn", "etwa", "alle", "does", "did", "get", "gets",
    "viele", "viel", "many", "much", "dafuer", "davon", "darauf", "dazu", "darueber", "hierfuer", "dabei",
    "it", "that", "this", "those", "they", "them", "she", "her", "he", "his", "him",
    "got", "must", "shall", "please", "exactly", "actually", "ist", "ja", "kann", "koennen", "man", "mit",
    "nach", "nicht", "noch", "nur", "ob", "oder", "sein", "seit", "sich", "sie", "sind", "so", "ueber", "um",
    "und", "uns", "unter", "vom", "von", "vor", "war", "was", "welche", "welcher", "welches", "wenn", "wer",
    "werden", "wie", "wir", "wird", "wo", "zu", "zum", "zur",
    # Question words and their inflections: "wann" or "welchen" is as empty as "when" (else every such
    # question misses a rare word the documents never use).
    "wann", "warum", "wieso", "weshalb", "wozu", "wofuer", "womit", "wohin", "woher", "wieviel", "wieviele",
    "welchen", "welchem", "wem", "wen", "wessen", "whose", "whats", "whos", "hows", "whens", "wheres",
    # pronouns and determiners the list above has only some forms of
    "dein", "deine", "deinen", "deinem", "deiner", "mein", "meine", "meinen", "meinem", "meiner", "unser",
    "unsere", "unseren", "unserem", "unserer", "euer", "eure", "euch", "ihnen", "ihren", "ihrem", "ihrer",
    "sein", "seine", "seinen", "seinem", "seiner", "jemand", "us", "i", "im", "ive", "theirs", "ours"
])

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG to stderr

_STEMMERS = {"de": Stemmer.Stemmer("german"), "en": Stemmer.Stemmer("english")}


def fold(text: str) -> str:
    """Lower-case, umlauts to their two-letter form, other accents dropped: "Förderung" -> "foerderung"."""
    text = text.lower().translate(_FOLD)
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower().replace("-", " ")) if len(w) > 1 or w.isdigit()]


def stems(word: str, languages: Iterable[str]) -> set[str]:
    return {fold(_STEMMERS[lang].stemWord(word)) for lang in languages}


class KeywordTokenizer:
    """Turns text into BM25 terms; `vocabulary` (folded stems of the corpus) drives decompounding."""

    def __init__(self, vocabulary: set[str] | None = None) -> None:
        self.vocabulary = vocabulary or set()

    def terms(self, text: str, languages: Sequence[str]) -> list[str]:
        return [term for group in self.word_groups(text, languages) for term in sorted(group)]

    def word_groups(self, text: str, languages: Sequence[str],
                    translations: dict[str, list[str]] | None = None) -> list[set[str]]:
        """One set of terms per content word: its stems, compound parts and glossary translations."""
        groups = []
        for word in words(text):
            if fold(word) in STOPWORDS:
                continue
            group = self._word_terms(word, languages)
            for other in (translations or {}).get(fold(word), []):
                for part in words(other):
                    if fold(part) not in STOPWORDS:
                        group |= self._word_terms(part, ("de", "en"))
            groups.append(group)
        return groups

    def _word_terms(self, word: str, languages: Sequence[str]) -> set[str]:
        group = stems(word, languages)
        if len(word) >= 9 and "de" in languages:
            group.update(self._split_compound(fold(word)))
        return group

    def _split_compound(self, word: str) -> list[str]:
        # Keep the longest left part that is itself a corpus stem and whose rest is one too.
        for cut in range(len(word) - 4, 3, -1):
            left, right = word[:cut], word[cut:]
            for right_part in (right, right[1:] if right.startswith("s") else None):
                if right_part and left in self.vocabulary and _stem_de(right_part) in self.vocabulary:
                    return [left, _stem_de(right_part)]
        return []


def _stem_de(word: str) -> str:
    return fold(_STEMMERS["de"].stemWord(word))


class KeywordRetriever:
    """BM25 over the chunks; rebuilt in memory at load time (the corpus is small, nothing pickled)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = list(chunks)
        vocabulary: set[str] = set()
        for chunk in self.chunks:
            for word in words(chunk.text):
                folded = fold(word)
                if len(folded) >= 4 and folded not in STOPWORDS:
                    vocabulary.add(folded)
                    vocabulary.add(_stem_de(word) if chunk.language == "de" else folded)
        self.tokenizer = KeywordTokenizer(vocabulary)
        corpus = [self.tokenizer.terms(f"{c.section}\n{c.text}", [c.language if c.language in _STEMMERS
                                                                  else "en"]) or ["_empty_"]
                  for c in self.chunks]
        self.bm25 = bm25s.BM25()
        self.bm25.index(corpus, show_progress=False)
        df: dict[str, int] = {}
        for terms in corpus:
            for term in set(terms):
                df[term] = df.get(term, 0) + 1
        n = len(corpus)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._default_idf = math.log(1 + (n + 0.5) / 0.5)
        self._terms_cache: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}

    def scores(self, query: str, languages: Sequence[str] = ("de", "en")) -> np.ndarray:
        terms = self.tokenizer.terms(query, languages)
        if not terms:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(terms), dtype=np.float32)

    def _text_terms(self, text: str, languages: tuple[str, ...]) -> frozenset[str]:
        # Passage sentences recur across questions: stem each once (bounded, the corpus is small).
        key = (text, languages)
        found = self._terms_cache.get(key)
        if found is None:
            found = frozenset(self.tokenizer.terms(text, languages))
            if len(self._terms_cache) < 50_000:
                self._terms_cache[key] = found
        return found

    def coverage(self, query: str, text: str, languages: Sequence[str] = ("de", "en"),
                 translations: dict[str, list[str]] | None = None) -> float:
        """IDF-weighted share of the query's content words that the text contains (0..1); a word also
        counts as present when one of its glossary translations is."""
        return self.query_terms(query, languages, translations).coverage(self, text)

    def query_terms(self, query: str, languages: Sequence[str] = ("de", "en"),
                    translations: dict[str, list[str]] | None = None) -> QueryTerms:
        """The query's content words, stemmed once, to be matched against many texts."""
        groups = self.tokenizer.word_groups(query, languages, translations)
        plain = self.tokenizer.word_groups(query, languages)  # a word weighs what its own stems weigh
        weights = [max(self.idf.get(t, self._default_idf) for t in g) for g in plain]
        return QueryTerms(tuple(frozenset(g) for g in groups), tuple(weights), tuple(languages),
                          self._default_idf)


@dataclass(frozen=True)
class QueryTerms:
    groups: tuple[frozenset[str], ...]
    weights: tuple[float, ...]
    languages: tuple[str, ...]
    max_weight: float

    def coverage(self, keywords: KeywordRetriever, text: str) -> float:
        if not self.groups:
            return 0.0
        have = keywords._text_terms(text, self.languages)
        matched = sum(w for w, g in zip(self.weights, self.groups, strict=True) if g & have)
        return matched / sum(self.weights)

    def rarest_missing(self, keywords: KeywordRetriever, text: str) -> float:
        """The weight (0..1) of the rarest query word the text lacks: a named thing that is not there."""
        have = keywords._text_terms(text, self.languages)
        missing = [w for w, g in zip(self.weights, self.groups, strict=True) if not g & have]
        return max(missing, default=0.0) / self.max_weight
