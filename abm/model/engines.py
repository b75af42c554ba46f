"""Three implementations of the resident and provider rules, behind one interface.

The model chooses an engine once, when it is built, and its weekly step calls the engine
without asking which it is:

- :class:`CompiledEngine` (``engine="fast"``, the default) runs the heaviest resident rules
  (1-6 and admission) as compiled loops (:mod:`abm.model.kernels`, numba), one pass over the
  residents each, and everything else as :class:`ArrayEngine` does;
- :class:`ArrayEngine` (``engine="numpy"``) applies each rule to every resident or provider at
  once, on the numpy arrays of :class:`~abm.model.residents.ResidentState` and
  :class:`~abm.model.providers.ProviderState`: the readable, pure-numpy path;
- :class:`AgentEngine` (``engine="agents"``) applies the same rules one Mesa agent at a time,
  through the plain-Python methods of :class:`~abm.model.residents.Resident` and
  :class:`~abm.model.providers.Provider`. It is the executable specification, and slow.

All three give identical states, bit for bit: the compiled loops do numpy's floating-point
operations in numpy's order (``tests/model/test_reference.py`` runs the reference against
both array engines, ``tests/model/test_kernels.py`` each kernel against its numpy rule).
Both array engines run R replicates at once (:mod:`abm.model.replicas`).

``engine=None`` takes the environment variable ``ABM_ENGINE`` (``fast`` or ``numpy``; unset:
``fast``), so a whole test run or sweep can be switched to the numpy path without changing
code: ``ABM_ENGINE=numpy python -m pytest tests/model``.

What they share (the week's random draws, the commissioner's funding round, the context
residents see) is computed by the model once and handed to the engine.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

from abm.files.errors import InputError
from abm.model import kernels
from abm.model.randomness import ReplicateStreams
from abm.model.residents import ATTENDING, WEEKS_PER_YEAR, Resident, WeekContext
from abm.model.simulation import Simulation

#: The environment variable naming the engine a model uses when it is given none.
ENGINE_VARIABLE = "ABM_ENGINE"
#: Engines that run R replicates as one set of arrays.
ARRAY_ENGINES = ("fast", "numpy")


def reachable_providers(access: sp.csr_matrix, slot_hood: np.ndarray,
                        with_space: np.ndarray) -> sp.csr_matrix:
    """The candidates matrix [neighbourhood, provider slot]: for each neighbourhood, the pull
    (``access``, 0-1) of every slot in ``with_space`` (ascending) it can reach, columns in
    slot order, as scipy's sparse product ``access @ located`` gives it."""
    located = sp.csr_matrix((np.ones(len(with_space)), (slot_hood[with_space], with_space)),
                            shape=(access.shape[1], len(slot_hood)))
    candidates = (access @ located).tocsr()
    candidates.sort_indices()
    return candidates


def rank_among_equals(sorted_keys: np.ndarray) -> np.ndarray:
    """For keys sorted ascending, each entry's position among equal keys: 0, 1, 2, 0, 1, ..."""
    return np.arange(len(sorted_keys)) - np.searchsorted(sorted_keys, sorted_keys, side="left")


class ArrayEngine:
    """The rules applied to all residents and providers at once, in numpy."""

    name = "numpy"

    def __init__(self, model: Simulation):
        self.rs, self.ps = model.resident_state, model.provider_state
        self.access = model.hoods.access  # the map does not change during a run

    def candidates(self, with_space: np.ndarray) -> sp.csr_matrix:
        """The week's candidates matrix for the provider slots ``with_space`` (ascending):
        :func:`reachable_providers` on the model's map."""
        return reachable_providers(self.access, self.ps.neighbourhood, with_space)

    def row_sums(self, candidates: sp.csr_matrix) -> np.ndarray:
        """Each neighbourhood's total pull of the providers it can reach."""
        return np.asarray(candidates.sum(axis=1)).ravel()

    def decide(self, ctx: WeekContext) -> tuple[np.ndarray, np.ndarray]:
        """Resident rules 1-4; who wants to start and the provider each picked."""
        return self.rs.decide(ctx)

    def admit(self, starters: np.ndarray, picks: np.ndarray, first: np.ndarray,
              priority: np.ndarray, week: int) -> None:
        """Give places to starters until each provider is full: those marked ``first``
        before the others, each group in order of ``priority`` (lowest first)."""
        spare = self.ps.places - self.ps.attendees(self.rs.provider)
        order = np.lexsort((priority, ~first, picks))  # by provider, first, then priority
        wanted = picks[order]
        ok = rank_among_equals(wanted) < spare[wanted]
        self.rs.start(starters[order][ok], wanted[ok], week)

    def update_wellbeing(self, week: int) -> None:
        """Resident rule 5."""
        self.rs.update_wellbeing(self.ps.effect, self.ps.kind, week)

    def update_ties(self, u_tie: np.ndarray) -> None:
        """Resident rule 6."""
        self.rs.update_ties(u_tie)

    def uniforms(self, streams: ReplicateStreams, stream: str, week: int, count: int,
                 per_item: int = 1) -> np.ndarray:
        """Replicates' uniforms of ``stream`` in ``week``, ``count`` items each, replicate
        after replicate (see :meth:`ReplicateStreams.uniforms`)."""
        return streams.uniforms(stream, week, count, per_item)

    def lose_places(self, residents: np.ndarray, week: int) -> None:
        """These residents lost their group: a forced stop."""
        self.rs.lose_places(residents, week)

    def lose_trust(self, hoods: np.ndarray) -> None:
        """A provider closed in each of ``hoods``: trust falls there."""
        self.rs.lose_trust(hoods)

    def pay_week(self) -> np.ndarray:
        """A week of provider finances; the slots that ran out of money."""
        return self.ps.pay_week()

    def plan(self, slots: np.ndarray | None = None) -> None:
        """Providers (all open ones, or ``slots``) choose this year's places."""
        self.ps.plan(slots)


class CompiledEngine(ArrayEngine):
    """:class:`ArrayEngine` with rules 1-6 and admission as compiled loops (the default).

    Each kernel takes the model's arrays and works on them in place; parameters come as one
    value per replicate (built once per run), so replicates with their own parameter values
    run in the same call. The week's candidates matrix is built by a compiled pass too. Rule
    0 (community development, per neighbourhood), the rest of the week's context, provider
    finances, commissioning and the accounts stay on numpy: they are a small share of the
    week or yearly.
    """

    name = "fast"

    def __init__(self, model: Simulation):
        super().__init__(model)
        self.model = model
        params = [replica.params for replica in model.replicas]
        #: Residents per replicate (kernels loop replicate by replicate).
        self.per = model.residents_each
        self.decide_params = kernels.params_for(kernels.DecideParams, params)
        self.wellbeing_params = kernels.params_for(kernels.WellbeingParams, params)
        self.tie_params = kernels.params_for(kernels.TieParams, params)
        #: The map by the neighbourhood reached (row) and the one reaching it (column), for
        #: :func:`kernels.candidates`.
        self.reached_from = self.access.T.tocsr()

    def candidates(self, with_space: np.ndarray) -> sp.csr_matrix:
        """The week's candidates matrix, built in one compiled pass (no sparse product):
        the same matrix as :func:`reachable_providers`, bit for bit."""
        r, n_hoods, slot_hood = self.reached_from, self.access.shape[0], self.ps.neighbourhood
        indptr, indices, data = kernels.candidates(r.indptr, r.indices, r.data, slot_hood,
                                                   with_space, n_hoods)
        return sp.csr_matrix((data, indices, indptr), shape=(n_hoods, len(slot_hood)))

    def row_sums(self, candidates: sp.csr_matrix) -> np.ndarray:
        return kernels.row_sums(candidates.indptr, candidates.data)

    def decide(self, ctx: WeekContext) -> tuple[np.ndarray, np.ndarray]:
        rs = self.rs
        rs.develop(ctx.cd_coverage)
        kernels.share_of_ties_attending(ctx.attending_at_start, rs._counted, rs.ties_attending,
                                        rs.ties.indptr, rs.ties.indices, rs.degree,
                                        rs.friends, rs.tie_strength, rs.pull)
        c = ctx.candidates
        follow_up = np.array([r.commissioner.plan.follow_up_share
                              for r in self.model.replicas], dtype=float)
        return kernels.decide(
            self.decide_params, self.per, ctx.week, rs.neighbourhood, rs.capacity, rs.p_shock,
            rs.p_drop, rs.belonging, rs.need, rs.need_untouched, rs.awareness, rs.state,
            rs.state_until, rs.followed_up, rs.provider, rs.came_by_referral, rs.pull,
            rs.cd_level, bool(rs.cd_level.any()), ctx.u_shock, ctx.u_act, ctx.u_ref,
            ctx.outreach, ctx.access, ctx.referral_prob, follow_up, c.indptr, c.indices,
            c.data, kernels.row_sums(c.indptr, c.data))

    def admit(self, starters: np.ndarray, picks: np.ndarray, first: np.ndarray,
              priority: np.ndarray, week: int) -> None:
        admitted, chosen = kernels.admit(starters, picks, first, priority, self.ps.places,
                                         self.rs.provider)
        self.rs.start(admitted, chosen, week)

    def update_wellbeing(self, week: int) -> None:
        rs, ps = self.rs, self.ps
        kernels.update_wellbeing(
            self.wellbeing_params, self.per, week, rs.neighbourhood, rs.capacity, rs.cd_level,
            bool(rs.cd_level.any()), rs.green_access, rs.baseline, rs.state, rs.provider,
            ps.effect, ps.kind, rs.need, rs.benefit, rs.belonging, rs.green_benefit,
            rs.wellbeing, rs.last_attended)

    def uniforms(self, streams: ReplicateStreams, stream: str, week: int, count: int,
                 per_item: int = 1) -> np.ndarray:
        """All replicates' draws in one compiled call from their seed words: the same values
        as their generators give, without building R generators."""
        out = np.empty(len(streams) * count * per_item)
        kernels.pcg64_fill(streams.words(stream, week),
                           np.full(len(streams), count * per_item), out)
        return out if per_item == 1 else out.reshape(-1, per_item)

    def update_ties(self, u_tie: np.ndarray) -> None:
        rs = self.rs
        kernels.update_ties(self.tie_params, self.per, rs.state, rs.provider, rs.friends,
                            rs.tie_strength, u_tie, len(self.ps))


class AgentEngine:
    """The same rules, one Mesa agent at a time (the reference; slow)."""

    name = "agents"

    def __init__(self, model: Simulation):
        self.model = model
        self.residents: list[Resident] = sorted(model.residents, key=lambda r: r.index)

    def candidates(self, with_space: np.ndarray) -> sp.csr_matrix:
        return reachable_providers(self.model.hoods.access,
                                   self.model.provider_state.neighbourhood, with_space)

    row_sums = ArrayEngine.row_sums

    def decide(self, ctx: WeekContext) -> tuple[np.ndarray, np.ndarray]:
        rs, p = self.model.resident_state, self.model.params
        if ctx.cd_coverage.any() or rs.cd_level.any():  # rule 0, one neighbourhood at a time
            rate = -np.expm1(-1 / (p.cd_years_to_effect * WEEKS_PER_YEAR))
            rs.cd_level = np.array([level + rate * (coverage - level) for level, coverage
                                    in zip(rs.cd_level, ctx.cd_coverage, strict=True)])
        intents = [x for x in (r.decide(ctx) for r in self.residents) if x is not None]
        return (np.array([i for i, _ in intents], dtype=np.int64),
                np.array([j for _, j in intents], dtype=np.int32))

    def admit(self, starters: np.ndarray, picks: np.ndarray, first: np.ndarray,
              priority: np.ndarray, week: int) -> None:
        ps, rs = self.model.provider_state, self.model.resident_state
        spare = ps.places - ps.attendees(rs.provider)
        for k in sorted(range(len(starters)), key=lambda k: (not first[k], priority[k])):
            provider = int(picks[k])
            if spare[provider] > 0:
                spare[provider] -= 1
                self.residents[starters[k]].start(provider, week)

    def update_wellbeing(self, week: int) -> None:
        ps = self.model.provider_state
        for resident in self.residents:
            resident.update_wellbeing(ps.effect, ps.kind, week)

    def update_ties(self, u_tie: np.ndarray) -> None:
        for resident in self.residents:
            resident.fade_ties()
        attenders: dict[int, list[int]] = {}
        for resident in self.residents:  # in index order
            if resident.state == ATTENDING:
                attenders.setdefault(int(resident.provider), []).append(resident.index)
        for resident in self.residents:
            if resident.state == ATTENDING:
                resident.make_tie(u_tie[resident.index], attenders[int(resident.provider)])

    def lose_places(self, residents: np.ndarray, week: int) -> None:
        for index in residents:
            self.residents[index].lose_place(week)

    def lose_trust(self, hoods: np.ndarray) -> None:
        for hood in hoods:
            for resident in self.residents:
                if resident.neighbourhood == hood:
                    resident.lose_trust()

    def pay_week(self) -> np.ndarray:
        return np.array([p.index for p in self._providers() if p.pay_week()], dtype=np.int64)

    def plan(self, slots: np.ndarray | None = None) -> None:
        chosen = None if slots is None else set(int(s) for s in slots)
        for provider in self._providers():
            if provider.open and (chosen is None or provider.index in chosen):
                provider.plan()

    def _providers(self):
        """Provider agents in slot order."""
        return sorted(self.model.providers, key=lambda p: p.index)


ENGINES = {engine.name: engine for engine in (CompiledEngine, ArrayEngine, AgentEngine)}


def engine_named(name: str | None) -> str:
    """The engine a model uses: ``name``, or when it is None the environment variable
    :data:`ENGINE_VARIABLE` (default ``fast``)."""
    where = ""
    if name is None:
        name, where = os.environ.get(ENGINE_VARIABLE) or "fast", f" (from {ENGINE_VARIABLE})"
    if name not in ENGINES:
        raise InputError(f"unknown engine '{name}'{where}: allowed are {', '.join(ENGINES)}")
    return name
