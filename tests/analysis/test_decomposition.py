"""The mechanism decomposition of the gap (abm/analysis/decomposition.py) on hand-made runs:
the parts sum to the gap, changes are paired by seed, shares are of the status quo's gap seed
by seed, the order and names of the rows, and the words."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from abm.analysis import decomposition as d
from abm.analysis.compare import GAP_PARTS
from abm.analysis.tables import parse_numbers

SEEDS = 6
#: Scenario -> what it adds to each part of the gap (points), the same in every seed.
SHIFTS = {
    "baseline": {},
    "mechanisms/top_belonging": {"gap_part_need_assets": -0.02},
    "scale": {"gap_part_benefit": 0.5},  # not a mechanism scenario: left out
    "mechanisms/no_belonging": {"gap_part_need_assets": 0.012},
    "mechanisms/no_assets": {"gap_part_benefit": -0.016, "gap_part_green": -0.028},
    "mechanisms/no_new_thing": {},
}


def runs(shuffle: bool = True, noise: float = 1e-4) -> pd.DataFrame:
    """Runs of :data:`SHIFTS` in two places: parts that vary a lot from seed to seed (the same
    in every scenario with that seed, as common random numbers make them) plus each
    scenario's shift and a little noise; the gap is the sum of the parts."""
    rng = np.random.default_rng(5)
    rows = []
    for place in ("devon_ics", "west_yorkshire"):
        for seed in range(SEEDS):
            common = {p: rng.normal(0.1, 0.05) for p in GAP_PARTS} | {
                "gap_part_baseline": rng.normal(0.45, 0.08)}
            for scenario, shift in SHIFTS.items():
                parts = {p: common[p] + shift.get(p, 0.0) + rng.normal(0, noise)
                         for p in GAP_PARTS}
                rows.append({"place": place, "scenario": scenario, "point": 0, "seed": seed,
                             **parts, "gap_q5_q1": sum(parts.values())})
    frame = pd.DataFrame(rows)
    return frame.sample(frac=1, random_state=1).reset_index(drop=True) if shuffle else frame


def test_the_parts_and_their_changes_sum_to_the_gap_and_its_change():
    table = d.mechanism_table(runs(), "baseline")
    assert len(table) == 2 * 5
    for _, row in table.iterrows():
        assert sum(row[p] for p in GAP_PARTS) == pytest.approx(row["gap_q5_q1"], abs=1e-12)
        if row["switch"] != "status quo":
            assert sum(row[f"delta_{p}"] for p in GAP_PARTS) == pytest.approx(
                row["delta_gap_q5_q1"], abs=1e-12)


def test_changes_are_paired_by_seed_whatever_the_row_order():
    table = d.mechanism_table(runs(shuffle=True), "baseline").set_index(["place", "scenario"])
    row = table.loc[("devon_ics", "mechanisms/no_belonging")]
    # Seed to seed the gap varies by about 0.1 points; paired, the change is 0.012 within noise.
    assert row["delta_gap_q5_q1"] == pytest.approx(0.012, abs=2e-4)
    assert row["delta_gap_q5_q1_hi"] - row["delta_gap_q5_q1_lo"] < 1e-3
    assert row["gap_q5_q1_hi"] - row["gap_q5_q1_lo"] > 0.05, "levels vary over seeds"
    assert row["delta_gap_part_need_assets"] == pytest.approx(0.012, abs=2e-4)
    assert abs(row["delta_gap_part_baseline"]) < 2e-4
    assert row["n_seeds"] == SEEDS


def test_the_share_is_the_change_over_the_status_quo_gap_seed_by_seed():
    frame = runs(shuffle=False)
    table = d.mechanism_table(frame, "baseline").set_index(["place", "scenario"])
    one = frame[frame.place == "west_yorkshire"].set_index(["scenario", "seed"])["gap_q5_q1"]
    by_seed = [(one[("mechanisms/no_assets", s)] - one[("baseline", s)]) / one[("baseline", s)]
               for s in range(SEEDS)]
    row = table.loc[("west_yorkshire", "mechanisms/no_assets")]
    assert row["share_of_gap"] == pytest.approx(np.mean(by_seed), rel=1e-12)
    assert row["share_of_gap_lo"] < row["share_of_gap"] < row["share_of_gap_hi"] < 0
    assert math.isnan(table.loc[("west_yorkshire", "baseline"), "share_of_gap"])


def test_rows_come_in_order_with_what_each_switches():
    table = d.mechanism_table(runs(), "baseline")
    devon = table[table.place == "devon_ics"]
    assert list(devon.scenario) == ["baseline", "mechanisms/no_assets",
                                    "mechanisms/no_belonging", "mechanisms/no_new_thing",
                                    "mechanisms/top_belonging"]
    assert list(devon.switch) == ["status quo", "none", "off", "off", "top"]
    assert list(devon.mechanism) == ["", "assets", "belonging", "new_thing", "belonging"]
    assert "scale" not in set(table.scenario)
    assert d.mechanism_words("new_thing") == "new thing"


def test_nothing_to_decompose_gives_an_empty_table():
    frame = runs()
    assert d.mechanism_table(frame[~frame.scenario.str.startswith("mech")], "baseline").empty
    assert d.mechanism_table(frame.drop(columns="gap_part_green"), "baseline").empty
    assert d.mechanism_table(frame[frame.scenario != "baseline"], "baseline").empty
    assert d.has_mechanisms(frame) and not d.has_mechanisms(frame[frame.scenario == "scale"])
    assert d.switch_of("mechanisms/top_") is None and d.switch_of("scale") is None


def _row(switch, mechanism, delta, lo, hi, share=math.nan, share_lo=math.nan,
         share_hi=math.nan):
    return {"switch": switch, "mechanism": mechanism, "gap_q5_q1": 0.58,
            "gap_q5_q1_lo": 0.57, "gap_q5_q1_hi": 0.59, "delta_gap_q5_q1": delta,
            "delta_gap_q5_q1_lo": lo, "delta_gap_q5_q1_hi": hi, "share_of_gap": share,
            "share_of_gap_lo": share_lo, "share_of_gap_hi": share_hi}


@pytest.mark.parametrize(("row", "words"), [
    (_row("off", "belonging", 0.0123, 0.0101, 0.0145, 0.0212, 0.0174, 0.025),
     "Switching belonging's protection against need off widens the gap by 0.0123 points "
     "(2.12% of it)"),
    (_row("top", "green_space", -0.031, -0.04, -0.022, -0.053, -0.069, -0.038),
     "Putting the benefit of green space at the top of the plausible range narrows the gap "
     "by 0.0310 points (5.3% of it)"),  # two significant digits of the half-width
    (_row("none", "assets", -0.05, -0.09, -0.01, -0.086, -0.15, -0.02),
     "Removing every community asset narrows the gap by 0.050 points (8.6% of it)"),
    (_row("off", "cost_barrier", 0.001, -0.002, 0.004, 0.002, -0.003, 0.007),
     "Switching the cost barrier off leaves the gap about the same (+0.0010 [-0.0020, "
     "+0.0040] points, 95% interval)"),
    (_row("status quo", "", math.nan, math.nan, math.nan),
     "Under the status quo the q5-q1 gap is 0.580 [0.570, 0.590] life-satisfaction points"),
])
def test_each_change_in_plain_words(row, words):
    assert d.sentence(row) == words


def test_the_display_shows_levels_for_the_status_quo_and_paired_changes_for_the_rest():
    table = d.mechanism_table(runs(), "baseline")
    shown = d.display(table)
    assert list(shown.columns[:5]) == ["Place", "Mechanism", "Switched", "Seeds",
                                       "q5-q1 gap (points)"]
    base, no_belonging = shown.iloc[0], shown.iloc[2]
    assert base["Place"] == "Devon ICS" and base["Switched"] == "status quo"
    assert base["Change in the gap (points)"] == "(the status quo)"
    need = "Need, as assets changed it (points)"
    assert parse_numbers(base[need])[0] == pytest.approx(table.iloc[0]["gap_part_need_assets"],
                                                         abs=1e-3)
    assert no_belonging["Mechanism"] == "belonging's protection against need"
    assert no_belonging["Change in the gap (points)"].endswith("(widened)")
    assert parse_numbers(no_belonging[need])[0] == pytest.approx(0.012, abs=3e-4)
    assert no_belonging[f"{need}: estimate"] == table.iloc[2]["delta_gap_part_need_assets"]
    parts = d.mechanism_table(runs(noise=0.0), "baseline")
    untouched = d.display(parts).iloc[2]["Baseline gradient (built in) (points)"]
    assert untouched == "0 (unchanged in every seed)"
    assert no_belonging["In words"].startswith("Switching belonging's protection against "
                                               "need off widens the gap by 0.01")
    sentences = d.place_sentences(table)
    assert len(sentences) == 2 and sentences[0].startswith(
        "In Devon ICS, under the status quo the q5-q1 gap is ")
    assert "moves it the most: putting belonging's protection against need at the top of the" \
        in sentences[0]
    unclear = table.assign(delta_gap_q5_q1_lo=-1.0, delta_gap_q5_q1_hi=1.0)
    assert "No mechanism at the top of its plausible range clearly moves it (the largest " \
        "mean change: putting belonging's" in d.place_sentences(unclear)[0]
