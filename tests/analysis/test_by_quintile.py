"""Participation and NHS costs by quintile and for the whole place (T14) on hand-made runs:
per-person costs, totals, and changes paired by seed."""

from __future__ import annotations

import pandas as pd
import pytest

from abm.analysis import compare, tables

QUINTILES = ("q1", "q2", "q3", "q4", "q5")
PEOPLE = (100, 200, 300, 200, 200)


def runs() -> pd.DataFrame:
    """Three seeds of a baseline and a strategy that raises q1's attendance by 2 points and
    saves GBP 5,000 of NHS cost in q1; seed by seed the levels differ a lot (common random
    numbers), the changes do not. Rows are in a shuffled order."""
    rows = []
    for scenario in ("strategy", "baseline"):
        for seed in (3, 1, 2):
            treated = scenario == "strategy"
            row = {"place": "p", "scenario": scenario, "point": 0, "seed": seed,
                   "population": sum(PEOPLE)}
            for q, people in zip(QUINTILES, PEOPLE, strict=True):
                row[f"population_{q}"] = people
                row[f"p_attending_{q}"] = 0.05 * seed + (0.02 if treated and q == "q1" else 0)
                row[f"p_past_year_{q}"] = 0.1 * seed
                row[f"nhs_cost_gbp_disc_{q}"] = 1000.0 * people * seed - (
                    5000.0 if treated and q == "q1" else 0)
            row["p_attending"] = sum(row[f"p_attending_{q}"] * p
                                     for q, p in zip(QUINTILES, PEOPLE, strict=True)) / 1000
            row["p_past_year"] = 0.1 * seed
            row["nhs_cost_gbp_disc"] = sum(row[f"nhs_cost_gbp_disc_{q}"] for q in QUINTILES)
            rows.append(row)
    return pd.DataFrame(rows)


def test_participation_and_nhs_costs_by_quintile_paired_by_seed():
    table = compare.quintile_table(runs(), "baseline").set_index(["scenario", "quintile"])
    assert list(table.loc["baseline"].index) == [*QUINTILES, "whole place"]
    q1 = table.loc[("strategy", "q1")]
    assert q1.delta_p_attending == pytest.approx(2.0)  # percentage points
    assert q1.delta_p_attending_lo == pytest.approx(2.0), "the same change at every seed"
    assert q1.delta_nhs_cost_gbp_disc == pytest.approx(-50.0)  # GBP 5,000 / 100 people
    assert q1.delta_nhs_cost_total == pytest.approx(-5000.0)
    whole = table.loc[("strategy", "whole place")]
    assert whole.delta_nhs_cost_total == pytest.approx(-5000.0)
    assert whole.delta_nhs_cost_gbp_disc == pytest.approx(-5.0)  # over 1,000 residents
    assert whole.delta_p_attending == pytest.approx(0.2)  # 2 points x 10% of residents
    base = table.loc[("baseline", "q2")]
    assert base.nhs_cost_gbp_disc == pytest.approx(2000.0)  # 1,000 x mean seed 2
    assert base.nhs_cost_gbp_disc_hi - base.nhs_cost_gbp_disc_lo > 1000, "levels vary"
    assert table.loc[("strategy", "q5")].delta_nhs_cost_gbp_disc == pytest.approx(0.0)


def test_outcomes_the_runs_lack_are_left_out():
    frame = runs().drop(columns="nhs_cost_gbp_disc_q3")
    table = compare.quintile_table(frame, "baseline")
    assert "delta_p_attending" in table and "nhs_cost_gbp_disc" not in table
    assert compare.quintile_table(frame[["place", "scenario", "point", "seed"]],
                                  "baseline").empty


def test_the_table_for_people_says_which_way_each_change_went():
    labels = {k: (v[0], v[1]) for k, v in compare.QUINTILE_OUTCOMES.items()}
    shown = tables.quintile_table(compare.quintile_table(runs(), "baseline"), labels,
                                  "baseline")
    strategy_q1 = shown[(shown.Strategy == "Strategy")
                        & (shown.Quintile == "q1 (most deprived, Core20)")].iloc[0]
    cost = "Change: NHS cost of GP and A&E use, discounted (GBP per person)"
    assert strategy_q1[cost] == "-50.0 [-50.0, -50.0] (saves)"  # no spread: 3 digits
    attending = "Change: Attending a community asset, final year (percentage points)"
    assert strategy_q1[attending].endswith("(rose)")
    assert tables.parse_numbers(strategy_q1[attending])[0] == pytest.approx(2.0)
    base_q1 = shown[(shown.Strategy == "Status quo") & (shown.Quintile.str.startswith("q1"))]
    assert base_q1.iloc[0]["Attending a community asset, final year (% of residents)"] \
        .startswith("10")
