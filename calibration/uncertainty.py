"""The main comparison under parameter uncertainty: posterior draws x seeds
(``abm uncertainty SWEEP --posterior FILE --out DIR``).

Every scenario of a sweep file runs at each posterior draw (calibrated parameters replaced by
the draw's values) with the first ``seeds`` of the sweep's seeds, paired with the status quo
at the same draw and seed. For each strategy and place:

- the mean change over draws and seeds, and a 90% interval over draws of the seed-averaged
  change: the spread that parameter uncertainty (plus the remaining seed noise) leaves;
- the probability that the strategy gains WELLBYs, and that it narrows the q5-q1 gap: the
  share of posterior draws whose seed-averaged change has that sign, with its Monte Carlo
  standard error sqrt(p(1 - p) / n) over the n draws (p taken as (k + 1) / (n + 2) for k
  draws of n, so that 0 or n of n is not given an error of 0). A probability near 0.5 says
  the evidence does not settle the answer; one of 0.6 from 50 draws has an error of 0.07.

**The posterior file** (``--posterior``) is the ``posterior.parquet`` of a calibration: a
regular file, with ``calibration.json`` beside it, whose columns are exactly the calibrated
parameters that file names, every value numeric, finite and inside the calibrated range.
``--draws N`` takes its first N rows; asking for more draws than it holds resamples N from
the weighted particles beside it (``posterior_particles.parquet``, held to the same contract
plus a ``weight`` column), with a seed made from the particles file's bytes (the same draws
wherever the calibration's folder lives).

**Outputs** (the report's uncertainty section reads them; keep these names and columns):

``manifest.json``
    ``kind`` ("uncertainty"), ``analysis_id``, ``status`` ("running", then "complete"),
    ``sweep`` (path, sha256, text), ``posterior`` (path, sha256, ``calibration_id``),
    ``draws``, ``seeds``, ``seed_values``, ``baseline``, ``scenarios``, ``places``,
    ``runs`` (how many), ``files`` (each output file's name -> sha256 of its bytes, and
    ``parts``: the run parts' names, each carrying the checksum of its bytes, as a sweep's),
    ``provenance`` (package versions, git commit), ``created_at``, ``finished_at``.
``effects.csv``
    One row per strategy, place, draw and seed: ``scenario``, ``place``, ``draw`` and
    ``seed`` (int64), then the paired changes against the same-draw, same-seed status quo:
    ``wellby_gain_disc``, ``wellby_gain``, ``delta_gap_q5_q1``, ``delta_sii``,
    ``extra_spend_gbp_disc``, ``net_benefit_gbp``.
``uncertainty_table.csv``
    One row per place and strategy: ``place``, ``scenario``, ``draws``, ``seeds``; for each
    change above its mean over draws and seeds and ``<name>_lo``/``<name>_hi`` (the 90%
    interval over draws); ``p_gains_wellbys`` and ``p_gains_wellbys_se``,
    ``p_narrows_gap`` and ``p_narrows_gap_se`` (probabilities and their Monte Carlo
    standard errors); ``cost_per_wellby`` (mean extra spend / mean WELLBYs gained, where
    positive).
``uncertainty_table.txt``
    The table in words, as printed.
``runs/part-*.parquet``
    Every run's summary row (checksummed parts, resumable by run id).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abm.analysis.compare import compare
from abm.files import yamlfile
from abm.files.errors import InputError, clipped
from abm.files.io import write_csv, write_json, write_text
from abm.files.provenance import provenance
from abm.model.parameters import BY_NAME
from abm.model.runs import RunSpec, execute
from calibration.bounds import check_runs
from calibration.evaluate import RunStore, evaluate
from calibration.folder import analysis_id, claim
from calibration.problem import plausible_range, point_seed, typed
from experiments.spec import DEFAULT_MAX_RUNS, Sweep

#: Paired changes reported (WELLBYs and spend discounted at the Green Book rates, as
#: :func:`abm.analysis.compare.compare` gives them; undiscounted WELLBYs beside them).
EFFECTS = ("wellby_gain_disc", "wellby_gain", "delta_gap_q5_q1", "delta_sii",
           "extra_spend_gbp_disc", "net_benefit_gbp")
#: Default posterior draws and seeds per draw (issue 23: at least 50 x 2).
DRAWS, SEEDS = 50, 2
#: Largest posterior file read (bytes) and most draws taken from it.
MAX_BYTES = 256 << 20
MAX_DRAWS = 100_000
PARTICLES = "posterior_particles.parquet"


def read_draws(path: str | Path, limit: int | None = None) -> pd.DataFrame:
    """Posterior draws held to the contract of the module docstring: ``limit`` of them (all
    if None), the first rows of the file or, beyond its length, resampled from the
    particles beside it. Raise :class:`InputError` (one line naming the file and what is
    wrong) otherwise."""
    path = Path(path)
    names, bounds = _calibrated(path)
    draws = _table(path, names, bounds)
    if limit is None or limit <= len(draws):
        return draws.head(limit).reset_index(drop=True) if limit else draws
    particles_path = path.parent / PARTICLES
    if not (particles_path.exists() or particles_path.is_symlink()):
        raise InputError(f"{path}: holds {len(draws):,} draws and --draws asks for {limit:,}, "
                         f"and there is no {PARTICLES} beside it to draw more from: allowed is "
                         f"--draws up to {len(draws):,}")
    particles = _table(particles_path, names, bounds, weights=True)
    # Seeded by the particles' bytes, not where the file lives: every copy of a calibration
    # (a clone in another folder, a cluster's working directory) resamples the same draws.
    rng = np.random.default_rng(point_seed(0, "uncertainty-draws", _sha256(particles_path)))
    weights = particles["weight"].to_numpy(dtype=float)
    picked = rng.choice(len(particles), limit, p=weights / weights.sum())
    return particles.iloc[picked][names].reset_index(drop=True)


def _calibrated(path: Path) -> tuple[list[str], dict]:
    """The calibrated parameters and their ranges, from ``calibration.json`` beside ``path``."""
    summary_path = path.parent / "calibration.json"
    try:
        summary = json.loads(yamlfile.read_text(summary_path))
    except InputError as error:
        raise InputError(f"{path}: a posterior file needs the calibration.json of its "
                         f"calibration beside it ({error.problems[0]}): allowed is the "
                         "posterior.parquet of `abm calibrate`") from None
    except ValueError:
        summary = None
    names = summary.get("parameters") if isinstance(summary, dict) else None
    if not (isinstance(names, list) and names and all(n in BY_NAME for n in names)):
        raise InputError(f"{summary_path}: damaged: 'parameters' must list the calibrated "
                         "parameters")
    bounds = summary.get("bounds") or {}
    out = {}
    for name in names:
        span = bounds.get(name)
        try:
            out[name] = (tuple(map(float, span)) if isinstance(span, list) and len(span) == 2
                         else plausible_range(name))
        except (InputError, TypeError, ValueError):
            p = BY_NAME[name]
            out[name] = (float(p.low), float(p.high))
    return names, out


def _table(path: Path, names: list[str], bounds: dict, weights: bool = False) -> pd.DataFrame:
    """The Parquet file at ``path``, checked: a regular file whose columns are exactly
    ``names`` (and ``weight``), numeric, finite and within ``bounds``."""
    content = yamlfile.read_bytes(path, MAX_BYTES)  # a regular file of a sane size
    try:
        frame = pq.read_table(pa.BufferReader(content)).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(f"{path}: not readable as Parquet ({clipped(str(error), 120)}): "
                         "allowed is the posterior.parquet of `abm calibrate`") from None
    expected = [*names, "weight"] if weights else names
    columns = [str(c) for c in frame.columns]
    if sorted(columns) != sorted(expected):
        extra = sorted(set(columns) - set(expected))
        missing = sorted(set(expected) - set(columns))
        raise InputError(f"{path}: columns must be exactly the calibrated parameters of its "
                         f"calibration.json{' and weight' if weights else ''}; "
                         f"{'extra: ' + clipped(', '.join(extra), 200) if extra else ''}"
                         f"{'; ' if extra and missing else ''}"
                         f"{'missing: ' + clipped(', '.join(missing), 200) if missing else ''}")
    if frame.empty or len(frame) > MAX_DRAWS:
        raise InputError(f"{path}: holds {len(frame):,} rows: allowed is 1 to {MAX_DRAWS:,} "
                         "draws")
    for name in expected:
        column = frame[name]
        if not (pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)):
            raise InputError(f"{path}: column '{name}' holds {column.dtype} values: allowed "
                             "are numbers")
        values = column.to_numpy(dtype=float)
        low, high = bounds.get(name, (0.0, np.inf))
        bad = ~np.isfinite(values) | (values < low) | (values > high)
        if name == "weight":
            bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = int(np.argmax(bad))
            allowed = ("a number >= 0" if name == "weight"
                       else f"a number from {low:g} to {high:g} (the calibrated range)")
            raise InputError(f"{path}: row {row}, '{name}' = {float(values[row])!r}: allowed is "
                             f"{allowed}")
    return frame[expected].reset_index(drop=True)


def count_runs(sweep: Sweep, draws: int, seeds: int, where: str,
               limit: int = DEFAULT_MAX_RUNS) -> int:
    """The comparison's runs (scenarios x places x draws x seeds), refused above ``limit``."""
    places = len(sweep.places) if sweep.places else 1
    return check_runs(where, "this comparison", {"scenario(s)": len(sweep.scenarios),
                                                 "place(s)": places, "draw(s)": draws,
                                                 "seed(s)": seeds}, limit)


def draw_specs(sweep: Sweep, draws: pd.DataFrame) -> list[RunSpec]:
    """Every scenario x place x draw x seed of ``sweep``; the draw's values replace the
    calibrated parameters (a scenario's own lever settings are not calibrated)."""
    seeds = sweep.seed_values()
    specs = []
    for scenario in sweep.scenarios:
        for place in sweep.places or (scenario.place,):
            for index, draw in enumerate(draws.to_dict("records")):
                values = typed(draw)
                parameters = {**scenario.parameters, **sweep.parameters, **values}
                specs += [RunSpec.make(scenario.name, place, scenario.rules, parameters, seed,
                                       sweep.years, point=index) for seed in seeds]
    return specs


def paired_effects(rows: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per scenario, place, draw and seed: the change against the same-draw, same-seed
    status quo (``draw`` and ``seed`` as int64)."""
    base = rows[rows.scenario == baseline].set_index(["place", "point", "seed"])
    out = []
    for row in rows[rows.scenario != baseline].to_dict("records"):
        ref = base.loc[(row["place"], row["point"], row["seed"])]
        effect = compare(row, ref, float(ref["wellby_value_gbp"]))
        out.append({"scenario": row["scenario"], "place": row["place"], "draw": row["point"],
                    "seed": row["seed"], **{k: effect[k] for k in EFFECTS}})
    frame = pd.DataFrame(out, columns=["scenario", "place", "draw", "seed", *EFFECTS])
    return frame.astype({"draw": "int64", "seed": "int64"})


def standard_error(successes: int, n: int) -> float:
    """Monte Carlo standard error of a share of ``n`` draws (see the module docstring)."""
    p = (successes + 1) / (n + 2)
    return float(np.sqrt(p * (1 - p) / n)) if n else float("nan")


def uncertainty_table(effects: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and place: mean changes, 90% intervals over draws, and probabilities
    with their Monte Carlo standard errors."""
    per_draw = effects.groupby(["place", "scenario", "draw"], sort=False)[list(EFFECTS)].mean()
    rows = []
    for (place, scenario), part in per_draw.groupby(level=["place", "scenario"], sort=False):
        n = len(part)
        row = {"place": place, "scenario": scenario, "draws": n,
               "seeds": int(effects[(effects.place == place)
                                    & (effects.scenario == scenario)]["seed"].nunique())}
        for name in EFFECTS:
            lo, hi = np.quantile(part[name], [0.05, 0.95])
            row |= {name: float(part[name].mean()), f"{name}_lo": float(lo),
                    f"{name}_hi": float(hi)}
        gains = int((part["wellby_gain_disc"] > 0).sum())
        narrows = int((part["delta_gap_q5_q1"] < 0).sum())
        row |= {"p_gains_wellbys": gains / n, "p_gains_wellbys_se": standard_error(gains, n),
                "p_narrows_gap": narrows / n, "p_narrows_gap_se": standard_error(narrows, n)}
        gain, extra = part["wellby_gain_disc"].mean(), part["extra_spend_gbp_disc"].mean()
        row["cost_per_wellby"] = float(extra / gain) if gain > 0 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).astype({"draws": "int64", "seeds": "int64"})


def format_uncertainty(table: pd.DataFrame, baseline: str) -> str:
    """The table in words and rounded numbers."""
    lines = [f"Change against '{baseline}' under parameter uncertainty "
             "(mean over posterior draws and seeds [90% interval over draws])"]
    out = []
    for r in table.to_dict("records"):
        out.append({
            "place": r["place"], "strategy": r["scenario"], "draws x seeds":
                f"{r['draws']} x {r['seeds']}",
            "WELLBYs (disc.)": f"{r['wellby_gain_disc']:+,.0f} [{r['wellby_gain_disc_lo']:+,.0f}, "
                               f"{r['wellby_gain_disc_hi']:+,.0f}]",
            "P(gains)": f"{r['p_gains_wellbys']:.0%} (s.e. {r['p_gains_wellbys_se']:.0%})",
            "q5-q1 gap": f"{r['delta_gap_q5_q1']:+.4f} [{r['delta_gap_q5_q1_lo']:+.4f}, "
                         f"{r['delta_gap_q5_q1_hi']:+.4f}]",
            "P(narrows)": f"{r['p_narrows_gap']:.0%} (s.e. {r['p_narrows_gap_se']:.0%})",
            "verdict": _verdict(r),
        })
    lines.append(pd.DataFrame(out).to_string(index=False))
    lines.append("WELLBYs: totals for the whole place over the policy years, discounted at "
                 "the Green Book health rate. "
                 "P(gains): share of posterior draws in which the strategy gains WELLBYs; "
                 "P(narrows): in which it narrows the gap between the most and least deprived "
                 "fifths; s.e.: the Monte Carlo standard error of that share from this many "
                 "draws. Near 50%: the evidence does not settle it.")
    return "\n".join(lines)


def _verdict(r: dict) -> str:
    gain, narrow = r["p_gains_wellbys"], r["p_narrows_gap"]
    words = ("likely gains" if gain >= 0.9 else "likely loses" if gain <= 0.1
             else "unsure on WELLBYs")
    words += (", likely narrows the gap" if narrow >= 0.9 else ", likely widens the gap"
              if narrow <= 0.1 else ", unsure on the gap")
    return words


def uncertainty_id(sweep: Sweep, draws: pd.DataFrame, posterior: Path | None = None) -> str:
    """The comparison's id: the sweep file, the posterior (the file's SHA-256, or the first
    draw's values) and the model (the first run's id, which hashes the model version, the
    defaults and the place). Not the numbers of draws and seeds: asking for more reuses the
    runs already made (more draws extend the same sequence of draws, more seeds the same
    sequence of seeds)."""
    first = draw_specs(dataclasses.replace(sweep, seeds=1), draws.head(1))[0]
    source = (_sha256(posterior) if posterior is not None
              else json.dumps(draws.head(1).to_dict("records")))
    return analysis_id("unc", {"sweep": sweep.text, "baseline": sweep.baseline,
                               "posterior": source, "model": first.run_id})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_uncertainty(sweep: Sweep, draws: pd.DataFrame, out: Path, executor,
                    posterior: Path | None = None) -> tuple[pd.DataFrame, str]:
    """Run (or resume) the comparison over draws x seeds into ``out`` (claimed first, a
    manifest written before any run and completed at the end); return the table and its
    text."""
    specs = draw_specs(sweep, draws)
    ids = [s.run_id for s in specs]
    posterior_info = {"path": str(posterior) if posterior else None,
                      "sha256": _sha256(posterior) if posterior else None,
                      "calibration_id": _calibration_id(posterior)}
    identity = uncertainty_id(sweep, draws, posterior)
    claim(out, "uncertainty", identity,
          f"abm uncertainty {sweep.path} --posterior {posterior}: {len(draws)} draws x "
          f"{sweep.seeds} seeds")
    manifest = {
        "kind": "uncertainty", "analysis_id": identity, "status": "running",
        "sweep": {"path": str(sweep.path), "sha256": hashlib.sha256(sweep.text.encode())
                  .hexdigest(), "text": sweep.text},
        "posterior": posterior_info, "draws": len(draws), "seeds": sweep.seeds,
        "seed_values": sweep.seed_values(), "baseline": sweep.baseline,
        "scenarios": [s.name for s in sweep.scenarios],
        "places": list(sweep.places) if sweep.places else None, "runs": len(ids),
        "provenance": provenance(), "files": {},
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_json(manifest, out / "manifest.json")
    rows = evaluate(specs, RunStore(out), executor, run=execute, desc="draws x seeds")
    effects = paired_effects(rows, sweep.baseline)
    table = uncertainty_table(effects)
    text = format_uncertainty(table, sweep.baseline)
    written = [write_csv(effects, out / "effects.csv"),
               write_csv(table, out / "uncertainty_table.csv"),
               write_text(text, out / "uncertainty_table.txt")]
    manifest["files"] = {p.name: _sha256(p) for p in written}
    manifest["files"]["parts"] = sorted(p.name for p in (out / "runs").glob("part-*.parquet"))
    manifest |= {"status": "complete",
                 "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    write_json(manifest, out / "manifest.json")
    return table, text


def _calibration_id(posterior: Path | None) -> str | None:
    if posterior is None:
        return None
    try:
        return json.loads((posterior.parent / "calibration.json").read_text())["calibration_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
