"""``abm patterns``: the brief's five patterns checked on the (calibrated) model.

Each place runs the status quo, untargeted scale, proportionate universalism and embed at
every posterior draw with one seed per draw (so draws x seeds >= 20 covers parameter and
run-to-run uncertainty together). Each pattern has a stated measure and a rule for "holds";
the table gives the measure's mean and 90% interval over draws and the verdict per place.

1. Inverse care law (Tudor Hart 1971): past-year participation q5 minus q1 > 0.
2. Intervention-generated inequalities (Lorenc et al. 2013): untargeted scale raises mean
   wellbeing and widens the q5-q1 gap (both changes > 0).
3. Proportionate universalism narrows the gap (Marmot 2010): change in the gap < 0.
4. Stopping hurts more than starting helps (Munford et al. 2020): |stop effect| / start
   effect > 1.
5. Referral is not engagement (Mercer et al. 2019): embed adds referrals but its change in
   mean wellbeing is below 0.01 life-satisfaction points (a nil intention-to-treat effect).

"Holds" means the 90% interval lies on the pattern's side; "mixed" that the mean does but
the interval does not; "fails" that the mean does not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from abm.analysis.compare import compare
from abm.files.io import write_csv
from abm.model.runs import RunSpec
from abm.model.scenarios import load_scenario
from calibration.bounds import check_runs
from calibration.evaluate import RunStore, evaluate
from calibration.folder import analysis_id, claim
from calibration.outputs import MUNFORD_TAG, simulate
from calibration.problem import point_seed, typed
from experiments.spec import DEFAULT_MAX_RUNS

SCENARIOS = ("baseline", "scale", "proportionate_universalism", "embed")
PATTERNS = {
    "1 inverse care law": ("past-year participation q5 - q1", "above", 0.0),
    "2 intervention-generated inequalities": ("scale: min(change in mean, change in gap)",
                                              "above", 0.0),
    "3 proportionate universalism": ("PU: change in q5-q1 gap", "below", 0.0),
    "4 stopping hurts more than starting helps": ("|stop QALY| / start QALY", "above", 1.0),
    "5 referral is not engagement": ("embed: |change in mean wellbeing|", "below", 0.01),
}


def pattern_specs(places: list[str], draws: pd.DataFrame, years: float, master_seed: int,
                  fixed: dict) -> list[RunSpec]:
    """One run per scenario x place x draw, the draw's own seed shared by the scenarios."""
    specs = []
    for name in SCENARIOS:
        scenario = load_scenario(name)
        for place in places:
            for index, draw in enumerate(draws.to_dict("records")):
                values = typed(draw)
                seed = point_seed(master_seed, "patterns", index)
                label = "patterns" + (MUNFORD_TAG if name == "baseline" else "")
                specs.append(RunSpec.make(f"{label}:{name}", place, scenario.rules,
                                          {**scenario.parameters, **fixed, **values}, seed,
                                          years, point=index))
    return specs


def measures(rows: pd.DataFrame) -> pd.DataFrame:
    """Each pattern's measure per place and draw."""
    rows = rows.assign(scenario=rows["scenario"].str.split(":", n=1).str[1])
    keyed = {name: part.set_index(["place", "point"]) for name, part in rows.groupby("scenario")}
    base = keyed["baseline"]
    out = []
    for (place, point), b in base.iterrows():
        def change(name: str, place=place, point=point, b=b) -> dict:
            return compare(keyed[name].loc[(place, point)], b, float(b["wellby_value_gbp"]))
        scale, pu, embed = change("scale"), change("proportionate_universalism"), change("embed")
        start, stop = b["experiment:munford_start"], b["experiment:munford_stop"]
        values = [
            b["p_past_year_q5"] - b["p_past_year_q1"],
            min(scale["delta_mean_wellbeing"], scale["delta_gap_q5_q1"]),
            pu["delta_gap_q5_q1"],
            abs(stop) / start if start > 0 else np.nan,
            abs(embed["delta_mean_wellbeing"]),
        ]
        for pattern, value in zip(PATTERNS, values, strict=True):
            out.append({"pattern": pattern, "place": place, "draw": point, "value": value})
    return pd.DataFrame(out)


def verdicts(values: pd.DataFrame) -> pd.DataFrame:
    """One row per pattern and place: measure, mean, 90% interval, verdict."""
    rows = []
    for (pattern, place), part in values.groupby(["pattern", "place"], sort=False):
        measure, side, threshold = PATTERNS[pattern]
        x = part["value"].dropna().to_numpy()
        if len(x) == 0:
            rows.append({"pattern": pattern, "place": place, "measure": measure,
                         "verdict": "not measurable"})
            continue
        lo, hi = np.quantile(x, [0.05, 0.95])
        mean = float(x.mean())
        inside = [(v > threshold) if side == "above" else (v < threshold) for v in (lo, hi, mean)]
        verdict = "holds" if inside[0] and inside[1] else "mixed" if inside[2] else "fails"
        rows.append({"pattern": pattern, "place": place, "measure": measure, "mean": mean,
                     "lo": float(lo), "hi": float(hi), "n": len(x),
                     "rule": f"{side} {threshold:g}", "verdict": verdict})
    return pd.DataFrame(rows)


def count_runs(places: list[str], draws: int, limit: int = DEFAULT_MAX_RUNS) -> int:
    """The pattern runs (scenarios x places x draws), counted before any is built."""
    return check_runs("--place/--draws", "this check", {"scenarios": len(SCENARIOS),
                                                        "place(s)": len(places),
                                                        "draw(s)": draws}, limit)


def patterns_id(specs: list[RunSpec]) -> str:
    """The check's id: a hash of its runs' ids (which hash everything about each run)."""
    return analysis_id("pat", [s.run_id for s in specs])


def run_patterns(places: list[str], draws: pd.DataFrame, years: float, master_seed: int,
                 fixed: dict, out: Path, executor, max_runs: int = DEFAULT_MAX_RUNS
                 ) -> pd.DataFrame:
    """Run (or resume) the pattern runs into ``out``; write and return the verdict table."""
    count_runs(places, len(draws), max_runs)
    specs = pattern_specs(places, draws, years, master_seed, fixed)
    claim(out, "patterns", patterns_id(specs),
          f"abm patterns: {', '.join(places)}, {len(draws)} draws, {years:g} years")
    rows = evaluate(specs, RunStore(out), executor, run=simulate, desc="patterns")
    table = verdicts(measures(rows))
    write_csv(table, out / "patterns.csv")
    return table
