"""Asset providers: arts and creative groups, nature activities, community groups, activity groups.

A provider runs in a *slot* (a place in a neighbourhood where a group can exist). It has a
kind, a weekly capacity, a running cost, an effect on attenders' wellbeing, outreach and
bid-writing capacity. Each week its reserves change by (grant + earned income - running
cost) / 52; when they fall below zero it closes, its attenders lose the group and trust in the
neighbourhood falls. After a delay (exponential, mean ``refounding_delay_years``) a new
provider is founded in the slot, with fresh reserves and new traits.

:class:`ProviderState` holds all providers in arrays (the fast path); :class:`Provider` is a
Mesa agent viewing one slot, whose ``step`` is the per-agent reference of the weekly finances.
"""

from __future__ import annotations

from typing import ClassVar

import mesa
import numpy as np

from abm.parameters import Params
from abm.places import Neighbourhoods
from abm.views import ArrayField

KINDS = ("creative", "nature", "community", "physical_activity")
WEEKS_PER_YEAR = 52


class ProviderState:
    """Every provider slot, one array entry per slot; slots are only ever added."""

    FIELDS: ClassVar[dict[str, type]] = {
        "neighbourhood": np.int32,
        "kind": np.int8,  # index into KINDS
        "open": bool,
        "capacity": np.int32,  # places for simulated residents with an ICS grant
        "unfunded_capacity": np.int32,  # places without one (fewer sessions)
        "effect": float,  # life satisfaction points at full dose
        "outreach": float,  # 0-1
        "running_cost": float,  # GBP per year
        "earned_income": float,  # GBP per year from fees, donations and other funders
        "bid_capacity": float,  # 0-1
        "reserves": float,  # GBP
        "grant": float,  # GBP per year from the ICS
        "grant_end": np.int32,  # week the current grant ends
        "reopen_week": np.int32,  # week a closed slot is re-founded
        "closures": np.int32,  # closures in this slot so far
    }

    def __init__(self, hoods: Neighbourhoods, params: Params, people_per_neighbourhood: float):
        self.params = params
        self.hoods = hoods
        #: Places per provider in simulated residents (real places x sample fraction); each
        #: provider gets this rounded up or down at random, so the mean is exact.
        self.places = (params.provider_capacity * params.residents_per_neighbourhood
                       / people_per_neighbourhood)
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))

    def __len__(self) -> int:
        return len(self.neighbourhood)

    def location_weights(self, targeting: str) -> np.ndarray:
        """Per neighbourhood, how likely a new provider is to be founded there.

        ``"bids"``: where founders and funders already are, fewer in deprived areas (the
        status quo); ``"need"``: weighted towards deprivation, 1 + pu_weight x deprivation
        (proportionate universalism).
        """
        dep = self.hoods.deprivation
        if targeting == "need":
            return 1 + self.params.pu_weight * dep
        return 1 - self.params.provider_location_gradient * dep

    def places_now(self) -> np.ndarray:
        """Places each provider runs now: all with an ICS grant, fewer without one."""
        return np.where(self.grant > 0, self.capacity, self.unfunded_capacity)

    def add_slots(self, hoods: np.ndarray, week: int, rng: np.random.Generator) -> np.ndarray:
        """Add slots in ``hoods`` and found a provider in each; return the new slot indices."""
        new = np.arange(len(self), len(self) + len(hoods))
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros(len(hoods), dtype)]))
        self.neighbourhood[new] = hoods
        self.found(new, week, rng)
        return new

    def found(self, slots: np.ndarray, week: int, rng: np.random.Generator) -> None:
        """Found a new provider in each of ``slots``: fresh reserves, no grant, new traits."""
        p = self.params
        dep = self.hoods.deprivation[self.neighbourhood[slots]]
        self.kind[slots] = rng.integers(0, len(KINDS), len(slots))
        # Whole places, rounded at random so that the mean is exact. One draw serves both
        # counts, so a provider never has more places without a grant than with one.
        u = rng.random(len(slots))
        for field, places in (("capacity", self.places),
                              ("unfunded_capacity", self.places * p.unfunded_capacity_share)):
            getattr(self, field)[slots] = np.floor(places) + (u < places - np.floor(places))
        bid = p.bid_capacity_least_deprived - p.bid_capacity_deprivation_effect * dep
        spread = rng.normal(0, p.bid_capacity_spread, len(slots))
        self.bid_capacity[slots] = np.clip(bid + spread, 0.0, 1.0)
        effect = rng.normal(p.attendance_effect, p.attendance_effect_spread, len(slots))
        self.effect[slots] = np.maximum(effect, 0.0)
        self.outreach[slots] = p.provider_outreach
        self.running_cost[slots] = p.provider_running_cost_gbp
        self.earned_income[slots] = self.earned_income_at(dep)
        self.reserves[slots] = p.reserves_months / 12 * p.provider_running_cost_gbp
        self.grant[slots] = 0.0
        self.grant_end[slots] = week
        self.open[slots] = True

    def earned_income_at(self, deprivation: np.ndarray) -> np.ndarray:
        """Income from fees, donations and other funders, GBP per year, lower where deprived."""
        p = self.params
        return (
            p.provider_running_cost_gbp * p.earned_income_share
            * (1 - p.earned_income_deprivation_effect * deprivation)
        )

    def grant_at(self, deprivation: np.ndarray) -> np.ndarray:
        """The ICS grant a provider needs, GBP per year: its funding gap plus the reserve margin."""
        p = self.params
        gap = np.maximum(p.provider_running_cost_gbp - self.earned_income_at(deprivation), 0.0)
        return gap * (1 + p.grant_reserve_margin)

    def pay_week(self) -> np.ndarray:
        """One week of income and costs for every open provider; return the slots that close."""
        o = self.open
        self.reserves[o] += (self.grant[o] + self.earned_income[o] - self.running_cost[o]) / 52
        return np.flatnonzero(o & (self.reserves < 0))

    def close(self, slots: np.ndarray, week: int, rng: np.random.Generator) -> None:
        """Close providers (in slot order) and set when each slot is re-founded."""
        delay_weeks = -np.log1p(-rng.random(len(slots))) * (
            self.params.refounding_delay_years * WEEKS_PER_YEAR
        )
        self.open[slots] = False
        self.grant[slots] = 0.0
        self.grant_end[slots] = week
        self.closures[slots] += 1
        self.reopen_week[slots] = week + np.ceil(delay_weeks).astype(np.int32)

    def due_to_reopen(self, week: int) -> np.ndarray:
        """Closed slots whose re-founding delay is over."""
        return np.flatnonzero(~self.open & (self.reopen_week <= week))

    def attendees(self, provider_of_resident: np.ndarray) -> np.ndarray:
        """Simulated residents attending each provider."""
        attending = provider_of_resident[provider_of_resident >= 0]
        return np.bincount(attending, minlength=len(self))


def initial_slot_neighbourhoods(state: ProviderState, rng: np.random.Generator) -> np.ndarray:
    """Neighbourhood of each starting slot: Poisson counts, rarer where deprived (status quo)."""
    weights = state.location_weights("bids")
    mean = state.params.providers_per_neighbourhood * weights / max(weights.mean(), 1e-12)
    counts = rng.poisson(mean)
    return np.repeat(np.arange(len(weights), dtype=np.int32), counts)


class Provider(mesa.Agent):
    """One provider slot as a Mesa agent, viewing entry ``index`` of the provider arrays.

    ``step`` is the per-agent reference of the weekly finances that :meth:`ProviderState.pay_week`
    applies to all providers at once.
    """

    neighbourhood = ArrayField("provider_state")
    kind = ArrayField("provider_state")
    open = ArrayField("provider_state")
    capacity = ArrayField("provider_state")
    effect = ArrayField("provider_state")
    running_cost = ArrayField("provider_state")
    earned_income = ArrayField("provider_state")
    bid_capacity = ArrayField("provider_state")
    reserves = ArrayField("provider_state")
    grant = ArrayField("provider_state")
    closures = ArrayField("provider_state")

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    def step(self) -> bool:
        """One week of income and costs. Returns True if the provider runs out of money."""
        if not self.open:
            return False
        self.reserves = self.reserves + (self.grant + self.earned_income - self.running_cost) / 52
        return bool(self.reserves < 0)
