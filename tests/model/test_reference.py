"""The fast (vectorised) engine agrees with the per-agent reference, number for number.

The reference applies the weekly rules one Mesa agent at a time in plain Python
(``Resident.decide`` / ``start`` / ``update_wellbeing`` / ``lose_place`` / ``lose_trust``,
``Provider.pay_week`` / ``plan``); the fast engine applies them to arrays. Both read the same
random draws, so they must produce the same state. Tolerance: exact equality; floating-point
operations are done in the same order.
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


def assert_same(fast, agents):
    for name in RESIDENT_FIELDS:
        assert np.array_equal(getattr(fast.resident_state, name),
                              getattr(agents.resident_state, name)), f"residents' {name}"
    for name in PROVIDER_FIELDS:
        assert np.array_equal(getattr(fast.provider_state, name),
                              getattr(agents.provider_state, name)), f"providers' {name}"
    assert fast.timeseries().equals(agents.timeseries())
    assert fast.summary().equals(agents.summary())


@pytest.mark.parametrize(
    ("place", "rules", "seed"),
    [
        ("bradford", "status_quo", 1),
        ("devon_ics", "scale+embed+sustain", 2),
        ("west_yorkshire", "embed+proportionate_universalism", 3),
        ("london", "develop+scale+sustain", 4),
    ],
)
def test_fast_engine_agrees_with_per_agent_reference(place, rules, seed):
    fast = Model(place, rules, seed, TINY, engine="fast").run(years=1)
    agents = Model(place, rules, seed, TINY, engine="agents").run(years=1)
    assert fast.engine.name == "fast" and agents.engine.name == "agents"
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


def test_reference_agrees_when_many_providers_close():
    """Tight money closes providers, so the per-agent closure rules (lose_place, lose_trust,
    re-founding from the pool) are exercised."""
    tight = {**TINY, "other_funding_share": 0.2, "budget_gbp_per_head": 1.0,
             "other_closure_rate": 0.1}
    fast = Model("bradford", "status_quo", 5, tight, engine="fast").run(years=1)
    agents = Model("bradford", "status_quo", 5, tight, engine="agents").run(years=1)
    assert fast.accounts.closures >= 5, "the scenario must actually close providers"
    assert fast.accounts.closure_attenders > 0
    assert_same(fast, agents)
