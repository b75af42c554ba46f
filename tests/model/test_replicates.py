"""Replicates run together give, bit for bit, what each gives alone.

A model with a list of seeds (and, if asked, one parameter set per seed) runs its replicates
as one set of arrays (abm/model/replicas.py). Every operation must keep each replicate's
entries apart and in their own order, so each replicate's summary, weekly series and final
state equal those of a run with its seed and parameters alone: exact equality, no
tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abm import Model
from abm.files.errors import InputError
from abm.model.residents import ResidentState

TINY = {"n_neighbourhoods": 25, "residents_per_neighbourhood": 30, "burn_in_years": 1}
#: Parameter sets that differ in parameters read by every kind of rule: residents',
#: neighbourhoods', providers' and the commissioner's.
VARIED = [
    {**TINY, "uptake_rate": 0.05, "forced_stop_need_shock": 0.3, "group_tie_rate": 0.1,
     "fee_barrier": 0.2, "closure_trust_loss": 0.4, "other_closure_rate": 0.05,
     "reserve_floor_months": 2.0, "cd_years_to_effect": 2.0, "referral_weeks": 10,
     "budget_gbp_per_head": 9.0},
    {**TINY},
    {**TINY, "uptake_rate": 0.03, "dropout_memory_weeks": 30, "refounding_delay_years": 0.5,
     "group_tie_decay_rate": 0.03, "min_places_share": 0.3, "grant_reserve_margin": 0.1,
     "cd_capacity_gain": 0.2, "develop_budget_share": 0.25},
]


@pytest.fixture(params=["fast", "numpy"], autouse=True)
def engine(request, monkeypatch):
    """Every test here on both array engines: compiled (the default) and numpy."""
    monkeypatch.setenv("ABM_ENGINE", request.param)
    return request.param


def alone(place, rules, seed, params, years):
    return Model(place, rules, seed, params).run(years=years)


def assert_replicate_is_its_run(together: Model, r: int, single: Model) -> None:
    rows = together.summary()
    row, expected = rows.iloc[[r]].reset_index(drop=True), single.summary()
    pd.testing.assert_frame_equal(row, expected, check_exact=True)
    series = together.timeseries()
    mine = series[series.replicate == r].drop(columns="replicate").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, single.timeseries().reset_index(drop=True),
                                  check_exact=True)  # same dtypes: parts merge
    n = single.resident_state.n
    for name in ("need", "wellbeing", "belonging", "awareness", "state", "tie_strength"):
        mine_state = getattr(together.resident_state, name)[r * n:(r + 1) * n]
        assert np.array_equal(mine_state, getattr(single.resident_state, name)), name
    ps, capacity = together.provider_state, together.provider_state.capacity
    count = len(single.provider_state)
    for name in ("open", "reserves", "grant", "places", "kind"):
        mine_slots = getattr(ps, name)[r * capacity:r * capacity + count]
        assert np.array_equal(mine_slots, getattr(single.provider_state, name)), name


@pytest.mark.parametrize(("place", "rules"), [
    ("bradford", "status_quo"),
    ("devon_ics", "develop+scale+embed+sustain"),
])
def test_replicates_of_seeds_equal_their_runs_alone(place, rules, engine):
    seeds = [11, 12, 13]
    together = Model(place, rules, seeds, TINY).run(years=1.5)
    assert together.engine.name == engine
    assert len(together.summary()) == 3
    for r, seed in enumerate(seeds):
        assert_replicate_is_its_run(together, r, alone(place, rules, seed, TINY, 1.5))


def test_replicates_with_their_own_parameters_equal_their_runs_alone():
    """Posterior draws x seeds: every replicate its own parameter values."""
    seeds = [5, 6, 7]
    together = Model("west_yorkshire", "develop+scale+sustain", seeds, VARIED).run(years=1.5)
    assert together.provider_state.capacity > together.provider_state.count.min(), (
        "replicates must found different numbers of groups for the test to bite")
    for r, (seed, params) in enumerate(zip(seeds, VARIED, strict=True)):
        assert_replicate_is_its_run(together, r,
                                    alone("west_yorkshire", "develop+scale+sustain", seed,
                                          params, 1.5))


def test_the_order_and_number_of_replicates_do_not_matter():
    a = Model("london", "scale", [3, 1, 2], TINY).run(years=1).summary().set_index("seed")
    b = Model("london", "scale", [2, 3], TINY).run(years=1).summary().set_index("seed")
    pd.testing.assert_frame_equal(a.loc[[2, 3]], b.loc[[2, 3]], check_exact=True)


def test_replicates_share_the_run_size_and_one_parameter_set_each():
    with pytest.raises(InputError, match="must share 'n_neighbourhoods'"):
        Model("bradford", "status_quo", [1, 2], [TINY, {**TINY, "n_neighbourhoods": 30}])
    with pytest.raises(InputError, match="2 parameter sets for 3 seeds"):
        Model("bradford", "status_quo", [1, 2, 3], [TINY, TINY])
    with pytest.raises(InputError, match="array engines only"):
        Model("bradford", "status_quo", [1, 2], TINY, engine="agents")


def test_concatenated_residents_number_neighbourhoods_and_ties_across_replicates():
    model = Model("bradford", "status_quo", [1, 2], TINY)
    rs, hoods_each = model.resident_state, TINY["n_neighbourhoods"]
    assert isinstance(rs, ResidentState) and rs.n == 2 * hoods_each * 30
    assert rs.neighbourhood[rs.n // 2] == hoods_each, "the second replicate's first resident"
    i, j = rs.ties.nonzero()
    assert np.array_equal(i < rs.n // 2, j < rs.n // 2), "no tie crosses replicates"


def test_recording_only_the_final_year_gives_the_same_summary():
    """A summary reads only the final policy year's metrics, so recording only those (as
    sweeps without weekly series do) changes nothing."""
    everything = Model("bradford", "sustain", 4, TINY).run(years=2)
    final = Model("bradford", "sustain", 4, TINY, record="final year").run(years=2)
    pd.testing.assert_frame_equal(final.summary(), everything.summary(), check_exact=True)
    assert len(final.timeseries()) == 52 < len(everything.timeseries())
    with pytest.raises(InputError, match="record = 'monthly'"):
        Model("bradford", record="monthly")


def test_weeks_left_out_of_the_series_change_nothing_else():
    """``record_from`` only skips the first weeks' metrics: the rest of the series and the
    summary are those of a run that recorded every week, for one run and for replicates."""
    for seed in (4, [4, 5]):
        everything = Model("bradford", "sustain", seed, TINY).run(years=1)
        later = Model("bradford", "sustain", seed, TINY, record_from=40).run(years=1)
        pd.testing.assert_frame_equal(later.summary(), everything.summary(), check_exact=True)
        full, part = everything.timeseries(), later.timeseries()
        kept = full[full.week > 40].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.reset_index(drop=True), kept, check_exact=True)
        assert part.week.min() == 41
    # weeks of the final policy year left out: the summary would be of part of the year
    short = Model("bradford", "sustain", 4, TINY, record_from=60).run(years=1)
    with pytest.raises(RuntimeError, match="record_from = 60 left weeks 53-60 out"):
        short.summary()
    with pytest.raises(InputError, match="record_from = -1"):
        Model("bradford", record_from=-1)


def test_runs_executed_together_equal_runs_executed_alone():
    """The runner's unit: specs that can share a model run as its replicates, each row and
    weekly series exactly its run's alone, in the order given."""
    from abm.model.runs import RunSpec, execute, execute_together

    specs = [RunSpec.make("s", "bradford", rules, {**TINY, "uptake_rate": u}, seed, 1.0)
             for rules in ("scale", "develop+sustain") for seed in (1, 2)
             for u in (0.03, 0.05)]
    together = execute_together(specs, weekly=True)
    for spec, (row, series) in zip(specs, together, strict=True):
        alone_row, alone_series = execute(spec, weekly=True)
        assert row.keys() == alone_row.keys()
        assert all(row[k] == alone_row[k] or (row[k] != row[k] and alone_row[k] != alone_row[k])
                   for k in row), spec
        pd.testing.assert_frame_equal(series, alone_series, check_exact=True)
