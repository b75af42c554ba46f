"""Scenario comparison with common random numbers: paired differences against a baseline.

Runs of every scenario use the same seeds, so a scenario and the baseline with the same seed
face the same shocks and choice draws; the per-seed difference isolates the policy. Intervals
are 95% t-intervals over seeds of those paired differences. Cost per WELLBY is the ratio of
mean extra spend to mean WELLBYs gained, with a delta-method interval; it has no interval
(NaN bounds) when the WELLBY gain's own interval includes zero, since the ratio is then
unbounded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from scipy import stats

from abm.metrics import QUINTILES, compare
from abm.runs import RunSpec, execute
from abm.scenarios import Scenario

#: Outcome levels summarised per scenario and place.
LEVELS = ("mean_wellbeing", "gap_q5_q1", "sii", "p_attending_q1", "spend_gbp")
#: Paired differences against the baseline.
CHANGES = ("delta_mean_wellbeing", "delta_gap_q5_q1", "delta_sii", "delta_p_attending_q1",
           "wellby_gain", *(f"wellby_gain_{q}" for q in QUINTILES), "extra_spend_gbp",
           "value_gbp", "net_benefit_gbp")
GROUP = ["place", "scenario", "point"]


def interval(values: Iterable[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval of ``values`` (NaN bounds with fewer than two values)."""
    x = np.asarray(list(values), dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return mean, mean - half, mean + half


def ratio_interval(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float, float]:
    """Ratio of means with a 95% delta-method interval over paired samples."""
    n = len(numerator)
    mean_num, mean_den = float(np.mean(numerator)), float(np.mean(denominator))
    den_lo = interval(denominator)[1]
    if n == 0 or mean_den <= 0:
        return math.nan, math.nan, math.nan
    ratio = mean_num / mean_den
    if n < 2 or not den_lo > 0:
        return ratio, math.nan, math.nan
    cov = np.cov(numerator, denominator, ddof=1)
    var = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / n / mean_den**2
    half = stats.t.ppf(0.975, n - 1) * math.sqrt(max(var, 0.0))
    return ratio, ratio - half, ratio + half


def summary_table(results: pd.DataFrame, baseline: str = "baseline",
                  wellby_value_gbp: float | None = None) -> pd.DataFrame:
    """Per place x scenario (x parameter point): levels with intervals, and paired changes
    against ``baseline`` run with the same place, point and seed.

    Columns come in threes: ``<name>``, ``<name>_lo``, ``<name>_hi``.
    """
    rows = []
    for (place, scenario, point), runs in results.groupby(GROUP, sort=False):
        row = {"place": place, "scenario": scenario, "point": point, "n_seeds": len(runs)}
        for name in LEVELS:
            row |= _triple(name, interval(runs[name]))
        base = results[(results.place == place) & (results.scenario == baseline)
                       & (results.point == point)]
        paired = runs.merge(base, on="seed", suffixes=("", "_base"))
        if scenario != baseline and len(paired):
            value = wellby_value_gbp or float(paired["wellby_value_gbp"].iloc[0])
            diffs = pd.DataFrame([
                compare(_side(r, ""), _side(r, "_base"), value) for _, r in paired.iterrows()
            ])
            for name in CHANGES:
                row |= _triple(name, interval(diffs[name]))
            for suffix in ("", *(f"_{q}" for q in QUINTILES)):
                row |= _triple(f"cost_per_wellby{suffix}", ratio_interval(
                    diffs[f"extra_spend_gbp{suffix}"].to_numpy(),
                    diffs[f"wellby_gain{suffix}"].to_numpy()))
        rows.append(row)
    return pd.DataFrame(rows)


def _side(row: pd.Series, suffix: str) -> dict:
    names = [c for c in row.index if not c.endswith("_base")]
    return {c: row[c + suffix] for c in names if c + suffix in row.index}


def _triple(name: str, values: tuple[float, float, float]) -> dict:
    mean, lo, hi = values
    return {name: mean, f"{name}_lo": lo, f"{name}_hi": hi}


def specs_for(scenarios: list[Scenario], places: list[str] | None, seeds: int,
              years: float) -> list[RunSpec]:
    """One spec per scenario x place x seed; ``places`` None means each scenario's own place."""
    return [
        RunSpec.make(s.name, place, s.rules, dict(s.parameters), seed, years)
        for s in scenarios
        for place in (places or [s.place])
        for seed in range(seeds)
    ]


def run_serially(specs: list[RunSpec], progress: Callable[[int, int], None] | None = None
                 ) -> pd.DataFrame:
    """Run specs one after another in this process; one summary row per run."""
    rows = []
    for done, spec in enumerate(specs, 1):
        rows.append(execute(spec)[0])
        if progress:
            progress(done, len(specs))
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame, baseline: str = "baseline") -> str:
    """A readable text table: each change as 'mean [lo, hi]'."""
    columns = {
        "delta_mean_wellbeing": ("mean wellbeing", "{:+.4f}"),
        "delta_gap_q5_q1": ("q5-q1 gap", "{:+.4f}"),
        "delta_sii": ("SII", "{:+.4f}"),
        "wellby_gain": ("WELLBYs", "{:+,.0f}"),
        "cost_per_wellby": ("GBP per WELLBY", "{:,.0f}"),
    }
    out = []
    for _, row in table.iterrows():
        if row["scenario"] == baseline:
            continue
        line = {"place": row["place"], "scenario": row["scenario"], "seeds": row["n_seeds"]}
        if "point" in table and table["point"].nunique() > 1:
            line["point"] = row["point"]
        for name, (label, fmt) in columns.items():
            line[label] = _show(row.get(name), row.get(f"{name}_lo"), row.get(f"{name}_hi"), fmt)
        out.append(line)
    if not out:
        return f"(nothing to compare: no scenario other than '{baseline}')"
    heading = f"Change against '{baseline}' (mean over seeds [95% interval of paired differences])"
    notes = ("GBP per WELLBY: extra spend per WELLBY gained; n/a where no WELLBYs were gained, "
             "[n/a] where the gain's interval includes zero. WELLBYs and GBP are totals for "
             "the whole place over the policy years.")
    return f"{heading}\n{pd.DataFrame(out).to_string(index=False)}\n{notes}"


def _show(mean, lo, hi, fmt: str) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    text = fmt.format(mean)
    if lo is None or math.isnan(lo) or math.isnan(hi):
        return text + " [n/a]"
    return f"{text} [{fmt.format(lo)}, {fmt.format(hi)}]"
