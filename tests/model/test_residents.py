"""Each resident mechanism on its own, through the vectorised rules of ResidentState."""

import numpy as np
import pytest
import scipy.sparse as sp

from abm import Model
from abm.model.residents import ATTENDING, DROPPED_OUT, NOT_ENGAGED, REFERRED, WeekContext
from tests.conftest import SMALL


@pytest.fixture
def model():
    return Model("bradford", seed=3, parameters=SMALL)


def quiet_week(model, **changes):
    """A week with no shocks, no choices, no referral, no providers: change what a test needs."""
    rs, n_hoods = model.resident_state, len(model.hoods)
    ctx = WeekContext(
        week=model.week, u_shock=np.ones(rs.n), u_act=np.ones(rs.n), u_ref=np.ones(rs.n),
        attending_at_start=rs.state == ATTENDING, outreach=np.zeros(n_hoods),
        access=np.zeros(n_hoods), candidates=sp.csr_matrix((n_hoods, len(model.provider_state))),
        referral_prob=np.zeros(n_hoods), follow_up_share=0.0, u_tie=np.ones(rs.n),
        cd_coverage=np.zeros(n_hoods),
    )
    for name, value in changes.items():
        setattr(ctx, name, value)
    return ctx


def test_shocks_hit_the_deprived_more_often(model):
    rs = model.resident_state
    assert np.corrcoef(rs.deprivation, rs.p_shock)[0, 1] > 0.99
    ratio = rs.p_shock.max() / rs.p_shock.min()
    assert ratio == pytest.approx(model.params.shock_deprivation_ratio, rel=0.05)


def test_need_rises_with_a_shock_and_fades_without(model):
    rs, p = model.resident_state, model.params
    rs.need[:] = 0.5
    u = np.ones(rs.n)
    u[:10] = 0.0  # shocked
    rs.decide(quiet_week(model, u_shock=u))
    assert np.allclose(rs.need[:10], min(0.5 * (1 - p.need_recovery_rate) + p.shock_size, 1))
    assert np.allclose(rs.need[10:], 0.5 * (1 - p.need_recovery_rate))


def test_outreach_raises_awareness_and_it_fades_without(model):
    rs = model.resident_state
    before = rs.awareness.copy()
    rs.decide(quiet_week(model, outreach=np.ones(len(model.hoods))))
    assert np.all(rs.awareness > before)
    raised = rs.awareness.copy()
    rs.decide(quiet_week(model))
    assert np.all(rs.awareness < raised)


def test_friends_who_attend_raise_awareness(model):
    rs = model.resident_state
    attending = np.zeros(rs.n, dtype=bool)
    attending[::3] = True
    with_ties = rs.degree > 0
    share = rs.share_of_ties_attending(attending)
    expected = (rs.ties @ attending.astype(float))[with_ties] / rs.degree[with_ties]
    assert np.allclose(share[with_ties], expected), "incremental count equals the matrix product"
    before = rs.awareness.copy()
    rs.decide(quiet_week(model, attending_at_start=attending))
    pulled = share > 0
    assert np.all(rs.awareness[pulled] > before[pulled])


def test_ties_have_the_target_mean_degree(model):
    rs = model.resident_state
    assert rs.degree.mean() == pytest.approx(model.params.ties_per_resident, rel=0.15)
    assert rs.ties.diagonal().sum() == 0, "nobody is tied to themselves"
    assert (rs.ties != rs.ties.T).nnz == 0, "ties are mutual"


def test_referral_only_of_those_in_need_and_not_attending(model):
    rs, p = model.resident_state, model.params
    rs.need[:] = 0.0
    rs.need[:20] = 0.9
    rs.state[:5] = ATTENDING
    rs.provider[:5] = 0
    ctx = quiet_week(model, u_ref=np.zeros(rs.n), referral_prob=np.ones(len(model.hoods)),
                     follow_up_share=1.0)
    ctx.u_act[:5] = 1.0  # attenders stay
    rs.decide(ctx)
    assert np.all(rs.state[5:20] == REFERRED)
    assert np.all(rs.state[20:] == NOT_ENGAGED), "no need, no referral"
    assert np.all(rs.state[:5] == ATTENDING), "attenders are not referred"
    assert np.all(rs.state_until[5:20] == model.week + p.referral_weeks)


def test_referral_and_reluctance_lapse(model):
    rs = model.resident_state
    rs.state[:10] = REFERRED
    rs.state[10:20] = DROPPED_OUT
    rs.state_until[:20] = model.week
    rs.decide(quiet_week(model))
    assert np.all(rs.state[:20] == NOT_ENGAGED)


def test_dropout_is_likelier_with_low_capacity(model):
    rs = model.resident_state
    assert np.corrcoef(rs.capacity, rs.p_drop)[0, 1] < -0.99


def test_start_probability_needs_access(model):
    rs = model.resident_state
    rs.awareness[:] = 1.0
    starters, _ = rs.decide(quiet_week(model, u_act=np.zeros(rs.n)))
    assert len(starters) == 0, "nobody starts where no provider can be reached"


def test_benefit_builds_while_attending_and_wellbeing_follows():
    model = Model("bradford", seed=3, parameters={**SMALL, "green_space_effect": 0.0})
    rs, p = model.resident_state, model.params
    effect = np.full(len(model.provider_state), 1.0)
    rs.state[:10] = ATTENDING
    rs.provider[:10] = 0
    rs.need[:] = 0.0
    rs.wellbeing[:] = rs.baseline
    for _ in range(20):
        rs.update_wellbeing(effect, model.provider_state.kind, week=0)
    assert np.allclose(rs.benefit[:10], 1 - (1 - p.benefit_build_rate) ** 20)
    assert np.all(rs.benefit[10:] == 0)
    room = rs.baseline[:10] < 9.5  # wellbeing is capped at 10
    assert np.all(rs.wellbeing[:10][room] > rs.baseline[:10][room]) and room.any()
    assert np.allclose(rs.wellbeing[10:], rs.baseline[10:])


def test_unmet_need_lowers_wellbeing(model):
    rs = model.resident_state
    rs.need[:] = 1.0
    rs.wellbeing[:] = rs.baseline
    rs.update_wellbeing(np.zeros(len(model.provider_state)), model.provider_state.kind, week=0)
    assert np.all(rs.wellbeing <= rs.baseline)
    assert np.all(rs.wellbeing[rs.baseline > 0.5] < rs.baseline[rs.baseline > 0.5])


def test_losing_ones_group_is_a_forced_stop_and_a_closure_costs_trust(model):
    rs, p = model.resident_state, model.params
    per = p.residents_per_neighbourhood
    rs.state[:3] = ATTENDING
    rs.provider[:3] = 7
    rs.came_by_referral[:3] = True
    rs.need[:] = 0.1
    awareness = rs.awareness.copy()
    rs.lose_places(np.arange(3), week=5)
    rs.lose_trust(np.array([0]))
    assert np.all(rs.state[:3] == DROPPED_OUT) and np.all(rs.provider[:3] == -1)
    assert not rs.came_by_referral[:3].any()
    assert np.allclose(rs.need[:3], 0.1 + p.forced_stop_need_shock)
    assert np.all(rs.state_until[:3] == 5 + p.dropout_memory_weeks)
    assert np.allclose(rs.awareness[:per], awareness[:per] * (1 - p.closure_trust_loss))
    assert np.array_equal(rs.awareness[per:], awareness[per:]), "other neighbourhoods keep trust"


def test_stopping_voluntarily_adds_no_need(model):
    """Voluntary stopping is symmetric with starting: only the benefit fades."""
    rs = model.resident_state
    rs.state[:10] = ATTENDING
    rs.provider[:10] = 0
    rs.need[:] = 0.2
    ctx = quiet_week(model, u_act=np.zeros(rs.n))  # every attender drops out
    rs.decide(ctx)
    assert np.all(rs.state[:10] == DROPPED_OUT)
    assert np.allclose(rs.need[:10], 0.2 * (1 - model.params.need_recovery_rate))


def test_seeing_a_link_worker_raises_awareness(model):
    rs, p = model.resident_state, model.params
    rs.need[:] = 0.0
    rs.need[:10] = 0.9
    before = rs.awareness.copy()
    rs.decide(quiet_week(model, u_ref=np.zeros(rs.n), referral_prob=np.ones(len(model.hoods))))
    decayed = before * (1 - p.awareness_decay)
    assert np.allclose(rs.awareness[:10],
                       decayed[:10] + p.link_worker_awareness_gain * (1 - decayed[:10]))
    assert np.allclose(rs.awareness[10:], decayed[10:])


def test_starting_while_referred_is_remembered_and_past_year_attendance_is_dated(model):
    rs = model.resident_state
    rs.state[:4] = REFERRED
    rs.start(np.arange(6), np.zeros(6, dtype=np.int32), week=40)
    assert rs.came_by_referral[:4].all() and not rs.came_by_referral[4:6].any()
    rs.update_wellbeing(np.ones(len(model.provider_state)), model.provider_state.kind, week=42)
    assert np.all(rs.last_attended[:6] == 42)
    assert np.all(rs.last_attended[6:] < 0), "never attended"
