"""The compiled kernels (abm.model.kernels) against the numpy implementation, on real states.

Each test builds a model, runs it into the policy period (so there are attenders, referrals,
ties made in groups, closures and, under develop, community development), takes its arrays
and applies one rule twice, to two copies of the same state: once by the model's numpy code
and once by the kernel. Tolerance: none; every array must be equal bit for bit, because the
kernels do the same floating-point operations in the same order (sums in numpy's own order:
``np.bincount``'s sequential adds, ``np.sum``'s pairwise summation, scipy's row sums).
"""

import copy

import numpy as np
import pytest

from abm import Model
from abm.model import kernels, residents
from abm.model.engines import ArrayEngine
from abm.model.metrics import LOW_LIFE_SATISFACTION, PAST_YEAR_WEEKS
from abm.model.randomness import STREAM_NAMES, ReplicateStreams, Streams
from abm.model.residents import ResidentState

SIZE = {"n_neighbourhoods": 40, "residents_per_neighbourhood": 50, "burn_in_years": 1}
CASES = [("devon_ics", "scale+embed+sustain", 3), ("london", "develop+scale+sustain", 4)]


@pytest.fixture(scope="module", params=CASES, ids=lambda case: case[1])
def model(request):
    place, rules, seed = request.param
    return Model(place, rules, seed, SIZE).run(years=1)


def clone(state: ResidentState) -> ResidentState:
    """A copy of a resident state whose arrays are its own (the ties matrix is shared:
    no rule changes it)."""
    twin = copy.copy(state)
    for name, value in vars(state).items():
        if isinstance(value, np.ndarray):
            setattr(twin, name, value.copy())
    return twin


def assert_same_state(a: ResidentState, b: ResidentState) -> None:
    for name, value in vars(a).items():
        if isinstance(value, np.ndarray):
            other = getattr(b, name)
            assert value.dtype == other.dtype and np.array_equal(value, other), name


def test_the_kernels_use_the_rules_constants():
    for name in ("NOT_ENGAGED", "REFERRED", "ATTENDING", "DROPPED_OUT", "NATURE",
                 "GROUP_TIES", "TIE_GONE", "WEEKS_PER_YEAR"):
        assert getattr(kernels, name) == getattr(residents, name), name


def test_the_weekly_rules_agree_with_numpy_bit_for_bit(model):
    """Three weeks in a row: rules 0-4 (with provider choice), admission, rule 5 and rule 6
    by the kernels on one copy and by numpy on another give identical states."""
    exercised = {"starters": 0, "admitted": 0, "referred": 0, "dropped": 0, "new ties": 0}
    for _ in range(3):
        rs, ps, week = model.resident_state, model.provider_state, model.week
        ctx = model.week_context()
        by_numpy, by_kernel = clone(rs), clone(rs)
        starters, picks = ResidentState.decide(by_numpy, ctx)
        k_starters, k_picks = kernels.decide_state(by_kernel, ctx)
        assert np.array_equal(starters, k_starters) and np.array_equal(picks, k_picks)
        assert_same_state(by_numpy, by_kernel)
        exercised["starters"] += len(starters)
        exercised["referred"] += int(((by_numpy.state == residents.REFERRED)
                                      & (rs.state != residents.REFERRED)).sum())
        exercised["dropped"] += int(((by_numpy.state == residents.DROPPED_OUT)
                                     & ctx.attending_at_start).sum())
        # Admission: the engine's lexsort and ranks against the kernel's loop.
        first = (by_numpy.state[starters] == residents.REFERRED) & by_numpy.followed_up[
            starters]
        priority = model.streams.uniforms("admission", week, rs.n)[starters]
        engine = ArrayEngine(model)
        engine.rs = by_numpy
        engine.admit(starters, picks, first, priority, week)
        admitted, chosen = kernels.admit(starters, picks, first, priority, ps.places,
                                         by_kernel.provider)
        by_kernel.start(admitted, chosen, week)
        assert_same_state(by_numpy, by_kernel)
        exercised["admitted"] += len(admitted)
        # Rule 5.
        by_numpy.update_wellbeing(ps.effect, ps.kind, week)
        kernels.update_wellbeing_state(by_kernel, ps.effect, ps.kind, week)
        assert_same_state(by_numpy, by_kernel)
        # Rule 6.
        friends_before = by_numpy.friends.copy()
        by_numpy.update_ties(ctx.u_tie)
        kernels.update_ties_state(by_kernel, ctx.u_tie, len(ps))
        assert_same_state(by_numpy, by_kernel)
        exercised["new ties"] += int(((by_numpy.friends != friends_before)
                                      & (by_numpy.friends >= 0)).sum())
        model.step()
    assert all(count > 0 for count in exercised.values()), exercised
    assert (model.resident_state.friends >= 0).any(), "ties made in groups must be exercised"
    if "develop" in model.rules:
        assert model.resident_state.cd_level.any(), "community development must be exercised"


def test_share_of_ties_attending_agrees_when_attendance_changes(model):
    """The incremental count of set-up ties attending, from a state where many residents'
    attendance changed at once (every third resident flipped)."""
    rs = model.resident_state
    attending = rs.state == residents.ATTENDING
    attending[::3] = ~attending[::3]
    by_numpy, by_kernel = clone(rs), clone(rs)
    pull = ResidentState.share_of_ties_attending(by_numpy, attending)
    kernels.share_of_ties_attending(attending, by_kernel._counted, by_kernel.ties_attending,
                                    rs.ties.indptr, rs.ties.indices, rs.degree, rs.friends,
                                    rs.tie_strength, by_kernel.pull)
    assert np.array_equal(pull, by_kernel.pull)
    assert np.array_equal(by_numpy.ties_attending, by_kernel.ties_attending)
    assert np.array_equal(by_numpy._counted, by_kernel._counted)


def test_row_sums_add_as_scipy_does(model):
    candidates = model.week_context().candidates
    assert np.diff(candidates.indptr).max() > 8, "rows long enough for pairwise summation"
    assert np.array_equal(np.asarray(candidates.sum(axis=1)).ravel(),
                          kernels.row_sums(candidates.indptr, candidates.data))


def test_weekly_sums_agree_with_numpys_bincounts(model):
    """The weekly metrics' per-resident reductions in one pass, against the expressions of
    ``Accounts.weekly_metrics``; the standard deviation in numpy's pairwise order."""
    rs, acc, p = model.resident_state, model.accounts, model.params
    d, week = acc.decile_index, model.week
    past_year_from = week - 1 - PAST_YEAR_WEEKS
    got = kernels.decile_sums(d, acc.third, rs.state, rs.wellbeing, rs.last_attended,
                              past_year_from, rs.pull, rs.baseline, rs.need, rs.need_untouched,
                              rs.benefit, rs.green_benefit, p.need_wellbeing_penalty,
                              LOW_LIFE_SATISFACTION, p.referral_need_threshold, rs.friends)
    penalty = p.need_wellbeing_penalty
    terms = [rs.baseline, -penalty * rs.need_untouched, -penalty * (rs.need - rs.need_untouched),
             rs.benefit, rs.green_benefit, rs.wellbeing - rs.target()]
    expected = (
        np.bincount(d, weights=rs.wellbeing, minlength=10),
        np.bincount(d * 4 + rs.state, minlength=40).reshape(10, 4),
        np.bincount(d, weights=rs.last_attended > past_year_from, minlength=10),
        np.bincount(acc.third, weights=rs.wellbeing < LOW_LIFE_SATISFACTION, minlength=3),
        np.bincount(d, weights=rs.pull > 0, minlength=10),
        np.array([np.bincount(d, weights=term, minlength=10) for term in terms]),
        int((rs.need > p.referral_need_threshold).sum()),
        int((rs.friends >= 0).sum()),
    )
    for name, a, b in zip(("wellbeing", "state", "past_year", "low", "connected", "parts",
                           "in_need", "ties"), got, expected, strict=True):
        assert np.array_equal(a, b), name
    assert kernels.std(rs.wellbeing) == rs.wellbeing.std()
    assert kernels.pairwise_sum(rs.wellbeing, 0, rs.n) == rs.wellbeing.sum()


def test_pcg64_fill_draws_each_replicates_keyed_stream_exactly():
    """R generators in one call: replicate r's block equals the same seed's stream alone."""
    seeds = [0, 1, 2**32 + 5, 2**63 - 1, 77]
    streams = ReplicateStreams(seeds)
    counts = np.array([3000, 0, 17, 1, 250])
    for name in ("shocks", "ties", STREAM_NAMES[-1]):
        for week in (0, 63, 64, 700):
            out = np.empty(counts.sum())
            ends = kernels.pcg64_fill(streams.states(name, week), counts, out)
            assert np.array_equal(ends, np.cumsum(counts))
            alone = np.concatenate([Streams(s).uniforms(name, week, c)
                                    for s, c in zip(seeds, counts, strict=True)])
            assert np.array_equal(out, alone), (name, week)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 1000, 4097, 100_003])
def test_pairwise_sum_is_numpys_sum(n):
    values = np.random.default_rng(n).random(n + 5) * 1e3
    assert kernels.pairwise_sum(values, 5, n) == values[5:].sum()


def test_any_items_value_is_read_without_drawing_those_before_it():
    """Random access into a keyed stream through the jump table: item k's value equals the
    k-th value drawn in order, for any subset of items in any order."""
    n = 5000
    jumps = kernels.pcg64_jumps(n)
    streams = ReplicateStreams([3, 2**62])
    items = np.random.default_rng(0).permutation(n)[:700]
    for r, seed in enumerate([3, 2**62]):
        state = streams.states("admission", 120)[r]
        everything = Streams(seed).uniforms("admission", 120, n)
        out = np.empty(len(items))
        kernels.pcg64_items(state, jumps, items, out)
        assert np.array_equal(out, everything[items])


RESIDENT_ARRAYS = ("capacity", "p_shock", "p_drop", "belonging", "need", "need_untouched",
                   "awareness", "state", "state_until", "followed_up", "came_by_referral",
                   "pull", "_counted", "ties_attending", "degree", "tie_strength")


def test_one_call_over_concatenated_replicates_equals_each_replicate_alone():
    """The layout of a replicate engine: the residents of R runs (different seeds)
    concatenated, neighbourhood, resident and provider ids offset per replicate, the
    candidates matrix block-diagonal with its running sum restarted per replicate. One call
    of the kernels (ties' pull, then rules 1-4) over all of them gives each replicate
    exactly what numpy gives that run alone."""
    models = [Model("london", "develop+scale+sustain", seed, SIZE).run(years=1)
              for seed in (4, 5, 6)]
    contexts = [m.week_context() for m in models]
    alone = []
    for m, ctx in zip(models, contexts, strict=True):
        state = clone(m.resident_state)
        alone.append((state, *ResidentState.decide(state, ctx)))
    n, hoods = models[0].resident_state.n, len(models[0].hoods)
    slots = np.cumsum([0] + [len(m.provider_state) for m in models])
    nnz = np.cumsum([0] + [c.candidates.nnz for c in contexts])
    states = [clone(m.resident_state) for m in models]
    for r, (m, state) in enumerate(zip(models, states, strict=True)):
        state.cd_level, _ = kernels.cd_update(state, contexts[r], m.params)

    def joined(name, ctx=False):
        return np.concatenate([getattr(c if ctx else s, name) for s, c in
                               zip(states, contexts, strict=True)])

    big = {name: joined(name) for name in RESIDENT_ARRAYS}
    big["hood"] = np.concatenate([s.neighbourhood + r * hoods for r, s in enumerate(states)])
    big["provider"] = np.concatenate([np.where(s.provider >= 0, s.provider + slots[r], -1)
                                      for r, s in enumerate(states)]).astype(np.int32)
    big["friends"] = np.concatenate([np.where(s.friends >= 0, s.friends + r * n, -1)
                                     for r, s in enumerate(states)]).astype(np.int32)
    ties_indptr = np.concatenate([states[0].ties.indptr[:1]] + [
        s.ties.indptr[1:] + sum(t.ties.nnz for t in states[:r]) for r, s in enumerate(states)])
    ties_indices = np.concatenate([s.ties.indices + r * n for r, s in enumerate(states)])
    attending = joined("attending_at_start", ctx=True)
    kernels.share_of_ties_attending(attending, big["_counted"], big["ties_attending"],
                                    ties_indptr, ties_indices, big["degree"], big["friends"],
                                    big["tie_strength"], big["pull"])
    candidates = [c.candidates for c in contexts]
    cand_indptr = np.concatenate([candidates[0].indptr[:1]] + [
        c.indptr[1:] + nnz[r] for r, c in enumerate(candidates)])
    cand_indices = np.concatenate([c.indices + slots[r] for r, c in enumerate(candidates)])
    sums = [kernels.running_sums(c.indptr, c.data) for c in candidates]  # per replicate
    cumulative = np.concatenate([running for running, _ in sums])
    base = np.concatenate([before for _, before in sums])
    totals = np.concatenate([kernels.row_sums(c.indptr, c.data) for c in candidates])
    cd_level = np.concatenate([s.cd_level for s in states])
    p = kernels.params_for(kernels.DecideParams, models[0].params)
    starters, picks = kernels.decide(
        p, contexts[0].week, big["hood"], big["capacity"], big["p_shock"], big["p_drop"],
        big["belonging"], big["need"], big["need_untouched"], big["awareness"], big["state"],
        big["state_until"], big["followed_up"], big["provider"], big["came_by_referral"],
        big["pull"], cd_level, bool(cd_level.any()), joined("u_shock", True),
        joined("u_act", True), joined("u_ref", True), joined("outreach", True),
        joined("access", True), joined("referral_prob", True),
        float(contexts[0].follow_up_share), cand_indptr, cand_indices, cumulative, base, totals)
    assert cd_level.any(), "community development must be exercised"
    for r, (state, own_starters, own_picks) in enumerate(alone):
        mine = slice(r * n, (r + 1) * n)
        for name in (*RESIDENT_ARRAYS, "friends"):
            expected = getattr(state, name)
            got = big[name][mine] if name != "friends" else np.where(
                big["friends"][mine] >= 0, big["friends"][mine] - r * n, -1)
            assert np.array_equal(got, expected), (r, name)
        assert np.array_equal(np.where(big["provider"][mine] >= 0,
                                       big["provider"][mine] - slots[r], -1), state.provider)
        chosen = (starters >= r * n) & (starters < (r + 1) * n)
        assert np.array_equal(starters[chosen] - r * n, own_starters)
        assert np.array_equal(picks[chosen] - slots[r], own_picks)
        assert len(own_starters) > 0
