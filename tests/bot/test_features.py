"""Every feature of a (question, candidate unit) pair, on hand-made cases: one where it fires (or is
high) and one where it does not, over a real KeywordRetriever of four hand-made passages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from bot.asked import Kind, asked_kinds
from bot.candidates import Candidate
from bot.features import FEATURES, Context, QuestionView, feature_matrix
from bot.keywords import KeywordRetriever
from bot.question_memory import NEUTRAL, unit_key
from indexer.chunk import Chunk
from indexer.units import Unit, UnitRecord


def doc(text: str, section: str = "", language: str = "de", sort_date: str = "2023-10", ordinal: int = 0,
        title: str = "Webseite") -> Chunk:
    return Chunk.create(text=text, source=f"{title}.txt", title=title, language=language, ordinal=ordinal,
                        section=section, sort_date=sort_date)


ADMISSION = doc("Jedes Innovationscluster aus Deutschland kann sich um die Aufnahme in das Programm bewerben. "
                "Im Oktober 2022 sind 81 Clusterorganisationen Mitglied im Programm go-cluster.",
                section="Aufnahme in das Programm", ordinal=1)
ENGLISH = doc("Innovation clusters based in Germany may apply. The ministry absorbs the costs.",
              section="Admission", language="en", sort_date="2019", ordinal=2, title="Flyer")
INTERVIEW = doc("Wir organisieren die Clusterwoche in Berlin. Das Verfahren hat drei Schritte.",
                section="Interview mit dem Programmbeirat", sort_date="2022", ordinal=3, title="Publikation")
IMPRINT = doc("Die Publikation ist kostenlos erhältlich. Clusterreportagen: 16", section="Impressum",
              sort_date="", ordinal=4, title="Impressum")
CHUNKS = [ADMISSION, ENGLISH, INTERVIEW, IMPRINT]
BEFORE = UnitRecord(ADMISSION.id, Unit("Die Aufnahme in das Programm ist offen.", 0), ADMISSION.section)


@pytest.fixture(scope="module")
def keywords() -> KeywordRetriever:
    return KeywordRetriever(CHUNKS)


def neighbours(c: Candidate) -> tuple[UnitRecord | None, UnitRecord | None]:
    """A hand-made passage order: only units of the admission passage have a sentence before them."""
    return (BEFORE, None) if c.chunk.id == ADMISSION.id else (None, None)


def cand(chunk: Chunk, text: str, *, kind: str = "sentence", lead: str = "", dense: float = 0.5,
         dense_rank: int = 1, passage_rank: int = 1, passage_dense: float = 0.5,
         from_history: bool = False) -> Candidate:
    unit = Unit(text, 1, kind, 0, part_of=0 if kind == "item" else None, lead=lead)
    return Candidate(0, UnitRecord(chunk.id, unit, chunk.section), chunk, dense, dense_rank, passage_rank,
                     passage_dense, from_history)


@dataclass(frozen=True)
class Case:
    question: str
    candidate: Candidate
    expected: float | None = None  # the exact value where it is known by hand
    lang: str = "de"
    supported: bool = True
    best_dense: float = 0.9
    similar_answerable: float = NEUTRAL  # what FaqBot sets from the question memory
    remembered: tuple[tuple[str, float], ...] = ()  # (unit_key, vote), also from the memory
    later_turn: bool = False  # how FaqBot reads it in a conversation (bot/conversation.py)
    previous: int = 0
    own_terms: int = 0


def value(name: str, case: Case, keywords: KeywordRetriever) -> float:
    view = QuestionView.build(case.question, case.lang, case.supported, asked_kinds(case.question), keywords, None)
    view.best_dense = case.best_dense
    view.similar_answerable = case.similar_answerable
    view.remembered = dict(case.remembered)
    view.later_turn, view.previous, view.own_terms = case.later_turn, case.previous, case.own_terms
    return FEATURES[name](view, case.candidate, Context(keywords, neighbours))


ELIGIBLE = "Jedes Innovationscluster aus Deutschland kann sich um die Aufnahme in das Programm bewerben."
MEMBERS = "Im Oktober 2022 sind 81 Clusterorganisationen Mitglied im Programm go-cluster."
UNRELATED = "Die Publikation ist kostenlos erhältlich."
APPLY = "Wer darf sich um die Aufnahme bewerben?"
STEPS = "Das Verfahren hat drei Schritte."
WHEN = "Wann begann das Programm?"

# name -> (a case where the feature fires or is high, a case where it does not or is low)
CASES: dict[str, tuple[Case, Case]] = {
    "dense": (Case(APPLY, cand(ADMISSION, ELIGIBLE, dense=0.9), 0.9),
              Case(APPLY, cand(IMPRINT, UNRELATED, dense=0.2), 0.2)),
    "dense_margin": (Case(APPLY, cand(ADMISSION, ELIGIBLE, dense=0.9), 0.0),
                     Case(APPLY, cand(IMPRINT, UNRELATED, dense=0.7), -0.2)),
    "dense_rank": (Case(APPLY, cand(ADMISSION, ELIGIBLE, dense_rank=1), 1.0),
                   Case(APPLY, cand(IMPRINT, UNRELATED, dense_rank=4), 0.25)),
    "passage_rank": (Case(APPLY, cand(ADMISSION, ELIGIBLE, passage_rank=2), 0.5),
                     Case(APPLY, cand(IMPRINT, UNRELATED, passage_rank=0), 0.0)),  # 0: passage not retrieved
    "passage_dense": (Case(APPLY, cand(ADMISSION, ELIGIBLE, passage_dense=0.8), 0.8),
                      Case(APPLY, cand(IMPRINT, UNRELATED, passage_dense=0.3), 0.3)),
    "keyword_coverage": (Case(APPLY, cand(ADMISSION, ELIGIBLE), 1.0),
                         Case(APPLY, cand(IMPRINT, UNRELATED), 0.0)),
    # the question's words stand only in the unit's section heading
    "context_coverage": (Case("Wie läuft die Aufnahme in das Programm?", cand(ADMISSION, STEPS)),
                         Case("Wie läuft die Aufnahme in das Programm?", cand(IMPRINT, STEPS), 0.0)),
    "heading_coverage": (Case("Aufnahme in das Programm?", cand(ADMISSION, STEPS), 1.0),
                         Case("Aufnahme in das Programm?", cand(INTERVIEW, STEPS), 0.0)),
    # the unit lacks the words, its passage has them
    "passage_coverage": (Case("Wie viele Clusterorganisationen?", cand(ADMISSION, STEPS), 1.0),
                         Case("Wie viele Clusterorganisationen?", cand(INTERVIEW, STEPS), 0.0)),
    # the sentence before it names the topic
    "neighbour_coverage": (Case("Ist die Aufnahme offen?", cand(ADMISSION, STEPS)),
                           Case("Ist die Aufnahme offen?", cand(INTERVIEW, STEPS), 0.0)),
    # "ZIM" stands in no document: the rarest possible word is missing
    "rarest_missing": (Case("Kann man sich um die Aufnahme in das Programm ZIM bewerben?",
                            cand(ADMISSION, ELIGIBLE), 1.0),
                       Case("Kann man sich um die Aufnahme in das Programm bewerben?", cand(ADMISSION, ELIGIBLE),
                            0.0)),
    "kind_asked": (Case(WHEN, cand(ADMISSION, MEMBERS), 1.0),
                   Case("Kann man sich bewerben?", cand(ADMISSION, MEMBERS), 0.0)),  # yes/no only: no kind
    "kind_match": (Case(WHEN, cand(ADMISSION, MEMBERS), 1.0),
                   Case(WHEN, cand(ADMISSION, ELIGIBLE), 0.0)),
    "fact_missing": (Case(WHEN, cand(ADMISSION, ELIGIBLE), 1.0),
                     Case(WHEN, cand(ADMISSION, MEMBERS), 0.0)),
    "person_missing": (Case("Wer leitet das Programm?", cand(ADMISSION, ELIGIBLE), 1.0),
                       Case("Wer leitet das Programm?", cand(ADMISSION, "Das Programm leitet Dr. Anna Schmidt."),
                            0.0)),
    "yes_no_evidence": (Case("Können sich nur Cluster aus Deutschland bewerben?",
                             cand(ADMISSION, "Nur Cluster aus Deutschland sind zugelassen."), 1.0),
                        Case("Welche Cluster aus Deutschland bewerben sich?",
                             cand(ADMISSION, "Nur Cluster aus Deutschland sind zugelassen."), 0.0)),
    "counts_asked_noun": (Case("Wie viele Mitglieder hat go-cluster?", cand(ADMISSION, MEMBERS), 1.0),
                          Case("Wie viele Mitglieder hat go-cluster?", cand(IMPRINT, "Clusterreportagen: 16"),
                               0.0)),
    "same_language": (Case(APPLY, cand(ADMISSION, ELIGIBLE), 1.0),
                      Case(APPLY, cand(ENGLISH, "Innovation clusters based in Germany may apply."), 0.0)),
    "supported_language": (Case(APPLY, cand(ADMISSION, ELIGIBLE), 1.0),
                           Case("¿Quién puede solicitar?", cand(ADMISSION, ELIGIBLE), 0.0, "en", False)),
    "dense_if_unsupported": (Case("¿Quién puede solicitar?", cand(ADMISSION, ELIGIBLE, dense=0.85), 0.85, "en",
                                  False),
                             Case(APPLY, cand(ADMISSION, ELIGIBLE, dense=0.85), 0.0)),
    # two content words ("Aufnahme", "bewerben"); "Und dann?" has none
    "question_terms": (Case(APPLY, cand(ADMISSION, ELIGIBLE), float(np.log1p(2))),
                       Case("Und dann?", cand(ADMISSION, ELIGIBLE), 0.0)),
    # read from the view as FaqBot set it; without a memory it is neutral
    "similar_answerable": (Case(APPLY, cand(ADMISSION, ELIGIBLE), 0.9, similar_answerable=0.9),
                           Case(APPLY, cand(ADMISSION, ELIGIBLE), NEUTRAL)),
    # the vote of the nearest development questions for this unit's text; another unit's vote is not its own
    "remembered_answer": (Case("Ist das was für uns?", cand(ADMISSION, ELIGIBLE), 0.7,
                               remembered=((unit_key(ELIGIBLE), 0.7), (unit_key(MEMBERS), 0.2))),
                          Case("Ist das was für uns?", cand(ADMISSION, ELIGIBLE), 0.0,
                               remembered=((unit_key(MEMBERS), 0.2),))),
    # a later turn read without the conversation; the same question on its own is not
    "read_alone_in_conversation": (Case("Und wer hat das unterstützt?", cand(ADMISSION, ELIGIBLE), 1.0,
                                        later_turn=True),
                                   Case("Und wer hat das unterstützt?", cand(ADMISSION, ELIGIBLE), 0.0),
                                   ),
    "previous_questions": (Case(APPLY, cand(ADMISSION, ELIGIBLE), 2.0, later_turn=True, previous=2),
                           Case(APPLY, cand(ADMISSION, ELIGIBLE), 0.0, later_turn=True)),
    "own_terms_alone": (Case(APPLY, cand(ADMISSION, ELIGIBLE), float(np.log1p(2)), later_turn=True, own_terms=2),
                        Case(APPLY, cand(ADMISSION, ELIGIBLE), 0.0, later_turn=True, previous=1, own_terms=2)),
    "own_terms_with_previous": (Case(APPLY, cand(ADMISSION, ELIGIBLE), float(np.log1p(2)), later_turn=True,
                                     previous=1, own_terms=2),
                                Case(APPLY, cand(ADMISSION, ELIGIBLE), 0.0, later_turn=True, own_terms=2)),
    "length": (Case(APPLY, cand(ADMISSION, "x" * 1200), 1.0),
               Case(APPLY, cand(ADMISSION, "Ja."), float(np.log1p(3) / np.log1p(1200)))),
    "is_list": (Case(APPLY, cand(ADMISSION, "Vorteile:\n- Sichtbarkeit", kind="list"), 1.0),
                Case(APPLY, cand(ADMISSION, ELIGIBLE), 0.0)),
    "is_item": (Case(APPLY, cand(ADMISSION, "Sichtbarkeit", kind="item", lead="Vorteile:"), 1.0),
                Case(APPLY, cand(ADMISSION, "Vorteile:\n- Sichtbarkeit", kind="list"), 0.0)),
    "is_label": (Case(APPLY, cand(IMPRINT, "Clusterreportagen: 16", kind="label"), 1.0),
                 Case(APPLY, cand(IMPRINT, UNRELATED), 0.0)),
    "is_question": (Case(APPLY, cand(INTERVIEW, "Was macht das Programm?"), 1.0),
                    Case(APPLY, cand(INTERVIEW, STEPS), 0.0)),
    "pronoun_subject": (Case(APPLY, cand(INTERVIEW, "Wir organisieren die Clusterwoche in Berlin."), 1.0),
                        Case(APPLY, cand(INTERVIEW, "Wirtschaft und Wissenschaft arbeiten zusammen."), 0.0)),
    "from_history": (Case(APPLY, cand(ADMISSION, ELIGIBLE, from_history=True), 1.0),
                     Case(APPLY, cand(ADMISSION, ELIGIBLE), 0.0)),
    "recency": (Case(APPLY, cand(ADMISSION, ELIGIBLE), 0.65),  # 2023
                Case(APPLY, cand(IMPRINT, UNRELATED), 0.0)),  # undated
    "dated": (Case(APPLY, cand(ADMISSION, MEMBERS), 1.0),
              Case(APPLY, cand(ADMISSION, ELIGIBLE), 0.0)),
}


def test_every_feature_has_hand_made_cases():
    assert set(CASES) == set(FEATURES)


@pytest.mark.parametrize("name", list(CASES))
def test_the_feature_is_higher_on_its_positive_case(name, keywords):
    positive, negative = CASES[name]
    high, low = value(name, positive, keywords), value(name, negative, keywords)
    for case, got in ((positive, high), (negative, low)):
        if case.expected is not None:
            assert got == pytest.approx(case.expected), (name, case.question, case.candidate.text)
    assert high > low, (name, high, low)


def test_a_missing_name_and_a_missing_date_are_apart(keywords):
    # the selector learns how much each weighs: "who may apply" asks for a kind of applicant, not a name
    assert value("fact_missing", Case("Wer leitet das Programm?", cand(ADMISSION, ELIGIBLE)), keywords) == 0.0
    assert value("person_missing", Case(WHEN, cand(ADMISSION, ELIGIBLE)), keywords) == 0.0


def test_coverage_reads_the_sentence_that_introduces_a_list_item(keywords):
    item = cand(ADMISSION, "Sichtbarkeit", kind="item", lead="Wer sich um die Aufnahme bewerben darf:")
    bare = cand(ADMISSION, "Sichtbarkeit", kind="item")
    assert value("keyword_coverage", Case(APPLY, item), keywords) == pytest.approx(1.0)
    assert value("keyword_coverage", Case(APPLY, bare), keywords) == 0.0


def test_coverage_tolerates_the_other_stem_form(keywords):
    # "Mitglieder" in the question, "Mitglied" in the unit: the same stem
    assert value("keyword_coverage", Case("Mitglieder?", cand(ADMISSION, MEMBERS)), keywords) == 1.0


def test_a_question_in_another_language_is_matched_in_both_languages(keywords):
    view = QuestionView.build("¿Quién puede solicitar?", "es", False, {Kind.PERSON}, keywords, None)
    assert view.terms.languages == ("de", "en") and view.noun_terms is None


def test_the_counted_noun_is_read_only_for_how_many_questions(keywords):
    question = "Wie viele Mitglieder hat go-cluster?"
    counting = QuestionView.build(question, "de", True, asked_kinds(question), keywords, None)
    assert counting.noun_terms is not None and counting.terms.languages == ("de",)
    other = QuestionView.build(question, "de", True, set(), keywords, None)
    assert other.noun_terms is None


def test_feature_matrix_has_one_row_per_candidate_and_one_column_per_name_in_order(keywords):
    view = QuestionView.build(APPLY, "de", True, asked_kinds(APPLY), keywords, None)
    candidates = [cand(ADMISSION, ELIGIBLE, dense=0.9, dense_rank=1), cand(IMPRINT, UNRELATED, dense=0.6,
                                                                             dense_rank=2, passage_rank=0)]
    ctx = Context(keywords, neighbours)
    names = ["dense_rank", "dense", "dense_margin", "keyword_coverage"]
    matrix = feature_matrix(view, candidates, ctx, names)
    assert matrix.shape == (2, 4) and matrix.dtype == np.float64
    np.testing.assert_allclose(matrix, [[1.0, 0.9, 0.0, 1.0], [0.5, 0.6, -0.3, 0.0]], atol=1e-6)
    assert view.best_dense == pytest.approx(0.9)  # the margin is measured from the nearest candidate
    full = feature_matrix(view, candidates, ctx)
    assert full.shape == (2, len(FEATURES))
    assert full[:, list(FEATURES).index("dense")].tolist() == pytest.approx([0.9, 0.6])


def test_feature_matrix_of_no_candidates_is_empty_with_the_right_width(keywords):
    view = QuestionView.build(APPLY, "de", True, set(), keywords, None)
    assert feature_matrix(view, [], Context(keywords, neighbours), ["dense", "length"]).shape == (0, 2)


