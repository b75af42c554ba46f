"""Commissioning rules: what each changes, and the funding round that carries them out."""

import numpy as np
import pytest

from abm import Model
from abm.commissioning import RULES, make_plan, parse_rules
from abm.errors import InputError
from abm.parameters import Params
from tests.conftest import SMALL

BIG = {**SMALL, "n_neighbourhoods": 300}


def test_parse_rules_accepts_plus_and_lists_in_canonical_order():
    assert parse_rules("sustain+scale") == ("scale", "sustain")
    assert parse_rules(["embed", "status_quo"]) == ("embed",)
    assert parse_rules("status_quo") == ("status_quo",)
    with pytest.raises(InputError, match="unknown rule 'scael': did you mean 'scale'"):
        parse_rules("scael")


def test_rules_combine_by_each_changing_its_own_part():
    params = Params()
    plan = make_plan(parse_rules("scale+embed+sustain+proportionate_universalism"), params)
    assert plan.scale_share == params.scale_budget_share
    assert plan.embed_share == params.embed_budget_share
    assert plan.follow_up_share == params.embed_follow_up_share
    assert plan.grant_years == params.core_grant_years and plan.renew_incumbents
    assert plan.targeting == "need"
    status_quo = make_plan(("status_quo",), params)
    assert (status_quo.targeting, status_quo.grant_years) == ("bids", params.grant_years)
    assert status_quo.embed_share == status_quo.scale_share == 0
    assert set(RULES) == {"status_quo", "proportionate_universalism", "scale", "embed", "sustain"}


def test_rules_may_not_spend_more_than_the_budget():
    params = Params({"embed_budget_share": 0.6, "scale_budget_share": 0.5})
    with pytest.raises(InputError, match=r"rules scale\+embed: .* exceed 1"):
        make_plan(parse_rules("scale+embed"), params)
    assert make_plan(("embed",), params).embed_share == 0.6, "one rule alone is within budget"
    with pytest.raises(InputError, match="exceed 1"):
        Model("bradford", "scale+embed", parameters={**SMALL, **params.overridden()})


def funded_deprivation(rules, seed=0):
    model = Model("west_yorkshire", rules, seed=seed, parameters={**BIG, "burn_in_years": 0})
    model.step()  # week 0: the first funding round
    ps = model.provider_state
    funded = ps.open & (ps.grant > 0)
    return model, model.hoods.deprivation[ps.neighbourhood[funded]].mean()


def test_status_quo_favours_good_bid_writers():
    model, _ = funded_deprivation("status_quo")
    ps = model.provider_state
    funded = ps.open & (ps.grant > 0)
    assert ps.bid_capacity[funded].mean() > ps.bid_capacity[ps.open & ~funded].mean() + 0.1


def test_proportionate_universalism_funds_more_deprived_providers():
    gaps = [funded_deprivation("proportionate_universalism", s)[1]
            - funded_deprivation("status_quo", s)[1] for s in range(3)]
    assert min(gaps) > 0.05, f"grants should move towards deprived areas: {gaps}"


def test_grants_never_exceed_the_budget():
    for rules in ("status_quo", "scale+embed+sustain"):
        model = Model("bradford", rules, seed=1, parameters={**BIG, "burn_in_years": 0})
        for _ in range(3 * 52):
            model.step()
            committed = model.provider_state.grant[model.provider_state.open].sum()
            assert committed <= model.commissioner.budget_per_year * (1 + 1e-9)


def test_sustain_renews_incumbents_without_a_new_bid():
    model = Model("bradford", "sustain", seed=2, parameters={**BIG, "burn_in_years": 0})
    model.step()
    ps = model.provider_state
    holders = np.flatnonzero(ps.open & (ps.grant > 0))
    assert np.all(ps.grant_end[holders] == 3 * 52), "core grants run three years"
    while model.week < 3 * 52:
        model.step()
    still_open = holders[ps.open[holders]]
    reserves = ps.reserves[still_open].copy()
    model.step()  # the round at week 156: incumbents renewed first, with no bid cost
    assert np.all(ps.grant[still_open] > 0)
    weekly = (ps.grant + ps.earned_income - ps.running_cost)[still_open] / 52
    assert np.allclose(ps.reserves[still_open], reserves + weekly)


def test_embed_places_link_workers_by_need():
    model = Model("west_yorkshire", "embed", seed=0, parameters={**BIG, "burn_in_years": 0})
    model.step()
    lw, dep = model.commissioner.ics_link_workers, model.hoods.deprivation
    p = model.params
    assert lw.sum() == pytest.approx(
        p.embed_budget_share * model.commissioner.budget_per_year / p.link_worker_cost_gbp)
    assert np.corrcoef(lw, dep)[0, 1] > 0.99


def test_scale_founds_providers_within_its_share_of_the_budget():
    model = Model("bradford", "scale", seed=0, parameters={**BIG, "burn_in_years": 0})
    before = len(model.provider_state)
    model.step()
    ps, p = model.provider_state, model.params
    new = np.arange(before, len(ps))
    assert len(new) > 0
    cost = len(new) * p.founding_cost_gbp + ps.grant[new].sum()
    assert cost <= p.scale_budget_share * model.commissioner.budget_per_year
