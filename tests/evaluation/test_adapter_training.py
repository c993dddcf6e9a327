"""Training the query adapter: on synthetic vectors where the answer is known (a rotation e5 would not
undo), then the pairs from the real index and questions."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import adapter_training as at
from evaluation.questions import facts_match, load_questions, matched_groups
from evaluation.train import DATA


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def rotated(n: int = 60, m: int = 30, d: int = 12, seed: int = 0) -> tuple[at.Pairs, np.ndarray]:
    """Questions that are their answering unit turned by a fixed rotation, plus noise."""
    rng = np.random.default_rng(seed)
    units = unit(rng.normal(size=(m, d))).astype(np.float32)
    turn, _ = np.linalg.qr(rng.normal(size=(d, d)))
    answers = np.arange(n) % m
    queries = unit(units[answers] @ turn.T + 0.05 * rng.normal(size=(n, d)))
    return at.Pairs(np.arange(n), queries, [np.array([a]) for a in answers],
                    [np.zeros(0, np.int64) for _ in range(n)]), units


def test_the_adapter_learns_what_e5_misses_on_questions_it_has_not_seen():
    pairs, units = rotated()
    train, held = at.subset(pairs, pairs.positions < 45), at.subset(pairs, pairs.positions >= 45)
    matrix = at.fit(train, units, l2=0.001)
    before, after = at.first_ranks(None, held, units), at.first_ranks(matrix, held, units)
    assert (1 / before).mean() < 0.5 and (1 / after).mean() > 0.9


def test_without_pairs_it_is_the_identity():
    _, units = rotated()
    empty = at.Pairs(np.zeros(0, np.int64), np.zeros((0, 12)), [], [])
    np.testing.assert_array_equal(at.fit(empty, units, 0.01), np.eye(12, dtype=np.float32))


def test_regularisation_keeps_it_near_the_identity_and_fitting_is_deterministic():
    pairs, units = rotated()
    weak, strong = at.fit(pairs, units, 0.001), at.fit(pairs, units, 100.0)
    eye = np.eye(12)
    assert np.abs(strong - eye).sum() < 0.1 * np.abs(weak - eye).sum()
    np.testing.assert_array_equal(weak, at.fit(pairs, units, 0.001))


def test_left_out_units_are_no_negatives():
    pairs, units = rotated()
    pairs.excluded = [np.array([29]) if 29 not in p else np.zeros(0, np.int64) for p in pairs.positive]
    moved = units.copy()
    moved[29] = unit(np.ones(12)).astype(np.float32)
    keep = np.array([29 not in p for p in pairs.positive])
    kept = at.subset(pairs, keep)
    np.testing.assert_allclose(at.fit(kept, units, 0.01), at.fit(kept, moved, 0.01), atol=1e-6)


def test_first_ranks_and_figures():
    units = np.eye(3, dtype=np.float32)
    pairs = at.Pairs(np.arange(2), np.array([[0.9, 0.1, 0.4], [0.1, 0.9, 0.0]]),
                     [np.array([1, 2]), np.array([1])], [np.zeros(0, np.int64)] * 2)
    ranks = at.first_ranks(None, pairs, units)
    assert ranks.tolist() == [2, 1]  # the first answering unit counts: unit 2 stands second
    assert at.figures(ranks) == {"recall@1": 0.5, "recall@5": 1.0, "recall@10": 1.0, "recall@30": 1.0,
                                 "mrr": 0.75, "questions": 2}


def test_the_strength_is_chosen_out_of_fold_and_reported_with_e5_alone():
    pairs, units = rotated()
    l2, report = at.choose_l2(pairs, units, folds=pairs.positions % 5)
    assert l2 in at.L2_GRID and report["chosen_l2"] == l2
    assert report["without"]["mrr"] < report[f"l2={l2:g}"]["mrr"]
    assert all(report[f"l2={x:g}"]["questions"] == 60 for x in at.L2_GRID)


@pytest.mark.slow
def test_pairs_from_the_real_index_follow_the_facts(real_bot):
    questions = load_questions(DATA / "dev.jsonl")[:40]
    pairs = at.collect_pairs(real_bot, questions)
    texts = at.unit_texts(real_bot.finder)
    assert len(pairs.queries) >= 15 and pairs.queries.shape[1] == real_bot.finder.unit_vectors.shape[1]
    np.testing.assert_allclose(np.linalg.norm(pairs.queries, axis=1), 1.0, atol=1e-4)
    for pos, positive, excluded in zip(pairs.positions, pairs.positive, pairs.excluded, strict=True):
        q = questions[pos]
        assert q.answerable and len(positive)
        assert all(facts_match(q.facts, texts[r]) for r in positive)
        assert all(matched_groups(q.facts, texts[r]) > 0 for r in excluded)
    assert not any(questions[p].answerable is False for p in pairs.positions)
    language = {i: real_bot.finder.chunks[r.chunk_id].language for i, r in enumerate(real_bot.finder.records)}
    for pos, positive, excluded in zip(pairs.positions, pairs.positive, pairs.excluded, strict=True):
        lang = real_bot.read(questions[pos].question)[1]
        said = [r for r in range(len(texts)) if facts_match(questions[pos].facts, texts[r])]
        if any(language[r] == lang for r in said):  # answered in the question's language: only those count
            assert {language[r] for r in positive} == {lang}
            assert {r for r in said if language[r] != lang} <= set(excluded.tolist())
        else:
            assert set(positive.tolist()) == set(said)
