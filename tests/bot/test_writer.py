"""The answer writer: which units to quote (choose) and how the cited answer reads (write)."""

from __future__ import annotations

import re

import pytest

from bot.asked import Kind
from bot.candidates import Candidate
from bot.writer import OTHER_LANGUAGE, AnswerWriter, Scored
from indexer.chunk import Chunk
from indexer.units import Unit, UnitRecord


def doc(ordinal: int, language: str = "de", section: str = "", source: str = "a.txt", sort_date: str = "2023",
        title: str = "Webseite", page: int | None = None) -> Chunk:
    return Chunk.create(text=f"Passage {ordinal}", source=source, title=title, language=language, ordinal=ordinal,
                        section=section, date=sort_date, date_label=f"Stand {sort_date}", sort_date=sort_date,
                        page=page)


def unit(chunk: Chunk, text: str, index: int = 0, kind: str = "sentence", part_of: int | None = None,
         lead: str = "", dense: float = 0.8) -> Candidate:
    return Candidate(index, UnitRecord(chunk.id, Unit(text, index, kind, 0, part_of, lead), chunk.section), chunk,
                     dense, 1, 1, 0.8)


def scored(*pairs: tuple[Candidate, float]) -> list[Scored]:
    return [Scored(c, p) for c, p in pairs]


A, B, EN = doc(1), doc(2), doc(3, language="en")
WRITER = AnswerWriter()


def texts(chosen: list[Scored]) -> list[str]:
    return [s.candidate.text for s in chosen]


# -- choose -----------------------------------------------------------------------------------------------

def test_the_best_unit_comes_first_and_units_nearly_as_likely_join_it():
    ranked = scored((unit(A, "Erstens."), 0.9), (unit(B, "Zweitens."), 0.7), (unit(B, "Drittens.", 1), 0.3))
    assert texts(WRITER.choose(ranked, set())) == ["Erstens.", "Zweitens."]  # 0.3 < 0.35 x 0.9


def test_nearly_as_likely_is_relative_to_the_best_unit_whatever_its_probability():
    # the same ranking at a lower answer probability chooses the same units: training learned that answer
    for p in (0.9, 0.5):
        ranked = scored((unit(A, "Erstens."), p), (unit(B, "Zweitens."), 0.4 * p), (unit(B, "Drittens.", 1), 0.3 * p))
        assert texts(WRITER.choose(ranked, set())) == ["Erstens.", "Zweitens."]


def test_at_most_max_units_are_chosen():
    ranked = scored(*((unit(doc(i), f"Satz {i}."), 0.9) for i in range(6)))
    assert len(WRITER.choose(ranked, set())) == 3
    assert len(AnswerWriter(max_units=1).choose(ranked, set())) == 1


def test_overlapping_units_are_skipped():
    the_list = unit(A, "Vorteile:\n- Sichtbarkeit\n- Beratung", 2, "list")
    ranked = scored((the_list, 0.9),
                    (unit(A, "Sichtbarkeit", 3, "item", part_of=2, lead="Vorteile:"), 0.89),  # an item of it
                    (unit(B, "Vorteile:\n- Sichtbarkeit\n- Beratung", 5, "list"), 0.88),  # the same text elsewhere
                    (unit(A, "Anders.", 2), 0.87),  # the same unit index of the same passage
                    (unit(A, "Danach.", 4), 0.86))
    assert texts(WRITER.choose(ranked, set())) == ["Vorteile:\n- Sichtbarkeit\n- Beratung", "Danach."]


def test_the_list_of_a_chosen_item_is_skipped():
    ranked = scored((unit(A, "Sichtbarkeit", 3, "item", part_of=2), 0.9),
                    (unit(A, "Vorteile:\n- Sichtbarkeit", 2, "list"), 0.85))
    assert texts(WRITER.choose(ranked, set())) == ["Sichtbarkeit"]


def test_a_how_many_answer_adds_the_figures_of_other_sources_and_only_figures():
    old = doc(5, source="flyer.txt", sort_date="2019")
    other = doc(6, source="publication.txt", sort_date="2021")
    ranked = scored((unit(A, "Im Oktober 2022 sind 81 Cluster Mitglied."), 0.9),
                    (unit(B, "Cluster sind Netzwerke."), 0.8),  # no figure
                    (unit(A, "Es gibt 13.000 Unternehmen.", 1), 0.3),  # same source, not nearly as likely
                    (unit(old, "Currently 72 members use the programme."), 0.3),  # another source: its figure
                    (unit(other, "Die Mitglieder treffen sich."), 0.3))  # another source without a figure
    chosen = WRITER.choose(ranked, {Kind.NUMBER})
    assert texts(chosen) == ["Im Oktober 2022 sind 81 Cluster Mitglied.", "Currently 72 members use the programme."]
    assert texts(WRITER.choose(ranked, set())) == ["Im Oktober 2022 sind 81 Cluster Mitglied.",
                                                        "Cluster sind Netzwerke."]


def test_other_sources_are_surveyed_only_when_the_best_unit_holds_a_figure():
    old = doc(5, source="flyer.txt", sort_date="2019")
    ranked = scored((unit(A, "Viele Cluster sind Mitglied."), 0.9), (unit(old, "Currently 72 members."), 0.3))
    assert texts(WRITER.choose(ranked, {Kind.NUMBER})) == ["Viele Cluster sind Mitglied."]


# -- write ------------------------------------------------------------------------------------------------

def test_each_passage_gets_one_marker_and_one_citation():
    page_doc = doc(7, page=4, section="Aufnahme")
    chosen = scored((unit(page_doc, "Erstens.", 0, dense=0.7), 0.9), (unit(B, "Zweitens."), 0.8),
                    (unit(page_doc, "Drittens.", 1, dense=0.91), 0.7))
    result = WRITER.write(chosen, "de", set())
    assert result.text == "Erstens.\nDrittens. [1]\n\nZweitens. [2]"
    assert [(c.n, c.chunk_id) for c in result.citations] == [(1, page_doc.id), (2, B.id)]
    first = result.citations[0]
    assert first.quote == "Erstens.\nDrittens." and first.page == 4 and first.section == "Aufnahme"
    assert first.score == 0.91 and first.source == "a.txt" and first.language == "de"
    assert result.probability == 0.9 and result.evidence_language == "de"
    assert {int(n) for n in re.findall(r"\[(\d+)\]", result.text)} == {c.n for c in result.citations}


@pytest.mark.parametrize(("lang", "chunk", "note"), [
    ("de", EN, "(Quelle auf Englisch) "), ("en", A, "(source in German) "), ("de", A, ""), ("en", EN, ""),
])
def test_a_quote_in_the_other_language_says_so(lang, chunk, note):
    result = WRITER.write(scored((unit(chunk, "Satz."), 0.9)), lang, set())
    assert result.text == f"{note}Satz. [1]"
    assert result.evidence_language == chunk.language


@pytest.mark.parametrize(("lang", "line"), [("de", "Gelesen als: „welche kriterien gelten“"),
                                            ("en", "Read as: „welche kriterien gelten“")])
def test_a_corrected_question_is_shown_as_read(lang, line):
    result = WRITER.write(scored((unit(A, "Satz."), 0.9)), lang, set(), read_as="welche kriterien gelten")
    assert result.text.splitlines()[0] == line
    assert "Gelesen als" not in WRITER.write(scored((unit(A, "Satz."), 0.9)), lang, set()).text


def test_a_question_in_another_language_gets_one_english_line_first():
    result = WRITER.write(scored((unit(A, "Jedes Cluster."), 0.9)), "en", {Kind.PERSON}, supported=False)
    assert result.text == f"{OTHER_LANGUAGE}\n\n(source in German) Jedes Cluster. [1]"
    assert "German or English" in OTHER_LANGUAGE


INTERVIEW = doc(8, section="Interview mit dem Programmbeirat")


@pytest.mark.parametrize(("text", "kinds", "expected"), [
    ("Wir organisieren die Clusterwoche.", set(),
     "Interview mit dem Programmbeirat – Wir organisieren die Clusterwoche."),
    ("We organise the cluster week.", set(), "Interview mit dem Programmbeirat – We organise the cluster week."),
    ("Die Clusterwoche ist wichtig.", set(), "Die Clusterwoche ist wichtig."),
    ("Wirtschaft und Wissenschaft arbeiten zusammen.", set(), "Wirtschaft und Wissenschaft arbeiten zusammen."),
    ("Der Programmbeirat im Interview mit dem Programmbeirat.", set(),
     "Der Programmbeirat im Interview mit dem Programmbeirat."),
])
def test_a_unit_whose_subject_stands_only_in_its_section_is_introduced_by_it(text, kinds, expected):
    assert WRITER.write(scored((unit(INTERVIEW, text), 0.9)), "de", kinds).text == f"{expected} [1]"


@pytest.mark.parametrize(("section", "text", "kinds", "prefixed"), [
    ("Clusterwoche 2017", "Die Clusterwoche fand statt.", {Kind.DATE}, True),  # the year is in the section
    ("Clusterwoche 2017", "Die Clusterwoche fand 2018 statt.", {Kind.DATE}, False),  # the unit has its own
    ("Clusterwoche 2017", "Die Clusterwoche fand statt.", {Kind.YESNO}, False),
    ("Clusterwoche 2017", "Die Clusterwoche fand statt.", set(), False),
    ("Treffen in Berlin", "Das Treffen fand statt.", {Kind.PLACE}, True),
    ("Treffen in Berlin", "Das Treffen fand statt.", {Kind.DATE}, False),
])
def test_the_section_is_named_when_it_holds_the_asked_year_or_place(section, text, kinds, prefixed):
    chunk = doc(9, section=section)
    written = WRITER.write(scored((unit(chunk, text), 0.9)), "de", kinds).text
    assert written == (f"{section} – {text} [1]" if prefixed else f"{text} [1]")


def test_a_list_item_keeps_the_sentence_that_introduces_its_list():
    item = unit(A, "Sichtbarkeit", 3, "item", part_of=2, lead="Die Vorteile sind:")
    result = WRITER.write(scored((item, 0.9)), "de", set())
    assert result.text == "Die Vorteile sind:\n- Sichtbarkeit [1]"


def test_figures_from_several_sources_are_given_newest_first_with_source_and_date():
    old = doc(5, source="flyer.txt", sort_date="2019", title="Flyer", language="en")
    new = doc(6, source="web.txt", sort_date="2023", title="Webseite")
    chosen = scored((unit(old, "Currently 72 members."), 0.9), (unit(new, "81 Cluster sind Mitglied."), 0.5))
    result = WRITER.write(chosen, "de", {Kind.NUMBER})
    assert result.text == ("Angaben der Quellen, neueste zuerst:\n\n"
                           "81 Cluster sind Mitglied. [1] (Webseite, Stand 2023)\n\n"
                           "(Quelle auf Englisch) Currently 72 members. [2] (Flyer, Stand 2019)")
    assert [c.source for c in result.citations] == ["web.txt", "flyer.txt"]
    assert result.evidence_language == "de" and result.probability == 0.9
    english = WRITER.write(chosen, "en", {Kind.NUMBER}).text
    assert english.startswith("Figures by source, most recent first:\n\n")


def test_figures_from_one_source_are_not_surveyed_but_dated():
    chosen = scored((unit(A, "81 Cluster sind Mitglied."), 0.9), (unit(A, "13.000 Unternehmen.", 1), 0.8))
    assert WRITER.write(chosen, "de", {Kind.NUMBER}).text == \
        "81 Cluster sind Mitglied.\n13.000 Unternehmen. [1] (Webseite, Stand 2023)"


def test_an_answer_without_a_figure_is_not_dated():
    chosen = scored((unit(A, "Cluster aus ganz Deutschland sind Mitglied."), 0.9))
    assert WRITER.write(chosen, "de", {Kind.NUMBER}).text == "Cluster aus ganz Deutschland sind Mitglied. [1]"


RECOMMENDATION = "This resulted from a recommendation by the European Cluster Policy Group in 2010."
WHAT = "It recommended a clearer focus on excellence."


def following_in(chunk: Chunk, text: str):
    """A hand-made passage: the sentence WHAT follows RECOMMENDATION, nothing follows anything else."""
    def neighbours(c: Candidate) -> tuple[UnitRecord | None, UnitRecord | None]:
        if c.text == RECOMMENDATION:
            return None, UnitRecord(chunk.id, Unit(text, 1), chunk.section)
        return None, None
    return neighbours


def test_the_sentence_after_the_best_unit_finishes_its_quote_and_its_citation():
    writer = AnswerWriter(neighbours=following_in(A, WHAT))
    composition = writer.write(scored((unit(A, RECOMMENDATION), 0.9)), "de", set())
    assert composition.text == f"{RECOMMENDATION} {WHAT} [1]"
    assert composition.citations[0].quote == f"{RECOMMENDATION} {WHAT}"


def test_the_following_sentence_is_not_repeated_when_it_is_quoted_anyway():
    writer = AnswerWriter(neighbours=following_in(A, WHAT))
    chosen = scored((unit(A, RECOMMENDATION), 0.9), (unit(A, WHAT, index=1), 0.8))
    assert writer.write(chosen, "en", set()).text.count(WHAT) == 1


def test_only_the_best_unit_is_continued_and_only_when_its_passage_goes_on():
    writer = AnswerWriter(neighbours=following_in(A, WHAT))
    chosen = scored((unit(B, "Another sentence."), 0.9), (unit(A, RECOMMENDATION, index=2), 0.8))
    assert WHAT not in writer.write(chosen, "en", set()).text
    assert WHAT not in WRITER.write(scored((unit(A, RECOMMENDATION), 0.9)), "en", set()).text  # no neighbours
