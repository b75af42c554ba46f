"""A sweep's answers over the calibration's posterior, for the report: ``abm uncertainty``
results read, matched to the sweep and summarised with Monte Carlo error.

:func:`read_effects` is the one place that knows the uncertainty folder's format (today
``effects.csv``: one row per strategy, place, posterior draw and seed, with the paired
changes against the same-draw, same-seed status quo; and, where the folder has one, a
``manifest.json`` naming the sweep file's SHA-256). Everything else here works on the frame it
returns, so a change of format is a change to that function.

Per strategy and place (:func:`posterior_table`): the mean change over draws and seeds, the
90% interval over draws of the seed-averaged change, and the probability that the strategy
gains discounted WELLBYs and that it narrows the q5-q1 gap: the share of draws in which it
does, with its Monte Carlo standard error ``sqrt(p (1 - p) / draws)`` (draws taken as
independent; zero when every draw agrees, so the count of draws is given beside it).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from abm.analysis.tables import basis_words, place_name, put, strategy_name
from abm.files import yamlfile
from abm.files.errors import InputError, clipped

#: The file of paired effects per draw and seed, and the columns read from it.
EFFECTS_FILE = "effects.csv"
KEYS = ("scenario", "place", "draw", "seed")
EFFECTS = ("wellby_gain_disc", "delta_gap_q5_q1")
#: Largest effects file read (bytes): about 200 bytes a row, so some 2.5 million rows.
MAX_BYTES = 512 << 20
#: The interval over draws (a 90% interval, as ``abm uncertainty`` prints).
INTERVAL = (0.05, 0.95)
#: A probability at least this far from one half is called "likely" in words.
LIKELY = 0.9


@dataclass(frozen=True)
class Uncertainty:
    """``abm uncertainty`` results for a sweep: the summary per strategy and place, and what
    to cite (the folder, the file's SHA-256, or the folder's manifest's)."""

    folder: Path
    table: pd.DataFrame
    cited_file: Path
    sha256: str


def read_effects(folder: str | Path) -> tuple[pd.DataFrame, dict | None, Path, str]:
    """The paired effects of an uncertainty folder (one row per strategy, place, draw and
    seed), its manifest (or None), and the file to cite with its SHA-256. Raises
    :class:`InputError` (one line naming the file, field and what is allowed)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--uncertainty {clipped(str(folder), 300)}: no such folder: allowed "
                         "is the --out folder of `abm uncertainty`")
    path = folder / EFFECTS_FILE
    raw = yamlfile.read_bytes(path, MAX_BYTES)
    try:
        effects = pd.read_csv(io.BytesIO(raw))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise InputError(f"{path}: not readable as CSV ({clipped(str(error), 120)}): allowed "
                         "is the effects.csv that `abm uncertainty` writes") from None
    missing = [c for c in (*KEYS, *EFFECTS) if c not in effects.columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(missing)}: allowed is the effects.csv "
                         "that `abm uncertainty` writes")
    if effects.empty:
        raise InputError(f"{path}: no rows: allowed is the effects of at least one draw")
    for column in ("draw", "seed", *EFFECTS):
        values = pd.to_numeric(effects[column], errors="coerce")
        if values.isna().any() or not np.isfinite(values).all():
            bad = effects[column][values.isna() | ~np.isfinite(values.fillna(0))].iloc[0]
            raise InputError(f"{path}: column '{column}' holds {clipped(str(bad), 40)!r}: "
                             "allowed is a finite number in every row")
        effects[column] = values
    for column in ("scenario", "place"):
        effects[column] = effects[column].astype(str)
    manifest = _manifest(folder)
    sha = (manifest or {}).get("manifest_sha256") or hashlib.sha256(raw).hexdigest()
    cited = folder / "manifest.json" if manifest else path
    return effects[[*KEYS, *EFFECTS]], manifest, cited, sha


def _manifest(folder: Path) -> dict | None:
    """The uncertainty folder's manifest, where it has one (with the SHA-256 of its bytes as
    ``manifest_sha256``); a damaged one is refused."""
    path = folder / "manifest.json"
    if not path.exists():
        return None
    raw = yamlfile.read_bytes(path, 256 << 20)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        manifest = None
    if not isinstance(manifest, dict):
        raise InputError(f"{path}: not a manifest (not a JSON mapping): run `abm uncertainty` "
                         "again to rebuild it")
    return manifest | {"manifest_sha256": hashlib.sha256(raw).hexdigest()}


def posterior_table(effects: pd.DataFrame) -> pd.DataFrame:
    """Per place and strategy: draws, seeds, the mean change over draws and seeds with the
    90% interval over draws (seed-averaged), and P(gains WELLBYs) and P(narrows the gap)
    with their Monte Carlo standard errors and the counts of draws behind them."""
    per_draw = effects.groupby(["place", "scenario", "draw"], sort=False)[list(EFFECTS)].mean()
    rows = []
    for (place, scenario), part in per_draw.groupby(level=["place", "scenario"], sort=False):
        n = len(part)
        row = {"place": place, "scenario": scenario, "draws": n,
               "seeds": int(effects[(effects.place == place) & (effects.scenario == scenario)]
                            ["seed"].nunique())}
        for name in EFFECTS:
            lo, hi = np.quantile(part[name], INTERVAL)
            row |= {name: float(part[name].mean()), f"{name}_lo": float(lo),
                    f"{name}_hi": float(hi)}
        for key, hits in (("gains", part["wellby_gain_disc"] > 0),
                          ("narrows", part["delta_gap_q5_q1"] < 0)):
            p = float(hits.mean())
            row |= {f"n_{key}": int(hits.sum()), f"p_{key}": p,
                    f"p_{key}_mcse": math.sqrt(p * (1 - p) / n)}
        rows.append(row)
    return pd.DataFrame(rows)


def read_uncertainty(folder: str | Path, sweep_pairs: set[tuple[str, str]],
                     spec_sha256: str | None, baseline: str) -> Uncertainty:
    """Read ``abm uncertainty`` results for a sweep whose strategies and places are
    ``sweep_pairs`` ((place, scenario), baseline left out): refused (one line) if they hold
    other strategies or places, or if their manifest names another sweep file."""
    folder = Path(folder)
    effects, manifest, cited, sha = read_effects(folder)
    other = (manifest or {}).get("spec_sha256")
    if isinstance(other, str) and spec_sha256 and other != spec_sha256:
        raise InputError(f"--uncertainty {folder}: made from another sweep file (sha256 "
                         f"{clipped(other, 20)}, this sweep's is {spec_sha256[:16]}...): "
                         "allowed is the uncertainty analysis of this sweep's file")
    effects = effects[effects.scenario != baseline]
    pairs = set(zip(effects.place, effects.scenario, strict=True))
    foreign = sorted(pairs - sweep_pairs)
    if foreign:
        place, scenario = foreign[0]
        raise InputError(f"--uncertainty {folder}: holds strategy '{clipped(scenario)}' in "
                         f"'{clipped(place)}', which this sweep does not compare: allowed is "
                         "the uncertainty analysis of this sweep's strategies and places")
    if not pairs:
        raise InputError(f"--uncertainty {folder}: holds no strategy other than "
                         f"'{clipped(baseline)}'")
    return Uncertainty(folder, posterior_table(effects), cited, sha)


def find_uncertainty(sweep_folder: Path, sweep_pairs: set[tuple[str, str]],
                     spec_sha256: str | None, baseline: str) -> Uncertainty | None:
    """``abm uncertainty`` results for this sweep, looked for where ``make main`` puts them
    (``uncertainty/`` beside or inside the results folder): used when they hold exactly the
    sweep's strategies and places (and, where they have a manifest, the same sweep file);
    None otherwise."""
    for candidate in (sweep_folder / "uncertainty", sweep_folder.parent / "uncertainty"):
        if not (candidate / EFFECTS_FILE).is_file():
            continue
        try:
            found = read_uncertainty(candidate, sweep_pairs, spec_sha256, baseline)
        except InputError:
            continue
        if set(zip(found.table.place, found.table.scenario, strict=True)) == sweep_pairs:
            return found
    return None


def uncertainty_display(table: pd.DataFrame) -> pd.DataFrame:
    """T10 for people: per place and strategy, discounted WELLBYs and the gap's change over
    the posterior (mean, 90% interval over draws) and how sure: P(gains) and P(narrows) with
    their Monte Carlo standard errors, the counts of draws, and words."""
    health, _ = basis_words()
    rows = []
    for _, r in table.iterrows():
        out = {"Place": place_name(r["place"]), "Strategy": strategy_name(r["scenario"]),
               "Draws x seeds": f"{r['draws']} x {r['seeds']}"}
        put(out, f"WELLBYs ({health}; 90% interval over draws)", r["wellby_gain_disc"],
            r["wellby_gain_disc_lo"], r["wellby_gain_disc_hi"], signed=True)
        gains = "P(gains WELLBYs, discounted)"
        put(out, gains, r["p_gains"], places=2)
        out[gains] += f" (MCSE {r['p_gains_mcse']:.2f}; {r['n_gains']} of {r['draws']} draws)"
        put(out, "Change in the q5-q1 gap (points; 90% interval over draws)",
            r["delta_gap_q5_q1"], r["delta_gap_q5_q1_lo"], r["delta_gap_q5_q1_hi"],
            signed=True)
        put(out, "P(narrows the gap)", r["p_narrows"], places=2)
        out["P(narrows the gap)"] += (f" (MCSE {r['p_narrows_mcse']:.2f}; {r['n_narrows']} "
                                      f"of {r['draws']} draws)")
        out["How sure"] = how_sure(r)
        rows.append(out)
    return pd.DataFrame(rows)


def how_sure(r) -> str:
    """In words: 'likely gains, unsure on the gap' (likely: P at least 0.9 or at most 0.1)."""
    gains, narrows = r["p_gains"], r["p_narrows"]
    words = ("likely gains WELLBYs" if gains >= LIKELY else "likely loses WELLBYs"
             if gains <= 1 - LIKELY else "unsure whether it gains WELLBYs")
    words += (", likely narrows the gap" if narrows >= LIKELY else ", likely widens the gap"
              if narrows <= 1 - LIKELY else ", unsure on the gap")
    return words


def sentence(r) -> str:
    """A sentence a board paper can lift: how sure the answer is, over the posterior."""
    return (f"Over {r['draws']} posterior draws, {strategy_name(r['scenario'])} in "
            f"{place_name(r['place'])} gains WELLBYs in {r['n_gains']} "
            f"(P = {r['p_gains']:.2f}, Monte Carlo SE {r['p_gains_mcse']:.2f}) and narrows the "
            f"gap in {r['n_narrows']} (P = {r['p_narrows']:.2f}, SE {r['p_narrows_mcse']:.2f}): "
            f"{how_sure(r)}.")
