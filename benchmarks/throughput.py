"""Throughput of the fast model against the per-agent reference, and a Devon-ICS-sized run.

    python -m benchmarks.throughput            # 100,000 residents: fast vs reference
    python -m benchmarks.throughput --devon    # also 1.2 million residents for 10 years

Both engines run the same rules on the same model (same place, seed and parameters) from the
same state; the figure that matters is their ratio, measured in the same run, because the
machines are shared and noisy. One core: numpy's threads are limited to one.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from abm import Model  # noqa: E402
from abm.model.engines import ENGINES, ArrayEngine  # noqa: E402

SIZE_100K = {"n_neighbourhoods": 1000, "residents_per_neighbourhood": 100}
DEVON = {"n_neighbourhoods": 707, "residents_per_neighbourhood": 1700, "burn_in_years": 0}


def rate(model: Model, weeks: int) -> float:
    """Resident-steps per second over ``weeks`` steps."""
    start = time.perf_counter()
    for _ in range(weeks):
        model.step()
    return model.resident_state.n * weeks / (time.perf_counter() - start)


def fast_vs_reference(warm_weeks: int = 60, fast_weeks: int = 52, reference_weeks: int = 2):
    """Both engines from the same state (after a shared warm-up), timed on the same rules."""
    models = {}
    for engine in ENGINES:
        model = Model("devon_ics", "scale+embed+sustain", 1, {**SIZE_100K, "burn_in_years": 1},
                      engine=engine)
        model.engine = ArrayEngine(model)  # warm-up in the fast engine: a realistic state
        for _ in range(warm_weeks):
            model.step()
        model.engine = ENGINES[engine](model)
        models[engine] = model
    fast = rate(models["fast"], fast_weeks)
    reference = rate(models["agents"], reference_weeks)
    return models["fast"].resident_state.n, fast, reference


def devon_child() -> None:
    """Run in a child process so its peak memory is measured on its own."""
    start = time.perf_counter()
    model = Model("devon_ics", "status_quo", 1, DEVON)
    setup = time.perf_counter() - start
    model.run(years=10)
    total = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{model.resident_state.n} {setup:.2f} {total:.2f} {peak_gib:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devon", action="store_true", help="also the 1.2-million-resident run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        devon_child()
        return
    n, fast, reference = fast_vs_reference()
    print(f"residents                        {n:,}")
    print(f"fast model, resident-steps/s     {fast / 1e6:,.1f} million")
    print(f"per-agent reference, same rules  {reference / 1e6:,.3f} million")
    print(f"fast / reference                 {fast / reference:,.0f}x   (target >= 40x)")
    if args.devon:
        out = subprocess.run([sys.executable, "-m", "benchmarks.throughput", "--child"],
                             capture_output=True, text=True, check=True).stdout.split()
        residents, setup, total, peak = int(out[0]), *map(float, out[1:])
        print(f"Devon ICS size                   {residents:,} residents, 10 years weekly")
        print(f"  wall time                      {total:.1f} s (setup {setup:.1f} s; target <= 90)")
        print(f"  peak memory                    {peak:.2f} GiB (target <= 4)")
        print(f"  resident-steps/s               {residents * 520 / (total - setup) / 1e6:.1f}"
              f" million ({residents * 520 / (total - setup) / fast:.2f} of the 100k rate)")


if __name__ == "__main__":
    main()
