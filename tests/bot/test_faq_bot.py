"""FaqBot's policy step on its real answer path (one-hot index, hand-made selector that answers everything):
the figure rule reads the question as asked, not only as the typo corrector read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from bot.candidates import CandidateFinder
from bot.faq_bot import FaqBot
from bot.keywords import KeywordRetriever
from bot.results import Hit
from bot.selector import Linear, Selector
from bot.spelling import SpellingCorrector
from indexer.chunk import Chunk

FREE = Chunk.create(text="Die Teilnahme am Programm ist für Mitglieder kostenlos.", source="web.txt",
                    title="Webseite", language="de", ordinal=1)


class OnlyUnit:
    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.tile(np.array([1.0, 1.0], dtype=np.float32), (len(texts), 1))


@dataclass
class OnlyPassage:
    encoder: Any = field(default_factory=OnlyUnit)
    glossary: Any = None

    def search(self, query: str, lang: str, k: int = 8, **_: Any) -> list[Hit]:
        return [Hit(FREE, score=1.0, rank=1)]


def sure_selector() -> Selector:
    ranker = Linear(("dense",), np.zeros(1), np.ones(1), np.array([1.0]))
    return Selector(ranker, Linear(("top_score",), np.zeros(1), np.ones(1), np.array([10.0])), 0.5, {})


@pytest.fixture
def make_bot(one_hot_index):
    def make(spelling: SpellingCorrector) -> FaqBot:
        return FaqBot(OnlyPassage(), KeywordRetriever([FREE]), CandidateFinder(one_hot_index([FREE])),
                      sure_selector(), spelling, max_question_chars=2_000)

    return make


# "hoch" is not in this vocabulary; "hock" is one edit away (and "Euro" is a protected question word)
MISREADING = SpellingCorrector({"hock": 5, "teilnahme": 3})


def test_a_question_without_a_figure_is_answered(make_bot):
    answer = make_bot(MISREADING).answer("Ist die Teilnahme kostenlos?")
    assert not answer.abstained and "kostenlos" in answer.text


@pytest.mark.parametrize("spelling", [MISREADING, SpellingCorrector({})], ids=["corrected", "as-typed"])
def test_an_amount_the_evidence_does_not_state_is_not_answered_even_when_misread(make_bot, spelling):
    answer = make_bot(spelling).answer("Wie hoch ist die Teilnahmegebühr in Euro?")
    assert answer.abstained and not answer.citations
    assert "not stated in the documents: amount" in answer.notes
    if spelling is MISREADING:
        assert answer.read_as == "Wie hock ist die Teilnahmegebühr in Euro?"


def fixed_selector(probability: float, threshold: float, margin: float) -> Selector:
    """Every top unit answers with `probability` (the answerability model is its bias alone)."""
    ranker = Linear(("dense",), np.zeros(1), np.ones(1), np.array([1.0]))
    bias = float(np.log(probability / (1 - probability)))
    return Selector(ranker, Linear(("top_score",), np.zeros(1), np.ones(1), np.zeros(1), bias), threshold, {},
                    conversation_margin=margin)


@pytest.mark.parametrize("margin, answers_later_turn", [(0.0, True), (0.2, False)])
def test_a_later_turn_must_clear_the_threshold_by_the_conversation_margin(one_hot_index, margin,
                                                                           answers_later_turn):
    bot = FaqBot(OnlyPassage(), KeywordRetriever([FREE]), CandidateFinder(one_hot_index([FREE])),
                 fixed_selector(0.6, 0.5, margin), SpellingCorrector({}), max_question_chars=2_000)
    question = "Ist die Teilnahme kostenlos?"
    history = [{"role": "user", "content": "Was bietet das Programm?"},
               {"role": "assistant", "content": "Die Teilnahme ...", "citations": [{"chunk_id": FREE.id}]}]
    first, later = bot.answer(question), bot.answer(question, history)
    assert not first.abstained, "a first question meets the threshold alone"
    assert first.probability == later.probability == pytest.approx(0.6)
    assert later.abstained is not answers_later_turn
