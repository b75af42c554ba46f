"""Residents: their state as arrays, the weekly rules vectorised, and the same rules per agent.

:class:`ResidentState` holds every resident's state in numpy arrays (one entry per resident,
residents of a neighbourhood contiguous) and applies the weekly rules to all residents at
once; this is the hot path. :class:`Resident` is a Mesa agent that views one entry of those
arrays; its methods apply the *same* rules one resident at a time, in plain Python. They are
the executable specification: the test suite runs both and checks they agree.

Weekly rules, in order (``decide``; then, after the model admits starters to groups with
room, ``update_wellbeing`` and ``update_ties``):

0. Community development: where community development workers are, its effect builds (and
   where they have gone, fades) with time constant ``cd_years_to_effect``; it adds
   ``cd_capacity_gain`` to residents' capacity to take part and ``cd_awareness_rate`` to
   their weekly gain in awareness and trust.
1. Needs: need fades by ``need_recovery_rate``, (1 + ``group_recovery_boost`` x belonging)
   times as fast for those who belong to a group; a shock (chance ``p_shock``, higher where
   deprived; ``group_shock_protection`` x belonging of them averted) adds ``shock_size``.
   Beside it, ``need_untouched`` follows the same shocks with no asset touching it (no
   protection, no forced stops): what the gap decomposition compares need with.
2. Awareness and trust: grow with local providers' outreach and with the share of one's ties
   who attend (ties from set-up and ties made in groups, weighted by their strength); fade
   by ``awareness_decay``.
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
   and fades otherwise; belonging builds while attending (``belonging_build_rate``) and fades
   after (``belonging_decay_rate``); the benefit of green space moves towards
   ``green_space_effect`` x the neighbourhood's green-space access x how often one visits
   (``green_visit_share`` x capacity; attenders of nature-based groups visit fully);
   wellbeing moves towards baseline - need penalty x need + benefit + green-space benefit.
6. Ties: a tie made in a group is kept at full strength while both attend the same group and
   fades by ``group_tie_decay_rate`` a week otherwise (dropped below :data:`TIE_GONE`); each
   week an attender makes a new tie with another attender of their group with chance
   ``group_tie_rate`` (into the weakest of :data:`GROUP_TIES` slots).

Losing one's group (it closes or cuts the sessions one went to) is a forced stop: it adds
``forced_stop_need_shock`` to need (``lose_places``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import scipy.sparse as sp

from abm.model.parameters import Params, ReplicateParams
from abm.model.places import Neighbourhoods
from abm.model.views import ArrayField, ArrayView

# Engagement states.
NOT_ENGAGED, REFERRED, ATTENDING, DROPPED_OUT = 0, 1, 2, 3
#: Ties made in groups that a resident keeps at once.
GROUP_TIES = 4
#: A tie made in a group whose strength falls below this is gone.
TIE_GONE = 0.05
#: Code of nature-based groups in :data:`abm.model.providers.KINDS`.
NATURE = 1
WEEKS_PER_YEAR = 52
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
    follow_up_share: Any  # chance a referral is followed up (3+ contacts): one, or per resident
    u_tie: np.ndarray  # one uniform per resident, ``ties`` stream
    cd_coverage: np.ndarray  # per neighbourhood: community development workers there, 0-1


def at(value: Any, where: Any) -> Any:
    """``value[where]``, or ``value`` itself when it is one number for everyone (a parameter
    that every replicate shares)."""
    return value if np.ndim(value) == 0 else value[where]


class ResidentState:
    """Every resident's state, one array entry per resident, and the vectorised weekly rules.

    The residents of several replicates run together are one state
    (:meth:`concatenate`); ``params`` and ``hood_params`` then give each resident, and each
    neighbourhood, its replicate's parameter values (:class:`ReplicateParams`).
    """

    #: Arrays with one entry per resident (``concatenate`` joins them replicate by replicate).
    PER_RESIDENT = ("decile", "quintile", "deprivation", "capacity", "baseline", "p_shock",
                    "p_drop", "degree", "ties_attending", "_counted", "friends", "tie_strength",
                    "pull", "belonging", "need_untouched", "green_benefit", "start_week",
                    "need", "awareness", "wellbeing", "benefit", "state", "provider",
                    "state_until", "followed_up", "came_by_referral", "last_attended")

    def __init__(self, hoods: Neighbourhoods, params: Params, rng: np.random.Generator):
        """Synthesise the residents of ``hoods``: deprivation, capacity, baseline and ties."""
        p = params
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
        #: Per neighbourhood: how much green space is within reach, 0-1.
        self.green_access = 1 - p.green_access_deprivation_effect * hoods.deprivation
        # Dynamic state.
        self.friends = np.full((n, GROUP_TIES), -1, dtype=np.int32)  # ties made in groups
        self.tie_strength = np.zeros((n, GROUP_TIES))  # 0-1, per tie made in a group
        self.pull = np.zeros(n)  # share of ties attending, as last worked out
        self.cd_level = np.zeros(n_hoods)  # community development's effect per neighbourhood
        self.belonging = np.zeros(n)
        self.need_untouched = np.zeros(n)
        self.green_benefit = np.zeros(n)
        self.start_week = np.zeros(n, dtype=np.int32)  # week the current attendance began
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
        self.replicate_params = [params]
        self.params = ReplicateParams([params], n)
        self.hood_params = ReplicateParams([params], n_hoods)

    @classmethod
    def concatenate(cls, states: list[ResidentState], hoods: list[Neighbourhoods]
                    ) -> ResidentState:
        """The residents of several replicates as one state, replicate after replicate, with
        neighbourhoods and ties numbered across them (see :mod:`abm.model.replicas`)."""
        out = object.__new__(cls)
        n, n_hoods = states[0].n, len(hoods[0])
        per_hood = n // n_hoods
        out.n = n * len(states)
        for name in cls.PER_RESIDENT:
            setattr(out, name, np.concatenate([getattr(s, name) for s in states]))
        out.neighbourhood = np.concatenate([s.neighbourhood + r * n_hoods
                                            for r, s in enumerate(states)]).astype(np.int32)
        out.hood_start = np.arange(n_hoods * len(states)) * per_hood
        ties = sp.block_diag([s.ties for s in states], format="csr")
        ties.indices = ties.indices.astype(np.int32)
        out.ties = ties
        out.green_access = np.concatenate([s.green_access for s in states])
        out.cd_level = np.zeros(n_hoods * len(states))
        out.replicate_params = [s.replicate_params[0] for s in states]
        out.params = ReplicateParams(out.replicate_params, n)
        out.hood_params = ReplicateParams(out.replicate_params, n_hoods)
        return out

    def capacity_now(self) -> np.ndarray:
        """Capacity to take part this week: the resident's own, plus what community
        development has built where they live (capped at 1)."""
        if not self.cd_level.any():
            return self.capacity
        gain = self.params.cd_capacity_gain * self.cd_level[self.neighbourhood]
        return np.minimum(self.capacity + gain, 1.0)

    def dropout_chance(self, capacity: np.ndarray) -> np.ndarray:
        """Weekly chance an attender stops, given capacity to take part."""
        if capacity is self.capacity:
            return self.p_drop
        p = self.params
        return p.dropout_rate * (1 + p.dropout_capacity_effect * (1 - capacity))

    def share_of_ties_attending(self, attending: np.ndarray) -> np.ndarray:
        """Per resident, the share of their ties who attend (0 for residents without ties):
        ties from set-up count 1 each, ties made in groups their strength.

        For ties from set-up, ``ties @ attending`` is kept up to date by visiting only the
        ties of residents whose attendance changed since the last call (a few percent a
        week).
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
        if not (self.friends >= 0).any():  # no ties made in groups yet
            return np.divide(self.ties_attending, self.degree, out=np.zeros(self.n),
                             where=self.degree > 0)
        strength = self.tie_strength
        friend_attends = np.append(attending, False)[self.friends]  # -1 (none) reads False
        group_attending = (strength * friend_attends).sum(axis=1)
        degree = self.degree + strength.sum(axis=1)
        return np.divide(self.ties_attending + group_attending, degree, out=np.zeros(self.n),
                         where=degree > 0)

    def develop(self, coverage: np.ndarray) -> None:
        """Rule 0: community development's effect builds where its workers are (``coverage``
        per neighbourhood, 0-1) and fades where they left."""
        if coverage.any() or self.cd_level.any():
            rate = -np.expm1(-1 / (self.hood_params.cd_years_to_effect * WEEKS_PER_YEAR))
            self.cd_level = self.cd_level + rate * (coverage - self.cd_level)

    def decide(self, ctx: WeekContext) -> tuple[np.ndarray, np.ndarray]:
        """Rules 0-4 for every resident. Returns who wants to start and the provider each picked."""
        p, hood = self.params, self.neighbourhood
        self.develop(ctx.cd_coverage)
        capacity_now = self.capacity_now()
        # 1. Needs and shocks: belonging to a group protects; the untouched need does not.
        b = self.belonging
        shocked = ctx.u_shock < self.p_shock * (1 - p.group_shock_protection * b)
        recovery = np.minimum(p.need_recovery_rate * (1 + p.group_recovery_boost * b), 1.0)
        self.need = np.minimum(self.need * (1 - recovery) + shocked * p.shock_size, 1.0)
        shocked = ctx.u_shock < self.p_shock
        self.need_untouched = np.minimum(
            self.need_untouched * (1 - p.need_recovery_rate) + shocked * p.shock_size, 1.0)
        # 2. Awareness and trust.
        pull = self.pull = self.share_of_ties_attending(ctx.attending_at_start)
        a = self.awareness
        gain = p.outreach_awareness_rate * ctx.outreach[hood] + p.social_awareness_rate * pull
        if self.cd_level.any():
            gain = gain + p.cd_awareness_rate * self.cd_level[hood]
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
        self.state_until[referred] = ctx.week + at(p.referral_weeks, referred)
        self.followed_up[referred] = (ctx.u_ref[referred] / p_ref[referred]
                                      < at(ctx.follow_up_share, referred))
        a = self.awareness[referred]
        self.awareness[referred] = a + at(p.link_worker_awareness_gain, referred) * (1 - a)
        # 4. Engagement: drop out, or try to start.
        attending = state == ATTENDING
        drops = attending & (ctx.u_act < self.dropout_chance(capacity_now))
        state[drops] = DROPPED_OUT
        self.provider[drops] = -1
        self.came_by_referral[drops] = False
        self.state_until[drops] = ctx.week + at(p.dropout_memory_weeks, drops)
        helped = (state == REFERRED) & self.followed_up
        capacity = np.where(helped, np.minimum(capacity_now + p.follow_up_capacity_boost, 1.0),
                            capacity_now)
        boost = np.where(state == REFERRED, p.referral_boost_unfollowed,
                         np.where(state == DROPPED_OUT, p.reengage_factor, 1.0))
        boost = np.where(helped, p.referral_boost_followed, boost)
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

    def start(self, residents: np.ndarray, providers: np.ndarray, week: int) -> None:
        """The given residents got places at the given providers in ``week``."""
        self.came_by_referral[residents] = self.state[residents] == REFERRED
        self.state[residents] = ATTENDING
        self.provider[residents] = providers
        self.start_week[residents] = week

    def update_wellbeing(self, effect: np.ndarray, kind: np.ndarray, week: int) -> None:
        """Rule 5 for every resident; ``effect[j]`` is provider j's benefit at full dose and
        ``kind[j]`` its kind."""
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
        g = self.belonging
        self.belonging = np.where(attending, g + p.belonging_build_rate * (1 - g),
                                  g - p.belonging_decay_rate * g)
        nature = attending & (np.append(kind, -1)[self.provider] == NATURE)
        visits = np.where(nature, 1.0, p.green_visit_share * self.capacity_now())
        green = p.green_space_effect * self.green_access[self.neighbourhood] * visits
        self.green_benefit = self.green_benefit + p.benefit_build_rate * (
            green - self.green_benefit)
        w = self.wellbeing
        self.wellbeing = np.clip(w + p.wellbeing_adjust_rate * (self.target() - w), 0.0, 10.0)

    def target(self) -> np.ndarray:
        """The life satisfaction wellbeing moves towards: baseline - need penalty x need +
        benefit of attending + benefit of green space."""
        p = self.params
        return (self.baseline - p.need_wellbeing_penalty * self.need + self.benefit
                + self.green_benefit)

    def update_ties(self, u_tie: np.ndarray) -> None:
        """Rule 6: ties made in groups are kept while both attend the same group and fade
        otherwise; attenders make new ties at their group (``u_tie``: one uniform each)."""
        p = self.params
        attending = self.state == ATTENDING
        friends, strength = self.friends, self.tie_strength
        if (friends >= 0).any():
            group = np.where(attending, self.provider, -1)
            friend_group = np.append(group, -1)[friends]
            together = (friends >= 0) & (friend_group == group[:, None]) & (friend_group >= 0)
            keep = 1 - np.reshape(p.group_tie_decay_rate, (-1, 1))
            strength = np.where(together, 1.0, strength * keep)
            gone = (friends >= 0) & (strength < TIE_GONE)
            friends[gone] = -1
            strength[friends < 0] = 0.0
            self.tie_strength = strength
        makers = np.flatnonzero(attending & (u_tie < p.group_tie_rate))
        if not len(makers):
            return
        attenders = np.flatnonzero(attending)
        order = attenders[np.argsort(self.provider[attenders], kind="stable")]
        groups = self.provider[order]
        first = np.searchsorted(groups, self.provider[makers], side="left")
        size = np.searchsorted(groups, self.provider[makers], side="right") - first
        keep = size >= 2
        makers, first, size = makers[keep], first[keep], size[keep]
        rank = np.empty(self.n, dtype=np.int64)
        rank[order] = np.arange(len(order))
        own = rank[makers] - first
        pick = np.minimum((u_tie[makers] / at(p.group_tie_rate, makers)
                           * (size - 1)).astype(np.int64), size - 2)
        met = order[first + pick + (pick >= own)].astype(np.int32)
        known = friends[makers] == met[:, None]
        slot = np.where(known.any(axis=1), known.argmax(axis=1),
                        self.tie_strength[makers].argmin(axis=1))
        friends[makers, slot] = met
        self.tie_strength[makers, slot] = 1.0

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
        self.state_until[residents] = week + at(p.dropout_memory_weeks, residents)
        self.need[residents] = np.minimum(
            self.need[residents] + at(p.forced_stop_need_shock, residents), 1.0)

    def lose_trust(self, hoods: np.ndarray) -> None:
        """A provider closed in each of ``hoods`` (in provider order): everyone living there
        loses ``closure_trust_loss`` of their awareness and trust, compounding per closure."""
        per_hood = self.params.residents_per_neighbourhood
        keep = 1 - self.hood_params.closure_trust_loss
        for h in hoods:
            start = self.hood_start[h]
            self.awareness[start:start + per_hood] *= at(keep, h)


def pick_providers(candidates: sp.csr_matrix, hoods: np.ndarray, v: np.ndarray) -> np.ndarray:
    """For each chooser (home ``hoods[k]``, uniform ``v[k]``), pick a provider by its pull.

    Provider j is picked when the running sum of pulls along the chooser's row first exceeds
    ``v * total``; this is :meth:`Resident.pick_provider` for all choosers at once. Each
    row's running sums start from 0 at the row, as the reference's do, so a choice does not
    depend on other rows (nor, with replicates run together, on other replicates).
    """
    if not len(hoods):
        return np.zeros(0, dtype=np.int32)
    rows, inverse = np.unique(hoods, return_inverse=True)
    start, length = candidates.indptr[rows], np.diff(candidates.indptr)[rows]
    width = max(int(length.max()), 1)
    position = np.arange(width)
    inside = position < length[:, None]
    padded = np.zeros((len(rows), width))
    padded[inside] = candidates.data[(start[:, None] + position)[inside]]
    running = np.cumsum(padded, axis=1)  # row by row, left to right
    totals = np.asarray(candidates.sum(axis=1)).ravel()[hoods]
    above = running[inverse] > (v * totals)[:, None]
    first = np.where(above.any(axis=1), above.argmax(axis=1), length[inverse] - 1)
    last = length[inverse] - 1  # rounding must not run past the row's end
    return candidates.indices[start[inverse] + np.minimum(first, last)].astype(np.int32)


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
    friends = ArrayField("resident_state")  # a row: ties made in groups (-1: none)
    tie_strength = ArrayField("resident_state")  # a row
    pull = ArrayField("resident_state")
    belonging = ArrayField("resident_state")
    need_untouched = ArrayField("resident_state")
    green_benefit = ArrayField("resident_state")
    start_week = ArrayField("resident_state")

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    def set_up_ties(self) -> np.ndarray:
        """Indices of the ties this resident had from the start."""
        ties = self.model.resident_state.ties
        return ties.indices[ties.indptr[self.index]:ties.indptr[self.index + 1]]

    def capacity_now(self) -> float:
        """Capacity to take part: one's own plus what community development has built."""
        rs = self.model.resident_state
        if not rs.cd_level.any():
            return self.capacity
        gain = self.model.params.cd_capacity_gain * rs.cd_level[self.neighbourhood]
        return min(self.capacity + gain, 1.0)

    def decide(self, ctx: WeekContext) -> tuple[int, int] | None:
        """Rules 1-4. Returns (self.index, provider) if this resident wants to start, else None."""
        p, i, hood = self.model.params, self.index, self.neighbourhood
        cd_level = self.model.resident_state.cd_level  # rule 0: the engine updates it
        capacity_now = self.capacity_now()
        # 1. Needs and shocks: belonging to a group protects; the untouched need does not.
        b = self.belonging
        recovery = min(p.need_recovery_rate * (1 + p.group_recovery_boost * b), 1.0)
        need = self.need * (1 - recovery)
        if ctx.u_shock[i] < self.p_shock * (1 - p.group_shock_protection * b):
            need = min(need + p.shock_size, 1.0)
        self.need = need
        untouched = self.need_untouched * (1 - p.need_recovery_rate)
        if ctx.u_shock[i] < self.p_shock:
            untouched = min(untouched + p.shock_size, 1.0)
        self.need_untouched = untouched
        # 2. Awareness and trust.
        attending_ties = sum(bool(ctx.attending_at_start[j]) for j in self.set_up_ties())
        degree = float(len(self.set_up_ties()))
        group_attending = group_degree = 0.0
        for j, s in zip(self.friends, self.tie_strength, strict=True):
            group_attending += s * bool(j >= 0 and ctx.attending_at_start[j])
            group_degree += s
        total = degree + group_degree
        pull = (attending_ties + group_attending) / total if total > 0 else 0.0
        self.pull = pull
        a = self.awareness
        gain = p.outreach_awareness_rate * ctx.outreach[hood] + p.social_awareness_rate * pull
        if cd_level.any():
            gain = gain + p.cd_awareness_rate * cd_level[hood]
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
            p_drop = (self.p_drop if not cd_level.any() else p.dropout_rate * (
                1 + p.dropout_capacity_effect * (1 - capacity_now)))
            if ctx.u_act[i] < p_drop:
                self.state = DROPPED_OUT
                self.provider = -1
                self.came_by_referral = False
                self.state_until = ctx.week + p.dropout_memory_weeks
            return None
        helped = self.state == REFERRED and self.followed_up
        capacity = min(capacity_now + p.follow_up_capacity_boost, 1.0) if helped else capacity_now
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

    def start(self, provider: int, week: int) -> None:
        """This resident got a place at ``provider`` in ``week``."""
        self.came_by_referral = self.state == REFERRED
        self.state = ATTENDING
        self.provider = provider
        self.start_week = week

    def update_wellbeing(self, effect: np.ndarray, kind: np.ndarray, week: int) -> None:
        """Rule 5: benefit and belonging build while attending and fade otherwise; the
        benefit of green space follows visits; wellbeing follows."""
        p, rs = self.model.params, self.model.resident_state
        b, g = self.benefit, self.belonging
        attending = self.state == ATTENDING
        if attending:
            self.last_attended = week
            self.benefit = b + p.benefit_build_rate * (effect[self.provider] - b)
            self.belonging = g + p.belonging_build_rate * (1 - g)
        else:
            self.benefit = b - p.benefit_decay_rate * b
            self.belonging = g - p.belonging_decay_rate * g
        nature = attending and kind[self.provider] == NATURE
        visits = 1.0 if nature else p.green_visit_share * self.capacity_now()
        green = p.green_space_effect * rs.green_access[self.neighbourhood] * visits
        self.green_benefit = self.green_benefit + p.benefit_build_rate * (
            green - self.green_benefit)
        target = (self.baseline - p.need_wellbeing_penalty * self.need + self.benefit
                  + self.green_benefit)
        w = self.wellbeing
        self.wellbeing = min(max(w + p.wellbeing_adjust_rate * (target - w), 0.0), 10.0)

    def fade_ties(self) -> None:
        """Rule 6, first part: ties made in groups stay at full strength while both attend
        the same group and fade otherwise; a tie too weak is gone."""
        p, rs = self.model.params, self.model.resident_state
        for k, j in enumerate(self.friends):
            if j < 0:
                self.tie_strength[k] = 0.0
                continue
            together = (self.state == ATTENDING and rs.state[j] == ATTENDING
                        and rs.provider[j] == self.provider)
            strength = 1.0 if together else self.tie_strength[k] * (1 - p.group_tie_decay_rate)
            if strength < TIE_GONE:
                self.friends[k], strength = -1, 0.0
            self.tie_strength[k] = strength

    def make_tie(self, u: float, attenders_here: list[int]) -> None:
        """Rule 6, second part: with chance ``group_tie_rate``, make a tie with another of
        ``attenders_here`` (this resident's group, in index order)."""
        rate = self.model.params.group_tie_rate
        if self.state != ATTENDING or not u < rate or len(attenders_here) < 2:
            return
        own = attenders_here.index(self.index)
        pick = min(int(u / rate * (len(attenders_here) - 1)), len(attenders_here) - 2)
        met = attenders_here[pick + 1 if pick >= own else pick]
        friends = list(self.friends)
        slot = friends.index(met) if met in friends else int(np.argmin(self.tie_strength))
        self.friends[slot] = met
        self.tie_strength[slot] = 1.0

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
