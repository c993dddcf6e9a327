"""FaqBot: question in, cited answer (or an honest abstention) out."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.abstention import AbstentionPolicy, abstention_text, counted_noun
from bot.answer_types import AnswerType, answer_type, unit_has_type
from bot.composer import Composition, ExtractiveComposer
from bot.question import clean_question, detect_language, retrieval_query
from bot.results import Answer, Hit, retrieved_passages
from bot.retriever import HybridRetriever

log = logging.getLogger(__name__)

UNSUPPORTED_NOTE = "Your question does not seem to be in German or English; this answer is in English."


class Answerer(Protocol):
    """An optional second answerer (the LLM); returns None to fall back to the extractive answer."""

    def answer(self, question: str, lang: str, hits: Sequence[Hit],
               history: Sequence[dict] | None) -> Composition | None: ...


@dataclass(frozen=True)
class Contact:
    phone: str = "+49 30 310078-387"
    email: str = "info@go-cluster.de"


class FaqBot:
    """>>> bot = build_bot(Settings.from_env())          # see bot/factory.py
    >>> bot.answer("Wer darf sich bewerben?").citations[0].quote   # doctest: +SKIP
    """

    def __init__(self, retriever: HybridRetriever, composer: ExtractiveComposer, policy: AbstentionPolicy,
                 max_question_chars: int, k: int = 8, contact: Contact | None = None,
                 llm: Answerer | None = None, index_version: str = "",
                 documents: Sequence[dict[str, Any]] = ()) -> None:
        self.retriever = retriever
        self.composer = composer
        self.policy = policy
        self.max_question_chars = max_question_chars
        self.k = k
        self.contact = contact or Contact()
        self.llm = llm
        self.index_version = index_version
        self._documents = list(documents)

    def documents(self) -> list[dict[str, Any]]:
        return list(self._documents)

    def search(self, query: str, k: int = 10, language: str | None = None,
               source: str | None = None) -> list[Hit]:
        text = clean_question(query, self.max_question_chars)
        lang, _ = detect_language(text)
        return self.retriever.search(text, lang, k=k, language=language or None, source=source or None)

    def answer(self, question: str, history: Sequence[dict] | None = None) -> Answer:
        started = time.perf_counter()
        text = clean_question(question, self.max_question_chars)
        lang, supported = detect_language(text)
        notes = [] if supported else [UNSUPPORTED_NOTE]
        result = Answer(question=text, text="", language=lang, abstained=True, notes=notes,
                        index_version=self.index_version)
        if self.policy.refuses(text):
            result.text = abstention_text(lang, self.contact.phone, self.contact.email, off_topic=True)
            result.timings_ms["total"] = _ms(started)
            return result
        query = retrieval_query(text, history)
        t0 = time.perf_counter()
        # Figures are surveyed across all sources (newest first), so look further down the ranking.
        survey = answer_type(text) is AnswerType.NUMBER
        hits = self.retriever.search(query, lang, k=self.k * 3 if survey else self.k)
        if answer_type(query) is AnswerType.CONTACT:
            hits = self._with_contact_passages(query, lang, hits)
        result.retrieved = retrieved_passages(hits)
        result.timings_ms["retrieve"] = _ms(t0)
        t1 = time.perf_counter()
        focus, translations, composition = self._compose_follow_up(text, query, lang, hits, history, result)
        result.timings_ms["compose"] = _ms(t1)
        best_dense = max((h.dense_score or 0.0 for h in hits[:3]), default=0.0)
        evidence = " ".join(c.quote for c in composition.citations) if composition else ""
        kind = answer_type(focus)
        typed = kind is not AnswerType.ANY and unit_has_type(evidence, kind)
        noun = counted_noun(text)
        uncounted = bool(noun) and self.composer.coverage(noun, evidence, translations=translations) == 0
        if composition is None or uncounted or self.policy.lacks_evidence(
                focus, composition.best_coverage, best_dense, evidence, typed_match=typed):
            result.text = abstention_text(lang, self.contact.phone, self.contact.email)
        else:
            result.text, result.citations, result.abstained = composition.text, composition.citations, False
        result.timings_ms["total"] = _ms(started)
        log.info("answered lang=%s abstained=%s hits=%d ms=%.0f", lang, result.abstained, len(hits),
                 result.timings_ms["total"])
        return result

    def _compose_follow_up(self, text: str, query: str, lang: str, hits: list[Hit],
                           history: Sequence[dict] | None,
                           result: Answer) -> tuple[str, dict[str, list[str]], Composition | None]:
        """(focus, its glossary translations, composition). A follow-up is retrieved with the previous
        question and answered for what it asks itself, unless it says too little on its own
        ("Und wer zahlt dafür?"): then for both questions."""
        first = self._compose_with_translations(text, lang, hits, history, result)
        if query == text or (first[1] is not None and first[1].best_coverage >= self.policy.strong_coverage):
            return (text, *first)
        second = self._compose_with_translations(query, lang, hits, history, result)
        if second[1] is not None and (first[1] is None or second[1].best_coverage > first[1].best_coverage):
            return (query, *second)
        return (text, *first)

    def _compose_with_translations(self, focus: str, lang: str, hits: list[Hit], history: Sequence[dict] | None,
                                   result: Answer) -> tuple[dict[str, list[str]], Composition | None]:
        glossary = self.retriever.glossary
        translations = glossary.word_translations(focus, lang, synonyms=True) if glossary else {}
        return translations, self._compose(focus, lang, hits, history, result, translations)

    def _with_contact_passages(self, query: str, lang: str, hits: list[Hit]) -> list[Hit]:
        """Contact questions: make sure passages that hold a phone number or e-mail address are seen,
        best matching first (they are short and rank low on meaning alone)."""
        wider = self.retriever.search(query, lang, k=60)
        contact = [h for h in wider if unit_has_type(h.chunk.text, AnswerType.CONTACT)]
        contact = sorted(contact, key=lambda h: h.chunk.language != lang)[:2]  # stable: rank within language
        seen = {h.chunk.id for h in contact}
        return contact + [h for h in hits if h.chunk.id not in seen]

    def _compose(self, query: str, lang: str, hits: list[Hit], history: Sequence[dict] | None,
                 result: Answer, translations: dict[str, list[str]]) -> Composition | None:
        named = bool(self.retriever.named_documents(query))
        extractive = self.composer.compose(query, lang, hits, translations, document_named=named)
        if self.llm is None or extractive is None:
            return extractive
        try:
            generated = self.llm.answer(query, lang, hits, history)
        except Exception as exc:  # any endpoint failure must degrade to the extractive answer
            log.warning("llm failed, using extractive answer: %s", exc.__class__.__name__)
            generated = None
        if generated is None:
            result.notes.append("llm answer rejected or unavailable; extractive answer shown")
            return extractive
        result.answerer = "llm"
        generated.best_coverage = extractive.best_coverage
        return generated


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
