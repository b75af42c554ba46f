"""Science tests: mechanisms, and the brief's five patterns, each labelled by where it comes
from.

- **Mechanism**: a rule does what it says (a grant buys places, a closure costs trust, new
  groups go where founders are). These follow from the model's rules whatever the
  parameter values, so they are tested at the defaults.
- **Pattern**: a pattern from the brief, with its label:

  * P1, inverse care law: **emerges from several causes**, each an input with a source:
    capacity to take part (an assumption guided by participation data: the one cause that is
    itself a participation gradient), where providers are (organisations per head, NPC
    2020), what taking part costs (fees and the cost barrier), money (other funders and bid
    writing) and trust lost at closures. It holds with the capacity gradient switched off
    and vanishes only with every cause switched off (both tested).
  * P2, untargeted provision raises the mean and can widen the gap: the mean rises
    (tested); whether the gap widens depends on the place and on uncertain parameters, so
    ``abm patterns`` reports it over the posterior instead.
  * P3, proportionate universalism narrows the gap: the rule reaches the most deprived
    against need-blind funders (tested); at the calibrated status quo, whose funders
    already favour need, its effect on the gap depends on that calibrated priority, so
    ``abm patterns`` reports it over the posterior.
  * P4, stopping hurts more than starting helps: **an input through calibration**: the harm
    of losing one's group (``forced_stop_need_shock``) is sized against Munford et al.
    2020's stop effect; without it, stopping hurts less than starting helps, because the
    belonging lost fades over months (tested both ways).
  * P5, referral is not engagement: **emerges** from capacity, awareness and the small boost
    of a referral alone (tested).

Every comparison uses the same seeds (common random numbers), so differences are the
policy's.
"""

import numpy as np
import pytest

from abm import Model
from abm.analysis.compare import compare
from abm.model.interventions import start_stop_effects
from abm.model.parameters import BY_NAME

MEDIUM = {"n_neighbourhoods": 150, "residents_per_neighbourhood": 60, "burn_in_years": 2}
SEEDS = range(3)


def summaries(place, rules="status_quo", years=5, **changes):
    return [Model(place, rules, seed, {**MEDIUM, **changes}).run(years=years).summary().iloc[0]
            for seed in SEEDS]


def paired(runs, base, name):
    return [r[name] - b[name] for r, b in zip(runs, base, strict=True)]


@pytest.mark.parametrize("place", ["devon_ics", "west_yorkshire", "london"])
def test_pattern_1_inverse_care_law(place):
    """P1, emerges from several causes. Taking part falls as deprivation (and need) rises
    under the status quo (Tudor Hart 1971; DCMS Taking Part: museum visits 31% in the most vs
    64% in the least deprived areas, a ratio of 0.48)."""
    rows = summaries(place)
    q1 = np.mean([r.p_past_year_q1 for r in rows])
    q5 = np.mean([r.p_past_year_q5 for r in rows])
    # Tolerance: q1 at most 80% of q5; the real ratios quoted run from 0.48 to 0.79.
    assert q1 < 0.8 * q5, f"past-year participation q1 {q1:.3f} vs q5 {q5:.3f} in {place}"
    assert np.mean([r.wellbeing_q1 for r in rows]) < np.mean([r.wellbeing_q5 for r in rows])


#: The causes of P1 switched off: capacity, location, cost, money, trust, size, shocks.
P1_CAUSES_OFF = {"capacity_deprivation_effect": 0.0, "provider_location_gradient": 0.0,
                 "fee_barrier": 0.0, "fee_deprivation_effect": 0.0,
                 "other_funding_deprivation_effect": 0.0, "bid_capacity_deprivation_effect": 0.0,
                 "closure_trust_loss": 0.0, "provider_size_deprivation_effect": 0.0,
                 "shock_deprivation_ratio": 1.0}


def ratio_q1_q5(changes: dict) -> float:
    rows = summaries("west_yorkshire", **changes)
    return (np.mean([r.p_past_year_q1 for r in rows])
            / np.mean([r.p_past_year_q5 for r in rows]))


def test_pattern_1_survives_without_the_capacity_gradient_and_not_without_its_causes():
    """P1's label: with the one cause that is itself a participation gradient (capacity)
    switched off, the other causes (location, cost, money, trust) still give it; with every
    cause off, it is gone."""
    without_capacity = ratio_q1_q5({"capacity_deprivation_effect": 0.0})
    without_causes = ratio_q1_q5(P1_CAUSES_OFF)
    # Tolerance: measured 0.75 and 1.04 (3 seeds, West Yorkshire, 5 years).
    assert without_capacity < 0.85, f"q1/q5 past-year participation {without_capacity:.3f}"
    assert without_causes > 0.95, f"q1/q5 with every cause off {without_causes:.3f}"


def test_pattern_2_untargeted_scale_raises_the_mean():
    """P2, first half (the second, whether the gap widens, is reported by ``abm patterns``
    over the posterior): founding groups where founders are raises mean wellbeing."""
    base = summaries("west_yorkshire")
    scaled = summaries("west_yorkshire", "scale")
    mean = paired(scaled, base, "mean_wellbeing")
    assert np.mean(mean) > 0, f"mean wellbeing change per seed: {mean}"


def test_pattern_3_proportionate_universalism_reaches_the_most_deprived():
    """P3's mechanism (Marmot Review 2010): against funders who score bids without regard to
    need (grant_need_priority 0), money divided by need raises past-year participation in the
    most deprived fifth in every seed. At the calibrated priority (cal-ee53ea7ef3: 0.53) the
    status quo's funders already favour need about as much, so the change per seed is within
    noise (-0.008 to +0.009 over 6 seeds, West Yorkshire): whether PU narrows the gap there
    depends on that calibrated parameter and is reported by ``abm patterns``."""
    base = summaries("west_yorkshire", grant_need_priority=0.0)
    targeted = summaries("west_yorkshire", "proportionate_universalism", grant_need_priority=0.0)
    q1 = paired(targeted, base, "p_past_year_q1")
    assert min(q1) > 0.01, f"q1 past-year participation change per seed: {q1}"


def test_mechanism_the_ics_budget_buys_places():
    """Mechanism: with the budget, providers run more places than without it."""
    base = summaries("devon_ics", years=2)
    none = summaries("devon_ics", years=2, budget_gbp_per_head=0.0)
    more = paired(base, none, "n_places")
    assert min(more) > 0, f"places gained from the budget per seed: {more}"


def test_mechanism_untargeted_scale_founds_groups_where_founders_are():
    """Mechanism behind pattern 2: the scale rule places new groups by the status quo's
    location weights (fewer where deprived), proportionate universalism by need."""
    def new_group_deprivation(rules):
        model = Model("west_yorkshire", rules, 0,
                      {**MEDIUM, "burn_in_years": 1, "scale_budget_share": 0.5,
                       "budget_gbp_per_head": 10.0})
        before = len(model.provider_state)
        model.run(years=3)
        ps = model.provider_state
        assert len(ps) - before > 30, "the test needs enough new groups"
        return ps.deprivation(np.arange(before, len(ps))).mean()

    untargeted = new_group_deprivation("scale")
    targeted = new_group_deprivation("scale+proportionate_universalism")
    # Tolerance: at the defaults the weights alone put the two means about 0.1 apart.
    assert untargeted + 0.05 < targeted, (untargeted, targeted)


def test_mechanism_sustain_means_fewer_forced_stops():
    """Mechanism: grants renewed for three years mean fewer cuts in places, so fewer people
    lose their group than under one-year grants."""
    base = summaries("devon_ics")
    sustained = summaries("devon_ics", "sustain")
    fewer = paired(sustained, base, "forced_stops_per_year")
    assert max(fewer) < 0, f"change in forced stops per year per seed: {fewer}"


def test_mechanism_embed_follows_up_more_referrals():
    """Mechanism: under embed, link workers follow up their share of referrals."""
    rows = summaries("west_yorkshire", "embed", years=2)
    share = np.mean([r.share_referred_3plus_contacts for r in rows])
    assert share == pytest.approx(BY_NAME["embed_follow_up_share"].default, abs=0.03)


def test_pattern_5_referral_without_follow_up_gives_little():
    """P5, emerges (Mercer et al. 2019: 45% saw the link worker 3+ times and
    referral had no effect without it): a referral alone multiplies the chance to start by a
    little (``referral_boost_unfollowed``), a followed-up one by much more, so few referred
    people without follow-up start at a group."""
    rows = summaries("west_yorkshire", link_workers_per_100k=30.0)
    followed = np.mean([r.referral_uptake_followed for r in rows])
    brief = np.mean([r.referral_uptake_brief for r in rows])
    assert followed > 0, "followed-up referrals must lead some people to a group"
    # Tolerance: referral alone leads to a group less than half as often as follow-up.
    assert brief < 0.5 * followed, f"uptake {brief:.3f} without vs {followed:.3f} with"
    share = np.mean([r.share_referred_3plus_contacts for r in rows])
    assert share == pytest.approx(BY_NAME["follow_up_share"].default, abs=0.03)


def test_pattern_4_stopping_hurts_more_than_starting_helps_through_the_forced_stop_harm():
    """P4, an input through calibration: losing one's group adds need
    (``forced_stop_need_shock``, sized against Munford et al. 2020's stop effect), so those
    whose group closes lose more than starters gain (Munford: 0.102 against 0.056 QALY, a
    ratio of 1.8); without that harm stopping hurts less than starting helps, because the
    belonging and benefit lost fade over months."""
    small = {**MEDIUM, "n_neighbourhoods": 100}
    with_harm = start_stop_effects("devon_ics", 0, small)
    without = start_stop_effects("devon_ics", 0, {**small, "forced_stop_need_shock": 0.0})
    assert with_harm.start_gain > 0 and without.stop_loss > 0
    # Tolerance: measured ratios 1.8 with the harm and 0.7 without (2 seeds, 100 areas).
    assert with_harm.ratio > 1.3, with_harm
    assert without.ratio < 1.0, without


def test_mechanism_a_closure_costs_the_neighbourhood_trust():
    """Mechanism: everyone living where a group closes loses trust in local groups."""
    model = Model("devon_ics", "status_quo", 0, MEDIUM)
    model.run(years=1)
    ps, rs = model.provider_state, model.resident_state
    slot = np.flatnonzero(ps.open)[0]
    hood = ps.neighbourhood[slot]
    here = rs.neighbourhood == hood
    before = rs.awareness.copy()
    model.close_providers(np.array([slot]))
    assert np.allclose(rs.awareness[here], before[here] * (1 - model.params.closure_trust_loss))
    assert np.array_equal(rs.awareness[~here], before[~here])


def test_same_seed_policy_comparison_is_paired():
    """The WELLBY comparison uses same-seed pairs: the status quo against itself gains
    exactly nothing."""
    base = summaries("bradford", years=1)
    again = summaries("bradford", years=1)
    assert all(compare(a, b)["wellby_gain"] == 0 for a, b in zip(again, base, strict=True))
