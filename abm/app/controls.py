"""What the workshop app lets the room change: sliders, strategy presets and places.

Everything here is read from the project's own declarations, so the app cannot drift from
the model: sliders from :data:`abm.model.parameters.PARAMETERS` (label, unit, meaning as help
text, plausible range as the slider's range, grouped by their plain-language ``workshop``
group), presets from the shipped scenario files (:mod:`abm.model.scenarios`), strategies from
:data:`abm.model.commissioning.RULES` and places from :func:`abm.model.places.place_names`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from abm.model.commissioning import RULES
from abm.model.parameters import PARAMETERS, WORKSHOP_GROUPS, Parameter
from abm.model.places import load_place, place_names
from abm.model.scenarios import Scenario, load_scenario, scenario_names

#: Number of steps a float slider's range is divided into.
FLOAT_STEPS = 50


@dataclass(frozen=True)
class Slider:
    """A slider for one parameter: its range is the parameter's plausible range, widened to
    include ``value`` when a preset sets a value outside it."""

    parameter: Parameter
    low: int | float
    high: int | float

    @property
    def name(self) -> str:
        return self.parameter.name

    def caption(self, value: float) -> str:
        """E.g. 'ICS budget per resident: 12.5 GBP per resident per year'."""
        return describe(self.parameter, value)

    @property
    def help(self) -> str:
        """The parameter's one-line meaning, capitalised, as the slider's help text."""
        meaning = self.parameter.meaning
        return meaning[:1].upper() + meaning[1:]

    @property
    def is_whole(self) -> bool:
        return self.parameter.type is int

    @property
    def step(self) -> int | float:
        """1 for whole numbers; for others the largest of 1, 2 or 5 x 10^k that divides the
        range into at least FLOAT_STEPS steps."""
        if self.is_whole:
            return 1
        raw = (self.high - self.low) / FLOAT_STEPS
        if raw <= 0:
            return 0.01
        power = 10.0 ** math.floor(math.log10(raw))
        return max(m * power for m in (1, 2, 5) if m * power <= raw)

    def snap(self, value: float) -> int | float:
        """A slider position on the slider's grid (``low`` + whole steps), in range, as the
        parameter's type; float noise such as 0.30000000000000004 is rounded away."""
        steps = round((float(value) - self.low) / self.step)
        snapped = min(max(self.low + steps * self.step, self.low), self.high)
        return round(snapped) if self.is_whole else float(f"{snapped:.10g}")


def describe(parameter: Parameter, value: float) -> str:
    """A parameter and its value in words, e.g. 'Place per group: 1,000 participants'."""
    number = f"{value:,.0f}" if abs(value) >= 1000 or parameter.type is int else f"{value:g}"
    return f"{parameter.label}: {number} {parameter.unit}"


def changes_from_defaults(values: Mapping[str, Any]) -> list[str]:
    """Each parameter in ``values`` that differs from its default (run size left out), in
    words, in declaration order."""
    return [describe(p, values[p.name]) for p in PARAMETERS
            if p.name in values and values[p.name] != p.default and p.group != "run size"]


def sliders(values: dict[str, int | float]) -> dict[str, list[Slider]]:
    """Workshop sliders by group (in :data:`WORKSHOP_GROUPS` order), each with its range
    widened to include its value in ``values`` (current values; defaults where absent)."""
    groups: dict[str, list[Slider]] = {group: [] for group in WORKSHOP_GROUPS}
    for parameter in PARAMETERS:
        group = parameter.workshop
        if group is None:
            continue
        low, high = parameter.plausible_low, parameter.plausible_high
        if low is None:  # a setting, not an uncertain quantity: its valid range
            low, high = parameter.low, parameter.high
        value = values.get(parameter.name, parameter.default)
        groups[group].append(Slider(parameter, min(low, value), max(high, value)))
    return {group: items for group, items in groups.items() if items}


@dataclass(frozen=True)
class Preset:
    """A shipped scenario offered as a starting point."""

    name: str  # e.g. "embed" or "extra_money/embed"
    scenario: Scenario

    @property
    def money(self) -> str:
        """'same money' or 'extra money', from the folder the file is in."""
        return "extra money" if "extra_money" in self.name else "same money"

    @property
    def label(self) -> str:
        """E.g. 'Scale + embed (same money)'."""
        strategies = " + ".join(rule.replace("_", " ") for rule in self.scenario.rules)
        return f"{strategies[:1].upper()}{strategies[1:]} ({self.money})"


@functools.cache
def presets() -> tuple[Preset, ...]:
    """The shipped strategy scenarios, same money first, baseline first within each (the
    mechanism switch-offs in ``scenarios/mechanisms/`` are for analysis, not workshops)."""
    def order(name: str) -> tuple:
        return ("extra_money" in name, name.split("/")[-1] != "baseline", name)

    shown = [name for name in scenario_names() if not name.startswith("mechanisms/")]
    return tuple(Preset(name, load_scenario(name)) for name in sorted(shown, key=order))


def strategies() -> dict[str, str]:
    """Commissioning strategies the room can switch on: name -> plain-language summary."""
    return {name: rule.summary for name, rule in RULES.items() if name != "status_quo"}


@functools.cache
def places() -> dict[str, str]:
    """Shipped places: name -> title."""
    return {name: load_place(name).title for name in place_names()}
