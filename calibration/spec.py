"""Spec files of ``abm calibrate``, ``abm sensitivity``, ``abm uncertainty`` and ``abm patterns``.

Calibration spec (``calibration/specs/devon_ics.yaml`` is a full example)::

    description: What this calibration is for.
    places: [devon_ics]                   # fitted together (national targets hold in each)
    scenario: baseline                    # the status quo scenario whose parameters are fitted
    parameters: [uptake_rate, attendance_effect]   # ranges: the declaration's plausible ranges
    ranges: {uptake_rate: [0.005, 0.03]}  # optional: narrower ranges
    fixed: {n_neighbourhoods: 100}        # optional: changes for every run (run size)
    targets: [mean_life_satisfaction, wellbeing_gap_q5_q1]   # fitted (see targets.yaml)
    held_out: [past_year_participation_q5]                   # predicted, not fitted
    years: 5                              # policy years of each run
    master_seed: 1
    history_matching: {waves: 2, points: 40, seeds: 2, cut: 3.0, candidates: 20000}
    # seeds >= 2: the emulator learns the run-to-run noise point by point (heteroscedastic)
    abc: {population: 100, generations: 4, initial_epsilon: 3.0, simulator: model,
          max_simulations: 10000, min_acceptance_rate: 0.01, max_minutes: 120}
    # simulator: model runs the model for every ABC particle; emulator draws from the last
    # wave's Gaussian processes instead (no model runs; the checks test the result on the
    # model). ABC stops at the first of: the generations done, max_simulations in all
    # (default 100 x population), a generation accepting fewer than min_acceptance_rate of
    # its proposals (default 0.01), max_minutes (default: no time limit).
    # kernel: threshold (ABC-SMC as above; the default) or gaussian: with simulator: emulator,
    # the exact posterior under the targets' Gaussian errors, the emulator's uncertainty and
    # the run-to-run noise, by MCMC (emcee) started from the most likely of `candidates`
    # points (default 200,000), `steps` steps (default 12,000), `population` particles kept
    # (calibration/likelihood.py)
    draws: 20                             # posterior draws for the fit report and after
    checks: {ppc_seeds: 2, validation_folds: 5, coverage_truths: 4}
    # ppc_seeds: seeds per posterior draw in the posterior predictive check; validation_folds:
    # the emulator's leave-out folds; coverage_truths: synthetic truths of the coverage check
    # (0 leaves it out)

Sensitivity spec (``calibration/specs/sensitivity.yaml``)::

    description: ...
    place: devon_ics
    scenarios: [baseline, scale, embed, sustain]   # the first is the status quo
    parameters: [uptake_rate, ...]
    ranges: {}                            # optional
    fixed: {n_neighbourhoods: 100}        # optional
    years: 5
    seeds: 1                              # per point and scenario (paired with the status quo)
    master_seed: 1
    morris: {trajectories: 10, levels: 4}            # optional
    sobol: {n: 256, method: emulator, design: 200, draws: 20}   # optional

Every defect is reported at once, one line each with file, line, key, value and what is
allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abm.files import yamlfile
from abm.files.checks import is_number, is_whole
from abm.files.errors import InputError, unknown_name_message
from abm.model.parameters import BY_NAME, parameter_values
from abm.model.places import place_names, unknown_place
from abm.model.randomness import MAX_SEED
from abm.model.scenarios import Scenario, load_scenario
from calibration.problem import Space
from calibration.targets import TARGETS_FILE, Target, load_targets

CALIBRATION_KEYS = ("description", "places", "scenario", "parameters", "ranges", "fixed",
                    "targets", "held_out", "targets_file", "years", "master_seed",
                    "history_matching", "abc", "draws", "checks")
SENSITIVITY_KEYS = ("description", "place", "scenarios", "parameters", "ranges", "fixed",
                    "years", "seeds", "master_seed", "morris", "sobol")
HM_DEFAULTS = {"waves": 2, "points": 40, "seeds": 2, "cut": 3.0, "candidates": 20000}
ABC_DEFAULTS = {"population": 100, "generations": 4, "initial_epsilon": 3.0,
                "simulator": "model", "max_simulations": None, "min_acceptance_rate": 0.01,
                "max_minutes": None, "kernel": "threshold", "candidates": 200_000,
                "steps": 12_000}
#: How the posterior weighs a point's distance from the targets: ABC-SMC's epsilon
#: threshold, or the targets' Gaussian likelihood on the emulator (calibration/likelihood.py).
ABC_KERNELS = ("threshold", "gaussian")
CHECKS_DEFAULTS = {"ppc_seeds": 2, "validation_folds": 5, "coverage_truths": 4}
#: Most candidate points a history-matching wave screens (predicted in chunks).
MAX_CANDIDATES = 1_000_000
#: Most Saltelli points an emulated Sobol analysis may draw the GP at jointly (its
#: covariance matrix is points^2 doubles: 8,192 points are 0.5 GB).
MAX_EMULATED_POINTS = 8_192
ABC_SIMULATORS = ("model", "emulator")
MORRIS_DEFAULTS = {"trajectories": 10, "levels": 4}
SOBOL_DEFAULTS = {"n": 256, "method": "emulator", "design": 200, "draws": 20}
SOBOL_METHODS = ("direct", "emulator")
#: (low, high) of a calibration spec's numbers, by key (``section.key`` inside a section):
#: read by :func:`load_calibration_spec` and ``abm schemas``.
CALIBRATION_LIMITS = {
    "years": (1.5, 100),  # the Munford experiment needs 78 policy weeks
    "master_seed": (0, MAX_SEED), "draws": (1, 10_000),
    "history_matching.waves": (0, 20), "history_matching.points": (4, 100_000),
    "history_matching.seeds": (1, 1_000), "history_matching.candidates": (100, MAX_CANDIDATES),
    "history_matching.cut": (0.5, 10),
    "abc.population": (4, 100_000), "abc.generations": (1, 100),
    "abc.initial_epsilon": (0.01, 1_000), "abc.max_simulations": (4, 10_000_000),
    "abc.min_acceptance_rate": (1e-4, 1.0), "abc.max_minutes": (0.1, 10_080),
    "abc.candidates": (1_000, 10_000_000), "abc.steps": (100, 1_000_000),
    "checks.ppc_seeds": (1, 100), "checks.validation_folds": (2, 50),
    "checks.coverage_truths": (0, 100),
}
#: The same for a sensitivity spec (:func:`load_sensitivity_spec`). ``sobol.design``'s low
#: is the direct method's; the emulator method needs :data:`MIN_EMULATOR_DESIGN`.
SENSITIVITY_LIMITS = {
    "years": (1 / 52, 100), "seeds": (1, 1_000), "master_seed": (0, MAX_SEED),
    "morris.trajectories": (2, 10_000), "morris.levels": (2, 100),
    "sobol.n": (2, 1_000_000), "sobol.design": (0, 100_000), "sobol.draws": (1, 1_000),
}
#: Fewest design points an emulated Sobol analysis trains its emulator on.
MIN_EMULATOR_DESIGN = 8


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated calibration spec."""

    path: Path
    text: str
    description: str
    places: tuple[str, ...]
    scenario: Scenario
    space: Space
    fixed: dict
    targets: tuple[Target, ...]
    held_out: tuple[Target, ...]
    years: float
    master_seed: int
    history_matching: dict = field(default_factory=dict)
    abc: dict = field(default_factory=dict)
    draws: int = 20
    checks: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SensitivitySpec:
    """A validated sensitivity spec."""

    path: Path
    text: str
    description: str
    place: str
    scenarios: tuple[Scenario, ...]
    space: Space
    fixed: dict
    years: float
    seeds: int
    master_seed: int
    morris: dict | None
    sobol: dict | None


class _Reader:
    """Collects every problem of one spec file."""

    def __init__(self, path: Path, keys: tuple[str, ...]):
        self.path = path
        self.data = yamlfile.load(path)
        self.found: list[str] = []
        if not isinstance(self.data, yamlfile.LineDict):
            raise InputError(f"{path}:1: a spec file is a mapping with keys such as "
                             f"{', '.join(keys[:4])}")
        for key in self.data:
            if key not in keys:
                self.found.append(f"{self.at(key)}: {unknown_name_message('key', key, list(keys))}")

    def at(self, key: str) -> str:
        return f"{self.path}:{self.data.line_of(key)}"

    def whole(self, key: str, low: int, high: int, default: int | None = None,
              data: yamlfile.LineDict | None = None, prefix: str = "") -> int | None:
        data = self.data if data is None else data
        if key not in data:
            if default is None:
                self.found.append(f"{self.path}: missing key '{prefix}{key}': allowed is a whole "
                                  f"number from {low:,} to {high:,}")
            return default
        value = data[key]
        if not is_whole(value) or not low <= value <= high:
            self.found.append(f"{self.path}:{data.line_of(key)}: '{prefix}{key}' = {value!r}: "
                              f"allowed is a whole number from {low:,} to {high:,}")
            return default
        return value

    def number(self, key: str, low: float, high: float, default: float | None = None,
               data: yamlfile.LineDict | None = None, prefix: str = "") -> float | None:
        data = self.data if data is None else data
        if key not in data:
            if default is None:
                self.found.append(f"{self.path}: missing key '{prefix}{key}': allowed is a number "
                                  f"from {low:g} to {high:g}")
            return default
        value = data[key]
        if not is_number(value) or not low <= value <= high:
            self.found.append(f"{self.path}:{data.line_of(key)}: '{prefix}{key}' = {value!r}: "
                              f"allowed is a number from {low:g} to {high:g}")
            return default
        return float(value)

    def names(self, key: str, allowed, what: str, required: bool = True) -> list[str]:
        raw = self.data.get(key)
        if key not in self.data:
            if required:
                self.found.append(f"{self.path}: missing key '{key}': allowed is a list of {what}s")
            return []
        if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
            self.found.append(f"{self.at(key)}: '{key}' = {raw!r}: allowed is a list of {what}s")
            return []
        good = []
        for name in raw:
            if name not in allowed:
                self.found.append(f"{self.at(key)}: "
                                  f"{unknown_name_message(what, name, list(allowed))}")
            elif name in good:
                self.found.append(f"{self.at(key)}: '{key}' lists '{name}' twice")
            else:
                good.append(name)
        return good

    def section(self, key: str, defaults: dict, optional: bool = False) -> dict | None:
        raw = self.data.get(key)
        here = self.data.line_of(key)
        if raw is None:
            return None if optional else yamlfile.LineDict(defaults, {}, here)
        if not isinstance(raw, yamlfile.LineDict):
            self.found.append(f"{self.at(key)}: '{key}' = {raw!r}: allowed is a mapping with keys "
                              f"{', '.join(defaults)}")
            return yamlfile.LineDict(defaults, {}, here)
        for name in raw:
            if name not in defaults:
                self.found.append(f"{self.path}:{raw.line_of(name)}: "
                                  f"{unknown_name_message(key + ' key', name, list(defaults))}")
        return yamlfile.LineDict({**defaults, **{k: v for k, v in raw.items() if k in defaults}},
                                 raw.lines, raw.line)

    def space(self) -> tuple[Space | None, dict]:
        names = self.names("parameters", BY_NAME, "parameter")
        fixed, problems = parameter_values(self.data, "fixed", self.path)
        self.found += problems
        ranges = self.data.get("ranges") or {}
        if not isinstance(ranges, dict):
            self.found.append(f"{self.at('ranges')}: 'ranges' = {ranges!r}: allowed is a mapping "
                              "of parameter names to [low, high]")
            ranges = {}
        for name in ranges:
            if name not in names:
                self.found.append(f"{self.at('ranges')}: range given for '{name}', which is not "
                                  "among 'parameters'")
        both = sorted(set(names) & set(fixed))
        if both:
            self.found.append(f"{self.at('fixed')}: {', '.join(both)} both fixed and explored")
        try:
            return (Space.of(names, {k: v for k, v in ranges.items() if k in names})
                    if names else None), fixed
        except InputError as error:
            self.found += [f"{self.at('ranges')}: {p}" for p in error.problems]
            return None, fixed

    def scenario(self, name: Any, key: str) -> Scenario | None:
        if not isinstance(name, str):
            self.found.append(f"{self.at(key)}: '{key}' = {name!r}: allowed is a scenario name "
                              "or file")
            return None
        local = self.path.parent / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
        try:
            return load_scenario(str(local) if yamlfile.exists(local) else name)
        except InputError as error:
            self.found += [f"{self.at(key)}: scenario '{name}': {p}" for p in error.problems]
            return None

    def text(self, key: str) -> str:
        value = self.data.get(key, "")
        if not isinstance(value, str):
            self.found.append(f"{self.at(key)}: '{key}' = {value!r}: allowed is text")
            return ""
        return " ".join(value.split())

    def done(self) -> None:
        if self.found:
            raise InputError(yamlfile.one_line(self.found))


def load_calibration_spec(path: str | Path) -> CalibrationSpec:
    """Load and validate a calibration spec; raise :class:`InputError` listing every defect."""
    path = Path(path)
    r = _Reader(path, CALIBRATION_KEYS)
    places = r.names("places", place_names(), "place")
    scenario = r.scenario(r.data.get("scenario", "baseline"), "scenario")
    space, fixed = r.space()
    targets_file = r.data.get("targets_file", str(TARGETS_FILE))
    try:
        known = load_targets(path.parent / targets_file if "targets_file" in r.data
                             else targets_file)
    except InputError as error:  # its own problems, not every target named as unknown
        r.found += error.problems
        r.done()
    fitted = r.names("targets", known, "target")
    held = r.names("held_out", known, "target", required=False)
    for name in sorted(set(fitted) & set(held)):
        r.found.append(f"{r.at('held_out')}: target '{name}' is both fitted and held out")
    for name in fitted + held:
        for place in places:
            if not known[name].applies_to(place):
                r.found.append(f"{r.at('targets')}: target '{name}' does not apply to '{place}'")
    limits = CALIBRATION_LIMITS
    years = r.number("years", *limits["years"])
    master_seed = r.whole("master_seed", *limits["master_seed"], default=0)
    hm = r.section("history_matching", HM_DEFAULTS)
    for key in ("waves", "points", "seeds", "candidates"):
        hm[key] = r.whole(key, *limits[f"history_matching.{key}"], data=hm,
                          default=HM_DEFAULTS[key], prefix="history_matching.")
    hm["cut"] = r.number("cut", *limits["history_matching.cut"], data=hm, default=3.0,
                         prefix="history_matching.")
    abc = r.section("abc", ABC_DEFAULTS)
    for key in ("population", "generations"):
        abc[key] = r.whole(key, *limits[f"abc.{key}"], data=abc, default=ABC_DEFAULTS[key],
                           prefix="abc.")
    abc["initial_epsilon"] = r.number("initial_epsilon", *limits["abc.initial_epsilon"],
                                      data=abc, default=3.0, prefix="abc.")
    if abc["max_simulations"] is None:
        abc["max_simulations"] = 100 * (abc["population"] or ABC_DEFAULTS["population"])
    else:
        abc["max_simulations"] = r.whole("max_simulations", *limits["abc.max_simulations"],
                                         data=abc, default=10_000, prefix="abc.")
    abc["min_acceptance_rate"] = r.number("min_acceptance_rate",
                                          *limits["abc.min_acceptance_rate"], data=abc,
                                          default=0.01, prefix="abc.")
    if abc["max_minutes"] is not None:
        abc["max_minutes"] = r.number("max_minutes", *limits["abc.max_minutes"], data=abc,
                                      default=None, prefix="abc.")
    if (abc["population"] and abc["max_simulations"]
            and abc["max_simulations"] < abc["population"]):
        r.found.append(f"{path}:{abc.line_of('max_simulations')}: 'abc.max_simulations' = "
                       f"{abc['max_simulations']:,}: allowed is at least abc.population "
                       f"({abc['population']:,}), the simulations of one generation at best")
    if abc["simulator"] not in ABC_SIMULATORS:
        r.found.append(f"{path}:{abc.line_of('simulator')}: 'abc.simulator' = "
                       f"{abc['simulator']!r}: allowed are {', '.join(ABC_SIMULATORS)}")
    elif abc["simulator"] == "emulator" and hm["waves"] < 1:
        r.found.append(f"{path}:{abc.line_of('simulator')}: 'abc.simulator' = 'emulator' needs "
                       "at least one history-matching wave to train the emulator")
    for key in ("candidates", "steps"):
        abc[key] = r.whole(key, *limits[f"abc.{key}"], data=abc, default=ABC_DEFAULTS[key],
                           prefix="abc.")
    if abc["kernel"] not in ABC_KERNELS:
        r.found.append(f"{path}:{abc.line_of('kernel')}: 'abc.kernel' = {abc['kernel']!r}: "
                       f"allowed are {', '.join(ABC_KERNELS)}")
    elif abc["kernel"] == "gaussian" and abc["simulator"] != "emulator":
        r.found.append(f"{path}:{abc.line_of('kernel')}: 'abc.kernel' = 'gaussian' needs "
                       "'abc.simulator' = 'emulator' (the likelihood is the emulator's)")
    draws = r.whole("draws", *limits["draws"], default=20)
    checks = r.section("checks", CHECKS_DEFAULTS)
    for key in ("ppc_seeds", "validation_folds", "coverage_truths"):
        checks[key] = r.whole(key, *limits[f"checks.{key}"], data=checks,
                              default=CHECKS_DEFAULTS[key], prefix="checks.")
    description = r.text("description")
    r.done()
    return CalibrationSpec(path, path.read_text(encoding="utf-8"), description, tuple(places),
                           scenario, space, fixed, tuple(known[n] for n in fitted),
                           tuple(known[n] for n in held), years, master_seed, dict(hm),
                           dict(abc), draws, dict(checks))


def load_sensitivity_spec(path: str | Path) -> SensitivitySpec:
    """Load and validate a sensitivity spec; raise :class:`InputError` listing every defect."""
    path = Path(path)
    r = _Reader(path, SENSITIVITY_KEYS)
    place = r.data.get("place", "devon_ics")
    if place not in place_names():
        r.found.append(f"{r.at('place')}: {unknown_place(place)}")
    raw = r.data.get("scenarios", ["baseline"])
    scenarios = []
    if not isinstance(raw, list) or not raw:
        r.found.append(f"{r.at('scenarios')}: 'scenarios' = {raw!r}: allowed is a list of "
                       "scenario names, status quo first")
    else:
        scenarios = [s for s in (r.scenario(name, "scenarios") for name in raw) if s]
    space, fixed = r.space()
    limits = SENSITIVITY_LIMITS
    years = r.number("years", *limits["years"])
    seeds = r.whole("seeds", *limits["seeds"], default=1)
    master_seed = r.whole("master_seed", *limits["master_seed"], default=0)
    morris = r.section("morris", MORRIS_DEFAULTS, optional=True)
    if morris is not None:
        for key in ("trajectories", "levels"):
            morris[key] = r.whole(key, *limits[f"morris.{key}"], data=morris,
                                  default=MORRIS_DEFAULTS[key], prefix="morris.")
    sobol = r.section("sobol", SOBOL_DEFAULTS, optional=True)
    if sobol is not None:
        sobol["n"] = r.whole("n", *limits["sobol.n"], data=sobol, default=256, prefix="sobol.")
        if sobol["n"] & (sobol["n"] - 1):
            r.found.append(f"{r.at('sobol')}: 'sobol.n' = {sobol['n']}: allowed is a power of 2")
        if sobol["method"] not in SOBOL_METHODS:
            r.found.append(f"{r.at('sobol')}: 'sobol.method' = {sobol['method']!r}: allowed are "
                           f"{', '.join(SOBOL_METHODS)}")
        low, high = limits["sobol.design"]
        sobol["design"] = r.whole("design", low if sobol["method"] == "direct"
                                  else MIN_EMULATOR_DESIGN, high, data=sobol, default=200,
                                  prefix="sobol.")
        sobol["draws"] = r.whole("draws", *limits["sobol.draws"], data=sobol, default=20,
                                 prefix="sobol.")
        points = (sobol["n"] or 0) * ((space.dim if space else 0) + 2)
        if sobol["method"] == "emulator" and points > MAX_EMULATED_POINTS:
            r.found.append(f"{r.at('sobol')}: 'sobol.n' = {sobol['n']:,}: the emulated Sobol "
                           f"design would have {points:,} points (n x (parameters + 2)): "
                           f"allowed is at most {MAX_EMULATED_POINTS:,} with method emulator "
                           "(the GP is drawn at all of them jointly); use a smaller n")
    if morris is None and sobol is None:
        r.found.append(f"{path}: give 'morris', 'sobol' or both")
    description = r.text("description")
    r.done()
    return SensitivitySpec(path, path.read_text(encoding="utf-8"), description, place,
                           tuple(scenarios), space, fixed, years, seeds, master_seed, morris,
                           sobol)
