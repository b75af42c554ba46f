"""``abm diagnose``: the status quo in each place, beside the targets it should reproduce.

For each place, the baseline scenario runs over a few seeds at the default size, with the
status-quo return experiment (a same-seed run without the ICS budget) and, if asked, the
Munford start/stop experiment. Each target of ``calibration/targets.yaml`` that applies to the
place is shown beside the model's mean (and its range over seeds), with the target's value,
its uncertainty and its source, and how far apart they are in the target's standard
deviations. Two quantities without a published target are shown as well, because results
depend on them: the budget-to-demand ratio and the share of providers that are full.

Then where the status quo's money and providers go (Model v3, issue 19 item 5): for each
place and IMD quintile (national quintiles; q1 most deprived), the quintile's share of the
place's people, of the ICS's grant money and of open providers (final policy year, mean over
seeds), and money and providers per head relative to a fair share (share / population share:
1 is a fair share per head), beside the targets that apply (calibration/targets.yaml: in the
most deprived quintile, providers about 0.5x and grant money about 1.1x).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pandas as pd

from abm.files.io import write_csv
from abm.model.metrics import QUINTILES
from abm.model.runs import RunSpec
from abm.model.scenarios import load_scenario
from calibration.evaluate import RunStore, evaluate
from calibration.folder import analysis_id, claim
from calibration.outputs import MUNFORD_TAG, RETURN_TAG, output_value, per_head_ratio
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


#: The allocation table's quantities: (summary column prefix, label, derived output of the
#: per-head ratio, with {q} for the quintile).
ALLOCATION = (("share_ics_money", "ICS money", "ics_money_per_head_{q}_ratio"),
              ("share_providers", "providers", "providers_per_head_{q}_ratio"))


def allocation_table(rows: pd.DataFrame, targets: dict[str, Target]) -> pd.DataFrame:
    """One row per place and quintile: shares of people, ICS money and providers (means over
    seeds), money and providers per head relative to a fair share (mean, lowest and highest
    over seeds) and, where a target names that ratio for the place, its value and SD.
    Empty where the runs have no allocation columns (a model before 0.3.0)."""
    needed = {f"{prefix}_{q}" for prefix, _, _ in ALLOCATION for q in QUINTILES}
    if not needed | {f"population_{q}" for q in QUINTILES} <= set(rows.columns):
        return pd.DataFrame()
    out = []
    for place, runs in rows.groupby("place", sort=False):
        records = runs.to_dict("records")
        people = np.array([[r[f"population_{q}"] for q in QUINTILES] for r in records], float)
        people_share = (people / people.sum(axis=1, keepdims=True)).mean(axis=0)
        for k, q in enumerate(QUINTILES):
            row = {"place": place, "quintile": q, "population_share": float(people_share[k])}
            for prefix, label, ratio_output in ALLOCATION:
                key = label.replace(" ", "_").lower()
                ratios = np.array([per_head_ratio(r, prefix, q) for r in records], float)
                row[f"share_{key}"] = float(np.mean([r[f"{prefix}_{q}"] for r in records]))
                row[f"{key}_per_head"] = float(np.nanmean(ratios)) if np.isfinite(
                    ratios).any() else math.nan
                row[f"{key}_per_head_low"] = float(np.nanmin(ratios)) if np.isfinite(
                    ratios).any() else math.nan
                row[f"{key}_per_head_high"] = float(np.nanmax(ratios)) if np.isfinite(
                    ratios).any() else math.nan
                target = _target_for(targets, ratio_output.format(q=q), place)
                row[f"{key}_target"] = target.value if target else math.nan
                row[f"{key}_target_sd"] = target.sd if target else math.nan
            out.append(row)
    return pd.DataFrame(out)


def _target_for(targets: dict[str, Target], output: str, place: str) -> Target | None:
    """The target of ``output`` that applies to ``place``, if any."""
    return next((t for t in targets.values() if t.output == output and t.applies_to(place)),
                None)


def format_allocation(table: pd.DataFrame) -> str:
    """The allocation table for a terminal: percentages of people, money and providers, and
    per-head ratios to two significant figures beside their targets."""
    if table.empty:
        return ("\nWhere the money goes: not in these runs (the allocation columns came with "
                "model 0.3.0)")
    lines = ["\nWhere the status quo's money and providers go (final policy year; national IMD "
             "quintiles, q1 most deprived): share of people, of ICS grant money and of open "
             "providers; per head: the share over the share of people (1 = a fair share; mean "
             "[lowest, highest] over seeds), beside the target"]
    for place, rows in table.groupby("place", sort=False):
        lines.append(f"\n{place}")
        lines.append(f"  {'quintile':<9}{'people':>7}{'money':>7}{'groups':>7}   "
                     f"{'money per head':<40}providers per head")
        for r in rows.to_dict("records"):
            cells = []
            for key in ("ics_money", "providers"):
                cell = (f"{r[f'{key}_per_head']:.2g}x [{r[f'{key}_per_head_low']:.2g}, "
                        f"{r[f'{key}_per_head_high']:.2g}]")
                if not math.isnan(r[f"{key}_target"]):
                    cell += f" target {r[f'{key}_target']:.2g} +- {r[f'{key}_target_sd']:.2g}"
                cells.append(f"{cell:<38}")
            lines.append(f"  {r['quintile']:<9}{r['population_share']:>7.1%}"
                         f"{r['share_ics_money']:>7.1%}{r['share_providers']:>7.1%}   "
                         + "  ".join(cells).rstrip())
    return "\n".join(lines)


def diagnosis_id(specs: list[RunSpec]) -> str:
    """The diagnosis's id: a hash of its runs' ids."""
    return analysis_id("dia", [s.run_id for s in specs])


def run_diagnosis(places: Sequence[str], seeds: int, years: float, fixed: dict,
                  experiments: bool, out: Path, executor: Executor
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run (or resume) the diagnosis into ``out``; write and return its table of targets
    (``diagnosis.csv``) and its allocation table (``allocation.csv``, empty for runs of a
    model before 0.3.0)."""
    specs = diagnose_specs(places, seeds, years, fixed, experiments)
    claim(out, "diagnosis", diagnosis_id(specs),
          f"abm diagnose: {', '.join(places)}, {seeds} seeds, {years:g} years")
    rows = evaluate(specs, RunStore(out), executor, desc="diagnose")
    targets = load_targets()
    table = diagnose_table(rows, targets)
    write_csv(table, out / "diagnosis.csv")
    allocation = allocation_table(rows, targets)
    if not allocation.empty:
        write_csv(allocation, out / "allocation.csv")
    return table, allocation
