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
    max_runs: 100000                               # refuse a sweep of more runs than this

Every defect is reported at once with the file, line, key, value and what is allowed. The
number of runs is worked out from the counts (scenarios x places x points x seeds) before any
point or run is built, so a grid of millions of points is refused at once, not built.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import qmc

from abm.files import yamlfile
from abm.files.checks import is_number, is_whole
from abm.files.errors import InputError, clipped, shown, unknown_name_message
from abm.model.commissioning import make_plan
from abm.model.parameters import BY_NAME, Params, parameter_problem, parameter_values
from abm.model.places import place_names, unknown_place
from abm.model.randomness import MAX_SEED
from abm.model.runs import RunSpec, seed_problem
from abm.model.scenarios import Scenario, load_scenario

SPEC_KEYS = ("description", "scenarios", "places", "seeds", "master_seed", "years", "record",
             "parameters", "grid", "sample", "batch_size", "max_retries", "max_runs")
SAMPLE_KEYS = ("method", "n", "seed", "ranges")
SAMPLERS = ("latin_hypercube", "sobol")
RECORDS = ("summary", "weekly")
MIN_YEARS, MAX_YEARS = 1 / 52, 100
#: Most runs a sweep may have unless its file (``max_runs``) or ``--max-runs`` says more: a
#: guard against a typo that would plan years of work and fill the memory listing it.
DEFAULT_MAX_RUNS = 100_000
#: The most ``max_runs`` may say: each run costs about 1 KB of memory before it starts.
MAX_RUNS_LIMIT = 10_000_000
#: Most scenarios or places one sweep may list.
MAX_LISTED = 1_000
#: (low, high) of a sweep file's numbers: read by :func:`load_spec` and ``abm schemas``.
LIMITS = {"seeds": (1, 100_000), "master_seed": (0, MAX_SEED), "max_retries": (0, 100),
          "batch_size": (1, 10_000), "sample.n": (1, 100_000), "sample.seed": (0, MAX_SEED)}


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: everything needed to list its runs."""

    path: Path
    text: str  # the file as read (recorded in the manifest)
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


def load_sweep(path: str | Path, max_runs: int | None = None) -> Sweep:
    """Load and validate a sweep file; raise :class:`InputError` listing every defect.

    ``max_runs`` (``--max-runs``) overrides the file's ``max_runs``; a sweep with more runs
    than that is refused before its points or runs are built.
    """
    path = Path(path)
    text = yamlfile.read_text(path)
    data = yamlfile.parse(text, path)
    if not isinstance(data, yamlfile.LineDict):
        raise InputError(f"{path}:1: a sweep file must be a mapping with keys such as "
                         "scenarios, seeds and years")
    found: list[str] = []

    def at(key: str) -> str:
        return f"{path}:{data.line_of(key)}"

    for key in data:
        if key not in SPEC_KEYS:
            found.append(f"{at(key)}: {unknown_name_message('key', clipped(key), SPEC_KEYS)}")

    scenarios = _scenarios(data, found, path)
    places = _places(data, found, path)
    seeds = _whole(data, "seeds", *LIMITS["seeds"], found, path, required=True)
    master_seed = _whole(data, "master_seed", *LIMITS["master_seed"], found, path, default=0)
    max_retries = _whole(data, "max_retries", *LIMITS["max_retries"], found, path, default=3)
    limit = _whole(data, "max_runs", 1, MAX_RUNS_LIMIT, found, path, default=DEFAULT_MAX_RUNS)
    if max_runs is not None:
        if is_whole(max_runs) and 1 <= max_runs <= MAX_RUNS_LIMIT:
            limit = max_runs
        else:
            found.append(f"--max-runs = {shown(max_runs)}: allowed is a whole number from 1 to "
                         f"{MAX_RUNS_LIMIT:,}")
    years = data.get("years")
    if "years" not in data:
        found.append(f"{path}: missing key 'years': the policy years of each run")
    elif not is_number(years) or not MIN_YEARS <= years <= MAX_YEARS:
        found.append(f"{at('years')}: 'years' = {shown(years)}: allowed is a number from one "
                     f"week ({MIN_YEARS:.4f}) to {MAX_YEARS}")
    record = data.get("record", "summary")
    if not isinstance(record, str) or record not in RECORDS:
        found.append(f"{at('record')}: 'record' = {shown(record)}: allowed are "
                     f"{', '.join(RECORDS)}")
    batch, (low, high) = data.get("batch_size", "auto"), LIMITS["batch_size"]
    if batch != "auto" and not (is_whole(batch) and low <= batch <= high):
        found.append(f"{at('batch_size')}: 'batch_size' = {shown(batch)}: allowed is auto or a "
                     f"whole number from {low:,} to {high:,}")
    description = data.get("description", "")
    if not isinstance(description, str):
        found.append(f"{at('description')}: 'description' = {shown(description)}: allowed is "
                     "text")
        description = ""

    fixed, fixed_problems = parameter_values(data, "parameters", path)
    found += fixed_problems
    axes, plan, count = {}, None, 1
    if "grid" in data and "sample" in data:
        found.append(f"{at('sample')}: give 'grid' or 'sample', not both")
    elif "grid" in data:
        axes = _grid_axes(data, found, path)
        count = math.prod(len(values) for values in axes.values())
    elif "sample" in data:
        plan = _sample_plan(data, found, path)
        count = plan[1] if plan else 1
    n_scenarios = len(data["scenarios"]) if isinstance(data.get("scenarios"), list) else 1
    n_places = len(places) if places else 1
    runs = n_scenarios * n_places * count * (seeds or 1)  # worked out, not built
    points: list[dict] = [{}]
    if runs > limit:
        found.append(f"{path}: the sweep has {runs:,} runs ({n_scenarios:,} scenario(s) x "
                     f"{n_places:,} place(s) x {count:,} parameter point(s) x {seeds or 1:,} "
                     f"seed(s)): allowed is at most {limit:,}; to run more, raise 'max_runs' in "
                     "the file or give --max-runs")
    elif axes:
        points = _grid_points(axes)
    elif plan:
        points = _sample_points(*plan)
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
        path=path, text=text, description=description.strip(), scenarios=tuple(scenarios),
        places=places, seeds=seeds, master_seed=master_seed, years=float(years), record=record,
        parameters=fixed, points=tuple(points),
        batch_size=None if batch == "auto" else batch, max_retries=max_retries,
    )


def _scenarios(data, found, path) -> list[Scenario]:
    """The scenarios listed, each loaded and validated; their problems added to ``found``."""
    raw = data.get("scenarios")
    where = f"{path}:{data.line_of('scenarios')}"
    if "scenarios" not in data:
        found.append(f"{path}: missing key 'scenarios': list the scenarios to run, baseline first")
        return []
    if (not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LISTED
            or not all(isinstance(s, str) for s in raw)):
        found.append(f"{where}: 'scenarios' = {shown(raw)}: allowed is a list of 1 to "
                     f"{MAX_LISTED:,} scenario names or files, baseline first")
        return []
    scenarios = []
    for name in raw:
        try:
            scenarios.append(load_scenario(_scenario_ref(path, name)))
        except InputError as error:
            found += [f"{where}: scenario '{clipped(name)}': {p}" for p in error.problems]
    names = [s.name for s in scenarios]
    repeated = sorted(name for name, n in Counter(names).items() if n > 1)
    if repeated:
        found.append(f"{where}: 'scenarios' lists {clipped(', '.join(repeated))} more than "
                     "once: each scenario may appear once")
    return scenarios


def _places(data, found, path) -> tuple[str, ...] | None:
    """The places listed (None: each scenario's own place); problems added to ``found``."""
    places = data.get("places")
    if places is None:
        return None
    where = f"{path}:{data.line_of('places')}"
    if (not isinstance(places, list) or not 1 <= len(places) <= MAX_LISTED
            or not all(isinstance(p, str) for p in places)):
        found.append(f"{where}: 'places' = {shown(places)}: allowed is a list of 1 to "
                     f"{MAX_LISTED:,} place names")
        return None
    known = place_names()
    for place in places:
        if place not in known:
            found.append(f"{where}: {unknown_place(clipped(place))}")
    repeated = sorted(place for place, n in Counter(places).items() if n > 1)
    if repeated:
        found.append(f"{where}: 'places' lists {clipped(', '.join(repeated))} more than once: "
                     "each place may appear once")
    return tuple(places)


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
        found.append(f"{path}:{data.line_of(key)}: '{key}' = {shown(value)}: allowed is a whole "
                     f"number from {low:,} to {high:,}")
        return default
    return value


def _grid_axes(data, found, path) -> dict[str, list]:
    """The grid's valid axes (parameter -> values); problems added to ``found``."""
    grid = data["grid"]
    if not isinstance(grid, dict) or not grid:
        found.append(f"{path}:{data.line_of('grid')}: 'grid' = {shown(grid)}: allowed is a "
                     "mapping of parameter names to lists of values")
        return {}
    axes = {}
    for name, values in grid.items():
        line = grid.line_of(name) if isinstance(grid, yamlfile.LineDict) else data.line_of("grid")
        if name not in BY_NAME:
            message = unknown_name_message("parameter", clipped(name), BY_NAME, "abm parameters")
            found.append(f"{path}:{line}: {message}")
            continue
        if not isinstance(values, list) or not values:
            found.append(f"{path}:{line}: grid '{name}' = {shown(values)}: allowed is a list of "
                         "values")
            continue
        problems = [p for p in (parameter_problem(name, v) for v in values) if p]
        found += [f"{path}:{line}: grid {p}" for p in problems[:3]]  # the first few suffice
        if len(problems) > 3:
            found.append(f"{path}:{line}: grid '{name}': {len(problems) - 3:,} more values are "
                         "not allowed either")
        repeated = [] if problems else sorted(v for v, n in Counter(values).items() if n > 1)
        if repeated:
            listed = clipped(", ".join(shown(v) for v in repeated[:5]))
            found.append(f"{path}:{line}: grid '{name}' lists {listed} more than once: each "
                         "value may appear once")
        if not problems and not repeated:  # a bad value is reported once, not per point
            axes[name] = values
    return axes


def _grid_points(axes: dict[str, list]) -> list[dict]:
    return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]


def _sample_plan(data, found, path) -> tuple[str, int, int, dict] | None:
    """The sample's method, size, seed and ranges, if valid; problems added to ``found``."""
    sample = data["sample"]
    where = f"{path}:{data.line_of('sample')}"
    if not isinstance(sample, dict):
        found.append(f"{where}: 'sample' = {shown(sample)}: allowed is a mapping with keys "
                     f"{', '.join(SAMPLE_KEYS)}")
        return None
    before = len(found)
    for key in sample:
        if key not in SAMPLE_KEYS:
            message = unknown_name_message('sample key', clipped(key), list(SAMPLE_KEYS))
            found.append(f"{where}: {message}")
    method = sample.get("method")
    if not isinstance(method, str) or method not in SAMPLERS:
        found.append(f"{where}: sample 'method' = {shown(method)}: allowed are "
                     f"{', '.join(SAMPLERS)}")
    n, seed, (low, high) = sample.get("n"), sample.get("seed", 0), LIMITS["sample.n"]
    if not is_whole(n) or not low <= n <= high:
        found.append(f"{where}: sample 'n' = {shown(n)}: allowed is a whole number from {low:,} "
                     f"to {high:,}")
    if (problem := seed_problem(seed, "sample 'seed'")) is not None:
        found.append(f"{where}: {problem}")
    ranges = sample.get("ranges")
    if not isinstance(ranges, dict) or not ranges:
        found.append(f"{where}: sample 'ranges' = {shown(ranges)}: allowed is a mapping of "
                     "parameter names to [low, high]")
        return None
    bounds = {}
    for name, span in ranges.items():
        parameter = BY_NAME.get(name)
        if parameter is None:
            message = unknown_name_message("parameter", clipped(name), BY_NAME, "abm parameters")
            found.append(f"{where}: {message}")
            continue
        if span in (None, []):
            span = [parameter.low, parameter.high]
        if (not isinstance(span, list) or len(span) != 2 or not all(map(is_number, span))
                or not parameter.low <= span[0] < span[1] <= parameter.high):
            found.append(f"{where}: sample range of '{name}' = {shown(span)}: allowed is "
                         f"[low, high] with low < high inside {parameter.low:g} to "
                         f"{parameter.high:g}")
            continue
        bounds[name] = span
    if len(found) > before or not bounds:
        return None
    return method, n, seed, bounds


def _sample_points(method: str, n: int, seed: int, bounds: dict) -> list[dict]:
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
