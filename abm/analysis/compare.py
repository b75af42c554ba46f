"""Scenario comparison with common random numbers: paired differences against a baseline.

Runs of every scenario use the same seeds, so a scenario and the baseline with the same seed
face the same shocks and choice draws; the per-seed difference isolates the policy. Intervals
of mean changes are 95% t-intervals over seeds of those paired differences.

Cost per WELLBY is the ratio of mean extra spend to mean WELLBYs gained. Its 95% interval is
a bias-corrected and accelerated (BCa) bootstrap resampling seeds with both quantities
together (paired), from ``scipy.stats.bootstrap`` with a fixed generator so that the same
results give the same interval. A ratio is only reported where WELLBYs were clearly gained
(the gain's interval is above zero); otherwise a verdict says in words what happened ("worse
and no cheaper", "better and cheaper", ...), since a ratio of a cost to a loss, or to a
change that may be zero, misleads.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from abm.analysis.tables import basis_words, estimate
from abm.model.metrics import QUINTILES
from abm.model.parameters import BY_NAME
from abm.model.runs import RunSpec, execute
from abm.model.scenarios import Scenario

#: Outcome levels summarised per scenario and place.
LEVELS = ("mean_wellbeing", "gap_q5_q1", "sii", "rii", "p_attending_q1", "p_past_year_q1",
          "spend_gbp")
#: Discount rates recorded beside every table (per year): the basis of its ``_disc`` totals.
RATES = ("discount_rate_health", "discount_rate_costs")
#: Paired differences against the baseline. WELLBYs and money come discounted (``_disc``,
#: the Green Book headline) and undiscounted.
CHANGES = ("delta_mean_wellbeing", "delta_gap_q5_q1", "delta_sii", "delta_p_attending_q1",
           "delta_p_past_year_q1",
           "wellby_gain", *(f"wellby_gain_{q}" for q in QUINTILES),
           "wellby_gain_disc", *(f"wellby_gain_disc_{q}" for q in QUINTILES),
           "extra_spend_gbp", "extra_spend_gbp_disc", "value_gbp", "net_benefit_gbp")
GROUP = ["place", "scenario", "point"]


def compare(run: Mapping | pd.DataFrame, baseline: Mapping | pd.DataFrame,
            wellby_value_gbp: float = 13_000.0) -> dict:
    """What ``run`` gains over a same-seed ``baseline`` run (:meth:`Model.summary` results,
    as one-row frames or rows).

    WELLBYs gained and extra ICS spend, discounted (``_disc``, the Green Book headline) and
    not; cost per WELLBY on discounted figures (only where WELLBYs were gained; a negative
    value means money was saved as well); their split by quintile (distributional
    cost-effectiveness); the discounted WELLBYs' value at ``wellby_value_gbp`` and the net
    benefit. By quintile, WELLBYs are those of residents living in the quintile, and spend
    is what was spent on providers and link workers located in it (residents may use
    providers in nearby neighbourhoods of another quintile).
    """
    run, baseline = (r.iloc[0] if isinstance(r, pd.DataFrame) else r for r in (run, baseline))
    out = {
        "delta_mean_wellbeing": run["mean_wellbeing"] - baseline["mean_wellbeing"],
        "delta_gap_q5_q1": run["gap_q5_q1"] - baseline["gap_q5_q1"],
        "delta_sii": run["sii"] - baseline["sii"],
        "delta_p_attending_q1": run["p_attending_q1"] - baseline["p_attending_q1"],
        "delta_p_past_year_q1": run["p_past_year_q1"] - baseline["p_past_year_q1"],
    }
    for suffix in ("", *(f"_{q}" for q in QUINTILES)):
        for disc in ("", "_disc"):
            out[f"wellby_gain{disc}{suffix}"] = (run[f"wellbeing_years{disc}{suffix}"]
                                                 - baseline[f"wellbeing_years{disc}{suffix}"])
            out[f"extra_spend_gbp{disc}{suffix}"] = (run[f"spend_gbp{disc}{suffix}"]
                                                     - baseline[f"spend_gbp{disc}{suffix}"])
        gain, extra = out[f"wellby_gain_disc{suffix}"], out[f"extra_spend_gbp_disc{suffix}"]
        out[f"cost_per_wellby{suffix}"] = extra / gain if gain > 0 else math.nan
    out["value_gbp"] = out["wellby_gain_disc"] * wellby_value_gbp
    out["net_benefit_gbp"] = out["value_gbp"] - out["extra_spend_gbp_disc"]
    return out


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


#: Bootstrap resamples for cost-per-WELLBY intervals (scipy's default).
BOOTSTRAP_RESAMPLES = 9999
#: Seed of the bootstrap's generator: the same results always give the same interval.
BOOTSTRAP_SEED = 20_261_121
#: Extra spend within this share of the baseline's spend counts as "about the same cost"
#: (same-money scenarios are meant to spend within 1% of the status quo).
SAME_COST_SHARE = 0.01


def bootstrap_ratio(numerator: np.ndarray, denominator: np.ndarray, *,
                    confidence: float = 0.95) -> tuple[float, float, float]:
    """Ratio of means with a paired BCa bootstrap interval (resampling pairs, e.g. seeds).

    NaN bounds with fewer than three pairs, where every pair is the same, or where scipy
    cannot form the interval (a degenerate resample distribution).
    """
    num, den = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    keep = ~(np.isnan(num) | np.isnan(den))
    num, den = num[keep], den[keep]
    if len(num) == 0 or den.mean() == 0:
        return math.nan, math.nan, math.nan
    ratio = float(num.mean() / den.mean())
    if len(num) < 3:
        return ratio, math.nan, math.nan

    def ratio_of_means(x, y, axis=-1):
        return np.mean(x, axis=axis) / np.mean(y, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate data: scipy warns and returns NaN
        result = stats.bootstrap((num, den), ratio_of_means, paired=True, vectorized=True,
                                 method="BCa", confidence_level=confidence,
                                 n_resamples=BOOTSTRAP_RESAMPLES,
                                 rng=np.random.default_rng(BOOTSTRAP_SEED))
    low, high = result.confidence_interval
    return ratio, float(low), float(high)


def verdict(gain: tuple[float, float, float], extra: float, ratio: tuple[float, float, float],
            baseline_spend: float) -> str:
    """Say in words how a strategy compares with the baseline on WELLBYs and money.

    ``gain`` is (mean, lo, hi) of WELLBYs gained; ``extra`` the mean extra spend (GBP);
    ``ratio`` is (mean extra spend / mean gain, lo, hi); ``baseline_spend`` (GBP) sets what
    counts as about the same cost (within :data:`SAME_COST_SHARE` of it).
    """
    mean_gain, gain_lo, gain_hi = gain
    if math.isnan(mean_gain) or math.isnan(extra):
        return "not compared"
    same = abs(extra) <= SAME_COST_SHARE * abs(baseline_spend)
    bounds = "" if math.isnan(ratio[1]) else f" (95% interval {_gbp(ratio[1])} to {_gbp(ratio[2])})"
    if gain_lo > 0:
        if same:
            return "better at about the same cost"
        if extra < 0:
            return "better and cheaper (dominant)"
        return f"better, at {_gbp(ratio[0])} per WELLBY gained{bounds}"
    if gain_hi < 0:
        if same or extra > 0:
            return "worse and no cheaper (dominated)"
        return f"worse but cheaper: saves {_gbp(ratio[0])} per WELLBY lost{bounds}"
    cost = "at about the same cost" if same else ("costs more" if extra > 0 else "cheaper")
    return f"no clear change in WELLBYs, {cost}"


def _cost_effectiveness(diffs: pd.DataFrame, paired: pd.DataFrame, suffix: str) -> dict:
    """Cost per WELLBY gained (with its BCa interval where the gain is clearly positive) and
    the verdict, overall (``suffix`` "") or for one quintile (``suffix`` "_q1" ...), on
    discounted WELLBYs and money (Green Book)."""
    gain, extra = diffs[f"wellby_gain_disc{suffix}"], diffs[f"extra_spend_gbp_disc{suffix}"]
    ratio = bootstrap_ratio(extra.to_numpy(), gain.to_numpy())
    gain_ci = interval(gain)
    text = verdict(gain_ci, float(extra.mean()), ratio,
                   float(paired[f"spend_gbp_disc{suffix}_base"].mean()))
    if not gain_ci[0] > 0:  # no WELLBYs gained on average: no cost per WELLBY gained
        ratio = (math.nan,) * 3
    elif not gain_ci[1] > 0:  # the gain may be zero: the ratio is unbounded
        ratio = (ratio[0], math.nan, math.nan)
    return _triple(f"cost_per_wellby{suffix}", ratio) | {f"verdict{suffix}": text}


def _gbp(x: float) -> str:
    """Whole pounds to three significant figures: 'GBP 1,230', '-GBP 46'."""
    if x == 0 or not math.isfinite(x):
        return f"GBP {x:g}"
    places = min(2 - math.floor(math.log10(abs(x))), 0)
    text = f"{round(abs(x), places):,.0f}"
    return f"GBP {text}" if x > 0 else f"-GBP {text}"


def summary_table(results: pd.DataFrame, baseline: str = "baseline",
                  wellby_value_gbp: float | None = None) -> pd.DataFrame:
    """Per place x scenario (x parameter point): levels with intervals, and paired changes
    against ``baseline`` run with the same place, point and seed.

    Columns come in threes: ``<name>``, ``<name>_lo``, ``<name>_hi``.
    """
    rows = []
    for (place, scenario, point), runs in results.groupby(GROUP, sort=False):
        row = {"place": place, "scenario": scenario, "point": point, "n_seeds": len(runs)}
        if "years" in runs:
            row["years"] = float(runs["years"].iloc[0])
        for name in RATES:
            row[name] = (float(runs[name].iloc[0]) if name in runs
                         else float(BY_NAME[name].default))
        for name in LEVELS:
            if name in runs:
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
                row |= _cost_effectiveness(diffs, paired, suffix)
        rows.append(row)
    table = pd.DataFrame(rows)
    if "verdict" in table:
        table["verdict_equity"] = equity_verdicts(table, baseline)
    return table


#: A change in the q5-q1 gap smaller than this share of the baseline's gap is "slight".
#: Assumption (plausible range 0.02-0.10): a board reads a change of a few per cent of the
#: gap as small.
SLIGHT_GAP_SHARE = 0.05


def equity_verdicts(table: pd.DataFrame, baseline: str) -> list[str]:
    """The one-line verdict of each row of a :func:`summary_table`: value for money (the
    ``verdict``) and what happened to the gap, e.g. "gains the most WELLBYs: better at about
    the same cost, but widens the gap slightly". Baseline rows get "".

    "Gains the most" marks the strategy whose mean discounted WELLBY gain is largest in its
    place and point, where that gain is clearly above zero. The gap is judged by the 95%
    interval of its paired change; "slightly" when the change is under
    :data:`SLIGHT_GAP_SHARE` of the baseline's gap.
    """
    clear = table[(table.scenario != baseline) & (table["wellby_gain_disc_lo"] > 0)]
    top = {(r.place, r.point): r.scenario for r in clear.sort_values(
        "wellby_gain_disc", ascending=False).drop_duplicates(["place", "point"]).itertuples()}
    base_gap = {(r.place, r.point): r.gap_q5_q1 for r in table[table.scenario == baseline]
                .itertuples()}
    out = []
    for r in table.itertuples():
        if r.scenario == baseline or not isinstance(r.verdict, str):
            out.append("")
            continue
        head = r.verdict
        if top.get((r.place, r.point)) == r.scenario:
            head = f"gains the most WELLBYs: {head}"
        lo, hi, change = r.delta_gap_q5_q1_lo, r.delta_gap_q5_q1_hi, r.delta_gap_q5_q1
        if not (lo > 0 or hi < 0):  # NaN bounds (one seed) also land here
            out.append(f"{head}; no clear change in the gap")
            continue
        gap = "widens the gap" if lo > 0 else "narrows the gap"
        reference = abs(base_gap.get((r.place, r.point), math.nan))
        if math.isfinite(reference) and abs(change) < SLIGHT_GAP_SHARE * reference:
            gap += " slightly"
        gains = r.wellby_gain_disc_lo > 0
        loses = r.wellby_gain_disc_hi < 0
        contrary = (gains and lo > 0) or (loses and hi < 0)
        out.append(f"{head}, {'but' if contrary else 'and'} {gap}")
    return out


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
    """A readable text table: each change as 'mean [lo, hi]' rounded as the report rounds it
    (:func:`abm.analysis.tables.estimate`), WELLBYs discounted (the Green Book headline, the
    basis the report leads with), then the one-line verdict: value for money and the gap."""
    health, costs = basis_words(table)
    columns = {
        "delta_mean_wellbeing": "mean wellbeing",
        "delta_gap_q5_q1": "q5-q1 gap",
        "delta_sii": "SII",
        "wellby_gain_disc": f"WELLBYs ({health})",
    }
    out = []
    for _, row in table.iterrows():
        if row["scenario"] == baseline:
            continue
        line = {"place": row["place"], "scenario": row["scenario"], "seeds": row["n_seeds"]}
        if "point" in table and table["point"].nunique() > 1:
            line["point"] = row["point"]
        for name, label in columns.items():
            line[label] = estimate(row.get(name, math.nan), row.get(f"{name}_lo", math.nan),
                                   row.get(f"{name}_hi", math.nan), signed=True)
        line["verdict: value for money and the gap"] = (row.get("verdict_equity")
                                                        or row.get("verdict", "not compared"))
        out.append(line)
    if not out:
        return f"(nothing to compare: no scenario other than '{baseline}')"
    heading = f"Change against '{baseline}' (mean over seeds [95% interval of paired differences])"
    years = ", ".join(f"{y:g}" for y in sorted(set(table["years"]))) if "years" in table else "?"
    notes = ("A negative change in the q5-q1 gap or SII means the gap narrowed. WELLBYs and GBP "
             f"are totals for the whole place over {years} policy years, {health} (money "
             f"{costs}), to the first policy year: the Green Book's headline basis, as in the "
             "report's T1; cost per WELLBY intervals are paired BCa bootstraps over seeds.")
    with pd.option_context("display.max_colwidth", 120, "display.width", 250):
        text = pd.DataFrame(out).to_string(index=False)
    return f"{heading}\n{text}\n{notes}"


# --- the ICS's own views: Core20, the staircase, the parts of the gap ------------------------
# Model v3's output columns are named here once (see docs/ODD.md and abm/analysis/codebook.py):
# a rename is a change to these lists. Each view is built only from the columns present, so
# results of an earlier model version give an empty frame (and the report says so).

#: The inequality staircase, step by step (counts over the policy years, scaled to the place):
#: step -> what it counts.
STAIRCASE_STEPS = {
    "in_need": "person-years lived with need above the referral threshold",
    "referred": "referrals (seen by a link worker)",
    "followed_up": "referrals followed up (3+ link-worker contacts)",
    "started": "referred people who started a group",
    "attending_12w": "of those, still attending 12 weeks after starting",
}
#: What share of which earlier step each step is (``share_<step>``): starting is counted among
#: everyone referred (people can start without follow-up), so its share is of ``referred``.
STAIRCASE_SHARE_OF = {"referred": "in_need", "followed_up": "referred", "started": "referred",
                      "attending_12w": "started"}
#: The staircase's last step: mean benefit of referred starters while attending (points).
STAIRCASE_BENEFIT = "benefit_referred"
#: The parts of the q5-q1 gap (final policy year, life-satisfaction points), which sum to
#: ``gap_q5_q1``; ``gap_part_need`` = untouched + assets.
GAP_PARTS = ("gap_part_baseline", "gap_part_need_untouched", "gap_part_need_assets",
             "gap_part_benefit", "gap_part_green", "gap_part_lag")
#: The parts community assets act on: need as assets changed it, the benefit of attending and
#: of green space. The others (the deprivation gradient built in, need untouched by any asset,
#: wellbeing still adjusting) are out of their reach within the horizon.
GAP_PARTS_ASSETS_TOUCH = ("gap_part_need_assets", "gap_part_benefit", "gap_part_green")

#: Outcomes recorded by quintile, compared for Core20 (q1: IMD deciles 1-2 nationally,
#: NHS England's Core20PLUS5) and the rest (q2-q5): stem -> (label, unit, how, scale).
#: ``how``: "mean" is the population-weighted mean of the quintiles' values; "per_person" a
#: total divided by the people living there; "per_1000_year" a count per 1,000 residents a
#: policy year; "per_head_ratio" a share of something (money, providers) divided by the share
#: of the population (1 = a fair share per head).
CORE20_OUTCOMES: dict[str, tuple[str, str, str, float]] = {
    "wellbeing": ("Life satisfaction, final year", "points, 0-10", "mean", 1.0),
    "p_attending": ("Attending a community asset", "% of residents", "mean", 100.0),
    "p_past_year": ("Took part in the past year", "% of residents", "mean", 100.0),
    "connectedness": ("Tied to someone who attends", "% of residents", "mean", 100.0),
    "wellbeing_years_disc": ("Wellbeing-years per person, discounted",
                             "WELLBYs per person", "per_person", 1.0),
    "wellbeing_years": ("Wellbeing-years per person, undiscounted", "WELLBYs per person",
                        "per_person", 1.0),
    "spend_gbp_disc": ("ICS spend where providers are, discounted", "GBP per person",
                       "per_person", 1.0),
    "nhs_cost_gbp_disc": ("NHS cost of GP and A&E use, discounted", "GBP per person",
                          "per_person", 1.0),
    "gp_consultations": ("GP consultations", "per 1,000 residents a year", "per_1000_year",
                         1.0),
    "ae_attendances": ("A&E attendances", "per 1,000 residents a year", "per_1000_year", 1.0),
    "in_need": ("Living with need above the referral threshold",
                "person-years per 1,000 residents a year", "per_1000_year", 1.0),
    "referred": ("Referred to a link worker", "per 1,000 residents a year", "per_1000_year",
                 1.0),
    "started": ("Referred and started a group", "per 1,000 residents a year",
                "per_1000_year", 1.0),
    "attending_12w": ("Still attending 12 weeks after starting", "per 1,000 residents a year",
                      "per_1000_year", 1.0),
    "share_ics_money": ("ICS grant money per head, final round", "ratio (1 = a fair share)",
                        "per_head_ratio", 1.0),
    "share_providers": ("Providers per head, final round", "ratio (1 = a fair share)",
                        "per_head_ratio", 1.0),
}
CORE20 = "q1"
REST = ("q2", "q3", "q4", "q5")
_KEYS = ["place", "scenario", "point"]


def levels_and_changes(per_run: pd.DataFrame, values: Iterable[str], baseline: str,
                       keys: Sequence[str] = ()) -> pd.DataFrame:
    """Per place, scenario, point (and ``keys``): the mean over seeds of each of ``values``
    with its 95% t-interval, and the paired change against ``baseline`` at the same place,
    point, keys and seed (``delta_<value>``) with its interval; baseline rows have NaN
    changes. ``per_run`` has one row per run (or per run and key) with a ``seed`` column."""
    values = list(values)
    group = [*_KEYS, *keys]
    base = per_run[per_run.scenario == baseline].drop(columns="scenario")
    paired = per_run.merge(base, on=[*[k for k in group if k != "scenario"], "seed"],
                           suffixes=("", "_base"), how="left")
    rows = []
    for label, runs in paired.groupby(group, sort=False):
        row = dict(zip(group, label, strict=True)) | {"n_seeds": len(runs)}
        for name in values:
            row |= _triple(name, interval(runs[name]))
            delta = (runs[name] - runs[f"{name}_base"]) if label[1] != baseline else []
            row |= _triple(f"delta_{name}", interval(delta))
        rows.append(row)
    return pd.DataFrame(rows)


def core20_table(results: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Core20 (the most deprived fifth nationally) against the rest for every outcome the
    results record by quintile (:data:`CORE20_OUTCOMES`): levels with 95% intervals over
    seeds, paired changes against ``baseline``, and the difference between the two changes
    (``delta_core20_minus_rest``: positive when Core20's outcome rose more). One row per
    place, scenario, point and outcome; empty when the results have no quintile
    populations."""
    population = [f"population_{q}" for q in QUINTILES]
    if not set(population) <= set(results.columns):
        return pd.DataFrame()
    frames = []
    for stem, (_, _, how, scale) in CORE20_OUTCOMES.items():
        columns = [f"{stem}_{q}" for q in QUINTILES]
        if not set(columns) <= set(results.columns):
            continue
        core20, rest = _core20_and_rest(results, stem, how, scale)
        per_run = results[[*_KEYS, "seed"]].assign(
            core20=core20, rest=rest, core20_minus_rest=core20 - rest, outcome=stem)
        frames.append(levels_and_changes(per_run, ["core20", "rest", "core20_minus_rest"],
                                         baseline, keys=["outcome"]))
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    rank = {k: i for i, k in enumerate(CORE20_OUTCOMES)}
    order = {k: i for i, k in enumerate(dict.fromkeys(results.scenario))}
    places = {k: i for i, k in enumerate(dict.fromkeys(results.place))}
    return table.sort_values(
        ["place", "point", "outcome", "scenario"], kind="stable",
        key=lambda c: c.map({"place": places, "outcome": rank, "scenario": order}[c.name])
        if c.name in ("place", "outcome", "scenario") else c).reset_index(drop=True)


def _core20_and_rest(results: pd.DataFrame, stem: str, how: str, scale: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per run: the outcome ``stem`` for q1 and for q2-q5 together (see
    :data:`CORE20_OUTCOMES`)."""
    people = np.column_stack([results[f"population_{q}"].to_numpy(float) for q in QUINTILES])
    value = np.column_stack([results[f"{stem}_{q}"].to_numpy(float) for q in QUINTILES])
    years = results["years"].to_numpy(float) if "years" in results else np.ones(len(results))
    rest_people = people[:, 1:].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "mean":
            core20, rest = value[:, 0], (value[:, 1:] * people[:, 1:]).sum(axis=1) / rest_people
        elif how == "per_person":
            core20, rest = value[:, 0] / people[:, 0], value[:, 1:].sum(axis=1) / rest_people
        elif how == "per_1000_year":
            core20 = value[:, 0] / people[:, 0] / years * 1000
            rest = value[:, 1:].sum(axis=1) / rest_people / years * 1000
        else:  # per_head_ratio: share of the thing / share of the people
            total = people.sum(axis=1)
            core20 = value[:, 0] / (people[:, 0] / total)
            rest = value[:, 1:].sum(axis=1) / (rest_people / total)
    return core20 * scale, rest * scale


def staircase_table(results: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """The inequality staircase by quintile: each step of :data:`STAIRCASE_STEPS` per 1,000
    residents a policy year, and the mean benefit of referred starters (points), each with a
    95% interval over seeds and its paired change against ``baseline``; and the share of an
    earlier step reaching each step (``share_<step>``: a ratio of means). One
    row per place, scenario, point and quintile; empty when the results lack the steps.
    Shares are of the step named in :data:`STAIRCASE_SHARE_OF`."""
    needed = [f"{s}_{q}" for s in (*STAIRCASE_STEPS, STAIRCASE_BENEFIT) for q in QUINTILES]
    if not set(needed) <= set(results.columns) or not {
            f"population_{q}" for q in QUINTILES} <= set(results.columns):
        return pd.DataFrame()
    years = results["years"].to_numpy(float) if "years" in results else 1.0
    frames = []
    for q in QUINTILES:
        people = results[f"population_{q}"].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = {step: results[f"{step}_{q}"].to_numpy(float) / people / years * 1000
                     for step in STAIRCASE_STEPS}
        per_run = results[[*_KEYS, "seed"]].assign(
            quintile=q, **rates, **{STAIRCASE_BENEFIT: results[f"{STAIRCASE_BENEFIT}_{q}"]})
        frames.append(levels_and_changes(per_run, [*STAIRCASE_STEPS, STAIRCASE_BENEFIT],
                                         baseline, keys=["quintile"]))
    table = pd.concat(frames, ignore_index=True)
    for step, of in STAIRCASE_SHARE_OF.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            table[f"share_{step}"] = table[step] / table[of]
    order = {k: i for i, k in enumerate(dict.fromkeys(table.scenario))}
    return table.sort_values(["place", "point", "scenario", "quintile"],
                             key=lambda c: c.map(order) if c.name == "scenario" else c,
                             kind="stable").reset_index(drop=True)


def gap_decomposition(results: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """The q5-q1 gap in its parts (:data:`GAP_PARTS`, which sum to ``gap_q5_q1``): each
    part's level (mean over seeds, 95% interval) and its paired change against ``baseline``:
    which part of the gap each strategy moved. One row per place, scenario, point and part
    (and one for the whole gap); empty when the results lack the parts."""
    if not set(GAP_PARTS) <= set(results.columns):
        return pd.DataFrame()
    parts = [*GAP_PARTS, "gap_q5_q1"]
    frames = []
    for part in parts:
        per_run = results[[*_KEYS, "seed"]].assign(part=part, value=results[part])
        frames.append(levels_and_changes(per_run, ["value"], baseline, keys=["part"]))
    table = pd.concat(frames, ignore_index=True)
    order = {k: i for i, k in enumerate(dict.fromkeys(results.scenario))}
    rank = {p: i for i, p in enumerate(parts)}
    return table.sort_values(
        ["place", "point", "scenario", "part"], kind="stable",
        key=lambda c: c.map(order) if c.name == "scenario" else (
            c.map(rank) if c.name == "part" else c)).reset_index(drop=True)


#: Outcomes by IMD quintile (and for the whole place) that a same-money comparison reports
#: beside Core20 (T14): stem -> (label, unit, how, scale). ``how``: "share" is a share of
#: residents (the quintile's ``<stem>_qk``, the place's ``<stem>``); "per_person" a total
#: divided by the people living there; "total" the total for the people living there (GBP
#: over the policy years, scaled to the place).
QUINTILE_OUTCOMES: dict[str, tuple[str, str, str, float]] = {
    "p_attending": ("Attending a community asset, final year", "% of residents", "share",
                    100.0),
    "p_past_year": ("Took part in the past year, final year", "% of residents", "share",
                    100.0),
    "nhs_cost_gbp_disc": ("NHS cost of GP and A&E use, discounted", "GBP per person",
                          "per_person", 1.0),
    "nhs_cost_total": ("NHS cost of GP and A&E use, discounted, all residents", "GBP",
                       "total", 1.0),
}
#: The column a "total" outcome of :data:`QUINTILE_OUTCOMES` is read from.
QUINTILE_TOTALS = {"nhs_cost_total": "nhs_cost_gbp_disc"}
WHOLE_PLACE = "whole place"


def quintile_table(results: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Participation and NHS costs by IMD quintile and for the whole place
    (:data:`QUINTILE_OUTCOMES`): levels (mean over seeds, 95% t-interval) and paired changes
    against ``baseline`` with the same place, point and seed (``delta_<outcome>``; a
    negative change in NHS cost is a saving). One row per place, scenario, point and
    quintile (q1..q5, then "whole place"); outcomes whose columns the runs lack are left
    out, and the table is empty when none is there."""
    stems = {stem: how for stem, (_, _, how, _) in QUINTILE_OUTCOMES.items()
             if _has_by_quintile(results, QUINTILE_TOTALS.get(stem, stem), how)}
    if not stems:
        return pd.DataFrame()
    frames = []
    for q in (*QUINTILES, WHOLE_PLACE):
        suffix, people = (("", "population") if q == WHOLE_PLACE
                          else (f"_{q}", f"population_{q}"))
        values = {}
        for stem, how in stems.items():
            column = results[f"{QUINTILE_TOTALS.get(stem, stem)}{suffix}"].to_numpy(float)
            scale = QUINTILE_OUTCOMES[stem][3]
            with np.errstate(invalid="ignore", divide="ignore"):
                values[stem] = (column / results[people].to_numpy(float)
                                if how == "per_person" else column) * scale
        per_run = results[[*_KEYS, "seed"]].assign(quintile=q, **values)
        frames.append(levels_and_changes(per_run, list(stems), baseline, keys=["quintile"]))
    table = pd.concat(frames, ignore_index=True)
    order = {k: i for i, k in enumerate(dict.fromkeys(results.scenario))}
    places = {k: i for i, k in enumerate(dict.fromkeys(results.place))}
    return table.sort_values(
        ["place", "point", "scenario"], kind="stable",
        key=lambda c: c.map(places) if c.name == "place" else (
            c.map(order) if c.name == "scenario" else c)).reset_index(drop=True)


def _has_by_quintile(results: pd.DataFrame, stem: str, how: str) -> bool:
    """Whether the runs record ``stem`` for each quintile and the place (and, for a per-person
    outcome, the populations it is divided by)."""
    needed = {stem, *(f"{stem}_{q}" for q in QUINTILES)}
    if how == "per_person":
        needed |= {"population", *(f"population_{q}" for q in QUINTILES)}
    return needed <= set(results.columns)
