"""Percentile-bootstrap intervals: hand-computed cases, the normal approximation, determinism."""

from __future__ import annotations

import pytest

from evaluation.bootstrap import paired_delta_interval, rate_interval


def test_no_values_no_interval():
    assert rate_interval([]) is None
    assert rate_interval([None, None]) is None
    assert paired_delta_interval([], []) is None


def test_constant_values_give_a_point_interval():
    assert rate_interval([1, 1, 1, 1]) == (1.0, 1.0)
    assert rate_interval([False] * 7) == (0.0, 0.0)
    assert rate_interval([0.25]) == (0.25, 0.25)  # one value: every resample is that value
    assert rate_interval([True, None, True]) == (1.0, 1.0)  # None is skipped, not counted as 0


def test_tiny_samples_reach_both_extremes():
    # [0, 1]: resample means are 0 (p 1/4), 0.5 (1/2), 1 (1/4); both tails hold far more than 2.5%.
    assert rate_interval([0, 1]) == (0.0, 1.0)
    # [0, 0, 1]: P(mean 0) = 8/27 and P(mean 1) = 1/27 = 0.037 > 0.025, so still (0, 1).
    assert rate_interval([0, 0, 1]) == (0.0, 1.0)
    # 19 of 20 right: P(all 20 resampled right) = 0.95^20 = 0.36 > 0.025, so the upper end is 1.
    lo, hi = rate_interval([1] * 19 + [0])
    assert hi == 1.0 and 0.8 <= lo <= 0.9


def test_a_hundred_questions_match_the_normal_approximation():
    # 50 of 100: the standard error is sqrt(0.25 / 100) = 0.05, so the interval is about 0.5 +/- 0.098.
    lo, hi = rate_interval([1] * 50 + [0] * 50)
    assert lo == pytest.approx(0.402, abs=0.015) and hi == pytest.approx(0.598, abs=0.015)
    # 80 of 100: sqrt(0.16 / 100) = 0.04 -> 0.8 +/- 0.078
    lo, hi = rate_interval([1] * 80 + [0] * 20)
    assert lo == pytest.approx(0.722, abs=0.015) and hi == pytest.approx(0.878, abs=0.015)


def test_fixed_seed_is_deterministic_and_the_seed_matters():
    values = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1]
    assert rate_interval(values) == rate_interval(list(values))
    assert paired_delta_interval(values, values[::-1]) == paired_delta_interval(values, values[::-1])
    many = [i % 3 == 0 for i in range(200)]
    assert rate_interval(many, seed=1) != rate_interval(many, seed=2)


def test_paired_delta():
    same = [1, 0, 1, 0, 1]
    assert paired_delta_interval(same, same) == (0.0, 0.0)
    assert paired_delta_interval([0, 0, 0], [1, 1, 1]) == (1.0, 1.0)
    assert paired_delta_interval([1, 1], [0, 0]) == (-1.0, -1.0)
    with pytest.raises(ValueError):
        paired_delta_interval([1, 0], [1])


def test_pairing_shows_a_small_real_change():
    # 100 questions, 50 right before; 5 of the wrong ones fixed, nothing else moves: +0.05.
    old = [1] * 50 + [0] * 50
    new = [1] * 55 + [0] * 45
    lo, hi = paired_delta_interval(old, new)
    assert 0 < lo < 0.05 < hi < 0.11  # the paired interval excludes 0 ...
    unpaired_old, unpaired_new = rate_interval(old), rate_interval(new)
    assert unpaired_new[0] < unpaired_old[1]  # ... though the two rates' own intervals overlap widely
