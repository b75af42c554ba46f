"""``abm calibrate``: history matching waves, then ABC-SMC (pyabc), then the checks.

0. **The folder is claimed** (:mod:`calibration.folder`) before any work: the calibration's id
   hashes the spec, the targets and the model (the status-quo run id of each place, which
   hashes the model version, every parameter default and the place's figures). The same
   command run again goes on where it stopped and recomputes nothing finished; another spec
   into a used folder is refused in one line.
1. **History matching** (Andrianakis et al., PLoS Comput Biol 2015): each wave runs the model
   at a design of points (Latin hypercube in the plausible box, later waves drawn from what
   is still not ruled out) and seeds, fits a Gaussian-process emulator per fitted target and
   place (:mod:`calibration.emulator`: heteroscedastic when a point has several seeds), and
   rules out every candidate point whose implausibility
   ``I = |target - E[emulator]| / sqrt(target SD^2 + emulator variance + run-to-run variance)``
   exceeds the cut (default 3) for any target. Cheap: the emulator, not the model, screens
   the candidates.
2. **ABC-SMC** (:mod:`calibration.abcsmc`) over the plausible box with prior density 0
   wherever the last wave's emulators rule a point out. The distance is the root mean
   square of the targets' z-scores (model - target) / target SD. With ``abc.simulator:
   model`` every particle runs the model on the project's executor; with ``emulator`` a
   particle is a draw from the last wave's Gaussian processes (no model runs). Resumable to
   the same posterior, bounded by its stopping rule.
3. **Outputs and checks**, written beside the posterior and printed by ``abm calibrate``
   (:mod:`calibration.checks`): the posterior (weighted particles and resampled draws,
   Parquet); per parameter its prior and posterior intervals and how far the data moved it
   (``parameters.csv``), and how far any calibration could with these targets, from the
   design's slopes (``identifiability.csv``, :mod:`calibration.identifiability`: which
   parameters only better data can pin); the posterior predictive check on the real model,
   draws x seeds, every target fitted or held out (``fit_report.csv``, ``fit.png``); the emulator's
   leave-out validation (``emulator_validation.csv``); coverage over synthetic truths
   (``coverage.csv``); and the calibrated parameter file with its ``source=`` strings.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from abm.files.errors import InputError
from abm.files.io import write_csv, write_json, write_parquet, write_text
from abm.model.parameters import BY_NAME
from abm.model.runs import RunSpec
from calibration import checks
from calibration.bounds import total_runs
from calibration.emulator import Emulator
from calibration.evaluate import RunStore, evaluate
from calibration.folder import STOP, analysis_id, claim
from calibration.identifiability import describe as describe_bound
from calibration.identifiability import identifiability_table, with_local_bound
from calibration.likelihood import gaussian_posterior, implausibility_of, residuals
from calibration.outputs import label_for, output_value
from calibration.posterior import (
    effective_sample_size,
    observed,
    parameter_table,
    posterior_draws,
    weighted_quantiles,
)
from calibration.problem import point_seed
from calibration.spec import CalibrationSpec
from experiments.executors import SerialExecutor
from experiments.spec import DEFAULT_MAX_RUNS


def calibration_id(spec: CalibrationSpec) -> str:
    """A stable id of what is calibrated: the spec's text, the targets' figures and the
    model (the status-quo run id of each place at the spec's settings)."""
    sim = Simulator(spec)
    content = {"spec": spec.text, "targets": [t.__dict__ for t in spec.targets],
               "held_out": [t.__dict__ for t in spec.held_out],
               "model": [s.run_id for s in sim.specs({}, 0)]}
    return analysis_id("cal", content)


class Simulator:
    """Runs the status-quo scenario at parameter points in every place of the spec."""

    def __init__(self, spec: CalibrationSpec):
        self.spec = spec
        self.label = label_for(t.output for t in (*spec.targets, *spec.held_out))

    def specs(self, point: dict, seed: int, index: int = 0) -> list[RunSpec]:
        s = self.spec
        return [RunSpec.make(self.label, place, s.scenario.rules,
                             {**s.scenario.parameters, **s.fixed, **point}, seed, s.years,
                             point=index)
                for place in s.places]

    def keys(self, targets) -> list[str]:
        """Summary-statistic names: one per target and place."""
        return [f"{place}:{t.name}" for t in targets for place in self.spec.places]

    def stats(self, rows: pd.DataFrame, targets) -> dict:
        """Target outputs of one point's rows (one per place)."""
        by_place = {r["place"]: r for r in rows.to_dict("records")}
        return {f"{place}:{t.name}": output_value(by_place[place], t.output)
                for t in targets for place in self.spec.places}


def count_runs(spec: CalibrationSpec, limit: int = DEFAULT_MAX_RUNS) -> int:
    """Every model run the calibration may make, worked out from the spec's numbers before
    any is built; :class:`InputError` above ``limit`` (``--max-runs``)."""
    hm, abc, c = spec.history_matching, spec.abc, spec.checks
    places = len(spec.places)
    return total_runs(str(spec.path), "this calibration", {
        "history-matching runs (waves x points x seeds x places)":
            hm["waves"] * hm["points"] * hm["seeds"] * places,
        "ABC runs (abc.max_simulations x places)":
            abc["max_simulations"] * places if abc["simulator"] == "model" else 0,
        "posterior predictive runs (draws x checks.ppc_seeds x places, and the defaults)":
            (spec.draws * c["ppc_seeds"] + min(spec.draws, checks.UNCALIBRATED_SEEDS)) * places,
        "coverage runs (checks.coverage_truths x places)": c["coverage_truths"] * places,
    }, limit)


# --- history matching -------------------------------------------------------------------------
def history_match(spec: CalibrationSpec, sim: Simulator, store: RunStore, executor,
                  out: Path) -> tuple[list[Emulator], pd.DataFrame]:
    """Run the waves; return the emulators of each wave and every wave's design results."""
    hm, space = spec.history_matching, spec.space
    rng = np.random.default_rng(point_seed(spec.master_seed, "hm"))
    seeds = [point_seed(spec.master_seed, "hm-seed", k) for k in range(hm["seeds"])]
    targets = list(spec.targets)
    z, target_sd = observed(spec)
    emulators: list[Emulator] = []
    design_rows: list[pd.DataFrame] = []
    replicates: list[np.ndarray] = []
    for wave in range(1, hm["waves"] + 1):
        candidates = _candidates(spec, hm["candidates"], rng)
        if emulators:
            keep = implausibility(emulators[-1], candidates, z, target_sd) < hm["cut"]
            candidates = candidates[keep]
        if len(candidates) == 0:
            print(f"wave {wave}: every candidate point is ruled out; stopping history matching")
            break
        chosen = candidates[rng.choice(len(candidates), min(hm["points"], len(candidates)),
                                       replace=False)]
        specs = [s for i, x in enumerate(chosen) for seed in seeds
                 for s in sim.specs(space.values(space.from_unit(x)), seed, index=i)]
        rows = evaluate(specs, store, executor, desc=f"wave {wave}")
        runs = _point_runs(sim, rows, targets, len(chosen), len(seeds))
        replicates.append(runs)
        frame = pd.DataFrame(space.from_unit(chosen), columns=space.names)
        with np.errstate(all="ignore"):
            means = np.nanmean(runs, axis=1)
        frame = pd.concat([frame, pd.DataFrame(means, columns=sim.keys(targets))], axis=1)
        frame.insert(0, "wave", np.int64(wave))
        design_rows.append(frame)
        everything = pd.concat(design_rows, ignore_index=True)
        emulators.append(Emulator(space.to_unit(everything[list(space.names)].to_numpy()),
                                  np.concatenate(replicates), seed=wave))
        check = _candidates(spec, hm["candidates"], rng)
        share = float(np.mean(implausibility(emulators[-1], check, z, target_sd) < hm["cut"]))
        print(f"wave {wave}: {len(chosen)} points x {len(seeds)} seeds; "
              f"{share:.1%} of the plausible box not ruled out", flush=True)
    waves = pd.concat(design_rows, ignore_index=True) if design_rows else pd.DataFrame()
    write_parquet(waves, out / "history_matching.parquet")
    return emulators, waves


def _candidates(spec: CalibrationSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-cube candidates (Latin hypercube) that satisfy the cross-parameter constraints."""
    unit = qmc.LatinHypercube(d=spec.space.dim, rng=rng).random(n)
    ok = [spec.space.allowed(spec.space.from_unit(u), spec.fixed) for u in unit]
    return unit[np.asarray(ok, dtype=bool)]


def _point_runs(sim: Simulator, rows: pd.DataFrame, targets, n_points: int,
                n_seeds: int) -> np.ndarray:
    """Each seed's target outputs at each design point, shape (points, seeds, stats)."""
    out = np.zeros((n_points, n_seeds, len(sim.keys(targets))))
    per_point = len(sim.spec.places) * n_seeds
    for i in range(n_points):
        part = rows.iloc[i * per_point:(i + 1) * per_point]
        for k in range(n_seeds):
            out[i, k] = list(sim.stats(part.iloc[k * len(sim.spec.places):
                                                 (k + 1) * len(sim.spec.places)],
                                       targets).values())
    return out


def implausibility(emulator: Emulator, unit_x: np.ndarray, z: np.ndarray,
                   target_sd: np.ndarray) -> np.ndarray:
    """Maximum over targets of the implausibility of each point (rows of ``unit_x``)."""
    if len(unit_x) == 0:
        return np.zeros(0)
    return implausibility_of(*residuals(emulator, unit_x, z, target_sd))


# --- ABC ------------------------------------------------------------------------------------------
def abc_smc(spec: CalibrationSpec, sim: Simulator, store: RunStore, executor,
            emulator: Emulator | None, out: Path, cal_id: str
            ) -> tuple[pd.DataFrame, str, float]:
    """Run (or resume) ABC-SMC, or with ``abc.kernel: gaussian`` weigh candidates by the
    targets' likelihood; return the weighted particles, the line saying what stopped it or
    how the posterior was made, and the effective sample size behind the particles."""
    z, target_sd = observed(spec)
    if spec.abc["kernel"] == "gaussian":
        return likelihood_posterior(spec, emulator, z, target_sd, out)
    from calibration.abcsmc import EmulatedStats, ModelStats, NotRuledOut, run_abc  # pyabc: slow

    space = spec.space
    cut = spec.history_matching["cut"]

    def ruled_out(unit: np.ndarray) -> np.ndarray:
        if emulator is None:
            return np.zeros(len(unit), dtype=bool)
        return implausibility(emulator, unit, z, target_sd) >= cut

    prior = NotRuledOut(space, spec, ruled_out)
    keys = sim.keys(spec.targets)
    if spec.abc["simulator"] == "emulator":
        model = EmulatedStats(space, emulator, keys)
        executor = SerialExecutor()  # a GP draw takes milliseconds: no task is worth shipping
    else:
        cache = {r["run_id"]: r for r in store.rows().to_dict("records")}
        model = ModelStats(sim, keys, cache)
    scale = dict(zip(keys, target_sd, strict=True))

    def distance(x: dict, x0: dict) -> float:
        terms = [((x[k] - x0[k]) / scale[k]) ** 2 for k in keys]
        return math.sqrt(sum(terms) / len(terms)) if all(map(math.isfinite, terms)) else math.inf

    observed_stats = {k: float(v) for k, v in zip(keys, z, strict=True)}
    particles, line = run_abc(model, prior, distance, spec, out, cal_id, observed_stats,
                              executor, store, str(spec.path))
    return particles, line, effective_sample_size(particles["weight"])


def likelihood_posterior(spec: CalibrationSpec, emulator: Emulator, z, target_sd,
                         out: Path) -> tuple[pd.DataFrame, str, float]:
    """``abc.kernel: gaussian``: the posterior by the targets' likelihood on the emulator
    (:func:`calibration.likelihood.gaussian_posterior`), its record in ``abc_stop.json``."""
    particles, record = gaussian_posterior(spec, emulator, z, target_sd,
                                           spec.history_matching["cut"])
    if particles.empty:
        raise InputError(record["line"])
    write_json(record, out / STOP)
    # evenly spaced particles of the chain are worth at most as many independent draws
    return particles, record["line"], min(record["effective_sample_size"], len(particles))


def likelihood_for(spec: CalibrationSpec, emulator: Emulator):
    """With ``abc.kernel: gaussian``, the calibration's procedure for other target values
    (the coverage check's synthetic truths: history matching's cut and the likelihood, both
    against those values; chain seeded per truth); None for ABC-SMC."""
    if spec.abc["kernel"] != "gaussian":
        return None
    _, target_sd = observed(spec)

    def posterior_for(targets: np.ndarray, k: int) -> pd.DataFrame:
        seeded = dataclasses.replace(spec, master_seed=point_seed(spec.master_seed,
                                                                  "coverage-posterior", k))
        particles, _ = gaussian_posterior(seeded, emulator, targets, target_sd,
                                          spec.history_matching["cut"])
        if particles.empty:  # its own outputs ruled out everything: a miss for every parameter
            return pd.DataFrame({**{n: [np.nan] for n in spec.space.names}, "weight": [1.0]})
        return particles

    return posterior_for


# --- outputs --------------------------------------------------------------------------------------
def fit_figure(report: pd.DataFrame, path: Path, title: str) -> Path:
    """Each target's value (with +-2 SD) beside the model before and after calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(report)
    fig, axes = plt.subplots(n, 1, figsize=(7, 0.9 * n + 1), squeeze=False)
    for ax, (_, r) in zip(axes[:, 0], report.iterrows(), strict=True):
        ax.errorbar([r.value], [2], xerr=[[2 * r.sd], [2 * r.sd]], fmt="s", color="black",
                    label="target +-2 SD")
        for y, label, colour in ((1, "calibrated", "tab:blue"), (0, "uncalibrated", "tab:grey")):
            mid, lo, hi = r[label], r[f"{label}_lo"], r[f"{label}_hi"]
            if math.isfinite(mid):
                ax.errorbar([mid], [y], xerr=[[mid - lo], [hi - mid]], fmt="o", color=colour,
                            label=f"model, {label} (90%)")
        ax.set_yticks([])
        ax.set_ylim(-0.6, 2.6)
        tag = "" if r.fitted else " (held out)"
        share = f"; {r.share_within_2sd:.0%} of runs within 2 SD" if "share_within_2sd" in r \
            else ""
        ax.set_title(f"{r.target}{tag} - {r.place}{share}", fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=6, loc="upper right")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def calibrated_file(spec: CalibrationSpec, cal_id: str, particles: pd.DataFrame) -> tuple[str,
                                                                                           dict]:
    """The calibrated scenario file (posterior medians) and the declaration's source strings."""
    weights = particles["weight"].to_numpy() / particles["weight"].sum()
    lines = [f"# Calibrated by `abm calibrate {spec.path}` ({cal_id}), places "
             f"{', '.join(spec.places)}.",
             "# Posterior medians (weighted); 90% intervals in the comments. Generated: edit the",
             "# spec and calibrate again rather than this file.",
             f"description: Parameters calibrated by {cal_id}; the shipped scenarios extend this.",
             "parameters:"]
    sources = {}
    for name in spec.space.names:
        lo, mid, hi = weighted_quantiles(particles[name].to_numpy(), weights, [0.05, 0.5, 0.95])
        value = round(mid) if BY_NAME[name].type is int else mid
        shown = value if isinstance(value, int) else float(f"{value:.4g}")
        lines.append(f"  {name}: {shown}   # 90% interval {lo:.4g} to {hi:.4g}")
        sources[name] = (f"calibrated: {cal_id} ({', '.join(spec.places)}; posterior median "
                         f"{shown}, 90% interval {lo:.3g} to {hi:.3g})")
    return "\n".join(lines) + "\n", sources


def run_calibration(spec: CalibrationSpec, out: Path, executor,
                    max_runs: int = DEFAULT_MAX_RUNS, truth: dict | None = None) -> dict:
    """The whole calibration into ``out``; returns the summary written to ``calibration.json``.
    ``truth`` (every calibrated parameter's value, in a parameter recovery): where the
    identifiability table's local bound is taken (else at the posterior median)."""
    count_runs(spec, max_runs)
    cal_id = calibration_id(spec)
    claim(out, "calibration", cal_id, f"abm calibrate {spec.path}: {spec.description}")
    write_text(spec.text, out / "spec.yaml")
    store = RunStore(out)
    sim = Simulator(spec)
    emulators, waves = history_match(spec, sim, store, executor, out)
    emulator = emulators[-1] if emulators else None
    found = {}
    particles, stop_line, ess = abc_smc(spec, sim, store, executor, emulator, out, cal_id)
    write_parquet(particles, out / "posterior_particles.parquet")
    table = parameter_table(spec, particles)
    if len(waves) > len(spec.space.names) + 1:  # enough points for a slope per parameter
        bound = identifiability_table(spec, waves, sim.keys(spec.targets))
        if emulator is not None:
            point, at = ((truth, "the truth") if truth is not None else
                         (dict(zip(table["parameter"], table["median"], strict=True)),
                          "the posterior median"))
            bound = with_local_bound(bound, spec, emulator, point, at)
        write_csv(bound, out / "identifiability.csv")
        found["identifiability"] = describe_bound(bound)
    draws = posterior_draws(particles, spec.space.names, spec.draws,
                            point_seed(spec.master_seed, "draws"))
    write_parquet(draws, out / "posterior.parquet")
    write_csv(table, out / "parameters.csv")
    report = checks.predictive_check(spec, sim, draws, store, executor)
    write_csv(report, out / "fit_report.csv")
    fit_figure(report, out / "fit.png", f"{cal_id}: targets and the model")
    found = {"ppc": checks.ppc_summary(report)} | found
    if emulator is not None:
        validation = emulator.validate(sim.keys(spec.targets), spec.checks["validation_folds"],
                                       seed=spec.master_seed % 2**32)
        write_csv(validation, out / "emulator_validation.csv")
        found["emulator"] = checks.validation_summary(validation)
        if spec.checks["coverage_truths"]:
            coverage = checks.coverage(spec, sim, emulator, particles, store, executor,
                                       likelihood_for(spec, emulator))
            write_csv(coverage, out / "coverage.csv")
            found["coverage"] = checks.coverage_summary(coverage)
    text, sources = calibrated_file(spec, cal_id, particles)
    write_text(text, out / "calibrated.yaml")
    summary = {"calibration_id": cal_id, "places": list(spec.places),
               "parameters": list(spec.space.names),
               "bounds": {n: list(b) for n, b in zip(spec.space.names, spec.space.bounds,
                                                      strict=True)},
               "runs_stored": len(store.ids()),
               "effective_sample_size": ess,
               "population": len(particles), "abc_stop": stop_line, "checks": found,
               "sources": sources}
    write_json(summary, out / "calibration.json")
    return summary
