"""Answer sentences for the hotline: ranked by the share of the query's words they hold, ties by passage."""

from __future__ import annotations

from bot.results import Hit
from indexer.chunk import Chunk
from ui.ranking import content_words, match_share, rank_sentences


def hit(text: str, rank: int) -> Hit:
    chunk = Chunk.create(text=text, source="a.txt", title="A", language="de", ordinal=rank)
    return Hit(chunk=chunk, score=1.0 / rank, rank=rank)


def test_content_words_drop_stop_words_short_words_and_repeats() -> None:
    assert content_words("Wer kann sich um die Aufnahme bewerben? Aufnahme!") == ["Aufnahme", "bewerben"]
    assert content_words("Who can join the programme?") == ["join", "programme"]
    assert content_words("") == []


def test_words_match_on_their_first_five_letters() -> None:
    assert match_share("Die Aufnahmekriterien und die Bewerbung.", ["Aufnahme", "bewerben"]) == 1.0
    assert match_share("Nichts davon.", ["Aufnahme"]) == 0.0
    assert match_share("Irgendwas.", []) == 0.0


def test_sentences_rank_by_match_then_passage_then_position() -> None:
    hits = [hit("Kurz. Die Aufnahme erfolgt jährlich im Frühjahr. Bewerben können sich alle Cluster zur Aufnahme.",
                1),
            hit("Zur Aufnahme bewerben sich Cluster mit einem Antrag beim Ministerium.", 2)]
    ranked = rank_sentences(hits, "Aufnahme bewerben")
    assert [(r.hit.rank, r.position, r.match) for r in ranked] == [(1, 2, 1.0), (2, 0, 1.0), (1, 1, 0.5)]
    assert all(len(r.text) >= 25 for r in ranked)  # "Kurz." is no answer sentence
    assert rank_sentences(hits, "Wetter morgen") == []
    assert len(rank_sentences(hits * 5, "Aufnahme", limit=3)) == 3
