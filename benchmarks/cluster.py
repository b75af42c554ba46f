"""England at 1:1 (every ICB at its full population) on a Ray cluster: measured at reduced
scale on a multi-node cluster on this machine, projected to N nodes, and checked.

    python -m benchmarks.cluster --out results/cluster [--scales 200 50] [--nodes 2]
        [--cpus-per-node 1] [--check nhs_shropshire_telford_wrekin_icb]

At scale 1:k every ICB runs with its real number of LSOAs as neighbourhoods and 1/k of its
residents (``residents_per_neighbourhood`` = its Census 2021 population / LSOAs / k), so
the deprivation map is the real one at every scale and only the people thin out.

How the work is laid out (the plan for 1:1, tried here at reduced scale):

* **one run per Ray task** (a 1:1 run lasts minutes: batching buys nothing), each asking for
  one CPU and its memory (``memory=``, from :func:`memory_bytes`), so Ray places a run only
  on a node with room for it;
* **largest first**: runs are submitted in falling order of size (longest processing time
  first), so the biggest ICBs do not start last and set the finishing time;
* **a bounded window**: at most two tasks per CPU are in flight; the driver holds only their
  references, never the results of finished runs;
* **streaming into the store**: each finished run's summary row is written at once as a
  checksummed Parquet part (:func:`abm.files.io.write_part`, the runner's own format) and
  dropped from the driver.

Each measured task runs in a fresh worker process (``max_calls=1``) so that its peak memory
(``ru_maxrss``) is its own. The time of a run is fitted as ``c + a * LSOAs + b * residents``
over the scales measured (two scales separate ``a`` from ``b``: residents change, LSOAs do
not) and projected to 1:1 for all 42 ICBs, for the scenarios x seeds of
``experiments/england.yaml``, on N nodes of C cores. ``--check`` runs one ICB at 1:1 and
sets its time beside the projection.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from abm.files.io import write_csv, write_part
from abm.model.places import load_place
from abm.model.runs import RunSpec, execute
from experiments.results import batch_key
from experiments.spec import load_sweep

SPEC = Path(__file__).resolve().parents[1] / "experiments" / "england.yaml"
#: Memory a run asks Ray for: the worker's own footprint (Python, numpy, the model's code)
#: plus this much per resident (bytes); measured peaks are printed beside it.
MEMORY_BASE = 400 * 2**20
MEMORY_PER_RESIDENT = 1_000
#: Tasks in flight per CPU: enough that a CPU never waits for the driver.
WINDOW_PER_CPU = 2


def icbs() -> list[str]:
    """The 42 ICB places, in ``experiments/england.yaml``'s order."""
    return list(load_sweep(SPEC).places)


def size(place: str, scale: float) -> dict:
    """Model size of ``place`` at 1:``scale``: its LSOAs as neighbourhoods, 1/scale of its
    residents in each."""
    info = load_place(place)
    per_lsoa = max(5, round(info.population / info.lsoas / scale))
    return {"n_neighbourhoods": info.lsoas, "residents_per_neighbourhood": per_lsoa}


def memory_bytes(residents: int) -> int:
    """Memory a run of ``residents`` asks Ray for."""
    return MEMORY_BASE + MEMORY_PER_RESIDENT * residents


def measured(spec: RunSpec) -> tuple[dict, dict]:
    """Run ``spec`` (in a fresh worker); return its summary row and what it cost."""
    import ray

    start = time.perf_counter()
    row, _ = execute(spec)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return row, {"seconds": seconds, "peak_mib": peak_mib,
                 "node": ray.get_runtime_context().get_node_id()[:8]}


def run_all(specs: list[RunSpec], out: Path, cpus: int) -> pd.DataFrame:
    """Run ``specs`` largest first, a bounded window in flight, each row written as it comes;
    return what each run cost."""
    import ray

    task = ray.remote(max_calls=1, num_cpus=1)(measured)
    order = sorted(specs, key=lambda s: -_residents(s))
    pending: dict = {}
    costs = []
    queue = iter(order)
    while True:
        while len(pending) < WINDOW_PER_CPU * cpus and (spec := next(queue, None)):
            ref = task.options(memory=memory_bytes(_residents(spec))).remote(spec)
            pending[ref] = spec
        if not pending:
            break
        [ready], _ = ray.wait(list(pending), num_returns=1)
        spec = pending.pop(ready)
        row, cost = ray.get(ready)
        write_part([row], out / "runs", batch_key([row["run_id"]]))  # streamed, then dropped
        costs.append({"place": spec.place, "scenario": spec.scenario,
                      "lsoas": spec.params.n_neighbourhoods, "residents": _residents(spec),
                      **cost})
    return pd.DataFrame(costs)


def _residents(spec: RunSpec) -> int:
    params = spec.params
    return params.n_neighbourhoods * params.residents_per_neighbourhood


def specs_at(scale: float, places: list[str], scenarios: list, seed: int, years: float
             ) -> list[RunSpec]:
    return [RunSpec.make(s.name, place, s.rules, {**s.parameters, **size(place, scale)}, seed,
                         years) for place in places for s in scenarios]


def fit(costs: pd.DataFrame, column: str = "seconds") -> np.ndarray:
    """Least-squares ``column = c + a * LSOAs + b * residents``; returns (c, a, b)."""
    design = np.column_stack([np.ones(len(costs)), costs.lsoas, costs.residents])
    coef, *_ = np.linalg.lstsq(design, costs[column].to_numpy(), rcond=None)
    return coef


def predict(coef: np.ndarray, lsoas, residents) -> np.ndarray:
    return coef[0] + coef[1] * np.asarray(lsoas) + coef[2] * np.asarray(residents)


def projection(coef: np.ndarray, memory: np.ndarray, runs_per_icb: int, nodes: list[int],
               cores: int) -> pd.DataFrame:
    """Hours for every ICB at 1:1, ``runs_per_icb`` runs each, on N nodes of ``cores``: the
    larger of the work shared evenly and the longest single run (largest-first packing); and
    the memory a node needs with every core running the largest ICB (``memory``: the fit of
    peak MiB)."""
    sizes = [size(p, 1) for p in icbs()]
    lsoas = np.array([s["n_neighbourhoods"] for s in sizes])
    residents = lsoas * np.array([s["residents_per_neighbourhood"] for s in sizes])
    seconds = predict(coef, lsoas, residents)
    largest = int(np.argmax(residents))
    peak_gib = float(predict(memory, lsoas[largest], residents[largest])) / 1024
    total = float(seconds.sum()) * runs_per_icb
    rows = []
    for n in nodes:
        makespan = max(total / (n * cores), float(seconds.max()))
        rows.append({"nodes": n, "cores": n * cores, "hours": makespan / 3600,
                     "cpu_hours": total / 3600, "longest_run_min": float(seconds.max()) / 60,
                     "node_memory_gib": cores * peak_gib})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the parts and costs")
    parser.add_argument("--scales", type=float, nargs="+", default=[200, 50],
                        help="1:k scales to measure (two or more, to separate LSOAs from "
                             "residents)")
    parser.add_argument("--nodes", type=int, default=2, help="worker nodes of the local cluster")
    parser.add_argument("--cpus-per-node", type=int, default=1)
    parser.add_argument("--places", type=int, help="only the first N ICBs (a quick try)")
    parser.add_argument("--years", type=float, default=10.0)
    parser.add_argument("--check", help="an ICB to run at 1:1 against the projection")
    parser.add_argument("--project-cores", type=int, default=16,
                        help="cores per node in the projection (default 16)")
    args = parser.parse_args()

    import ray
    from ray.cluster_utils import Cluster

    sweep = load_sweep(SPEC)
    places = icbs()[:args.places] if args.places else icbs()
    scenarios = [s for s in sweep.scenarios if s.name in ("baseline", "sustain")]
    out = Path(args.out)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        for _ in range(args.nodes):
            cluster.add_node(num_cpus=args.cpus_per_node)
        ray.init(address=cluster.address, logging_level="ERROR", log_to_driver=False)
        cluster.wait_for_nodes()
        cpus = args.nodes * args.cpus_per_node
        frames = []
        for scale in args.scales:
            specs = specs_at(scale, places, scenarios, sweep.seed_values()[0], args.years)
            start = time.perf_counter()
            costs = run_all(specs, out / f"scale_{scale:g}", cpus).assign(scale=scale)
            wall = time.perf_counter() - start
            frames.append(costs)
            print(f"1:{scale:g}: {len(specs)} runs ({len(places)} ICBs x {len(scenarios)} "
                  f"scenarios, {costs.residents.sum() // len(scenarios):,} residents per "
                  f"scenario) on {args.nodes} nodes x {args.cpus_per_node} CPU: {wall:.0f} s "
                  f"wall, {costs.seconds.sum():.0f} s of runs; run peak memory "
                  f"{costs.peak_mib.min():.0f}-{costs.peak_mib.max():.0f} MiB; runs per node "
                  f"{costs.node.value_counts().to_dict()}")
        costs = pd.concat(frames, ignore_index=True)
        write_csv(costs, out / "costs.csv")
        coef, memory = fit(costs), fit(costs, "peak_mib")
        print(f"fit: seconds = {coef[0]:.2f} + {coef[1] * 1e3:.3f} ms x LSOAs + "
              f"{coef[2] * 1e6:.2f} us x residents (per run, {args.years:g} policy years + "
              f"burn-in); peak MiB = {memory[0]:.0f} + {memory[1]:.4f} x LSOAs + "
              f"{memory[2] * 1e3:.3f} per 1,000 residents")
        runs_per_icb = len(sweep.scenarios) * sweep.seeds
        table = projection(coef, memory, runs_per_icb, [1, 2, 4, 8, 16, 32],
                           args.project_cores)
        print(f"1:1 England ({sum(load_place(p).population for p in icbs()):,} residents), "
              f"{runs_per_icb} runs per ICB ({len(sweep.scenarios)} scenarios x "
              f"{sweep.seeds} seeds, {args.years:g} policy years), {args.project_cores}-core "
              "nodes:")
        print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
        write_csv(table, out / "projection.csv")
        if args.check:
            [check] = specs_at(1, [args.check], scenarios[:1], sweep.seed_values()[0],
                               args.years)
            costs = run_all([check], out / "check", cpus)
            want = float(predict(coef, costs.lsoas, costs.residents)[0])
            got = costs.seconds.iloc[0]
            print(f"check, {args.check} at 1:1 ({costs.residents.iloc[0]:,} residents): "
                  f"{got:.0f} s measured, {want:.0f} s projected ({got / want:.2f}x); peak "
                  f"memory {costs.peak_mib.iloc[0]:.0f} MiB, projected "
                  f"{float(predict(memory, costs.lsoas, costs.residents)[0]):.0f} (asked "
                  f"{memory_bytes(int(costs.residents.iloc[0])) / 2**20:.0f} MiB)")
            write_csv(costs, out / "check.csv")
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main()
