"""What ABC-SMC on the real model would cost for the shipped calibration spec.

    python -m benchmarks.abc_projection            # 2 seeds per place
    python -m benchmarks.abc_projection --seeds 4

ABC-SMC on the shipped spec's last emulator needed :data:`ABC_SIMULATIONS` simulations
(``cal-977c5c72f4``, the same spec with two generations of 1,000 under an epsilon threshold:
its ``abc_stop.json``); a shipped calibration that ran ABC gives its own count instead. The
shipped ``cal-ee53ea7ef3`` samples the targets' likelihood on the emulator by MCMC (1.5
million emulator evaluations), which the real model could not do at any speed here; ABC-SMC
is the real-model alternative. On the real model each simulation would be a calibration run
in every place of
the spec (a 5-year run at the default size, the Munford experiment's runs and a run without
the ICS budget). This measures such runs at the calibrated defaults, serially in one process
(CPU seconds, ``time.process_time``: other work on a shared machine does not count), and
projects the wall time on 2 and 16 cores at the runner's parallel efficiency (0.9, measured by
``benchmarks.parallel``). Issue 20's target: within 2 h on 2 cores.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from calibration.calibrate import Simulator  # noqa: E402
from calibration.folder import STOP  # noqa: E402
from calibration.outputs import simulate  # noqa: E402
from calibration.spec import load_calibration_spec  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[1] / "calibration" / "calibrated" / "main"
EFFICIENCY = 0.9
TARGET_HOURS = 2.0
#: Simulations ABC-SMC needed for the shipped spec on its emulator (cal-977c5c72f4).
ABC_SIMULATIONS = 2643


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="runs per place (default 2)")
    args = parser.parse_args()
    spec = load_calibration_spec(SHIPPED / "spec.yaml")
    simulations = (json.loads((SHIPPED / STOP).read_text())["simulations"]
                   or ABC_SIMULATIONS)
    sim = Simulator(spec)
    simulate(sim.specs({}, 0)[0])  # the compiled kernels loaded, off the clock
    per_place: dict[str, list[float]] = {place: [] for place in spec.places}
    for seed in range(1, args.seeds + 1):
        for run in sim.specs({}, seed):
            start = time.process_time()
            simulate(run)
            per_place[run.place].append(time.process_time() - start)
    particle = sum(statistics.median(v) for v in per_place.values())
    cpu_hours = simulations * particle / 3600
    for place, seconds in per_place.items():
        print(f"calibration run, {place:<16} {statistics.median(seconds):.2f} CPU s "
              f"(median of {len(seconds)})")
    print(f"one ABC particle (every place)     {particle:.2f} CPU s")
    print(f"simulations the emulator ABC used  {simulations:,}")
    for cores in (2, 16):
        hours = cpu_hours / (cores * EFFICIENCY)
        print(f"projected on {cores:>2} cores               {hours:.2f} h"
              + (f"   (target <= {TARGET_HOURS:g} h; {hours / TARGET_HOURS:.2f}x)"
                 if cores == 2 else ""))


if __name__ == "__main__":
    main()
