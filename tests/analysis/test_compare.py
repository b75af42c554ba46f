"""The WELLBY arithmetic of a paired comparison; cost per WELLBY: paired BCa bootstrap
intervals and verdicts in words."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from abm.analysis.compare import bootstrap_ratio, compare, summary_table, verdict


def test_ratio_is_the_ratio_of_means():
    ratio, lo, hi = bootstrap_ratio(np.array([10.0, 30.0, 20.0]), np.array([1.0, 2.0, 3.0]))
    assert ratio == pytest.approx(60 / 6)  # (10 + 30 + 20) / (1 + 2 + 3)
    assert lo < ratio < hi


def test_interval_is_paired_over_seeds():
    # Spend is 1,000 GBP per WELLBY in every seed (plus a little noise) while the gains
    # themselves vary tenfold: resampling pairs keeps the ratio near 1,000; resampling spend
    # and gains independently would not.
    rng = np.random.default_rng(3)
    gains = rng.uniform(100, 1_000, size=12)
    spend = 1_000 * gains * (1 + rng.normal(0, 0.01, size=12))
    ratio, lo, hi = bootstrap_ratio(spend, gains)
    assert 990 < lo < ratio < hi < 1_010


def test_interval_is_reproducible_and_needs_three_seeds():
    x, y = np.array([5.0, 7.0, 6.0, 9.0]), np.array([1.0, 1.5, 0.8, 2.0])
    assert bootstrap_ratio(x, y) == bootstrap_ratio(x, y)
    ratio, lo, hi = bootstrap_ratio(x[:2], y[:2])
    assert ratio == pytest.approx(12 / 2.5) and math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize(("gain", "extra", "words"), [
    ((100, 50, 150), 5_000.0, "better, at GBP 50 per WELLBY gained"),
    ((100, 50, 150), -5_000.0, "better and cheaper (dominant)"),
    ((100, 50, 150), 10.0, "better at about the same cost"),
    ((-100, -150, -50), 5_000.0, "worse and no cheaper (dominated)"),
    ((-100, -150, -50), 10.0, "worse and no cheaper (dominated)"),
    ((-100, -150, -50), -5_000.0, "worse but cheaper: saves GBP 50 per WELLBY lost"),
    ((10, -50, 70), 5_000.0, "no clear change in WELLBYs, costs more"),
    ((10, -50, 70), -5_000.0, "no clear change in WELLBYs, cheaper"),
])
def test_verdicts_say_what_happened(gain, extra, words):
    # Baseline spend GBP 100,000: within GBP 1,000 (1%) counts as about the same cost.
    text = verdict(gain, extra, (extra / gain[0], math.nan, math.nan), 100_000.0)
    assert text == words


def test_verdict_quotes_the_interval_when_there_is_one():
    text = verdict((100, 50, 150), 5_000.0, (50.0, 30.0, 90.0), 100_000.0)
    assert text == "better, at GBP 50 per WELLBY gained (95% interval GBP 30 to GBP 90)"


def _results(gains: list[float], extra: float) -> pd.DataFrame:
    rows = []
    for seed, gain in enumerate(gains):
        for scenario, g, e in (("baseline", 0.0, 0.0), ("s", gain, extra)):
            row = {"place": "p", "scenario": scenario, "point": 0, "seed": seed,
                   "wellby_value_gbp": 13_000.0, "mean_wellbeing": 7.0, "gap_q5_q1": 1.0,
                   "sii": 1.0, "p_attending_q1": 0.1, "p_past_year_q1": 0.2}
            for disc in ("", "_disc"):  # the same figures discounted, for simplicity
                row[f"spend_gbp{disc}"] = 1e6 + e
                row[f"wellbeing_years{disc}"] = 1e6 + g
                for q in ("q1", "q2", "q3", "q4", "q5"):
                    row[f"spend_gbp{disc}_{q}"] = (1e6 + e) / 5
                    row[f"wellbeing_years{disc}_{q}"] = (1e6 + g) / 5
            rows.append(row)
    return pd.DataFrame(rows)


def test_summary_table_reports_no_ratio_for_a_loss_but_says_why():
    table = summary_table(_results([-500, -400, -600, -450], 20_000.0))
    row = table[table.scenario == "s"].iloc[0]
    assert math.isnan(row["cost_per_wellby"])
    assert row["verdict"] == "worse and no cheaper (dominated)"
    assert row["verdict_q1"] == "worse and no cheaper (dominated)"


def test_summary_table_gives_a_bca_interval_for_a_clear_gain():
    table = summary_table(_results([500, 400, 600, 450, 550, 480], 20_000.0))
    row = table[table.scenario == "s"].iloc[0]
    # 20,000 / mean gain 496.67 = 40.27 GBP per WELLBY
    assert row["cost_per_wellby"] == pytest.approx(20_000 / (2_980 / 6))
    assert row["cost_per_wellby_lo"] < row["cost_per_wellby"] < row["cost_per_wellby_hi"]
    assert row["verdict"].startswith("better, at GBP 40 per WELLBY gained (95% interval")


def summary(years, spend):
    row = {"mean_wellbeing": 7.0, "gap_q5_q1": 0.5, "sii": 0.6, "p_attending_q1": 0.1,
           "p_past_year_q1": 0.2}
    for disc, factor in (("", 1.0), ("_disc", 0.9)):
        row[f"wellbeing_years{disc}"] = years * factor
        row[f"spend_gbp{disc}"] = spend * factor
        for q in range(1, 6):
            row[f"wellbeing_years{disc}_q{q}"] = years * factor / 5
            row[f"spend_gbp{disc}_q{q}"] = spend * factor / 5
    return row


def test_compare_counts_wellbys_cost_and_value_discounted_and_not():
    out = compare(summary(1100.0, 3000.0), summary(1000.0, 1000.0), wellby_value_gbp=13_000)
    assert out["wellby_gain"] == pytest.approx(100.0)
    assert out["wellby_gain_disc"] == pytest.approx(90.0)
    assert out["extra_spend_gbp"] == pytest.approx(2000.0)
    assert out["extra_spend_gbp_disc"] == pytest.approx(1800.0)
    assert out["cost_per_wellby"] == pytest.approx(20.0)
    assert out["cost_per_wellby_q1"] == pytest.approx(20.0)
    assert out["value_gbp"] == pytest.approx(90 * 13_000)
    assert out["net_benefit_gbp"] == pytest.approx(90 * 13_000 - 1800)


def test_cost_per_wellby_is_undefined_without_a_gain():
    out = compare(summary(900.0, 3000.0), summary(1000.0, 1000.0))
    assert math.isnan(out["cost_per_wellby"])
