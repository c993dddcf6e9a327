"""Answer units: sentences, lists with their lead-in, items, figure labels, offsets and the record format."""

from __future__ import annotations

import json

import pytest

from indexer.chunk import Chunk
from indexer.units import MAX_UNIT_CHARS, Unit, UnitRecord, context_of, split_units, unit_records

FIGURES = ("Zahlen und Fakten\n\nClusterreportagen: 16 Veranstaltungen: 71 Newsletterausgaben: 310\n\n"
           "Das Programm wächst. Es hat 81 Mitglieder.")
LIST = "Wer darf? Jedes Cluster.\n\nDie Vorteile sind:\n- Sichtbarkeit\n- Beratung durch\n  Experten\n\nDanach."


def kinds(passage: str) -> list[tuple[str, str]]:
    return [(u.kind, u.text) for u in split_units(passage)]


def test_sentences_of_a_paragraph_are_units_of_their_own():
    assert kinds("Wer darf sich bewerben? Jedes Innovationscluster aus Deutschland.") == [
        ("sentence", "Wer darf sich bewerben?"), ("sentence", "Jedes Innovationscluster aus Deutschland.")]


def test_a_list_is_one_unit_with_its_lead_in_and_each_item_is_one_too():
    units = split_units(LIST)
    assert [(u.kind, u.text) for u in units] == [
        ("sentence", "Wer darf?"), ("sentence", "Jedes Cluster."),
        ("list", "Die Vorteile sind:\n- Sichtbarkeit\n- Beratung durch Experten"),
        ("item", "Sichtbarkeit"), ("item", "Beratung durch Experten"),  # the wrapped line continues the item
        ("sentence", "Danach.")]
    the_list = units[2]
    assert the_list.is_list and not units[3].is_list
    for item in units[3:5]:
        assert item.part_of == the_list.index
        assert item.lead == "Die Vorteile sind:"
    assert all(u.part_of is None and u.lead == "" for u in units if u.kind != "item")


def test_numbered_items_are_items_and_a_list_without_lead_in_has_none():
    units = split_units("1. Beratung\n2) Sichtbarkeit")
    assert [(u.kind, u.text, u.lead) for u in units] == [
        ("list", "- Beratung\n- Sichtbarkeit", ""), ("item", "Beratung", ""), ("item", "Sichtbarkeit", "")]


def test_a_sentence_before_a_list_that_does_not_introduce_it_stays_a_sentence():
    units = split_units("Das ist alles.\n- Sichtbarkeit\n- Beratung")
    assert units[0].kind == "sentence" and units[0].text == "Das ist alles."
    assert units[1].text == "- Sichtbarkeit\n- Beratung" and units[2].lead == ""


def test_figure_labels_flowing_into_one_line_are_split_into_label_units():
    assert kinds(FIGURES) == [
        ("sentence", "Zahlen und Fakten"), ("label", "Clusterreportagen: 16"), ("label", "Veranstaltungen: 71"),
        ("label", "Newsletterausgaben: 310"), ("sentence", "Das Programm wächst."),
        ("sentence", "Es hat 81 Mitglieder.")]


def test_a_sentence_with_a_colon_is_not_a_label():
    assert kinds("Wichtig ist: die Kriterien müssen erfüllt sein.") == [
        ("sentence", "Wichtig ist: die Kriterien müssen erfüllt sein.")]


@pytest.mark.parametrize("passage", [FIGURES, LIST, "Erster Satz. Zweiter Satz.\n\n\n   \n\nDritter Satz."])
def test_start_points_at_the_unit_text_in_the_passage(passage):
    for unit in split_units(passage):
        probe = unit.text.splitlines()[0].removeprefix("- ")[:12]  # a list starts at its lead-in or first item
        assert passage[unit.start:].startswith(probe), (unit, passage[unit.start:unit.start + 20])


def test_indexes_count_units_in_document_order():
    units = split_units(LIST + "\n\n" + FIGURES)
    assert [u.index for u in units] == list(range(len(units)))
    assert [u.start for u in units] == sorted(u.start for u in units)


def test_blank_text_has_no_units():
    assert split_units("") == [] and split_units("\n\n  \n") == []


def test_a_unit_is_at_most_max_unit_chars_long():
    long_sentence = "Wort " * 400 + "Ende."
    (unit,) = split_units(long_sentence)
    assert len(unit.text) == MAX_UNIT_CHARS


def chunk(section: str = "Aufnahme in das Programm") -> Chunk:
    return Chunk.create(text=LIST, source="a.txt", title="Webseite", language="de", ordinal=1, section=section)


def test_a_record_round_trips_through_json():
    item = split_units(LIST)[4]
    record = UnitRecord("abc123", item, "Aufnahme in das Programm")
    data = json.loads(json.dumps(record.to_dict()))
    assert UnitRecord.from_dict(data) == record
    assert data["part_of"] == 2 and data["lead"] == "Die Vorteile sind:" and data["kind"] == "item"


def test_a_record_without_optional_fields_loads():
    record = UnitRecord.from_dict({"chunk_id": "c", "index": 0, "kind": "sentence", "start": 3, "text": "Satz."})
    assert record == UnitRecord("c", Unit("Satz.", 0, "sentence", 3), "")


def test_the_embedding_text_is_context_then_lead_then_unit():
    item = Unit("Sichtbarkeit", 3, "item", 30, part_of=2, lead="Die Vorteile sind:")
    assert UnitRecord("c", item, "Vorteile").embedding_text() == "Vorteile\nDie Vorteile sind: Sichtbarkeit"
    assert UnitRecord("c", item, "").embedding_text() == "Die Vorteile sind: Sichtbarkeit"
    assert UnitRecord("c", Unit("Satz.", 0), "").embedding_text() == "Satz."


def test_the_context_is_the_section_or_else_the_title():
    assert context_of(chunk()) == "Aufnahme in das Programm"
    assert context_of(chunk(section="")) == "Webseite"


def test_unit_records_carry_the_chunk_id_and_context():
    c = chunk()
    records = unit_records(c)
    assert [r.unit for r in records] == split_units(c.text)
    assert {r.chunk_id for r in records} == {c.id} and {r.context for r in records} == {c.section}
