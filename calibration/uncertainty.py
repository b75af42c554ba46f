"""The main comparison under parameter uncertainty: posterior draws x seeds.

Every scenario of a sweep file runs at each posterior draw (calibrated parameters replaced by
the draw's values) with the sweep's seeds, paired with the status quo at the same draw and
seed. For each strategy and place:

- the mean change over draws and seeds, and a 90% interval over draws of the seed-averaged
  change: the spread that parameter uncertainty (plus the remaining seed noise) leaves;
- the probability that the strategy gains WELLBYs, and that it narrows the q5-q1 gap: the
  share of posterior draws whose seed-averaged change has that sign.

A probability near 0.5 says the evidence does not settle the answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from abm.analysis.compare import compare
from abm.files.errors import InputError
from abm.files.io import write_csv
from abm.model.parameters import BY_NAME
from abm.model.runs import RunSpec, execute
from calibration.evaluate import RunStore, evaluate
from calibration.problem import typed
from experiments.spec import Sweep

#: Paired changes reported (WELLBYs and spend discounted at the Green Book rates, as
#: :func:`abm.analysis.compare.compare` gives them; undiscounted WELLBYs beside them).
EFFECTS = ("wellby_gain_disc", "wellby_gain", "delta_gap_q5_q1", "delta_sii",
           "extra_spend_gbp_disc", "net_benefit_gbp")


def read_draws(path: str | Path, limit: int | None = None) -> pd.DataFrame:
    """Posterior draws (``posterior.parquet`` of a calibration): one row each, one column per
    calibrated parameter; the first ``limit`` rows."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found: give the posterior.parquet of a calibration")
    try:
        draws = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read it as Parquet ({error})") from None
    unknown = [c for c in draws.columns if c not in BY_NAME]
    if unknown or draws.empty:
        raise InputError(f"{path}: columns must be parameter names and there must be rows; "
                         f"got unknown columns {unknown}" if unknown else f"{path}: no draws")
    return draws.head(limit) if limit else draws


def draw_specs(sweep: Sweep, draws: pd.DataFrame) -> list[RunSpec]:
    """Every scenario x place x draw x seed of ``sweep``; the draw's values replace the
    calibrated parameters (a scenario's own lever settings are not calibrated)."""
    seeds = sweep.seed_values()
    specs = []
    for scenario in sweep.scenarios:
        for place in sweep.places or (scenario.place,):
            for index, draw in enumerate(draws.to_dict("records")):
                values = typed(draw)
                parameters = {**scenario.parameters, **sweep.parameters, **values}
                specs += [RunSpec.make(scenario.name, place, scenario.rules, parameters, seed,
                                       sweep.years, point=index) for seed in seeds]
    return specs


def paired_effects(rows: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per scenario, place, draw and seed: the change against the same-draw, same-seed
    status quo."""
    base = rows[rows.scenario == baseline].set_index(["place", "point", "seed"])
    out = []
    for row in rows[rows.scenario != baseline].to_dict("records"):
        ref = base.loc[(row["place"], row["point"], row["seed"])]
        effect = compare(row, ref, float(ref["wellby_value_gbp"]))
        out.append({"scenario": row["scenario"], "place": row["place"], "draw": row["point"],
                    "seed": row["seed"], **{k: effect[k] for k in EFFECTS}})
    return pd.DataFrame(out)


def uncertainty_table(effects: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and place: mean changes, 90% intervals over draws, and probabilities."""
    per_draw = effects.groupby(["place", "scenario", "draw"], sort=False)[list(EFFECTS)].mean()
    rows = []
    for (place, scenario), part in per_draw.groupby(level=["place", "scenario"], sort=False):
        row = {"place": place, "scenario": scenario, "draws": len(part),
               "seeds": int(effects[(effects.place == place)
                                    & (effects.scenario == scenario)]["seed"].nunique())}
        for name in EFFECTS:
            lo, hi = np.quantile(part[name], [0.05, 0.95])
            row |= {name: float(part[name].mean()), f"{name}_lo": float(lo),
                    f"{name}_hi": float(hi)}
        row["p_gains_wellbys"] = float((part["wellby_gain_disc"] > 0).mean())
        row["p_narrows_gap"] = float((part["delta_gap_q5_q1"] < 0).mean())
        gain, extra = part["wellby_gain_disc"].mean(), part["extra_spend_gbp_disc"].mean()
        row["cost_per_wellby"] = float(extra / gain) if gain > 0 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def format_uncertainty(table: pd.DataFrame, baseline: str) -> str:
    """The table in words and rounded numbers."""
    lines = [f"Change against '{baseline}' under parameter uncertainty "
             "(mean over posterior draws and seeds [90% interval over draws])"]
    out = []
    for r in table.to_dict("records"):
        out.append({
            "place": r["place"], "strategy": r["scenario"], "draws x seeds":
                f"{r['draws']} x {r['seeds']}",
            "WELLBYs (disc.)": f"{r['wellby_gain_disc']:+,.0f} [{r['wellby_gain_disc_lo']:+,.0f}, "
                               f"{r['wellby_gain_disc_hi']:+,.0f}]",
            "P(gains)": f"{r['p_gains_wellbys']:.0%}",
            "q5-q1 gap": f"{r['delta_gap_q5_q1']:+.4f} [{r['delta_gap_q5_q1_lo']:+.4f}, "
                         f"{r['delta_gap_q5_q1_hi']:+.4f}]",
            "P(narrows)": f"{r['p_narrows_gap']:.0%}",
            "verdict": _verdict(r),
        })
    lines.append(pd.DataFrame(out).to_string(index=False))
    lines.append("WELLBYs: totals for the whole place over the policy years, discounted at "
                 "the Green Book health rate. "
                 "P(gains): share of posterior draws in which the strategy gains WELLBYs; "
                 "P(narrows): in which it narrows the gap between the most and least deprived "
                 "fifths. Near 50%: the evidence does not settle it.")
    return "\n".join(lines)


def _verdict(r: dict) -> str:
    gain, narrow = r["p_gains_wellbys"], r["p_narrows_gap"]
    words = ("likely gains" if gain >= 0.9 else "likely loses" if gain <= 0.1
             else "unsure on WELLBYs")
    words += (", likely narrows the gap" if narrow >= 0.9 else ", likely widens the gap"
              if narrow <= 0.1 else ", unsure on the gap")
    return words


def run_uncertainty(sweep: Sweep, draws: pd.DataFrame, out: Path, executor
                    ) -> tuple[pd.DataFrame, str]:
    """Run (or resume) the comparison over draws x seeds into ``out``; return the table and
    its text."""
    specs = draw_specs(sweep, draws)
    rows = evaluate(specs, RunStore(out), executor, run=execute, desc="draws x seeds")
    effects = paired_effects(rows, sweep.baseline)
    table = uncertainty_table(effects)
    write_csv(effects, out / "effects.csv")
    write_csv(table, out / "uncertainty_table.csv")
    text = format_uncertainty(table, sweep.baseline)
    (out / "uncertainty_table.txt").write_text(text + "\n", encoding="utf-8")
    return table, text
