"""Spec files of ``abm frontier`` and ``abm what-it-takes``.

Frontier spec (``abm/decision/specs/quick_devon_ics.yaml`` is a small example)::

    description: The best mixes in Devon ICS.
    place: devon_ics
    baseline: baseline            # the status quo scenario (default baseline)
    levers: all                   # or a list of levers and switch rules (see `abm parameters`)
    ranges: {budget_uplift: [0, 0.5], develop_budget_share: [0, 0.6]}   # optional
    min_share: 0.01               # a share below this is no money: its rule is off
    fixed: {n_neighbourhoods: 100}    # optional: changes for every run (run size)
    objectives: [wellbys, gap, core20_wellbys]   # see abm.decision.objectives.OBJECTIVES
    optimise: mean                # or worst_decile (robust: the 10% worst draws)
    posterior: shipped            # the shipped calibration's draws, a path (relative to this
                                  # file), or none (the declaration's values)
    draws: 30                     # posterior draws per mix: the file's first N or, beyond
                                  # its length, N resampled from the particles beside it
    seeds: 2                      # seeds per draw, paired with the status quo
    master_seed: 1
    years: 10
    search: {algorithm: nsga2, population: 24, generations: 10, seed: 1}
    max_runs: 100000              # refuse a search that could need more runs

A what-it-takes spec has the same keys and an ``aim``::

    aim: {objective: gap, change: -0.02, probability: 0.8}

It then searches for the cheapest mix (by extra money) that reaches the aim in at least that
share of posterior draws. With ``strategies`` and ``vary`` instead of a search, it answers the
simpler question for each strategy or mix given: the value of one lever (the extra money, a
targeting weight) at which the aim is reached::

    strategies: [develop, scale_embed_sustain]      # scenario names or files
    vary: {lever: budget_uplift, range: [0, 1], points: 6}

Every defect is reported at once, one line each with file, line, key, value and what is
allowed. The number of runs is worked out before anything runs and refused above
``max_runs`` (or ``--max-runs``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import calibration
from abm.decision.objectives import OBJECTIVES, Objective
from abm.decision.space import DEFAULT_MIN_SHARE, STATUS_QUO, PolicySpace
from abm.files.errors import InputError, unknown_name_message
from abm.model.parameters import BY_NAME, Params, levers
from abm.model.places import load_place, place_names
from abm.model.randomness import MAX_SEED
from abm.model.scenarios import Scenario
from calibration.spec import _Reader
from calibration.uncertainty import read_draws
from experiments.spec import DEFAULT_MAX_RUNS, MAX_RUNS_LIMIT

FRONTIER_KEYS = ("description", "place", "baseline", "levers", "ranges", "min_share", "fixed",
                 "objectives", "optimise", "posterior", "draws", "seeds", "master_seed", "years",
                 "search", "max_runs")
AIM_KEYS = (*FRONTIER_KEYS, "aim", "strategies", "vary")
SEARCH_DEFAULTS = {"algorithm": "nsga2", "population": 24, "generations": 10, "seed": 1}
ALGORITHMS = ("nsga2", "nsga3")
OPTIMISE = ("mean", "worst_decile")
SHIPPED = "shipped"
#: The shipped calibration's posterior draws (``posterior: shipped``).
SHIPPED_POSTERIOR = Path(calibration.__file__).parent / "calibrated" / "main" / "posterior.parquet"
AIM_DEFAULTS = {"objective": "gap", "change": None, "probability": 0.8}
VARY_DEFAULTS = {"lever": "budget_uplift", "range": None, "points": 6}
DEFAULT_OBJECTIVES = ("wellbys", "gap")
#: (low, high) of a frontier or aim spec's numbers, by key (``search.key`` in ``search``):
#: read by :func:`load_decision_spec` and ``abm schemas``.
LIMITS = {"draws": (1, 100_000), "seeds": (1, 1_000), "master_seed": (0, MAX_SEED),
          "years": (1 / 52, 100), "min_share": (0.0, 0.5), "search.population": (4, 100_000),
          "search.generations": (1, 100_000), "search.seed": (0, 2**32 - 1)}


@dataclass(frozen=True)
class Aim:
    """A stated aim: ``objective`` changes by ``change`` or more (in its better direction) in
    at least ``probability`` of posterior draws."""

    objective: Objective
    change: float
    probability: float

    def reached(self, value: float) -> bool:
        """Whether a change of ``value`` reaches the aim."""
        return self.objective.sign * (value - self.change) >= 0

    def words(self) -> str:
        o = self.objective
        return (f"{o.label} of {self.change:+g} {o.unit} or "
                f"{'more' if o.higher_is_better else 'less'}, in at least "
                f"{self.probability:.0%} of posterior draws")


@dataclass(frozen=True)
class Vary:
    """The simple form of what-it-takes: one lever varied over a grid for each strategy."""

    lever: str
    values: tuple[float, ...]
    strategies: tuple[Scenario, ...]


@dataclass(frozen=True)
class DecisionSpec:
    """A validated frontier or what-it-takes spec."""

    path: Path
    text: str
    description: str
    place: str
    baseline: Scenario
    space: PolicySpace | None  # None in the simple what-it-takes form
    objectives: tuple[Objective, ...]
    optimise: str
    posterior: Path | None
    draws: pd.DataFrame  # one row per draw (no columns without a posterior)
    seeds: int
    master_seed: int
    years: float
    fixed: dict
    search: dict
    max_runs: int
    aim: Aim | None = None
    vary: Vary | None = None
    population: int = field(default=0)  # people in the place (extra money per year)

    def seed_values(self) -> list[int]:
        """One child of ``SeedSequence(master_seed)`` per seed (as sweeps draw them)."""
        children = np.random.SeedSequence(self.master_seed).spawn(self.seeds)
        return [int(c.generate_state(1, np.uint64)[0]) >> 1 for c in children]

    @property
    def mixes_at_most(self) -> int:
        """Most mixes the search (or the grid) can evaluate."""
        if self.vary is not None:
            return len(self.vary.strategies) * len(self.vary.values)
        return self.search["population"] * self.search["generations"]

    @property
    def runs_at_most(self) -> int:
        """Most model runs: every mix and the status quo at every draw x seed."""
        return (self.mixes_at_most + 1) * len(self.draws) * self.seeds

    def run_count_text(self) -> str:
        per = f"{len(self.draws)} draws x {self.seeds} seeds"
        if self.vary is not None:
            mixes = f"{len(self.vary.strategies)} strategies x {len(self.vary.values)} values"
        else:
            mixes = (f"{self.search['population']} mixes x {self.search['generations']} "
                     "generations")
        return f"({mixes}, and the status quo) x {per}"


def load_decision_spec(path: str | Path, max_runs: int | None = None, aim: bool = False
                       ) -> DecisionSpec:
    """Load and validate a frontier spec (or, with ``aim``, a what-it-takes spec); raise
    :class:`InputError` listing every defect, or the one line refusing too many runs."""
    path = Path(path)
    r = _Reader(path, AIM_KEYS if aim else FRONTIER_KEYS)
    place = r.data.get("place", "devon_ics")
    if place not in place_names():
        r.found.append(f"{r.at('place')}: {unknown_name_message('place', place, place_names())}")
    baseline = r.scenario(r.data.get("baseline", "baseline"), "baseline")
    fixed, problems = _fixed(r)
    r.found += problems
    posterior = _posterior(r, path)
    draws_wanted = r.whole("draws", *LIMITS["draws"], default=1 if posterior is None else 30)
    draws = pd.DataFrame(index=range(1))
    if posterior is not None:
        try:
            draws = read_draws(posterior, draws_wanted)
        except InputError as error:
            r.found += [f"{r.at('posterior')}: {p}" for p in error.problems]
    elif draws_wanted != 1:
        r.found.append(f"{r.at('draws')}: 'draws' = {draws_wanted}: without a posterior there "
                       "is one draw (the declaration's values); allowed is 1")
    seeds = r.whole("seeds", *LIMITS["seeds"], default=2)
    master_seed = r.whole("master_seed", *LIMITS["master_seed"], default=0)
    years = r.number("years", *LIMITS["years"], default=10.0)
    objectives = _objectives(r)
    optimise = r.data.get("optimise", "mean")
    if optimise not in OPTIMISE:
        r.found.append(f"{r.at('optimise')}: 'optimise' = {optimise!r}: allowed are "
                       f"{', '.join(OPTIMISE)}")
    search = r.section("search", SEARCH_DEFAULTS)
    if search["algorithm"] not in ALGORITHMS:
        r.found.append(f"{r.at('search')}: 'search.algorithm' = {search['algorithm']!r}: "
                       f"allowed are {', '.join(ALGORITHMS)}")
    for key in ("population", "generations", "seed"):
        search[key] = r.whole(key, *LIMITS[f"search.{key}"], data=search,
                              default=SEARCH_DEFAULTS[key], prefix="search.")
    cap = r.whole("max_runs", 1, MAX_RUNS_LIMIT, default=DEFAULT_MAX_RUNS)
    aim_value = _aim(r) if aim else None
    if aim_value is not None:  # the search weighs extra money against the aim's objective
        listed = objectives if "objectives" in r.data else []
        objectives = list(dict.fromkeys([OBJECTIVES["extra_money"], aim_value.objective,
                                         *listed]))
    vary = _vary(r) if aim else None
    min_share = r.number("min_share", *LIMITS["min_share"], default=DEFAULT_MIN_SHARE)
    space = None
    if vary is None and baseline is not None:
        base = {**dict(baseline.params()), **fixed}
        exclude = sorted(set(draws.columns) | set(fixed))
        names = r.data.get("levers", "all")
        if names != "all" and not (isinstance(names, list) and names
                                   and all(isinstance(n, str) for n in names)):
            r.found.append(f"{r.at('levers')}: 'levers' = {names!r}: allowed is all, or a list "
                           "of levers and switch rules")
            names = "all"
        ranges = r.data.get("ranges") or {}
        if not isinstance(ranges, dict):
            r.found.append(f"{r.at('ranges')}: 'ranges' = {ranges!r}: allowed is a mapping of "
                           "levers to [low, high]")
            ranges = {}
        try:
            space = PolicySpace.of(None if names == "all" else names, base, ranges,
                                   min_share or DEFAULT_MIN_SHARE, exclude, baseline.rules)
        except InputError as error:
            r.found += [f"{r.at('levers')}: {p}" for p in error.problems]
    if baseline is not None and baseline.rules != (STATUS_QUO,) and vary is None:
        r.found.append(f"{r.at('baseline')}: the status quo scenario '{baseline.name}' has rules "
                       f"{'+'.join(baseline.rules)}: allowed is a scenario with status_quo alone")
    if search["algorithm"] == "nsga3" and len(objectives) < 2:
        r.found.append(f"{r.at('search')}: nsga3 needs two objectives or more")
    description = r.text("description")
    r.done()
    spec = DecisionSpec(path, path.read_text(encoding="utf-8"), description, place, baseline,
                        space, tuple(objectives), optimise, posterior, draws, seeds,
                        master_seed, years, fixed, dict(search), cap, aim_value, vary,
                        load_place(place).population)
    limit = max_runs if max_runs is not None else cap
    if spec.runs_at_most > limit:
        raise InputError(f"{path}: this needs up to {spec.runs_at_most:,} runs "
                         f"{spec.run_count_text()}, more than the cap of {limit:,}: allowed is "
                         "fewer mixes, draws or seeds, or a higher max_runs (in the file or "
                         "--max-runs)")
    return spec


def _fixed(r: _Reader) -> tuple[dict, list[str]]:
    from abm.model.parameters import parameter_values

    fixed, problems = parameter_values(r.data, "fixed", r.path)
    try:
        Params(fixed)
    except InputError as error:
        problems += [f"{r.at('fixed')}: {p}" for p in error.problems]
    return fixed, problems


def _posterior(r: _Reader, path: Path) -> Path | None:
    raw = r.data.get("posterior")
    if raw is None or raw == "none":
        return None
    if not isinstance(raw, str):
        r.found.append(f"{r.at('posterior')}: 'posterior' = {raw!r}: allowed is shipped, none "
                       "or the path of a calibration's posterior.parquet")
        return None
    return SHIPPED_POSTERIOR if raw == SHIPPED else (path.parent / raw)


def _objectives(r: _Reader) -> list[Objective]:
    names = r.data.get("objectives", list(DEFAULT_OBJECTIVES))
    if not isinstance(names, list) or not names:
        r.found.append(f"{r.at('objectives')}: 'objectives' = {names!r}: allowed is a list of "
                       f"{', '.join(OBJECTIVES)}")
        return [OBJECTIVES[n] for n in DEFAULT_OBJECTIVES]
    found = []
    for name in names:
        if name not in OBJECTIVES:
            r.found.append(f"{r.at('objectives')}: "
                           f"{unknown_name_message('objective', str(name), list(OBJECTIVES))}")
        elif OBJECTIVES[name] in found:
            r.found.append(f"{r.at('objectives')}: 'objectives' lists '{name}' twice")
        else:
            found.append(OBJECTIVES[name])
    missing = sorted({c for o in found for c in o.needs} - set(summary_columns()))
    if missing:
        r.found.append(f"{r.at('objectives')}: this model's runs have no column "
                       f"{', '.join(missing)} (Model v3 adds NHS costs): allowed objectives "
                       "need only columns the model records")
    return found


def _aim(r: _Reader) -> Aim | None:
    section = r.section("aim", AIM_DEFAULTS)
    name = section["objective"]
    if name not in OBJECTIVES:
        r.found.append(f"{r.at('aim')}: "
                       f"{unknown_name_message('aim objective', str(name), list(OBJECTIVES))}")
        return None
    change = r.number("change", -1e12, 1e12, data=section, prefix="aim.")
    probability = r.number("probability", 0.5, 1.0, data=section, default=0.8, prefix="aim.")
    if change is None:
        return None
    if change * OBJECTIVES[name].sign <= 0:
        word = "above" if OBJECTIVES[name].higher_is_better else "below"
        r.found.append(f"{r.at('aim')}: 'aim.change' = {change:g}: an aim for '{name}' is a "
                       f"change {word} 0 (better than the status quo)")
    return Aim(OBJECTIVES[name], change, probability)


def _vary(r: _Reader) -> Vary | None:
    if "strategies" not in r.data and "vary" not in r.data:
        return None
    raw = r.data.get("strategies")
    if not isinstance(raw, list) or not raw:
        r.found.append(f"{r.at('strategies')}: 'strategies' = {raw!r}: allowed is a list of "
                       "scenario names or files (with 'vary')")
        raw = []
    strategies = [s for s in (r.scenario(name, "strategies") for name in raw) if s]
    section = r.section("vary", VARY_DEFAULTS)
    lever = section["lever"]
    names = [p.name for p in levers()]
    if lever not in names:
        r.found.append(f"{r.at('vary')}: {unknown_name_message('lever', str(lever), names)}")
        return None
    p = BY_NAME[lever]
    span = section["range"] or ([p.plausible_low, p.plausible_high] if p.sampled else None)
    points = r.whole("points", 2, 1000, data=section, default=6, prefix="vary.")
    if not (isinstance(span, list) and len(span) == 2 and all(isinstance(x, int | float)
                                                               for x in span)
            and p.low <= span[0] < span[1] <= p.high):
        r.found.append(f"{r.at('vary')}: 'vary.range' = {span!r}: allowed is [low, high] with "
                       f"low < high inside {p.low:g} to {p.high:g}"
                       + ("" if p.sampled else f" ('{lever}' has no plausible range)"))
        return None
    grid = np.linspace(float(span[0]), float(span[1]), points or 6)
    values = tuple(sorted({round(v) for v in grid})) if p.type is int else tuple(
        float(f"{v:.10g}") for v in grid)
    baseline = r.scenario(r.data.get("baseline", "baseline"), "baseline")
    for strategy in strategies if baseline is not None else ():
        for value in values:
            try:
                Params({**baseline.parameters,
                        **strategy_changes(baseline, strategy, lever, value)})
            except InputError as error:
                r.found.append(f"{r.at('vary')}: strategy '{strategy.name}' with {lever} = "
                               f"{value:g}: {error.problems[0]}")
                break
    return Vary(lever, values, tuple(strategies))


def strategy_changes(baseline: Scenario, strategy: Scenario, lever: str, value: float
                     ) -> dict:
    """A strategy's changes from the status quo scenario, with ``lever`` at ``value`` and the
    budget share of every rule it does not use at 0 (a share switches its rule on)."""
    from abm.decision.space import share_rules

    changes = {k: v for k, v in strategy.parameters.items() if baseline.parameters.get(k) != v}
    off = {n: 0.0 for n, rule in share_rules().items() if rule not in strategy.rules}
    return {**changes, **off, lever: value}


@functools.cache
def summary_columns() -> tuple[str, ...]:
    """The columns a run's row has: every parameter and the summary columns of this model
    (found by a tiny run, once per process)."""
    from abm.model.model import CommunityAssetsModel

    tiny = {"n_neighbourhoods": 10, "residents_per_neighbourhood": 5, "burn_in_years": 0,
            "policy_years": 1 / 52}
    model = CommunityAssetsModel("devon_ics", (STATUS_QUO,), 0, Params(tiny)).run()
    return (*BY_NAME, *model.summary().columns)
