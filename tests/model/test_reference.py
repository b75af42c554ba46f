"""Both array engines agree with the per-agent reference, number for number.

The reference applies the weekly rules one Mesa agent at a time in plain Python
(``Resident.decide`` / ``start`` / ``update_wellbeing`` / ``lose_place`` / ``lose_trust``,
``Provider.pay_week`` / ``plan``); the array engines apply them to arrays, the default
(``fast``) with compiled loops for the resident rules, ``numpy`` with whole-array numpy
operations. All read the same random draws, so they must produce the same state.
Tolerance: exact equality; floating-point operations are done in the same order.
"""

import numpy as np
import pytest

from abm import Model

TINY = {"n_neighbourhoods": 25, "residents_per_neighbourhood": 30, "burn_in_years": 1}
RESIDENT_FIELDS = ("need", "awareness", "wellbeing", "benefit", "state", "provider",
                   "state_until", "followed_up", "came_by_referral", "last_attended",
                   "belonging", "need_untouched", "green_benefit", "friends", "tie_strength",
                   "pull", "start_week", "cd_level")
PROVIDER_FIELDS = ("open", "run_share", "places", "reserves", "grant", "referral_grant",
                   "grant_end", "closures", "reopen_week", "kind", "full_places", "place_cost",
                   "resident_led")


@pytest.fixture(scope="module")
def reference():
    """The per-agent run of a case, made once for both array engines (it is the slow one)."""
    runs = {}

    def run(place, rules, seed, params):
        key = (place, rules, seed, tuple(sorted(params.items())))
        if key not in runs:
            runs[key] = Model(place, rules, seed, params, engine="agents").run(years=1)
        return runs[key]

    return run


def assert_same(fast, agents):
    for name in RESIDENT_FIELDS:
        assert np.array_equal(getattr(fast.resident_state, name),
                              getattr(agents.resident_state, name)), f"residents' {name}"
    for name in PROVIDER_FIELDS:
        assert np.array_equal(getattr(fast.provider_state, name),
                              getattr(agents.provider_state, name)), f"providers' {name}"
    assert fast.timeseries().equals(agents.timeseries())
    assert fast.summary().equals(agents.summary())


ARRAY_ENGINES = pytest.mark.parametrize("engine", ["fast", "numpy"])


@ARRAY_ENGINES
@pytest.mark.parametrize(
    ("place", "rules", "seed"),
    [
        ("bradford", "status_quo", 1),
        ("devon_ics", "scale+embed+sustain", 2),
        ("west_yorkshire", "embed+proportionate_universalism", 3),
        ("london", "develop+scale+sustain", 4),
    ],
)
def test_array_engines_agree_with_per_agent_reference(place, rules, seed, engine, reference):
    fast = Model(place, rules, seed, TINY, engine=engine).run(years=1)
    agents = reference(place, rules, seed, TINY)
    assert fast.engine.name == engine and agents.engine.name == "agents"
    assert fast.accounts.referrals > 0, "referral must be exercised"
    assert fast.accounts.displaced_attenders + fast.accounts.closures > 0 or rules == (
        "status_quo"), "forced stops must be exercised"
    rs = fast.resident_state
    assert (rs.friends >= 0).sum() > 10 and rs.belonging.max() > 0.5, "ties and belonging"
    assert (rs.need < rs.need_untouched).any(), "belonging must protect someone"
    if "develop" in rules:
        assert fast.accounts.groups_seeded > 0 and rs.cd_level.max() > 0, "develop exercised"
        assert fast.provider_state.resident_led.any()
    assert_same(fast, agents)


@ARRAY_ENGINES
def test_reference_agrees_when_many_providers_close(engine, reference):
    """Tight money closes providers, so the per-agent closure rules (lose_place, lose_trust,
    re-founding from the pool) are exercised."""
    tight = {**TINY, "other_funding_share": 0.2, "budget_gbp_per_head": 1.0,
             "other_closure_rate": 0.1}
    fast = Model("bradford", "status_quo", 5, tight, engine=engine).run(years=1)
    agents = reference("bradford", "status_quo", 5, tight)
    assert fast.accounts.closures >= 5, "the scenario must actually close providers"
    assert fast.accounts.closure_attenders > 0
    assert_same(fast, agents)
