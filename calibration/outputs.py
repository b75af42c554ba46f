"""What a calibration run measures: summary columns, derived outputs and named experiments.

A calibration run is :func:`abm.model.runs.execute` (one row of ``Model.summary()``) plus, when its
targets need them, two experiments with the same place, parameters and seed:

- ``experiment:munford_start`` / ``experiment:munford_stop``: the Munford et al. 2020 design
  (BMJ Open 10:e033186) as :func:`abm.model.interventions.start_stop_effects` runs it; the WELLBYs
  per person over 18 months gained by starting and lost by losing one's group, divided by
  ``wellbys_per_qaly`` to compare with the study's QALYs (stopping is reported negative, as
  the study does). Runs whose label contains :data:`MUNFORD_TAG` do it (three short runs).
- ``experiment:status_quo_return`` (social return per GBP 1): the same run repeated with no
  ICS budget; discounted WELLBYs gained x ``wellby_value_gbp`` / discounted ICS spend. Runs
  whose label contains :data:`RETURN_TAG` do it (one more run).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from abm.model.metrics import GAP_PARTS, QUINTILES, THIRDS
from abm.model.runs import RunSpec, execute

RETURN_TAG = "+return"
MUNFORD_TAG = "+munford"

#: Outputs computed from a summary row.
DERIVED: dict[str, Callable[[Mapping], float]] = {
    "low_ls_ratio": lambda r: _ratio(r["p_low_ls_third1"], r["p_low_ls_third3"]),
    "p_low_ls": lambda r: sum(r[f"p_low_ls_{t}"] for t in THIRDS) / len(THIRDS),
    "munford_stop_start_ratio": lambda r: _ratio(-r["experiment:munford_stop"],
                                                 r["experiment:munford_start"]),
    "providers_per_head_q1_ratio": lambda r: per_head_ratio(r, "share_providers", "q1"),
    "ics_money_per_head_q1_ratio": lambda r: per_head_ratio(r, "share_ics_money", "q1"),
}
EXPERIMENTS = ("munford_start", "munford_stop", "status_quo_return")
#: Summary columns of ``Model.summary()`` that targets may name.
SUMMARY_COLUMNS = (
    "mean_wellbeing", *(f"wellbeing_{q}" for q in QUINTILES), "gap_q5_q1", "sii", "rii",
    "sd_wellbeing", *(f"p_low_ls_{t}" for t in THIRDS),
    "p_attending", *(f"p_attending_{q}" for q in QUINTILES),
    "p_past_year", *(f"p_past_year_{q}" for q in QUINTILES),
    "closure_rate", "closures_per_year", "provider_survival", "share_providers_full",
    "budget_to_demand", "share_referred_3plus_contacts", "referral_uptake",
    "referral_uptake_followed", "referral_uptake_brief", "share_grant_funding_3plus_years",
    "other_funders_gbp", "n_open_providers", "spend_gbp", "wellbeing_years",
    # Model v3 (issue 19): the allocation of the status quo's money and providers (final
    # policy year), people by quintile, the gap's parts, ties, NHS use
    "population", *(f"population_{q}" for q in QUINTILES),
    *(f"share_ics_money_{q}" for q in QUINTILES), *(f"share_providers_{q}" for q in QUINTILES),
    *GAP_PARTS, "gap_part_need", "connectedness", "group_ties_per_resident",
    "gp_consultations", "ae_attendances", "nhs_cost_gbp",
)
OUTPUTS = (*SUMMARY_COLUMNS, *DERIVED, *(f"experiment:{name}" for name in EXPERIMENTS))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def per_head_ratio(row: Mapping, share: str, quintile: str) -> float:
    """Quintile ``quintile``'s share of ``share`` (``share_ics_money`` or ``share_providers``,
    final policy year) over its share of the place's people: 1 is a fair share per head,
    0.5 half of it. NaN where the quintile has nobody."""
    people = sum(float(row[f"population_{q}"]) for q in QUINTILES)
    return _ratio(float(row[f"{share}_{quintile}"]),
                  float(row[f"population_{quintile}"]) / people if people > 0 else 0.0)




def output_value(row: Mapping, output: str) -> float:
    """The value of ``output`` (a name in :data:`OUTPUTS`) in a calibration run's row."""
    if output in DERIVED:
        return float(DERIVED[output](row))
    return float(row[output])


def label_for(outputs) -> str:
    """The run label that makes :func:`simulate` run the experiments ``outputs`` need."""
    outputs = set(outputs)
    label = "calibration"
    if outputs & {"experiment:munford_start", "experiment:munford_stop",
                  "munford_stop_start_ratio"}:
        label += MUNFORD_TAG
    if "experiment:status_quo_return" in outputs:
        label += RETURN_TAG
    return label


def simulate(spec: RunSpec, weekly: bool = False) -> tuple[dict, None]:
    """Run ``spec`` and the experiments its label asks for; return its row (identity,
    parameters, outcomes, experiments). ``weekly`` is ignored; the signature is the
    runner's (:func:`experiments.runner.run_batch`)."""
    from abm.model.interventions import start_stop_effects

    row, _ = execute(spec)
    if MUNFORD_TAG in spec.scenario:
        effects = start_stop_effects(spec.place, spec.seed, dict(spec.params))
        per_qaly = row["wellbys_per_qaly"]
        row["experiment:munford_start"] = effects.start_gain / per_qaly
        row["experiment:munford_stop"] = -effects.stop_loss / per_qaly
    if RETURN_TAG in spec.scenario:
        params = {**dict(spec.parameters), "budget_gbp_per_head": 0.0}
        nothing, _ = execute(RunSpec.make(spec.scenario, spec.place, spec.rules, params,
                                          spec.seed, spec.years, spec.point))
        gain = row["wellbeing_years_disc"] - nothing["wellbeing_years_disc"]
        spend = row["spend_gbp_disc"] - nothing["spend_gbp_disc"]
        row["experiment:status_quo_return"] = (gain * row["wellby_value_gbp"] / spend
                                               if spend > 0 else math.nan)
    return row, None
