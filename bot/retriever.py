"""Hybrid retrieval: dense (e5 over FAISS) fused with BM25 by reciprocal rank fusion, across languages.

Cross-language gap: e5 ranks passages in the question's language far above equally good ones in the
other language, and some facts stand in one language only. So the question's glossary terms are
translated, the dense search is also run within the other language's passages, and BM25 sees both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from bot.glossary import OTHER, Glossary
from bot.keywords import KeywordRetriever
from bot.results import Hit
from indexer.store import StoredIndex

if TYPE_CHECKING:
    from bot.term_vectors import TermVectorCache


class QueryEncoder(Protocol):
    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class RetrievalOptions:
    use_dense: bool = True
    use_keywords: bool = True
    cross_language: bool = True
    rrf_k: int = 20
    same_language_bonus: float = 0.08  # relative: prefer a same-language passage that is as good


class HybridRetriever:
    """>>> retriever = HybridRetriever(embedder, stored_index, KeywordRetriever(stored_index.chunks))
    >>> retriever.search("Wer darf sich bewerben?", "de", k=5)   # doctest: +SKIP
    """

    def __init__(self, encoder: QueryEncoder, index: StoredIndex, keywords: KeywordRetriever | None = None,
                 glossary: Glossary | None = None, options: RetrievalOptions | None = None,
                 document_aliases: dict[str, list[str]] | None = None) -> None:
        self.encoder = encoder
        self.index = index
        self.keywords = keywords
        self.glossary = glossary
        self.options = options or RetrievalOptions()
        self.document_aliases = document_aliases or {}
        self._term_vectors: dict[str, np.ndarray] = {}  # glossary term -> query vector, filled on first use
        self._languages = np.array([c.language for c in index.chunks])
        self._sources = np.array([c.source for c in index.chunks])

    def search(self, query: str, lang: str, k: int = 8, language: str | None = None,
               source: str | None = None, options: RetrievalOptions | None = None,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        """`query_vector`: the query already embedded by the caller (one forward pass per question)."""
        opt = options or self.options
        n = len(self.index.chunks)
        cross = opt.cross_language and lang in OTHER
        translated = self.glossary.translate(query, lang) if (self.glossary and cross) else ""
        terms = self.glossary.main_terms(query, lang) if translated else []
        dense = self._dense(query, terms, query_vector) if opt.use_dense else None
        keyword = None
        fused = np.zeros(n, dtype=np.float64)
        for ranking, weight in self._dense_rankings(dense, lang, cross):
            fused[ranking] += weight / (opt.rrf_k + np.arange(1, len(ranking) + 1))
        if opt.use_keywords and self.keywords is not None:
            keyword = self.keywords.scores(query, (lang,) if lang in OTHER else ("de", "en"))
            lists = [(keyword, 1.0)]
            if translated:
                lists.append((self.keywords.scores(translated, (OTHER[lang],)), 0.6))
            for scores, weight in lists:
                positive = np.flatnonzero(scores > 0)
                ranking = positive[np.argsort(-scores[positive], kind="stable")]
                fused[ranking] += weight / (opt.rrf_k + np.arange(1, len(ranking) + 1))
        fused *= np.where(self._languages == lang, 1.0 + opt.same_language_bonus, 1.0)
        named = self.named_documents(query)
        if named:  # "laut BMWi-Webseite", "according to the flyer": that document's passages first
            fused *= np.where(np.isin(self._sources, list(named)), 1.6, 1.0)
        mask = np.ones(n, dtype=bool)
        if language:
            mask &= self._languages == language
        if source:
            mask &= self._sources == source
        order = [i for i in np.argsort(-fused, kind="stable") if mask[i] and fused[i] > 0][:k]
        return [Hit(chunk=self.index.chunks[i], score=float(fused[i]), rank=r + 1,
                    dense_score=None if dense is None else float(dense[i][0]),
                    keyword_score=None if keyword is None else float(keyword[i]))
                for r, i in enumerate(order)]

    def named_documents(self, query: str) -> set[str]:
        """Documents the question names by one of their catalogue aliases (the most specific wins)."""
        text = query.lower()
        longest: dict[str, int] = {}
        for source, aliases in self.document_aliases.items():
            found = [len(a) for a in aliases if a.lower() in text]
            if found:
                longest[source] = max(found)
        best = max(longest.values(), default=0)
        return {s for s, n in longest.items() if n == best}

    def warm_up(self, cache: TermVectorCache | None = None) -> None:
        """Embed every glossary term once now (or read them from `cache`), so no question pays for it later."""
        if self.glossary is None:
            return
        terms = list(dict.fromkeys(e[lang][0] for e in self.glossary.entries for lang in ("de", "en")))
        encode = self.encoder.encode_queries
        vectors = cache.get_or_compute(terms, encode) if cache else encode(terms)
        for term, vec in zip(terms, vectors, strict=True):
            self._term_vectors[term] = np.asarray(vec, dtype=np.float32)

    def _dense(self, query: str, terms: list[str], query_vector: np.ndarray | None = None) -> np.ndarray:
        """Scores of every passage for the question and, if the glossary found terms, for the mean of
        their other-language vectors (cached per term, so a question costs one forward pass)."""
        vectors = np.asarray(self.encoder.encode_queries([query]) if query_vector is None
                             else query_vector.reshape(1, -1), dtype=np.float32)
        if terms:
            missing = [t for t in terms if t not in self._term_vectors]
            if missing:
                for term, vec in zip(missing, self.encoder.encode_queries(missing), strict=True):
                    self._term_vectors[term] = np.asarray(vec, dtype=np.float32)
            concept = np.mean([self._term_vectors[t] for t in terms], axis=0)
            vectors = np.vstack([vectors, concept / np.linalg.norm(concept)])
        n = len(self.index.chunks)
        distances, ids = self.index.search(vectors, n)  # exact inner product over all passages
        scores = np.full((n, len(vectors)), -1.0, dtype=np.float32)
        for q in range(len(vectors)):
            valid = ids[q] >= 0
            scores[ids[q][valid], q] = distances[q][valid]
        return scores

    def _dense_rankings(self, dense: np.ndarray | None, lang: str,
                        cross: bool) -> list[tuple[np.ndarray, float]]:
        if dense is None:
            return []
        rankings = [(np.argsort(-dense[:, 0], kind="stable"), 1.0)]
        if cross:
            # e5 under-ranks the other language: rank those passages among themselves as well.
            other = np.flatnonzero(self._languages == OTHER[lang])
            best = dense[other].max(axis=1)
            rankings.append((other[np.argsort(-best, kind="stable")], 0.7))
        return rankings

