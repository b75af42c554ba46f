"""Mesa agents as views over state arrays.

The fast model keeps residents' and providers' state in numpy arrays. So that Mesa's own tools
(AgentSets, DataCollector agent reporters, SolaraViz) can still see individual agents, each
agent is a light view: an :class:`ArrayField` attribute reads and writes one entry of an array.
"""

from __future__ import annotations

import copy
from typing import Any

import mesa


class ArrayView(mesa.Agent):
    """A Mesa agent whose state lives in the model's arrays (its fields are ArrayFields)."""

    def __deepcopy__(self, memo: dict) -> ArrayView:
        """The same view on the copied model. Python's generic copy does the same but is
        several times slower, and copying a model (the workshop app forks one per slider
        move) copies thousands of views."""
        copied = object.__new__(type(self))
        memo[id(self)] = copied
        copied.__dict__.update(
            {name: copy.deepcopy(value, memo) for name, value in self.__dict__.items()})
        return copied


class ArrayField:
    """An agent attribute stored at ``agent.index`` of an array in ``model.<store>``."""

    def __init__(self, store: str):
        self.store = store

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: Any, owner: type | None = None) -> Any:
        if agent is None:
            return self
        return getattr(getattr(agent.model, self.store), self.name)[agent.index]

    def __set__(self, agent: Any, value: Any) -> None:
        getattr(getattr(agent.model, self.store), self.name)[agent.index] = value
