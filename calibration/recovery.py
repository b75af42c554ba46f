"""Parameter recovery: targets made by the model itself at known parameter values.

``synthetic_targets`` runs a calibration spec's model at ``truth`` with several seeds and
writes a targets file whose values are the mean outputs, with the run-to-run SD as the
sampling error (and a small discrepancy allowance). Calibrating against that file should
put each identifiable parameter's true value inside its posterior 90% interval; a parameter
the targets do not inform keeps a posterior about as wide as its range
(``parameters.csv``: ``identifiable`` False).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from calibration.calibrate import Simulator
from calibration.evaluate import RunStore, evaluate
from calibration.outputs import output_value
from calibration.problem import point_seed
from calibration.spec import CalibrationSpec


def synthetic_targets(spec: CalibrationSpec, truth: dict, seeds: int, path: Path,
                      store: RunStore, executor, discrepancy_share: float = 0.1) -> Path:
    """Write a targets file for ``spec``'s targets (fitted and held out) from the model at
    ``truth``; return its path."""
    sim = Simulator(spec)
    specs = [s for k in range(seeds)
             for s in sim.specs(truth, point_seed(spec.master_seed, "truth", k), index=k)]
    rows = evaluate(specs, store, executor, desc="truth")
    targets = {}
    for target in (*spec.targets, *spec.held_out):
        values = np.array([output_value(r, target.output) for r in rows.to_dict("records")])
        mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
        targets[target.name] = {
            "value": mean, "sampling_sd": sd,
            "discrepancy_sd": max(abs(mean) * discrepancy_share / 10, 1e-9),
            "output": target.output, "places": list(spec.places),
            "source": f"the model at {truth}, {seeds} seeds (parameter recovery)",
        }
    path.write_text(yaml.safe_dump({"targets": targets}, sort_keys=False), encoding="utf-8")
    return path
