"""Parameter recovery (``abm recovery SPEC --out DIR``): targets made by the model itself at
known parameter values, calibrated as the real ones are.

A recovery spec names a calibration spec, the parameters its targets are meant to pin, and
two or more synthetic truths (parameter values away from the defaults)::

    description: Quick recovery of the Devon ICS calibration.
    calibration: recovery_devon_ics.yaml   # a calibration spec, beside this file or a path
    pinned: [wellbeing_least_deprived, forced_stop_need_shock]   # meant to be pinned
    truth_seeds: 4                         # model runs at each truth (their mean is the target)
    truths:
      - {name: a, values: {wellbeing_least_deprived: 8.5, forced_stop_need_shock: 0.35}}
      - {name: b, values: {wellbeing_least_deprived: 7.6, forced_stop_need_shock: 0.1}}

For each truth, every target of the calibration (fitted and held out) becomes the model's
mean over ``truth_seeds`` runs at the truth (parameters not named keep the defaults), with
the real target's SDs (sampling error and discrepancy allowance, ``targets.yaml``): so the
recovery asks whether the targets, at their real precision, pin each parameter. The
calibration runs in ``DIR/<truth>/`` with all its checks, and ``recovery.csv`` gives per
truth and parameter: the truth, the prior (median and 90% interval), the posterior median
and 90% interval, the fraction of the way from the prior median to the truth the posterior
median moved (1: all the way; 0: not at all), the posterior/prior interval width ratio, and
whether the parameter passes: a pinned parameter must move at least :data:`REQUIRED_MOVE`
of the way. The text names the parameters that are not pinned (not meant to be, or failing).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from abm.files import yamlfile
from abm.files.errors import InputError, unknown_name_message
from abm.files.io import write_csv, write_text
from abm.model.parameters import parameter_problem
from calibration.bounds import total_runs
from calibration.calibrate import Simulator, calibration_id, count_runs, run_calibration
from calibration.evaluate import RunStore, evaluate
from calibration.folder import analysis_id, claim
from calibration.identifiability import PINNED_BELOW
from calibration.outputs import output_value
from calibration.posterior import parameter_table
from calibration.problem import point_seed
from calibration.spec import CalibrationSpec, load_calibration_spec
from calibration.targets import Target
from experiments.spec import DEFAULT_MAX_RUNS

#: The fraction of the way from the prior median to the truth that a pinned parameter's
#: posterior median must move (issue 23).
REQUIRED_MOVE = 0.7
KEYS = ("description", "calibration", "pinned", "truth_seeds", "truths")


@dataclass(frozen=True)
class RecoverySpec:
    """A validated recovery spec."""

    path: Path
    text: str
    description: str
    calibration: CalibrationSpec
    pinned: tuple[str, ...]
    truth_seeds: int
    truths: tuple[tuple[str, dict], ...]


def load_recovery_spec(path: str | Path) -> RecoverySpec:
    """Load and validate a recovery spec; :class:`InputError` lists every defect."""
    path = Path(path)
    data = yamlfile.load(path)
    if not isinstance(data, yamlfile.LineDict):
        raise InputError(f"{path}:1: a recovery spec is a mapping with keys {', '.join(KEYS)}")
    found = []

    def at(key: str) -> str:
        return f"{path}:{data.line_of(key)}"

    for key in data:
        if key not in KEYS:
            found.append(f"{at(key)}: {unknown_name_message('key', key, list(KEYS))}")
    for key in ("calibration", "truths"):
        if key not in data:
            found.append(f"{path}: missing key '{key}'")
    calibration = None
    name = data.get("calibration")
    if name is not None and not isinstance(name, str):
        found.append(f"{at('calibration')}: 'calibration' = {name!r}: allowed is the path of a "
                     "calibration spec")
    elif name is not None:
        local = path.parent / name
        try:
            calibration = load_calibration_spec(local if yamlfile.exists(local) else name)
        except InputError as error:
            found += [f"{at('calibration')}: {p}" for p in error.problems]
    names = calibration.space.names if calibration else ()
    pinned = data.get("pinned", [])
    if not (isinstance(pinned, list) and all(isinstance(p, str) for p in pinned)):
        found.append(f"{at('pinned')}: 'pinned' = {pinned!r}: allowed is a list of the "
                     "calibrated parameters the targets are meant to pin")
        pinned = []
    for p in pinned:
        if calibration and p not in names:
            message = unknown_name_message("calibrated parameter", p, list(names))
            found.append(f"{at('pinned')}: {message}")
    seeds = data.get("truth_seeds", 4)
    if not (isinstance(seeds, int) and not isinstance(seeds, bool) and 1 <= seeds <= 100):
        found.append(f"{at('truth_seeds')}: 'truth_seeds' = {seeds!r}: allowed is a whole "
                     "number from 1 to 100")
    truths = []
    raw = data.get("truths", [])
    if not (isinstance(raw, list) and 1 <= len(raw) <= 20):
        found.append(f"{at('truths')}: 'truths' = {raw!r}: allowed is a list of 1 to 20 "
                     "truths, each {name: ..., values: {parameter: value}}")
        raw = []
    for entry in raw:
        if not (isinstance(entry, dict) and set(entry) == {"name", "values"}
                and isinstance(entry["name"], str) and entry["name"].isidentifier()
                and isinstance(entry["values"], dict) and entry["values"]):
            found.append(f"{at('truths')}: truth {entry!r}: allowed is {{name: a_name, values: "
                         "{parameter: value, ...}}")
            continue
        for p, value in entry["values"].items():
            if calibration and p not in names:
                found.append(f"{at('truths')}: truth '{entry['name']}': "
                             f"{unknown_name_message('calibrated parameter', p, list(names))}")
            elif (problem := parameter_problem(p, value)) is not None:
                found.append(f"{at('truths')}: truth '{entry['name']}': {problem}")
            elif calibration:
                low, high = calibration.space.bounds[names.index(p)]
                if not low <= value <= high:
                    found.append(f"{at('truths')}: truth '{entry['name']}': '{p}' = {value!r}: "
                                 f"allowed is inside the calibrated range {low:g} to {high:g}")
        truths.append((entry["name"], dict(entry["values"])))
    if len({n for n, _ in truths}) < len(truths):
        found.append(f"{at('truths')}: two truths have the same name")
    if found:
        raise InputError(yamlfile.one_line(found))
    return RecoverySpec(path, path.read_text(encoding="utf-8"),
                        " ".join(str(data.get("description", "")).split()), calibration,
                        tuple(pinned), seeds, tuple(truths))


def count_recovery_runs(spec: RecoverySpec, limit: int = DEFAULT_MAX_RUNS) -> int:
    """Every run of the recovery (truth runs, then each calibration), counted first."""
    one = count_runs(spec.calibration, limit)
    places = len(spec.calibration.places)
    return total_runs(str(spec.path), "this recovery", {
        "truth runs (truths x truth_seeds x places)":
            len(spec.truths) * spec.truth_seeds * places,
        "calibration runs (truths x each calibration's)": len(spec.truths) * one}, limit)


def synthetic_targets(spec: CalibrationSpec, truth: dict, seeds: int, store: RunStore,
                      executor) -> tuple[tuple[Target, ...], tuple[Target, ...]]:
    """The spec's targets (fitted, held out) with values made by the model at ``truth``: the
    mean over ``seeds`` runs, the real targets' SDs kept."""
    sim = Simulator(spec)
    specs = [s for k in range(seeds)
             for s in sim.specs(truth, point_seed(spec.master_seed, "truth", k), index=k)]
    rows = evaluate(specs, store, executor, desc="truth")

    def made(target: Target) -> Target:
        values = np.array([output_value(r, target.output) for r in rows.to_dict("records")])
        return dataclasses.replace(
            target, value=float(np.nanmean(values)),
            source=f"the model at {truth}, {seeds} seeds (parameter recovery)")

    return tuple(map(made, spec.targets)), tuple(map(made, spec.held_out))


def recovery_id(spec: RecoverySpec) -> str:
    """The recovery's id: its spec, and the calibration's id (spec, targets, model)."""
    return analysis_id("rec", {"spec": spec.text, "calibration": calibration_id(
        spec.calibration)})


def run_recovery(spec: RecoverySpec, out: Path, executor,
                 max_runs: int = DEFAULT_MAX_RUNS) -> pd.DataFrame:
    """Every truth's calibration into ``out``; write and return the recovery table."""
    count_recovery_runs(spec, max_runs)
    claim(out, "recovery", recovery_id(spec), f"abm recovery {spec.path}: {spec.description}")
    write_text(spec.text, out / "spec.yaml")
    tables = []
    for name, truth in spec.truths:
        folder = out / name
        print(f"truth '{name}': {truth}", flush=True)
        fitted, held = synthetic_targets(spec.calibration, truth, spec.truth_seeds,
                                         RunStore(out / "truth_runs"), executor)
        calibration = dataclasses.replace(spec.calibration, targets=fitted, held_out=held)
        full = {**_defaults(calibration), **truth}
        run_calibration(calibration, folder, executor, max_runs, truth=full)
        particles = pd.read_parquet(folder / "posterior_particles.parquet")
        table = parameter_table(calibration, particles, truth=full)
        table.insert(0, "truth_name", name)
        table["varied"] = table["parameter"].isin(list(truth))
        table["pinned"] = table["parameter"].isin(spec.pinned)
        table["passes"] = ~table["pinned"] | (table["fraction_moved"] >= REQUIRED_MOVE)
        bound = _bound(folder)
        for column, source in (("best_width_ratio", "best_width_ratio"),
                               ("best_width_at_truth", "best_width_ratio_local")):
            table[column] = table["parameter"].map(bound.get(source, {})).astype(float)
        tables.append(table)
    result = pd.concat(tables, ignore_index=True)
    write_csv(result, out / "recovery.csv")
    write_text(format_recovery(result), out / "recovery.txt")
    return result


def _bound(folder: Path) -> dict:
    """Each parameter's best width ratio with these targets, however many runs, over the box
    (``best_width_ratio``) and at the truth (``best_width_ratio_local``), from
    ``identifiability.csv`` of the truth's calibration: {column: {parameter: value}}; a column
    the file lacks (or no file: no history matching) is absent, and the table shows NaN."""
    path = folder / "identifiability.csv"
    if not path.is_file():
        return {}
    return pd.read_csv(path).set_index("parameter").to_dict()


def _defaults(spec: CalibrationSpec) -> dict:
    """The value each calibrated parameter has when a truth does not name it."""
    from abm.model.parameters import defaults

    values = {**defaults(), **spec.scenario.parameters, **spec.fixed}
    return {name: float(values[name]) for name in spec.space.names}


def format_recovery(table: pd.DataFrame) -> str:
    """The recovery table in rounded numbers, and which parameters are not pinned."""
    shown = pd.DataFrame({
        "truth": table["truth_name"], "parameter": table["parameter"],
        "true": table["truth"].map("{:.4g}".format),
        "prior median [90%]": [f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in
                               zip(table.prior_median, table.prior_lo_90, table.prior_hi_90,
                                   strict=True)],
        "posterior median [90%]": [f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in
                                   zip(table["median"], table.lo_90, table.hi_90, strict=True)],
        "moved": table["fraction_moved"].map(lambda v: f"{v:.2f}" if np.isfinite(v) else "-"),
        "width": table["width_ratio"].map("{:.2f}".format),
        "best width": table["best_width_ratio"].map(
            lambda v: f"{v:.2f}" if np.isfinite(v) else "-"),
        "at truth": table["best_width_at_truth"].map(
            lambda v: f"{v:.2f}" if np.isfinite(v) else "-"),
        "meant to pin": table["pinned"].map({True: "yes", False: "no"}),
        "passes": table["passes"].map({True: "yes", False: "NO"}),
    })
    lines = ["Parameter recovery: the posterior median's fraction of the way from the prior "
             "median to the truth ('moved'; at least "
             f"{REQUIRED_MOVE} for a parameter the targets are meant to pin), and the "
             "posterior/prior 90% width ratio ('width'; 1: the targets say nothing); 'best "
             "width': the narrowest any calibration could make it with these targets at "
             f"their precision (linear-Gaussian bound, identifiability.csv; {PINNED_BELOW} or "
             "more: only better data can pin it), from the outputs' average slopes over the "
             "box; 'at truth': the same from the emulator's slopes at the truth",
             shown.to_string(index=False)]
    failing = sorted(set(table[table.pinned & ~table.passes].parameter))
    unpinned = sorted(set(table[~table.pinned].parameter))
    bound = table.best_width_at_truth.fillna(table.best_width_ratio)
    beyond = table.pinned & (bound >= PINNED_BELOW)
    cannot = sorted(set(table[beyond].parameter))
    lines.append("Meant to be pinned and recovered in every truth: " + (", ".join(
        sorted(set(table[table.pinned].parameter) - set(failing))) or "none"))
    lines.append("Meant to be pinned but not recovered: " + (", ".join(failing) or "none"))
    lines.append("Meant to be pinned, but beyond these targets' precision in some truth "
                 "(more runs will not pin them): " + (", ".join(cannot) or "none"))
    lines.append("Not meant to be pinned: " + (", ".join(unpinned) or "none"))
    within = table[bound < PINNED_BELOW]
    recovered = within.fraction_moved >= REQUIRED_MOVE
    lines.append(f"Within these targets' precision at the truth (best width there below "
                 f"{PINNED_BELOW}), whether meant to be pinned or not: recovered in " + (", ".join(
                     f"{r.parameter} ({r.truth_name}, {r.fraction_moved:.2f})"
                     for r in within[recovered].itertuples()) or "none")
                 + "; not recovered in " + (", ".join(
                     f"{r.parameter} ({r.truth_name}, {r.fraction_moved:.2f})"
                     for r in within[~recovered].itertuples()) or "none"))
    return "\n".join(lines)
