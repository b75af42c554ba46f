"""The model as an EMA workbench model, run by EMA's own evaluator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from abm import Model
from abm.analysis.ema import OUTCOMES, model, sampling_range
from abm.model.parameters import BY_NAME, PARAMETERS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import ema_workbench as ema

TINY = {"n_neighbourhoods": 20, "residents_per_neighbourhood": 20, "burn_in_years": 1}


def test_levers_and_uncertainties_come_from_the_declaration():
    full = model("bradford")
    levers = [p.name for p in full.levers]
    uncertain = [p.name for p in full.uncertainties]
    assert levers[0] == "rules"
    assert set(levers[1:]) == {p.name for p in PARAMETERS if p.group == "commissioning"}
    assert "uptake_rate" in uncertain and "n_neighbourhoods" not in uncertain
    assert "wellby_value_gbp" not in uncertain + levers
    uptake = full.uncertainties["uptake_rate"]
    assert (uptake.lower_bound, uptake.upper_bound) == sampling_range(BY_NAME["uptake_rate"])
    kinds = {o.name: o.kind for o in full.outcomes}
    assert kinds["gap_q5_q1"] == ema.ScalarOutcome.MINIMIZE
    assert kinds["mean_wellbeing"] == ema.ScalarOutcome.MAXIMIZE
    with pytest.raises(ValueError, match="unknown parameters: nope"):
        model(uncertainties=["nope"])


def test_sequential_evaluator_runs_experiments_that_match_the_model():
    tiny = model("bradford", years=1, seed=4, uncertainties=["uptake_rate"], levers=[],
                 rules=["status_quo", "sustain"], run_size=TINY)
    with ema.SequentialEvaluator(tiny) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=2, policies=2, uncertainty_sampling_kwargs={"rng": 1},
            lever_sampling_kwargs={"rng": 2})
    assert len(experiments) == 4 and set(outcomes) == set(OUTCOMES)
    assert all(np.isfinite(v).all() and len(v) == 4 for v in outcomes.values())
    first = experiments.iloc[0]
    direct = Model("bradford", first["rules"], 4, uptake_rate=float(first["uptake_rate"]),
                   **TINY).run(1).summary().iloc[0]
    assert outcomes["mean_wellbeing"][0] == direct["mean_wellbeing"]
    assert outcomes["gap_q5_q1"][0] == direct["gap_q5_q1"]
