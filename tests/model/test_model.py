"""The model as a whole: running, results, Mesa integration and input checking."""

import numpy as np
import pytest

from abm import Model
from abm.files.errors import InputError
from abm.model.metrics import WEEKLY_METRICS
from abm.model.parameters import BY_NAME
from abm.model.providers import Provider
from abm.model.residents import Resident
from tests.conftest import SMALL


@pytest.fixture(scope="module")
def ran():
    return Model("devon_ics", "scale+embed", seed=4, parameters=SMALL).run(years=2)


def test_run_chains_to_a_one_row_summary(ran):
    summary = ran.summary()
    assert len(summary) == 1
    row = summary.iloc[0]
    assert (row.place, row.rules, row.seed, row.years) == ("devon_ics", "scale+embed", 4, 2.0)
    assert 0 < row.mean_wellbeing < 10
    assert row.wellbeing_q1 < row.wellbeing_q5, "the deprived fare worse"
    assert row.wellbeing_years == pytest.approx(
        sum(row[f"wellbeing_years_q{q}"] for q in range(1, 6)))
    assert row.spend_gbp == pytest.approx(sum(row[f"spend_gbp_q{q}"] for q in range(1, 6)))


def test_outcome_names_do_not_clash_with_parameter_names(ran):
    assert not set(ran.summary().columns) & set(BY_NAME)


def test_weekly_series_covers_burn_in_and_policy(ran):
    ts = ran.timeseries()
    assert list(ts.columns) == list(WEEKLY_METRICS)
    assert len(ts) == ran.burn_in_weeks + 2 * 52
    assert ts.year.iloc[-1] == pytest.approx(2.0)
    assert (ts.year <= 0).sum() == ran.burn_in_weeks
    assert ts.spend_gbp[ts.year <= 0].eq(0).all(), "spend is counted from the policy start"
    assert ts.spend_gbp.is_monotonic_increasing


def test_spend_matches_the_budget_scaled_to_the_place(ran):
    """The commissioner spends its budget (money not spent one year is spent the next)."""
    row = ran.summary().iloc[0]
    per_head_per_year = row.spend_gbp / row.population / row.years
    assert per_head_per_year <= ran.params.budget_gbp_per_head * 1.001
    assert per_head_per_year > 0.9 * ran.params.budget_gbp_per_head


def test_discounted_totals_are_discounted_by_policy_year(ran):
    row, p = ran.summary().iloc[0], ran.params
    years = ran.accounts.years
    assert len(years) == 2
    first, second = (y["wellbeing"].sum() for y in years)
    people = row.population / ran.resident_state.n
    assert row.wellbeing_years_disc == pytest.approx(
        (first + second / (1 + p.discount_rate_health)) * people)
    assert row.wellbeing_years_disc < row.wellbeing_years
    assert row.spend_gbp_disc < row.spend_gbp


def test_agents_are_mesa_agents_viewing_the_arrays(ran):
    residents = ran.residents
    assert len(residents) == ran.resident_state.n
    first = residents[0]
    assert isinstance(first, Resident) and first.wellbeing == ran.resident_state.wellbeing[0]
    first.wellbeing = 5.0
    assert ran.resident_state.wellbeing[0] == 5.0, "agents are views, not copies"
    assert all(isinstance(p, Provider) for p in ran.providers)
    assert len(ran.providers) == len(ran.provider_state)
    assert ran.commissioner not in ran.agents, "the commissioner is an institution, not in space"
    mean = residents.agg("wellbeing", np.mean)
    assert mean == pytest.approx(ran.resident_state.wellbeing.mean())


def test_run_continues_where_it_stopped():
    a = Model("bradford", seed=1, parameters=SMALL).run(years=1).run(years=1)
    b = Model("bradford", seed=1, parameters=SMALL).run(years=2)
    assert a.timeseries().equals(b.timeseries())
    assert a.summary().equals(b.summary())


def test_summary_needs_a_run():
    with pytest.raises(RuntimeError, match="run the model first"):
        Model("bradford", parameters=SMALL).summary()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"place": "atlantis"}, "unknown place 'atlantis'"),
        ({"rules": "scael"}, "unknown rule 'scael'"),
        ({"parameters": {"uptake_rate": 7}}, "'uptake_rate' = 7 is out of range"),
        ({"engine": "turbo"}, "unknown engine 'turbo'"),
    ],
)
def test_bad_arguments_raise_input_errors(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        Model(**{"place": "bradford", "parameters": SMALL, **kwargs})


def test_summary_totals_are_totals(ran):
    row = ran.summary().iloc[0]
    assert row.closures == pytest.approx(row.closures_per_year * row.years)
    assert row.closures == pytest.approx(ran.timeseries().closures.iloc[-1])


@pytest.mark.parametrize("years", [0, -1, 101, "5", True, 0.001])
def test_bad_years_are_rejected(years):
    with pytest.raises(InputError, match="years"):
        Model("bradford", parameters=SMALL).run(years=years)


def test_parameters_can_be_given_as_keywords_and_as_numpy_numbers():
    model = Model("bradford", seed=0, uptake_rate=np.float64(0.02), grant_years=np.int64(2),
                  **SMALL)
    assert model.params.uptake_rate == 0.02 and model.params.grant_years == 2
    assert type(model.params.grant_years) is int
    assert Model("bradford", seed=0, grant_years=2.0, **SMALL).params.grant_years == 2


def test_mesa_conventions_rng_seed_and_running():
    """Mesa's tools build models with rng= (or seed=, or neither) and step until running
    turns False."""
    by_rng = Model("bradford", rng=7, parameters={**SMALL, "policy_years": 1.0})
    by_seed = Model("bradford", seed=7, parameters={**SMALL, "policy_years": 1.0})
    assert by_rng.seed == by_seed.seed == 7
    steps = 0
    while by_rng.running:
        by_rng.step()
        steps += 1
    assert steps == by_rng.burn_in_weeks + 52
    assert by_rng.summary().equals(by_seed.run().summary())
    fresh = Model("bradford", parameters=SMALL)
    assert isinstance(fresh.seed, int) and fresh.seed != Model("bradford", parameters=SMALL).seed
    assert Model("bradford", rng=np.random.default_rng(3), parameters=SMALL).seed == Model(
        "bradford", rng=np.random.default_rng(3), parameters=SMALL).seed
    with pytest.raises(InputError, match="not both"):
        Model("bradford", seed=1, rng=1, parameters=SMALL)


def test_mesa_scenario_carries_place_rules_and_parameters():
    from mesa.experimental.scenarios import Scenario

    scenario = Scenario(rng=4, place="london", rules="embed", uptake_rate=0.02, **SMALL)
    model = Model(scenario=scenario)
    assert (model.place.name, model.rules, model.seed) == ("london", ("embed",), 4)
    assert model.params.uptake_rate == 0.02 and model.scenario is scenario


def test_mesa_batch_run_stops_by_itself(tmp_path):
    """mesa.batch_run with the default max_steps: the run ends when the model says so. Run
    in a fresh interpreter: batch_run sets multiprocessing's start method process-wide."""
    import subprocess
    import sys

    code = (
        "import mesa\n"
        "from abm import Model\n"
        "rows = mesa.batch_run(Model, {'place': 'bradford', 'n_neighbourhoods': 10,\n"
        "    'residents_per_neighbourhood': 10, 'burn_in_years': 1, 'policy_years': 1.0,\n"
        "    'budget_gbp_per_head': [2.0, 4.0]}, rng=[1, 2], display_progress=False)\n"
        "assert len(rows) == 4, rows\n"
        "assert {r['Step'] for r in rows} == {104}, {r['Step'] for r in rows}\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]


def test_the_status_quo_is_nearly_level_after_the_burn_in():
    """The burn-in lets engagement and provider finances settle. Some drift remains; it
    cancels in same-seed comparisons, but it must be small against the effects studied.
    Tolerance: mean wellbeing moves under 0.05 points and open providers under 3% a year
    over five policy years (about 0.02 points and 1% at the defaults)."""
    model = Model("devon_ics", "status_quo", 0, {"n_neighbourhoods": 150,
                                                  "residents_per_neighbourhood": 60})
    ts = model.run(years=5).timeseries()
    first, last = ts[(ts.year > 0) & (ts.year <= 1)], ts[ts.year > 4]
    assert abs(last.mean_wellbeing.mean() - first.mean_wellbeing.mean()) < 0.05
    yearly = (last.n_open_providers.mean() / first.n_open_providers.mean()) ** (1 / 4) - 1
    assert abs(yearly) < 0.03, f"open providers change {yearly:+.1%} a year"


def test_extra_money_starts_with_the_policy():
    base = Model("bradford", "status_quo", 2, SMALL)
    more = Model("bradford", "status_quo", 2, {**SMALL, "budget_uplift": 0.25})
    for _ in range(base.burn_in_weeks):
        base.step()
        more.step()
    assert np.array_equal(base.resident_state.wellbeing, more.resident_state.wellbeing)
    base.run(years=1)
    more.run(years=1)
    assert more.summary().spend_gbp.iloc[0] > base.summary().spend_gbp.iloc[0]


def test_free_founding_with_nothing_to_ask_does_not_break_scale():
    model = Model("bradford", "scale", 1, {**SMALL, "founding_cost_gbp": 0.0,
                                           "other_funding_share": 1.0})
    before = len(model.provider_state)
    model.run(years=1)
    assert len(model.provider_state) - before <= len(model.hoods), "one per neighbourhood"
