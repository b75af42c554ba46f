"""What the targets could tell about each parameter, however well the model were emulated.

A posterior can be no narrower than the targets' precision allows. Before asking whether a
calibration pinned a parameter (``parameters.csv``, ``abm recovery``), ask whether any
calibration could: that separates "more runs would help" from "better data is needed".

The bound here reads the history-matching design (parameter values and the model's target
outputs at each point, ``history_matching.parquet``) and fits each output as a straight
line in the parameters over the plausible box (least squares; ``r2`` says how straight the
output is). Suppose the outputs were exactly those lines and each target had only its own SD
(sampling and discrepancy; no emulator error, no run-to-run noise, as many runs as wanted),
and take the uniform prior as a normal one of the same variance (range^2 / 12). The
posterior is then normal with precision  prior + J' S^-1 J  (J: each output's slope per
parameter, over the parameter's range; S: the targets' variances): the linear-Gaussian, or
Fisher-information, bound. Its SD over the prior's, per parameter, is ``best_width_ratio``:
how far a perfect calibration with these targets would narrow the parameter's 90% interval.
At or above the project's pinning line (0.5, as ``parameters.csv``'s ``identifiable``) no
design pins it; only more precise or new targets can. For each parameter the table names the
target that could pin it with the least tightening, and the SD that target would need (the
others as they are): which data would decide it. For a parameter pinned already, it names the
target it leans on most (the one whose loss would widen it most) and the SD up to which that
target keeps it pinned: which data it rests on.

It is an approximation: a strongly curved output (low ``r2``) can pin a parameter in one
part of the box better than its average slope says, and worse in another. So the table also
gives the bound at one point (``best_width_ratio_local``): the same formula with each output's
slope taken from the last wave's emulator there (central differences of its mean, a step of
:data:`LOCAL_STEP` of each range), at the posterior median, or at the truth in a parameter
recovery (``local_at`` says which). It never needs a model run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.posterior import observed

#: Width ratio below which a parameter counts as pinned (as ``parameter_table``'s default).
PINNED_BELOW = 0.5
#: The smallest fraction of a target's SD searched for when asking what would pin a parameter.
SMALLEST_FRACTION = 1e-6
#: The half-step, as a share of each parameter's range, of the local slopes' central differences.
LOCAL_STEP = 0.05


def slopes(design: pd.DataFrame, names, bounds, keys) -> tuple[np.ndarray, np.ndarray]:
    """Each output's least-squares slope per parameter (the change over the parameter's whole
    plausible range, in the output's units) and R^2 of the straight line: (outputs x
    parameters, outputs)."""
    low = np.array([b[0] for b in bounds], dtype=float)
    high = np.array([b[1] for b in bounds], dtype=float)
    unit = (design[list(names)].to_numpy(dtype=float) - low) / (high - low)
    a = np.column_stack([np.ones(len(unit)), unit])
    y = design[list(keys)].to_numpy(dtype=float)
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    residual = y - a @ coef
    spread = y.var(axis=0)
    r2 = np.where(spread > 0, 1 - residual.var(axis=0) / np.where(spread > 0, spread, 1), 0.0)
    return coef[1:].T, r2


def local_slopes(emulator, unit_point: np.ndarray) -> np.ndarray:
    """Each output's slope per parameter at ``unit_point`` (the change over the parameter's
    whole range, as :func:`slopes`), from central differences of the emulator's mean with a
    half-step of :data:`LOCAL_STEP` (cut at the box's edge where the point is within a step of it):
    (outputs x parameters)."""
    point = np.asarray(unit_point, dtype=float).ravel()
    dim = len(point)
    up = np.repeat(point[None, :], dim, axis=0)
    down = up.copy()
    steps = np.arange(dim)
    up[steps, steps] = np.minimum(point + LOCAL_STEP, 1.0)
    down[steps, steps] = np.maximum(point - LOCAL_STEP, 0.0)
    mean, _ = emulator.predict(np.vstack([up, down]))
    return ((mean[:dim] - mean[dim:]) / (up[steps, steps] - down[steps, steps])[:, None]).T


def best_width_ratios(j: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Per parameter, the posterior SD over the prior SD that the linear-Gaussian bound gives
    for outputs with slopes ``j`` (outputs x parameters, per unit range) and target SDs
    ``sd``. A uniform prior over the unit range has variance 1/12. The posterior covariance
    is taken in its prior-minus-update form, P - P J' (J P J' + S)^-1 J P, which stays well
    conditioned as a target's SD goes to 0."""
    prior = np.eye(j.shape[1]) / 12
    gain = np.linalg.solve(j @ prior @ j.T + np.diag(sd**2), j @ prior)
    variance = np.diag(prior - prior @ j.T @ gain)
    return np.sqrt(12 * np.clip(variance, 0.0, None))


def sd_to_pin(j: np.ndarray, sd: np.ndarray, parameter: int, target: int) -> float:
    """The SD of ``target`` at which ``parameter``'s bound crosses :data:`PINNED_BELOW`, the
    other targets as they are: for a parameter not pinned now, the SD the target would need
    (NaN if no SD down to :data:`SMALLEST_FRACTION` of today's would do: the parameter is
    confounded with others this target cannot tell apart, or the target does not depend on
    it); for one pinned now, the SD up to which it stays pinned (inf if it stays pinned
    even with the target left out)."""
    def ratio(fraction: float) -> float:
        scaled = sd.copy()
        scaled[target] *= fraction
        return best_width_ratios(j, scaled)[parameter]

    pinned_now = ratio(1.0) < PINNED_BELOW
    if pinned_now and ratio(1 / SMALLEST_FRACTION) < PINNED_BELOW:
        return float("inf")
    if not pinned_now and ratio(SMALLEST_FRACTION) >= PINNED_BELOW:
        return float("nan")
    widest = -np.log(SMALLEST_FRACTION)
    low, high = (0.0, widest) if pinned_now else (-widest, 0.0)  # log fractions: pinned at low
    for _ in range(60):
        middle = (low + high) / 2
        if ratio(np.exp(middle)) < PINNED_BELOW:
            low = middle
        else:
            high = middle
    return float(sd[target] * np.exp(low))


def width_without(j: np.ndarray, sd: np.ndarray, parameter: int, target: int) -> float:
    """``parameter``'s bound with ``target`` left out (its SD made a million times larger)."""
    scaled = sd.copy()
    scaled[target] /= SMALLEST_FRACTION
    return best_width_ratios(j, scaled)[parameter]


def identifiability_table(spec, design: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per calibrated parameter of ``spec``: the bound's best width ratio, whether these
    targets could pin it at all, and the target that could with the least tightening (its
    SD now, the SD it would need, and the factor between them) or, for a parameter pinned
    already, the target it leans on most (its SD now, the SD up to which it keeps the
    parameter pinned, and their ratio, below 1); from the history-matching
    ``design`` (one row per point, the parameters' values and one column per target and
    place, as ``history_matching.parquet``), whose target columns are ``keys``, in the order
    of :func:`~calibration.posterior.observed` (``Simulator.keys``)."""
    names, bounds = spec.space.names, spec.space.bounds
    _, sd = observed(spec)
    j, r2 = slopes(design, names, bounds, keys)
    best = best_width_ratios(j, sd)
    rows = []
    for k, name in enumerate(names):
        row = {"parameter": name, "best_width_ratio": float(best[k]),
               "could_be_pinned": bool(best[k] < PINNED_BELOW)}
        if row["could_be_pinned"]:  # the target it leans on most: the one it can least lose
            t = int(np.argmax([width_without(j, sd, k, t) for t in range(len(keys))]))
            needed = sd_to_pin(j, sd, k, t)
        else:  # the target that could pin it with the least tightening, if any
            each = np.array([sd_to_pin(j, sd, k, t) for t in range(len(keys))])
            tightening = sd / each
            t = int(np.nanargmin(tightening)) if np.isfinite(tightening).any() else None
            needed = each[t] if t is not None else np.nan
        if t is not None:
            row |= {"deciding_target": keys[t], "target_sd": float(sd[t]),
                    "sd_to_pin": float(needed), "tighten_by": float(sd[t] / needed),
                    "deciding_target_r2": float(r2[t])}
        else:
            row |= {"deciding_target": "", "target_sd": np.nan, "sd_to_pin": np.nan,
                    "tighten_by": np.nan, "deciding_target_r2": np.nan}
        rows.append(row)
    return pd.DataFrame(rows)


def with_local_bound(table: pd.DataFrame, spec, emulator, point: dict, at: str) -> pd.DataFrame:
    """``table`` with each parameter's bound at ``point`` (values of the calibrated
    parameters) from ``emulator``'s slopes there, and ``local_at`` naming the point (``at``:
    "the posterior median", "the truth")."""
    names = spec.space.names
    unit = spec.space.to_unit(np.array([[point[n] for n in names]], dtype=float))[0]
    _, sd = observed(spec)
    local = best_width_ratios(local_slopes(emulator, unit), sd)
    return table.assign(best_width_ratio_local=table["parameter"].map(dict(zip(names, local,
                                                                                strict=True))),
                        local_at=at)


def describe(table: pd.DataFrame) -> list[str]:
    """The table in words, a line per parameter (printed by ``abm calibrate``)."""
    lines = ["what these targets could tell, however many runs (linear-Gaussian bound; "
             f"pinned: 90% width below {PINNED_BELOW} of the prior's):"]
    for row in table.itertuples():
        verdict = ("could be pinned" if row.could_be_pinned
                   else "cannot be pinned by these targets")
        text = f"  {row.parameter}: best width {row.best_width_ratio:.2f}, {verdict}"
        if row.deciding_target and row.could_be_pinned:
            text += (f"; mostly by {row.deciding_target}, while its SD stays below "
                     f"{row.sd_to_pin:.3g} (now {row.target_sd:.3g})")
        elif row.deciding_target:
            text += (f"; {row.deciding_target} would pin it at SD {row.sd_to_pin:.3g} "
                     f"(now {row.target_sd:.3g}, {row.tighten_by:.1f}x tighter)")
        elif not row.deciding_target:
            text += "; no single target would, at any precision"
        if "best_width_ratio_local" in table:
            text += f"; at {row.local_at}, {row.best_width_ratio_local:.2f}"
        lines.append(text)
    return lines
