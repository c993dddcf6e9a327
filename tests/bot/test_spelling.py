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
    speller = SpellingCorrector({"clusterplattformen": 3}, protected=["Clusterplattform"])
    assert speller.correct("Was ist die Clusterplattform?") == ("Was ist die Clusterplattform?", [])
    assert SpellingCorrector({"clusterplattformen": 3}).correct("Clusterplattform")[0] == "clusterplattformen"


def test_of_equally_near_words_the_more_frequent_wins_then_the_first_in_order():
    assert SpellingCorrector({"haus": 5, "maus": 1}).correct("baus") == ("haus", [("baus", "haus")])
    assert SpellingCorrector({"haus": 1, "maus": 5}).correct("baus") == ("maus", [("baus", "maus")])
    assert SpellingCorrector({"tatze": 1, "katze": 1}).correct("batze")[0] == "katze"


def test_a_nearer_word_wins_over_a_more_frequent_one():
    # "mitgliedschafen": 1 edit from the rare word, 2 from the frequent one (both within reach)
    speller = SpellingCorrector({"mitgliedschaften": 1, "mitgliedschaft": 50})
    assert speller.correct("mitgliedschafen")[0] == "mitgliedschaften"
