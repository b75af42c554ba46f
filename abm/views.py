"""Mesa agents as views over state arrays.

The fast model keeps residents' and providers' state in numpy arrays. So that Mesa's own tools
(AgentSets, DataCollector agent reporters, SolaraViz) can still see individual agents, each
agent is a light view: an :class:`ArrayField` attribute reads and writes one entry of an array.
"""

from __future__ import annotations

from typing import Any


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
