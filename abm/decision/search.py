"""The search for the best mixes: every mix run at each posterior draw x seed, paired with the
status quo, through the project's executors; pymoo's NSGA-II (or NSGA-III) proposes mixes.

**Why pymoo.** It has NSGA-II and NSGA-III with an ask-and-tell interface, a repair step (so
every mix evaluated keeps the budget-share constraint) and a random generator of its own
per algorithm (``np.random.default_rng(seed)``, no global state). Ask-and-tell lets the
project's executors run each generation's mixes x draws x seeds as one batch on Ray and keep
every run in the run store, as calibration does. Optuna's multi-objective samplers and EMA
workbench's optimisation (platypus) evaluate one point at a time through their own loop and
offer no repair; EMA's platypus algorithms draw from Python's global ``random``.

**Deterministic and resumable by replay.** The search keeps no state of its own: pymoo asks
for the same mixes given the same seed and the same objective values, and each objective
value is a deterministic function of runs that are stored by run id (:class:`RunStore`,
checksummed Parquet parts). A search run again, after a kill or to completion, replays every
generation from the start, finds the finished runs in the store and runs only what is
missing: the same spec gives the same frontier whatever the number of workers, and a resumed
search gives what an uninterrupted one would have. A spec with more generations extends a
finished search at the cost of the new generations only.

The frontier is the set of mixes evaluated (in any generation) that no other evaluated mix
beats on every objective at once, on the statistic the spec optimises.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from abm.decision import objectives as obj
from abm.decision.space import STATUS_QUO, Mix, PolicySpace
from abm.decision.spec import DecisionSpec
from abm.files.io import write_csv, write_json, write_parquet
from abm.files.provenance import provenance
from abm.model.runs import RunSpec, execute
from calibration.evaluate import RunStore, evaluate
from calibration.problem import typed

#: The label every run of decision support carries (its id is then a function of its content:
#: a mix met again, in another generation or another search, is the same runs).
LABEL = "decision"


def status_quo(spec: DecisionSpec) -> Mix:
    """The status quo: the baseline scenario as it is."""
    return Mix(spec.baseline.rules, ())


@dataclass
class Evaluation:
    """Mixes judged: one row per mix (its objectives' statistics) and, per mix, the paired
    changes at every draw and seed."""

    table: pd.DataFrame
    paired: dict[str, pd.DataFrame] = field(default_factory=dict)


class Evaluator:
    """Runs mixes of a spec at every draw x seed, paired with the status quo."""

    def __init__(self, spec: DecisionSpec, store: RunStore, executor: Executor,
                 run: Callable = execute):
        self.spec, self.store, self.executor, self.run = spec, store, executor, run
        self.seeds = spec.seed_values()
        aim = spec.aim
        self.aim = None if aim is None else (aim.objective.name, aim.change, aim.probability)

    def run_specs(self, mix: Mix) -> list[RunSpec]:
        """The runs of ``mix``: each draw (its values replace the calibrated parameters) x seed,
        on the status quo scenario's parameters and the spec's fixed values."""
        spec = self.spec
        base = spec.baseline.parameters
        return [RunSpec.make(LABEL, spec.place, mix.rules,
                             {**base, **mix.parameters, **spec.fixed, **typed(draw)}, seed,
                             spec.years, point=index)
                for index, draw in enumerate(spec.draws.to_dict("records"))
                for seed in self.seeds]

    def evaluate(self, mixes: Sequence[Mix], desc: str = "runs") -> Evaluation:
        """Statistics of each mix's paired changes (every run stored as it finishes)."""
        base_specs = self.run_specs(status_quo(self.spec))
        unique = list(dict.fromkeys(mixes))
        specs = base_specs + [s for m in unique for s in self.run_specs(m)]
        rows = evaluate(specs, self.store, self.executor, run=self.run, desc=desc)
        rows = rows.assign(draw=rows["point"], place_population=self.spec.population)
        n = len(base_specs)
        base = rows.iloc[:n]
        table, paired = [], {}
        for k, mix in enumerate(unique):
            block = rows.iloc[n * (k + 1):n * (k + 2)]
            changes = obj.changes(block, base, self.spec.objectives)
            paired[mix.id] = changes
            table.append({"mix_id": mix.id, "rules": "+".join(mix.rules),
                          **mix.parameters,
                          **obj.summarise(changes, self.spec.objectives, self.aim),
                          "runs": len(block), "run_ids": " ".join(block["run_id"])})
        return Evaluation(pd.DataFrame(table), paired)


def targets(spec: DecisionSpec) -> list[tuple[obj.Objective, str]]:
    """What the search optimises: each objective and the column of the evaluation table it
    is judged by. With an aim: the extra money (mean) and the aim's objective as reached in
    the aim's share of draws; otherwise each objective's mean or worst decile."""
    if spec.aim is not None:
        money = obj.OBJECTIVES["extra_money"]
        return [(money, money.name), (spec.aim.objective, f"{spec.aim.objective.name}_at_p")]
    suffix = "" if spec.optimise == "mean" else f"_{spec.optimise}"
    return [(o, f"{o.name}{suffix}") for o in spec.objectives]


def minimised(table: pd.DataFrame, judged: Sequence[tuple[obj.Objective, str]]) -> np.ndarray:
    """The objectives as pymoo minimises them (better is lower), one row per mix."""
    return np.column_stack([-o.sign * table[column].to_numpy(float) for o, column in judged])


def non_dominated(values: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``values`` (lower is better) that no other row dominates."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    if len(values) == 0:
        return np.array([], dtype=int)
    return np.sort(NonDominatedSorting().do(values, only_non_dominated_front=True))


def _algorithm(spec: DecisionSpec):
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.core.repair import Repair
    from pymoo.operators.sampling.lhs import LHS
    from pymoo.util.ref_dirs import get_reference_directions

    space = spec.space

    class ShareRepair(Repair):
        """Every mix proposed keeps the budget-share constraint."""

        def _do(self, problem, X, **kwargs):
            return np.array([space.repair(x) for x in X])

    options = {"pop_size": spec.search["population"], "sampling": LHS(),
               "repair": ShareRepair(), "eliminate_duplicates": True}
    if spec.search["algorithm"] == "nsga3":
        directions = get_reference_directions("energy", len(targets(spec)),
                                              spec.search["population"],
                                              seed=spec.search["seed"])
        return NSGA3(ref_dirs=directions, **options)
    return NSGA2(**options)


@dataclass
class SearchResult:
    """A finished search: every mix evaluated, the frontier among them, and what it cost."""

    evaluations: pd.DataFrame  # one row per distinct mix, first generation it appeared in
    frontier: pd.DataFrame  # the non-dominated mixes, best first objective first
    status_quo: dict  # the status quo's own row of statistics (all changes 0)
    units: str
    runs_stored: int
    runs_run: int
    seconds: float


def run_search(spec: DecisionSpec, out: Path, executor: Executor, run: Callable = execute
               ) -> SearchResult:
    """Search (or resume, or replay) ``spec``'s policy space into ``out``; write the
    evaluations and the frontier; return them."""
    from pymoo.core.problem import Problem

    began = time.perf_counter()
    store = RunStore(out)
    stored_before = len(store.ids())
    evaluator = Evaluator(spec, store, executor, run)
    space: PolicySpace = spec.space
    judged = targets(spec)
    problem = Problem(n_var=space.dim, n_obj=len(judged), xl=0.0, xu=1.0)
    algorithm = _algorithm(spec)
    algorithm.setup(problem, termination=("n_gen", spec.search["generations"]),
                    seed=spec.search["seed"], verbose=False)
    found: dict[str, dict] = {}
    generation = 0
    units = "seeds (no posterior)"
    while algorithm.has_next():
        population = algorithm.ask()
        mixes = [space.decode(x) for x in population.get("X")]
        generation += 1
        result = evaluator.evaluate(
            mixes, desc=f"generation {generation} of {spec.search['generations']}")
        by_id = result.table.set_index("mix_id")
        for mix_id, row in by_id.iterrows():
            found.setdefault(mix_id, {"mix_id": mix_id, "generation": generation, **row})
        units = obj.units(next(iter(result.paired.values())))
        table = by_id.loc[[m.id for m in mixes]]
        population.set("F", minimised(table, judged))
        algorithm.tell(infills=population)
    evaluations = pd.DataFrame(list(found.values()))
    front = evaluations.iloc[non_dominated(minimised(evaluations, judged))]
    first, column = judged[0]
    front = front.sort_values([column, "mix_id"], ascending=[not first.higher_is_better, True])
    base_row = {"mix_id": status_quo(spec).id, "rules": STATUS_QUO,
                **{f"{o.name}{s}": 0.0 for o in spec.objectives
                   for s in ("", "_lo", "_hi", "_worst_decile")},
                **{f"{o.name}_p_better": 0.0 for o in spec.objectives}}
    outcome = SearchResult(evaluations, front.reset_index(drop=True), base_row, units,
                           len(store.ids()), len(store.ids()) - stored_before,
                           time.perf_counter() - began)
    write_results(spec, out, outcome)
    return outcome


def spec_sha256(spec: DecisionSpec) -> str:
    return hashlib.sha256(spec.text.encode()).hexdigest()


def write_results(spec: DecisionSpec, out: Path, result: SearchResult) -> None:
    """``evaluations.parquet``, ``frontier.parquet`` and ``.csv``, and ``frontier.json`` (the
    spec, its hash, what the statistics are over, provenance)."""
    write_parquet(result.evaluations, out / "evaluations.parquet")
    write_parquet(result.frontier, out / "frontier.parquet")
    write_csv(result.frontier.drop(columns=["run_ids"]), out / "frontier.csv")
    write_json({
        "kind": "frontier",
        "place": spec.place,
        "spec": str(spec.path),
        "spec_text": spec.text,
        "spec_sha256": spec_sha256(spec),
        "description": spec.description,
        "objectives": [o.name for o in spec.objectives],
        "optimise": spec.optimise,
        "levers": list(spec.space.names),
        "draws": len(spec.draws),
        "seeds": spec.seeds,
        "years": spec.years,
        "posterior": str(spec.posterior) if spec.posterior else None,
        "units": result.units,
        "mixes_evaluated": len(result.evaluations),
        "frontier_size": len(result.frontier),
        "runs_stored": result.runs_stored,
        "status_quo": {"mix_id": result.status_quo["mix_id"],
                       "rules": list(spec.baseline.rules)},
        "provenance": provenance(),
    }, out / "frontier.json")
