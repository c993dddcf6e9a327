"""The readings of a question: alone, and with as much of the conversation as it may need."""

from __future__ import annotations

import pytest

from bot.conversation import DEFAULT_COSTS, MAX_CHARS, MAX_TURNS, readings

PASSAGE_COST = DEFAULT_COSTS["previous passages"]
CONTEXT_COST = DEFAULT_COSTS["previous question"]

FIRST = "Was ist das Silber-Label?"
FOLLOW_UP = "Und wer zahlt dafür?"


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def assistant(text: str = "...", *chunk_ids: object) -> dict:
    return {"role": "assistant", "content": text, "citations": [{"chunk_id": c} for c in chunk_ids]}


@pytest.mark.parametrize("history", [None, [], ()])
def test_without_history_the_question_is_read_alone(history):
    (alone,) = readings(FOLLOW_UP, history)
    assert (alone.kind, alone.question, alone.text, alone.history_chunks, alone.cost) == (
        "alone", FOLLOW_UP, FOLLOW_UP, (), 0.0)
    assert alone.focus == FOLLOW_UP and not alone.later_turn and alone.previous == 0


def test_each_reading_says_it_follows_a_conversation_and_how_many_questions_it_includes():
    history = [user(FIRST), assistant("...", "c1"), user("Wer vergibt es?"), assistant("...")]
    found = {r.kind: (r.later_turn, r.previous) for r in readings(FOLLOW_UP, history)}
    assert found == {"alone": (True, 0), "previous question": (True, 1), "two previous questions": (True, 2)}
    cited = {r.kind: (r.later_turn, r.previous) for r in readings(FOLLOW_UP, [user(FIRST), assistant("...", "c1")])}
    assert cited["previous passages"] == (True, 0)


def test_with_history_the_previous_question_and_the_cited_passages_are_read_too():
    history = [user(FIRST), assistant("Das Silber-Label ... [1]", "c1", "c2")]
    found = {r.kind: r for r in readings(FOLLOW_UP, history)}
    assert list(found) == ["alone", "previous passages", "previous question"]
    assert found["alone"].history_chunks == ()
    passages = found["previous passages"]
    assert (passages.text, passages.history_chunks, passages.cost) == (FOLLOW_UP, ("c1", "c2"), PASSAGE_COST)
    previous = found["previous question"]
    assert previous.text == f"{FIRST} {FOLLOW_UP}" and previous.question == FOLLOW_UP
    assert previous.history_chunks == ("c1", "c2") and previous.cost == CONTEXT_COST
    assert 0 < PASSAGE_COST < CONTEXT_COST, "reading more of the conversation costs more"


def test_two_previous_questions_make_a_fourth_reading_at_twice_the_cost():
    history = [user("Wer darf sich bewerben?"), assistant("...", "c1"), user(FIRST), assistant("...", "c2")]
    found = {r.kind: r for r in readings(FOLLOW_UP, history)}
    assert found["previous passages"].history_chunks == ("c2",), "the last answer's passages"
    assert found["two previous questions"].text == f"Wer darf sich bewerben? {FIRST} {FOLLOW_UP}"
    assert found["two previous questions"].cost == DEFAULT_COSTS["two previous questions"] > CONTEXT_COST


def test_a_history_of_user_turns_only_has_no_passage_reading():
    assert [r.kind for r in readings(FOLLOW_UP, [user(FIRST)])] == ["alone", "previous question"]


def test_only_the_end_of_a_long_history_is_read():
    history = [user("ganz alte Frage")] + [assistant(f"Antwort {i}") for i in range(MAX_TURNS - 1)] + [user(FIRST)]
    kinds = [r.kind for r in readings(FOLLOW_UP, history)]
    assert "two previous questions" not in kinds, "the first question is more than MAX_TURNS turns back"
    assert readings(FOLLOW_UP, [*history[1:], user("x")])[-1].text.startswith(FIRST)


def test_a_long_previous_question_is_cut():
    (_, previous) = readings(FOLLOW_UP, [user("a" * (MAX_CHARS + 500))])
    assert previous.text == "a" * MAX_CHARS + " " + FOLLOW_UP


@pytest.mark.parametrize("history", [
    "abc", 5, [1, None], {"role": "user"}, [{"role": "user", "content": 5}], [{"role": "user"}],
    [{"content": FIRST}], [{"role": "system", "content": FIRST}], [{"role": "user", "content": "   "}],
])
def test_malformed_history_entries_are_ignored(history):
    assert [r.kind for r in readings(FOLLOW_UP, history)] == ["alone"]


def test_malformed_entries_among_good_ones_are_skipped():
    history = [user(FIRST), {"role": "user", "content": None}, "noise", {"role": "bot", "content": "x"}]
    assert [r.text for r in readings(FOLLOW_UP, history)] == [FOLLOW_UP, f"{FIRST} {FOLLOW_UP}"]


@pytest.mark.parametrize(("citations", "expected"), [
    ([{"chunk_id": "c1"}, {"chunk_id": 7}, "c3", {"id": "c4"}, {"chunk_id": "x" * 65}], ("c1",)),
    ("c1", ()),  # not a list
    ([{"chunk_id": f"c{i}"} for i in range(15)], tuple(f"c{i}" for i in range(10))),  # at most ten
])
def test_malformed_citations_are_ignored(citations, expected):
    history = [user(FIRST), {"role": "assistant", "content": "...", "citations": citations}]
    found = {r.kind: r for r in readings(FOLLOW_UP, history)}
    assert found["previous question"].history_chunks == expected
    assert ("previous passages" in found) == bool(expected)


def test_calibrated_costs_replace_the_defaults():
    history = [{"role": "user", "content": "Was ist das Silber-Label?"}]
    found = {r.kind: r for r in readings("Und was kostet das?", history, {"previous question": 0.3})}
    assert found["previous question"].cost == 0.3
    assert found["alone"].cost == 0.0


def test_history_is_cleaned_like_a_question():
    history = [user("Wer darf sich \ud800be\u00adwer\u200bben?\x00"), user("\x00\u200b")]
    found = readings(FOLLOW_UP, history)
    assert [r.text for r in found] == [FOLLOW_UP, f"Wer darf sich bewerben? {FOLLOW_UP}"]
    found[-1].text.encode("utf-8")  # no lone surrogate left for the tokenizer
