"""R replicates of one place at once against R single runs, and what an answer costs.

    python -m benchmarks.replicates                    # R = 20, both sizes, the projection
    python -m benchmarks.replicates --replicates 4 --no-projection

Issue 20's targets, measured in one run on this machine:

- **R = 20 replicates** (seeds) of the same place and rules at workshop size (100
  neighbourhoods x 30 residents, the app's size) and at the calibration's run size (the
  default 200 x 100, five policy years, as ``calibration/specs/main.yaml`` runs them) should
  cost <= 0.3 x 20 single runs. Both are measured on the same engine (``--engine``:
  ``fast``, the compiled default, or ``numpy``), recording only the final policy year's
  metrics as sweeps and calibration do: the single runs one after another, then one model
  with the 20 seeds (``Model(place, rules, seeds, ...)``, abm/model/replicas.py), whose
  rows are checked equal to the single runs' (the replicates' bit-identity).
- **An answer** over 50 posterior draws x 2 seeds x 8 scenarios x 2 places at the default
  size (1,600 runs of 13 years) should take <= 1 h on 2 cores: projected from the measured
  time of default-size runs (status quo and scale+embed+sustain, in each place), spread over
  2 workers with the parallel efficiency given (``benchmarks.parallel`` measures it).

One core per run: numpy's threads are limited to one. Times are CPU seconds of this process
(``time.process_time``), not wall-clock time: the machines are shared (other work beside it
can slow the wall clock several-fold), and a single-threaded run's CPU time is what two
cores' worth of runs add up to.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import pandas as pd  # noqa: E402

from abm import Model  # noqa: E402

WORKSHOP = {"n_neighbourhoods": 100, "residents_per_neighbourhood": 30}
DEFAULT = {"n_neighbourhoods": 200, "residents_per_neighbourhood": 100}
#: (label, place, rules, size, policy years): the sizes the targets name.
CASES = (
    ("workshop size, 3 + 10 years", "devon_ics", "status_quo", WORKSHOP, 10.0),
    ("calibration size, 3 + 5 years", "devon_ics", "status_quo", DEFAULT, 5.0),
)
ANSWER = {"draws": 50, "seeds": 2, "scenarios": 8, "places": 2, "years": 10.0}


def single_runs(place: str, rules: str, seeds: list[int], size: dict, years: float,
                engine: str) -> tuple[float, pd.DataFrame]:
    """CPU seconds to build, run and summarise one model per seed, one after another."""
    start = time.process_time()
    rows = [Model(place, rules, seed, size, engine=engine, record="final year")
            .run(years=years).summary() for seed in seeds]
    return time.process_time() - start, pd.concat(rows, ignore_index=True)


def batch(place: str, rules: str, seeds: list[int], size: dict, years: float,
          engine: str) -> tuple[float, pd.DataFrame]:
    """CPU seconds to build, run and summarise one model of all ``seeds`` at once."""
    start = time.process_time()
    rows = Model(place, rules, seeds, size, engine=engine, record="final year").run(
        years=years).summary()
    return time.process_time() - start, rows


def replicates(count: int, engine: str) -> None:
    seeds = list(range(1, count + 1))
    print(f"R = {count} replicates (seeds 1..{count}) against {count} single runs, "
          f"engine {engine!r}, CPU seconds")
    for label, place, rules, size, years in CASES:
        singles, rows = single_runs(place, rules, seeds, size, years, engine)
        spent, batched = batch(place, rules, seeds, size, years, engine)
        same = batched.reset_index(drop=True).equals(rows)
        print(f"\n{label} ({place}, {rules}, {size['n_neighbourhoods']} x "
              f"{size['residents_per_neighbourhood']} residents)")
        print(f"  {count} single runs            {singles:8.1f} s ({singles / count:.2f} s a run)")
        print(f"  one model of {count} replicates {spent:8.1f} s   ratio {spent / singles:.2f}"
              f" (target <= 0.3); rows identical to the single runs: {same}")


def projection(efficiency: float, engine: str) -> None:
    """Measured default-size runs, and the answer's projected time on 2 cores."""
    runs = ANSWER["draws"] * ANSWER["seeds"] * ANSWER["scenarios"] * ANSWER["places"]
    print(f"\nAn answer: {ANSWER['draws']} draws x {ANSWER['seeds']} seeds x "
          f"{ANSWER['scenarios']} scenarios x {ANSWER['places']} places = {runs:,} runs of "
          f"3 + {ANSWER['years']:g} years at the default size")
    times = []
    for place in ("devon_ics", "west_yorkshire"):
        for rules in ("status_quo", "scale+embed+sustain"):
            spent, _ = single_runs(place, rules, [1], DEFAULT, ANSWER["years"], engine)
            times.append(spent)
            print(f"  one run, {place}, {rules:24s} {spent:6.1f} s")
    mean = sum(times) / len(times)
    hours = runs * mean / (2 * efficiency) / 3600
    print(f"  projected on 2 cores at parallel efficiency {efficiency:.2f}: {hours:.1f} h "
          f"(target <= 1 h; {runs * mean / 3600:.1f} h of one core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--no-projection", action="store_true")
    parser.add_argument("--engine", choices=("fast", "numpy"), default="fast")
    parser.add_argument("--efficiency", type=float, default=0.9,
                        help="parallel efficiency on 2 workers (benchmarks.parallel measures "
                             "it; default 0.9)")
    args = parser.parse_args()
    if args.replicates < 1 or not 0 < args.efficiency <= 1:
        parser.error("--replicates must be at least 1 and --efficiency in (0, 1]")
    replicates(args.replicates, args.engine)
    if not args.no_projection:
        projection(args.efficiency, args.engine)


if __name__ == "__main__":
    main()
