"""Distributional cost-effectiveness analysis (DCEA) by IMD quintile, in the shape NICE asks for.

Following NICE's health-inequalities support document (PMG36, 2025) and the aggregate DCEA
literature (Asaria, Griffin & Cookson, Med Decis Making 2016;36(1):8-19; Cookson et al.,
Value Health 2017;20(2):206-212), for each strategy against the baseline, per IMD quintile:

- **Health benefit**: WELLBYs gained by residents of the quintile (paired by seed), and their
  QALY equivalent at ``wellbys_per_qaly`` WELLBYs per QALY.
- **Health opportunity cost**: the extra spend would otherwise have bought health elsewhere in
  the NHS: ``extra spend / threshold`` QALYs forgone, at each of :data:`THRESHOLDS`. It is
  spread over quintiles equally per person, or on a deprivation gradient
  (:data:`GRADIENTS`): per-person burdens in the ratio of the York calculator's shares, so a
  place with few deprived residents bears less of it there.
- **Net health benefit** (NHB) = benefit - opportunity cost, in WELLBYs and QALYs, and **net
  monetary benefit** (NMB) = NHB in QALYs x threshold (GBP).
- **Inequality**: the distribution of health is wellbeing-years per person over the horizon,
  by quintile, in the baseline run and after adding each quintile's NHB per person. Its
  Atkinson index and equally distributed equivalent (EDE) are reported at inequality aversion
  0, 1, 3.5 and 10.95 (:data:`INEQUALITY_AVERSION`; 10.95 is the English public's median,
  Robson et al., Health Econ 2017;26(10):1328-1334), with the change in EDE x population
  (equity-weighted NHB) and the *equity impact* = equity-weighted NHB - NHB, which equals the
  fall in the Atkinson "health lost to inequality" (mean x index x population): positive
  means inequality fell. The slope index of inequality of the same distribution is given too.
- **Concentration index** of the same distribution (quintiles ranked from most to least
  deprived; positive: health concentrated among the less deprived), before and after, with
  its fall, each with a 95% interval over seeds.
- **Equally distributed equivalent profiles** over a range of inequality aversions, Atkinson
  (relative, :data:`ATKINSON_PROFILE`) and Kolm (absolute, :data:`KOLM_PROFILE`), with the
  English public's values marked (Atkinson 10.95, Kolm 0.15 per QALY; Robson et al. 2017):
  :func:`ede_profile`, as the dceasimR package and NICE's support document present them.
- **Equity impact plane**: NHB (efficiency, x) against the equity impact (y).

Totals cover the policy years (``horizon_years``), undiscounted, and discounted where the
model records discounted totals (``wellbeing_years_disc*``, ``spend_gbp_disc*``).

Caveat: the Atkinson index is a relative measure; life satisfaction has no natural zero as
QALE has, so its values and the aversion elicited for QALE carry over only approximately.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from abm.model.metrics import QUINTILES, slope_index
from abm.model.parameters import BY_NAME


@dataclass(frozen=True)
class Threshold:
    """A cost-effectiveness threshold: GBP per QALY forgone by extra NHS spend."""

    name: str
    gbp_per_qaly: float
    source: str


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("NICE 20k", 20_000.0,
              "NICE health technology evaluations manual (PMG36), lower threshold "
              "GBP 20,000 per QALY"),
    Threshold("NICE 30k", 30_000.0,
              "NICE health technology evaluations manual (PMG36), upper threshold "
              "GBP 30,000 per QALY"),
    Threshold("NHS 12,936", 12_936.0,
              "NHS marginal productivity: GBP 12,936 per QALY (Claxton et al., Health Technol "
              "Assess 2015;19(14), central estimate, 2008/09 expenditure)"),
)
#: The threshold and gradient shown first in reports; the others are sensitivity analyses.
HEADLINE_THRESHOLD = "NICE 20k"
HEADLINE_GRADIENT = "moderate"

#: Shares of health opportunity cost by IMD quintile (q1 most deprived) for England's
#: equal-sized quintiles: the "flat", "moderate" and "steep" scenarios of the York Health
#: Equity Impact Calculator (Love-Koh, Schneider & Cookson 2022, University of York; its
#: data/hoc_distribution.csv), which rest on Love-Koh et al., "Estimating social variation
#: in the health effects of changes in health care expenditure", Med Decis Making
#: 2020;40(2):170-182. "moderate" is the headline; "equal" and "steep" bound it.
GRADIENTS: Mapping[str, tuple[float, ...]] = {
    "equal": (0.20, 0.20, 0.20, 0.20, 0.20),
    "moderate": (0.23, 0.21, 0.21, 0.18, 0.17),
    "steep": (0.26, 0.22, 0.22, 0.16, 0.14),
}
GRADIENT_SOURCE = ("York Health Equity Impact Calculator (Love-Koh, Schneider & Cookson 2022) "
                   "opportunity-cost scenarios, after Love-Koh et al., Med Decis Making "
                   "2020;40(2):170-182")

#: Atkinson inequality aversion: none, 1, 3.5 and the English public's median 10.95
#: (Robson et al., Health Econ 2017;26(10):1328-1334).
INEQUALITY_AVERSION: tuple[float, ...] = (0.0, 1.0, 3.5, 10.95)

#: The English public's inequality aversion (Robson et al., Health Econ 2017;26(10):1328-1334,
#: elicited for quality-adjusted life expectancy): Atkinson 10.95 (relative) and Kolm 0.15
#: per QALY (absolute).
ENGLISH_ATKINSON = 10.95
ENGLISH_KOLM = 0.15
#: Aversions of the EDE profiles: Atkinson epsilon (none to well past the English public's)
#: and Kolm alpha, per QALY (applied to health in QALY equivalents, see :func:`kolm_ede`).
ATKINSON_PROFILE: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 3.5, 5.0, 7.5, 10.95, 15.0, 20.0)
KOLM_PROFILE: tuple[float, ...] = (0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)

#: Used only where the model version declares no ``wellbys_per_qaly`` parameter: the ratio of
#: the Green Book's values of a QALY (GBP 70,000) and of a WELLBY (GBP 13,000), about 5.4.
#: Assumption; plausible range about 5 to 8.
FALLBACK_WELLBYS_PER_QALY = 70_000 / 13_000
BASES = ("undiscounted", "discounted")


def aversion_label(epsilon: float) -> str:
    """Column-name form of an aversion: 0 -> 'e0', 3.5 -> 'e3_5', 10.95 -> 'e10_95'."""
    return "e" + f"{epsilon:g}".replace(".", "_")


# --- inequality measures ----------------------------------------------------------------------
def ede(levels: Sequence[float], weights: Sequence[float], epsilon: float) -> float:
    """Atkinson equally distributed equivalent of ``levels`` held by groups of relative size
    ``weights``: the level which, held by everyone, is as good as the actual distribution.

    ``(sum w h^(1-e))^(1/(1-e))`` with weights summing to one; the geometric mean at e = 1.
    Levels must be positive.
    """
    h, w = _checked(levels, weights)
    if epsilon == 1:
        return float(np.exp(w @ np.log(h)))
    return float((w @ h ** (1 - epsilon)) ** (1 / (1 - epsilon)))


def atkinson(levels: Sequence[float], weights: Sequence[float], epsilon: float) -> float:
    """Atkinson index: 1 - EDE / mean, the share of the mean lost to inequality (0 = equal)."""
    h, w = _checked(levels, weights)
    return 1.0 - ede(h, w, epsilon) / float(w @ h)


def kolm_ede(levels: Sequence[float], weights: Sequence[float], alpha: float) -> float:
    """Kolm equally distributed equivalent of ``levels`` (groups of relative size
    ``weights``) at absolute inequality aversion ``alpha`` (per unit of the levels):
    ``-(1/alpha) ln(sum w exp(-alpha h))``; the mean at alpha = 0. Unlike Atkinson's it does
    not change when everyone gains the same amount, and it accepts zero or negative levels."""
    h, w = np.asarray(levels, dtype=float), np.asarray(weights, dtype=float)
    if h.shape != w.shape or not len(h) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("levels and weights must be of the same length, weights non-negative")
    w = w / w.sum()
    if alpha == 0:
        return float(w @ h)
    low = h.min()  # factored out so that exp() cannot overflow
    return float(low - np.log(w @ np.exp(-alpha * (h - low))) / alpha)


def concentration_index(levels: Sequence[float], weights: Sequence[float]) -> float:
    """Concentration index of ``levels`` held by groups of relative size ``weights``, ranked
    from the most to the least deprived (the order given): ``2 / mean x sum w h R - 1``, with
    ``R`` each group's fractional rank (the middle of its share of the population). 0 is
    equality; positive means the level is concentrated among the less deprived (a pro-rich
    gradient in health), negative among the more deprived. Range -1 to 1 for positive levels.
    """
    h, w = _checked(levels, weights)
    rank = np.cumsum(w) - w / 2
    return float(2 / (w @ h) * (w @ (h * rank)) - 1)


def equity_weights(levels: Sequence[float], weights: Sequence[float],
                   epsilon: float) -> np.ndarray:
    """The social value of one unit of health to each group, relative to the population
    average (population-weighted mean 1): proportional to ``level^-epsilon``."""
    h, w = _checked(levels, weights)
    raw = h ** -epsilon
    return raw / (w @ raw)


def _checked(levels: Sequence[float], weights: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    h, w = np.asarray(levels, dtype=float), np.asarray(weights, dtype=float)
    if h.shape != w.shape or not len(h):
        raise ValueError("levels and weights must be non-empty and of the same length")
    if (h <= 0).any():
        raise ValueError("Atkinson measures need positive levels")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    return h, w / w.sum()


# --- opportunity cost and net benefit ---------------------------------------------------------
def opportunity_cost_shares(population: Sequence[float], gradient: Sequence[float]
                            ) -> np.ndarray:
    """Each quintile's share of a health opportunity cost in a place with these quintile
    populations.

    ``gradient`` gives shares for equal-sized quintiles (as in England as a whole); they are
    read as per-person burdens relative to the average (share x 5) and re-weighted by the
    place's populations, so a quintile with no residents bears none.
    """
    n, g = np.asarray(population, dtype=float), np.asarray(gradient, dtype=float)
    burden = n * g * len(g)
    return burden / burden.sum()


def net_health_benefit(benefit_wellbys: Sequence[float], extra_spend_gbp: float,
                       gbp_per_qaly: float, wellbys_per_qaly: float,
                       population: Sequence[float], gradient: Sequence[float]) -> pd.DataFrame:
    """Per quintile: health benefit, health opportunity cost, net health benefit (WELLBYs and
    QALYs) and net monetary benefit (GBP) of a strategy against its baseline.

    ``benefit_wellbys``: WELLBYs gained in each quintile; ``extra_spend_gbp``: total extra
    spend; the opportunity cost is ``extra / gbp_per_qaly`` QALYs, spread by
    :func:`opportunity_cost_shares`.
    """
    columns = _net_health_benefit(np.asarray(benefit_wellbys, dtype=float), extra_spend_gbp,
                                  gbp_per_qaly, wellbys_per_qaly,
                                  np.asarray(population, dtype=float), gradient)
    return pd.DataFrame({"quintile": list(QUINTILES[:len(benefit_wellbys)]),
                         "population": np.asarray(population, dtype=float), **columns})


def _net_health_benefit(benefit: np.ndarray, extra: float, gbp_per_qaly: float,
                        wellbys_per_qaly: float, population: np.ndarray,
                        gradient: Sequence[float]) -> dict[str, np.ndarray]:
    cost_qalys = extra / gbp_per_qaly * opportunity_cost_shares(population, gradient)
    benefit_qalys = benefit / wellbys_per_qaly
    net_qalys = benefit_qalys - cost_qalys
    return {
        "health_benefit_wellbys": benefit,
        "health_benefit_qalys": benefit_qalys,
        "opportunity_cost_qalys": cost_qalys,
        "opportunity_cost_wellbys": cost_qalys * wellbys_per_qaly,
        "net_health_benefit_qalys": net_qalys,
        "net_health_benefit_wellbys": net_qalys * wellbys_per_qaly,
        "net_monetary_benefit_gbp": net_qalys * gbp_per_qaly,
    }


def inequality_change(baseline_levels: Sequence[float], net_benefit_per_person: Sequence[float],
                      population: Sequence[float]) -> dict[str, float]:
    """How a strategy's net health benefit changes inequality in the level distribution.

    ``baseline_levels``: health per person by quintile (most deprived first);
    ``net_benefit_per_person``: NHB per person in the same unit. Returns the SII before and
    after (and its reduction), the concentration index before and after (and its fall), and
    for each aversion the EDE and Atkinson index before and
    after,
    the change in EDE x population (equity-weighted NHB) and the equity impact
    (equity-weighted NHB - NHB: positive when inequality falls).
    """
    base = np.asarray(baseline_levels, dtype=float)
    post = base + np.asarray(net_benefit_per_person, dtype=float)
    n = np.asarray(population, dtype=float)
    total_nhb = float(n @ (post - base))
    sii_base, sii_post = slope_index(base, n)[0], slope_index(post, n)[0]
    ci_base, ci_post = concentration_index(base, n), concentration_index(post, n)
    out = {"sii_base": sii_base, "sii_post": sii_post, "sii_reduction": sii_base - sii_post,
           "ci_base": ci_base, "ci_post": ci_post, "ci_reduction": ci_base - ci_post}
    for epsilon in INEQUALITY_AVERSION:
        label = aversion_label(epsilon)
        ede_base, ede_post = ede(base, n, epsilon), ede(post, n, epsilon)
        weighted = (ede_post - ede_base) * n.sum()
        out |= {
            f"ede_base_{label}": ede_base,
            f"ede_post_{label}": ede_post,
            f"atkinson_base_{label}": atkinson(base, n, epsilon),
            f"atkinson_post_{label}": atkinson(post, n, epsilon),
            f"equity_weighted_nhb_{label}": weighted,
            f"equity_impact_{label}": weighted - total_nhb,
        }
    return out


# --- reading a sweep --------------------------------------------------------------------------
def parameter(row: Mapping, name: str, fallback: float | None = None) -> float:
    """A parameter's value for a run: from its summary row (every parameter is a column
    there), else the declared default, else ``fallback``."""
    value = row.get(name) if hasattr(row, "get") else None
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        return float(value)
    if name in BY_NAME:
        return float(BY_NAME[name].default)
    if fallback is None:
        raise KeyError(f"parameter '{name}' is neither in the results nor declared")
    return float(fallback)


def quintile_populations(row: Mapping) -> np.ndarray:
    """People living in each quintile of the place.

    From ``population_q1..q5`` where the model records them; otherwise estimated as the
    place's population split in proportion to person-years lived in each quintile
    (wellbeing-years / mean wellbeing), which is exact up to wellbeing's drift over the years.
    """
    if all(f"population_{q}" in row for q in QUINTILES):
        return np.array([float(row[f"population_{q}"]) for q in QUINTILES])
    years = np.array([float(row[f"wellbeing_years_{q}"]) for q in QUINTILES])
    mean = np.array([float(row[f"wellbeing_{q}"]) for q in QUINTILES])
    ok = np.isfinite(mean) & (mean > 0)
    person_years = np.where(ok, years / np.where(ok, mean, 1.0), 0.0)
    return float(row["population"]) * person_years / person_years.sum()


def has_discounted(results: pd.DataFrame) -> bool:
    """Whether the results record discounted totals (model v2 and later)."""
    needed = ["wellbeing_years_disc", "spend_gbp_disc",
              *(f"wellbeing_years_disc_{q}" for q in QUINTILES)]
    return all(c in results.columns for c in needed)


def dcea(results: pd.DataFrame, baseline: str = "baseline",
         thresholds: Sequence[Threshold] = THRESHOLDS,
         gradients: Mapping[str, Sequence[float]] = GRADIENTS
         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DCEA of every scenario against ``baseline`` in a sweep's results (one row per run).

    Returns ``(summary, by_quintile)``: one row per place x scenario x point x basis x
    threshold x gradient with totals (mean over seeds, with 95% t-intervals of the paired
    values), and the same per quintile. Bases: undiscounted, and discounted where recorded.
    """
    bases = BASES if has_discounted(results) else BASES[:1]
    per_seed, per_seed_q = [], []
    for (place, point), runs in results.groupby(["place", "point"], sort=False):
        base_runs = runs[runs.scenario == baseline].set_index("seed")
        for scenario, group in runs[runs.scenario != baseline].groupby("scenario", sort=False):
            for _, run in group.iterrows():
                if run["seed"] not in base_runs.index:
                    continue
                base = base_runs.loc[run["seed"]]
                for basis in bases:
                    rows = _one_pair(run, base, basis, thresholds, gradients)
                    label = {"place": place, "scenario": scenario, "point": point,
                             "seed": run["seed"], "basis": basis}
                    per_seed += [label | r for r in rows[0]]
                    per_seed_q += [label | r for r in rows[1]]
    if not per_seed:
        return pd.DataFrame(), pd.DataFrame()
    keys = ["place", "scenario", "point", "basis", "threshold", "gradient"]
    return _mean_over_seeds(pd.DataFrame(per_seed), keys), _mean_over_seeds(
        pd.DataFrame(per_seed_q), [*keys, "quintile"])


def _one_pair(run: pd.Series, base: pd.Series, basis: str, thresholds: Sequence[Threshold],
              gradients: Mapping[str, Sequence[float]]) -> tuple[list[dict], list[dict]]:
    """DCEA rows (totals, by quintile) of one run against its same-seed baseline run."""
    disc = "_disc" if basis == "discounted" else ""
    wellbys_per_qaly = parameter(run, "wellbys_per_qaly", FALLBACK_WELLBYS_PER_QALY)
    population = quintile_populations(base)
    base_years = np.array([base[f"wellbeing_years{disc}_{q}"] for q in QUINTILES])
    gain = np.array([run[f"wellbeing_years{disc}_{q}"] for q in QUINTILES]) - base_years
    extra = float(run[f"spend_gbp{disc}"] - base[f"spend_gbp{disc}"])
    with np.errstate(invalid="ignore", divide="ignore"):
        levels = np.where(population > 0, base_years / population, 0.0)
    occupied = population > 0
    totals, by_quintile = [], []
    for threshold in thresholds:
        for gradient_name, gradient in gradients.items():
            columns = _net_health_benefit(gain, extra, threshold.gbp_per_qaly, wellbys_per_qaly,
                                          population, gradient)
            nhb = columns["net_health_benefit_wellbys"]
            per_person = np.where(occupied, nhb / np.where(occupied, population, 1), 0.0)
            label = {"threshold": threshold.name, "gradient": gradient_name}
            totals.append(label | {
                "horizon_years": float(run["years"]),
                "gbp_per_qaly": threshold.gbp_per_qaly,
                "wellbys_per_qaly": wellbys_per_qaly,
                "extra_spend_gbp": extra,
                **{name: float(values.sum()) for name, values in columns.items()},
                **inequality_change(levels[occupied], per_person[occupied],
                                    population[occupied]),
            })
            columns |= {"baseline_wellbeing_years_per_person": levels,
                        "post_wellbeing_years_per_person": levels + per_person}
            by_quintile += [label | {"quintile": q, "population": float(population[i])}
                            | {name: float(values[i]) for name, values in columns.items()}
                            for i, q in enumerate(QUINTILES)]
    return totals, by_quintile


def ede_profile(results: pd.DataFrame, baseline: str = "baseline",
                threshold: str = HEADLINE_THRESHOLD, gradient: str = HEADLINE_GRADIENT
                ) -> pd.DataFrame:
    """Equally distributed equivalent health per person, before and after each strategy's net
    health benefit, over a range of inequality aversions: Atkinson (:data:`ATKINSON_PROFILE`,
    on wellbeing-years per person) and Kolm (:data:`KOLM_PROFILE`, per QALY: on the same
    levels in QALY equivalents, at ``wellbys_per_qaly``, and shown back in WELLBYs), at one
    threshold and opportunity-cost spread (the headline ones by default).

    One row per place, scenario, point, basis, measure and aversion (``english_public``
    marks 10.95 and 0.15), with 95% intervals over seeds of ``ede_base``, ``ede_post``,
    ``equity_weighted_nhb`` (change in EDE x population, WELLBYs) and ``equity_impact`` (that
    minus the net health benefit: positive when inequality falls).
    """
    chosen = next(t for t in THRESHOLDS if t.name == threshold)
    bases = BASES if has_discounted(results) else BASES[:1]
    rows = []
    for (place, point), runs in results.groupby(["place", "point"], sort=False):
        base_runs = runs[runs.scenario == baseline].set_index("seed")
        for _, run in runs[runs.scenario != baseline].iterrows():
            if run["seed"] not in base_runs.index:
                continue
            base = base_runs.loc[run["seed"]]
            for basis in bases:
                levels, per_person, population, wpq = _pair_levels(
                    run, base, basis, chosen.gbp_per_qaly, GRADIENTS[gradient])
                nhb = float(population @ per_person)
                label = {"place": place, "scenario": run["scenario"], "point": point,
                         "seed": run["seed"], "basis": basis}
                for measure, aversions in (("atkinson", ATKINSON_PROFILE),
                                           ("kolm", KOLM_PROFILE)):
                    for aversion in aversions:
                        if measure == "atkinson":
                            before = ede(levels, population, aversion)
                            after = ede(levels + per_person, population, aversion)
                        else:  # per QALY: on QALY equivalents, shown back in WELLBYs
                            before = wpq * kolm_ede(levels / wpq, population, aversion)
                            after = wpq * kolm_ede((levels + per_person) / wpq, population,
                                                   aversion)
                        weighted = (after - before) * float(population.sum())
                        english = ENGLISH_ATKINSON if measure == "atkinson" else ENGLISH_KOLM
                        rows.append(label | {
                            "measure": measure, "aversion": aversion,
                            "english_public": aversion == english, "ede_base": before,
                            "ede_post": after, "equity_weighted_nhb": weighted,
                            "equity_impact": weighted - nhb})
    if not rows:
        return pd.DataFrame()
    keys = ["place", "scenario", "point", "basis", "measure", "aversion", "english_public"]
    return _mean_over_seeds(pd.DataFrame(rows), keys)


def _pair_levels(run: pd.Series, base: pd.Series, basis: str, gbp_per_qaly: float,
                 gradient: Sequence[float]) -> tuple[np.ndarray, ...]:
    """For one run and its same-seed baseline, over the occupied quintiles: wellbeing-years
    per person in the baseline, the net health benefit per person (WELLBYs), the
    populations, and the WELLBYs per QALY used."""
    disc = "_disc" if basis == "discounted" else ""
    wpq = parameter(run, "wellbys_per_qaly", FALLBACK_WELLBYS_PER_QALY)
    population = quintile_populations(base)
    base_years = np.array([base[f"wellbeing_years{disc}_{q}"] for q in QUINTILES])
    gain = np.array([run[f"wellbeing_years{disc}_{q}"] for q in QUINTILES]) - base_years
    extra = float(run[f"spend_gbp{disc}"] - base[f"spend_gbp{disc}"])
    nhb = _net_health_benefit(gain, extra, gbp_per_qaly, wpq, population,
                              gradient)["net_health_benefit_wellbys"]
    occupied = population > 0
    people = population[occupied]
    return base_years[occupied] / people, nhb[occupied] / people, people, wpq


#: Columns summarised with a 95% interval (the others: mean over seeds only).
WITH_INTERVALS = ("health_benefit_wellbys", "net_health_benefit_wellbys",
                  "net_health_benefit_qalys", "net_monetary_benefit_gbp",
                  "equity_impact_e10_95", "sii_reduction", "ci_base", "ci_post",
                  "ci_reduction", "ede_base", "ede_post", "equity_weighted_nhb",
                  "equity_impact")


def _mean_over_seeds(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean over seeds per group; for :data:`WITH_INTERVALS` also the 95% t-interval (as
    :func:`abm.analysis.compare.interval`: NaN bounds with fewer than two seeds)."""
    values = [c for c in frame.columns if c not in [*keys, "seed"]]
    grouped = frame.groupby(keys, sort=False)
    out = grouped[values].mean().reset_index()
    out.insert(len(keys), "n_seeds", grouped.size().to_numpy())
    counts = grouped[values].count()
    spread = grouped[values].std(ddof=1)
    for column in WITH_INTERVALS:
        if column not in values:
            continue
        n = counts[column].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = stats.t.ppf(0.975, n - 1) * spread[column].to_numpy() / np.sqrt(n)
        at = out.columns.get_loc(column) + 1
        out.insert(at, f"{column}_lo", out[column].to_numpy() - half)
        out.insert(at + 1, f"{column}_hi", out[column].to_numpy() + half)
    return out
