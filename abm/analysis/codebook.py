"""The codebook: every output column, with its unit, meaning and which direction is better.

One :class:`Column` per output column of each table the project writes:

- ``summary``: one row per run (:meth:`Model.summary`, ``summary.parquet``); parameters are
  columns too and are described by their declaration in :mod:`abm.model.parameters`;
- ``weekly``: one row per week of a run (:meth:`Model.timeseries`, ``weekly/``);
- ``table``: per place x scenario, levels and paired changes (``summary_table.csv``);
- ``dcea``, ``dcea_quintile`` and ``dcea_profile``: the distributional cost-effectiveness
  tables (:mod:`abm.analysis.dcea`);
- ``core20``, ``staircase`` and ``gap_parts``: the ICS's own views
  (:mod:`abm.analysis.compare`): Core20 against the rest, the inequality staircase by
  quintile, and the q5-q1 gap in its parts;
- ``uncertainty``: each strategy's effects over the calibration's posterior
  (:mod:`abm.report.uncertainty`).

Every WELLBY, QALY or money column says its basis in its unit: undiscounted, or discounted
at ``discount_rate_health`` (WELLBYs and QALYs; 1.5% a year by default, the Green Book's) or
``discount_rate_costs`` (money; 3.5% a year by default).

Columns ``X_lo`` and ``X_hi`` are the bounds of the 95% interval of ``X`` and are described
from ``X``. A test checks that every column the code produces is declared here, so a new
output cannot reach a report without a unit and a direction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from abm.analysis.dcea import INEQUALITY_AVERSION, aversion_label
from abm.files.io import write_csv, write_text
from abm.model.metrics import QUINTILES
from abm.model.parameters import PARAMETERS

#: How each ``better`` value reads in a codebook.
BETTER_WORDS = {
    "higher": "higher is better",
    "lower": "lower is better",
    "neither": "neither: depends on context",
    "input": "an input, not an outcome",
    "label": "identifies the run or group",
    "words": "says in words which way it went",
}
TABLES = ("summary", "weekly", "table", "dcea", "dcea_quintile", "dcea_profile", "core20",
          "staircase", "gap_parts", "uncertainty")
#: Units naming the basis of totals (see the module docstring).
WELLBYS = "WELLBYs, undiscounted"
WELLBYS_DISC = "WELLBYs, discounted at discount_rate_health"
GBP = "GBP, undiscounted"
GBP_DISC = "GBP, discounted at discount_rate_costs"
QUINTILE_WORDS = {"q1": "most deprived quintile (IMD deciles 1-2)", "q2": "quintile 2",
                  "q3": "quintile 3", "q4": "quintile 4",
                  "q5": "least deprived quintile (IMD deciles 9-10)"}


@dataclass(frozen=True)
class Column:
    """One output column: its unit, what it means and which direction is better."""

    name: str
    unit: str
    meaning: str
    better: str  # a key of BETTER_WORDS

    def __post_init__(self) -> None:
        if self.better not in BETTER_WORDS:
            raise ValueError(f"{self.name}: better must be one of {', '.join(BETTER_WORDS)}")

    @property
    def direction(self) -> str:
        """Which way is better, in words."""
        return BETTER_WORDS[self.better]


def _by_quintile(name: str, unit: str, meaning: str, better: str,
                 overall: bool = True) -> list[Column]:
    """``name`` (whole place, if ``overall``) and ``name_q1`` .. ``name_q5``."""
    out = [Column(name, unit, meaning, better)] if overall else []
    return out + [Column(f"{name}_{q}", unit, f"{meaning}: {QUINTILE_WORDS[q]}", better)
                  for q in QUINTILES]


_GAP_PARTS = [
    Column("gap_part_baseline", "life satisfaction points",
           "part of the q5-q1 gap from baseline life satisfaction (the deprivation gradient "
           "built in), final year", "neither"),
    Column("gap_part_need_untouched", "life satisfaction points",
           "part of the gap from need as it would be untouched by any asset, final year",
           "neither"),
    Column("gap_part_need_assets", "life satisfaction points",
           "part of the gap from what assets changed in need (belonging protects; forced "
           "stops harm), final year; negative: assets narrowed it", "lower"),
    Column("gap_part_need", "life satisfaction points",
           "part of the gap from need (untouched + assets' change), final year", "lower"),
    Column("gap_part_benefit", "life satisfaction points",
           "part of the gap from the benefit of attending, final year; negative: it narrowed "
           "the gap", "lower"),
    Column("gap_part_green", "life satisfaction points",
           "part of the gap from the benefit of green space, final year", "lower"),
    Column("gap_part_lag", "life satisfaction points",
           "part of the gap from wellbeing not yet at its target (it adjusts gradually), "
           "final year; the parts sum to gap_q5_q1", "neither"),
]
_CONNECTEDNESS = _by_quintile(
    "connectedness", "share, 0-1",
    "share of residents with a tie to someone who attends a group (final-year mean)", "higher")


_IDENTITY = [
    Column("run_id", "hex id", "stable id of the run (hash of everything that determines it)",
           "label"),
    Column("scenario", "name", "scenario (strategy) name", "label"),
    Column("point", "index", "index of the sweep's parameter point (0 without a grid)", "label"),
    Column("place", "name", "place simulated", "label"),
    Column("rules", "names", "commissioning rules in force after the burn-in, joined by +",
           "label"),
    Column("seed", "integer", "random seed (common random numbers across scenarios)", "label"),
    Column("years", "years", "policy years run after the burn-in (the horizon of totals)",
           "label"),
    Column("model_version", "version", "version of the model that produced the run", "label"),
    Column("n_residents", "residents", "simulated residents", "label"),
    Column("population", "people", "the place's population, to which totals are scaled",
           "label"),
]

_OUTCOMES = [
    Column("mean_wellbeing", "life satisfaction, 0-10",
           "mean life satisfaction over the final year", "higher"),
    *_by_quintile("wellbeing", "life satisfaction, 0-10",
                  "mean life satisfaction over the final year", "higher", overall=False),
    Column("gap_q5_q1", "life satisfaction points",
           "mean life satisfaction of q5 minus q1 (final year); positive: the affluent fare "
           "better", "lower"),
    Column("sii", "life satisfaction points",
           "slope index of inequality across IMD deciles (final year): modelled difference "
           "between the least and most deprived ends", "lower"),
    Column("rii", "ratio", "relative index of inequality = SII / mean (final year)", "lower"),
    *_by_quintile("p_attending", "share, 0-1",
                  "share of residents attending a community asset (final-year mean)", "higher"),
    Column("p_referred", "share, 0-1", "share of residents with an open referral (final year)",
           "neither"),
    Column("p_dropped_out", "share, 0-1",
           "share of residents who stopped and have not restarted (final year)", "lower"),
    Column("n_open_providers", "providers", "providers open (final-year mean, whole place)",
           "higher"),
    Column("link_workers", "FTE", "social prescribing link workers (final-year mean)",
           "neither"),
    *_by_quintile("dropout_rate", "per attender-year",
                  "drop-outs per attender-year over the policy years", "lower", overall=False),
    Column("closures", "providers", "provider closures over the policy years (whole place)",
           "lower"),
    Column("closures_per_year", "providers per year", "provider closures per policy year",
           "lower"),
    Column("provider_survival", "share, 0-1",
           "share of providers open at the policy start still open (never closed) at the end",
           "higher"),
    Column("referrals", "referrals", "link-worker referrals over the policy years", "neither"),
    Column("displaced_per_year", "people per year",
           "attenders who lost their place to a cut in sessions, per policy year", "lower"),
    *_by_quintile("spend_gbp", GBP,
                  "ICS spend on community assets and link workers over the policy years "
                  "(by quintile: where providers and link workers are located)", "neither"),
    *_by_quintile("wellbeing_years", "WELLBY units (point-years), undiscounted",
                  "life-satisfaction points x person-years over the policy years", "higher"),
    # Model v2 (issue 7), declared ahead: discounted totals, past-year participation, low
    # life satisfaction by deprivation third, and people per quintile.
    *_by_quintile("spend_gbp_disc", GBP_DISC,
                  "ICS spend over the policy years, discounted to the policy start", "neither"),
    *_by_quintile("wellbeing_years_disc",
                  "WELLBY units (point-years), discounted at discount_rate_health",
                  "wellbeing-years over the policy years, discounted to the policy start",
                  "higher"),
    *_by_quintile("p_past_year", "share, 0-1",
                  "share of residents who attended at any time in the past year (final year)",
                  "higher"),
    *[Column(f"p_low_ls_third{i}", "share, 0-1",
             f"share with low life satisfaction (0-4) in deprivation third {i} "
             f"({'most' if i == 1 else 'middle' if i == 2 else 'least'} deprived), final year",
             "lower") for i in (1, 2, 3)],
    *_by_quintile("population", "people", "people living in the quintile",
                  "label", overall=False),
    Column("sd_wellbeing", "life satisfaction points",
           "standard deviation of life satisfaction between residents (final year)", "neither"),
    Column("n_places", "places", "places providers run (final-year mean, whole place)",
           "higher"),
    Column("share_providers_full", "share, 0-1",
           "share of open providers with every place taken (final-year mean)", "neither"),
    Column("closure_rate", "per provider-year",
           "closures per open provider per policy year (money and other reasons)", "lower"),
    Column("forced_stops_per_year", "people per year",
           "people who lost their group (it closed or cut sessions), per policy year",
           "lower"),
    Column("share_referred_3plus_contacts", "share, 0-1",
           "share of referrals followed up (3+ link-worker contacts)", "higher"),
    Column("referral_uptake", "share, 0-1",
           "share of referrals after which the person started at a group while referred",
           "higher"),
    Column("referral_uptake_followed", "share, 0-1",
           "referral uptake among referrals with follow-up", "higher"),
    Column("referral_uptake_brief", "share, 0-1",
           "referral uptake among referrals without follow-up", "higher"),
    Column("budget_to_demand", "ratio",
           "the year's budget over what funding every open provider's ask would cost, mean "
           "over the policy rounds (above 1: money to spare)", "neither"),
    Column("share_grant_funding_3plus_years", "share, 0-1",
           "share of grant money awarded in grants of 3 years or more", "neither"),
    Column("other_funders_gbp", GBP,
           "money from other funders to providers over the policy years (their yearly income "
           "and the founding pool), whole place", "neither"),
    # Model v3 (issue 19): the gap's parts, the staircase, NHS use, the allocation of the
    # status quo's money, ties and community development.
    *_GAP_PARTS,
    *_CONNECTEDNESS,
    Column("group_ties_per_resident", "ties", "ties made in groups per resident (final year)",
           "higher"),
    Column("p_in_need", "share, 0-1",
           "share of residents with need above the referral threshold (final year)", "lower"),
    Column("cd_workers", "FTE", "community development workers (final-year mean, whole place)",
           "neither"),
    Column("cd_groups_seeded", "groups",
           "resident-led groups seeded by community development over the policy years",
           "neither"),
    *_by_quintile("in_need", "person-years",
                  "person-years lived with need above the referral threshold over the policy "
                  "years (the staircase's first step)", "lower", overall=False),
    *_by_quintile("referred", "people", "referrals (a link worker saw the person) over the "
                  "policy years", "neither", overall=False),
    *_by_quintile("followed_up", "people", "referrals followed up (3+ link-worker contacts)",
                  "neither", overall=False),
    *_by_quintile("started", "people", "referred people who started a group", "higher",
                  overall=False),
    *_by_quintile("attending_12w", "people",
                  "referred people still attending 12 weeks after they started", "higher",
                  overall=False),
    *_by_quintile("benefit_referred", "life satisfaction points",
                  "mean benefit of attending among referred attenders", "higher",
                  overall=False),
    *_by_quintile("gp_consultations", "consultations",
                  "general practice consultations over the policy years (expected, whole "
                  "place)", "lower"),
    *_by_quintile("ae_attendances", "attendances",
                  "A&E attendances over the policy years (expected, whole place)", "lower"),
    *_by_quintile("nhs_cost_gbp", GBP, "NHS cost of GP consultations and A&E attendances "
                  "over the policy years (undiscounted)", "lower"),
    *_by_quintile("nhs_cost_gbp_disc", GBP_DISC,
                  "NHS cost of GP consultations and A&E attendances, discounted to the policy "
                  "start", "lower"),
    *_by_quintile("share_ics_money", "share, 0-1",
                  "share of the ICS's grant money going to providers in the quintile (final "
                  "round)", "neither", overall=False),
    *_by_quintile("share_providers", "share, 0-1",
                  "share of open providers located in the quintile (final round)", "neither",
                  overall=False),
]

_PARAMETERS = [Column(p.name, p.unit, f"parameter: {p.meaning}", "input") for p in PARAMETERS]

_WEEKLY = [
    Column("run_id", "hex id", "id of the run the week belongs to", "label"),
    Column("week", "weeks", "weeks since the start of the burn-in (1 = first week)", "label"),
    Column("year", "years", "years since the policy start (0 or less: burn-in)", "label"),
    Column("mean_wellbeing", "life satisfaction, 0-10", "mean life satisfaction this week",
           "higher"),
    *_by_quintile("wellbeing", "life satisfaction, 0-10", "mean life satisfaction this week",
                  "higher", overall=False),
    Column("gap_q5_q1", "life satisfaction points", "q5 minus q1 mean life satisfaction",
           "lower"),
    Column("sii", "life satisfaction points", "slope index of inequality this week", "lower"),
    Column("rii", "ratio", "relative index of inequality this week", "lower"),
    Column("sd_wellbeing", "life satisfaction points",
           "standard deviation of life satisfaction this week", "neither"),
    *[Column(f"p_low_ls_third{i}", "share, 0-1",
             f"share with low life satisfaction (0-4) in deprivation third {i} this week",
             "lower") for i in (1, 2, 3)],
    *_by_quintile("p_attending", "share, 0-1", "share attending this week", "higher"),
    *_by_quintile("p_past_year", "share, 0-1",
                  "share who attended in the past 52 weeks, this week", "higher"),
    Column("p_referred", "share, 0-1", "share with an open referral this week", "neither"),
    Column("p_dropped_out", "share, 0-1", "share who stopped and have not restarted",
           "lower"),
    Column("n_open_providers", "providers", "providers open this week (whole place)", "higher"),
    Column("n_places", "places", "places open providers run this week (whole place)",
           "higher"),
    Column("share_providers_full", "share, 0-1",
           "share of open providers with every place taken this week", "neither"),
    Column("link_workers", "FTE", "link workers this week (whole place)", "neither"),
    Column("closures", "providers", "closures since the policy start (cumulative)", "lower"),
    Column("spend_gbp", GBP, "ICS spend since the policy start (cumulative)", "neither"),
    *_GAP_PARTS,
    *_CONNECTEDNESS,
    Column("group_ties_per_resident", "ties", "ties made in groups per resident this week",
           "higher"),
    Column("p_in_need", "share, 0-1", "share with need above the referral threshold", "lower"),
    Column("cd_workers", "FTE", "community development workers this week (whole place)",
           "neither"),
]

_CHANGE = {  # paired change -> (unit, meaning, better)
    "delta_mean_wellbeing": ("life satisfaction points",
                             "change in mean life satisfaction against the baseline", "higher"),
    "delta_gap_q5_q1": ("life satisfaction points",
                        "change in the q5-q1 gap (negative: the gap narrowed)", "lower"),
    "delta_sii": ("life satisfaction points",
                  "change in the slope index of inequality (negative: narrowed)", "lower"),
    "delta_p_attending_q1": ("share, 0-1",
                             "change in the share attending in the most deprived quintile",
                             "higher"),
    "delta_p_past_year_q1": ("share, 0-1",
                             "change in the share who took part in the past year in the most "
                             "deprived quintile", "higher"),
    "extra_spend_gbp": (GBP, "extra spend against the baseline over the policy years",
                        "lower"),
    "extra_spend_gbp_disc": (GBP_DISC,
                             "extra spend against the baseline, discounted to the policy start",
                             "lower"),
    "value_gbp": (GBP_DISC, "discounted WELLBYs gained valued at wellby_value_gbp "
                  "(Green Book)", "higher"),
    "net_benefit_gbp": (GBP_DISC,
                        "value of discounted WELLBYs gained minus discounted extra spend",
                        "higher"),
}

_TABLE = [
    Column("place", "name", "place", "label"),
    Column("scenario", "name", "scenario (strategy)", "label"),
    Column("point", "index", "index of the sweep's parameter point", "label"),
    Column("n_seeds", "seeds", "runs (seeds) summarised", "label"),
    Column("years", "years", "policy years the runs' totals cover (the horizon)", "label"),
    Column("mean_wellbeing", "life satisfaction, 0-10",
           "mean life satisfaction, final year, mean over seeds", "higher"),
    Column("gap_q5_q1", "life satisfaction points", "q5-q1 gap, mean over seeds", "lower"),
    Column("sii", "life satisfaction points", "slope index of inequality, mean over seeds",
           "lower"),
    Column("p_attending_q1", "share, 0-1", "share attending in q1, mean over seeds", "higher"),
    Column("p_past_year_q1", "share, 0-1",
           "share who took part in the past year in q1, mean over seeds", "higher"),
    Column("spend_gbp", GBP, "ICS spend over the policy years, mean over seeds", "neither"),
    Column("rii", "ratio", "relative index of inequality, mean over seeds", "lower"),
    Column("discount_rate_health", "per year",
           "discount rate of the runs' discounted WELLBYs (the basis of _disc columns)",
           "input"),
    Column("discount_rate_costs", "per year",
           "discount rate of the runs' discounted money (the basis of _disc columns)", "input"),
    *[Column(name, unit, meaning, better) for name, (unit, meaning, better) in _CHANGE.items()],
    *_by_quintile("wellby_gain", WELLBYS,
                  "WELLBYs gained against the baseline over the policy years", "higher"),
    *_by_quintile("wellby_gain_disc", WELLBYS_DISC,
                  "WELLBYs gained against the baseline, discounted to the policy start",
                  "higher"),
    *_by_quintile("extra_spend_gbp", GBP, "extra spend against the baseline", "lower",
                  overall=False),
    *_by_quintile("extra_spend_gbp_disc", GBP_DISC, "extra spend against the baseline",
                  "lower", overall=False),
    *_by_quintile("cost_per_wellby", "GBP per WELLBY, both discounted",
                  "discounted extra spend per discounted WELLBY gained (only where WELLBYs "
                  "were gained; negative: money saved as well)", "lower"),
    *_by_quintile("verdict", "words",
                  "how the strategy compares with the baseline on WELLBYs and money", "words"),
    Column("verdict_equity", "words",
           "the one-line verdict: value for money and what happened to the q5-q1 gap",
           "words"),
]

#: Units of the DCEA tables, whose rows are undiscounted or discounted (their ``basis``).
W_ROW = "WELLBYs, on the row's basis"
Q_ROW = "QALYs, on the row's basis"
G_ROW = "GBP, on the row's basis"
WYPP_ROW = "wellbeing-years per person, on the row's basis"

_DCEA_COMMON = [
    Column("place", "name", "place", "label"),
    Column("scenario", "name", "scenario (strategy) compared with the baseline", "label"),
    Column("point", "index", "index of the sweep's parameter point", "label"),
    Column("basis", "name", "undiscounted, or discounted to the policy start", "label"),
    Column("threshold", "name", "cost-effectiveness threshold used for opportunity cost",
           "label"),
    Column("gradient", "name",
           "how opportunity cost is spread over quintiles: equal, moderate or steep", "label"),
    Column("n_seeds", "seeds", "paired runs (seeds) summarised", "label"),
    Column("health_benefit_wellbys", W_ROW, "WELLBYs gained (health benefit)", "higher"),
    Column("health_benefit_qalys", Q_ROW, "health benefit in QALY equivalents", "higher"),
    Column("opportunity_cost_qalys", Q_ROW,
           "health forgone elsewhere in the NHS: extra spend / threshold", "lower"),
    Column("opportunity_cost_wellbys", W_ROW, "health opportunity cost in WELLBYs", "lower"),
    Column("net_health_benefit_wellbys", W_ROW,
           "net health benefit: benefit minus opportunity cost", "higher"),
    Column("net_health_benefit_qalys", Q_ROW, "net health benefit in QALYs", "higher"),
    Column("net_monetary_benefit_gbp", G_ROW, "net health benefit in QALYs x threshold",
           "higher"),
]

_DCEA = [
    *_DCEA_COMMON,
    Column("horizon_years", "years", "policy years the totals cover", "label"),
    Column("gbp_per_qaly", "GBP per QALY", "the threshold's value", "input"),
    Column("wellbys_per_qaly", "WELLBYs per QALY", "conversion between QALYs and WELLBYs",
           "input"),
    Column("extra_spend_gbp", G_ROW, "extra spend against the baseline", "lower"),
    Column("sii_base", WYPP_ROW,
           "slope index of inequality of wellbeing-years per person, baseline", "lower"),
    Column("sii_post", WYPP_ROW,
           "slope index of inequality after adding the net health benefit", "lower"),
    Column("sii_reduction", WYPP_ROW,
           "fall in that slope index (positive: the social gradient narrowed)", "higher"),
    Column("ci_base", "index, -1 to 1",
           "concentration index of wellbeing-years per person across IMD quintiles ranked "
           "from most to least deprived, baseline (positive: concentrated among the less "
           "deprived)", "lower"),
    Column("ci_post", "index, -1 to 1",
           "concentration index after adding the net health benefit", "lower"),
    Column("ci_reduction", "index points",
           "fall in the concentration index (positive: less inequality)", "higher"),
]
for _epsilon in INEQUALITY_AVERSION:
    _e = aversion_label(_epsilon)
    _DCEA += [
        Column(f"ede_base_{_e}", WYPP_ROW,
               "equally distributed equivalent of wellbeing-years per person, baseline, "
               f"aversion {_epsilon:g}", "higher"),
        Column(f"ede_post_{_e}", WYPP_ROW,
               f"equally distributed equivalent after adding the net health benefit, aversion "
               f"{_epsilon:g}", "higher"),
        Column(f"atkinson_base_{_e}", "index, 0-1",
               f"Atkinson index of wellbeing-years per person, baseline, aversion {_epsilon:g}",
               "lower"),
        Column(f"atkinson_post_{_e}", "index, 0-1",
               f"Atkinson index after adding the net health benefit, aversion {_epsilon:g}",
               "lower"),
        Column(f"equity_weighted_nhb_{_e}", W_ROW,
               f"change in equally distributed equivalent x population, aversion {_epsilon:g}",
               "higher"),
        Column(f"equity_impact_{_e}", W_ROW,
               "equity-weighted minus unweighted net health benefit: fall in health lost to "
               f"inequality (positive: inequality fell), aversion {_epsilon:g}", "higher"),
    ]

_DCEA_QUINTILE = [
    *_DCEA_COMMON,
    Column("quintile", "name", "IMD quintile (q1 most deprived)", "label"),
    Column("population", "people", "people living in the quintile", "label"),
    Column("baseline_wellbeing_years_per_person", WYPP_ROW,
           "wellbeing-years per person over the horizon in the baseline", "higher"),
    Column("post_wellbeing_years_per_person", WYPP_ROW,
           "the same after adding the net health benefit", "higher"),
]


_PROFILE = [
    *[c for c in _DCEA_COMMON if c.name in ("place", "scenario", "point", "basis", "n_seeds")],
    Column("measure", "name", "atkinson (relative inequality aversion) or kolm (absolute, per "
           "QALY)", "label"),
    Column("aversion", "epsilon (Atkinson) or alpha per QALY (Kolm)",
           "inequality aversion", "input"),
    Column("english_public", "true/false",
           "the English public's aversion (Atkinson 10.95, Kolm 0.15; Robson et al. 2017)",
           "label"),
    Column("ede_base", WYPP_ROW,
           "equally distributed equivalent, baseline", "higher"),
    Column("ede_post", WYPP_ROW,
           "equally distributed equivalent after adding the net health benefit", "higher"),
    Column("equity_weighted_nhb", W_ROW,
           "change in the equally distributed equivalent x population", "higher"),
    Column("equity_impact", W_ROW,
           "equity-weighted minus unweighted net health benefit (positive: inequality fell)",
           "higher"),
]

_GROUP = [
    Column("place", "name", "place", "label"),
    Column("scenario", "name", "scenario (strategy)", "label"),
    Column("point", "index", "index of the sweep's parameter point", "label"),
    Column("n_seeds", "seeds", "runs (seeds) summarised", "label"),
]


def _with_change(name: str, unit: str, meaning: str, better: str) -> list[Column]:
    """``name`` (mean over seeds) and ``delta_name`` (paired change against the baseline)."""
    return [Column(name, unit, f"{meaning}, mean over seeds", better),
            Column(f"delta_{name}", unit, f"change in {meaning} against the baseline (paired "
                   "by seed)", better)]


_CORE20 = [
    *_GROUP,
    Column("outcome", "name", "the outcome (a stem of the summary's _q1.._q5 columns; unit "
           "and aggregation in abm.analysis.compare.CORE20_OUTCOMES)", "label"),
    *_with_change("core20", "the outcome's unit",
                  "the outcome in Core20 (IMD deciles 1-2 nationally, NHS England's "
                  "Core20PLUS5)", "neither"),
    *_with_change("rest", "the outcome's unit", "the outcome in the other 80% (q2-q5, "
                  "population-weighted)", "neither"),
    *_with_change("core20_minus_rest", "the outcome's unit",
                  "Core20 minus the rest", "neither"),
]

_STAIRCASE = [
    *_GROUP,
    Column("quintile", "name", "IMD quintile (q1 most deprived)", "label"),
    *_with_change("in_need", "person-years per 1,000 residents a year",
                  "time lived with need above the referral threshold", "lower"),
    *_with_change("referred", "per 1,000 residents a year", "referrals (seen by a link worker)",
                  "neither"),
    *_with_change("followed_up", "per 1,000 residents a year",
                  "referrals followed up (3+ link-worker contacts)", "higher"),
    *_with_change("started", "per 1,000 residents a year",
                  "referred people who started a group", "higher"),
    *_with_change("attending_12w", "per 1,000 residents a year",
                  "referred starters still attending 12 weeks on", "higher"),
    *_with_change("benefit_referred", "life satisfaction points",
                  "mean benefit of referred starters while attending", "higher"),
    Column("share_referred", "ratio", "referred / in_need", "neither"),
    Column("share_followed_up", "share, 0-1", "followed_up / referred", "higher"),
    Column("share_started", "ratio", "started / referred", "higher"),
    Column("share_attending_12w", "share, 0-1", "attending_12w / started", "higher"),
]

_GAP_PARTS_TABLE = [
    *_GROUP,
    Column("part", "name", "a part of the q5-q1 gap (gap_part_*), or gap_q5_q1 itself",
           "label"),
    *_with_change("value", "life satisfaction points",
                  "the part's size, final policy year (the parts sum to the gap)", "lower"),
]

_UNCERTAINTY = [
    Column("place", "name", "place", "label"),
    Column("scenario", "name", "scenario (strategy)", "label"),
    Column("draws", "draws", "posterior draws", "label"),
    Column("seeds", "seeds", "seeds per draw", "label"),
    Column("wellby_gain_disc", WELLBYS_DISC,
           "WELLBYs gained against the same-draw status quo, mean over draws; _lo/_hi: 90% "
           "interval over draws", "higher"),
    Column("delta_gap_q5_q1", "life satisfaction points",
           "change in the q5-q1 gap, mean over draws; _lo/_hi: 90% interval over draws",
           "lower"),
    Column("n_gains", "draws", "draws in which the strategy gains WELLBYs", "higher"),
    Column("p_gains", "probability", "share of draws in which it gains WELLBYs", "higher"),
    Column("p_gains_mcse", "probability", "Monte Carlo standard error of p_gains", "lower"),
    Column("n_narrows", "draws", "draws in which it narrows the q5-q1 gap", "higher"),
    Column("p_narrows", "probability", "share of draws in which it narrows the gap",
           "higher"),
    Column("p_narrows_mcse", "probability", "Monte Carlo standard error of p_narrows",
           "lower"),
]

CODEBOOK: dict[str, dict[str, Column]] = {
    "summary": {c.name: c for c in [*_IDENTITY, *_PARAMETERS, *_OUTCOMES]},
    "weekly": {c.name: c for c in _WEEKLY},
    "table": {c.name: c for c in _TABLE},
    "dcea": {c.name: c for c in _DCEA},
    "dcea_quintile": {c.name: c for c in _DCEA_QUINTILE},
    "dcea_profile": {c.name: c for c in _PROFILE},
    "core20": {c.name: c for c in _CORE20},
    "staircase": {c.name: c for c in _STAIRCASE},
    "gap_parts": {c.name: c for c in _GAP_PARTS_TABLE},
    "uncertainty": {c.name: c for c in _UNCERTAINTY},
}


def lookup(name: str, table: str = "summary") -> Column | None:
    """The declaration of ``name`` in ``table`` (``X_lo``/``X_hi`` derived from ``X``)."""
    columns = CODEBOOK[table]
    if name in columns:
        return columns[name]
    for suffix, bound in (("_lo", "lower"), ("_hi", "upper")):
        base = columns.get(name.removesuffix(suffix)) if name.endswith(suffix) else None
        if base is not None:
            return Column(name, base.unit, f"{bound} bound of the 95% interval of {base.name}",
                          base.better)
    return None


def undeclared(columns: Iterable[str], table: str) -> list[str]:
    """The columns that the codebook does not declare for ``table``."""
    return [c for c in columns if lookup(c, table) is None]


def describe(columns: Iterable[str], table: str) -> pd.DataFrame:
    """Codebook rows (table, column, unit, better, meaning) for the given columns."""
    rows = []
    for name in columns:
        column = lookup(name, table)
        if column is None:
            raise KeyError(
                f"column '{name}' of the {table} table is not in abm/analysis/codebook.py")
        rows.append({"table": table, "column": name, "unit": column.unit,
                     "better": column.direction, "meaning": column.meaning})
    return pd.DataFrame(rows)


def codebook_frame(tables: dict[str, Iterable[str]]) -> pd.DataFrame:
    """The codebook rows of each named table's columns (``{"summary": columns, ...}``)."""
    return pd.concat([describe(columns, table) for table, columns in tables.items()],
                     ignore_index=True)


def codebook_markdown(frame: pd.DataFrame) -> str:
    """The codebook as Markdown: a section per table, a row per column."""
    lines = ["# Codebook", "",
             "Every column of the results, with its unit and which direction is better. "
             "`X_lo` and `X_hi` bound the 95% interval of `X` (90% over posterior draws in "
             "the uncertainty table). Totals name their basis in their unit: undiscounted, or "
             "discounted at `discount_rate_health` (WELLBYs) or `discount_rate_costs` "
             "(money).", ""]
    for table, rows in frame.groupby("table", sort=False):
        lines += [f"## {table}", "", "| column | unit | better | meaning |",
                  "|---|---|---|---|"]
        lines += [f"| `{r.column}` | {r.unit} | {r.better} | {r.meaning} |"
                  for r in rows.itertuples()]
        lines.append("")
    return "\n".join(lines)


def write_codebook(folder: str | Path, tables: dict[str, Iterable[str]]) -> list[Path]:
    """Write ``codebook.csv`` and ``codebook.md`` into ``folder``, describing the columns of
    each named table (``{"summary": summary.columns, ...}``)."""
    frame = codebook_frame(tables)
    folder = Path(folder)
    return [write_csv(frame, folder / "codebook.csv"),
            write_text(codebook_markdown(frame), folder / "codebook.md")]
