"""What a mix is judged on: paired changes against the status quo, and their robustness.

Each objective is a change that a mix makes against the status quo run with the same
posterior draw and the same seed (common random numbers), computed from two summary rows.
Over draws x seeds a mix gets, per objective:

- ``mean``: the mean change over every draw and seed (what the search optimises by default);
- ``lo`` and ``hi``: a 90% interval over posterior draws of the seed-averaged change;
- ``p_better``: the probability that the mix beats the status quo on it: the share of draws
  whose seed-averaged change is better than no change;
- ``worst_decile``: the seed-averaged change that 90% of draws do at least as well as (the
  10th percentile on the side where the objective is worse).

Without a posterior (one draw, the declaration's values) the spread and probabilities are
over seeds instead, and say so (``units``).

The summary columns each objective reads are named here once (:data:`COLUMNS`), so a renamed
column of the model is a one-line change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.model.metrics import QUINTILES

#: Summary columns read, by role.
COLUMNS = {
    "wellbeing_years": "wellbeing_years_disc",  # discounted, whole place
    "wellbeing_years_q1": "wellbeing_years_disc_q1",
    "gap": "gap_q5_q1",
    "wellbeing_q": "wellbeing_{q}",  # mean life satisfaction by quintile
    "population_q": "population_{q}",
    "participation_q1": "p_past_year_q1",
    "nhs_cost": "nhs_cost_gbp_disc",  # Model v3: NHS use and costs, discounted
    "budget": "budget_gbp_per_head",
    "uplift": "budget_uplift",
    "population": "place_population",  # added to each row by abm.decision.search
}


@dataclass(frozen=True)
class Objective:
    """A paired change: its name, plain label, unit, which way is better and how to compute it
    from a mix's row and the status quo's row (same draw and seed)."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    change: Callable[[Mapping, Mapping], float]
    needs: tuple[str, ...]  # summary columns it reads

    @property
    def sign(self) -> int:
        """+1 when higher is better, -1 when lower is better."""
        return 1 if self.higher_is_better else -1


def _diff(key: str, scale: float = 1.0) -> Callable[[Mapping, Mapping], float]:
    column = COLUMNS[key]
    return lambda run, base: scale * (float(run[column]) - float(base[column]))


def _rest_minus_core20(row: Mapping) -> float:
    """Mean life satisfaction of everyone outside Core20 (q2-q5, weighted by population)
    minus that of Core20 (q1), in life-satisfaction points."""
    rest = QUINTILES[1:]
    people = np.array([float(row[COLUMNS["population_q"].format(q=q)]) for q in rest])
    means = np.array([float(row[COLUMNS["wellbeing_q"].format(q=q)]) for q in rest])
    return float(people @ means / people.sum()) - float(row[COLUMNS["wellbeing_q"].format(q="q1")])


def _extra_money(run: Mapping, base: Mapping) -> float:
    """Extra budget a year (GBP): budget per head with any extra money, times the place's
    people, against the status quo's (both at the same posterior draw)."""
    def budget(row: Mapping) -> float:
        return float(row[COLUMNS["budget"]]) * (1 + float(row[COLUMNS["uplift"]]))

    return (budget(run) - budget(base)) * float(run[COLUMNS["population"]])


OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective("wellbys", "WELLBYs gained (discounted, whole place)", "WELLBYs", True,
              _diff("wellbeing_years"), (COLUMNS["wellbeing_years"],)),
    Objective("gap", "change in the q5-q1 gap", "life-satisfaction points", False,
              _diff("gap"), (COLUMNS["gap"],)),
    Objective("core20_wellbys", "WELLBYs gained by Core20 residents (most deprived fifth, "
              "discounted)", "WELLBYs", True, _diff("wellbeing_years_q1"),
              (COLUMNS["wellbeing_years_q1"],)),
    Objective("core20_gap", "change in the gap between the rest and Core20",
              "life-satisfaction points", False,
              lambda run, base: _rest_minus_core20(run) - _rest_minus_core20(base),
              tuple(COLUMNS[k].format(q=q) for k in ("wellbeing_q", "population_q")
                    for q in QUINTILES)),
    Objective("core20_participation", "change in Core20 residents taking part in the past "
              "year", "percentage points", True, _diff("participation_q1", 100.0),
              (COLUMNS["participation_q1"],)),
    Objective("nhs_cost", "change in NHS costs (GP and A&E, discounted)", "GBP", False,
              _diff("nhs_cost"), (COLUMNS["nhs_cost"],)),
    Objective("extra_money", "extra money a year", "GBP a year", False, _extra_money,
              (COLUMNS["budget"], COLUMNS["uplift"])),
)}

#: Robustness statistics reported beside each objective's mean.
STATISTICS = ("mean", "lo", "hi", "p_better", "worst_decile")


def changes(runs: pd.DataFrame, base: pd.DataFrame, objectives: Sequence[Objective]
            ) -> pd.DataFrame:
    """Per draw and seed, each objective's change: ``runs`` and ``base`` are rows of one mix
    and of the status quo with columns ``draw`` and ``seed``, one row per pair."""
    base = base.set_index(["draw", "seed"])
    out = []
    for row in runs.sort_values(["draw", "seed"]).to_dict("records"):
        ref = base.loc[(row["draw"], row["seed"])]
        out.append({"draw": row["draw"], "seed": row["seed"],
                    **{o.name: o.change(row, ref) for o in objectives}})
    return pd.DataFrame(out)


def summarise(paired: pd.DataFrame, objectives: Sequence[Objective],
              aim: tuple[str, float, float] | None = None) -> dict[str, float]:
    """Each objective's mean, 90% interval, probability of beating the status quo and worst
    decile, over draws (seed-averaged) or, with one draw, over seeds.

    With ``aim`` = (objective name, change, probability): also ``<name>_p_reach``, the share
    of draws whose change reaches ``change``, and ``<name>_at_p``, the change reached in at
    least ``probability`` of draws."""
    unit = "draw" if paired["draw"].nunique() > 1 else "seed"
    per_unit = paired.groupby(unit, sort=True)[[o.name for o in objectives]].mean()
    out: dict[str, float] = {}
    for o in objectives:
        values = per_unit[o.name].to_numpy(dtype=float)
        lo, hi = np.quantile(values, [0.05, 0.95])
        out[o.name] = float(paired[o.name].mean())
        out[f"{o.name}_lo"], out[f"{o.name}_hi"] = float(lo), float(hi)
        out[f"{o.name}_p_better"] = float((o.sign * values > 0).mean())
        out[f"{o.name}_worst_decile"] = worst(values, o, 0.1)
        if aim is not None and aim[0] == o.name:
            out[f"{o.name}_p_reach"] = float((o.sign * (values - aim[1]) >= 0).mean())
            out[f"{o.name}_at_p"] = worst(values, o, 1 - aim[2])
    return out


def worst(values: np.ndarray, objective: Objective, share: float) -> float:
    """The value that all but ``share`` of ``values`` do at least as well as."""
    q = share if objective.higher_is_better else 1 - share
    return float(np.quantile(np.asarray(values, dtype=float), q))


def units(paired: pd.DataFrame) -> str:
    """What the robustness statistics are over: 'posterior draws' or 'seeds'."""
    return "posterior draws" if paired["draw"].nunique() > 1 else "seeds (no posterior)"
