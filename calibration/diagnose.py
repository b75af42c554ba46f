"""``abm diagnose``: the status quo in each place, beside the targets it should reproduce.

For each place, the baseline scenario runs over a few seeds at the default size, with the
status-quo return experiment (a same-seed run without the ICS budget) and, if asked, the
Munford start/stop experiment. Each target of ``calibration/targets.yaml`` that applies to the
place is shown beside the model's mean (and its range over seeds), with the target's value,
its uncertainty and its source, and how far apart they are in the target's standard
deviations. Two quantities without a published target are shown as well, because results
depend on them: the budget-to-demand ratio and the share of providers that are full.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pandas as pd

from abm.files.io import write_csv
from abm.model.runs import RunSpec
from abm.model.scenarios import load_scenario
from calibration.evaluate import RunStore, evaluate
from calibration.folder import analysis_id, claim
from calibration.outputs import MUNFORD_TAG, RETURN_TAG, output_value
from calibration.problem import point_seed
from calibration.targets import Target, load_targets

#: Quantities shown without a target: (output, label).
UNTARGETED = (("budget_to_demand", "budget-to-demand ratio"),
              ("share_providers_full", "share of providers full"))


def diagnose_specs(places: Sequence[str], seeds: int, years: float, fixed: dict,
                   experiments: bool) -> list[RunSpec]:
    """The baseline in each place, ``seeds`` seeds, with the return (and Munford) runs."""
    baseline = load_scenario("baseline")
    label = "diagnose" + RETURN_TAG + (MUNFORD_TAG if experiments else "")
    return [RunSpec.make(label, place, baseline.rules, {**baseline.parameters, **fixed},
                         point_seed(20261123, "diagnose", index), years)
            for place in places for index in range(seeds)]


def verdict(z: float) -> str:
    """How far the model is from a target, in words."""
    if math.isnan(z):
        return "not measured"
    size = abs(z)
    return "within 1 SD" if size <= 1 else "within 2 SD" if size <= 2 else "off target"


def diagnose_table(rows: pd.DataFrame, targets: dict[str, Target]) -> pd.DataFrame:
    """One row per place and quantity: the model's mean and range over seeds beside the
    target, its SD, the distance in SDs and the source."""
    out = []
    for place, runs in rows.groupby("place", sort=False):
        records = runs.to_dict("records")
        for target in targets.values():
            if not target.applies_to(place):
                continue
            values = np.array([_value(r, target.output) for r in records], dtype=float)
            if np.isnan(values).all():
                continue
            mean = float(np.nanmean(values))
            z = (mean - target.value) / target.sd
            out.append({"place": place, "quantity": target.name, "model": mean,
                        "model_low": float(np.nanmin(values)),
                        "model_high": float(np.nanmax(values)),
                        "target": target.value, "target_sd": target.sd, "z": z,
                        "verdict": verdict(z), "source": target.source})
        for output, label in UNTARGETED:
            values = np.array([r[output] for r in records], dtype=float)
            out.append({"place": place, "quantity": label, "model": float(values.mean()),
                        "model_low": float(values.min()), "model_high": float(values.max()),
                        "target": math.nan, "target_sd": math.nan, "z": math.nan,
                        "verdict": "no published target", "source": ""})
    return pd.DataFrame(out)


def _value(row: dict, output: str) -> float:
    try:
        return output_value(row, output)
    except KeyError:  # an experiment this diagnosis did not run
        return math.nan


def format_diagnosis(table: pd.DataFrame) -> str:
    """The table for a terminal: values to three significant figures, the source last."""
    lines = []
    for place, rows in table.groupby("place", sort=False):
        lines.append(f"\n{place}")
        for r in rows.to_dict("records"):
            target = "" if math.isnan(r["target"]) else (
                f"target {r['target']:.3g} +- {r['target_sd']:.2g}")
            lines.append(f"  {r['quantity']:<34} model {r['model']:>8.3g} "
                         f"[{r['model_low']:.3g}, {r['model_high']:.3g}]  {target:<24} "
                         f"{r['verdict']}")
    return ("Status quo beside its targets (model: mean [lowest, highest] over seeds; target: "
            "value +- one SD, sampling and model discrepancy together)" + "\n".join(lines)
            + "\nNo published target for the budget-to-demand ratio or the share of providers "
              "full; results depend on both, so they are shown.\nSources: "
              "calibration/targets.yaml (`abm targets`); diagnosis.csv has each source.")


def diagnosis_id(specs: list[RunSpec]) -> str:
    """The diagnosis's id: a hash of its runs' ids."""
    return analysis_id("dia", [s.run_id for s in specs])


def run_diagnosis(places: Sequence[str], seeds: int, years: float, fixed: dict,
                  experiments: bool, out: Path, executor: Executor) -> pd.DataFrame:
    """Run (or resume) the diagnosis into ``out``; write and return its table."""
    specs = diagnose_specs(places, seeds, years, fixed, experiments)
    claim(out, "diagnosis", diagnosis_id(specs),
          f"abm diagnose: {', '.join(places)}, {seeds} seeds, {years:g} years")
    rows = evaluate(specs, RunStore(out), executor, desc="diagnose")
    table = diagnose_table(rows, load_targets())
    write_csv(table, out / "diagnosis.csv")
    return table
