"""Distributional cost-effectiveness: published and hand-worked examples.

Expected values are worked out in the comments by hand (or quoted from a publication), never
by calling the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from abm.analysis import dcea

# Quality-adjusted life expectancy at birth by IMD quintile (most deprived first) and equal
# populations: the York Health Equity Impact Calculator's data/qale_pop_imd.csv (Love-Koh,
# Schneider & Cookson 2022, University of York).
YORK_QALE = [63.19885892, 67.67622058, 69.99007964, 73.18449964, 75.07027193]


def test_robson_2017_weights_poorest_fifth_six_to_seven_times_the_richest():
    # Published: Robson et al., Health Econ 2017;26(10):1328-1334 (abstract): Atkinson
    # aversion 10.95 "at current levels of quality adjusted life expectancy, implies weighting
    # health gains to the poorest fifth of people in society six to seven times as highly as
    # health gains to the richest fifth". The ratio of weights is (h5 / h1)^10.95:
    # 75.0703 / 63.1989 = 1.18784; ln 1.18784 = 0.17213; x 10.95 = 1.8848; e^1.8848 = 6.59.
    weights = dcea.equity_weights(YORK_QALE, [1] * 5, 10.95)
    assert weights[0] / weights[4] == pytest.approx(6.59, abs=0.01)
    assert 6 < weights[0] / weights[4] < 7, "Robson et al. report six to seven times"
    assert list(weights) == sorted(weights, reverse=True), "more deprived, more weight"


def test_dceasimr_documented_examples():
    # Published examples of the dceasimR R package's reference pages (calc_ede and the
    # "social welfare functions" article): EDE of (60, 63, 66, 69, 72), equal weights, is
    # 65.8633 at aversion 1 and 65.31903 at 5; of (52.1, 56.3, 59.8, 63.2, 66.8) it is
    # 59.41665 at 1 and 58.51938 at 5, and after adding (0.5, 0.6, 0.5, 0.4, 0.3) 59.88513
    # at 1 (delta EDE 0.4684784 of which 0.46 efficiency and 0.008478 equity).
    equal = [1] * 5
    assert dcea.ede([60, 63, 66, 69, 72], equal, 1) == pytest.approx(65.8633, abs=5e-5)
    assert dcea.ede([60, 63, 66, 69, 72], equal, 5) == pytest.approx(65.31903, abs=5e-6)
    base = [52.1, 56.3, 59.8, 63.2, 66.8]
    post = [52.6, 56.9, 60.3, 63.6, 67.1]
    assert dcea.ede(base, equal, 1) == pytest.approx(59.41665, abs=5e-6)
    assert dcea.ede(base, equal, 5) == pytest.approx(58.51938, abs=5e-6)
    assert dcea.ede(post, equal, 1) == pytest.approx(59.88513, abs=5e-6)
    # As an equity impact per person: delta EDE - delta mean = 0.4684784 - 0.46.
    change = dcea.inequality_change(base, np.subtract(post, base), equal)
    assert change["equity_impact_e1"] == pytest.approx(5 * 0.008478412, abs=5e-6)


def test_two_groups_by_hand():
    # Levels 1 and 4, equal groups. Mean 2.5.
    # e = 0: EDE = mean = 2.5, index 0.
    # e = 1: EDE = sqrt(1 x 4) = 2, index 1 - 2 / 2.5 = 0.2.
    # e = 2: EDE = 1 / (0.5 x 1 + 0.5 x 1/4) = 1 / 0.625 = 1.6, index 0.36.
    # e = 3.5: EDE = (0.5 + 0.5 x 4^-2.5)^(1 / -2.5) = (0.5 + 0.5 / 32)^-0.4
    #          = 0.515625^-0.4; ln 0.515625 = ln 33 - ln 64 = -0.662376; x -0.4 = 0.264950;
    #          e^0.264950 = e^0.26 x e^0.00495 = 1.29693 x 1.004962 = 1.30337.
    # e = 10.95: (0.5 + 0.5 x 4^-9.95)^(-1/9.95); 4^-9.95 = 2^-19.9 = 1.0235e-6, so the base
    #          is 0.50000051 and EDE = 2^(1/9.95) x (1 + 1.02e-6)^(-0.1005) = 1.07214.
    levels, equal = [1.0, 4.0], [1, 1]
    assert dcea.ede(levels, equal, 0) == pytest.approx(2.5)
    assert dcea.atkinson(levels, equal, 0) == pytest.approx(0.0, abs=1e-12)
    assert dcea.ede(levels, equal, 1) == pytest.approx(2.0)
    assert dcea.atkinson(levels, equal, 1) == pytest.approx(0.2)
    assert dcea.ede(levels, equal, 2) == pytest.approx(1.6)
    assert dcea.atkinson(levels, equal, 2) == pytest.approx(0.36)
    assert dcea.ede(levels, equal, 3.5) == pytest.approx(1.30337, abs=1e-5)
    assert dcea.ede(levels, equal, 10.95) == pytest.approx(1.07214, abs=1e-5)


def test_unequal_group_sizes_by_hand():
    # Levels 2 and 8 held by populations 1 and 3 (weights 0.25, 0.75).
    # Mean = 0.25 x 2 + 0.75 x 8 = 6.5.
    # e = 1: EDE = 2^0.25 x 8^0.75 = 2^(0.25 + 2.25) = 2^2.5 = 5.656854;
    #        index = 1 - 5.656854 / 6.5 = 0.129715.
    assert dcea.ede([2, 8], [1, 3], 1) == pytest.approx(5.656854, abs=1e-6)
    assert dcea.atkinson([2, 8], [1, 3], 1) == pytest.approx(0.129715, abs=1e-6)
    # Weights are relative: populations 100 and 300 give the same.
    assert dcea.ede([2, 8], [100, 300], 1) == pytest.approx(5.656854, abs=1e-6)


def test_atkinson_rejects_non_positive_levels():
    with pytest.raises(ValueError, match="positive"):
        dcea.ede([0.0, 1.0], [1, 1], 1)


def test_net_health_benefit_by_quintile_by_hand():
    # GBP 1,000,000 extra at GBP 20,000 per QALY forgoes 50 QALYs; at 6 WELLBYs per QALY that
    # is 300 WELLBYs. Equal populations, "moderate" gradient (0.23, 0.21, 0.21, 0.18, 0.17):
    # opportunity cost 11.5, 10.5, 10.5, 9, 8.5 QALYs = 69, 63, 63, 54, 51 WELLBYs.
    # Benefits 100, 80, 60, 40, 20 WELLBYs -> NHB 31, 17, -3, -14, -31 WELLBYs (total 0);
    # in QALYs 100/6 - 11.5 = 5.1667, 80/6 - 10.5 = 2.8333, -0.5, -2.3333, -5.1667;
    # NMB = NHB QALYs x 20,000 = 103,333, 56,667, -10,000, -46,667, -103,333 GBP.
    table = dcea.net_health_benefit([100, 80, 60, 40, 20], 1_000_000, 20_000, 6.0, [1] * 5,
                                    dcea.GRADIENTS["moderate"])
    assert table["opportunity_cost_qalys"].tolist() == pytest.approx([11.5, 10.5, 10.5, 9, 8.5])
    assert table["opportunity_cost_wellbys"].tolist() == pytest.approx([69, 63, 63, 54, 51])
    assert table["net_health_benefit_wellbys"].tolist() == pytest.approx([31, 17, -3, -14, -31])
    assert table["net_health_benefit_qalys"].tolist() == pytest.approx(
        [5.16667, 2.83333, -0.5, -2.33333, -5.16667], abs=1e-5)
    assert table["net_monetary_benefit_gbp"].tolist() == pytest.approx(
        [103_333.3, 56_666.7, -10_000, -46_666.7, -103_333.3], abs=0.1)


def test_opportunity_cost_follows_the_place_population():
    # Populations 2, 1, 1, 1, 1 with the moderate per-person burdens 1.15, 1.05, 1.05, 0.9,
    # 0.85 (share x 5): burdens 2.3, 1.05, 1.05, 0.9, 0.85, total 6.15, so q1 bears
    # 2.3 / 6.15 = 0.373984 and q5 0.85 / 6.15 = 0.138211. With equal spreading q1 bears 2/6.
    shares = dcea.opportunity_cost_shares([2, 1, 1, 1, 1], dcea.GRADIENTS["moderate"])
    assert shares[0] == pytest.approx(0.373984, abs=1e-6)
    assert shares[4] == pytest.approx(0.138211, abs=1e-6)
    assert shares.sum() == pytest.approx(1.0)
    equal = dcea.opportunity_cost_shares([2, 1, 1, 1, 1], dcea.GRADIENTS["equal"])
    assert equal[0] == pytest.approx(2 / 6)
    # A quintile with nobody bears nothing.
    assert dcea.opportunity_cost_shares([0, 1, 1, 1, 1], dcea.GRADIENTS["steep"])[0] == 0


def test_gradients_are_shares_most_deprived_first():
    for name, shares in dcea.GRADIENTS.items():
        assert sum(shares) == pytest.approx(1.0), name
        assert list(shares) == sorted(shares, reverse=True), name


def test_equity_impact_is_the_fall_in_health_lost_to_inequality():
    # Base (1, 4), equal groups of 1 person; NHB per person (+1, 0): post (2, 4).
    # e = 1: EDE base 2, post sqrt(8) = 2.828427; equity-weighted NHB = 2 x 0.828427
    # = 1.656854; NHB = 1; equity impact = 0.656854. Health lost to inequality
    # (mean x index x people): base (2.5 - 2) x 2 = 1, post (3 - 2.828427) x 2 = 0.343146;
    # fall 0.656854: the same.
    out = dcea.inequality_change([1, 4], [1, 0], [1, 1])
    assert out["equity_weighted_nhb_e1"] == pytest.approx(1.656854, abs=1e-6)
    assert out["equity_impact_e1"] == pytest.approx(0.656854, abs=1e-6)
    assert out["equity_impact_e0"] == pytest.approx(0.0, abs=1e-12)
    # The SII of (1, 4) with equal groups: ranks 0.25 and 0.75, slope 3 / 0.5 = 6; of (2, 4)
    # it is 4; so the reduction is 2.
    assert out["sii_base"] == pytest.approx(6.0)
    assert out["sii_reduction"] == pytest.approx(2.0)
    # Giving to the better-off raises inequality: a negative impact.
    assert dcea.inequality_change([1, 4], [0, 1], [1, 1])["equity_impact_e10_95"] < 0


def _runs(gains, spends) -> pd.DataFrame:
    """Two seeds of a baseline and a strategy with the given per-quintile WELLBY gains and
    extra spend, in a place of 5,000 people split equally (10,000 person-years per quintile
    over 10 years: wellbeing 6, 6.5, 7, 7.5, 8 from most to least deprived)."""
    rows = []
    for seed in (1, 2):
        for scenario, gain, spend in (("baseline", [0] * 5, 0.0), ("strategy", gains, spends)):
            row = {"place": "p", "point": 0, "seed": seed, "scenario": scenario, "years": 10.0,
                   "population": 5_000, "wellbeing_years": 0.0}
            for i, q in enumerate(dcea.QUINTILES):
                row[f"wellbeing_{q}"] = 6.0 + 0.5 * i
                row[f"wellbeing_years_{q}"] = 10_000 * (6.0 + 0.5 * i) + gain[i]
            row["spend_gbp"] = 100_000.0 + spend
            row["wellbys_per_qaly"] = 6.0
            rows.append(row)
    return pd.DataFrame(rows)


def test_sweep_dcea_matches_the_hand_worked_quintiles():
    summary, by_quintile = dcea.dcea(_runs([100, 80, 60, 40, 20], 1_000_000.0))
    row = summary[(summary.threshold == "NICE 20k") & (summary.gradient == "moderate")].iloc[0]
    assert row["net_health_benefit_wellbys"] == pytest.approx(0.0, abs=1e-9)
    assert row["health_benefit_wellbys"] == pytest.approx(300.0)
    assert row["opportunity_cost_qalys"] == pytest.approx(50.0)
    assert row["horizon_years"] == 10.0 and row["wellbys_per_qaly"] == 6.0
    # Net benefit goes to the deprived (31, 17 WELLBYs) from the affluent (-14, -31), who
    # held 60 and 80 wellbeing-years per person: inequality falls.
    assert row["equity_impact_e10_95"] > 0 and row["sii_reduction"] > 0
    q = by_quintile[(by_quintile.threshold == "NICE 20k") & (by_quintile.gradient == "moderate")]
    assert q["net_health_benefit_wellbys"].tolist() == pytest.approx([31, 17, -3, -14, -31])
    assert q["population"].tolist() == pytest.approx([1_000] * 5)
    # Same gain at the NHS's marginal productivity: 1,000,000 / 12,936 = 77.3036 QALYs forgone.
    nhs = summary[(summary.threshold == "NHS 12,936") & (summary.gradient == "equal")].iloc[0]
    assert nhs["opportunity_cost_qalys"] == pytest.approx(77.3036, abs=1e-4)


def test_parameters_come_from_the_row_then_the_declaration():
    assert dcea.parameter({"wellby_value_gbp": 10_000.0}, "wellby_value_gbp") == 10_000.0
    assert dcea.parameter({}, "wellby_value_gbp") == 13_000.0  # the declared default
    assert dcea.parameter({"x": math.nan}, "x", 5.4) == 5.4
    with pytest.raises(KeyError, match="not_a_parameter"):
        dcea.parameter({}, "not_a_parameter")


def test_concentration_index_by_hand():
    # Levels 1 and 3, equal groups, ranked most deprived first: fractional ranks 0.25 and
    # 0.75; mean 2; C = 2 / 2 x (0.5 x 1 x 0.25 + 0.5 x 3 x 0.75) - 1 = 1.25 - 1 = 0.25
    # (= 2 cov(h, R) / mean = 2 x 0.25 / 2).
    assert dcea.concentration_index([1, 3], [1, 1]) == pytest.approx(0.25)
    # Reversed (health concentrated among the more deprived): -0.25. Equal levels: 0.
    assert dcea.concentration_index([3, 1], [1, 1]) == pytest.approx(-0.25)
    assert dcea.concentration_index([5, 5, 5], [1, 2, 3]) == pytest.approx(0.0)
    # Unequal groups 1:3 holding 2 and 4: ranks 0.125 and 0.625, mean 3.5;
    # C = 2 / 3.5 x (0.25 x 2 x 0.125 + 0.75 x 4 x 0.625) - 1 = 2 / 3.5 x 1.9375 - 1 = 0.10714.
    assert dcea.concentration_index([2, 4], [1, 3]) == pytest.approx(0.107142857)


def test_kolm_ede_by_hand():
    # Levels 1 and 3, equal groups, alpha 1: -ln(0.5 e^-1 + 0.5 e^-3) = -ln(0.18394 + 0.02489)
    # = -ln(0.208833) = 1.566220. Alpha 0: the mean, 2.
    assert dcea.kolm_ede([1, 3], [1, 1], 1.0) == pytest.approx(1.566220, abs=1e-6)
    assert dcea.kolm_ede([1, 3], [1, 1], 0.0) == pytest.approx(2.0)
    # Absolute: everyone gaining 10 raises the EDE by exactly 10 (Atkinson's would not).
    assert dcea.kolm_ede([11, 13], [1, 1], 1.0) == pytest.approx(11.566220, abs=1e-6)
    # Large levels do not overflow (the minimum is factored out).
    assert dcea.kolm_ede([1000, 1002], [1, 1], 5.0) == pytest.approx(
        1000 - math.log(0.5 + 0.5 * math.exp(-10)) / 5)


def test_the_concentration_index_is_reported_with_intervals():
    summary, _ = dcea.dcea(_runs([100, 80, 60, 40, 20], 1_000_000.0))
    row = summary[(summary.threshold == "NICE 20k") & (summary.gradient == "moderate")].iloc[0]
    # Wellbeing-years per person rise with affluence: health is concentrated among the less
    # deprived (C > 0), and the strategy's net benefit to the deprived lowers it.
    assert row["ci_base"] > 0 and row["ci_reduction"] > 0
    assert row["ci_base_lo"] == pytest.approx(row["ci_base"])  # the same at both seeds
    levels = [60.0, 65.0, 70.0, 75.0, 80.0]  # 10,000 x wellbeing / 1,000 people per quintile
    assert row["ci_base"] == pytest.approx(dcea.concentration_index(levels, [1] * 5))


def test_the_ede_profile_spans_the_aversions_and_marks_the_english_public():
    profile = dcea.ede_profile(_runs([100, 80, 60, 40, 20], 1_000_000.0))
    atkinson = profile[profile.measure == "atkinson"]
    kolm = profile[profile.measure == "kolm"]
    assert list(atkinson.aversion) == list(dcea.ATKINSON_PROFILE)
    assert list(kolm.aversion) == list(dcea.KOLM_PROFILE)
    marked = profile[profile.english_public]
    assert sorted(zip(marked.measure, marked.aversion, strict=True)) == [
        ("atkinson", 10.95), ("kolm", 0.15)]
    # No aversion: the equity-weighted net benefit is the net benefit (0 here), so no equity
    # impact; with aversion, the gain to the deprived counts for more.
    for frame in (atkinson, kolm):
        assert frame.iloc[0].equity_impact == pytest.approx(0.0, abs=1e-6)
        assert (frame.iloc[1:].equity_impact > 0).all()
        assert frame.equity_impact.is_monotonic_increasing
    # At 10.95 the profile agrees with the DCEA totals' own equity impact.
    summary, _ = dcea.dcea(_runs([100, 80, 60, 40, 20], 1_000_000.0))
    total = summary[(summary.threshold == "NICE 20k") & (summary.gradient == "moderate")]
    assert atkinson[atkinson.english_public].equity_impact.item() == pytest.approx(
        total.equity_impact_e10_95.item())
