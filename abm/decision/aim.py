"""What would it take: the least money (or lever value) that reaches a stated aim.

An aim is a change in one objective (the q5-q1 gap narrowed by 0.02 points, Core20
participation up 5 points, ...) reached in at least a stated share of posterior draws
(:class:`abm.decision.spec.Aim`). Two forms:

- **The cheapest mix** (a spec with an ``aim`` and levers): the search of
  :mod:`abm.decision.search` weighs the extra money against the aim's objective as reached in
  that share of draws; the answer is the cheapest mix evaluated that reaches the aim (ties:
  the one that reaches it most surely), or "not reachable within the plausible ranges" with
  the mix that came closest and what it cost.
- **The lever for each strategy** (a spec with ``strategies`` and ``vary``, issue 19 item
  8): each strategy is run at every value of one lever on a grid (extra money, a targeting
  weight); the answer is the value at which the mean change reaches the aim (linear between
  grid values), a 90% interval over posterior draws of each draw's own crossing value, and the
  lowest grid value at which the aim is reached in the stated share of draws; or "not within
  the plausible ranges" (the grid's range) when it is not reached by its end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pandas as pd

from abm.decision.search import LABEL, Evaluator, run_search
from abm.decision.space import Mix
from abm.decision.spec import DecisionSpec, strategy_changes
from abm.files.io import write_csv, write_json
from abm.model.runs import execute
from calibration.evaluate import RunStore

NOT_REACHABLE = "not reachable within the plausible ranges"
NOT_WITHIN = "not within the plausible ranges"


def cheapest(evaluations: pd.DataFrame, spec: DecisionSpec) -> dict:
    """The cheapest evaluated mix that reaches the aim, or the one that came closest."""
    aim = spec.aim
    name = aim.objective.name
    reach = evaluations[evaluations[f"{name}_p_reach"] >= aim.probability]
    if len(reach):
        best = reach.sort_values(["extra_money", f"{name}_p_reach", "mix_id"],
                                 ascending=[True, False, True]).iloc[0]
        return {"reachable": True, **best.to_dict()}
    closest = evaluations.sort_values(
        [f"{name}_p_reach", f"{name}_at_p", "extra_money", "mix_id"],
        ascending=[False, not aim.objective.higher_is_better, True, True]).iloc[0]
    return {"reachable": False, **closest.to_dict()}


def run_cheapest(spec: DecisionSpec, out: Path, executor: Executor, run: Callable = execute
                 ) -> dict:
    """Search for the cheapest mix reaching ``spec``'s aim; write ``answer.json``."""
    result = run_search(spec, out, executor, run)
    answer = cheapest(result.evaluations, spec)
    answer = {k: (None if isinstance(v, float) and math.isnan(v) else v)
              for k, v in answer.items() if k != "run_ids"}
    write_json({"aim": spec.aim.words(), "answer": answer, "units": result.units},
               out / "answer.json")
    return answer


def vary_mixes(spec: DecisionSpec) -> list[tuple[str, float, Mix]]:
    """(strategy, lever value, mix) for every strategy and grid value: the strategy's rules
    and its changes from the status quo scenario, with the lever at the value."""
    out = []
    for strategy in spec.vary.strategies:
        for value in spec.vary.values:
            values = strategy_changes(spec.baseline, strategy, spec.vary.lever, value)
            out.append((strategy.name, value, Mix(strategy.rules, tuple(sorted(values.items())))))
    return out


def crossing(values: np.ndarray, changes: np.ndarray, target: float, sign: int) -> float:
    """The lowest lever value at which ``changes`` (one per value, ascending values) reach
    ``target`` in the better direction (``sign``), linear between grid values; inf if never."""
    reached = sign * (changes - target) >= 0
    if not reached.any():
        return math.inf
    k = int(np.argmax(reached))
    if k == 0:
        return float(values[0])
    x0, x1, y0, y1 = values[k - 1], values[k], changes[k - 1], changes[k]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))


def run_vary(spec: DecisionSpec, out: Path, executor: Executor, run: Callable = execute
             ) -> pd.DataFrame:
    """For each strategy, the lever value at which the aim is reached; write
    ``what_it_takes.csv`` (one row per strategy) and ``curves.csv`` (every grid value)."""
    aim, vary = spec.aim, spec.vary
    o = aim.objective
    planned = vary_mixes(spec)
    evaluation = Evaluator(spec, RunStore(out), executor, run).evaluate(
        [m for _, _, m in planned], desc="strategies x values")
    table = evaluation.table.set_index("mix_id")
    curves, answers = [], []
    values = np.array(vary.values, dtype=float)
    for strategy in dict.fromkeys(name for name, _, _ in planned):
        mixes = [m for name, _, m in planned if name == strategy]
        unit = "draw" if len(spec.draws) > 1 else "seed"
        per_unit = np.array([evaluation.paired[m.id].groupby(unit)[o.name].mean().to_numpy()
                             for m in mixes])  # values x units
        means = np.array([table.loc[m.id, o.name] for m in mixes])
        shares = np.array([table.loc[m.id, f"{o.name}_p_reach"] for m in mixes])
        for value, m, mean, share in zip(values, mixes, means, shares, strict=True):
            curves.append({"strategy": strategy, vary.lever: value, o.name: mean,
                           f"{o.name}_lo": table.loc[m.id, f"{o.name}_lo"],
                           f"{o.name}_hi": table.loc[m.id, f"{o.name}_hi"],
                           "p_reach": share, "mix_id": m.id})
        point = crossing(values, means, aim.change, o.sign)
        each = np.array([crossing(values, per_unit[:, j], aim.change, o.sign)
                         for j in range(per_unit.shape[1])])
        lo, hi = np.quantile(each, [0.05, 0.95]) if np.isfinite(each).all() else (
            np.quantile(each[np.isfinite(each)], 0.05) if np.isfinite(each).any()
            else math.inf, math.inf)
        sure = next((v for v, s in zip(values, shares, strict=True)
                     if s >= aim.probability), math.inf)
        answers.append({
            "strategy": strategy, "lever": vary.lever, "needed": point, "needed_lo": lo,
            "needed_hi": hi, "needed_at_probability": sure,
            "share_of_draws_reaching_at_top": float(shares[-1]),
            "range": f"{values[0]:g} to {values[-1]:g}",
            "answer": _words(point, lo, hi, sure, vary.lever, values, aim.probability)})
    table_out = pd.DataFrame(answers)
    write_csv(pd.DataFrame(curves), out / "curves.csv")
    write_csv(table_out, out / "what_it_takes.csv")
    write_json({"aim": aim.words(), "lever": vary.lever, "values": list(vary.values),
                "label": LABEL, "answers": table_out.replace({math.inf: None}).to_dict(
                    "records")}, out / "answer.json")
    return table_out


def _words(point: float, lo: float, hi: float, sure: float, lever: str, values: np.ndarray,
           probability: float) -> str:
    if not math.isfinite(point):
        return f"{NOT_WITHIN} ({lever} {values[0]:g} to {values[-1]:g})"
    upper = f"{hi:.3g}" if math.isfinite(hi) else f"beyond {values[-1]:g}"
    text = f"{lever} = {point:.3g} on average (90% interval over draws {lo:.3g} to {upper})"
    if math.isfinite(sure):
        text += f"; reached in {probability:.0%} of draws from {sure:g}"
    else:
        text += f"; not reached in {probability:.0%} of draws {NOT_WITHIN.split(' ', 1)[1]}"
    return text
