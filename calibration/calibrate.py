"""``abm calibrate``: history matching waves, then ABC-SMC (pyabc), then the fit report.

1. **History matching** (Andrianakis et al., PLoS Comput Biol 2015): each wave runs the model
   at a design of points (Latin hypercube in the plausible box, later waves drawn from what
   is still not ruled out), fits a Gaussian-process emulator per fitted target, and rules out
   every candidate point whose implausibility
   ``I = |target - E[emulator]| / sqrt(target SD^2 + emulator variance + run-to-run variance)``
   exceeds the cut (default 3) for any target. Cheap: the emulator, not the model, screens
   the candidates.
2. **ABC-SMC** (pyabc 0.13) over the plausible box with prior density 0 wherever the last
   wave's emulators rule a point out, so no simulation is spent there. The distance is the
   root mean square of the targets' z-scores (model - target) / target SD. With
   ``abc.simulator: model`` every particle runs the model on the project's executor through
   :class:`SeededSampler`: every job's proposal is seeded by (master seed, generation, job),
   so a resumed generation proposes the same points and finds them in the run store. With
   ``abc.simulator: emulator`` a particle is a draw from the last wave's Gaussian processes
   (:class:`EmulatedStats`): no model runs, which is what brings a calibration of one place
   within two hours on two cores (see the README). Finished generations resume from pyabc's
   SQL history either way.
3. **Report**: the posterior (weighted particles and resampled draws, Parquet), the model at
   the posterior draws beside each target (fitted and held out) with intervals, a figure,
   and the calibrated parameter file with its ``source=`` strings.

Everything lands in the output folder; running the same command again recomputes nothing
finished.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
from scipy.stats import qmc

from abm.files.io import write_csv, write_json, write_parquet
from abm.model.parameters import BY_NAME
from abm.model.runs import RunSpec
from calibration.emulator import Emulator
from calibration.evaluate import RunStore, evaluate
from calibration.outputs import label_for, output_value
from calibration.problem import point_seed
from calibration.spec import CalibrationSpec
from experiments.executors import SerialExecutor


def calibration_id(spec: CalibrationSpec) -> str:
    """A stable id of what is calibrated: the spec's content and the targets' figures."""
    identity = json.dumps({"spec": spec.text, "targets": [t.__dict__ for t in spec.targets],
                           "held_out": [t.__dict__ for t in spec.held_out]},
                          sort_keys=True, default=str)
    return "cal-" + hashlib.sha256(identity.encode()).hexdigest()[:10]


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


# --- history matching -------------------------------------------------------------------------
def history_match(spec: CalibrationSpec, sim: Simulator, store: RunStore, executor,
                  out: Path) -> tuple[list[Emulator], pd.DataFrame]:
    """Run the waves; return the emulators of the last wave and every wave's design results."""
    hm, space = spec.history_matching, spec.space
    rng = np.random.default_rng(point_seed(spec.master_seed, "hm"))
    seeds = [point_seed(spec.master_seed, "hm-seed", k) for k in range(hm["seeds"])]
    targets = list(spec.targets)
    z = np.array([t.value for t in targets for _ in spec.places])
    target_sd = np.array([t.sd for t in targets for _ in spec.places])
    emulators: list[Emulator] = []
    design_rows: list[pd.DataFrame] = []
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
        stats = _point_stats(sim, rows, targets, len(chosen), len(seeds))
        frame = pd.DataFrame(space.from_unit(chosen), columns=space.names)
        frame = pd.concat([frame, pd.DataFrame(stats, columns=sim.keys(targets))], axis=1)
        frame.insert(0, "wave", wave)
        design_rows.append(frame)
        everything = pd.concat(design_rows, ignore_index=True)
        emulators.append(Emulator(space.to_unit(everything[list(space.names)].to_numpy()),
                                  everything[sim.keys(targets)].to_numpy(), seed=wave))
        check = _candidates(spec, hm["candidates"], rng)
        share = float(np.mean(implausibility(emulators[-1], check, z, target_sd) < hm["cut"]))
        print(f"wave {wave}: {len(chosen)} points x {len(seeds)} seeds; "
              f"{share:.1%} of the plausible box not ruled out")
    waves = pd.concat(design_rows, ignore_index=True) if design_rows else pd.DataFrame()
    write_parquet(waves, out / "history_matching.parquet")
    return emulators, waves


def _candidates(spec: CalibrationSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-cube candidates (Latin hypercube) that satisfy the cross-parameter constraints."""
    unit = qmc.LatinHypercube(d=spec.space.dim, rng=rng).random(n)
    ok = [spec.space.allowed(spec.space.from_unit(u), spec.fixed) for u in unit]
    return unit[np.asarray(ok, dtype=bool)]


def _point_stats(sim: Simulator, rows: pd.DataFrame, targets, n_points: int,
                 n_seeds: int) -> np.ndarray:
    """Mean over seeds of each target output at each design point, shape (points, stats)."""
    out = np.zeros((n_points, len(sim.keys(targets))))
    per_point = len(sim.spec.places) * n_seeds
    for i in range(n_points):
        part = rows.iloc[i * per_point:(i + 1) * per_point]
        values = [list(sim.stats(part.iloc[k::n_seeds], targets).values())
                  for k in range(n_seeds)]
        out[i] = np.nanmean(np.array(values, dtype=float), axis=0)
    return out


def implausibility(emulator: Emulator, unit_x: np.ndarray, z: np.ndarray,
                   target_sd: np.ndarray) -> np.ndarray:
    """Maximum over targets of the implausibility of each point (rows of ``unit_x``)."""
    if len(unit_x) == 0:
        return np.zeros(0)
    mean, sd = emulator.predict(unit_x)
    variance = target_sd**2 + sd**2 + emulator.noise_sd() ** 2
    return np.max(np.abs(mean - z) / np.sqrt(variance), axis=1)


# --- ABC-SMC ------------------------------------------------------------------------------------
def abc_smc(spec: CalibrationSpec, sim: Simulator, store: RunStore, executor,
            emulator: Emulator | None, out: Path) -> pd.DataFrame:
    """Run (or resume) ABC-SMC; return the last generation's weighted particles."""
    import pyabc

    space, abc_cfg = spec.space, spec.abc
    z = np.array([t.value for t in spec.targets for _ in spec.places])
    target_sd = np.array([t.sd for t in spec.targets for _ in spec.places])
    prior = NotRuledOut(space, spec, emulator, z, target_sd, spec.history_matching["cut"])
    keys = sim.keys(spec.targets)
    if abc_cfg["simulator"] == "emulator":
        model = EmulatedStats(space, emulator, keys)
        executor = SerialExecutor()  # a GP draw takes milliseconds: no task is worth shipping
    else:
        cache = {r["run_id"]: r for r in store.rows().to_dict("records")}
        model = ModelStats(sim, keys, cache)
    observed = {k: float(v) for k, v in zip(keys, z, strict=True)}
    scale = dict(zip(keys, target_sd, strict=True))

    def distance(x: dict, x0: dict) -> float:
        terms = [((x[k] - x0[k]) / scale[k]) ** 2 for k in keys]
        return math.sqrt(sum(terms) / len(terms)) if all(map(math.isfinite, terms)) else math.inf

    sampler = SeededSampler(executor, store, spec.master_seed)
    abc = pyabc.ABCSMC(model, prior, distance, population_size=abc_cfg["population"],
                       sampler=sampler,
                       eps=pyabc.MedianEpsilon(initial_epsilon=abc_cfg["initial_epsilon"]))
    db = out / "abc.db"
    url = f"sqlite:///{db.resolve()}"
    done = 0
    if db.exists():
        abc.load(url, 1)
        done = abc.history.max_t + 1
    else:
        abc.new(url, observed)
    remaining = abc_cfg["generations"] - done
    if remaining > 0:
        abc.run(max_nr_populations=remaining)
    history = pyabc.History(url)
    particles, weights = history.get_distribution(m=0, t=history.max_t)
    particles = particles[list(space.names)].reset_index(drop=True)
    particles["weight"] = weights
    populations = history.get_all_populations()
    write_csv(populations, out / "abc_generations.csv")
    return particles


class ModelStats:
    """pyabc's model: the target outputs of one run per place at a proposed point.

    The run seed comes from the point, so the same point is the same run (same id); a run
    already in the store (``cache``, read when the calibration starts) is not run again.
    The full rows travel back under ``"_rows"`` for :class:`SeededSampler` to store.
    """

    def __init__(self, sim: Simulator, keys: list[str], cache: dict):
        self.sim, self.keys, self.cache = sim, keys, cache

    def __call__(self, parameter) -> dict:
        from calibration.outputs import simulate

        space = self.sim.spec.space
        point = space.values([parameter[name] for name in space.names])
        seed = point_seed(self.sim.spec.master_seed, "abc",
                          *(f"{point[n]!r}" for n in space.names))
        rows = []
        for run_spec in self.sim.specs(point, seed):
            row = self.cache.get(run_spec.run_id)
            rows.append(row if row is not None else simulate(run_spec)[0])
        stats = self.sim.stats(pd.DataFrame(rows), self.sim.spec.targets)
        return {**stats, "_rows": rows}


class EmulatedStats:
    """pyabc's model when ``abc.simulator`` is ``emulator``: the target outputs of one
    simulated run, drawn from the last wave's Gaussian processes (their mean, plus their own
    uncertainty and the run-to-run noise they learned). No model runs; the fit report then
    checks the posterior with real runs."""

    def __init__(self, space, emulator: Emulator, keys: list[str]):
        self.space, self.emulator, self.keys = space, emulator, keys

    def __call__(self, parameter) -> dict:
        x = np.array([[parameter[name] for name in self.space.names]])
        mean, sd = self.emulator.predict(self.space.to_unit(x))
        spread = np.sqrt(sd[0] ** 2 + self.emulator.noise_sd() ** 2)
        draw = mean[0] + spread * np.random.standard_normal(len(spread))
        return dict(zip(self.keys, map(float, draw), strict=True))


def _prior_base():
    import pyabc

    return pyabc.DistributionBase


class NotRuledOut(_prior_base()):
    """Uniform over the plausible box, zero where the last wave's emulator rules a point out
    (or a cross-parameter constraint is broken)."""

    def __init__(self, space, spec, emulator, z, target_sd, cut):
        self.space, self.spec, self.emulator = space, spec, emulator
        self.z, self.target_sd, self.cut = z, target_sd, cut
        self.volume = float(np.prod([hi - lo for lo, hi in space.bounds]))

    def _ok(self, x: np.ndarray) -> bool:
        unit = self.space.to_unit(x)
        if np.any(unit < 0) or np.any(unit > 1) or not self.space.allowed(x, self.spec.fixed):
            return False
        if self.emulator is None:
            return True
        return bool(implausibility(self.emulator, unit[None, :], self.z, self.target_sd)[0]
                    < self.cut)

    def rvs(self, *args, **kwargs):
        import pyabc

        for _ in range(100_000):
            x = self.space.from_unit(np.random.random_sample(self.space.dim))
            if self._ok(x):
                return pyabc.Parameter(dict(zip(self.space.names, map(float, x), strict=True)))
        raise RuntimeError("no point of the plausible box survives history matching")

    def pdf(self, x) -> float:
        values = np.array([float(x[name]) for name in self.space.names])
        return 1.0 / self.volume if self._ok(values) else 0.0


def _seeded_job(simulate_one_pickle: bytes, seed: int, t: int, job: int):
    """One pyabc particle, its proposal seeded by (seed, generation, job)."""
    simulate_one = cloudpickle.loads(simulate_one_pickle)
    job_seed = point_seed(seed, "abc-job", t, job) % 2**32
    random.seed(job_seed)
    np.random.seed(job_seed)
    return simulate_one()


def _sampler_base():
    from pyabc.sampler import ConcurrentFutureSampler

    return ConcurrentFutureSampler


class SeededSampler(_sampler_base()):
    """pyabc's ConcurrentFutureSampler on the project's executor, made reproducible: job k of
    generation t is seeded by (seed, t, k), jobs are accepted in job order, and every
    simulated run (accepted or not) is stored by the driver in the run store."""

    def __init__(self, executor, store: RunStore, seed: int):
        super().__init__(executor, client_max_jobs=getattr(executor, "workers", 1))
        self.executor, self.store, self.seed = executor, store, seed

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                all_accepted=False, ana_vars=None):
        from concurrent.futures import FIRST_COMPLETED, wait

        pickled = cloudpickle.dumps(simulate_one)
        results: dict[int, object] = {}
        pending: dict = {}
        next_job, accepted = 0, 0
        while accepted < n or pending:
            while accepted < n and len(pending) < self.client_max_jobs:
                future = self.executor.submit(_seeded_job, pickled, self.seed, t, next_job)
                pending[future] = next_job
                next_job += 1
            complete, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in complete:
                job = pending.pop(future)
                particle = future.result()
                rows = particle.sum_stat.pop("_rows", [])
                self.store.add([r for r in rows if r["run_id"] not in self.store.ids()])
                results[job] = particle
                accepted += bool(particle.accepted)
        sample = self._create_empty_sample()
        taken = 0
        for job in sorted(results):
            if taken == n:
                break
            sample.append(results[job])
            taken += bool(results[job].accepted)
        self.nr_evaluations_ = next_job
        return sample


# --- report --------------------------------------------------------------------------------------
def posterior_draws(particles: pd.DataFrame, names, draws: int, seed: int) -> pd.DataFrame:
    """``draws`` points resampled from the weighted particles (seeded)."""
    rng = np.random.default_rng(seed)
    weights = particles["weight"].to_numpy() / particles["weight"].sum()
    picked = rng.choice(len(particles), draws, p=weights)
    return particles.iloc[picked][list(names)].reset_index(drop=True)


def fit_report(spec: CalibrationSpec, sim: Simulator, draws: pd.DataFrame, store: RunStore,
               executor) -> pd.DataFrame:
    """Each target (fitted and held out) per place: the model at the posterior draws and at
    the declaration's defaults (uncalibrated), with 90% intervals."""
    space = spec.space
    seeds = [point_seed(spec.master_seed, "report", k) for k in range(len(draws))]
    post_specs = [s for i, (_, x) in enumerate(draws.iterrows())
                  for s in sim.specs(space.values(x.to_numpy()), seeds[i], index=i)]
    prior_specs = [s for k in range(min(len(draws), 10))
                   for s in sim.specs({}, seeds[k], index=k)]
    posterior = evaluate(post_specs, store, executor, desc="posterior")
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
                row[label] = float(np.median(values)) if len(values) else math.nan
                row[f"{label}_lo"], row[f"{label}_hi"] = (
                    np.quantile(values, [0.05, 0.95]) if len(values) else (math.nan, math.nan))
            row["z"] = (row["calibrated"] - target.value) / target.sd
            row["within_2sd"] = bool(abs(row["z"]) <= 2)
            rows.append(row)
    return pd.DataFrame(rows)


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
        ax.set_title(f"{r.target}{tag} - {r.place}", fontsize=8, loc="left")
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
        lo, mid, hi = _weighted_quantiles(particles[name].to_numpy(), weights, [0.05, 0.5, 0.95])
        value = round(mid) if BY_NAME[name].type is int else mid
        shown = value if isinstance(value, int) else float(f"{value:.4g}")
        lines.append(f"  {name}: {shown}   # 90% interval {lo:.4g} to {hi:.4g}")
        sources[name] = (f"calibrated: {cal_id} ({', '.join(spec.places)}; posterior median "
                         f"{shown}, 90% interval {lo:.3g} to {hi:.3g})")
    return "\n".join(lines) + "\n", sources


def parameter_table(spec: CalibrationSpec, particles: pd.DataFrame,
                    identifiable_below: float = 0.5) -> pd.DataFrame:
    """Per calibrated parameter: plausible range, posterior median and 90% interval, and
    whether the data pin it down (the interval narrower than ``identifiable_below`` of the
    range; otherwise the targets say little about it)."""
    weights = particles["weight"].to_numpy() / particles["weight"].sum()
    rows = []
    for name, (low, high) in zip(spec.space.names, spec.space.bounds, strict=True):
        lo, mid, hi = _weighted_quantiles(particles[name].to_numpy(), weights, [0.05, 0.5, 0.95])
        share = (hi - lo) / (high - low)
        rows.append({"parameter": name, "plausible_low": low, "plausible_high": high,
                     "median": mid, "lo_90": lo, "hi_90": hi, "interval_share_of_range": share,
                     "identifiable": bool(share < identifiable_below)})
    return pd.DataFrame(rows)


def effective_sample_size(weights: pd.Series) -> float:
    """Kish's effective sample size of weighted particles, 1 / sum(w^2) for normalised w: the
    number of equally weighted draws they are worth. Far below the population means a few
    particles carry the posterior and its intervals are not to be trusted."""
    w = weights.to_numpy() / weights.sum()
    return float(1.0 / np.sum(w**2))


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> list[float]:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) - weights[order] / 2
    return [float(np.interp(q, cumulative, values[order])) for q in qs]


def run_calibration(spec: CalibrationSpec, out: Path, executor) -> dict:
    """The whole calibration into ``out``; returns the summary written to ``calibration.json``."""
    out.mkdir(parents=True, exist_ok=True)
    cal_id = calibration_id(spec)
    (out / "spec.yaml").write_text(spec.text, encoding="utf-8")
    store = RunStore(out)
    sim = Simulator(spec)
    emulators, _ = history_match(spec, sim, store, executor, out)
    particles = abc_smc(spec, sim, store, executor, emulators[-1] if emulators else None, out)
    write_parquet(particles, out / "posterior_particles.parquet")
    draws = posterior_draws(particles, spec.space.names, spec.draws,
                            point_seed(spec.master_seed, "draws"))
    write_parquet(draws, out / "posterior.parquet")
    write_csv(parameter_table(spec, particles), out / "parameters.csv")
    report = fit_report(spec, sim, draws, store, executor)
    write_csv(report, out / "fit_report.csv")
    fit_figure(report, out / "fit.png", f"{cal_id}: targets and the model")
    text, sources = calibrated_file(spec, cal_id, particles)
    (out / "calibrated.yaml").write_text(text, encoding="utf-8")
    summary = {"calibration_id": cal_id, "places": list(spec.places),
               "parameters": list(spec.space.names), "runs_stored": len(store.ids()),
               "effective_sample_size": effective_sample_size(particles["weight"]),
               "population": len(particles), "sources": sources}
    write_json(summary, out / "calibration.json")
    return summary
