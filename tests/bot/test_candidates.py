"""CandidateFinder over a real small StoredIndex (write_version + load_index) with one-hot unit and
passage vectors, so similarities and ranks are exact."""

from __future__ import annotations

import numpy as np
import pytest

from bot.candidates import Candidate, CandidateFinder
from bot.results import Hit
from indexer.chunk import Chunk

SHARED = "Jedes Innovationscluster aus Deutschland kann sich bewerben."


def doc(text: str, ordinal: int, language: str = "de") -> Chunk:
    return Chunk.create(text=text, source="a.txt", title="A", language=language, ordinal=ordinal,
                        section=f"Abschnitt {ordinal}")


A = doc(f"Wer darf sich bewerben? {SHARED}", 1)  # units 0, 1
B = doc(f"{SHARED} Die Aufnahme ist jederzeit möglich.", 2)  # units 2, 3 (overlaps A by one sentence)
C = doc("Erster Satz.\n\nVorteile:\n- Sichtbarkeit\n- Beratung\n\nLetzter Satz.", 3)  # units 4..8
D = doc("The imprint names the publisher.", 4, "en")  # unit 9
CHUNKS = [A, B, C, D]
UNITS, DIM = 10, 14  # passage i has the basis vector e_(10 + i)


def vector(**weights: float) -> np.ndarray:
    """u3=1.0 -> unit 3, p0=0.3 -> passage 0 (A)."""
    v = np.zeros(DIM, dtype=np.float32)
    for key, w in weights.items():
        v[int(key[1:]) + (UNITS if key[0] == "p" else 0)] = w
    return v


def hit(chunk: Chunk, rank: int) -> Hit:
    return Hit(chunk, score=1.0 / rank, rank=rank)


@pytest.fixture
def finder(one_hot_index) -> CandidateFinder:
    index = one_hot_index(CHUNKS)
    assert len(index.units) == UNITS and index.unit_index.d == DIM
    return CandidateFinder(index, nearest_units=2)


def by_row(candidates: list[Candidate]) -> dict[int, Candidate]:
    return {c.row: c for c in candidates}


def test_candidates_are_the_retrieved_passages_units_and_the_nearest_units(finder):
    found = by_row(finder.find(vector(u3=1.0, u9=0.5, p0=0.3), [hit(A, 1)]))
    assert sorted(found) == [0, 1, 3, 9]  # A's units, then the two nearest: unit 3 (of B) and unit 9 (of D)
    assert [found[r].text for r in (0, 1)] == ["Wer darf sich bewerben?", SHARED]
    assert found[3].chunk == B and found[9].chunk == D


def test_ranks_and_similarities_are_exact(finder):
    found = by_row(finder.find(vector(u3=1.0, u9=0.5, p0=0.3), [hit(A, 1)]))
    assert {r: c.dense_rank for r, c in found.items()} == {3: 1, 9: 2, 0: 3, 1: 4}  # ties in index order
    assert {r: c.dense for r, c in found.items()} == pytest.approx({3: 1.0, 9: 0.5, 0: 0.0, 1: 0.0})
    assert {r: c.passage_rank for r, c in found.items()} == {0: 1, 1: 1, 3: 0, 9: 0}  # 0: not retrieved
    assert {r: c.passage_dense for r, c in found.items()} == pytest.approx({0: 0.3, 1: 0.3, 3: 0.0, 9: 0.0})
    assert not any(c.from_history for c in found.values())


@pytest.mark.parametrize(("hits", "kept_row"), [
    pytest.param([hit(B, 1), hit(A, 2)], 2, id="B-ranked-first"),
    pytest.param([hit(A, 1), hit(B, 2)], 1, id="A-ranked-first"),
])
def test_a_sentence_of_overlapping_passages_is_kept_once_from_the_better_ranked_passage(finder, hits, kept_row):
    found = finder.find(vector(u0=1.0), hits)
    copies = [c for c in found if c.text == SHARED]
    assert len(copies) == 1 and copies[0].row == kept_row and copies[0].passage_rank == 1
    assert len({c.text for c in found}) == len(found)


def test_a_retrieved_copy_wins_over_a_nearest_unit_copy(finder):
    found = finder.find(vector(u2=1.0), [hit(A, 3)])  # unit 2 (B's copy) is the nearest, A is retrieved
    (copy,) = [c for c in found if c.text == SHARED]
    assert copy.row == 1 and copy.passage_rank == 3


def test_history_chunks_add_their_units_marked_as_from_history(finder):
    found = by_row(finder.find(vector(u9=1.0), [hit(A, 1)], history_chunks=[C.id]))
    assert set(range(4, 9)) <= set(found)
    assert all(found[r].from_history for r in range(4, 9))
    assert not found[0].from_history and not found[9].from_history


def test_a_sentence_both_retrieved_and_from_history_keeps_the_retrieved_copy_marked_as_history(finder):
    found = finder.find(vector(u9=1.0), [hit(A, 1)], history_chunks=[B.id])
    (copy,) = [c for c in found if c.text == SHARED]
    assert copy.row == 1 and copy.passage_rank == 1 and copy.from_history


def test_an_index_without_units_has_no_candidates(one_hot_index):
    finder = CandidateFinder(one_hot_index([doc("", 9)]))
    assert finder.find(np.ones(1, dtype=np.float32), []) == []


def test_neighbours_are_the_units_before_and_after_in_document_order(finder):
    found = by_row(finder.find(vector(u4=1.0), [hit(A, 1), hit(C, 2)]))
    text = {r: c.text for r, c in found.items()}
    assert [text[r] for r in range(4, 9)] == ["Erster Satz.", "Vorteile:\n- Sichtbarkeit\n- Beratung",
                                              "Sichtbarkeit", "Beratung", "Letzter Satz."]

    def around(row: int) -> tuple[str | None, str | None]:
        before, after = finder.neighbours(found[row])
        return (before.unit.text if before else None, after.unit.text if after else None)

    assert around(0) == (None, SHARED) and around(1) == ("Wer darf sich bewerben?", None)
    assert around(4) == (None, "Vorteile:\n- Sichtbarkeit\n- Beratung")
    # an item stands where its list stands: between the sentences around the list
    assert around(5) == around(6) == around(7) == ("Erster Satz.", "Letzter Satz.")


def test_the_query_adapter_maps_the_question_before_the_unit_search_only(one_hot_index):
    from bot.query_adapter import QueryAdapter

    index = one_hot_index(CHUNKS)
    swap = np.eye(DIM, dtype=np.float32)
    swap[[3, 9]] = swap[[9, 3]]  # the adapter sends "unit 3" questions to unit 9 and back
    question = vector(u3=0.8, p1=0.6)  # unit 3 and its passage B, a unit vector as e5's are
    plain = by_row(CandidateFinder(index, nearest_units=1).find(question, []))
    mapped = by_row(CandidateFinder(index, nearest_units=1, adapter=QueryAdapter(swap, "m")).find(question, []))
    assert sorted(plain) == [3] and sorted(mapped) == [9]
    assert mapped[9].dense == pytest.approx(0.8) and mapped[9].dense_rank == 1
    assert plain[3].passage_dense == pytest.approx(0.6), "passages see the question unmapped"
    same = CandidateFinder(index, nearest_units=1, adapter=QueryAdapter(np.eye(DIM, dtype=np.float32), "m"))
    assert by_row(same.find(question, []))[3].dense == pytest.approx(plain[3].dense)
