"""The workshop's "carrying on as today" twin takes the room's world and the status quo's levers
(issue 25, item 2): extra money shows its effect, and the two lines are exactly the runs a
modeller would make from the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abm.analysis.levers import status_quo_levers
from abm.app.controls import presets
from abm.app.run import (
    WORKSHOP_SIZE,
    Settings,
    WorkshopRun,
    _burned_in,
    compared_with,
    wellbeing_years,
)
from abm.cli import main as abm_main
from abm.model.parameters import BY_NAME, levers
from abm.model.scenarios import load_scenario

YEARS = 2  # policy years: enough for two funding rounds with the extra money
SEED = 3


def _preset(name: str) -> Settings:
    scenario = next(p for p in presets() if p.name == name).scenario
    return Settings.make(scenario.place, scenario.rules,
                         {**scenario.parameters, "policy_years": YEARS}, SEED)


def _command_line_run(tmp_path, scenario: str, *sets: str) -> pd.Series:
    """`abm run SCENARIO --seed SEED --years YEARS` at the workshop's size: its summary row."""
    out = tmp_path / "_".join([scenario.replace("/", "_"), *sets])
    size = [f"--set={name}={value}" for name, value in WORKSHOP_SIZE.items()]
    assert abm_main(["run", scenario, "--seed", str(SEED), "--years", str(YEARS),
                     "--out", str(out), *size, *(f"--set={s}" for s in sets)]) == 0
    [summary] = out.glob("*_summary.parquet")
    return pd.read_parquet(summary).iloc[0]


def test_the_twin_keeps_the_status_quo_levers_and_the_rooms_world():
    room = Settings.make("bradford", "scale+sustain",
                         {"budget_uplift": 0.25, "grant_years": 2, "uptake_rate": 0.05}, SEED)
    today = room.carrying_on()
    assert today.rules == ("status_quo",) and today.seed == SEED and today.place == "bradford"
    assert today.params.uptake_rate == 0.05, "the world (an assumption) is the room's"
    for parameter in levers():
        assert today.params[parameter.name] == status_quo_levers()[parameter.name]
    assert status_quo_levers()["budget_uplift"] == 0.0
    baseline = load_scenario("baseline").parameters
    assert status_quo_levers()["budget_gbp_per_head"] == baseline.get(
        "budget_gbp_per_head", BY_NAME["budget_gbp_per_head"].default)
    assert [p.name for p, _, _ in room.levers_kept()] == ["budget_uplift", "grant_years"]
    text = compared_with(room)
    assert "extra money 0 instead of 0.25 share of the budget" in text
    assert "length of a short grant 1 instead of 2 years" in text
    assert "today's money and grants" in compared_with(room.carrying_on())


def test_extra_money_shows_its_effect_and_equals_the_command_line(tmp_path):
    """The "Status quo (extra money)" preset against its twin: the gap and the WELLBYs
    differ, and each line is exactly `abm run` of the same seed (the twin: the status quo,
    the preset: the status quo with the extra money)."""
    settings = _preset("extra_money/baseline")
    assert settings.params.budget_uplift == 0.25 and settings.rules == ("status_quo",)
    run = WorkshopRun(settings)
    run.advance(run.horizon_weeks)
    assert run.finished
    room, twin = run.model.summary().iloc[0], run.status_quo.summary().iloc[0]
    assert room["gap_q5_q1"] != twin["gap_q5_q1"], "extra money changes the gap"
    assert room["wellbeing_years"] > twin["wellbeing_years"], "extra money gains WELLBYs"
    assert np.abs(run.gap_difference()).max() > 0
    assert run.wellbys() == pytest.approx(room["wellbeing_years"] - twin["wellbeing_years"])
    assert wellbeing_years(run.model) == pytest.approx(room["wellbeing_years"])

    with_money = _command_line_run(tmp_path, "baseline", "budget_uplift=0.25")
    today = _command_line_run(tmp_path, "baseline")
    for column in ("gap_q5_q1", "wellbeing_years", "spend_gbp", "mean_wellbeing"):
        assert room[column] == with_money[column], column
        assert twin[column] == today[column], column


def test_a_lever_the_burn_in_reads_gives_the_twin_a_burn_in_of_its_own():
    """The budget per resident is spent in the burn-in too: the twin's burn-in is run under
    the status quo's budget, not the room's."""
    room = Settings.make("bradford", "status_quo", {"budget_gbp_per_head": 9.0}, SEED)
    assert "budget_gbp_per_head" in _burned_in(room).depends_on
    assert _burned_in(room) is not _burned_in(room.carrying_on())
    run = WorkshopRun(room)
    assert run.status_quo.params.budget_gbp_per_head == status_quo_levers()[
        "budget_gbp_per_head"]
    run.advance(60)
    assert np.abs(run.gap_difference()).max() > 0, "more money, another gap"


def test_a_compared_choice_runs_with_the_same_seed_and_shares_the_twin():
    room = Settings.make("bradford", "sustain", seed=SEED)
    other = Settings.make("bradford", "scale", {"budget_uplift": 0.25}, seed=SEED + 7)
    run = WorkshopRun(room, compare=other)
    assert run.compared.seed == SEED, "the compared choice takes the room's seed"
    assert run.other_status_quo is run.status_quo, "one world, one twin"
    assert len(run.models) == 3
    run.advance(60)
    alone = WorkshopRun(other.changed(seed=SEED))
    alone.advance(60)
    np.testing.assert_array_equal(run.other_gap_difference(), alone.gap_difference())
    assert run.other_wellbys() == pytest.approx(alone.wellbys())
    frame = run.frame()
    assert frame.gap_other is not None and len(frame.gap_other) == len(frame.gap)
    elsewhere = WorkshopRun(room, compare=other.changed(uptake_rate=0.05))
    assert elsewhere.other_status_quo is not elsewhere.status_quo, "another world, its own twin"
