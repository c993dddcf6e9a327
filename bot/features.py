"""Features of a (question, candidate unit) pair: what the answer selector weighs.

Each feature is a small pure function `(Question, Candidate, Context) -> float`, unit-tested on hand-made
cases. A new kind of question should need a feature or more training data, never a rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bot.asked import Kind, counted_noun, has_kind, number_windows
from bot.candidates import Candidate, Neighbours
from bot.keywords import KeywordRetriever, QueryTerms
from bot.question_memory import NEUTRAL, unit_key

_PRONOUN_START = re.compile(r"^(wir|we|ich|i|our|unser\w*|us)\b", re.IGNORECASE)


@dataclass
class QuestionView:
    """A question as the features see it (computed once per question)."""

    text: str
    lang: str
    supported: bool
    kinds: set[Kind]
    terms: QueryTerms
    noun_terms: QueryTerms | None
    best_dense: float = 0.0
    similar_answerable: float = NEUTRAL  # set by FaqBot from the question memory
    remembered: dict[str, float] = field(default_factory=dict)  # unit_key -> vote, also from the memory
    # How the question is read in its conversation (bot/conversation.py), set by FaqBot: whether it follows
    # other turns, how many previous questions the text includes, and the content words of its own.
    later_turn: bool = False
    previous: int = 0
    own_terms: int = 0

    @property
    def alone_in_conversation(self) -> bool:
        """A later turn read without the turns before it."""
        return self.later_turn and self.previous == 0

    @classmethod
    def build(cls, text: str, lang: str, supported: bool, kinds: set[Kind], keywords: KeywordRetriever,
              translations: dict[str, list[str]] | None) -> QuestionView:
        languages = (lang,) if lang in ("de", "en") else ("de", "en")
        noun = counted_noun(text) if Kind.NUMBER in kinds else None
        noun_terms = keywords.query_terms(noun, ("de", "en"), translations) if noun else None
        return cls(text, lang, supported, kinds, keywords.query_terms(text, languages, translations), noun_terms)


@dataclass
class Context:
    """What features may look up besides the pair: coverage and a candidate's neighbours."""

    keywords: KeywordRetriever
    neighbours: Neighbours
    _cache: dict = field(default_factory=dict)

    def cover(self, q: QuestionView, text: str) -> float:
        return q.terms.coverage(self.keywords, text)


Feature = Callable[[QuestionView, Candidate, Context], float]


def _unit_text(c: Candidate) -> str:
    lead = c.record.unit.lead
    return f"{lead} {c.text}" if lead else c.text


def dense(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return c.dense


def dense_margin(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """How far behind the nearest candidate (0 for the nearest)."""
    return c.dense - q.best_dense


def dense_rank(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return 1.0 / c.dense_rank


def passage_rank(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return 1.0 / c.passage_rank if c.passage_rank else 0.0


def passage_dense(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return c.passage_dense


def keyword_coverage(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return ctx.cover(q, _unit_text(c))


def context_coverage(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """The unit read with its section heading and document title."""
    return ctx.cover(q, f"{c.chunk.title} {c.chunk.section} {_unit_text(c)}")


def heading_coverage(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return ctx.cover(q, c.chunk.section)


def passage_coverage(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return ctx.cover(q, f"{c.chunk.section}\n{c.chunk.text}")


def neighbour_coverage(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """The unit with the sentences around it: a fact often continues a sentence that names the topic."""
    before, after = ctx.neighbours(c)
    parts = [r.unit.text for r in (before, after) if r is not None]
    return ctx.cover(q, " ".join([*parts, _unit_text(c)]))


def rarest_missing(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """The rarest question word that neither the unit nor its passage contains (a named programme,
    year or thing the documents do not talk about here)."""
    return q.terms.rarest_missing(ctx.keywords, f"{c.chunk.title} {c.chunk.section}\n{c.chunk.text}")


def kind_asked(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(bool(q.kinds - {Kind.YESNO}))


def kind_match(q: QuestionView, c: Candidate, ctx: Context) -> float:
    text = _unit_text(c)
    return float(any(has_kind(text, k) for k in q.kinds - {Kind.YESNO}))


def _kinds_missing(kinds: set[Kind], c: Candidate) -> float:
    text = _unit_text(c)
    return float(bool(kinds) and not any(has_kind(text, k) for k in kinds))


def person_missing(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """"Who" asked, no name in the unit. Apart from the other kinds, since "who may apply" asks for a kind
    of applicant rather than a name: how much a missing name weighs is learned, not assumed."""
    return _kinds_missing(q.kinds & {Kind.PERSON}, c)


def fact_missing(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """A date, place, number or way of contact asked, and none in the unit."""
    return _kinds_missing(q.kinds - {Kind.YESNO, Kind.PERSON}, c)


def yes_no_evidence(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(Kind.YESNO in q.kinds and has_kind(_unit_text(c), Kind.YESNO))


def counts_asked_noun(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """A number in the unit counts what "how many" asks about ("81 Mitglieder" for "wie viele Mitglieder")."""
    if q.noun_terms is None:
        return 0.0
    windows = number_windows(_unit_text(c))
    return float(any(q.noun_terms.coverage(ctx.keywords, w) > 0 for w in windows))


def same_language(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(c.chunk.language == q.lang)


def supported_language(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(q.supported)


def dense_if_unsupported(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """Questions in other languages have no keyword overlap: there the meaning must carry the decision."""
    return 0.0 if q.supported else c.dense


def question_terms(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """How many content words the question has (log, 0 for none). The same for every candidate, so the
    ranker cannot use it; the answerability model can: a question of one word ("Und bei der zweiten?")
    is covered by many units that do not answer it."""
    return math.log1p(len(q.terms.groups))


def read_alone_in_conversation(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """A later turn read without the turns before it. Such a reading of "Und wer hat das unterstützt?"
    finds a confident answer to another question; the answerability model learns what it is worth."""
    return float(q.alone_in_conversation)


def previous_questions(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """How many previous questions the reading includes (0-2): each drags an old topic in."""
    return float(q.previous)


def own_terms_alone(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """The later turn's own content words (log) when read alone: a question that names its topic can stand
    alone, one that says "das" or "she" cannot."""
    return math.log1p(q.own_terms) if q.alone_in_conversation else 0.0


def own_terms_with_previous(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """The later turn's own content words (log) when read with previous questions: a question that names
    a new topic is a switch, and the old question only blurs it."""
    return math.log1p(q.own_terms) if q.previous else 0.0


def similar_answerable(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """How many of the development questions nearest to this one the documents answer (bot/question_memory.py).
    The same for every candidate: an input of the answerability model only, like question_terms."""
    return q.similar_answerable


def remembered_answer(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """How much of the nearest development questions' vote goes to questions this unit answered
    (bot/question_memory.py): a new wording of a fact asked before, found by meaning, not by keywords."""
    return q.remembered.get(unit_key(c.text), 0.0) if q.remembered else 0.0


def length(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return math.log1p(len(c.text)) / math.log1p(1200)


def is_list(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(c.record.unit.kind == "list")


def is_item(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(c.record.unit.kind == "item")


def is_label(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(c.record.unit.kind == "label")


def is_question(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """Interview questions and headings phrased as questions ask, they do not answer."""
    return float(c.text.rstrip().endswith("?"))


def pronoun_subject(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(bool(_PRONOUN_START.match(c.text)))


def from_history(q: QuestionView, c: Candidate, ctx: Context) -> float:
    return float(c.from_history)


def recency(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """How recent the document is (its year, 2010 -> 0, 2030 -> 1): the sources disagree on figures by date."""
    year = c.chunk.sort_date[:4]
    return (int(year) - 2010) / 20 if year.isdigit() else 0.0


def dated(q: QuestionView, c: Candidate, ctx: Context) -> float:
    """The unit says when it holds ("Im Oktober 2022 sind 81 ...")."""
    return float(has_kind(c.text, Kind.DATE))


FEATURES: dict[str, Feature] = {f.__name__: f for f in (
    dense, dense_margin, dense_rank, passage_rank, passage_dense, keyword_coverage, context_coverage,
    heading_coverage, passage_coverage, neighbour_coverage, rarest_missing, kind_asked, kind_match,
    person_missing, fact_missing, yes_no_evidence, counts_asked_noun, same_language, supported_language,
    dense_if_unsupported, question_terms, read_alone_in_conversation, previous_questions, own_terms_alone,
    own_terms_with_previous, similar_answerable, remembered_answer, length, is_list, is_item, is_label, is_question,
    pronoun_subject, from_history, recency, dated)}


def feature_matrix(q: QuestionView, candidates: list[Candidate], ctx: Context,
                   names: list[str] | None = None) -> np.ndarray:
    names = names or list(FEATURES)
    q.best_dense = max((c.dense for c in candidates), default=0.0)
    functions = [FEATURES[n] for n in names]
    return np.array([[f(q, c, ctx) for f in functions] for c in candidates], dtype=np.float64).reshape(
        len(candidates), len(functions))
