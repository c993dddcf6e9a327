"""FaqBot: question in, cited answer (or an honest abstention) out.

One mechanism decides: candidate answer units are gathered (bot/candidates.py), described by features
(bot/features.py) and scored by the learned selector (bot/selector.py); the best unit answers when its
probability reaches the calibrated threshold and the policy (bot/policy.py) finds nothing the evidence
does not state. A follow-up is read alone and with the conversation (bot/conversation.py); the reading
the selector is more confident in wins.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from bot.asked import Kind, asked_kinds
from bot.candidates import Candidate, CandidateFinder
from bot.conversation import Reading, readings
from bot.features import Context, QuestionView, feature_matrix
from bot.keywords import KeywordRetriever
from bot.policy import AnswerPolicy, abstention_text
from bot.question import clean_question, detect_language, without_markup
from bot.question_memory import QuestionMemory
from bot.results import Answer, Hit, retrieved_passages
from bot.retriever import HybridRetriever
from bot.selector import Selector
from bot.spelling import SpellingCorrector
from bot.writer import AnswerWriter, Composition, Scored

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


@dataclass
class Attempt:
    """One reading of the question, scored: what the answer would be if this reading were taken."""

    reading: Reading
    hits: list[Hit]
    ranked: list[Scored]
    view: QuestionView

    @property
    def probability(self) -> float:
        return self.ranked[0].probability if self.ranked else 0.0


class FaqBot:
    """>>> bot = build_bot(Settings.from_env())          # see bot/factory.py
    >>> bot.answer("Wer darf sich bewerben?").citations[0].quote   # doctest: +SKIP
    """

    def __init__(self, retriever: HybridRetriever, keywords: KeywordRetriever, finder: CandidateFinder,
                 selector: Selector, spelling: SpellingCorrector, max_question_chars: int, k: int = 8,
                 policy: AnswerPolicy | None = None, writer: AnswerWriter | None = None,
                 contact: Contact | None = None, llm: Answerer | None = None, index_version: str = "",
                 documents: Sequence[dict[str, Any]] = (), memory: QuestionMemory | None = None) -> None:
        self.retriever = retriever
        self.keywords = keywords
        self.finder = finder
        self.selector = selector
        self.spelling = spelling
        self.policy = policy or AnswerPolicy(threshold=selector.threshold)
        self.writer = writer or AnswerWriter(neighbours=finder.neighbours)
        self.max_question_chars = max_question_chars
        self.k = k
        self.contact = contact or Contact()
        self.llm = llm
        self.index_version = index_version
        self._documents = list(documents)
        self.memory = memory  # None: the answerability model reads similar_answerable as neutral

    def documents(self) -> list[dict[str, Any]]:
        return list(self._documents)

    def search(self, query: str, k: int = 10, language: str | None = None,
               source: str | None = None) -> list[Hit]:
        text = clean_question(query, self.max_question_chars)
        lang, _ = detect_language(text)
        text, _ = self.spelling.correct(text) if lang in ("de", "en") else (text, [])
        return self.retriever.search(text, lang, k=k, language=language or None, source=source or None)

    def answer(self, question: str, history: Sequence[dict] | None = None) -> Answer:
        started = time.perf_counter()
        corrected, lang, supported, changes = self.read(question)
        text = clean_question(question, self.max_question_chars)
        result = Answer(question=text, text="", language=lang, abstained=True,
                        notes=[] if supported else [UNSUPPORTED_NOTE], index_version=self.index_version)
        if self.policy.refuses(text):
            result.text = abstention_text(lang, self.contact.phone, self.contact.email, off_topic=True)
            result.timings_ms["total"] = _ms(started)
            return result
        attempts = [self.attempt(r, lang, supported)
                    for r in readings(corrected, history, self.selector.reading_costs)]
        best = max(attempts, key=lambda a: a.probability - a.reading.cost)
        margin = self.selector.conversation_margin if len(attempts) > 1 else 0.0
        result.retrieved = retrieved_passages(best.hits)
        result.read_as = corrected if changes else ""
        result.probability = round(best.probability, 4)
        result.timings_ms["retrieve_and_score"] = _ms(started)
        composition = self._compose(best, margin, lang, supported, result.read_as, history, result)
        if composition is None:
            result.text = abstention_text(lang, self.contact.phone, self.contact.email)
        else:
            result.text, result.citations, result.abstained = composition.text, composition.citations, False
        result.timings_ms["total"] = _ms(started)
        log.info("answered lang=%s abstained=%s p=%.3f reading=%s ms=%.0f", lang, result.abstained,
                 best.probability, best.reading.kind, result.timings_ms["total"])
        return result

    def attempt(self, reading: Reading, lang: str, supported: bool) -> Attempt:
        """Retrieve, gather candidates and score them for one reading of the question."""
        hits, candidates, view, features = self.describe(reading, lang, supported)
        scores, p_answer = self.selector.score(features, reading.later_turn)
        return Attempt(reading, hits, rank(candidates, scores, p_answer), view)

    def describe(self, reading: Reading, lang: str, supported: bool,
                 names: Sequence[str] | None = None) -> tuple[list[Hit], list[Candidate], QuestionView, np.ndarray]:
        """The reading's passages, candidate units, question view and feature matrix (training uses this)."""
        vector = np.asarray(self.retriever.encoder.encode_queries([reading.text])[0], dtype=np.float32)
        hits = self.retriever.search(reading.text, lang, k=self.k, query_vector=vector)
        candidates = self.finder.find(vector, hits, history_chunks=reading.history_chunks)
        glossary = self.retriever.glossary
        translations = glossary.word_translations(reading.focus, lang, synonyms=True) if glossary else {}
        view = QuestionView.build(reading.focus, lang, supported, asked_kinds(reading.question), self.keywords,
                                  translations)
        view.later_turn, view.previous = reading.later_turn, reading.previous
        view.own_terms = len(view.terms.groups) if reading.text == reading.question else len(
            self.keywords.query_terms(reading.question, view.terms.languages, translations).groups)
        if self.memory is not None:
            view.similar_answerable, view.remembered = self.memory.recall(vector,
                                                                          hits[0].chunk.source if hits else None)
        ctx = Context(self.keywords, self.finder.neighbours)
        features = feature_matrix(view, candidates, ctx, list(names or self.selector.names))
        return hits, candidates, view, features

    def read(self, question: str) -> tuple[str, str, bool, list[tuple[str, str]]]:
        """(cleaned and corrected question, language, supported, corrections) - the first steps of answer()."""
        text = without_markup(clean_question(question, self.max_question_chars))
        lang, supported = detect_language(text)
        corrected, changes = self.spelling.correct(text) if supported else (text, [])
        return corrected, lang, supported, changes

    def _compose(self, best: Attempt, margin: float, lang: str, supported: bool, read_as: str,
                 history: Sequence[dict] | None, result: Answer) -> Composition | None:
        if not best.ranked or not self.policy.answers(best.probability - margin):
            return None
        kinds: set[Kind] = best.view.kinds
        chosen = self.writer.choose(best.ranked, kinds)
        evidence = " ".join(f"{s.candidate.chunk.section} {s.candidate.text}" for s in chosen)
        # The question as asked too: a typo correction must not read an amount away ("Euro" -> "eure").
        missing = self.policy.missing_figure(result.question, evidence) or \
            self.policy.missing_figure(best.reading.question, evidence)
        if missing:
            result.notes.append(f"not stated in the documents: {missing}")
            return None
        extractive = self.writer.write(chosen, lang, kinds, supported, read_as)
        if self.llm is None:
            return extractive
        try:
            generated = self.llm.answer(best.reading.text, lang, best.hits, history)
        except Exception as exc:  # any endpoint failure must degrade to the extractive answer
            log.warning("llm failed, using extractive answer: %s", exc.__class__.__name__)
            generated = None
        if generated is None:
            result.notes.append("llm answer rejected or unavailable; extractive answer shown")
            return extractive
        result.answerer = "llm"
        return generated


def rank(candidates: list[Candidate], scores: np.ndarray, p_answer: float) -> list[Scored]:
    """Candidates best first; the top one carries the answer probability, the others that probability
    scaled by how far the ranker puts them behind (so "nearly as likely" has one meaning)."""
    if not candidates:
        return []
    order = np.argsort(-scores, kind="stable")
    top = scores[order[0]]
    return [Scored(candidates[i], float(p_answer * np.exp(scores[i] - top))) for i in order]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
