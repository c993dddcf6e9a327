"""Hybrid retrieval: dense (e5 over FAISS) fused with BM25 by reciprocal rank fusion, across languages.

Cross-language gap: e5 ranks passages in the question's language far above equally good ones in the
other language, and some facts stand in one language only. So the question's glossary terms are
translated, the dense search is also run within the other language's passages, and BM25 sees both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.glossary import OTHER, Glossary
from bot.keywords import KeywordRetriever
from bot.results import Hit
from indexer.store import StoredIndex


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
                 glossary: Glossary | None = None, options: RetrievalOptions | None = None) -> None:
        self.encoder = encoder
        self.index = index
        self.keywords = keywords
        self.glossary = glossary
        self.options = options or RetrievalOptions()
        self._languages = np.array([c.language for c in index.chunks])
        self._sources = np.array([c.source for c in index.chunks])

    def search(self, query: str, lang: str, k: int = 8, language: str | None = None,
               source: str | None = None, options: RetrievalOptions | None = None) -> list[Hit]:
        opt = options or self.options
        n = len(self.index.chunks)
        translated = self.glossary.translate(query, lang) if (self.glossary and opt.cross_language) else ""
        dense = self._dense(query, translated, opt) if opt.use_dense else None
        keyword = None
        if opt.use_keywords and self.keywords is not None:
            langs = ("de", "en") if opt.cross_language else (lang,)
            keyword = self.keywords.scores(f"{query} {translated}".strip(), langs)
        fused = np.zeros(n, dtype=np.float64)
        for ranking in self._rankings(dense, keyword, lang, opt):
            fused[ranking] += 1.0 / (opt.rrf_k + np.arange(1, len(ranking) + 1))
        fused *= np.where(self._languages == lang, 1.0 + opt.same_language_bonus, 1.0)
        mask = np.ones(n, dtype=bool)
        if language:
            mask &= self._languages == language
        if source:
            mask &= self._sources == source
        order = [i for i in np.argsort(-fused, kind="stable") if mask[i] and fused[i] > 0][:k]
        return [Hit(chunk=self.index.chunks[i], score=float(fused[i]), rank=r + 1,
                    dense_score=None if dense is None else float(dense[0][i]),
                    keyword_score=None if keyword is None else float(keyword[i]))
                for r, i in enumerate(order)]

    def _dense(self, query: str, translated: str, opt: RetrievalOptions) -> np.ndarray:
        texts = [query] + ([translated] if translated else [])
        vectors = np.asarray(self.encoder.encode_queries(texts), dtype=np.float32)
        n = len(self.index.chunks)
        distances, ids = self.index.search(vectors, n)  # exact inner product over all passages
        scores = np.full((n, len(texts)), -1.0, dtype=np.float32)
        for q in range(len(texts)):
            valid = ids[q] >= 0
            scores[ids[q][valid], q] = distances[q][valid]
        return scores

    def _rankings(self, dense: np.ndarray | None, keyword: np.ndarray | None, lang: str,
                  opt: RetrievalOptions) -> list[np.ndarray]:
        rankings: list[np.ndarray] = []
        if dense is not None:
            scores = dense.T  # rows: the question, then its glossary translation
            rankings.append(np.argsort(-scores[0], kind="stable"))
            if opt.cross_language and lang in OTHER:
                other = np.flatnonzero(self._languages == OTHER[lang])
                best = scores.max(axis=0)[other]
                rankings.append(other[np.argsort(-best, kind="stable")])
        if keyword is not None and keyword.max(initial=0) > 0:
            positive = np.flatnonzero(keyword > 0)
            rankings.append(positive[np.argsort(-keyword[positive], kind="stable")])
        return rankings


def dense_only(retriever: HybridRetriever) -> RetrievalOptions:
    return RetrievalOptions(use_keywords=False, cross_language=False, rrf_k=retriever.options.rrf_k)


def top_texts(hits: Sequence[Hit]) -> list[str]:
    return [h.chunk.text for h in hits]
