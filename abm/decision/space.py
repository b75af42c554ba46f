"""The policy space: the mixes of strategies a commissioner can choose, read from the model.

Nothing here lists a parameter or a rule by name. Everything comes from the declaration
(:func:`abm.model.parameters.levers`, the plausible ranges, the declared constraints)
and from the rules themselves (:data:`abm.model.commissioning.RULES`):

- **Which lever belongs to which rule** is found by running a tiny model under each rule on
  parameters that note every value read (:meth:`Params.noting_reads`): a lever the status quo
  reads is always in force (the budget, extra money, the length of a short grant); a lever
  only rule R reads belongs to R (``pu_weight`` to proportionate universalism,
  ``core_grant_years`` to sustain, ...). A new rule or lever is picked up with no change here.
- **Budget shares** are the levers that a declared constraint caps together ("shares of the
  budget sum to at most 1"). Each belongs to one rule: a share above ``min_share`` switches
  its rule on (so "10% to community development" means the develop rule is in force), 0 keeps
  it off. Shares are searched from 0 to their plausible maximum unless a spec says otherwise.
- **Switches** are the rules no share switches on (sustain: the rest of the money as
  multi-year core grants; proportionate universalism: the rest divided by need): on or off.
- **Other levers** (grant lengths, targeting weight, follow-up, extra money) take values in
  their plausible range (or a spec's range; extra money has no plausible range, so a spec
  that searches it gives one). A lever of a rule that is off is left at the status quo's
  value: mixes that differ only there are the same mix (and the same runs).

The optimiser works in the unit cube, one coordinate per dimension; :meth:`PolicySpace.decode`
turns a point into a :class:`Mix` (whole numbers rounded, switches on at 0.5 or more, shares
below ``min_share`` set to 0) and :meth:`PolicySpace.repair` moves a point whose shares break
the constraint to the nearest point that keeps it (Euclidean projection onto the shares' box
cut by the constraint), so every mix evaluated keeps it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from abm.files.errors import InputError, unknown_name_message
from abm.model.commissioning import RULES
from abm.model.parameters import BY_NAME, CONSTRAINTS, Constraint, Params, levers

STATUS_QUO = "status_quo"
#: A share below this is no money at all: its rule is off (1% of the budget).
DEFAULT_MIN_SHARE = 0.01
#: Run size of the tiny model whose reads say which lever each rule uses, with the budget at
#: the top of its plausible range: a rule reads some levers only once its money buys
#: something (scale reads ``scale_support_years`` when it founds a group), which a tiny
#: place's budget at the calibrated default may not.
_PROBE = {"n_neighbourhoods": 20, "residents_per_neighbourhood": 10, "burn_in_years": 0,
          "policy_years": 1.0, "budget_gbp_per_head": 10.0}
#: The optimiser's coordinates are kept to this grid (a thousandth of each range), so that
#: mixes met twice are the same mix and the same runs.
GRID = 1000


@functools.cache
def rule_levers() -> dict[str, frozenset[str]]:
    """The levers each rule reads: for ``status_quo`` those read under the status quo (always
    in force), for every other rule those it reads beyond them."""
    from abm.model.model import CommunityAssetsModel

    names = {p.name for p in levers()}
    reads = {}
    for rule in RULES:
        params, read = Params(_PROBE).noting_reads()
        CommunityAssetsModel("devon_ics", (rule,), 0, params).run()
        reads[rule] = frozenset(read & names)
    base = reads[STATUS_QUO]
    return {rule: (found if rule == STATUS_QUO else found - base)
            for rule, found in reads.items()}


def share_constraints() -> list[Constraint]:
    """The declared constraints that cap policy levers together (the budget shares)."""
    lever_names = {p.name for p in levers()}
    return [c for c in CONSTRAINTS if set(c.names) <= lever_names]


@functools.cache
def share_rules() -> dict[str, str]:
    """Each budget share and the rule it switches on."""
    owners = {}
    for constraint in share_constraints():
        for name in constraint.names:
            rules = [r for r, read in rule_levers().items() if r != STATUS_QUO and name in read]
            if len(rules) != 1:
                raise RuntimeError(f"budget share '{name}' is read by rules {rules}: each share "
                                   "must belong to exactly one rule")
            owners[name] = rules[0]
    return owners


def switch_rules() -> list[str]:
    """Rules that no budget share switches on, in the declaration's order of rules."""
    owned = set(share_rules().values())
    return [r for r in RULES if r != STATUS_QUO and r not in owned]


def lever_rule(name: str) -> str | None:
    """The rule lever ``name`` belongs to, or None when it is always in force."""
    if name in rule_levers()[STATUS_QUO]:
        return None
    owners = [r for r, read in rule_levers().items() if r != STATUS_QUO and name in read]
    return owners[0] if owners else None


@dataclass(frozen=True)
class Dimension:
    """One coordinate of the search: a budget share, a rule switch, or another lever."""

    name: str  # the lever's name, or the rule's for a switch
    kind: str  # "share", "switch" or "lever"
    low: float
    high: float
    integer: bool
    rule: str | None  # the rule a share or switch turns on, or a lever belongs to

    def value(self, x: float) -> float | int:
        """The value at unit coordinate ``x`` (a switch's 0 or 1)."""
        x = min(max(float(x), 0.0), 1.0)
        if self.kind == "switch":
            return int(x >= 0.5)
        v = self.low + round(x * GRID) / GRID * (self.high - self.low)
        return round(v) if self.integer else float(f"{v:.10g}")

    def unit(self, value: float) -> float:
        """The unit coordinate of ``value`` (clipped to the range)."""
        if self.kind == "switch":
            return 0.75 if value else 0.25
        return float(min(max((value - self.low) / (self.high - self.low), 0.0), 1.0))


@dataclass(frozen=True)
class Mix:
    """A mix of strategies: the rules in force and the levers' values (changes from the status
    quo's scenario), canonical: two mixes with the same effect on the model are equal."""

    rules: tuple[str, ...]
    values: tuple[tuple[str, Any], ...]

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.values)

    @property
    def id(self) -> str:
        """A stable 12-hex-digit id of the mix."""
        text = json.dumps({"rules": list(self.rules), "values": self.values}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class PolicySpace:
    """The dimensions searched, the status quo's values of every lever, and the rule that a
    share below ``min_share`` is no money."""

    dimensions: tuple[Dimension, ...]
    base: Mapping[str, Any]  # every parameter as the status quo's scenario (and fixed) set it
    min_share: float = DEFAULT_MIN_SHARE
    base_rules: tuple[str, ...] = (STATUS_QUO,)  # the status quo scenario's rules

    @classmethod
    def of(cls, names: Sequence[str] | None, base: Mapping[str, Any],
           ranges: Mapping[str, Sequence[float]] | None = None,
           min_share: float = DEFAULT_MIN_SHARE, exclude: Sequence[str] = (),
           base_rules: Sequence[str] = (STATUS_QUO,)) -> PolicySpace:
        """The space of ``names`` (levers and switch rules; None: every lever with a range and
        every switch, less ``exclude``, which the posterior or fixed values set), over their
        plausible ranges or ``ranges``. Raises :class:`InputError` listing every problem."""
        ranges = dict(ranges or {})
        shares, switches = share_rules(), switch_rules()
        all_levers = [p.name for p in levers()]
        allowed = [*all_levers, *switches]
        if names is None:
            names = [n for n in all_levers if n not in exclude
                     and (BY_NAME[n].sampled or n in ranges)] + switches
        problems = []
        dims = []
        for name in names:
            if name not in allowed:
                problems.append(unknown_name_message("lever", name, allowed, "abm parameters"))
                continue
            if name in exclude:
                problems.append(f"lever '{name}' is set by the posterior or 'fixed': it cannot "
                                "also be searched")
                continue
            if name in switches:
                dims.append(Dimension(name, "switch", 0.0, 1.0, True, name))
                continue
            p = BY_NAME[name]
            if name in ranges:
                span = ranges[name]
                if not (len(span) == 2 and p.low <= span[0] < span[1] <= p.high):
                    problems.append(f"range of '{name}' = {list(span)}: allowed is [low, high] "
                                    f"with low < high inside {p.low:g} to {p.high:g}")
                    continue
                low, high = float(span[0]), float(span[1])
            elif name in shares:
                low, high = 0.0, float(p.plausible_high)
            elif p.sampled:
                low, high = float(p.plausible_low), float(p.plausible_high)
            else:
                problems.append(f"lever '{name}' has no plausible range: give one under "
                                f"'ranges' (allowed inside {p.low:g} to {p.high:g})")
                continue
            kind = "share" if name in shares else "lever"
            rule = shares.get(name) if kind == "share" else lever_rule(name)
            dims.append(Dimension(name, kind, low, high, p.type is int, rule))
        for name in ranges:
            if name not in names:
                problems.append(f"range given for '{name}', which is not among the levers "
                                "searched")
        space = cls(tuple(dims), dict(base), min_share, tuple(base_rules))
        problems += space._problems()
        if problems:
            raise InputError(problems)
        return space

    # --- structure -------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    @property
    def dim(self) -> int:
        return len(self.dimensions)

    def _fixed_share(self, name: str) -> float:
        """A share that is not searched: the status quo's scenario's value if its rule is in
        force there, else 0 (a share switches its rule on)."""
        rules = self.base_rules
        return float(self.base[name]) if share_rules()[name] in rules else 0.0

    def _problems(self) -> list[str]:
        """Levers that nothing can switch on, and constraints no mix can keep."""
        found = []
        can_be_on = {d.rule for d in self.dimensions if d.kind in ("share", "switch")}
        can_be_on |= {share_rules()[n] for n in share_rules() if n not in self.names
                      and self._fixed_share(n) > 0} | set(self.base_rules)
        for d in self.dimensions:
            if d.kind == "lever" and d.rule is not None and d.rule not in can_be_on:
                found.append(f"lever '{d.name}' belongs to rule '{d.rule}', which no searched "
                             "share or switch turns on")
        for c in share_constraints():
            lowest = sum(self._lowest(n) for n in c.names)
            if lowest > c.limit + 1e-12:
                found.append(f"the ranges make {c.describe()} impossible: the lowest shares "
                             f"already sum to {lowest:g}")
        return found

    def _lowest(self, name: str) -> float:
        d = next((d for d in self.dimensions if d.name == name), None)
        if d is None:
            return self._fixed_share(name)
        return 0.0 if d.low < self.min_share else d.low

    # --- points and mixes ------------------------------------------------------------------
    def decode(self, u: Sequence[float]) -> Mix:
        """The mix at unit point ``u`` (after the shares' constraint is enforced)."""
        values, switches = self._raw(u)
        values = self._project(values)
        return self._mix(values, switches)

    def repair(self, u: Sequence[float]) -> np.ndarray:
        """``u`` moved so that its shares keep every constraint (unchanged if they do)."""
        u = np.asarray(u, dtype=float).copy()
        raw, _ = self._raw(u)
        projected = self._project(raw)
        for i, d in enumerate(self.dimensions):
            if d.kind == "share" and raw[d.name] > 0 and projected[d.name] != raw[d.name]:
                u[i] = round(d.unit(projected[d.name]) * GRID) / GRID
        return u

    def mix_of(self, rules: Sequence[str], parameters: Mapping[str, Any]) -> Mix:
        """The canonical mix of a setting given as rules and parameter values (a scenario, the
        workshop's sliders), on this space's dimensions."""
        values = {}
        switches = {}
        for d in self.dimensions:
            if d.kind == "switch":
                switches[d.name] = int(d.name in rules)
            elif d.kind == "share":
                values[d.name] = float(parameters.get(d.name, 0.0)) if d.rule in rules else 0.0
            else:
                values[d.name] = parameters.get(d.name, self.base[d.name])
        return self._mix(values, switches)

    def unit_of(self, mix: Mix) -> np.ndarray:
        """The unit point of ``mix`` (levers of rules that are off at their range's middle)."""
        values = mix.parameters
        return np.array([
            d.unit(int(d.name in mix.rules)) if d.kind == "switch"
            else d.unit(values[d.name]) if d.name in values else 0.5
            for d in self.dimensions])

    def _raw(self, u: Sequence[float]) -> tuple[dict, dict]:
        if len(u) != self.dim:
            raise ValueError(f"a point of this space has {self.dim} coordinates, got {len(u)}")
        values, switches = {}, {}
        for d, x in zip(self.dimensions, u, strict=True):
            v = d.value(x)
            if d.kind == "switch":
                switches[d.name] = v
            elif d.kind == "share":
                values[d.name] = 0.0 if v < self.min_share else v
            else:
                values[d.name] = v
        return values, switches

    def _project(self, values: dict) -> dict:
        """Searched shares moved (as little as possible) so that each constraint holds."""
        values = dict(values)
        for c in share_constraints():
            searched = [d for d in self.dimensions if d.kind == "share" and d.name in c.names
                        and values[d.name] > 0]
            fixed = sum(values.get(n, self._fixed_share(n)) for n in c.names
                        if n not in {d.name for d in searched})
            room = c.limit - fixed
            v = np.array([values[d.name] for d in searched])
            if v.sum() <= room + 1e-12:
                continue
            low = np.array([d.low for d in searched])
            high = np.array([d.high for d in searched])
            lo, hi = 0.0, float(v.max())
            for _ in range(100):  # bisection on the shift: sum(clip(v - shift)) = room
                mid = (lo + hi) / 2
                if np.clip(v - mid, low, high).sum() > room:
                    lo = mid
                else:
                    hi = mid
            moved = np.clip(v - hi, low, high)
            for d, x in zip(searched, moved, strict=True):
                # down to the dimension's grid, so the repaired point decodes to this value
                step = math.floor((x - d.low) / (d.high - d.low) * GRID + 1e-9)
                x = d.value(step / GRID)
                values[d.name] = 0.0 if x < self.min_share else x
        return values

    def _mix(self, values: dict, switches: dict) -> Mix:
        shares = share_rules()
        for name in shares:
            values.setdefault(name, self._fixed_share(name))
        rules = {shares[n] for n in shares if values[n] > 0}
        rules |= {r for r, on in switches.items() if on}
        rules |= {r for r in self.base_rules if r != STATUS_QUO and r not in switches
                  and r not in shares.values()}
        kept = {n: v for n, v in values.items()
                if n in shares or lever_rule(n) is None or lever_rule(n) in rules}
        ordered = tuple(r for r in RULES if r in rules) or (STATUS_QUO,)
        return Mix(ordered, tuple(sorted(kept.items())))

    def holds(self, mix: Mix) -> bool:
        """Whether ``mix`` keeps every declared constraint (with the status quo's values)."""
        values = {**self.base, **mix.parameters}
        return all(c.holds(values) for c in CONSTRAINTS)
