"""Scenario discovery: which combinations of levers and uncertain parameters lead to an outcome
of interest (e.g. the gap narrows), with PRIM from ``ema_workbench.analysis.prim``.

Works on a sweep's ``summary.parquet`` (one row per run, every parameter a column), best a
sampled sweep (``sample:`` in the sweep file). The inputs PRIM may restrict are the
parameters that vary across runs, and the strategy (scenario) and place where the sweep has
several.
The outcome is a summary column (a level) or a paired change against the baseline run with
the same place, parameter point and seed (``delta_<column>``, or ``wellby_gain``).

PRIM (Friedman & Fisher 1999, as implemented for scenario discovery by Kwakkel & Jaxa-Rozen
2016) peels the input space down to a box holding mostly cases of interest. From its peeling
trajectory we take the densest box that still covers at least ``min_coverage`` of the cases.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.analysis.codebook import lookup
from abm.files.errors import InputError
from abm.model.parameters import PARAMETERS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # optional extras (altair, ipyparallel) are not needed
    from ema_workbench.analysis import prim


@dataclass(frozen=True)
class Discovery:
    """A PRIM box and how good it is."""

    outcome: str
    rule: str  # e.g. "delta_gap_q5_q1 < 0"
    n_runs: int
    n_cases: int
    coverage: float  # share of all cases of interest inside the box
    density: float  # share of the runs inside the box that are cases of interest
    mass: float  # share of all runs inside the box
    limits: pd.DataFrame  # restricted inputs: name, box low/high (or values), sampled range
    trajectory: pd.DataFrame  # PRIM's peeling trajectory (coverage, density, mass, res_dim)

    def text(self) -> str:
        """The box in words."""
        lines = [f"Cases of interest: {self.n_cases} of {self.n_runs} runs with {self.rule}.",
                 f"PRIM box: coverage {self.coverage:.0%} (of those cases, inside the box), "
                 f"density {self.density:.0%} (of runs inside, cases), mass {self.mass:.0%} "
                 "(of all runs, inside)."]
        if self.limits.empty:
            lines.append("PRIM found no restriction better than the whole input space.")
        for row in self.limits.itertuples():
            lines.append(f"  {row.input}: {row.box} (sampled: {row.sampled})")
        return "\n".join(lines)


def outcome_values(results: pd.DataFrame, outcome: str, baseline: str) -> pd.Series:
    """The outcome per run: a summary column, or a paired change against the baseline run
    with the same place, point and seed (baseline runs then have none and are dropped)."""
    if outcome in results.columns:
        return results.set_index("run_id")[outcome].astype(float)
    column = {"wellby_gain": "wellbeing_years"}.get(outcome, outcome.removeprefix("delta_"))
    if column == outcome or column not in results.columns:
        allowed = "a summary column (e.g. gap_q5_q1), delta_<column> or wellby_gain"
        raise InputError(f"--outcome '{outcome}': allowed is {allowed}")
    keys = ["place", "point", "seed"]
    base = results[results.scenario == baseline].set_index(keys)[column]
    others = results[results.scenario != baseline]
    if others.empty:
        raise InputError(f"--outcome '{outcome}': a change needs scenarios other than the "
                         f"baseline '{baseline}'")
    paired = others.set_index(keys)[column] - base.reindex(others.set_index(keys).index)
    return pd.Series(paired.to_numpy(), index=others.run_id, name=outcome).dropna()


def inputs(results: pd.DataFrame) -> pd.DataFrame:
    """What PRIM may restrict: parameters that vary across runs, and the strategy (scenario)
    and place where there are several (as categories); indexed by run id."""
    frame = results.set_index("run_id")
    columns = [p.name for p in PARAMETERS
               if p.name in frame and frame[p.name].nunique(dropna=True) > 1]
    x = frame[columns].astype(float)
    # EMA's PRIM drops a column called "scenario" (its own bookkeeping): call it "strategy".
    for label, name in (("scenario", "strategy"), ("place", "place")):
        if frame[label].nunique() > 1:
            x[name] = frame[label].astype("category")
    return x


def discover(results: pd.DataFrame, outcome: str, threshold: float,
             below: bool | None = None, baseline: str | None = None,
             min_coverage: float = 0.5) -> Discovery:
    """Find the PRIM box where ``outcome`` is below (or above) ``threshold``.

    ``below`` defaults to the codebook's direction: below for outcomes where lower is
    better (a gap), above for the others.
    """
    baseline = baseline or results.scenario.iloc[0]
    y = outcome_values(results, outcome, baseline)
    if below is None:
        column = lookup(outcome.removeprefix("delta_"), "summary") or lookup(outcome, "table")
        below = column is not None and column.better == "lower"
    x = inputs(results).loc[y.index]
    if x.empty or x.shape[1] == 0:
        raise InputError("nothing varies across these runs: scenario discovery needs a sampled "
                         "sweep (a `sample:` or `grid:` in the sweep file) or several scenarios")
    cases = (y < threshold) if below else (y > threshold)
    rule = f"{outcome} {'<' if below else '>'} {threshold:g}"
    if not cases.any():
        raise InputError(f"no run has {rule}: choose another --threshold")
    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecations inside ema_workbench's PRIM
        finder = prim.Prim(x.reset_index(drop=True), cases.to_numpy(dtype=int))
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    eligible = trajectory[trajectory.coverage >= min_coverage]
    chosen = int(eligible.density.idxmax()) if len(eligible) else int(trajectory.coverage.idxmax())
    box.select(chosen)
    stats = trajectory.loc[chosen]
    return Discovery(outcome, rule, len(y), int(cases.sum()), float(stats.coverage),
                     float(stats.density), float(stats.mass),
                     _limits(box.box_lim, finder.box_init, x), trajectory.copy())


def _limits(box: pd.DataFrame, initial: pd.DataFrame, x: pd.DataFrame) -> pd.DataFrame:
    """Restricted inputs of a box, in words."""
    rows = []
    for name in box.columns:
        low, high = box[name].iloc[0], box[name].iloc[1]
        if isinstance(low, set):
            if low != initial[name].iloc[0]:
                rows.append({"input": name, "box": "one of " + ", ".join(sorted(map(str, low))),
                             "sampled": ", ".join(sorted(map(str, initial[name].iloc[0])))})
            continue
        if low != initial[name].iloc[0] or high != initial[name].iloc[1]:
            rows.append({"input": name, "box": f"{_g(low)} to {_g(high)}",
                         "sampled": f"{_g(x[name].min())} to {_g(x[name].max())}"})
    return pd.DataFrame(rows, columns=["input", "box", "sampled"])


def _g(value) -> str:
    return f"{float(value):.4g}" if isinstance(value, float | int | np.number) else str(value)
