"""The checks that come with every calibration, written beside the posterior.

1. **Posterior predictive check on the real model** (:func:`predictive_check`,
   ``fit_report.csv``): every target, fitted and held out, in every place, against the model
   run at each posterior draw with ``checks.ppc_seeds`` seeds (draws x seeds runs); per
   target the median and 90% interval of the runs, the share of runs within 2 target SDs of
   the target, and the target's quantile among the runs (near 0 or 1: the model misses it).
   Beside them, the model at the declaration's defaults (uncalibrated).
2. **The emulator's leave-out validation** (:meth:`calibration.emulator.Emulator.validate`,
   ``emulator_validation.csv``): standardised errors of design points predicted without
   them; about 95% should lie within 2 SD and 90% inside the 90% interval.
3. **Coverage over synthetic truths** (:func:`coverage`, ``coverage.csv``), the light version
   of simulation-based calibration (Talts et al. 2018): ``checks.coverage_truths`` parameter
   vectors drawn from the posterior are each run on the real model (one seed per place);
   each run's outputs are taken as targets and a posterior is computed for them by rejection
   ABC on the last wave's emulator over the plausible box (:data:`COVERAGE_CANDIDATES`
   proposals, the closest :data:`COVERAGE_ACCEPTED` kept: the same distance and emulator as
   the calibration), or with ``abc.kernel: gaussian`` by the calibration's own procedure
   (the likelihood on the emulator, :mod:`calibration.likelihood`). Over truths and
   parameters, about 90% of the truths should fall inside their 90% intervals; far fewer
   says the calibration's intervals are too narrow. With a handful of truths this is a
   coarse check (4 truths x 14 parameters are 56 indicators, and those of one truth are not
   independent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.evaluate import RunStore, evaluate
from calibration.outputs import output_value
from calibration.posterior import observed, posterior_draws, weighted_quantiles
from calibration.problem import point_seed

#: Proposals and accepted particles of each synthetic truth's rejection ABC on the emulator.
COVERAGE_CANDIDATES = 20_000
COVERAGE_ACCEPTED = 500
#: Most seeds the "uncalibrated" comparison runs at the declaration's defaults.
UNCALIBRATED_SEEDS = 10


def _seed(master: int, draw: int, k: int) -> int:
    """The seed of posterior draw ``draw``'s k-th predictive run (k = 0 is the fit report's
    seed of earlier versions, so their runs are found again)."""
    return point_seed(master, "report", draw) if k == 0 else point_seed(master, "report",
                                                                         draw, k)


def predictive_check(spec, sim, draws: pd.DataFrame, store: RunStore, executor
                     ) -> pd.DataFrame:
    """The posterior predictive check (see the module docstring), one row per target and
    place."""
    space, seeds = spec.space, spec.checks["ppc_seeds"]
    post_specs = [s for i, (_, x) in enumerate(draws.iterrows()) for k in range(seeds)
                  for s in sim.specs(space.values(x.to_numpy()), _seed(spec.master_seed, i, k),
                                     index=i)]
    prior_specs = [s for k in range(min(len(draws), UNCALIBRATED_SEEDS))
                   for s in sim.specs({}, _seed(spec.master_seed, k, 0), index=k)]
    posterior = evaluate(post_specs, store, executor, desc="posterior predictive")
    uncalibrated = evaluate(prior_specs, store, executor, desc="uncalibrated")
    rows = []
    for target in (*spec.targets, *spec.held_out):
        for place in spec.places:
            row = {"target": target.name, "place": place, "fitted": target in spec.targets,
                   "value": target.value, "sd": target.sd, "source": target.source}
            for label, frame in (("calibrated", posterior), ("uncalibrated", uncalibrated)):
                values = np.array([output_value(r, target.output) for r in
                                   frame[frame.place == place].to_dict("records")])
                values = values[np.isfinite(values)]
                row[label] = float(np.median(values)) if len(values) else np.nan
                row[f"{label}_lo"], row[f"{label}_hi"] = (
                    np.quantile(values, [0.05, 0.95]) if len(values) else (np.nan, np.nan))
                if label == "calibrated":
                    z_runs = (values - target.value) / target.sd
                    row["runs"] = np.int64(len(values))
                    row["share_within_2sd"] = (float(np.mean(np.abs(z_runs) <= 2))
                                               if len(values) else np.nan)
                    row["predictive_quantile"] = (float(np.mean(values < target.value))
                                                  if len(values) else np.nan)
            row["z"] = (row["calibrated"] - target.value) / target.sd
            row["within_2sd"] = bool(abs(row["z"]) <= 2)
            rows.append(row)
    return pd.DataFrame(rows)


def ppc_summary(report: pd.DataFrame) -> dict:
    """The check in figures: runs per target, the share of all run values within 2 SD (fitted
    and held out), and the targets most runs miss."""
    out = {"runs_per_target": int(report["runs"].max()) if len(report) else 0}
    for label, part in (("fitted", report[report.fitted]), ("held_out", report[~report.fitted])):
        if len(part):
            weights = part["runs"].to_numpy(dtype=float)
            out[f"share_within_2sd_{label}"] = float(np.average(part["share_within_2sd"],
                                                                weights=weights))
            out[f"medians_within_2sd_{label}"] = f"{int(part.within_2sd.sum())} of {len(part)}"
    missed = report[report.share_within_2sd < 0.5]
    out["mostly_missed"] = [f"{r.target} ({r.place}): {r.share_within_2sd:.0%}"
                            for r in missed.itertuples()]
    return out


def validation_summary(table: pd.DataFrame) -> dict:
    """The emulator's leave-out validation in figures (pooled over outputs)."""
    weights = table["points"].to_numpy(dtype=float)
    worst = table.sort_values("share_within_2sd").iloc[0]
    return {"outputs": len(table), "noise": sorted(set(table["noise"])),
            "share_within_2sd": float(np.average(table["share_within_2sd"], weights=weights)),
            "coverage_90": float(np.average(table["coverage_90"], weights=weights)),
            "worst": f"{worst.output}: {worst.share_within_2sd:.0%} within 2 SD"}


def coverage(spec, sim, emulator, particles: pd.DataFrame, store: RunStore, executor,
             posterior_for=None) -> pd.DataFrame:
    """Coverage over synthetic truths (see the module docstring): one row per truth and
    parameter with the truth, the 90% interval and whether it holds the truth.
    ``posterior_for(targets, k)``, when given, is the calibration's own posterior (weighted
    particles) for target values ``targets`` (truth ``k``); otherwise rejection ABC on the
    emulator (:func:`rejection_on_emulator`)."""
    space, truths = spec.space, spec.checks["coverage_truths"]
    picked = posterior_draws(particles, space.names, truths,
                             point_seed(spec.master_seed, "coverage-truths"))
    specs = [s for k, (_, x) in enumerate(picked.iterrows())
             for s in sim.specs(space.values(x.to_numpy()),
                                point_seed(spec.master_seed, "coverage", k), index=k)]
    rows = evaluate(specs, store, executor, desc="coverage truths")
    places = len(spec.places)
    posterior_for = posterior_for or rejection_on_emulator(spec, emulator)
    out = []
    for k in range(truths):
        stats = np.array(list(sim.stats(rows.iloc[k * places:(k + 1) * places],
                                        spec.targets).values()))
        own = posterior_for(stats, k)
        found, weights = own[list(space.names)].to_numpy(), own["weight"].to_numpy()
        for j, name in enumerate(space.names):
            lo, mid, hi = weighted_quantiles(found[:, j], weights, [0.05, 0.5, 0.95])
            truth = float(picked.iloc[k][name])
            out.append({"truth_index": np.int64(k), "parameter": name, "truth": truth,
                        "median": mid, "lo_90": lo, "hi_90": hi,
                        "inside_90": bool(lo <= truth <= hi),
                        "rank": float(np.sum(weights * (found[:, j] < truth))
                                      / np.sum(weights))})
    return pd.DataFrame(out)


def rejection_on_emulator(spec, emulator):
    """The coverage check's posterior for an ABC-SMC calibration: rejection ABC on the last
    wave's emulator, the :data:`COVERAGE_ACCEPTED` closest of :data:`COVERAGE_CANDIDATES`
    points of the box (one draw of the emulator's outputs per point and truth; truths asked
    in order ``k`` = 0, 1, ...), as ``posterior_for(targets, k)`` of :func:`coverage`."""
    space = spec.space
    rng = np.random.default_rng(point_seed(spec.master_seed, "coverage-abc"))
    unit = rng.random((COVERAGE_CANDIDATES, space.dim))
    unit = unit[[space.allowed(space.from_unit(u), spec.fixed) for u in unit]]
    mean, sd = emulator.predict(unit)
    spread = np.sqrt(sd**2 + emulator.noise_sd(unit) ** 2)
    _, target_sd = observed(spec)
    values = space.from_unit(unit)

    def posterior_for(targets: np.ndarray, k: int) -> pd.DataFrame:
        simulated = mean + spread * rng.standard_normal(mean.shape)
        distance = np.sqrt(np.nanmean(((simulated - targets) / target_sd) ** 2, axis=1))
        keep = np.argsort(distance, kind="stable")[:COVERAGE_ACCEPTED]
        return pd.DataFrame(values[keep], columns=list(space.names)).assign(weight=1.0)

    return posterior_for


def coverage_summary(table: pd.DataFrame) -> dict:
    """Coverage over synthetic truths in figures: the share of truths inside their 90%
    intervals, in all and per parameter."""
    per = table.groupby("parameter", sort=False)["inside_90"].mean()
    return {"truths": int(table["truth_index"].nunique()),
            "coverage_90": float(table["inside_90"].mean()),
            "per_parameter": {name: float(v) for name, v in per.items()}}
