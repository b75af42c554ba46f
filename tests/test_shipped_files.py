"""Every shipped scenario, place and sweep file validates, and each scenario and place runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from abm.model.model import CommunityAssetsModel
from abm.model.places import load_place, place_names, places_dir
from abm.model.scenarios import (
    NOT_SCENARIOS,
    load_scenario,
    scenario_names,
    scenarios_dir,
    validate,
)
from experiments.spec import load_sweep

#: A tiny model: enough to exercise every rule without taking long.
TINY = {"n_neighbourhoods": 20, "residents_per_neighbourhood": 20, "burn_in_years": 1}
SWEEPS = sorted((Path(__file__).resolve().parents[1] / "experiments").glob("*.yaml"))


def test_the_shipped_files_are_found():
    assert {"baseline", "sustain", "extra_money/embed"} <= set(scenario_names())
    assert len(scenario_names()) == len(
        [p for p in scenarios_dir().rglob("*.yaml") if p.parent.name not in NOT_SCENARIOS])
    assert "devon_ics" in place_names()
    assert SWEEPS


@pytest.mark.parametrize("name", place_names())
def test_shipped_place_validates_and_builds_a_model(name):
    place = load_place(name)
    assert place.name == name and abs(sum(place.imd_decile_shares) - 100) <= 0.5
    assert load_place(places_dir() / f"{name}.yaml") == place
    model = CommunityAssetsModel(place, "status_quo", 0, TINY).run(years=1)
    assert len(model.hoods) == TINY["n_neighbourhoods"] and model.years_run == 1


def test_every_shipped_scenario_validates():
    assert validate(scenario_names()) == []
    paths = [p for p in scenarios_dir().rglob("*.yaml") if p.parent != places_dir()]
    assert validate(paths) == []  # the calibrated parameter files validate as scenarios too


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_scenario_runs_a_tiny_model(name):
    scenario = load_scenario(name)
    assert scenario.name == name and scenario.description
    assert scenario.place in place_names()
    model = scenario.model(seed=0, **TINY).run(years=1)
    assert model.rules == scenario.rules
    assert model.years_run == 1


@pytest.mark.parametrize("path", SWEEPS, ids=[p.name for p in SWEEPS])
def test_shipped_sweep_validates(path):
    sweep = load_sweep(path)
    assert sweep.runs()
