"""The compiled kernels (abm.model.kernels) against the numpy rules, on real states.

Each test builds a model, runs it into the policy period (so there are attenders, referrals,
ties made in groups, closures and, under develop, community development), takes its arrays
and applies one rule twice, to two copies of the same state: once by the numpy engine and
once by the compiled engine (or the kernel itself). Whole runs on both engines are compared
with the per-agent reference in ``test_reference.py``, and replicates run together with
runs alone in ``test_replicates.py``. Tolerance: none; every array must be equal bit for
bit, because the kernels do the same floating-point operations in the same order (sums in
numpy's own order: running sums left to right, scipy's row sums with numpy's pairwise
summation).
"""

import copy

import numpy as np
import pytest

from abm import Model
from abm.model import kernels, residents
from abm.model.engines import ArrayEngine, CompiledEngine
from abm.model.residents import ResidentState

# Large enough that candidate rows exceed 8 providers (pairwise summation) and referred
# residents attend within a year, at the shipped (calibrated) defaults.
SIZE = {"n_neighbourhoods": 40, "residents_per_neighbourhood": 100, "burn_in_years": 1}
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
    by the compiled engine on one copy of the state and by the numpy engine on another give
    identical states."""
    exercised = {"starters": 0, "admitted": 0, "referred": 0, "dropped": 0, "new ties": 0}
    for _ in range(3):
        rs, week = model.resident_state, model.week
        ctx = model.week_context()
        by_numpy, by_kernel = ArrayEngine(model), CompiledEngine(model)
        by_numpy.rs, by_kernel.rs = clone(rs), clone(rs)
        starters, picks = by_numpy.decide(ctx)
        k_starters, k_picks = by_kernel.decide(ctx)
        assert np.array_equal(starters, k_starters) and np.array_equal(picks, k_picks)
        assert_same_state(by_numpy.rs, by_kernel.rs)
        exercised["starters"] += len(starters)
        exercised["referred"] += int(((by_numpy.rs.state == residents.REFERRED)
                                      & (rs.state != residents.REFERRED)).sum())
        exercised["dropped"] += int(((by_numpy.rs.state == residents.DROPPED_OUT)
                                     & ctx.attending_at_start).sum())
        first = (by_numpy.rs.state[starters] == residents.REFERRED) & by_numpy.rs.followed_up[
            starters]
        priority = model.replicas[0].streams.uniforms("admission", week, rs.n)[starters]
        attending = (by_numpy.rs.state == residents.ATTENDING).sum()
        by_numpy.admit(starters, picks, first, priority, week)
        by_kernel.admit(starters, picks, first, priority, week)
        assert_same_state(by_numpy.rs, by_kernel.rs)
        exercised["admitted"] += int((by_numpy.rs.state == residents.ATTENDING).sum()
                                     - attending)
        by_numpy.update_wellbeing(week)
        by_kernel.update_wellbeing(week)
        assert_same_state(by_numpy.rs, by_kernel.rs)
        friends_before = by_numpy.rs.friends.copy()
        by_numpy.update_ties(ctx.u_tie)
        by_kernel.update_ties(ctx.u_tie)
        assert_same_state(by_numpy.rs, by_kernel.rs)
        exercised["new ties"] += int(((by_numpy.rs.friends != friends_before)
                                      & (by_numpy.rs.friends >= 0)).sum())
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
    """On the model's candidate matrix, and on one with rows long enough (> 8) for numpy's
    pairwise summation, which a small model's rows may not reach."""
    import scipy.sparse

    long = scipy.sparse.random(40, 400, density=0.3, format="csr",
                               random_state=np.random.default_rng(0))
    assert np.diff(long.indptr).min() > 8, "rows long enough for pairwise summation"
    for candidates in (model.week_context().candidates, long):
        assert np.array_equal(np.asarray(candidates.sum(axis=1)).ravel(),
                              kernels.row_sums(candidates.indptr, candidates.data))


def test_candidates_are_scipys_product_bit_for_bit(model):
    """The compiled candidates matrix equals ``access @ located`` (sorted) entry for entry:
    through the engines on the model's map, with this week's providers with space, with
    every provider and with none; and the kernel itself on a map with explicit zeros and a
    reach that is not symmetric."""
    import scipy.sparse

    from abm.model.engines import reachable_providers

    ps = model.provider_state
    compiled, array = CompiledEngine(model), ArrayEngine(model)
    space = np.flatnonzero(ps.open & (ps.attendees(model.resident_state.provider) < ps.places))
    assert len(space) > 0

    def assert_same(a, b):
        assert a.shape == b.shape
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(a, part), getattr(b, part)), part

    for with_space in (space, np.arange(len(ps)), np.arange(0)):
        assert_same(compiled.candidates(with_space), array.candidates(with_space))
    assert array.candidates(space).nnz > 0
    lopsided = scipy.sparse.random(len(model.hoods), len(model.hoods), density=0.2,
                                   format="csr", random_state=np.random.default_rng(1))
    lopsided.data[::7] = 0.0  # explicit zeros: the product leaves them out
    reached = lopsided.T.tocsr()
    indptr, indices, data = kernels.candidates(reached.indptr, reached.indices, reached.data,
                                               ps.neighbourhood, space, len(model.hoods))
    by_kernel = scipy.sparse.csr_matrix((data, indices, indptr),
                                        shape=(len(model.hoods), len(ps.neighbourhood)))
    assert_same(by_kernel, reachable_providers(lopsided, ps.neighbourhood, space))


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 1000, 4097, 100_003])
def test_pairwise_sum_is_numpys_sum(n):
    values = np.random.default_rng(n).random(n + 5) * 1e3
    assert kernels.pairwise_sum(values, 5, n) == values[5:].sum()


def test_the_accounts_weekly_sums_agree_with_numpy_bit_for_bit():
    """The accounts' compiled sums (a policy week's, and the weekly metrics', with the
    standard deviation per replicate) against their numpy path, on three replicates with
    their own parameters in the policy period."""
    varied = [SIZE, {**SIZE, "need_wellbeing_penalty": 2.5, "gp_need_effect": 0.7,
                     "referral_need_threshold": 0.4}, {**SIZE, "sp_gp_effect": -0.1}]
    model = Model("london", "develop+scale+embed", [4, 5, 6], varied, engine="fast").run(years=1)
    rs, acc = model.resident_state, model.accounts
    assert acc.compiled
    attending_before = rs.state == residents.ATTENDING
    attending_before[::7] = ~attending_before[::7]
    dropped = np.random.default_rng(0).random(rs.n) < 0.05
    new_referrals = (rs.state == residents.REFERRED) & (np.arange(rs.n) % 3 == 0)
    got = acc._week_sums(attending_before, dropped, new_referrals), acc._metric_sums()
    acc.compiled = False
    expected = acc._week_sums(attending_before, dropped, new_referrals), acc._metric_sums()
    acc.compiled = True
    for (got_sums, *got_rest), (sums, *rest) in zip(got, expected, strict=True):
        assert got_sums.keys() == sums.keys()
        for name in sums:
            assert np.array_equal(got_sums[name], sums[name]), name
        for a, b in zip(got_rest, rest, strict=True):
            assert np.array_equal(a, b)
    week_counts, referred = got[0][1], got[0][0]["referred_attending"]
    assert week_counts[:, 2:].sum() > 0 and referred.sum() > 0, "staircase exercised"
    assert got[1][3].min() > 0, "wellbeing varies"
