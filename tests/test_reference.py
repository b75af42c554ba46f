"""The fast (vectorised) model agrees with the per-agent reference, number for number.

The reference applies the weekly rules one Mesa agent at a time in plain Python
(``Resident.decide`` / ``update_wellbeing`` / ``lose_provider``, ``Provider.step``); the fast
model applies them to arrays. Both read the same random draws, so they must produce the same
state. Tolerance: exact equality; floating-point operations are done in the same order.
"""

import numpy as np
import pytest

from abm import Model

TINY = {"n_neighbourhoods": 25, "residents_per_neighbourhood": 30, "burn_in_years": 1}
RESIDENT_FIELDS = ("need", "awareness", "wellbeing", "benefit", "state", "provider",
                   "state_until", "followed_up")
PROVIDER_FIELDS = ("open", "reserves", "grant", "grant_end", "closures", "reopen_week")


@pytest.mark.parametrize(
    ("place", "rules", "seed"),
    [
        ("bradford", "status_quo", 1),
        ("devon_ics", "scale+embed+sustain", 2),
        ("west_yorkshire", "embed+proportionate_universalism", 3),
    ],
)
def test_fast_model_agrees_with_per_agent_reference(place, rules, seed):
    fast = Model(place, rules, seed, TINY, engine="fast").run(years=1)
    agents = Model(place, rules, seed, TINY, engine="agents").run(years=1)
    assert fast.closures > 0 or agents.closures > 0 or rules == "status_quo"
    for name in RESIDENT_FIELDS:
        assert np.array_equal(getattr(fast.resident_state, name),
                              getattr(agents.resident_state, name)), f"residents' {name}"
    for name in PROVIDER_FIELDS:
        assert np.array_equal(getattr(fast.provider_state, name),
                              getattr(agents.provider_state, name)), f"providers' {name}"
    assert fast.timeseries().equals(agents.timeseries())
    assert fast.summary().equals(agents.summary())


def test_reference_agrees_when_many_providers_close():
    """Force closures so the per-agent closure rules (lose_provider, lose_trust) are exercised."""
    tight = {**TINY, "earned_income_share": 0.3, "budget_gbp_per_head": 1.0}
    fast = Model("bradford", "status_quo", 5, tight, engine="fast").run(years=1)
    agents = Model("bradford", "status_quo", 5, tight, engine="agents").run(years=1)
    assert fast.closures >= 5, "the scenario must actually close providers"
    for name in RESIDENT_FIELDS:
        assert np.array_equal(getattr(fast.resident_state, name),
                              getattr(agents.resident_state, name)), name
