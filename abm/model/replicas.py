"""Replicates run together: one replicate as its commissioner and accounts see it.

A model may run R replicates of one place and rules at once (different seeds, and if asked
different parameter values). Their state is one set of arrays, laid out replicate after
replicate: residents of replicate r are entries ``r * n`` to ``(r + 1) * n - 1`` of the
resident arrays, its neighbourhoods ``r * H`` to ``(r + 1) * H - 1``, its provider slots
``r * C`` to ``r * C + count[r] - 1`` of the slot arrays (``C``, the capacity, grows for all
replicates when one needs more slots). The weekly rules run on all of it at once, and every
operation keeps each replicate's entries to themselves and in their own order, so replicate
r's results are exactly those of its run alone.

The yearly funding round is a replicate's own: its :class:`Replica` gives the commissioner
what a single run gives it (parameters, neighbourhoods, random streams, its residents' and
providers' entries with their own numbering, its accounts). With one replicate the Replica
hands out the model's own state, so a single run computes exactly as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from abm.model.commissioning import Commissioner
from abm.model.parameters import Params
from abm.model.places import Neighbourhoods
from abm.model.providers import WEEKS_PER_YEAR, ProviderState
from abm.model.randomness import Streams


def per_replicate(values: list, per: int) -> Any:
    """One value per replicate as vectorised rules read it: the value itself when every
    replicate has the same, else an array holding each replicate's value ``per`` times."""
    if all(v == values[0] for v in values):
        return values[0]
    return np.repeat(np.asarray(values), per)


def stack_neighbourhoods(hoods: list[Neighbourhoods]) -> Neighbourhoods:
    """The neighbourhoods of several replicates as one set, replicate after replicate;
    access between neighbourhoods of different replicates is none."""
    return Neighbourhoods(
        decile=np.concatenate([h.decile for h in hoods]),
        deprivation=np.concatenate([h.deprivation for h in hoods]),
        rural=np.concatenate([h.rural for h in hoods]),
        x=np.concatenate([h.x for h in hoods]),
        y=np.concatenate([h.y for h in hoods]),
        access=sp.block_diag([h.access for h in hoods], format="csr"),
    )


class Rows:
    """Replicate r's entries of a model-wide state, read as a single run's: every array is
    the replicate's slice (a view, so writes reach the model's arrays), and the indices it
    holds (neighbourhoods, providers) are numbered within the replicate."""

    def __init__(self, state: Any, start: int, stop: int, offsets: dict[str, int]):
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_slice", slice(start, stop))
        object.__setattr__(self, "_offsets", offsets)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._state, name)[self._slice]
        offset = self._offsets.get(name)
        if offset:  # indices renumbered within the replicate (-1, none, stays -1)
            return np.where(value >= 0, value - offset, value)
        return value

    def __len__(self) -> int:
        return self._slice.stop - self._slice.start


class ProviderRows(ProviderState):
    """Replicate r's provider slots as a single run's :class:`ProviderState`: its methods
    (the ask, planning, ...) work on the replicate's slices, with its own parameters and
    neighbourhoods. Read afresh after slots are added (the arrays may move)."""

    def __init__(self, state: ProviderState, replica: Replica):
        start = replica.index * state.capacity
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_slice", slice(start, start + state.count[replica.index]))
        object.__setattr__(self, "_hood_offset", replica.index * len(replica.hoods))
        self.__dict__.update(params=replica.params, hoods=replica.hoods, f=state.f,
                             mix=state.mix)

    def __getattr__(self, name: str) -> Any:
        if name not in ProviderState.FIELDS:
            raise AttributeError(name)
        value = getattr(self._state, name)[self._slice]
        return value - self._hood_offset if name == "neighbourhood" else value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ProviderState.FIELDS:
            getattr(self._state, name)[self._slice] = value
        else:
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return self._slice.stop - self._slice.start


class Replica:
    """One replicate of a model (``model``, the :class:`~abm.model.model.CommunityAssetsModel`
    that builds it): its parameters, neighbourhoods, random streams, commissioner, founding
    pool, and its entries of the model's state and accounts."""

    def __init__(self, model: Any, index: int, params: Params,
                 hoods: Neighbourhoods, streams: Streams):
        self.model, self.index = model, index
        self.params, self.hoods, self.streams = params, hoods, streams
        place = model.place
        #: People the simulated neighbourhoods stand for.
        self.people_represented = len(hoods) * place.people_per_neighbourhood
        #: Multiply a total for the simulated neighbourhoods by this to get the place's total.
        self.place_scale = place.population / self.people_represented
        self.sample_fraction = model.sample_fraction
        self.founding_pool = 0.0  # GBP other funders hold for founding groups
        self.commissioner = Commissioner(self)

    stacked_hoods = staticmethod(stack_neighbourhoods)

    @property
    def alone(self) -> bool:
        """Whether this is the model's only replicate (its state is the model's own)."""
        return len(self.model.replicas) == 1

    @property
    def place(self):
        return self.model.place

    @property
    def week(self) -> int:
        return self.model.week

    @property
    def policy_started(self) -> bool:
        return self.model.policy_started

    @property
    def resident_state(self) -> Any:
        """This replicate's residents (with their neighbourhoods and providers numbered
        within it)."""
        rs = self.model.resident_state
        if self.alone:
            return rs
        n, r = rs.n // len(self.model.replicas), self.index
        return Rows(rs, r * n, (r + 1) * n, {"neighbourhood": r * len(self.hoods),
                                            "provider": r * self.model.provider_state.capacity})

    @property
    def provider_state(self) -> ProviderState:
        """This replicate's provider slots (numbered within it)."""
        ps = self.model.provider_state
        return ps if self.alone else ProviderRows(ps, self)

    @property
    def accounts(self):
        return self.model.accounts.replicate(self.index)

    def add_providers(self, hoods: np.ndarray, week: int, reserves: float | None = None,
                      kind: int | None = None, resident_led: bool = False) -> np.ndarray:
        """Add slots in ``hoods`` (this replicate's numbering), each with a newly founded
        provider (see :meth:`ProviderState.found`); return their indices in this
        replicate's numbering."""
        model = self.model
        new = model._new_slots(self, hoods)
        model._found(self, new, week, reserves, kind, resident_led)
        return new - self.index * model.provider_state.capacity

    def refound(self, week: int, any_waiting: bool = True) -> None:
        """Re-found this replicate's slots whose delay is over, longest waiting first, while
        other funders' founding pool (topped up weekly, at most one year's money held) can
        pay for them. ``any_waiting=False``: the caller knows no slot is waiting (the
        model checks all replicates' slots at once), so only the pool is topped up."""
        p, model = self.params, self.model
        yearly = p.founding_pool_gbp_per_head * self.people_represented
        self.founding_pool = min(self.founding_pool + yearly / WEEKS_PER_YEAR, yearly)
        if not any_waiting or p.founding_cost_gbp > self.founding_pool:
            return
        waiting = model.provider_state.waiting_to_reopen(week, self.index)
        if not len(waiting):
            return
        affordable = len(waiting) if p.founding_cost_gbp == 0 else int(
            self.founding_pool // p.founding_cost_gbp)
        slots = np.sort(waiting[:affordable])
        self.founding_pool -= p.founding_cost_gbp * len(slots)
        self.accounts.other_funders(p.founding_cost_gbp * len(slots))
        model._found(self, slots, week, p.founding_cost_gbp)
