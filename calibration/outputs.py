"""What a calibration run measures: summary columns, derived outputs and named experiments.

One calibration run is one status-quo (or any) model run, stepped here week by week so that
it can also carry out two experiments on the same residents:

- ``experiment:munford_start`` / ``experiment:munford_stop`` (Munford et al., BMJ Open
  2020;10:e033186): residents are classed by whether they attend at the policy start and 26
  weeks later; the outcome is the wellbeing they accrue over the next 78 weeks (18 months)
  above their own starting level, in WELLBYs per person, divided by ``wellbys_per_qaly``.
  Starters (not attending, then attending) are compared with those who never attended;
  stoppers (attending, then not) with those who kept attending. Like the cohort study, this
  is a comparison of observed groups, not of randomised ones.
- ``experiment:status_quo_return`` (social return per GBP 1): the same run repeated with no
  ICS budget, same seed; WELLBYs gained x ``wellby_value_gbp`` / ICS spend. Only runs whose
  label ends with :data:`RETURN_SUFFIX` do this second run (it doubles the cost).

Until Model v2 reports them, ``p_past_year*``, ``p_low_ls*`` and ``closure_rate`` are
measured here from the residents' weekly states (see :func:`_fallbacks`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from abm.runs import RunSpec

RETURN_SUFFIX = "+return"
#: Weeks to the second classification and the outcome horizon of the Munford experiment.
MUNFORD_CLASSIFY_WEEKS, MUNFORD_HORIZON_WEEKS = 26, 78
#: Life satisfaction below this counts as low (ONS: 0-4 on the whole-number scale).
LOW_LS_BELOW = 4.5
#: WELLBYs per QALY when the model does not declare ``wellbys_per_qaly``: HM Treasury
#: Wellbeing Guidance for Appraisal (2021), Annex 2.
WELLBYS_PER_QALY = 7.0

#: Outputs computed from a summary row.
DERIVED: dict[str, Callable[[Mapping], float]] = {
    "low_ls_ratio": lambda r: _ratio(r["p_low_ls_third1"], r["p_low_ls_third3"]),
    "p_low_ls": lambda r: (r["p_low_ls_third1"] + r["p_low_ls_third2"]
                           + r["p_low_ls_third3"]) / 3,
}
EXPERIMENTS = ("munford_start", "munford_stop", "status_quo_return")
#: Summary columns of Model v2 (the lead's contract) and of today's model that targets may name.
SUMMARY_COLUMNS = (
    "mean_wellbeing", *(f"wellbeing_q{i}" for i in range(1, 6)), "gap_q5_q1", "sii", "rii",
    "p_attending", *(f"p_attending_q{i}" for i in range(1, 6)), "p_past_year",
    *(f"p_past_year_q{i}" for i in range(1, 6)), "p_low_ls_third1", "p_low_ls_third2",
    "p_low_ls_third3", "sd_wellbeing", "closure_rate", "closures_per_year",
    "share_providers_full", "budget_to_demand", "share_referred_3plus_contacts",
    "share_grant_funding_3plus_years", "other_funders_gbp", "n_open_providers",
    "provider_survival", "spend_gbp", "wellbeing_years",
)
OUTPUTS = (*SUMMARY_COLUMNS, *DERIVED, *(f"experiment:{name}" for name in EXPERIMENTS))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def output_value(row: Mapping, output: str) -> float:
    """The value of ``output`` (a name in :data:`OUTPUTS`) in a calibration run's row."""
    if output in DERIVED:
        return float(DERIVED[output](row))
    return float(row[output])


def simulate(spec: RunSpec, weekly: bool = False) -> tuple[dict, None]:
    """Run ``spec`` with the experiments; return its row (as :func:`abm.runs.execute` does:
    identity, parameters, outcomes) plus the experiments' outputs. ``weekly`` is ignored;
    the signature is the runner's (:func:`experiments.runner.run_batch`)."""
    row, extra = _run(spec, measure=True)
    row |= extra
    if spec.scenario.endswith(RETURN_SUFFIX):
        params = {**dict(spec.parameters), "budget_gbp_per_head": 0.0}
        nothing = RunSpec.make(spec.scenario, spec.place, spec.rules, params, spec.seed,
                               spec.years, spec.point)
        base, _ = _run(nothing, measure=False)
        gain = _value_column(row) - _value_column(base)
        spend = _spend_column(row) - _spend_column(base)
        value = gain * row["wellby_value_gbp"]
        row["experiment:status_quo_return"] = value / spend if spend > 0 else math.nan
    return row, None


def _value_column(row: Mapping) -> float:
    return row.get("wellbeing_years_disc", row["wellbeing_years"])


def _spend_column(row: Mapping) -> float:
    return row.get("spend_gbp_disc", row["spend_gbp"])


def _run(spec: RunSpec, measure: bool) -> tuple[dict, dict]:
    """Step the model through ``spec``; return its summary row and the experiments' outputs."""
    from abm.model import CommunityAssetsModel
    from abm.residents import ATTENDING

    params = spec.params
    model = CommunityAssetsModel(spec.place, spec.rules, spec.seed, params)
    rs = model.resident_state
    start = model.burn_in_weeks
    end = start + round(spec.years * 52)
    last_attended = np.full(rs.n, -10**9)
    munford: dict[str, np.ndarray] = {}
    while model.week < end:
        model.step()
        attending = rs.state == ATTENDING
        last_attended[attending] = model.week
        if not measure:
            continue
        since = model.week - start
        if since == 0:
            munford = {"at_start": attending.copy(), "wb0": rs.wellbeing.copy(),
                       "accrued": np.zeros(rs.n)}
        elif munford and 0 < since <= MUNFORD_HORIZON_WEEKS:
            munford["accrued"] += (rs.wellbeing - munford["wb0"]) / 52
            if since == MUNFORD_CLASSIFY_WEEKS:
                munford["at_classify"] = attending.copy()
    model.years_run = spec.years
    summary = model.summary().iloc[0].to_dict()
    row = {"run_id": spec.run_id, "scenario": spec.scenario, "point": spec.point,
           **{k: summary.pop(k) for k in ("place", "rules", "seed", "years", "model_version")},
           **dict(params), **summary}
    extra: dict = {}
    if measure:
        extra |= _fallbacks(model, row, last_attended)
        extra |= _munford(munford, getattr(params, "wellbys_per_qaly", WELLBYS_PER_QALY))
    return row, extra


def _fallbacks(model, row: Mapping, last_attended: np.ndarray) -> dict:
    """Outputs Model v2 will report, measured here while today's model does not."""
    rs, out = model.resident_state, {}
    if "p_past_year" not in row:
        recent = last_attended > model.week - 52
        quintile = (np.asarray(rs.decile) - 1) // 2 + 1
        out["p_past_year"] = float(recent.mean())
        for q in range(1, 6):
            members = quintile == q
            out[f"p_past_year_q{q}"] = float(recent[members].mean()) if members.any() else math.nan
    if "p_low_ls_third1" not in row:
        third = np.digitize(rs.decile, [4, 8]) + 1  # national deciles 1-3, 4-7, 8-10
        low = rs.wellbeing < LOW_LS_BELOW
        for t in (1, 2, 3):
            members = third == t
            out[f"p_low_ls_third{t}"] = float(low[members].mean()) if members.any() else math.nan
    if "closure_rate" not in row:
        open_now = row["n_open_providers"]
        out["closure_rate"] = row["closures_per_year"] / open_now if open_now else math.nan
    return out


def _munford(m: dict, wellbys_per_qaly: float) -> dict:
    """Start and stop effects (QALYs over 18 months) from the classified residents."""
    if "at_classify" not in m:
        return {"experiment:munford_start": math.nan, "experiment:munford_stop": math.nan}
    before, after, qaly = m["at_start"], m["at_classify"], m["accrued"] / wellbys_per_qaly
    return {"experiment:munford_start": _difference(qaly, ~before & after, ~before & ~after),
            "experiment:munford_stop": _difference(qaly, before & ~after, before & after)}


def _difference(values: np.ndarray, group: np.ndarray, reference: np.ndarray) -> float:
    if not group.any() or not reference.any():
        return math.nan
    return float(values[group].mean() - values[reference].mean())


def outputs_frame(rows: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """One column per output (derived ones computed), one row per run."""
    return pd.DataFrame({o: [output_value(r, o) for r in rows.to_dict("records")]
                         for o in outputs}, index=rows.index)
