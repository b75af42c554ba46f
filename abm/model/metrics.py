"""Equity and value metrics: quintile gap, slope and relative index of inequality, WELLBYs.

Deprivation groups are national IMD deciles of the resident's neighbourhood; quintile 1
(``q1``) is deciles 1-2 (most deprived), ``q5`` deciles 9-10 (least deprived). Deprivation
*thirds* (for low life satisfaction, as Bellis et al. 2012 report it) are the place's
residents ranked by individual deprivation and cut into three equal groups, ``third1`` the
most deprived.

- ``gap_q5_q1``: mean life satisfaction in q5 minus q1 (positive: the affluent fare better).
- ``sii``: slope index of inequality, the ONS way: a population-weighted least-squares line
  through each decile's mean, placed at the midpoint of its cumulative population rank from
  most deprived (0) to least deprived (1). It is the modelled difference between the least
  and most deprived ends of the population. ``rii`` = ``sii`` / population mean.
- ``p_low_ls``: share with low life satisfaction, the ONS band 0-4 (below
  :data:`LOW_LIFE_SATISFACTION` on the model's continuous scale).
- ``p_past_year``: share who attended a group at some time in the past 52 weeks (the
  question surveys such as DCMS Taking Part and Munford et al. 2017 ask), beside the
  point-in-time ``p_attending``.
- ``wellbeing_years``: life-satisfaction points x person-years lived in the policy period,
  scaled to the whole place. The difference between two same-seed runs is WELLBYs gained
  (HM Treasury Green Book wellbeing guidance, 2021). ``_disc`` totals are discounted to the
  first policy year at ``discount_rate_health`` (WELLBYs) and ``discount_rate_costs`` (money).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

QUINTILES = ("q1", "q2", "q3", "q4", "q5")
THIRDS = ("third1", "third2", "third3")
#: ONS "low" life satisfaction is 0-4 on the whole-number scale: below 4.5 on a continuous one.
LOW_LIFE_SATISFACTION = 4.5
#: A resident has taken part "in the past year" if they attended within this many weeks.
PAST_YEAR_WEEKS = 52

#: The parts of the q5-q1 gap in life satisfaction, each q5 minus q1 of one term of
#: wellbeing = baseline - penalty x need + benefit + green-space benefit - lag, with need
#: split into what it would be untouched by assets and what assets changed (their sum is
#: ``gap_q5_q1``; see :func:`gap_parts`).
GAP_PARTS = ("gap_part_baseline", "gap_part_need_untouched", "gap_part_need_assets",
             "gap_part_benefit", "gap_part_green", "gap_part_lag")

#: Columns recorded every week by the model's DataCollector.
WEEKLY_METRICS = (
    "week", "year", "mean_wellbeing",
    *(f"wellbeing_{q}" for q in QUINTILES), "gap_q5_q1", "sii", "rii", "sd_wellbeing",
    *(f"p_low_ls_{t}" for t in THIRDS),
    "p_attending", *(f"p_attending_{q}" for q in QUINTILES),
    "p_past_year", *(f"p_past_year_{q}" for q in QUINTILES),
    "p_referred", "p_dropped_out",
    "n_open_providers", "n_places", "share_providers_full", "link_workers", "closures",
    "spend_gbp",
    *GAP_PARTS, "gap_part_need",
    "connectedness", *(f"connectedness_{q}" for q in QUINTILES), "group_ties_per_resident",
    "p_in_need", "cd_workers",
)
#: Weekly columns that are running totals, reported as policy-period totals instead.
RUNNING_TOTALS = ("week", "year", "closures", "spend_gbp")


def by_quintile(per_decile: np.ndarray) -> np.ndarray:
    """Sum decile totals (deciles 1..10 along the last axis) into quintiles q1..q5."""
    return per_decile.reshape(*per_decile.shape[:-1], 5, 2).sum(axis=-1)


def slope_index(means: np.ndarray, counts: np.ndarray) -> tuple[Any, Any]:
    """SII and RII from group means ordered most to least deprived, and group sizes.

    The groups' population shares place each group at the midpoint of its cumulative rank
    (0 = most deprived, 1 = least); the SII is the slope of the population-weighted least
    squares line through the means, the RII the SII over the population mean. Empty groups
    are left out. Returns (nan, nan) when fewer than two groups have people. ``means`` and
    ``counts`` may have a leading replicate axis (then one SII and RII per replicate; every
    replicate has the same groups).
    """
    one = np.ndim(means) == 1
    means, counts = np.atleast_2d(means), np.atleast_2d(counts)
    keep = counts[0] > 0
    if keep.sum() < 2:
        return (math.nan, math.nan) if one else (np.full(len(means), math.nan),) * 2
    # Row by row, in C order: a reduction's order of additions follows the memory layout,
    # and each replicate's sums must be those of a run alone (boolean indexing of columns
    # would give column-major arrays).
    counts = np.ascontiguousarray(counts[:, keep])
    share = counts / counts.sum(axis=1, keepdims=True)
    rank = np.cumsum(share, axis=1) - share / 2
    y = np.ascontiguousarray(means[:, keep])
    mean_rank = (share * rank).sum(axis=1, keepdims=True)
    mean_y = (share * y).sum(axis=1, keepdims=True)
    sii = ((share * (rank - mean_rank) * (y - mean_y)).sum(axis=1)
           / (share * (rank - mean_rank) ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rii = np.where(mean_y[:, 0] != 0, sii / mean_y[:, 0], math.nan)
    return (float(sii[0]), float(rii[0])) if one else (sii, rii)


def weekly_equity(wellbeing_by_decile: np.ndarray, people_by_decile: np.ndarray) -> dict:
    """Mean wellbeing, quintile means, gap, SII and RII from decile sums and head counts,
    one value per replicate (a leading axis of the inputs), or one number each without one."""
    one = np.ndim(wellbeing_by_decile) == 1
    sums, people = np.atleast_2d(wellbeing_by_decile), np.atleast_2d(people_by_decile)
    q_sum, q_people = by_quintile(sums), by_quintile(people)
    with np.errstate(invalid="ignore", divide="ignore"):
        q_mean = q_sum / q_people
        d_mean = sums / people
    sii, rii = slope_index(d_mean, people)
    out = {"mean_wellbeing": sums.sum(axis=1) / people.sum(axis=1)}
    out |= {f"wellbeing_{q}": v for q, v in zip(QUINTILES, q_mean.T, strict=True)}
    out |= {"gap_q5_q1": q_mean[:, 4] - q_mean[:, 0], "sii": sii, "rii": rii}
    return {k: float(v[0]) for k, v in out.items()} if one else out


def gap_parts(sums: dict[str, np.ndarray], people_by_decile: np.ndarray) -> dict[str, Any]:
    """q5 minus q1 of the mean of each term, from the term's sums by decile (per replicate:
    a leading axis)."""
    people_q = by_quintile(np.atleast_2d(people_by_decile))
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, by_decile in sums.items():
            q_mean = by_quintile(np.atleast_2d(by_decile)) / people_q
            out[name] = q_mean[:, 4] - q_mean[:, 0]
    return out


def deprivation_thirds(deprivation: np.ndarray) -> np.ndarray:
    """Third of each resident (0 = most deprived) by rank of individual deprivation."""
    order = np.argsort(-deprivation, kind="stable")
    third = np.empty(len(deprivation), dtype=np.int8)
    third[order] = np.arange(len(deprivation)) * 3 // max(len(deprivation), 1)
    return third


def discount_factors(years: int, rate: float) -> np.ndarray:
    """Factor for each policy year 0..years-1: 1 / (1 + rate)^year (year 0 undiscounted,
    as in the Green Book)."""
    return 1.0 / (1.0 + rate) ** np.arange(years)
