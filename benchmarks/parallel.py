"""Parallel efficiency and per-run overhead of the Ray sweep runner.

    python -m benchmarks.parallel [--runs 16] [--workers 1 2] [--repeats 2]

Efficiency at k workers = (time for the runs on 1 worker) / (k x time on k workers); 1.0 is
perfect scaling. The machine itself rarely scales perfectly (shared memory bandwidth, other
tenants), so the same runs are also timed in k plain processes without Ray
(``multiprocessing``): the runner's efficiency divided by that is what the runner loses.
Overhead per run = (runner time on 1 worker - time running the same models directly in a
loop) / runs. Every figure comes from the same invocation; each repeat measures every variant
in turn (so drift in the machine's speed hits them alike) and each time is the best over
``--repeats`` (the machines are shared and noisy); ``ray.init`` is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from abm.model.runs import RunSpec, execute
from experiments.runner import run_sweep
from experiments.spec import load_sweep

SPEC = """\
scenarios: [baseline, sustain]
places: [devon_ics]
seeds: {seeds}
master_seed: 3
years: {years}
batch_size: {batch}
parameters: {{n_neighbourhoods: {hoods}, residents_per_neighbourhood: 100, burn_in_years: 1}}
"""


def direct(runs: list[RunSpec]) -> float:
    """Seconds to run the specs one after another in this process."""
    start = time.perf_counter()
    for run in runs:
        execute(run)
    return time.perf_counter() - start


def plain_processes(runs: list[RunSpec], k: int) -> float:
    """Seconds to run the specs in k plain processes (the machine's own scaling)."""
    with multiprocessing.get_context("spawn").Pool(k) as pool:
        pool.map(abs, range(k))  # start the processes before timing
        start = time.perf_counter()
        pool.map(execute, runs, chunksize=1)
        return time.perf_counter() - start


def runner(spec: Path, workers: int) -> float:
    """Seconds for the runner to run ``spec`` on ``workers`` (its own printing silenced)."""
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        code = run_sweep(spec, Path(out) / "results", num_cpus=workers)
        elapsed = time.perf_counter() - start
    assert code == 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=16, help="runs per measurement (even)")
    parser.add_argument("--workers", type=int, nargs="+",
                        default=sorted({1, 2, os.cpu_count() or 1}))
    parser.add_argument("--hoods", type=int, default=400,
                        help="neighbourhoods per run (400 x 100 residents: about 1 s a run)")
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "bench.yaml"
        spec.write_text(SPEC.format(seeds=args.runs // 2, years=args.years, batch=1,
                                    hoods=args.hoods))
        tiny = Path(folder) / "tiny.yaml"  # overhead: many runs of almost no work
        tiny.write_text(SPEC.format(seeds=100, years=1, batch="auto", hoods=10))
        runs, tiny_runs = load_sweep(spec).runs(), load_sweep(tiny).runs()

        import ray

        ray.init(address="local", num_cpus=max(args.workers), include_dashboard=False,
                 logging_level="ERROR", log_to_driver=False)
        timings: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            measures = {"direct": lambda: direct(runs), "tiny direct": lambda: direct(tiny_runs),
                        "tiny runner": lambda: runner(tiny, 1)}
            for k in args.workers:
                measures[f"plain {k}"] = lambda k=k: plain_processes(runs, k)
                measures[f"runner {k}"] = lambda k=k: runner(spec, k)
            for name, measure in measures.items():
                timings.setdefault(name, []).append(measure())
        ray.shutdown()
    best = {name: min(times) for name, times in timings.items()}
    alone, tiny_alone, tiny_swept = best["direct"], best["tiny direct"], best["tiny runner"]
    machine = {k: best[f"plain {k}"] for k in args.workers}
    swept = {k: best[f"runner {k}"] for k in args.workers}

    print(f"{len(runs)} runs of {args.hoods * 100:,} residents, {args.years} years "
          f"(+1 burn-in): {alone / len(runs):.2f} s a run directly; best of {args.repeats}")
    print(" workers  runner s  efficiency   plain processes s  efficiency   runner / plain")
    for k in args.workers:
        runner_eff = swept[args.workers[0]] / (k * swept[k])
        machine_eff = machine[args.workers[0]] / (k * machine[k])
        print(f" {k:>7}  {swept[k]:8.1f}  {runner_eff:10.2f}   {machine[k]:17.1f}  "
              f"{machine_eff:10.2f}   {runner_eff / machine_eff:14.2f}")
    print(f"runner overhead per run, 1 worker, ~1 s runs:  "
          f"{(swept[1] - alone) / len(runs) * 1e3:+.0f} ms against the direct loop, "
          f"{(swept[1] - machine[1]) / len(runs) * 1e3:+.0f} ms against one plain process "
          "(target <= 20 ms)")
    print(f"runner overhead per run, {len(tiny_runs)} tiny runs batched: "
          f"{(tiny_swept - tiny_alone) / len(tiny_runs) * 1e3:+.1f} ms "
          f"(runs of {tiny_alone / len(tiny_runs) * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
