"""Parallel efficiency and per-run overhead of the Ray sweep runner.

    python -m benchmarks.parallel [--runs 16] [--workers 1 2]

Efficiency at k workers = (time for the runs on 1 worker) / (k x time on k workers); 1.0 is
perfect scaling. Overhead per run = (runner time on 1 worker - time running the same models
directly in a loop) / runs. All timings come from the same invocation, against the same
local Ray cluster (started before timing: ray.init is not counted).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import ray

from abm.runs import execute
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


def timed_sweep(spec: Path, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
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
    parser.add_argument("--hoods", type=int, default=200,
                        help="neighbourhoods per run (200 x 100 residents: about 1 s a run)")
    parser.add_argument("--years", type=int, default=4)
    args = parser.parse_args()
    ray.init(num_cpus=max(args.workers), include_dashboard=False, logging_level="ERROR",
             log_to_driver=False)
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "bench.yaml"
        spec.write_text(SPEC.format(seeds=args.runs // 2, years=args.years, batch=1,
                                    hoods=args.hoods))
        runs = load_sweep(spec).runs()
        start = time.perf_counter()
        for run in runs:
            execute(run)
        direct = time.perf_counter() - start
        times = {k: timed_sweep(spec, k) for k in args.workers}

        tiny = Path(folder) / "tiny.yaml"  # overhead: many runs of almost no work
        tiny.write_text(SPEC.format(seeds=100, years=1, batch="auto", hoods=10))
        tiny_runs = load_sweep(tiny).runs()
        start = time.perf_counter()
        for run in tiny_runs:
            execute(run)
        tiny_direct = time.perf_counter() - start
        tiny_runner = timed_sweep(tiny, 1)
    ray.shutdown()

    print(f"{len(runs)} runs, {args.hoods * 100:,} residents each, {args.years} years "
          f"(+1 burn-in); direct loop {direct:.1f} s ({direct / len(runs):.2f} s a run)")
    for k, seconds in times.items():
        print(f"  {k:>2} worker(s): {seconds:6.1f} s   efficiency {times[1] / (k * seconds):.2f}")
    print(f"runner overhead per run, 1 worker, about 1 s runs: "
          f"{(times[1] - direct) / len(runs) * 1e3:+.0f} ms (target <= 20 ms)")
    print(f"runner overhead per run, {len(tiny_runs)} tiny runs batched: "
          f"{(tiny_runner - tiny_direct) / len(tiny_runs) * 1e3:+.1f} ms")


if __name__ == "__main__":
    main()
