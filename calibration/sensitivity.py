"""Global sensitivity analysis: SALib Morris screening, then Sobol indices (S1, ST, 95% CIs).

The space is built from the parameter declaration (:mod:`calibration.problem`). Outcomes are
the levels of the status quo and the policy effects of each scenario: paired differences
against the same-seed status quo (WELLBYs gained, change in the q5-q1 gap, change in the SII,
net monetised benefit, cost per WELLBY), averaged over seeds at each point.

Two ways to evaluate the Sobol design (``sobol.method``):

- ``direct``: every point of SALib's Saltelli design runs the model, N x (D + 2) points.
- ``emulator``: the model runs at a Latin hypercube of ``sobol.design`` points; a Gaussian
  process per outcome (:mod:`calibration.emulator`) stands in for it on the Saltelli design.
  The reported intervals then add the emulator's own uncertainty: indices are computed for
  ``sobol.draws`` draws from the GP posterior and the bootstrap intervals are widened by the
  spread across draws.

:func:`sobol_indices` and :func:`morris_indices` take any ``evaluate(X) -> DataFrame``, so the
Ishigami test function runs through exactly this code (tests/calibration/test_sensitivity.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy.stats import qmc

from abm.analysis.compare import compare
from abm.files.io import write_csv, write_text
from abm.model.runs import RunSpec, execute
from calibration.bounds import total_runs
from calibration.emulator import Emulator
from calibration.evaluate import RunStore, evaluate
from calibration.folder import analysis_id, claim
from calibration.problem import Space
from experiments.spec import DEFAULT_MAX_RUNS

Evaluate = Callable[[np.ndarray], pd.DataFrame]
#: Status-quo levels analysed.
LEVELS = ("mean_wellbeing", "gap_q5_q1", "sii")
#: Policy effects analysed, per scenario, as "<scenario>:<effect>".
#: (WELLBYs and money discounted at the Green Book rates, as
#: :func:`abm.analysis.compare.compare` does.)
EFFECTS = ("wellby_gain_disc", "delta_gap_q5_q1", "delta_sii", "net_benefit_gbp",
           "cost_per_wellby")


def morris_indices(space: Space, evaluate_fn: Evaluate, trajectories: int, levels: int = 4,
                   seed: int = 0) -> pd.DataFrame:
    """Morris elementary effects: mu*, its CI and sigma per parameter and outcome."""
    problem = space.salib_problem()
    x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    y = evaluate_fn(x)
    rows = []
    for outcome in y.columns:
        values = y[outcome].to_numpy(dtype=float)
        if not np.isfinite(values).all():
            continue
        result = morris_analyze.analyze(problem, x, values, num_levels=levels, seed=seed)
        for i, name in enumerate(space.names):
            rows.append({"outcome": outcome, "parameter": name, "mu_star": result["mu_star"][i],
                         "mu_star_conf": result["mu_star_conf"][i], "sigma": result["sigma"][i],
                         "mu": result["mu"][i]})
    return pd.DataFrame(rows)


def sobol_indices(space: Space, evaluate_fn: Evaluate, n: int, seed: int = 0,
                  method: str = "direct", design: int = 0, draws: int = 20) -> pd.DataFrame:
    """Sobol S1 and ST with 95% intervals per parameter and outcome (Saltelli design,
    ``n`` base samples, second-order indices not computed: N x (D + 2) points)."""
    problem = space.salib_problem()
    x = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    if method == "direct":
        y = evaluate_fn(x)
        return _analyse(problem, space, y, seed)
    design_unit = qmc.LatinHypercube(d=space.dim, rng=np.random.default_rng(seed)).random(design)
    observed = evaluate_fn(space.from_unit(design_unit))
    rng = np.random.default_rng(seed)
    unit = space.to_unit(x)
    tables = []
    for outcome in observed.columns:
        if not np.isfinite(observed[outcome]).all() or np.ptp(observed[outcome]) == 0:
            continue  # as in the direct method: undefined somewhere, or constant
        emulator = Emulator(design_unit, observed[[outcome]].to_numpy(), seed=seed)
        mean, cov = emulator.mean_cov(unit)  # the mean over seeds, not one run
        draws_y = _gp_draws(mean, cov, draws, rng)
        table = _analyse(problem, space, pd.DataFrame({outcome: mean}), seed)
        if table.empty:
            continue
        per_draw = pd.concat([_analyse(problem, space, pd.DataFrame({outcome: d}), seed)
                              for d in draws_y])
        spread = per_draw.groupby("parameter", sort=False)[["S1", "ST"]].std()
        for index in ("S1", "ST"):  # bootstrap and emulator uncertainty together
            emulated = 1.96 * spread.loc[table["parameter"], index].to_numpy()
            table[f"{index}_conf"] = np.hypot(table[f"{index}_conf"].to_numpy(), emulated)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _gp_draws(mean: np.ndarray, cov: np.ndarray, draws: int,
              rng: np.random.Generator) -> np.ndarray:
    """``draws`` samples of the emulated function at the design's points (Cholesky with a
    small jitter: a third of the time of an eigendecomposition at 3,584 points)."""
    jitter = 1e-9 * max(float(np.mean(np.diag(cov))), 1e-300)
    for _ in range(6):
        try:
            factor = np.linalg.cholesky(cov + jitter * np.eye(len(cov)))
            break
        except np.linalg.LinAlgError:
            jitter *= 100
    else:
        raise np.linalg.LinAlgError("the emulator's covariance is not positive definite")
    return mean + rng.standard_normal((draws, len(mean))) @ factor.T


def _analyse(problem: dict, space: Space, y: pd.DataFrame, seed: int) -> pd.DataFrame:
    rows = []
    for outcome in y.columns:
        values = y[outcome].to_numpy(dtype=float)
        if not np.isfinite(values).all() or np.ptp(values) == 0:
            continue  # e.g. cost per WELLBY where some point gains no WELLBYs
        result = sobol_analyze.analyze(problem, values, calc_second_order=False, seed=seed)
        for i, name in enumerate(space.names):
            rows.append({"outcome": outcome, "parameter": name, "S1": result["S1"][i],
                         "S1_conf": result["S1_conf"][i], "ST": result["ST"][i],
                         "ST_conf": result["ST_conf"][i]})
    return pd.DataFrame(rows)


def model_evaluator(space: Space, scenarios: list, place: str, fixed: dict, seeds: list[int],
                    years: float, store: RunStore, executor, label: str) -> Evaluate:
    """``evaluate(X)`` for the model: each row of X, each scenario and seed is one run
    (stored by run id, resumable); returns per point the status-quo levels and each
    scenario's paired effects averaged over seeds."""
    baseline = scenarios[0]

    def evaluate_fn(x: np.ndarray) -> pd.DataFrame:
        specs = [RunSpec.make(f"{s.name}@{label}", place, s.rules,
                              {**s.parameters, **fixed, **space.values(row)}, seed, years,
                              point=i)
                 for i, row in enumerate(x) for s in scenarios for seed in seeds]
        rows = evaluate(specs, store, executor, run=execute, desc=label)
        rows["scenario"] = rows["scenario"].str.rsplit("@", n=1).str[0]
        return policy_outcomes(rows, baseline.name, [s.name for s in scenarios[1:]])

    return evaluate_fn


def policy_outcomes(rows: pd.DataFrame, baseline: str, others: list[str]) -> pd.DataFrame:
    """Per point: status-quo levels and each scenario's paired effects, means over seeds."""
    base = rows[rows.scenario == baseline].set_index(["point", "seed"])
    out = base.groupby("point")[list(LEVELS)].mean()
    for name in others:
        runs = rows[rows.scenario == name].set_index(["point", "seed"])
        effects = pd.DataFrame([compare(runs.loc[k], base.loc[k], base.loc[k, "wellby_value_gbp"])
                                for k in runs.index], index=runs.index)
        means = effects.groupby("point")[list(EFFECTS[:-1])].mean()
        gain = means["wellby_gain_disc"]
        extra = effects.groupby("point")["extra_spend_gbp_disc"].mean()
        means["cost_per_wellby"] = np.where(gain > 0, extra / gain.where(gain > 0), np.nan)
        out = out.join(means.add_prefix(f"{name}:"))
    return out.sort_index().reset_index(drop=True)


def write_figures(morris: pd.DataFrame | None, sobol: pd.DataFrame | None, folder: Path,
                  title: str) -> list[Path]:
    """mu*-sigma plots and S1/ST bars with intervals, one PNG per outcome group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for kind, table in (("morris", morris), ("sobol", sobol)):
        if table is None or table.empty:
            continue
        outcomes = list(dict.fromkeys(table["outcome"]))
        cols = min(3, len(outcomes))
        rows = -(-len(outcomes) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
        for ax, outcome in zip(axes.flat, outcomes, strict=False):
            part = table[table.outcome == outcome]
            if kind == "morris":
                ax.errorbar(part.mu_star, part.sigma, xerr=part.mu_star_conf, fmt="o", ms=4)
                for _, r in part.iterrows():
                    ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7)
                ax.set_xlabel("mu* (mean |elementary effect|)")
                ax.set_ylabel("sigma (interactions, non-linearity)")
            else:
                position = np.arange(len(part))
                ax.barh(position - 0.2, part.S1, 0.4, xerr=part.S1_conf, label="S1 (alone)")
                ax.barh(position + 0.2, part.ST, 0.4, xerr=part.ST_conf,
                        label="ST (with interactions)")
                ax.set_yticks(position, part.parameter, fontsize=7)
                ax.set_xlabel("share of variance")
                ax.legend(fontsize=7)
            ax.set_title(outcome, fontsize=9)
        for ax in list(axes.flat)[len(outcomes):]:
            ax.axis("off")
        fig.suptitle(f"{title}: {'Morris screening' if kind == 'morris' else 'Sobol indices'}")
        fig.tight_layout(rect=(0, 0, 1, 0.97))  # leave room for the title
        path = folder / f"{kind}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def save_tables(morris: pd.DataFrame | None, sobol: pd.DataFrame | None, folder: Path) -> None:
    """Write the index tables as CSV (atomically)."""
    if morris is not None:
        write_csv(morris, folder / "morris.csv")
    if sobol is not None:
        write_csv(sobol, folder / "sobol.csv")


def count_runs(spec, limit: int = DEFAULT_MAX_RUNS) -> int:
    """The analysis's runs, from the spec's numbers before any is built: Morris trajectories
    x (parameters + 1) points and Sobol's points (N x (parameters + 2) direct, or the
    emulator's design), each x scenarios x seeds; refused above ``limit``."""
    d, per_point = spec.space.dim, len(spec.scenarios) * spec.seeds
    counts = {}
    if spec.morris:
        counts["Morris runs (trajectories x (parameters + 1) x scenarios x seeds)"] = (
            spec.morris["trajectories"] * (d + 1) * per_point)
    if spec.sobol:
        points = (spec.sobol["n"] * (d + 2) if spec.sobol["method"] == "direct"
                  else spec.sobol["design"])
        counts["Sobol runs (points x scenarios x seeds)"] = points * per_point
    return total_runs(str(spec.path), "this sensitivity analysis", counts, limit)


def sensitivity_id(spec) -> str:
    """The analysis's id: the spec's text and the model (the status-quo run id at the
    spec's settings, which hashes the model version, the defaults and the place)."""
    base = spec.scenarios[0]
    reference = RunSpec.make(base.name, spec.place, base.rules, {**base.parameters,
                                                                 **spec.fixed}, 0, spec.years)
    return analysis_id("sen", {"spec": spec.text, "model": reference.run_id})


def run_sensitivity(spec, out: Path, executor, max_runs: int = DEFAULT_MAX_RUNS
                    ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Morris, then Sobol, as the spec asks, into ``out`` (resumable); tables and figures."""
    from calibration.problem import point_seed

    count_runs(spec, max_runs)
    claim(out, "sensitivity", sensitivity_id(spec), f"abm sensitivity {spec.path}: "
          f"{spec.description}")
    write_text(spec.text, out / "spec.yaml")
    store = RunStore(out)
    seeds = [point_seed(spec.master_seed, "sensitivity", k) for k in range(spec.seeds)]

    def evaluator(label: str) -> Evaluate:
        return model_evaluator(spec.space, list(spec.scenarios), spec.place, spec.fixed, seeds,
                               spec.years, store, executor, label)

    morris = sobol = None
    if spec.morris:
        morris = morris_indices(spec.space, evaluator("morris"), spec.morris["trajectories"],
                                spec.morris["levels"], seed=spec.master_seed % 2**32)
    if spec.sobol:
        sobol = sobol_indices(spec.space, evaluator("sobol"), spec.sobol["n"],
                              seed=spec.master_seed % 2**32, method=spec.sobol["method"],
                              design=spec.sobol["design"], draws=spec.sobol["draws"])
    save_tables(morris, sobol, out)
    write_figures(morris, sobol, out, f"{spec.place}, {spec.years:g} policy years")
    return morris, sobol


def format_ranking(morris: pd.DataFrame | None, sobol: pd.DataFrame | None, top: int = 3) -> str:
    """For each outcome, the parameters that matter most, in words."""
    lines = []
    if sobol is not None and not sobol.empty:
        lines.append("Sobol total-order indices (share of the outcome's variance each parameter "
                     "is involved in, 95% interval):")
        for outcome, part in sobol.groupby("outcome", sort=False):
            best = part.sort_values("ST", ascending=False).head(top)
            lines.append(f"  {outcome}: " + "; ".join(
                f"{r.parameter} {r.ST:.2f} [{r.ST - r.ST_conf:.2f}, {r.ST + r.ST_conf:.2f}]"
                for r in best.itertuples()))
    elif morris is not None and not morris.empty:
        lines.append("Morris mu* (mean absolute elementary effect, outcome units):")
        for outcome, part in morris.groupby("outcome", sort=False):
            best = part.sort_values("mu_star", ascending=False).head(top)
            lines.append(f"  {outcome}: " + "; ".join(
                f"{r.parameter} {r.mu_star:.3g}" for r in best.itertuples()))
    return "\n".join(lines)
