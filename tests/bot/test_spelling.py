"""Typo tolerance: unknown question words are read as the nearest corpus word, within a small distance."""

from __future__ import annotations

import pytest

from bot.spelling import SpellingCorrector

CORPUS = ["Die Kriterien gelten für jedes Cluster. Die Förderung stärkt die Mitgliedschaft.",
          "Benefits of joining: visibility and membership. Bewerben können sich alle Cluster.",
          "Das Gold-Label und das Silber-Label."]


@pytest.fixture(scope="module")
def speller() -> SpellingCorrector:
    return SpellingCorrector.from_texts(CORPUS, protected=["Clusterplattform"])


@pytest.mark.parametrize(("typed", "read", "changes"), [
    ("welche kriterein gelten", "welche kriterien gelten", [("kriterein", "kriterien")]),  # distance 2, 9 letters
    ("benifits of joinning", "benefits of joining", [("benifits", "benefits"), ("joinning", "joining")]),
    ("wer kan sich bewerbn", "wer kan sich bewerben", [("bewerbn", "bewerben")]),  # "kan": three letters
    ("Mitgliedschft?", "mitgliedschaft?", [("Mitgliedschft", "mitgliedschaft")]),
    ("Was ist das Labl?", "Was ist das label?", [("Labl", "label")]),  # distance 1 at four letters
])
def test_typos_are_read_as_the_nearest_corpus_word(speller, typed, read, changes):
    assert speller.correct(typed) == (read, changes)


def test_the_spelling_of_the_documents_is_returned_with_its_umlauts(speller):
    assert speller.correct("Forderung") == ("förderung", [("Forderung", "förderung")])
    assert speller.correct("Foerderung") == ("Foerderung", [])  # the folded form is known: untouched
    assert speller.correct("Förderung") == ("Förderung", [])


@pytest.mark.parametrize("text", [
    "Wer darf sich bewerben?",  # known words
    "Wann und warum?",  # question words, though not in the corpus
    "Ist das möglich oder nicht? Diese",  # stop words
])
def test_known_question_and_stop_words_are_untouched(speller, text):
    assert speller.correct(text) == (text, [])


@pytest.mark.parametrize("text", [
    "Ein Kroterium",  # "kriterium" is not in the corpus, "kriterien" is 3 edits away
    "Die Kriterieeeen",  # 3 edits
    "Labbbl",  # 6 letters: only 1 edit allowed, this is 2
    "Ist das Gold-Labl gut?",  # hyphenated words are names, not typos
    "Wie ist die e-mial?",
    "Was ist xyzxyzxyz?",  # nothing near
    "Ja, ok, nö.",  # short words
])
def test_words_too_far_from_the_corpus_short_or_hyphenated_are_untouched(speller, text):
    assert speller.correct(text) == (text, [])


def test_protected_words_are_never_corrected():
    speller = SpellingCorrector({"kriterien": 3}, protected=["Kriterein"])
    assert speller.correct("Welche Kriterein?") == ("Welche Kriterein?", [])
    assert SpellingCorrector({"kriterien": 3}).correct("Kriterein")[0] == "kriterien"


def test_a_corpus_word_with_another_ending_is_an_inflection_not_a_typo():
    speller = SpellingCorrector({"erreichen": 3, "clusterplattformen": 2, "mitglied": 4})
    assert speller.correct("Wie erreiche ich die Clusterplattform?") == (
        "Wie erreiche ich die Clusterplattform?", [])
    assert speller.correct("Mitglieds")[1] == []


def test_the_first_letter_of_a_typo_is_kept():
    assert SpellingCorrector({"nase": 5}).correct("Hase") == ("Hase", [])


def test_of_equally_near_words_the_more_frequent_wins_then_the_first_in_order():
    assert SpellingCorrector({"haus": 5, "hais": 1}).correct("hays") == ("haus", [("hays", "haus")])
    assert SpellingCorrector({"haus": 1, "hais": 5}).correct("hays") == ("hais", [("hays", "hais")])
    assert SpellingCorrector({"karte": 1, "kante": 1}).correct("kaete")[0] == "kante"


def test_a_nearer_word_wins_over_a_more_frequent_one():
    # "mitgliedschafen": 1 edit from the rare word, 2 from the frequent one (both within reach)
    speller = SpellingCorrector({"mitgliedschaften": 1, "mitgliedschaft": 50})
    assert speller.correct("mitgliedschafen")[0] == "mitgliedschaften"
