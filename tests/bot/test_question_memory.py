"""The question memory: how answerable the nearest development questions were, its plain-array file
(checked on load, applied only to the model that made it), and the shipped one on the real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.question_memory import NEAREST, NEUTRAL, QuestionMemory, QuestionMemoryError, unit_key

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def memory_of(flags: list[bool], model: str = "m", documents: frozenset[str] = frozenset(),
              answers: list[set[str]] | tuple = ()) -> QuestionMemory:
    """Question i points along axis i (so the nearest question is known by hand)."""
    return QuestionMemory.of(np.eye(len(flags), dtype=np.float32), flags, model, documents, answers)


def no_answers() -> dict[str, np.ndarray]:
    """The answer arrays of a memory that keeps none: files below are refused for their other arrays."""
    return {"answer_keys": np.zeros(0, dtype="U16"), "answer_offsets": np.zeros(0, dtype=np.int64)}


def test_the_nearest_question_decides_when_it_is_much_nearer():
    memory = memory_of([True, False, True])
    assert memory.answerable_share(np.array([0.0, 1.0, 0.1], np.float32)) == pytest.approx(0.0, abs=1e-6)
    assert memory.answerable_share(np.array([1.0, 0.1, 0.0], np.float32)) == pytest.approx(1.0, abs=1e-6)


def test_equally_near_questions_share_the_vote():
    memory = memory_of([True, False, True, False])
    assert memory.answerable_share(np.array([1.0, 1.0, 1.0, 0.0], np.float32)) == pytest.approx(2 / 3)


def test_only_the_nearest_count():
    # NEAREST + 5 questions, all equally near; the answerable ones are the farthest by a hair beyond NEAREST
    n = NEAREST + 5
    vectors = np.eye(n, dtype=np.float32)
    query = np.ones(n, np.float32)
    query[NEAREST:] = 0.999
    flags = [False] * NEAREST + [True] * 5
    assert QuestionMemory.of(vectors, flags, "m").answerable_share(query) == 0.0


def test_without_questions_it_is_neutral():
    empty = QuestionMemory.of(np.zeros((0, 3), np.float32), [], "m")
    assert empty.answerable_share(np.ones(3, np.float32)) == NEUTRAL


def test_a_question_about_a_document_it_does_not_know_gets_the_prior():
    memory = memory_of([True, False, False], documents=frozenset({"flyer.txt"}))
    toward_the_fees_question = np.array([0.0, 1.0, 0.0], np.float32)
    assert memory.answerable_share(toward_the_fees_question, "flyer.txt") == pytest.approx(0.0, abs=1e-6)
    assert memory.answerable_share(toward_the_fees_question) == pytest.approx(0.0, abs=1e-6)  # source unknown
    assert memory.answerable_share(toward_the_fees_question, "zukunftsfonds.txt") == memory.prior


def test_the_prior_is_what_it_says_of_its_own_questions_each_left_out():
    # the two answerable questions lie close together, the unanswerable one apart: left out in turn, each
    # answerable one has the other as its nearest (1.0, 1.0) and the unanswerable one an answerable (1.0)
    vectors = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0]], np.float32)
    memory = QuestionMemory.of(vectors, [True, True, False], "m", {"a.txt"})
    assert memory.prior == pytest.approx(1.0, abs=1e-6)
    flipped = QuestionMemory.of(vectors, [False, False, True], "m", {"a.txt"})
    assert flipped.prior == pytest.approx(0.0, abs=1e-6)
    assert memory_of([True]).prior == NEUTRAL  # nothing to leave one out of


def test_a_subset_keeps_vectors_and_flags_together():
    memory = memory_of([True, False, True])
    part = memory.subset(np.array([False, True, True]))
    assert part.answerable.tolist() == [False, True] and part.vectors.shape == (2, 3)
    assert part.answerable_share(np.array([0.0, 1.0, 0.0], np.float32)) == pytest.approx(0.0, abs=1e-6)


def test_save_and_load_round_trip(tmp_path):
    memory = memory_of([True, False, True], "abc123", frozenset({"a.txt", "Zukunftsfonds 2027.pdf"}))
    memory.save(tmp_path / "q.npz")
    loaded = QuestionMemory.load(tmp_path / "q.npz")
    np.testing.assert_array_equal(loaded.vectors, memory.vectors)
    assert loaded.answerable.tolist() == [True, False, True] and loaded.model == "abc123"
    assert loaded.documents == {"a.txt", "Zukunftsfonds 2027.pdf"}
    assert loaded.digest() == memory.digest() != memory_of([True, True, True], "abc123").digest()
    assert memory.digest() != memory_of([True, False, True], "abc123").digest()  # the documents count


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_a_corrupt_file_is_one_line_without_its_folder(tmp_path, content):
    path = tmp_path / "secret-folder" / "q.npz"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(QuestionMemoryError) as err:
        QuestionMemory.load(path)
    assert "\n" not in str(err.value) and "secret-folder" not in str(err.value) and "q.npz" in str(err.value)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "q.npz"
    with path.open("wb") as fh:
        np.savez(fh, vectors=np.array([object()], dtype=object), answerable=np.array([True]), model=np.array("m"),
                 documents=np.array(["a.txt"]), **no_answers())
    with pytest.raises(QuestionMemoryError):
        QuestionMemory.load(path)


@pytest.mark.parametrize("vectors, flags", [
    (np.ones(3), np.array([True, True, True])),  # not a matrix
    (np.ones((2, 3)), np.array([True, False, True])),  # a flag too many
    (np.ones((2, 3)), np.array([1, 0])),  # flags that are not booleans
    (np.full((2, 3), np.nan), np.array([True, False])),
])
def test_anything_but_finite_vectors_with_one_flag_each_is_refused(tmp_path, vectors, flags):
    path = tmp_path / "q.npz"
    with path.open("wb") as fh:
        np.savez(fh, vectors=vectors.astype(np.float32), answerable=flags, model=np.array("m"),
                 documents=np.array(["a.txt"]), **no_answers())
    with pytest.raises(QuestionMemoryError):
        QuestionMemory.load(path)


@pytest.mark.parametrize("documents", [np.array([1, 2]), np.array([["a.txt"]]), None])
def test_documents_that_are_not_a_list_of_names_are_refused(tmp_path, documents):
    path = tmp_path / "q.npz"
    arrays = {"vectors": np.eye(2, dtype=np.float32), "answerable": np.array([True, False]), "model": np.array("m")}
    with path.open("wb") as fh:
        np.savez(fh, **arrays, **no_answers(), **({} if documents is None else {"documents": documents}))
    with pytest.raises(QuestionMemoryError):
        QuestionMemory.load(path)


KEY_A, KEY_B, KEY_C = unit_key("Bewerben können Clusterorganisationen."), unit_key("Es gibt 81 Mitglieder."), \
    unit_key("Die Mitgliedschaft ist kostenlos.")


def test_the_nearest_questions_vote_for_the_units_that_answered_them():
    memory = memory_of([True, True, False], answers=[{KEY_A}, {KEY_A, KEY_B}, set()])
    votes = memory.remembered(np.array([1.0, 1.0, 0.0], np.float32))  # the first two equally near
    assert votes[KEY_A] == pytest.approx(1.0, abs=1e-6) and votes[KEY_B] == pytest.approx(0.5, abs=1e-6)
    near_the_fees_question = memory.remembered(np.array([0.0, 0.1, 1.0], np.float32))
    assert sum(near_the_fees_question.values()) < 0.01  # an unanswerable neighbour votes for no unit
    assert memory_of([True]).remembered(np.ones(1, np.float32)) == {}  # a memory that keeps no answers


def test_a_unit_is_known_by_its_text_whatever_its_spacing():
    assert unit_key("Es gibt  81\nMitglieder. ") == KEY_B != KEY_A


def test_a_question_about_a_document_it_does_not_know_remembers_no_answer():
    memory = memory_of([True, False], documents=frozenset({"flyer.txt"}), answers=[{KEY_A}, set()])
    assert memory.remembered(np.array([1.0, 0.0], np.float32), "flyer.txt")[KEY_A] == pytest.approx(1.0, abs=1e-6)
    assert memory.remembered(np.array([1.0, 0.0], np.float32), "zukunftsfonds.txt") == {}


def test_answers_stay_with_their_questions_in_a_subset_and_a_round_trip(tmp_path):
    memory = memory_of([True, False, True], "m", frozenset({"a.txt"}), answers=[{KEY_A}, set(), {KEY_B, KEY_C}])
    part = memory.subset(np.array([False, True, True]))
    assert part.answers == (frozenset(), frozenset({KEY_B, KEY_C}))
    memory.save(tmp_path / "q.npz")
    loaded = QuestionMemory.load(tmp_path / "q.npz")
    assert loaded.answers == memory.answers and loaded.digest() == memory.digest()
    assert memory.digest() != memory_of([True, False, True], "m", frozenset({"a.txt"}),
                                        answers=[{KEY_B}, set(), {KEY_B, KEY_C}]).digest()
    with pytest.raises(ValueError):
        memory_of([True, False], answers=[{KEY_A}])  # one set of answers per question


@pytest.mark.parametrize("keys, offsets", [
    (np.array(["a", "b"]), np.array([0, 1])),  # offsets for one question, the memory has two
    (np.array(["a", "b"]), np.array([0, 2, 1])),  # decreasing
    (np.array(["a", "b"]), np.array([0, 1, 3])),  # beyond the keys
    (np.array([1, 2]), np.array([0, 1, 2])),  # keys that are not text
    (np.array(["a"]), np.zeros(0, dtype=np.int64)),  # keys without offsets
])
def test_answers_that_do_not_fit_their_questions_are_refused(tmp_path, keys, offsets):
    path = tmp_path / "q.npz"
    with path.open("wb") as fh:
        np.savez(fh, vectors=np.eye(2, dtype=np.float32), answerable=np.array([True, False]), model=np.array("m"),
                 documents=np.array(["a.txt"]), answer_keys=keys, answer_offsets=offsets)
    with pytest.raises(QuestionMemoryError):
        QuestionMemory.load(path)


def test_it_applies_only_to_the_model_and_dimension_that_made_it(tmp_path):
    path = tmp_path / "q.npz"
    assert QuestionMemory.for_model("m", 3, path) is None  # none shipped
    memory_of([True, False, True]).save(path)
    assert QuestionMemory.for_model("m", 3, path) is not None
    assert QuestionMemory.for_model("other", 3, path) is None
    assert QuestionMemory.for_model("m", 4, path) is None


def test_the_shipped_memory_holds_the_development_questions_that_stand_alone(embedder):
    from evaluation.train import dev_questions

    memory = QuestionMemory.for_model(embedder.fingerprint(), embedder.dimension)
    assert memory is not None, "bot/question_memory.npz missing or made with another model: run `gocluster-faq train`"
    questions, _ = dev_questions()
    alone = [q for q in questions if not q.history]
    assert len(alone) < len(questions), "the development split has follow-up questions"
    assert memory.answerable.tolist() == [q.answerable for q in alone]
    assert memory.documents == {p.name for p in CORPUS.glob("*.txt")}, "labelled against the shipped documents"


def test_on_the_real_model_questions_the_documents_answer_look_answerable(embedder):
    """Wordings not in the development split: the documents say who may apply and say nothing of fees."""
    memory = QuestionMemory.for_model(embedder.fingerprint(), embedder.dimension)
    assert memory is not None
    vectors = embedder.encode_queries(["Welche Cluster duerfen bei go-cluster mitmachen?",
                                       "How much is the yearly fee for go-cluster members?"])
    eligible, fee = (memory.answerable_share(v) for v in vectors)
    # the fee question's neighbours include answerable ones ("Is membership free?"), so not near 0
    assert eligible > 0.8 and eligible - fee > 0.2, (eligible, fee)


def test_the_bot_reads_each_question_with_the_memory(real_bot):
    from bot.conversation import Reading

    question = "Gibt es eine Frist für die Bewerbung im Jahr 2027?"
    _, _, view, _ = real_bot.describe(Reading("alone", question, question), "de", True)
    vector = real_bot.retriever.encoder.encode_queries([question])[0]
    assert real_bot.memory is not None
    assert view.similar_answerable == pytest.approx(real_bot.memory.answerable_share(vector), abs=1e-5)
    assert view.similar_answerable != NEUTRAL


def test_a_new_document_is_read_without_the_memorys_verdict(real_bot, tmp_path):
    """The memory's verdict stands for the documents it was labelled against: the same question, when its
    best passage comes from a file added since, gets the prior (the live-reload browser test has the rest)."""
    from dataclasses import replace

    from bot.conversation import Reading

    question = "Wie hoch ist die Teilnahmegebühr für go-cluster?"
    reading = Reading("alone", question, question)
    _, _, shipped, _ = real_bot.describe(reading, "de", True)
    memory = real_bot.memory
    try:
        real_bot.memory = replace(memory, documents=frozenset({"another-document.txt"}))
        _, _, unknown, _ = real_bot.describe(reading, "de", True)
    finally:
        real_bot.memory = memory
    assert shipped.similar_answerable < memory.prior, "fees questions are less answerable than most"
    assert unknown.similar_answerable == memory.prior
