"""``abm robustness``: does the answer survive each assumption at either end of its range?

One assumption at a time, each of ``parameters`` is moved to the low and the high end of its
plausible range (the declaration's), the others staying at the defaults (calibrated where a
calibration is shipped). At each setting, and at the defaults, every strategy runs with the
same seeds as the status quo, and its paired effect on discounted WELLBYs and on the q5-q1
gap is given with a 95% interval over seeds and a word for its sign:

- same money: ``scale``, ``embed``, ``sustain``, ``proportionate_universalism`` against the
  ``baseline``;
- extra money (a quarter more budget): ``extra_money/...`` against the same-money baseline,
  so the effect is what the extra money buys spent that way.

The default list of assumptions is the ten that decided the strategies' effects most in
the Morris screening of the sensitivity analysis (mean of mu* scaled within each effect,
``calibration/specs/sensitivity.yaml``); any others can be named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

import pandas as pd

from abm.analysis.compare import compare, interval
from abm.files.io import write_csv
from abm.model.parameters import BY_NAME, sampled
from abm.model.runs import RunSpec
from abm.model.scenarios import load_scenario
from calibration.bounds import check_runs
from calibration.evaluate import RunStore, evaluate
from calibration.folder import analysis_id, claim
from calibration.problem import point_seed
from experiments.spec import DEFAULT_MAX_RUNS

#: The ten assumptions the Morris screening ranked highest for the strategies' effects.
DEFAULT_PARAMETERS = (
    "place_cost_gbp", "other_funding_share", "budget_gbp_per_head", "forced_stop_need_shock",
    "dropout_rate", "uptake_rate", "capacity_deprivation_effect", "referral_boost_followed",
    "need_wellbeing_penalty", "attendance_effect_eq5d",
)
#: Strategy -> (scenario, money); extra-money scenarios are compared with the same-money
#: baseline.
STRATEGIES = {
    "scale": ("scale", "same money"),
    "embed": ("embed", "same money"),
    "sustain": ("sustain", "same money"),
    "proportionate universalism": ("proportionate_universalism", "same money"),
    "scale (extra money)": ("extra_money/scale", "extra money"),
    "embed (extra money)": ("extra_money/embed", "extra money"),
    "sustain (extra money)": ("extra_money/sustain", "extra money"),
    "proportionate universalism (extra money)": ("extra_money/proportionate_universalism",
                                                 "extra money"),
}
BASELINE = "baseline"
#: Short column names for the printed grids ("+": with the extra money).
SHORT = {"scale": "scale", "embed": "embed", "sustain": "sustain",
         "proportionate universalism": "PU", "scale (extra money)": "scale+",
         "embed (extra money)": "embed+", "sustain (extra money)": "sustain+",
         "proportionate universalism (extra money)": "PU+"}
#: Effect -> (words if the 95% interval is above zero, words if below).
EFFECTS = {"wellby_gain_disc": ("gains", "loses"), "delta_gap_q5_q1": ("widens", "narrows")}


def settings(parameters: Sequence[str]) -> list[tuple[str, dict]]:
    """(label, parameter changes): the defaults, then each parameter at each end."""
    out = [("defaults", {})]
    for p in sampled(list(parameters)):
        for end, value in (("low", p.plausible_low), ("high", p.plausible_high)):
            out.append((f"{p.name} {end} ({value:g})", {p.name: value}))
    return out


def robustness_specs(place: str, parameters: Sequence[str], seeds: int, years: float,
                     fixed: dict) -> list[RunSpec]:
    """Every run: setting x scenario x seed, the seeds shared by every setting and scenario."""
    scenarios = [BASELINE, *(scenario for scenario, _ in STRATEGIES.values())]
    specs = []
    for index, (_, changes) in enumerate(settings(parameters)):
        for name in scenarios:
            scenario = load_scenario(name)
            values = {**scenario.parameters, **fixed, **changes}
            for s in range(seeds):
                specs.append(RunSpec.make(f"robustness:{name}", place, scenario.rules, values,
                                          point_seed(20261124, "robustness", s), years,
                                          point=index))
    return specs


def sign_word(effect: str, low: float, high: float) -> str:
    """The direction of an effect judged by its 95% interval, in words."""
    up, down = EFFECTS[effect]
    if low > 0:
        return up
    if high < 0:
        return down
    return "unclear"


def robustness_table(rows: pd.DataFrame, parameters: Sequence[str]) -> pd.DataFrame:
    """One row per setting x strategy x effect: mean, 95% interval over seeds, sign word."""
    labels = [label for label, _ in settings(parameters)]
    out = []
    for point, runs in rows.groupby("point", sort=True):
        base = runs[runs.scenario == f"robustness:{BASELINE}"].set_index("seed")
        for strategy, (scenario, money) in STRATEGIES.items():
            paired = runs[runs.scenario == f"robustness:{scenario}"].set_index("seed")
            diffs = [compare(paired.loc[seed], base.loc[seed]) for seed in paired.index]
            for effect in EFFECTS:
                mean, low, high = interval(d[effect] for d in diffs)
                out.append({"setting": labels[int(point)], "strategy": strategy, "money": money,
                            "effect": effect, "mean": mean, "low": low, "high": high,
                            "sign": sign_word(effect, low, high), "seeds": len(diffs)})
    return pd.DataFrame(out)


def format_robustness(table: pd.DataFrame, place: str) -> str:
    """Per effect, a grid of signs (settings x strategies), then per strategy how often the
    sign at the defaults held."""
    parts = []
    for effect, name in (("wellby_gain_disc", "WELLBYs (discounted)"),
                         ("delta_gap_q5_q1", "q5-q1 gap")):
        grid = table[table.effect == effect].pivot(index="setting", columns="strategy",
                                                   values="sign")
        grid = grid.loc[table.setting.unique(), list(STRATEGIES)].rename(columns=SHORT)
        parts.append(f"\n{name} in {place}: sign of each strategy's effect (95% interval over "
                     "seeds; 'unclear' where it includes zero; PU: proportionate "
                     "universalism; +: with a quarter more money)\n" + grid.to_string())
        lines = []
        for strategy in STRATEGIES:
            rows = table[(table.effect == effect) & (table.strategy == strategy)]
            at_defaults = rows[rows.setting == "defaults"].iloc[0]
            others = rows[rows.setting != "defaults"]
            same = int((others.sign == at_defaults.sign).sum())
            flips = [s for s, sign in zip(others.setting, others.sign, strict=True)
                     if sign not in (at_defaults.sign, "unclear")]
            text = (f"  {strategy:<42} {at_defaults.sign} at the defaults "
                    f"({_number(at_defaults['mean'])} [{_number(at_defaults.low)}, "
                    f"{_number(at_defaults.high)}]); the same at {same} of {len(others)} ends")
            if flips:
                text += "; the other way at: " + "; ".join(flips)
            lines.append(text)
        parts.append("\n".join(lines))
    return "\n".join(parts)


def _number(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.3g}"


def count_runs(parameters: Sequence[str], seeds: int, limit: int = DEFAULT_MAX_RUNS) -> int:
    """The analysis's runs (settings x scenarios x seeds), counted before any is built."""
    return check_runs("--parameter/--seeds", "this analysis",
                      {"setting(s) (defaults and each end of each parameter)":
                       1 + 2 * len(parameters), "scenarios": 1 + len(STRATEGIES),
                       "seed(s)": seeds}, limit)


def robustness_id(specs: list[RunSpec]) -> str:
    """The analysis's id: a hash of its runs' ids."""
    return analysis_id("rob", [s.run_id for s in specs])


def run_robustness(place: str, parameters: Sequence[str], seeds: int, years: float,
                   fixed: dict, out: Path, executor: Executor,
                   max_runs: int = DEFAULT_MAX_RUNS) -> pd.DataFrame:
    """Run (or resume) the one-at-a-time analysis into ``out``; write and return its table."""
    unknown = [p for p in parameters if p not in BY_NAME]
    if unknown:
        sampled(unknown)  # raises the usual one-line error
    count_runs(parameters, seeds, max_runs)
    specs = robustness_specs(place, parameters, seeds, years, fixed)
    claim(out, "robustness", robustness_id(specs),
          f"abm robustness: {place}, {len(parameters)} parameters, {seeds} seeds")
    rows = evaluate(specs, RunStore(out), executor, desc="robustness")
    table = robustness_table(rows, parameters)
    write_csv(table, out / "robustness.csv")
    return table
