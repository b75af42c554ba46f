"""What the parts of a run read of the run itself: a small protocol.

The engines and the accounts work on the state of a running model (its residents' and
providers' arrays, the commissioner, the week). They take the model as an object with these
attributes rather than importing :class:`abm.model.model.CommunityAssetsModel`, which builds
them: the dependency runs one way, from the model to its parts.
"""

from __future__ import annotations

from typing import Protocol

import mesa

from abm.model.commissioning import Commissioner
from abm.model.parameters import Params
from abm.model.places import Neighbourhoods, Place
from abm.model.providers import ProviderState
from abm.model.residents import ResidentState


class Simulation(Protocol):
    """A running model as its engine and accounts see it."""

    params: Params
    place: Place
    hoods: Neighbourhoods
    resident_state: ResidentState
    provider_state: ProviderState
    commissioner: Commissioner
    rules: tuple[str, ...]
    seed: int
    week: int  # weeks run so far (the week being stepped, until the step ends)
    burn_in_weeks: int
    place_scale: float  # a total over the simulated neighbourhoods times this: the place's
    sample_fraction: float  # simulated residents per real person

    @property
    def residents(self) -> mesa.agentset.AgentSet: ...

    @property
    def providers(self) -> mesa.agentset.AgentSet: ...

    @property
    def years_run(self) -> float: ...
