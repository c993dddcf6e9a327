"""Keyword retrieval: folding, stop words, stems, decompounding, BM25 and coverage (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.keywords import STOPWORDS, KeywordRetriever, fold, stems, words
from indexer.chunk import Chunk


def chunk(text: str, lang: str = "de", section: str = "", n: int = 0) -> Chunk:
    return Chunk.create(text=text, source=f"{lang}.txt", title="T", language=lang, section=section, ordinal=n)


CHUNKS = [chunk("Jedes Innovationscluster aus Deutschland kann sich um die Aufnahme in das Programm bewerben.",
                section="Aufnahme", n=0),
          chunk("Die Kriterien müssen zu zwei Dritteln erfüllt sein.", section="Kriterien", n=1),
          chunk("The ministry absorbs the costs of the benchmarking.", "en", section="Costs", n=2),
          chunk("Die Clusterwoche fand in Berlin statt.", section="Veranstaltungen", n=3)]


@pytest.fixture(scope="module")
def keywords() -> KeywordRetriever:
    return KeywordRetriever(CHUNKS)


@pytest.mark.parametrize(("text", "folded"), [("Förderung", "foerderung"), ("Größe", "groesse"),
                                              ("Café", "cafe"), ("ÜBER", "ueber")])
def test_fold_writes_umlauts_out_and_drops_other_accents(text, folded):
    assert fold(text) == folded


def test_words_split_hyphens_and_drop_single_letters_but_not_digits():
    assert words("Gold-Label, a 2 x!") == ["gold", "label", "2"]


def test_question_words_and_their_inflections_are_stop_words():
    assert {"wann", "welchen", "wem", "whose", "deine"} <= STOPWORDS
    assert "kriterien" not in STOPWORDS and "aufnahme" not in STOPWORDS


def test_stems_per_language():
    assert stems("Kriterien", ["de"]) == {"kriteri"}
    assert stems("applications", ["en"]) == stems("application", ["en"])


def test_a_compound_yields_its_corpus_parts(keywords):
    groups = keywords.tokenizer.word_groups("Aufnahmekriterien", ["de"])
    assert len(groups) == 1 and {"aufnahme", "kriteri"} <= set(groups[0])  # left part as it stands, right stemmed


def test_bm25_ranks_the_passage_with_the_rare_words_first_and_is_zero_without_content_words(keywords):
    scores = keywords.scores("Wer kann sich um die Aufnahme bewerben?")
    assert int(np.argmax(scores)) == 0
    assert not keywords.scores("Wer ist das?").any()  # stop words only
    assert keywords.scores("Welche Aufnahmekriterien gelten?")[1] > 0  # through the compound's parts


def test_coverage_is_the_idf_weighted_share_of_question_words_present(keywords):
    full = keywords.coverage("Aufnahme bewerben", CHUNKS[0].text)
    half = keywords.coverage("Aufnahme Clusterwoche", CHUNKS[0].text)
    assert full == pytest.approx(1.0) and 0.0 < half < 1.0
    assert keywords.coverage("Wer?", CHUNKS[0].text) == 0.0


def test_a_glossary_translation_counts_as_present(keywords):
    plain = keywords.coverage("Wer trägt die Kosten?", CHUNKS[2].text, ("de",))
    translated = keywords.coverage("Wer trägt die Kosten?", CHUNKS[2].text, ("de",),
                                   translations={"kosten": ["costs"]})
    assert plain == 0.0 and translated == pytest.approx(0.5)  # "Kosten" via "costs"; "trägt" stays missing


def test_the_rarest_missing_word_is_weighed_against_the_rarest_possible(keywords):
    terms = keywords.query_terms("Aufnahme ins Programm ZIM")
    assert terms.rarest_missing(keywords, CHUNKS[0].text) == pytest.approx(1.0)  # "ZIM" is in no passage
    assert keywords.query_terms("Aufnahme Programm").rarest_missing(keywords, CHUNKS[0].text) == 0.0
