"""Commissioning rules: what each changes, and the funding round that carries them out."""

import numpy as np
import pytest

from abm import Model
from abm.files.errors import InputError
from abm.model.commissioning import RULES, greedy, make_plan, parse_rules
from abm.model.parameters import Params
from abm.model.providers import WEEKS_PER_YEAR
from tests.conftest import SMALL

BIG = {**SMALL, "n_neighbourhoods": 300}
SAME_MONEY = ("status_quo", "proportionate_universalism", "scale", "embed", "sustain",
              "develop", "scale+embed+sustain", "develop+scale+embed+sustain")


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
    assert plan.follow_up_share == params.embed_follow_up_share and plan.referral_priority
    assert plan.grant_years == params.core_grant_years and plan.renew_incumbents
    assert plan.targeting == "need"
    status_quo = make_plan(("status_quo",), params)
    assert (status_quo.targeting, status_quo.grant_years) == ("bids", params.grant_years)
    assert status_quo.embed_share == status_quo.scale_share == 0
    assert not status_quo.referral_priority
    assert set(RULES) == {"status_quo", "proportionate_universalism", "scale", "embed", "sustain",
                          "develop"}


def test_rules_may_not_spend_more_than_the_budget():
    params = Params({"embed_budget_share": 0.5, "scale_budget_share": 0.3})
    assert make_plan(("embed",), params).embed_share == 0.5, "one rule alone is within budget"
    with pytest.raises(InputError, match="exceed 1"):
        Model("bradford", "scale+embed",
              parameters={**SMALL, "embed_budget_share": 0.6, "scale_budget_share": 0.5})


def test_greedy_skips_an_ask_that_does_not_fit_and_funds_later_ones():
    assert greedy(np.array([5.0, 8.0, 3.0, 2.0]), 10.0).tolist() == [0, 2, 3]
    assert greedy(np.array([]), 10.0).tolist() == []


def first_round(rules, seed=0, **changes):
    model = Model("west_yorkshire", rules, seed=seed,
                  parameters={**BIG, "burn_in_years": 0, **changes})
    model.step()  # week 0: the first funding round
    return model


def funded_deprivation(rules, seed=0, **changes):
    model = first_round(rules, seed, **changes)
    ps = model.provider_state
    funded = ps.open & (ps.grant > 0)
    return ps.deprivation()[funded].mean()


def test_status_quo_favours_good_bid_writers():
    ps = first_round("status_quo").provider_state
    funded = ps.open & (ps.grant > 0)
    assert ps.bid_capacity[funded].mean() > ps.bid_capacity[ps.open & ~funded].mean() + 0.1


def test_proportionate_universalism_moves_money_to_deprived_areas():
    # The mechanism, against a status quo that scores bids without regard to need
    # (grant_need_priority 0). At the calibrated priority (cal-ee53ea7ef3: 0.53) the status
    # quo's first round already funds providers about as deprived on average as PU's
    # (differences -0.016 to +0.002 over these seeds): a result of the calibration against
    # grant money per head by deprivation, not a property of PU.
    gaps = [funded_deprivation("proportionate_universalism", s, grant_need_priority=0.0)
            - funded_deprivation("status_quo", s, grant_need_priority=0.0) for s in range(3)]
    assert min(gaps) > 0.05, f"grants should move towards deprived areas: {gaps}"


def test_proportionate_universalism_pots_follow_population_and_need():
    """Each quintile's grant money is at least its pot (population x (1 + w x deprivation))
    where it has enough applicants; q1's share is above its population share."""
    model = first_round("proportionate_universalism", pu_weight=3.0)
    ps, hoods = model.provider_state, model.hoods
    funded = ps.open & (ps.grant > 0)
    money_q = np.bincount(hoods.quintile[ps.neighbourhood[funded]], weights=ps.grant[funded],
                          minlength=5)
    people_q = np.bincount(hoods.quintile, minlength=5)
    assert money_q[0] / money_q.sum() > people_q[0] / people_q.sum()


@pytest.mark.parametrize("rules", SAME_MONEY)
def test_the_commissioner_never_spends_more_than_it_has(rules):
    model = Model("bradford", rules, seed=1, parameters={**BIG, "burn_in_years": 1})
    budget = model.commissioner.budget_per_year
    while model.week < 4 * WEEKS_PER_YEAR:
        model.step()
        assert model.commissioner.balance >= -1e-6 * budget
    spent = model.timeseries().spend_gbp.iloc[-1] / model.place_scale
    assert spent <= 3 * budget * (1 + 1e-9)


def test_same_money_rules_spend_the_same_money():
    """'Same money' means the same spend: every same-money rule spends within 1% of the
    status quo over the policy period (the commissioner carries unspent money forward)."""
    spend = {rules: Model("west_yorkshire", rules, seed=3, parameters=BIG).run(years=5)
             .summary().spend_gbp.iloc[0] for rules in SAME_MONEY}
    for rules, amount in spend.items():
        assert amount == pytest.approx(spend["status_quo"], rel=0.01), (rules, spend)


def test_extra_money_spends_the_uplift():
    base = Model("west_yorkshire", "status_quo", 3, parameters=BIG).run(years=3).summary()
    more = Model("west_yorkshire", "status_quo", 3, parameters={**BIG, "budget_uplift": 0.25}
                 ).run(years=3).summary()
    assert more.spend_gbp.iloc[0] == pytest.approx(1.25 * base.spend_gbp.iloc[0], rel=0.01)


def test_sustain_renews_incumbents_without_a_new_bid():
    model = first_round("sustain", 2)
    ps = model.provider_state
    holders = np.flatnonzero(ps.open & (ps.grant > 0))
    assert np.all(ps.grant_end[holders] == 3 * 52), "core grants run three years"
    while model.week < 3 * 52:
        model.step()
    still_open = holders[ps.open[holders] & (ps.closures[holders] == 0)]  # same providers
    reserves = ps.reserves[still_open].copy()
    model.step()  # the round at week 156: incumbents renewed first, with no bid cost
    renewed = ps.grant[still_open] > 0
    assert renewed.mean() > 0.9, "the money renews most incumbents"
    weekly = ps.surplus()[still_open] / 52
    assert np.allclose(ps.reserves[still_open][renewed], (reserves + weekly)[renewed])
    # Where the money ran out before every incumbent was renewed, renewals came first: a
    # newcomer got money only if its ask was smaller than any unrenewed incumbent's.
    newcomers = np.setdiff1d(np.flatnonzero((ps.grant > 0) & (ps.grant_end == 2 * 3 * 52)),
                             still_open)
    if not renewed.all() and len(newcomers):
        assert ps.grant[newcomers].max() < ps.ask(still_open[~renewed]).min()


def test_embed_places_link_workers_by_need_and_pays_groups_that_take_referrals():
    model = Model("west_yorkshire", "embed", seed=0, parameters={**BIG, "burn_in_years": 1})
    rs = model.resident_state
    while model.week < model.burn_in_weeks:
        model.step()
    # Referred attenders when the round is held (a week later some have stopped).
    referred = np.bincount(rs.provider[rs.came_by_referral & (rs.provider >= 0)],
                           minlength=len(model.provider_state))
    model.step()  # the first policy round
    c, p, ps = model.commissioner, model.params, model.provider_state
    embed_money = p.embed_budget_share * c.budget_per_year
    assert c.ics_link_workers.sum() == pytest.approx(
        embed_money * (1 - p.embed_provider_share) / p.link_worker_cost_gbp)
    assert np.corrcoef(c.ics_link_workers, model.hoods.deprivation)[0, 1] > 0.99
    assert ps.referral_grant.sum() == pytest.approx(embed_money * p.embed_provider_share)
    assert referred.sum() > 0
    assert np.all(ps.referral_grant[:len(referred)][referred == 0] == 0), (
        "money follows referred attenders")


def test_more_follow_up_means_fewer_new_people_per_link_worker():
    """Caseload: each followed-up person takes more contacts, so the same link workers see
    fewer people (the price of embed's follow-up)."""
    c = Model("bradford", parameters=SMALL).commissioner
    assert c.new_clients_per_week(0.8).sum() < c.new_clients_per_week(0.45).sum()
    p = c.model.params
    per_fte = p.link_worker_contacts_per_week / (
        0.45 * p.contacts_per_followed_client + 0.55 * p.contacts_per_brief_client)
    assert c.new_clients_per_week(0.45).sum() == pytest.approx(c.link_workers.sum() * per_fte)


def test_scale_founds_providers_and_funds_them_for_their_support_years():
    model = Model("bradford", "scale", seed=0, parameters={**BIG, "burn_in_years": 1})
    before = len(model.provider_state)
    model.run(years=1 / 52)
    ps, p = model.provider_state, model.params
    new = np.arange(before, len(ps))
    assert len(new) > 0
    cost = len(new) * p.founding_cost_gbp + ps.grant[new].sum()
    assert cost <= p.scale_budget_share * model.commissioner.budget_per_year
    assert np.all(ps.supported_until[new] == model.burn_in_weeks + p.scale_support_years * 52)
    # Scale pays each new group the ask of a typical new group in its neighbourhood (traits at
    # their means), so a typical one runs all its places; one whose own costs or other income
    # came out worse runs fewer (what that grant and its reserves afford).
    assert np.allclose(ps.grant[new],
                       model.commissioner._ask_in(ps.neighbourhood[new], p.scale_kind))
    assert np.median(ps.run_share[new]) == 1.0, "a typical supported new group runs all its places"


def test_scale_growth_is_bounded_by_what_its_money_sustains():
    """Each year the scale money first pays the groups it supports, so the number it
    supports at once is capped by its yearly money over a group's grant."""
    model = Model("bradford", "scale", seed=0, parameters={**BIG, "burn_in_years": 1})
    p = model.params
    model.run(years=4)
    ps = model.provider_state
    supported = ps.open & (ps.supported_until > model.week)
    assert ps.grant[supported].sum() <= p.scale_budget_share * model.commissioner.budget_per_year


def test_develop_places_workers_in_the_most_deprived_neighbourhoods_and_seeds_groups():
    model = Model("west_yorkshire", "develop", seed=0, parameters={**BIG, "burn_in_years": 1})
    before = len(model.provider_state)
    model.run(years=1 / 52)  # the first policy round
    c, p, dep = model.commissioner, model.params, model.hoods.deprivation
    money = p.develop_budget_share * c.budget_per_year
    seed_cost = p.founding_cost_gbp * p.resident_led_cost_share
    workers = money / (p.cd_worker_cost_gbp + p.cd_groups_per_worker_year * seed_cost)
    assert c.cd_workers.sum() == pytest.approx(workers)
    covered = c.cd_workers > 0
    assert dep[covered].min() >= dep[~covered].max(), "the most deprived first"
    assert c.cd_workers.max() == pytest.approx(p.cd_workers_per_neighbourhood)
    ps = model.provider_state
    new = np.arange(before, len(ps))
    assert len(new) == pytest.approx(workers * p.cd_groups_per_worker_year, abs=1)
    assert ps.resident_led[new].all() and covered[ps.neighbourhood[new]].all()
    assert np.allclose(ps.fixed_cost[new], p.fixed_cost_gbp * p.resident_led_cost_share)


def test_without_develop_money_nothing_is_read_or_placed():
    """The status quo places no community workers (the burn-in cache relies on not reading
    develop's parameters when it has no money)."""
    noted, read = Params(SMALL).noting_reads()
    model = Model("bradford", parameters=noted).run(years=1)
    assert not model.commissioner.cd_workers.any()
    assert not {"cd_worker_cost_gbp", "cd_workers_per_neighbourhood",
                "cd_groups_per_worker_year", "resident_led_cost_share"} & read
