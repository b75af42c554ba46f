"""Residents: their state as arrays, the weekly rules vectorised, and the same rules per agent.

:class:`ResidentState` holds every resident's state in numpy arrays (one entry per resident,
residents of a neighbourhood contiguous) and applies the weekly rules to all residents at
once; this is the hot path. :class:`Resident` is a Mesa agent that views one entry of those
arrays; its methods apply the *same* rules one resident at a time, in plain Python. They are
the executable specification: the test suite runs both and checks they agree.

Weekly rules, in order (``decide``; then, after the model admits starters to groups with
room, ``update_wellbeing``):

1. Needs: need fades by ``need_recovery_rate``; a shock (chance ``p_shock``, higher where
   deprived) adds ``shock_size``.
2. Awareness and trust: grow with local providers' outreach and with the share of one's ties
   who attend; fade by ``awareness_decay``.
3. Referral: a referral lapses after ``referral_weeks`` and reluctance after stopping after
   ``dropout_memory_weeks`` (both back to not engaged); a resident in need who is not
   attending may be referred by a link worker (chance set by the link workers' free time
   where they live). Seeing the link worker raises awareness of local groups
   (``link_worker_awareness_gain``); the referral is followed up (3+ contacts) with the
   plan's follow-up share.
4. Engagement: an attender drops out (voluntarily: no harm beyond the fading benefit) with a
   chance that rises as capacity falls; anyone else may start, with a chance that is the
   product of awareness, capacity (raised while followed up), motivation (need), access to
   a provider with a free place, friends attending and the referral boost, and then picks a
   provider in proportion to its pull.
5. Wellbeing: the benefit of attending builds towards the provider's effect while attending
   and fades otherwise; wellbeing moves towards baseline - need penalty + benefit.

Losing one's group (it closes or cuts the sessions one went to) is a forced stop: it adds
``forced_stop_need_shock`` to need (``lose_places``).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
import scipy.sparse as sp

from abm.model.parameters import Params
from abm.model.places import Neighbourhoods
from abm.model.views import ArrayField, ArrayView

# Engagement states.
NOT_ENGAGED, REFERRED, ATTENDING, DROPPED_OUT = 0, 1, 2, 3
#: ``last_attended`` of someone who never attended: far enough back to be outside any window.
NEVER_ATTENDED = -(10**6)


@dataclass
class WeekContext:
    """What residents see this week: the week's random draws and their surroundings."""

    week: int
    u_shock: np.ndarray  # one uniform per resident, ``shocks`` stream
    u_act: np.ndarray  # one uniform per resident, ``engagement`` stream
    u_ref: np.ndarray  # one uniform per resident, ``referral`` stream
    attending_at_start: np.ndarray  # bool per resident: who attended when the week began
    outreach: np.ndarray  # per neighbourhood: outreach of open local providers, 0-1
    access: np.ndarray  # per neighbourhood: pull of reachable providers with a free place, 0-1
    candidates: sp.csr_matrix  # [neighbourhood, provider]: pull of each reachable provider
    referral_prob: np.ndarray  # per neighbourhood: chance an eligible resident is referred
    follow_up_share: float  # chance a referral is followed up (3+ link-worker contacts)


class ResidentState:
    """Every resident's state, one array entry per resident, and the vectorised weekly rules."""

    def __init__(self, hoods: Neighbourhoods, params: Params, rng: np.random.Generator):
        """Synthesise the residents of ``hoods``: deprivation, capacity, baseline and ties."""
        p = self.params = params
        per_hood = p.residents_per_neighbourhood
        n_hoods = len(hoods)
        n = self.n = n_hoods * per_hood
        self.neighbourhood = np.repeat(np.arange(n_hoods, dtype=np.int32), per_hood)
        self.hood_start = np.arange(n_hoods) * per_hood  # residents of hood h: [start, start+per)
        self.decile = hoods.decile[self.neighbourhood]
        self.quintile = hoods.quintile[self.neighbourhood]
        dep = hoods.deprivation[self.neighbourhood] + rng.normal(0, p.deprivation_spread, n)
        self.deprivation = np.clip(dep, 0.0, 1.0)
        capacity = (
            p.capacity_least_deprived
            - p.capacity_deprivation_effect * self.deprivation
            + rng.normal(0, p.capacity_spread, n)
        )
        self.capacity = np.clip(capacity, 0.02, 1.0)
        baseline = (
            p.wellbeing_least_deprived
            - p.wellbeing_deprivation_gradient * self.deprivation
            + rng.normal(0, p.wellbeing_spread, n)
        )
        self.baseline = np.clip(baseline, 0.0, 10.0)
        # Weekly chances that depend only on fixed traits, worked out once.
        self.p_shock = p.shock_rate * (1 + (p.shock_deprivation_ratio - 1) * self.deprivation)
        self.p_drop = p.dropout_rate * (1 + p.dropout_capacity_effect * (1 - self.capacity))
        self.ties = make_ties(hoods, per_hood, p, rng)
        self.degree = np.diff(self.ties.indptr).astype(float)
        # Ties attending, kept up to date as attendance changes (see share_of_ties_attending).
        self.ties_attending = np.zeros(n, dtype=np.int64)
        self._counted = np.zeros(n, dtype=bool)
        # Dynamic state.
        self.need = np.zeros(n)
        self.awareness = np.full(n, p.awareness_initial)
        self.wellbeing = self.baseline.copy()
        self.benefit = np.zeros(n)
        self.state = np.full(n, NOT_ENGAGED, dtype=np.int8)
        self.provider = np.full(n, -1, dtype=np.int32)
        self.state_until = np.zeros(n, dtype=np.int32)
        self.followed_up = np.zeros(n, dtype=bool)
        self.came_by_referral = np.zeros(n, dtype=bool)  # attending since a referral
        self.last_attended = np.full(n, NEVER_ATTENDED, dtype=np.int32)  # week

    def share_of_ties_attending(self, attending: np.ndarray) -> np.ndarray:
        """Per resident, the share of their ties who attend (0 for residents without ties).

        Equal to ``(ties @ attending) / degree``, but only the ties of residents whose
        attendance changed since the last call are visited (a few percent a week).
        """
        changed = np.flatnonzero(attending != self._counted)
        if len(changed):
            start, stop = self.ties.indptr[changed], self.ties.indptr[changed + 1]
            lengths = stop - start
            # Positions of the changed residents' ties in ties.indices, row after row.
            offsets = np.repeat(start - np.cumsum(lengths) + lengths, lengths)
            positions = offsets + np.arange(lengths.sum())
            sign = np.repeat(np.where(attending[changed], 1, -1), lengths)
            np.add.at(self.ties_attending, self.ties.indices[positions], sign)
            self._counted = attending.copy()
        return np.divide(self.ties_attending, self.degree, out=np.zeros(self.n),
                         where=self.degree > 0)

    def decide(self, ctx: WeekContext) -> tuple[np.ndarray, np.ndarray]:
        """Rules 1-4 for every resident. Returns who wants to start and the provider each picked."""
        p, hood = self.params, self.neighbourhood
        # 1. Needs and shocks.
        shocked = ctx.u_shock < self.p_shock
        self.need = np.minimum(self.need * (1 - p.need_recovery_rate) + shocked * p.shock_size, 1.0)
        # 2. Awareness and trust.
        pull = self.share_of_ties_attending(ctx.attending_at_start)
        a = self.awareness
        gain = p.outreach_awareness_rate * ctx.outreach[hood] + p.social_awareness_rate * pull
        self.awareness = a + gain * (1 - a) - p.awareness_decay * a
        # 3. Referral.
        state = self.state
        state[((state == REFERRED) | (state == DROPPED_OUT)) & (ctx.week >= self.state_until)] = (
            NOT_ENGAGED
        )
        eligible = ((state == NOT_ENGAGED) | (state == DROPPED_OUT)) & (
            self.need > p.referral_need_threshold
        )
        p_ref = ctx.referral_prob[hood]
        referred = np.flatnonzero(eligible & (ctx.u_ref < p_ref))
        state[referred] = REFERRED
        self.state_until[referred] = ctx.week + p.referral_weeks
        self.followed_up[referred] = ctx.u_ref[referred] / p_ref[referred] < ctx.follow_up_share
        a = self.awareness[referred]
        self.awareness[referred] = a + p.link_worker_awareness_gain * (1 - a)
        # 4. Engagement: drop out, or try to start.
        attending = state == ATTENDING
        drops = attending & (ctx.u_act < self.p_drop)
        state[drops] = DROPPED_OUT
        self.provider[drops] = -1
        self.came_by_referral[drops] = False
        self.state_until[drops] = ctx.week + p.dropout_memory_weeks
        helped = (state == REFERRED) & self.followed_up
        capacity = np.where(helped, np.minimum(self.capacity + p.follow_up_capacity_boost, 1.0),
                            self.capacity)
        boost_by_state = np.array([1.0, p.referral_boost_unfollowed, 1.0, p.reengage_factor])
        boost = np.where(helped, p.referral_boost_followed, boost_by_state[state])
        motivation = (1 + p.need_motivation * self.need) / (1 + p.need_motivation)
        p_start = np.minimum(
            p.uptake_rate * self.awareness * capacity * motivation * ctx.access[hood]
            * (1 + p.social_pull * pull) * boost,
            1.0,
        )
        starters = np.flatnonzero(~attending & (ctx.u_act < p_start))
        picks = pick_providers(ctx.candidates, hood[starters],
                               ctx.u_act[starters] / p_start[starters])
        return starters, picks

    def start(self, residents: np.ndarray, providers: np.ndarray) -> None:
        """The given residents got places at the given providers."""
        self.came_by_referral[residents] = self.state[residents] == REFERRED
        self.state[residents] = ATTENDING
        self.provider[residents] = providers

    def update_wellbeing(self, effect: np.ndarray, week: int) -> None:
        """Rule 5 for every resident; ``effect[j]`` is provider j's benefit at full dose."""
        p = self.params
        attending = self.state == ATTENDING
        self.last_attended[attending] = week
        b = self.benefit
        effect = np.append(effect, 0.0)  # so provider -1 (none) indexes a harmless 0
        self.benefit = np.where(
            attending,
            b + p.benefit_build_rate * (effect[self.provider] - b),
            b - p.benefit_decay_rate * b,
        )
        target = self.baseline - p.need_wellbeing_penalty * self.need + self.benefit
        w = self.wellbeing
        self.wellbeing = np.clip(w + p.wellbeing_adjust_rate * (target - w), 0.0, 10.0)

    def attenders_of(self, providers: np.ndarray) -> np.ndarray:
        """Indices (ascending) of residents attending any provider marked True in ``providers``
        (a boolean array over provider slots)."""
        lookup = np.append(providers, False)  # the last entry stands for "no provider" (-1)
        return np.flatnonzero(lookup[self.provider])

    def lose_places(self, residents: np.ndarray, week: int) -> None:
        """These attenders lost their group (it closed or cut their sessions): a forced stop,
        which adds ``forced_stop_need_shock`` to their need."""
        p = self.params
        self.state[residents] = DROPPED_OUT
        self.provider[residents] = -1
        self.came_by_referral[residents] = False
        self.state_until[residents] = week + p.dropout_memory_weeks
        self.need[residents] = np.minimum(self.need[residents] + p.forced_stop_need_shock, 1.0)

    def lose_trust(self, hoods: np.ndarray) -> None:
        """A provider closed in each of ``hoods`` (in provider order): everyone living there
        loses ``closure_trust_loss`` of their awareness and trust, compounding per closure."""
        per_hood, keep = self.params.residents_per_neighbourhood, 1 - self.params.closure_trust_loss
        for h in hoods:
            start = self.hood_start[h]
            self.awareness[start:start + per_hood] *= keep


def pick_providers(candidates: sp.csr_matrix, hoods: np.ndarray, v: np.ndarray) -> np.ndarray:
    """For each chooser (home ``hoods[k]``, uniform ``v[k]``), pick a provider by its pull.

    Provider j is picked when the running sum of pulls along the chooser's row first exceeds
    ``v * total``; this is :meth:`Resident.pick_provider` for all choosers at once.
    """
    cumulative = np.cumsum(candidates.data)
    row_start = candidates.indptr[hoods]
    before = np.where(row_start > 0, cumulative[row_start - 1], 0.0)
    totals = np.asarray(candidates.sum(axis=1)).ravel()[hoods]
    slot = np.searchsorted(cumulative, before + v * totals, side="right")
    last_in_row = candidates.indptr[hoods + 1] - 1  # rounding must not spill into the next row
    return candidates.indices[np.minimum(slot, last_in_row)].astype(np.int32)


def make_ties(hoods: Neighbourhoods, per_hood: int, params: Params,
              rng: np.random.Generator) -> sp.csr_matrix:
    """Undirected social ties: mostly within one's neighbourhood, some to nearby ones.

    Each resident starts Poisson(ties_per_resident / 2) ties; each goes to a random other
    resident of their own neighbourhood or, with chance ``ties_outside_neighbourhood``, of a
    random neighbourhood within reach. Ties are then made mutual, giving the target mean degree.
    """
    n = len(hoods) * per_hood
    if per_hood < 2 or params.ties_per_resident == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    stubs = rng.poisson(params.ties_per_resident / 2, n)
    source = np.repeat(np.arange(n), stubs)
    home = source // per_hood
    target_hood = home.copy()
    outside = rng.random(len(source)) < params.ties_outside_neighbourhood
    near = hoods.access.copy()
    near.setdiag(0)
    near.eliminate_zeros()
    counts = np.diff(near.indptr)
    movers = np.flatnonzero(outside & (counts[home] > 0))
    pick = (rng.random(len(movers)) * counts[home[movers]]).astype(int)
    target_hood[movers] = near.indices[near.indptr[home[movers]] + pick]
    u = rng.random(len(source))
    local = source % per_hood
    # Within one's own neighbourhood, anyone but oneself; elsewhere any resident will do.
    target_local = np.where(target_hood == home,
                            (local + 1 + (u * (per_hood - 1)).astype(int)) % per_hood,
                            (u * per_hood).astype(int))
    target = target_hood * per_hood + target_local
    ties = sp.coo_matrix((np.ones(len(source), dtype=np.float32), (source, target)), shape=(n, n))
    ties = (ties + ties.T).tocsr()
    ties.data[:] = 1.0  # a pair tied twice is still one tie
    ties.indices = ties.indices.astype(np.int32)
    ties.indptr = ties.indptr.astype(np.int64 if ties.nnz > 2**31 - 1 else np.int32)
    return ties


class Resident(ArrayView):
    """One resident, as a Mesa agent viewing entry ``index`` of the model's resident arrays.

    The methods below are the per-agent reference of the weekly rules: plain Python, one
    resident at a time. The fast model applies the same rules to all residents at once in
    :class:`ResidentState`; tests check the two agree.
    """

    neighbourhood = ArrayField("resident_state")
    deprivation = ArrayField("resident_state")
    capacity = ArrayField("resident_state")
    baseline = ArrayField("resident_state")
    p_shock = ArrayField("resident_state")
    p_drop = ArrayField("resident_state")
    need = ArrayField("resident_state")
    awareness = ArrayField("resident_state")
    wellbeing = ArrayField("resident_state")
    benefit = ArrayField("resident_state")
    state = ArrayField("resident_state")
    provider = ArrayField("resident_state")
    state_until = ArrayField("resident_state")
    followed_up = ArrayField("resident_state")
    came_by_referral = ArrayField("resident_state")
    last_attended = ArrayField("resident_state")

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    def friends(self) -> np.ndarray:
        """Indices of this resident's ties."""
        ties = self.model.resident_state.ties
        return ties.indices[ties.indptr[self.index]:ties.indptr[self.index + 1]]

    def decide(self, ctx: WeekContext) -> tuple[int, int] | None:
        """Rules 1-4. Returns (self.index, provider) if this resident wants to start, else None."""
        p, i, hood = self.model.params, self.index, self.neighbourhood
        # 1. Needs and shocks.
        need = self.need * (1 - p.need_recovery_rate)
        if ctx.u_shock[i] < self.p_shock:
            need = min(need + p.shock_size, 1.0)
        self.need = need
        # 2. Awareness and trust.
        friends = self.friends()
        pull = sum(bool(ctx.attending_at_start[j]) for j in friends) / len(friends) if len(
            friends) else 0.0
        a = self.awareness
        gain = p.outreach_awareness_rate * ctx.outreach[hood] + p.social_awareness_rate * pull
        self.awareness = a + gain * (1 - a) - p.awareness_decay * a
        # 3. Referral.
        if self.state in (REFERRED, DROPPED_OUT) and ctx.week >= self.state_until:
            self.state = NOT_ENGAGED
        if self.state in (NOT_ENGAGED, DROPPED_OUT) and self.need > p.referral_need_threshold:
            p_ref = ctx.referral_prob[hood]
            if ctx.u_ref[i] < p_ref:
                self.state = REFERRED
                self.state_until = ctx.week + p.referral_weeks
                self.followed_up = ctx.u_ref[i] / p_ref < ctx.follow_up_share
                self.awareness = self.awareness + p.link_worker_awareness_gain * (
                    1 - self.awareness)
        # 4. Engagement.
        if self.state == ATTENDING:
            if ctx.u_act[i] < self.p_drop:
                self.state = DROPPED_OUT
                self.provider = -1
                self.came_by_referral = False
                self.state_until = ctx.week + p.dropout_memory_weeks
            return None
        helped = self.state == REFERRED and self.followed_up
        capacity = min(self.capacity + p.follow_up_capacity_boost, 1.0) if helped else self.capacity
        if self.state == DROPPED_OUT:
            boost = p.reengage_factor
        elif helped:
            boost = p.referral_boost_followed
        elif self.state == REFERRED:
            boost = p.referral_boost_unfollowed
        else:
            boost = 1.0
        motivation = (1 + p.need_motivation * self.need) / (1 + p.need_motivation)
        p_start = min(
            p.uptake_rate * self.awareness * capacity * motivation * ctx.access[hood]
            * (1 + p.social_pull * pull) * boost,
            1.0,
        )
        if ctx.u_act[i] < p_start:
            return i, self.pick_provider(ctx, ctx.u_act[i] / p_start)
        return None

    def pick_provider(self, ctx: WeekContext, v: float) -> int:
        """Pick a reachable provider with a free place, each in proportion to its pull."""
        row = ctx.candidates.getrow(self.neighbourhood)
        target = v * row.sum()
        running = 0.0
        for provider, pull in zip(row.indices, row.data, strict=True):
            running += pull
            if running > target:
                return int(provider)
        return int(row.indices[-1])

    def start(self, provider: int) -> None:
        """This resident got a place at ``provider``."""
        self.came_by_referral = self.state == REFERRED
        self.state = ATTENDING
        self.provider = provider

    def update_wellbeing(self, effect: np.ndarray, week: int) -> None:
        """Rule 5: benefit builds while attending and fades otherwise; wellbeing follows."""
        p = self.model.params
        b = self.benefit
        if self.state == ATTENDING:
            self.last_attended = week
            self.benefit = b + p.benefit_build_rate * (effect[self.provider] - b)
        else:
            self.benefit = b - p.benefit_decay_rate * b
        target = self.baseline - p.need_wellbeing_penalty * self.need + self.benefit
        w = self.wellbeing
        self.wellbeing = min(max(w + p.wellbeing_adjust_rate * (target - w), 0.0), 10.0)

    def lose_place(self, week: int) -> None:
        """This resident lost their group (it closed or cut sessions): a forced stop, which
        adds to their need."""
        p = self.model.params
        self.state = DROPPED_OUT
        self.provider = -1
        self.came_by_referral = False
        self.state_until = week + p.dropout_memory_weeks
        self.need = min(self.need + p.forced_stop_need_shock, 1.0)

    def lose_trust(self) -> None:
        """A provider in this resident's neighbourhood closed: some trust in assets is lost."""
        self.awareness = self.awareness * (1 - self.model.params.closure_trust_loss)
