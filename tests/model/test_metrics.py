"""Equity metrics on hand-made data."""

import math

import numpy as np
import pytest

from abm.model.metrics import (
    by_quintile,
    deprivation_thirds,
    discount_factors,
    slope_index,
    weekly_equity,
)


def test_sii_of_a_straight_line_is_its_slope():
    counts = np.full(10, 100.0)
    rank = (np.arange(10) + 0.5) / 10
    means = 6.0 + 2.0 * rank  # least deprived (rank 1) two points better
    sii, rii = slope_index(means, counts)
    assert sii == pytest.approx(2.0)
    assert rii == pytest.approx(2.0 / means.mean())


def test_sii_weights_groups_by_size_and_skips_empty_ones():
    means = np.array([6.0, 7.0, 8.0, 9.0, 10.0, 0, 0, 0, 0, 0])
    counts = np.array([1.0, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    sii, _ = slope_index(means, counts)
    assert sii == pytest.approx(5.0), "five equal groups spanning rank 0-1, one point apart"
    assert math.isnan(slope_index(np.ones(10), np.r_[1.0, np.zeros(9)])[0])


def test_equal_wellbeing_has_no_inequality():
    out = weekly_equity(np.full(10, 700.0), np.full(10, 100.0))
    assert out["mean_wellbeing"] == pytest.approx(7.0)
    assert out["gap_q5_q1"] == pytest.approx(0.0) and out["sii"] == pytest.approx(0.0)


def test_quintile_gap_is_q5_minus_q1():
    sums = np.array([60.0, 60, 70, 70, 70, 70, 70, 70, 80, 80])
    out = weekly_equity(sums, np.full(10, 10.0))
    assert out["gap_q5_q1"] == pytest.approx(2.0)
    assert np.array_equal(by_quintile(np.arange(10)), [1, 5, 9, 13, 17])


def test_discount_factors_follow_the_green_book_convention():
    assert discount_factors(3, 0.035) == pytest.approx([1.0, 1 / 1.035, 1 / 1.035**2])


def test_deprivation_thirds_split_residents_by_rank():
    third = deprivation_thirds(np.array([0.9, 0.1, 0.5, 0.8, 0.2, 0.4]))
    assert third.tolist() == [0, 2, 1, 0, 2, 1]
