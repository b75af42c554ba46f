"""The model as an EMA workbench model, run by EMA's own evaluator: replications over seeds,
and effects paired with the status quo at the same seed (issue 25, item 8)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from abm import Model
from abm.analysis.ema import EFFECTS, model, sampling_range
from abm.analysis.levers import status_quo_levers
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
    assert set(levers[1:]) == {p.name for p in PARAMETERS if p.lever}
    assert "budget_gbp_per_head" in levers and "grant_reserve_margin" in uncertain
    assert "uptake_rate" in uncertain and "n_neighbourhoods" not in uncertain
    assert "wellby_value_gbp" not in uncertain + levers
    uptake = full.uncertainties["uptake_rate"]
    assert (uptake.lower_bound, uptake.upper_bound) == sampling_range(BY_NAME["uptake_rate"])
    kinds = {o.name: o.kind for o in full.outcomes}
    assert kinds["delta_gap_q5_q1"] == ema.ScalarOutcome.MINIMIZE
    assert kinds["delta_wellbeing_years"] == ema.ScalarOutcome.MAXIMIZE
    assert isinstance(full, ema.ReplicatorModel) and len(full.replications) == 3
    with pytest.raises(ValueError, match="unknown parameters: nope"):
        model(uncertainties=["nope"])


def test_replications_give_effects_paired_with_the_status_quo_at_each_seed():
    tiny = model("bradford", years=1, seeds=[4, 5], uncertainties=["uptake_rate"],
                 levers=["budget_uplift"], run_size=TINY)
    policies = [ema.Sample("today", rules="status_quo", budget_uplift=0.0),
                ema.Sample("more_money", rules="status_quo", budget_uplift=0.5)]
    with ema.SequentialEvaluator(tiny) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=2, policies=policies, uncertainty_sampling_kwargs={"rng": 1})
    assert len(experiments) == 4
    for effect in EFFECTS:
        by_seed = outcomes[f"delta_{effect}_by_seed"]
        assert by_seed.shape == (4, 2), "one value per seed"
        np.testing.assert_allclose(outcomes[f"delta_{effect}"], by_seed.mean(axis=1))
    today = (experiments["policy"] == "today").to_numpy()
    assert (outcomes["delta_wellbeing_years_by_seed"][today] == 0).all(), \
        "the status quo against itself: no effect"
    more = np.flatnonzero(~today)[0]
    assert (outcomes["delta_spend_gbp_by_seed"][more] > 0).all(), "extra money is spent"

    uptake = float(experiments.iloc[more]["uptake_rate"])
    for k, seed in enumerate((4, 5)):
        ours = Model("bradford", "status_quo", seed, uptake_rate=uptake, budget_uplift=0.5,
                     **TINY).run(1).summary().iloc[0]
        theirs = Model("bradford", "status_quo", seed, uptake_rate=uptake,
                       budget_uplift=status_quo_levers()["budget_uplift"],
                       **TINY).run(1).summary().iloc[0]
        for effect in ("wellbeing_years", "gap_q5_q1"):
            assert outcomes[f"delta_{effect}_by_seed"][more, k] == pytest.approx(
                ours[effect] - theirs[effect]), (effect, seed)
