"""Directional science tests: the model reproduces the brief's patterns.

Each test compares runs with the same seeds (common random numbers), so differences are the
policy's, and averages over a few seeds. Tolerances are commented where they are set.
"""

import numpy as np
import pytest

from abm import Model
from abm.metrics import compare
from abm.residents import NOT_ENGAGED

MEDIUM = {"n_neighbourhoods": 150, "residents_per_neighbourhood": 60, "burn_in_years": 2}
SEEDS = range(3)


def summaries(place, rules="status_quo", years=5, **changes):
    return [Model(place, rules, seed, {**MEDIUM, **changes}).run(years=years).summary().iloc[0]
            for seed in SEEDS]


@pytest.mark.parametrize("place", ["devon_ics", "west_yorkshire", "london"])
def test_pattern_1_inverse_care_law(place):
    """Uptake falls as deprivation (and need) rises under the status quo (Tudor Hart 1971;
    DCMS Taking Part: museum visits 31% in the most vs 64% in the least deprived areas)."""
    rows = summaries(place)
    q1 = np.mean([r.p_attending_q1 for r in rows])
    q5 = np.mean([r.p_attending_q5 for r in rows])
    # Tolerance: q1 at most 80% of q5; the real ratios quoted run from 0.48 to 0.79.
    assert q1 < 0.8 * q5, f"uptake q1 {q1:.3f} vs q5 {q5:.3f} in {place}"
    need_q1 = np.mean([r.wellbeing_q1 for r in rows])
    need_q5 = np.mean([r.wellbeing_q5 for r in rows])
    assert need_q1 < need_q5, "the most deprived have the lower wellbeing (higher need)"


def test_pattern_2_untargeted_scale_raises_uptake_but_widens_the_gap():
    """Universal provision without targeting can widen the gap (Lorenc et al. 2013)."""
    base = summaries("devon_ics")
    scaled = summaries("devon_ics", "scale")
    uptake = np.mean([s.p_attending - b.p_attending for s, b in zip(scaled, base, strict=True)])
    gap = np.mean([s.gap_q5_q1 - b.gap_q5_q1 for s, b in zip(scaled, base, strict=True)])
    assert uptake > 0.005, f"more providers should mean more uptake: {uptake:+.4f}"
    assert gap > 0, f"untargeted scale should widen the q5-q1 gap: {gap:+.4f}"


def test_pattern_3_proportionate_universalism_narrows_the_gap():
    """Provision weighted to disadvantage narrows the gap (Marmot Review 2010)."""
    base = summaries("west_yorkshire")
    targeted = summaries("west_yorkshire", "proportionate_universalism")
    diffs = [t.gap_q5_q1 - b.gap_q5_q1 for t, b in zip(targeted, base, strict=True)]
    q1_uptake = [t.p_attending_q1 - b.p_attending_q1 for t, b in zip(targeted, base, strict=True)]
    assert np.mean(diffs) < 0, f"gap change {diffs}"
    assert min(q1_uptake) > 0, f"uptake in q1 should rise in every seed: {q1_uptake}"


def run_with_intervention(seed, intervene):
    """Run to 26 weeks after the burn-in, intervene, then 78 more weeks (18 months)."""
    model = Model("devon_ics", "status_quo", seed, {**MEDIUM, "n_neighbourhoods": 100})
    for _ in range(model.burn_in_weeks + 26):
        model.step()
    chosen = intervene(model) if intervene else None
    for _ in range(78):
        model.step()
    return model, chosen


def close_half(model):
    shut = np.flatnonzero(model.provider_state.open)[::2]
    attenders = np.flatnonzero(np.isin(model.resident_state.provider, shut))
    model.close_providers(shut)
    return attenders


def start_some(model):
    rs, ps = model.resident_state, model.provider_state
    rng = np.random.default_rng(99)  # picks the starters; not one of the model's streams
    starters = rng.choice(np.flatnonzero(rs.state == NOT_ENGAGED), 300, replace=False)
    open_slots = np.flatnonzero(ps.open)
    rs.start(starters, open_slots[rng.integers(0, len(open_slots), len(starters))].astype(np.int32))
    return starters


def test_pattern_4_stopping_hurts_more_than_starting_helps():
    """At 18 months, stopping costs more than starting gains (Munford et al. 2020: -0.102 vs
    +0.056 QALY, a ratio of 1.8). Same seed with and without the change isolates its effect."""
    ratios = []
    for seed in SEEDS:
        plain, _ = run_with_intervention(seed, None)
        closed, stoppers = run_with_intervention(seed, close_half)
        started, starters = run_with_intervention(seed, start_some)
        loss = (plain.resident_state.wellbeing[stoppers]
                - closed.resident_state.wellbeing[stoppers]).mean()
        gain = (started.resident_state.wellbeing[starters]
                - plain.resident_state.wellbeing[starters]).mean()
        assert gain > 0, "starting must help"
        assert loss > 0, "a closed provider's attenders must be worse off"
        ratios.append(loss / gain)
    # Tolerance: at least 1.3x (the evidence says 1.8x; the model gives about 1.8-1.9).
    assert min(ratios) > 1.3, f"loss/gain ratios {ratios}"


def test_pattern_5_referral_without_follow_up_gives_little():
    """Referral is not engagement (Mercer et al. 2019: no effect without follow-up)."""
    base = summaries("west_yorkshire")
    no_follow = summaries("west_yorkshire", link_workers_per_100k=30.0, follow_up_share=0.0)
    follow = summaries("west_yorkshire", link_workers_per_100k=30.0, follow_up_share=0.8)
    gain_none = np.mean([compare(r, b)["wellby_gain"] for r, b in zip(no_follow, base,
                                                                       strict=True)])
    gain_follow = np.mean([compare(r, b)["wellby_gain"] for r, b in zip(follow, base,
                                                                         strict=True)])
    assert gain_follow > 0, f"followed-up referral should gain WELLBYs: {gain_follow:,.0f}"
    # Tolerance: referral alone yields under a quarter of what follow-up yields.
    assert gain_none < 0.25 * gain_follow, f"{gain_none:,.0f} vs {gain_follow:,.0f}"


def test_more_link_workers_with_follow_up_raise_uptake_in_the_most_deprived_quintile():
    """Uptake in q1 averaged over the policy years (the final year alone is too noisy to show
    an effect of this size: places are scarce, so referral mostly changes who gets them)."""
    diffs = []
    for seed in SEEDS:
        runs = [Model("west_yorkshire", "status_quo", seed, {**MEDIUM, **changes}).run(years=5)
                for changes in ({}, {"link_workers_per_100k": 30.0, "follow_up_share": 0.8})]
        base, more = (m.timeseries().query("year > 0").p_attending_q1.mean() for m in runs)
        diffs.append(more - base)
    assert np.mean(diffs) > 0, f"q1 uptake change per seed {diffs}"
