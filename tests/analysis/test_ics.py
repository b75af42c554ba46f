"""The ICS's own views on hand-made results: Core20 against the rest, the staircase by
quintile and the gap in its parts, worked by hand; each is empty (so the report leaves it out
with a note) when the results lack the columns it needs."""

from __future__ import annotations

import pandas as pd
import pytest

from abm.analysis import compare

QUINTILES = ("q1", "q2", "q3", "q4", "q5")
PEOPLE = (100, 200, 300, 200, 200)  # 1,000 residents; Core20 is 10% of them


def runs(strategy_shift: float = 0.1) -> pd.DataFrame:
    """Two seeds of a baseline and a strategy that raises q1's wellbeing by
    ``strategy_shift``, its in-need person-years by 10 and its referrals by 4."""
    rows = []
    for scenario in ("baseline", "strategy"):
        for seed in (1, 2):
            lift = strategy_shift if scenario == "strategy" else 0.0
            row = {"place": "p", "scenario": scenario, "point": 0, "seed": seed, "years": 2.0}
            for q, people, level in zip(QUINTILES, PEOPLE, (6, 7, 7, 8, 8), strict=True):
                row[f"population_{q}"] = people
                row[f"wellbeing_{q}"] = level + (lift if q == "q1" else 0.0) + seed * 0.01
                row[f"in_need_{q}"] = 50.0 + (10 if scenario == "strategy" and q == "q1" else 0)
                row[f"referred_{q}"] = 20.0 + (4 if scenario == "strategy" and q == "q1" else 0)
                row[f"followed_up_{q}"] = 10.0
                row[f"started_{q}"] = 12.0
                row[f"attending_12w_{q}"] = 6.0
                row[f"benefit_referred_{q}"] = 0.3
                row[f"share_ics_money_{q}"] = 0.2
            rows.append(row)
    return pd.DataFrame(rows)


def test_core20_against_the_rest_by_hand():
    table = compare.core20_table(runs(), "baseline").set_index(["scenario", "outcome"])
    base = table.loc[("baseline", "wellbeing")]
    # Core20: q1 = 6 (+0.01 or +0.02 by seed: mean 6.015). The rest, weighted by people:
    # (7 x 200 + 7 x 300 + 8 x 200 + 8 x 200) / 900 = 6,700 / 900 = 7.4444, +0.015.
    assert base.core20 == pytest.approx(6.015)
    assert base.rest == pytest.approx(6700 / 900 + 0.015)
    strategy = table.loc[("strategy", "wellbeing")]
    assert strategy.delta_core20 == pytest.approx(0.1)
    assert strategy.delta_rest == pytest.approx(0.0)
    assert strategy.delta_core20_minus_rest == pytest.approx(0.1)
    assert strategy.delta_core20_lo == pytest.approx(0.1)  # the same change at both seeds
    # Per 1,000 residents a year: 50 person-years / 100 people / 2 years x 1,000 = 250 in
    # Core20, 60 with the strategy; the rest 4 x 50 / 900 / 2 x 1,000 = 111.1.
    need = table.loc[("baseline", "in_need")]
    assert need.core20 == pytest.approx(250) and need.rest == pytest.approx(200 / 900 / 2 * 1000)
    assert table.loc[("strategy", "in_need")].delta_core20 == pytest.approx(50)
    # Money per head: Core20 has 20% of the money and 10% of the people: 2.0; the rest 80%
    # and 90%: 0.889.
    money = table.loc[("baseline", "share_ics_money")]
    assert money.core20 == pytest.approx(2.0) and money.rest == pytest.approx(0.8 / 0.9)
    assert ("baseline", "nhs_cost_gbp_disc") not in table.index, "not recorded: left out"


def test_the_staircase_by_hand():
    table = compare.staircase_table(runs(), "baseline").set_index(["scenario", "quintile"])
    q1 = table.loc[("baseline", "q1")]
    assert q1.in_need == pytest.approx(250)           # 50 / 100 / 2 x 1,000
    assert q1.referred == pytest.approx(100)          # 20 / 100 / 2 x 1,000
    assert q1.share_referred == pytest.approx(0.4)    # referred / in need
    assert q1.share_followed_up == pytest.approx(0.5)  # 10 of 20 referred
    assert q1.share_started == pytest.approx(0.6)     # 12 of 20 referred
    assert q1.share_attending_12w == pytest.approx(0.5)  # 6 of 12 starters
    assert q1.benefit_referred == pytest.approx(0.3)
    assert table.loc[("strategy", "q1")].delta_referred == pytest.approx(20)  # 4 / 100 / 2
    assert table.loc[("strategy", "q2")].delta_referred == pytest.approx(0)


def test_the_parts_of_the_gap_sum_to_it_and_their_changes_too():
    frame = runs()
    parts = {"gap_part_baseline": 0.5, "gap_part_need_untouched": 0.1,
             "gap_part_need_assets": -0.01, "gap_part_benefit": 0.02, "gap_part_green": 0.03,
             "gap_part_lag": -0.04}
    for name, value in parts.items():
        frame[name] = value
    frame.loc[frame.scenario == "strategy", "gap_part_benefit"] = -0.01  # assets narrow it
    frame["gap_q5_q1"] = frame[list(parts)].sum(axis=1)
    table = compare.gap_decomposition(frame, "baseline")
    for scenario, rows in table.groupby("scenario"):
        rows = rows.set_index("part")
        assert rows.loc[list(compare.GAP_PARTS), "value"].sum() == pytest.approx(
            rows.loc["gap_q5_q1", "value"]), scenario
    strategy = table[table.scenario == "strategy"].set_index("part")
    assert strategy.loc["gap_part_benefit", "delta_value"] == pytest.approx(-0.03)
    assert strategy.loc["gap_q5_q1", "delta_value"] == pytest.approx(-0.03)
    assert strategy.loc["gap_part_baseline", "delta_value"] == pytest.approx(0)


def test_without_the_columns_each_view_is_empty():
    bare = runs().drop(columns=[c for c in runs().columns
                                if c.startswith(("in_need", "gap_part", "population"))])
    assert compare.staircase_table(bare, "baseline").empty
    assert compare.gap_decomposition(bare, "baseline").empty
    assert compare.core20_table(bare, "baseline").empty, "no populations: no Core20 weights"


def table_row(place, scenario, gain, gain_lo, gain_hi, gap, gap_lo, gap_hi, verdict):
    return {"place": place, "scenario": scenario, "point": 0, "gap_q5_q1": 0.65,
            "wellby_gain_disc": gain, "wellby_gain_disc_lo": gain_lo,
            "wellby_gain_disc_hi": gain_hi, "delta_gap_q5_q1": gap, "delta_gap_q5_q1_lo": gap_lo,
            "delta_gap_q5_q1_hi": gap_hi, "verdict": verdict}


def test_the_one_line_verdict_weighs_the_gap():
    table = pd.DataFrame([
        {"place": "p", "scenario": "baseline", "point": 0, "gap_q5_q1": 0.65,
         "verdict": float("nan")},
        table_row("p", "sustain", 22_900, 20_000, 25_000, 0.0021, 0.0007, 0.0035,
                  "better at about the same cost"),
        table_row("p", "scale", 8_600, 7_000, 9_000, -0.10, -0.12, -0.08,
                  "better at about the same cost"),
        table_row("p", "embed", -2_500, -3_000, -2_000, -0.002, -0.003, -0.001,
                  "worse and no cheaper (dominated)"),
        table_row("p", "pu", 100, -50, 250, 0.001, -0.002, 0.004,
                  "no clear change in WELLBYs, at about the same cost"),
    ])
    verdicts = dict(zip(table.scenario, compare.equity_verdicts(table, "baseline"),
                        strict=True))
    assert verdicts["baseline"] == ""
    # the example: gains most, but widens the gap slightly (0.0021 < 5% of 0.65)
    assert verdicts["sustain"] == ("gains the most WELLBYs: better at about the same cost, "
                                   "but widens the gap slightly")
    assert verdicts["scale"] == "better at about the same cost, and narrows the gap"
    assert verdicts["embed"] == ("worse and no cheaper (dominated), but narrows the gap "
                                 "slightly")
    assert verdicts["pu"] == ("no clear change in WELLBYs, at about the same cost; no clear "
                              "change in the gap")
