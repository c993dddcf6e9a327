"""The DE<->EN glossary of programme terms: "Aufnahme" and "admission" are the same thing."""

from __future__ import annotations

import pytest

from bot.glossary import Glossary


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


@pytest.mark.parametrize(("question", "lang", "expected"), [
    ("Wie läuft die Aufnahme ab?", "de", "admission"),
    ("Welche Aufnahmekriterien gelten?", "de", "criteria"),  # inside a compound
    ("How does admission work?", "en", "Aufnahme"),
    ("Wer darf sich bewerben?", "de", "apply"),
])
def test_a_known_term_is_translated_into_the_other_language(glossary, question, lang, expected):
    assert expected in glossary.translate(question, lang)


def test_nothing_known_nothing_translated_and_other_languages_are_left_alone(glossary):
    assert glossary.translate("Wie ist das Wetter?", "de") == ""
    assert glossary.translate("¿Quién puede solicitar?", "es") == ""
    assert glossary.main_terms("¿Quién puede solicitar?", "es") == []


def test_main_terms_are_one_per_entry(glossary):
    terms = glossary.main_terms("Aufnahme und Aufnahmeantrag", "de")
    assert terms == list(dict.fromkeys(terms)) and "admission" in terms


def test_word_translations_are_keyed_by_the_folded_question_word(glossary):
    found = glossary.word_translations("Wie läuft die Aufnahme ab?", "de", synonyms=True)
    assert "admission" in found["aufnahme"] and "Aufnahme" in found["aufnahme"]  # synonyms: its own terms too
    assert "admission" not in glossary.word_translations("Wie läuft die Aufnahme ab?", "de").get("wie", [])


def test_head_only_reads_a_compound_by_its_last_part(glossary):
    head = glossary.word_translations("Aufnahmekriterien", "de", head_only=True)
    assert any("criteria" in terms for terms in head.values())
    assert not any("admission" in terms for terms in head.values())  # an admission criterion is a criterion
