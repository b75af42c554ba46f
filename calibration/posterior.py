"""The posterior's figures: resampled draws, weighted quantiles, the effective sample size,
and per parameter its prior and posterior intervals and how far the data moved it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def observed(spec) -> tuple[np.ndarray, np.ndarray]:
    """The fitted targets' values and SDs, one per target and place (the ABC keys' order)."""
    z = np.array([t.value for t in spec.targets for _ in spec.places])
    sd = np.array([t.sd for t in spec.targets for _ in spec.places])
    return z, sd


def posterior_draws(particles: pd.DataFrame, names, draws: int, seed: int) -> pd.DataFrame:
    """``draws`` points resampled from the weighted particles (seeded)."""
    rng = np.random.default_rng(seed)
    weights = particles["weight"].to_numpy() / particles["weight"].sum()
    picked = rng.choice(len(particles), draws, p=weights)
    return particles.iloc[picked][list(names)].reset_index(drop=True)


def parameter_table(spec, particles: pd.DataFrame,
                    identifiable_below: float = 0.5, truth: dict | None = None) -> pd.DataFrame:
    """Per calibrated parameter: the prior (uniform over the plausible range: its median and
    90% interval), the posterior median and 90% interval, and how far the data moved it:
    ``width_ratio`` (posterior 90% width / prior 90% width; 1: the targets say nothing),
    ``shift`` (posterior median - prior median, in prior 90% widths) and ``identifiable``
    (the width ratio below ``identifiable_below``). With ``truth`` (parameter recovery), also
    the true value and ``fraction_moved``: (posterior median - prior median) / (truth - prior
    median), 1 when the median lands on the truth, 0 when the data did not move it."""
    weights = particles["weight"].to_numpy() / particles["weight"].sum()
    rows = []
    for name, (low, high) in zip(spec.space.names, spec.space.bounds, strict=True):
        lo, mid, hi = weighted_quantiles(particles[name].to_numpy(), weights, [0.05, 0.5, 0.95])
        prior_lo, prior_mid, prior_hi = (low + q * (high - low) for q in (0.05, 0.5, 0.95))
        ratio = (hi - lo) / (prior_hi - prior_lo)
        row = {"parameter": name, "plausible_low": low, "plausible_high": high,
               "prior_lo_90": prior_lo, "prior_median": prior_mid, "prior_hi_90": prior_hi,
               "median": mid, "lo_90": lo, "hi_90": hi, "width_ratio": ratio,
               "shift": (mid - prior_mid) / (prior_hi - prior_lo),
               "interval_share_of_range": (hi - lo) / (high - low),
               "identifiable": bool(ratio < identifiable_below)}
        if truth is not None and name in truth:
            gap = truth[name] - prior_mid
            row |= {"truth": float(truth[name]),
                    "fraction_moved": (mid - prior_mid) / gap if gap else math.nan,
                    "truth_in_90": bool(lo <= truth[name] <= hi)}
        rows.append(row)
    return pd.DataFrame(rows)


def effective_sample_size(weights: pd.Series) -> float:
    """Kish's effective sample size of weighted particles, 1 / sum(w^2) for normalised w: the
    number of equally weighted draws they are worth. Far below the population means a few
    particles carry the posterior and its intervals are not to be trusted."""
    w = weights.to_numpy() / weights.sum()
    return float(1.0 / np.sum(w**2))


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> list[float]:
    """Quantiles ``qs`` of weighted values (midpoint rule on the cumulative weights)."""
    order = np.argsort(values, kind="stable")
    w = weights[order] / weights.sum()
    cumulative = np.cumsum(w) - w / 2
    return [float(np.interp(q, cumulative, values[order])) for q in qs]
