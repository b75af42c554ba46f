"""Provider finances, closure and re-founding."""

import numpy as np

from abm import Model
from abm.providers import KINDS, WEEKS_PER_YEAR
from tests.conftest import SMALL


def make():
    return Model("bradford", seed=2, parameters=SMALL)


def test_initial_providers_are_rarer_where_deprived():
    model = Model("west_yorkshire", seed=0, parameters={**SMALL, "n_neighbourhoods": 600})
    ps = model.provider_state
    per_hood = np.bincount(ps.neighbourhood, minlength=len(model.hoods))
    q = model.hoods.quintile
    assert per_hood[q == 0].mean() < 0.8 * per_hood[q == 4].mean()


def test_reserves_follow_income_and_costs():
    model = make()
    ps = model.provider_state
    ps.grant[:] = 0.0
    before = ps.reserves.copy()
    ps.pay_week()
    expected = before + (ps.earned_income - ps.running_cost) / WEEKS_PER_YEAR
    assert np.allclose(ps.reserves[ps.open], expected[ps.open])


def test_provider_closes_when_money_runs_out_and_is_refounded_later():
    model = make()
    ps = model.provider_state
    ps.reserves[0] = -1.0
    assert 0 in ps.pay_week()
    model.close_providers(np.array([0]))
    assert not ps.open[0] and ps.closures[0] == 1 and ps.grant[0] == 0
    reopen = ps.reopen_week[0]
    assert reopen > model.week
    assert 0 not in ps.due_to_reopen(reopen - 1)
    assert 0 in ps.due_to_reopen(reopen)


def test_refounding_delay_has_the_declared_mean():
    model = Model("bradford", seed=4, parameters={**SMALL, "n_neighbourhoods": 400})
    ps = model.provider_state
    slots = np.flatnonzero(ps.open)
    model.close_providers(slots)
    delays = (ps.reopen_week[slots] - model.week) / WEEKS_PER_YEAR
    mean = model.params.refounding_delay_years
    assert abs(delays.mean() - mean) < 4 * mean / np.sqrt(len(slots))


def test_founding_gives_fresh_reserves_and_no_grant():
    model = make()
    ps = model.provider_state
    p = model.params
    new = model.add_providers(np.array([0, 1], dtype=np.int32), week=10)
    assert np.all(ps.open[new]) and np.all(ps.grant[new] == 0)
    assert np.allclose(ps.reserves[new], p.reserves_months / 12 * p.provider_running_cost_gbp)
    assert np.all(ps.kind[new] < len(KINDS))
    assert len(model.providers) == len(ps), "every slot is a Mesa agent"


def test_places_are_rounded_at_random_with_the_exact_mean():
    """Whole places per provider, rounded up or down at random: the mean is exact at any run
    size, and a provider never has more places without a grant than with one."""
    model = Model("devon_ics", seed=0, parameters={**SMALL, "n_neighbourhoods": 2000})
    ps, p = model.provider_state, model.params
    exact = ps.places  # provider_capacity x residents_per_neighbourhood / people per LSOA
    n = len(ps)
    assert abs(ps.capacity.mean() - exact) < 4 * 0.5 / np.sqrt(n)  # 4 standard errors
    unfunded = exact * p.unfunded_capacity_share
    assert abs(ps.unfunded_capacity.mean() - unfunded) < 4 * 0.5 / np.sqrt(n)
    assert np.all(ps.unfunded_capacity <= ps.capacity)
    assert set(np.unique(ps.capacity)) <= {np.floor(exact), np.ceil(exact)}


def test_losing_a_grant_cuts_places_and_displaces_attenders():
    model = Model("bradford", seed=1, parameters={**SMALL, "residents_per_neighbourhood": 100})
    model.run(years=1)
    ps, rs = model.provider_state, model.resident_state
    funded = np.flatnonzero(ps.open & (ps.grant > 0) & (ps.unfunded_capacity < ps.capacity))
    full = funded[ps.attendees(rs.provider)[funded] > ps.unfunded_capacity[funded]]
    assert len(full) > 0, "the test needs a funded provider with more attenders than it keeps"
    ps.grant[full] = 0.0
    before = model.displaced
    model.cut_places()
    attendees = ps.attendees(rs.provider)
    assert np.all(attendees[full] == ps.unfunded_capacity[full])
    assert model.displaced > before


def test_no_providers_is_a_valid_place_to_model():
    for engine in ("fast", "agents"):
        model = Model("bradford", seed=0, parameters={**SMALL, "providers_per_neighbourhood": 0},
                      engine=engine)
        model.run(years=1)
        assert len(model.providers) >= 0
        assert model.summary().p_attending.iloc[0] == 0


def test_earned_income_is_lower_where_deprived():
    ps = make().provider_state
    income = ps.earned_income_at(np.array([0.0, 1.0]))
    assert income[1] < income[0]
    assert np.all(ps.grant_at(np.array([0.0, 1.0])) > 0)
