"""Two implementations of the resident and provider rules, behind one interface.

The model chooses an engine once, when it is built, and its weekly step calls the engine
without asking which it is:

- :class:`ArrayEngine` (``engine="fast"``, the default) applies each rule to every resident or
  provider at once, on the numpy arrays of :class:`~abm.model.residents.ResidentState` and
  :class:`~abm.model.providers.ProviderState`;
- :class:`AgentEngine` (``engine="agents"``) applies the same rules one Mesa agent at a time,
  through the plain-Python methods of :class:`~abm.model.residents.Resident` and
  :class:`~abm.model.providers.Provider`. It is the executable specification, and slow; the tests
  check that both engines give identical states.

What they share (the week's random draws, the commissioner's funding round, the context
residents see) is computed by the model once and handed to the engine.
"""

from __future__ import annotations

import numpy as np

from abm.model.residents import ATTENDING, WEEKS_PER_YEAR, Resident, WeekContext
from abm.model.simulation import Simulation


def rank_among_equals(sorted_keys: np.ndarray) -> np.ndarray:
    """For keys sorted ascending, each entry's position among equal keys: 0, 1, 2, 0, 1, ..."""
    return np.arange(len(sorted_keys)) - np.searchsorted(sorted_keys, sorted_keys, side="left")


class ArrayEngine:
    """The rules applied to all residents and providers at once (the fast path)."""

    name = "fast"

    def __init__(self, model: Simulation):
        self.rs, self.ps = model.resident_state, model.provider_state

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


class AgentEngine:
    """The same rules, one Mesa agent at a time (the reference; slow)."""

    name = "agents"

    def __init__(self, model: Simulation):
        self.model = model
        self.residents: list[Resident] = sorted(model.residents, key=lambda r: r.index)

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


ENGINES = {engine.name: engine for engine in (ArrayEngine, AgentEngine)}
