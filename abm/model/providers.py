"""Asset providers: arts and creative groups, nature activities, community and activity groups.

A provider runs in a *slot* (a place in a neighbourhood where a group can exist). Its money:

- income: its ICS grant and any embed referral grant (GBP a year, for their term), other
  funders (trusts, foundations, lottery, council: a yearly amount, lower where deprived) and
  fees and donations from each participant (lower where deprived);
- costs: a core cost paid whatever it runs, plus the cost of the places it runs.

**Planning.** At each funding round (and when it is founded) a provider decides how many
places to run this year: as many as its secured income (grants and other funders) plus a
share (``reserve_drawdown_rate``) of the reserves it holds above a prudent floor
(``reserve_floor_months``) pays for after core costs, a place its participants fill costing
its cost less their fees; at most its full capacity, at least the fewest sessions that keep
it going (``min_places_share``). A provider that loses a
grant therefore cuts sessions and their cost, and runs down reserves to soften the cut.

**Closure.** Each week reserves change by (income - costs) / 52; a provider whose reserves
fall below zero closes (its participants lose their group, trust in the neighbourhood
falls). Providers also close for reasons other than money (``other_closure_rate``). A closed
slot can host a new provider after a delay (exponential, mean ``refounding_delay_years``),
when other funders' founding pool can pay ``founding_cost_gbp`` for it; the new provider
starts with that money as reserves. No money appears from nowhere: every founding is paid
by the pool or, under the scale rule, by the ICS.

:class:`ProviderState` holds all providers in arrays (the fast path); :class:`Provider` is a
Mesa agent viewing one slot, whose methods are the per-agent reference of the weekly
finances and the yearly plan.

**Kinds and sizes.** Each provider is one of :data:`KINDS` (arts and creative groups,
nature-based groups, community and peer groups, physical activity groups), drawn at founding
from the place's mix (its file's ``asset_mix``, else the ``kind_share_*`` weights). Its kind
sets its benefit (``kind_effect_*``) and what taking part costs (``kind_fee_*``: fees bring
income and put off residents of deprived areas). Providers in deprived areas are fewer but
larger (``provider_size_deprivation_effect``): a provider's full size, ``full_places`` real
places, is ``provider_places`` x (1 + e x deprivation) / (1 + e / 2). Resident-led groups
seeded by community development run at ``resident_led_cost_share`` of the usual costs.

Units: money in GBP. A provider's size is ``run_share``, the share of its ``full_places``
real places it runs; its money follows that exactly. ``places``, the
places open to simulated residents, is that share of the full provider's places times the
sample fraction *f* (simulated residents per real person), rounded up or down by the
provider's own uniform so that the mean is exact at any run size.
"""

from __future__ import annotations

from typing import Any, ClassVar

import mesa
import numpy as np

from abm.model.parameters import Params, ReplicateParams
from abm.model.places import Neighbourhoods
from abm.model.randomness import exponential, normal
from abm.model.views import ArrayField, ArrayView

WEEKS_PER_YEAR = 52
#: Uniforms a newly founded provider draws (stream ``founding``): bid capacity, effect,
#: other funding, rounding of its places, its kind.
FOUNDING_DRAWS = 5
#: Kinds of asset provider, in the order of their codes (``scale_kind`` uses 1 + code).
KINDS = ("arts", "nature", "community", "active")
#: Uniforms per open slot per week (stream ``closures``): closing for other reasons, and the
#: re-founding delay if it closes.
CLOSURE_DRAWS = 2
NEVER = np.iinfo(np.int32).max


class ProviderState:
    """Every provider slot, one array entry per slot; slots are only ever added."""

    FIELDS: ClassVar[dict[str, type]] = {
        "neighbourhood": np.int32,
        "open": bool,
        "run_share": float,  # share of a full provider's places it runs this year
        "places": np.int32,  # those places for simulated residents (rounded)
        "round_u": float,  # its uniform for rounding places to whole simulated residents
        "kind": np.int8,  # index into KINDS
        "fee_ratio": float,  # its kind's fees relative to fee_income_gbp
        "resident_led": bool,  # seeded by community development, run by volunteers
        "full_places": float,  # real places at full size
        "place_cost": float,  # GBP per real place per year
        "effect": float,  # life satisfaction points at full dose
        "outreach": float,  # 0-1
        "fixed_cost": float,  # GBP per year
        "fee_income": float,  # GBP per real participant per year
        "other_income": float,  # GBP per year from other funders
        "bid_capacity": float,  # 0-1
        "reserves": float,  # GBP
        "grant": float,  # GBP per year from the ICS
        "grant_end": np.int32,  # week the current grant ends
        "grant_years": np.int32,  # length of the current grant
        "referral_grant": float,  # GBP per year from the ICS for referred participants (embed)
        "supported_until": np.int32,  # week the scale rule's support ends (0: never supported)
        "reopen_week": np.int32,  # week a closed slot may be re-founded
        "closures": np.int32,  # closures in this slot so far
    }

    def __init__(self, hoods: Neighbourhoods, params: list[Params], sample_fraction: float,
                 mix: tuple[float, ...] | None = None):
        """No slots yet, for the replicates whose ``params`` are given (one run: one) in
        ``hoods`` (theirs, replicate after replicate); new providers' kinds are drawn from
        the place's ``mix`` (weights of :data:`KINDS`; default the ``kind_share_*``
        parameters)."""
        self.replicate_params = params
        self.hoods = hoods
        #: Simulated residents per real person: converts places to money.
        self.f = sample_fraction
        self.mix = mix
        #: Slots each replicate has, and room for them: replicate r's slots are entries
        #: r * capacity to r * capacity + count[r] - 1 (see abm.model.replicas).
        self.count = np.zeros(len(params), dtype=np.int64)
        self.capacity = 0
        self.params = ReplicateParams(params, 0)
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))

    def __len__(self) -> int:
        return len(self.neighbourhood)

    def _par(self, name: str, slots: np.ndarray | slice = slice(None)) -> Any:
        """Parameter ``name`` for ``slots``: a number when every replicate shares it."""
        value = getattr(self.params, name)
        return value if np.ndim(value) == 0 else value[slots]

    # --- money ---------------------------------------------------------------------------------
    def deprivation(self, slots: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Deprivation score of each slot's neighbourhood."""
        return self.hoods.deprivation[self.neighbourhood[slots]]

    def full_cost(self, slots: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Yearly cost of each provider running all its places (GBP)."""
        return self.fixed_cost[slots] + self.place_cost[slots] * self.full_places[slots]

    def floor(self, slots: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Reserves each provider keeps back: it spends only what it holds above this (GBP)."""
        return self._par("reserve_floor_months", slots) / 12 * self.full_cost(slots)

    def net_place_cost(self, slots: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Cost of one more real place for a year, after the fees it brings (GBP, >= 0)."""
        return np.maximum(self.place_cost[slots] - self.fee_income[slots], 0.0)

    def ask(self, slots: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The ICS grant each provider seeks (GBP a year): what it needs, beyond other funders
        and fees, to run all its places, plus the reserve margin."""
        need = (self.fixed_cost[slots] + self.net_place_cost(slots) * self.full_places[slots]
                - self.other_income[slots])
        return np.maximum(need, 0.0) * (1 + self._par("grant_reserve_margin", slots))

    def surplus(self) -> np.ndarray:
        """Yearly income less costs of every slot at its current size (GBP): grants, other
        funders and the fees its places bring, less core costs and the cost of the places."""
        return (self.grant + self.referral_grant + self.other_income - self.fixed_cost
                - self.net_place_cost() * self.run_share * self.full_places)

    def affordable_share(self, slots: np.ndarray) -> np.ndarray:
        """Share of a full provider's places each of ``slots`` plans to run: what its secured
        income (grants, other funders) and a share of its reserves above the floor pay for
        after core costs, at the net cost of a place; at least ``min_places_share``, at most 1."""
        secured = (self.grant[slots] + self.referral_grant[slots] + self.other_income[slots]
                   + self._par("reserve_drawdown_rate", slots)
                   * np.maximum(self.reserves[slots] - self.floor(slots), 0.0))
        net = self.net_place_cost(slots)
        spare = secured - self.fixed_cost[slots]
        with np.errstate(divide="ignore", invalid="ignore"):
            real = np.where(net > 0, spare / net, np.inf)
        return np.maximum(np.clip(real / self.full_places[slots], 0.0, 1.0),
                          self._par("min_places_share", slots))

    def whole_places(self, share: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """``share`` of each slot's full places in simulated residents, rounded up or down by
        each slot's own uniform."""
        exact = share * self.full_places[slots] * self.f
        return np.floor(exact + self.round_u[slots]).astype(np.int32)

    def plan(self, slots: np.ndarray | None = None) -> None:
        """Set the size of open providers (all, or ``slots``) for the coming year."""
        if slots is None:
            slots = np.flatnonzero(self.open)
        self.run_share[slots] = self.affordable_share(slots)
        self.places[slots] = self.whole_places(self.run_share[slots], slots)

    def pay_week(self) -> np.ndarray:
        """One week of income and costs for every open provider; return the slots whose
        reserves are now below zero."""
        o = self.open
        self.reserves[o] += self.surplus()[o] / WEEKS_PER_YEAR
        return np.flatnonzero(o & (self.reserves < 0))

    # --- slots, founding, closure --------------------------------------------------------------
    def add_slots(self, replicate: int, hoods: np.ndarray) -> np.ndarray:
        """Add closed, empty slots for ``replicate`` in ``hoods``; return their indices.
        When the replicate has no room left, every replicate gets more (the arrays are
        laid out afresh: indices held elsewhere must follow, see ``capacity``)."""
        start = int(self.count[replicate])
        if start + len(hoods) > self.capacity:
            self._grow(start + len(hoods))
        base = replicate * self.capacity
        new = np.arange(base + start, base + start + len(hoods))
        self.neighbourhood[new] = hoods
        self.reopen_week[new] = NEVER
        self.count[replicate] += len(hoods)
        return new

    def _grow(self, capacity: int) -> None:
        """Room for ``capacity`` slots per replicate, each replicate's slots kept in order."""
        replicates, before = len(self.count), self.capacity
        for name, dtype in self.FIELDS.items():
            grown = np.zeros((replicates, capacity), dtype=dtype)
            if name == "reopen_week":
                grown[:] = NEVER
            grown[:, :before] = getattr(self, name).reshape(replicates, before)
            setattr(self, name, grown.ravel())
        self.capacity = capacity
        self.params = ReplicateParams(self.replicate_params, capacity)

    def found(self, slots: np.ndarray, u: np.ndarray, params: Params,
              reserves: float | None = None, kind: int | None = None,
              resident_led: bool = False) -> None:
        """Found a new provider in each of ``slots`` with new traits.

        ``u`` holds :data:`FOUNDING_DRAWS` uniforms per slot (rows in ``slots`` order);
        ``params`` are the slots' replicate's. ``reserves`` (GBP) defaults to
        ``reserves_months`` of the provider's own full cost;
        ``kind`` (an index into :data:`KINDS`) defaults to one drawn from the mix. The
        provider opens with no grant; it plans its places when the caller says (the model
        does so through its engine, so that the per-agent reference plans too).
        """
        p = params
        dep = self.deprivation(slots)
        cumulative = np.cumsum(kind_shares(p, self.mix))
        self.kind[slots] = (kind if kind is not None else np.minimum(
            np.searchsorted(cumulative, u[:, 4], side="right"), len(KINDS) - 1))
        self.fee_ratio[slots] = kind_values(p, "fee")[self.kind[slots]]
        self.resident_led[slots] = resident_led
        cost_share = p.resident_led_cost_share if resident_led else 1.0
        self.full_places[slots] = p.provider_places * size_factor(dep, p)
        self.place_cost[slots] = p.place_cost_gbp * cost_share
        self.fixed_cost[slots] = p.fixed_cost_gbp * cost_share
        bid = p.bid_capacity_least_deprived - p.bid_capacity_deprivation_effect * dep
        self.bid_capacity[slots] = np.clip(normal(u[:, 0], bid, p.bid_capacity_spread), 0, 1)
        effect = p.attendance_effect * kind_values(p, "effect")[self.kind[slots]]
        self.effect[slots] = np.maximum(
            normal(u[:, 1], effect, p.attendance_effect_spread * effect), 0.0)
        other = (p.other_funding_share * self.full_cost(slots)
                 * (1 - p.other_funding_deprivation_effect * dep))
        self.other_income[slots] = np.maximum(
            normal(u[:, 2], other, p.other_funding_spread * other), 0.0)
        self.round_u[slots] = u[:, 3]
        self.fee_income[slots] = (p.fee_income_gbp * self.fee_ratio[slots]
                                  * (1 - p.fee_deprivation_effect * dep))
        self.outreach[slots] = p.provider_outreach
        self.reserves[slots] = (p.reserves_months / 12 * self.full_cost(slots)
                                if reserves is None else reserves)
        self.grant[slots] = 0.0
        self.referral_grant[slots] = 0.0
        self.grant_years[slots] = 0
        self.open[slots] = True
        self.reopen_week[slots] = NEVER

    def close(self, slots: np.ndarray, week: int, u_delay: np.ndarray) -> None:
        """Close providers and set when each slot may be re-founded (``u_delay``: one uniform
        per slot for its exponential delay)."""
        delay = exponential(u_delay, self._par("refounding_delay_years", slots) * WEEKS_PER_YEAR)
        self.open[slots] = False
        self.grant[slots] = 0.0
        self.referral_grant[slots] = 0.0
        self.places[slots] = 0
        self.run_share[slots] = 0.0
        self.grant_end[slots] = week
        self.closures[slots] += 1
        self.reopen_week[slots] = week + np.maximum(np.ceil(delay), 1).astype(np.int32)

    def closing_for_other_reasons(self, u: np.ndarray) -> np.ndarray:
        """Open slots that close this week for reasons other than money (``u``: one uniform
        per slot)."""
        weekly = -np.expm1(np.log1p(-self._par("other_closure_rate")) / WEEKS_PER_YEAR)
        return np.flatnonzero(self.open & (u < weekly))

    def replicates_waiting(self, week: int) -> np.ndarray:
        """For each replicate, whether any of its closed slots' delay is over (one pass over
        all replicates' slots: :meth:`waiting_to_reopen` says which)."""
        waiting = np.flatnonzero(~self.open & (self.reopen_week <= week))
        replicate = waiting // self.capacity
        used = waiting - replicate * self.capacity < self.count[replicate]
        return np.bincount(replicate[used], minlength=len(self.count)) > 0

    def waiting_to_reopen(self, week: int, replicate: int = 0) -> np.ndarray:
        """Closed slots of ``replicate`` whose delay is over, longest waiting first (then
        slot order)."""
        first = replicate * self.capacity
        mine = slice(first, first + self.count[replicate])
        waiting = np.flatnonzero(~self.open[mine] & (self.reopen_week[mine] <= week)) + first
        return waiting[np.argsort(self.reopen_week[waiting], kind="stable")]

    def attendees(self, provider_of_resident: np.ndarray) -> np.ndarray:
        """Simulated residents attending each provider."""
        attending = provider_of_resident[provider_of_resident >= 0]
        return np.bincount(attending, minlength=len(self))


def kind_shares(params: Params, mix: tuple[float, ...] | None = None) -> np.ndarray:
    """Shares of :data:`KINDS` among new providers: the place's ``mix`` (weights) if it has
    one, else the ``kind_share_*`` parameters, normalised."""
    weights = np.asarray(mix if mix is not None
                         else [params[f"kind_share_{kind}"] for kind in KINDS], dtype=float)
    return weights / weights.sum()


def kind_values(params: Params, what: str) -> np.ndarray:
    """``kind_effect_*`` or ``kind_fee_*`` of every kind, in :data:`KINDS` order."""
    return np.array([params[f"kind_{what}_{kind}"] for kind in KINDS])


def size_factor(deprivation: np.ndarray, params: Params) -> np.ndarray:
    """Full size of a provider relative to ``provider_places``: (1 + e x deprivation) /
    (1 + e / 2), so a provider at the national mean deprivation (0.5) runs
    ``provider_places`` (e: ``provider_size_deprivation_effect``)."""
    e = params.provider_size_deprivation_effect
    return (1 + e * deprivation) / (1 + e / 2)


def location_weights(hoods: Neighbourhoods, params: Params, targeting: str) -> np.ndarray:
    """Per neighbourhood, how likely a new provider is to be founded there.

    ``"bids"``: where founders and funders already are, fewer in deprived areas (the status
    quo); ``"need"``: weighted towards deprivation, 1 + pu_weight x deprivation
    (proportionate universalism).
    """
    dep = hoods.deprivation
    if targeting == "need":
        return 1 + params.pu_weight * dep
    return 1 - params.provider_location_gradient * dep


def initial_slot_neighbourhoods(hoods: Neighbourhoods, params: Params,
                                rng: np.random.Generator) -> np.ndarray:
    """Neighbourhood of each starting slot: Poisson counts, rarer where deprived (status quo)."""
    weights = location_weights(hoods, params, "bids")
    mean = params.providers_per_neighbourhood * weights / max(weights.mean(), 1e-12)
    return np.repeat(np.arange(len(weights), dtype=np.int32), rng.poisson(mean))


class Provider(ArrayView):
    """One provider slot as a Mesa agent, viewing entry ``index`` of the provider arrays.

    ``pay_week`` and ``plan`` are the per-agent reference of :meth:`ProviderState.pay_week`
    and :meth:`ProviderState.plan`: the same rules, one provider at a time, in plain Python.
    """

    neighbourhood = ArrayField("provider_state")
    open = ArrayField("provider_state")
    run_share = ArrayField("provider_state")
    places = ArrayField("provider_state")
    round_u = ArrayField("provider_state")
    kind = ArrayField("provider_state")
    resident_led = ArrayField("provider_state")
    full_places = ArrayField("provider_state")
    place_cost = ArrayField("provider_state")
    effect = ArrayField("provider_state")
    fixed_cost = ArrayField("provider_state")
    fee_income = ArrayField("provider_state")
    other_income = ArrayField("provider_state")
    bid_capacity = ArrayField("provider_state")
    reserves = ArrayField("provider_state")
    grant = ArrayField("provider_state")
    referral_grant = ArrayField("provider_state")
    closures = ArrayField("provider_state")

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    def pay_week(self) -> bool:
        """One week of income and costs. Returns True if the provider runs out of money."""
        if not self.open:
            return False
        net = max(self.place_cost - self.fee_income, 0.0)
        surplus = (self.grant + self.referral_grant + self.other_income - self.fixed_cost
                   - net * self.run_share * self.full_places)
        self.reserves = self.reserves + surplus / WEEKS_PER_YEAR
        return bool(self.reserves < 0)

    def plan(self) -> None:
        """Choose this year's size: what secured income and a share of reserves above the
        floor pay for after core costs, at the net cost of a place."""
        f, p = self.model.sample_fraction, self.model.params
        full_cost = self.fixed_cost + self.place_cost * self.full_places
        floor = p.reserve_floor_months / 12 * full_cost
        secured = (self.grant + self.referral_grant + self.other_income
                   + p.reserve_drawdown_rate * max(self.reserves - floor, 0.0))
        net = max(self.place_cost - self.fee_income, 0.0)
        real = (secured - self.fixed_cost) / net if net > 0 else float("inf")
        self.run_share = max(min(max(real / self.full_places, 0.0), 1.0), p.min_places_share)
        self.places = int(np.floor(self.run_share * self.full_places * f + self.round_u))
