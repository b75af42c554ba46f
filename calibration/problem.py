"""The space calibration and sensitivity analysis explore, read from the parameter declaration.

Each parameter's range is its declared plausible range (``plausible_low`` to
``plausible_high`` in :mod:`abm.model.parameters`); settings without one (run size, valuation)
are refused. Cross-parameter constraints (``abm.model.parameters.CONSTRAINTS``) are respected by
rejecting points that break them. Nothing here re-types a range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from abm.files.errors import InputError
from abm.model.parameters import BY_NAME, CONSTRAINTS, defaults, sampled


def plausible_range(name: str) -> tuple[float, float]:
    """The range sampling explores for parameter ``name`` (which must have one)."""
    p = sampled([name])[0]
    return float(p.plausible_low), float(p.plausible_high)


@dataclass(frozen=True)
class Space:
    """A box of parameters to explore, in declaration units, with the declaration's types."""

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, names: Sequence[str], ranges: Mapping[str, Sequence[float]] | None = None
           ) -> Space:
        """The space of ``names`` over their plausible ranges (or ``ranges``, inside the
        declaration's validity bounds)."""
        problems, bounds = [], []
        for name in names:
            try:
                declared = plausible_range(name)
            except InputError as error:
                problems += error.problems
                continue
            span = tuple(ranges[name]) if ranges and name in ranges else declared
            p = BY_NAME[name]
            if not (len(span) == 2 and p.low <= span[0] < span[1] <= p.high):
                problems.append(f"range of '{name}' = {list(span)}: allowed is [low, high] with "
                                f"low < high inside {p.low:g} to {p.high:g}")
            bounds.append((float(span[0]), float(span[1])))
        if problems:
            raise InputError(problems)
        return cls(tuple(names), tuple(bounds))

    @property
    def dim(self) -> int:
        return len(self.names)

    def salib_problem(self) -> dict:
        """The SALib problem dictionary."""
        return {"num_vars": self.dim, "names": list(self.names),
                "bounds": [list(b) for b in self.bounds]}

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Map points in the unit cube (rows) to the box."""
        low = np.array([b[0] for b in self.bounds])
        high = np.array([b[1] for b in self.bounds])
        return low + np.asarray(unit) * (high - low)

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Map points in the box (rows) to the unit cube."""
        low = np.array([b[0] for b in self.bounds])
        high = np.array([b[1] for b in self.bounds])
        return (np.asarray(x) - low) / (high - low)

    def values(self, x: Sequence[float]) -> dict:
        """One point as parameter values of the declared types (whole numbers rounded)."""
        return typed(dict(zip(self.names, x, strict=True)))

    def allowed(self, x: Sequence[float], fixed: Mapping | None = None) -> bool:
        """Whether a point, with ``fixed`` values, satisfies the cross-parameter constraints."""
        values = {**defaults(), **(fixed or {}), **self.values(x)}
        return all(c.holds(values) for c in CONSTRAINTS)


def typed(values: Mapping[str, float]) -> dict:
    """Parameter values as the declared types: whole numbers rounded, others as float."""
    return {name: round(float(v)) if BY_NAME[name].type is int else float(v)
            for name, v in values.items()}


def point_seed(master: int, *labels: int | str) -> int:
    """A run seed derived from a master seed and labels (wave, generation, job...): stable,
    so a resumed analysis asks for the same runs, and the same seed gives the same run id."""
    text = ":".join(str(x) for x in (master, *labels))
    state = np.random.SeedSequence([ord(c) for c in text]).generate_state(1, np.uint64)[0]
    return int(state) >> 1
