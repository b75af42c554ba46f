"""Sweep files: which scenarios, places, parameter values and seeds to run.

::

    description: What this sweep is for.
    scenarios: [baseline, scale, embed, sustain]   # names or paths; the first is the baseline
    places: [devon_ics, west_yorkshire]            # optional: default each scenario's place
    seeds: 10                                      # seeds per scenario x place x point
    master_seed: 20261121                          # seeds come from SeedSequence(master_seed)
    years: 10
    record: summary                                # or weekly: per-week series too
    parameters: {n_neighbourhoods: 100}            # optional: fixed changes for every run
    grid:                                          # optional: every combination of these
      uptake_rate: [0.03, 0.05]
    sample:                                        # optional, instead of grid
      method: latin_hypercube                      # or sobol
      n: 16
      seed: 1
      ranges: {uptake_rate: [0.02, 0.08]}          # a parameter's declared range if [] or null
    batch_size: auto                               # runs per Ray task, or a whole number
    max_retries: 3                                 # Ray retries of a task whose worker died

Every defect is reported at once with the file, line, key, value and what is allowed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import qmc

from abm import yamlfile
from abm.checks import is_number, is_whole, parameter_values
from abm.commissioning import make_plan
from abm.errors import InputError
from abm.parameters import BY_NAME, Params, unknown_name_message
from abm.places import place_names
from abm.runs import RunSpec
from abm.scenarios import Scenario, load_scenario

SPEC_KEYS = ("description", "scenarios", "places", "seeds", "master_seed", "years", "record",
             "parameters", "grid", "sample", "batch_size", "max_retries")
SAMPLE_KEYS = ("method", "n", "seed", "ranges")
SAMPLERS = ("latin_hypercube", "sobol")
RECORDS = ("summary", "weekly")
MIN_YEARS, MAX_YEARS = 1 / 52, 100


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: everything needed to list its runs."""

    path: Path
    description: str
    scenarios: tuple[Scenario, ...]
    places: tuple[str, ...] | None
    seeds: int
    master_seed: int
    years: float
    record: str
    parameters: dict
    points: tuple[dict, ...]  # parameter points of the grid or sample; ({},) when neither
    batch_size: int | None  # None: automatic
    max_retries: int

    @property
    def baseline(self) -> str:
        """The scenario the others are compared with: the first listed."""
        return self.scenarios[0].name

    def seed_values(self) -> list[int]:
        """The run seeds: one child of ``SeedSequence(master_seed)`` per seed index, as an int.

        The same list serves every scenario, place and point (common random numbers), and it
        does not depend on how many workers run the sweep or in what order runs finish.
        """
        children = np.random.SeedSequence(self.master_seed).spawn(self.seeds)
        return [int(c.generate_state(1, np.uint64)[0]) >> 1 for c in children]

    def runs(self) -> list[RunSpec]:
        """Every run, in a fixed order: scenario, place, point, seed."""
        seeds = self.seed_values()
        return [
            RunSpec.make(s.name, place, s.rules, {**s.parameters, **self.parameters, **point},
                         seed, self.years, point=index)
            for s in self.scenarios
            for place in (self.places or (s.place,))
            for index, point in enumerate(self.points)
            for seed in seeds
        ]


def load_sweep(path: str | Path) -> Sweep:
    """Load and validate a sweep file; raise :class:`InputError` listing every defect."""
    path = Path(path)
    data = yamlfile.load(path)
    if not isinstance(data, yamlfile.LineDict):
        raise InputError(f"{path}:1: a sweep file must be a mapping with keys such as "
                         "scenarios, seeds and years")
    found: list[str] = []

    def at(key: str) -> str:
        return f"{path}:{data.line_of(key)}"

    for key in data:
        if key not in SPEC_KEYS:
            found.append(f"{at(key)}: {unknown_name_message('key', key, list(SPEC_KEYS))}")

    scenarios = []
    raw = data.get("scenarios")
    if "scenarios" not in data:
        found.append(f"{path}: missing key 'scenarios': list the scenarios to run, baseline first")
    elif not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
        found.append(f"{at('scenarios')}: 'scenarios' = {raw!r}: allowed is a list of scenario "
                     "names or files, baseline first")
    else:
        for name in raw:
            try:
                scenarios.append(load_scenario(_scenario_ref(path, name)))
            except InputError as error:
                found += [f"{at('scenarios')}: scenario '{name}': {p}" for p in error.problems]
        names = [s.name for s in scenarios]
        if len(set(names)) < len(names):
            found.append(f"{at('scenarios')}: 'scenarios' lists a scenario twice: {names}")

    places = data.get("places")
    if places is not None:
        if not isinstance(places, list) or not places:
            found.append(f"{at('places')}: 'places' = {places!r}: allowed is a list of place names")
            places = None
        else:
            for place in places:
                if place not in place_names():
                    found.append(
                        f"{at('places')}: {unknown_name_message('place', place, place_names())}")
            repeated = sorted({str(p) for p in places if places.count(p) > 1})
            if repeated:
                found.append(f"{at('places')}: 'places' lists {', '.join(repeated)} more than "
                             "once: each place may appear once")
            places = tuple(places)

    seeds = _whole(data, "seeds", 1, 100_000, found, path, required=True)
    master_seed = _whole(data, "master_seed", 0, 2**63 - 1, found, path, default=0)
    max_retries = _whole(data, "max_retries", 0, 100, found, path, default=3)
    years = data.get("years")
    if "years" not in data:
        found.append(f"{path}: missing key 'years': the policy years of each run")
    elif not is_number(years) or not MIN_YEARS <= years <= MAX_YEARS:
        found.append(f"{at('years')}: 'years' = {years!r}: allowed is a number from one week "
                     f"({MIN_YEARS:.4f}) to {MAX_YEARS}")
    record = data.get("record", "summary")
    if record not in RECORDS:
        found.append(f"{at('record')}: 'record' = {record!r}: allowed are {', '.join(RECORDS)}")
    batch = data.get("batch_size", "auto")
    if batch != "auto" and not (is_whole(batch) and 1 <= batch <= 10_000):
        found.append(f"{at('batch_size')}: 'batch_size' = {batch!r}: allowed is auto or a whole "
                     "number from 1 to 10,000")
    description = data.get("description", "")
    if not isinstance(description, str):
        found.append(f"{at('description')}: 'description' = {description!r}: allowed is text")

    fixed, fixed_problems = parameter_values(data, "parameters", path)
    found += fixed_problems
    points: list[dict] = [{}]
    if "grid" in data and "sample" in data:
        found.append(f"{at('sample')}: give 'grid' or 'sample', not both")
    elif "grid" in data:
        points = _grid_points(data, found, path)
    elif "sample" in data:
        points = _sample_points(data, found, path)
    where = at("grid" if "grid" in data else "sample" if "sample" in data else "parameters")
    for scenario in scenarios:  # each scenario's own changes merged with the sweep's
        for index, point in enumerate(points):
            try:
                make_plan(scenario.rules, Params({**scenario.parameters, **fixed, **point}))
            except InputError as error:
                found += [f"{where}: scenario '{scenario.name}', point {index}: {p}"
                          for p in error.problems]
                break

    if found:
        raise InputError(yamlfile.one_line(found))
    return Sweep(
        path=path, description=description.strip(), scenarios=tuple(scenarios), places=places,
        seeds=seeds, master_seed=master_seed, years=float(years), record=record,
        parameters=fixed, points=tuple(points),
        batch_size=None if batch == "auto" else batch, max_retries=max_retries,
    )


def _scenario_ref(spec_path: Path, name: str) -> str:
    """A scenario named in a sweep, looked up as ``extends`` does: next to the sweep file
    first, then among the shipped scenarios."""
    local = spec_path.parent / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    # not found locally: the name, so that a problem suggests a shipped scenario's name
    return str(local) if yamlfile.exists(local) else name


def _whole(data, key, low, high, found, path, required=False, default=None):
    """A whole-number setting checked against [low, high], or ``default`` with a problem noted."""
    if key not in data:
        if required:
            found.append(f"{path}: missing key '{key}': allowed is a whole number from "
                         f"{low:,} to {high:,}")
        return default
    value = data[key]
    if not is_whole(value) or not low <= value <= high:
        found.append(f"{path}:{data.line_of(key)}: '{key}' = {value!r}: allowed is a whole "
                     f"number from {low:,} to {high:,}")
        return default
    return value


def _grid_points(data, found, path) -> list[dict]:
    grid = data["grid"]
    if not isinstance(grid, dict) or not grid:
        found.append(f"{path}:{data.line_of('grid')}: 'grid' = {grid!r}: allowed is a mapping "
                     "of parameter names to lists of values")
        return [{}]
    axes = {}
    for name, values in grid.items():
        line = grid.line_of(name) if isinstance(grid, yamlfile.LineDict) else data.line_of("grid")
        if name not in BY_NAME:
            found.append(f"{path}:{line}: "
                         f"{unknown_name_message('parameter', name, BY_NAME, 'abm parameters')}")
            continue
        if not isinstance(values, list) or not values:
            found.append(f"{path}:{line}: grid '{name}' = {values!r}: allowed is a list of values")
            continue
        problems = [p for p in map(BY_NAME[name].problem_with, values) if p]
        found += [f"{path}:{line}: grid {p}" for p in problems]
        repeated = sorted({repr(v) for v in values if values.count(v) > 1})
        if repeated:
            found.append(f"{path}:{line}: grid '{name}' lists {', '.join(repeated)} more than "
                         "once: each value may appear once")
        if not problems and not repeated:  # a bad value is reported once, not per point
            axes[name] = values
    return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]


def _sample_points(data, found, path) -> list[dict]:
    sample = data["sample"]
    where = f"{path}:{data.line_of('sample')}"
    if not isinstance(sample, dict):
        found.append(f"{where}: 'sample' = {sample!r}: allowed is a mapping with keys "
                     f"{', '.join(SAMPLE_KEYS)}")
        return [{}]
    for key in sample:
        if key not in SAMPLE_KEYS:
            found.append(f"{where}: {unknown_name_message('sample key', key, list(SAMPLE_KEYS))}")
    method = sample.get("method")
    if method not in SAMPLERS:
        found.append(f"{where}: sample 'method' = {method!r}: allowed are {', '.join(SAMPLERS)}")
    n, seed = sample.get("n"), sample.get("seed", 0)
    if not is_whole(n) or not 1 <= n <= 100_000:
        found.append(f"{where}: sample 'n' = {n!r}: allowed is a whole number from 1 to 100,000")
    if not is_whole(seed) or seed < 0:
        found.append(f"{where}: sample 'seed' = {seed!r}: allowed is a whole number >= 0")
    ranges = sample.get("ranges")
    if not isinstance(ranges, dict) or not ranges:
        found.append(f"{where}: sample 'ranges' = {ranges!r}: allowed is a mapping of "
                     "parameter names to [low, high]")
        return [{}]
    bounds = {}
    for name, span in ranges.items():
        parameter = BY_NAME.get(name)
        if parameter is None:
            found.append(f"{where}: "
                         f"{unknown_name_message('parameter', name, BY_NAME, 'abm parameters')}")
            continue
        if span in (None, []):
            span = [parameter.low, parameter.high]
        if (not isinstance(span, list) or len(span) != 2 or not all(map(is_number, span))
                or not parameter.low <= span[0] < span[1] <= parameter.high):
            found.append(f"{where}: sample range of '{name}' = {span!r}: allowed is [low, high] "
                         f"with low < high inside {parameter.low:g} to {parameter.high:g}")
            continue
        bounds[name] = span
    if found or not bounds:
        return [{}]
    engine = (qmc.LatinHypercube(d=len(bounds), rng=np.random.default_rng(seed))
              if method == "latin_hypercube"
              else qmc.Sobol(d=len(bounds), scramble=True, rng=np.random.default_rng(seed)))
    unit = engine.random(n)
    points = [{} for _ in range(n)]
    for column, (name, (low, high)) in enumerate(bounds.items()):
        u = unit[:, column]
        for point, x in zip(points, u, strict=True):
            if BY_NAME[name].type is int:  # each whole number in [low, high] equally likely
                point[name] = min(int(low + math.floor(x * (high - low + 1))), int(high))
            else:
                point[name] = float(low + x * (high - low))
    return points
