"""Shared sweeps for the report tests: run once per session, in this process (serial: Ray is
not the point here), and never modified by a test (tests that damage a folder copy it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.runner import run_sweep

#: Three strategies in two places, tiny runs, weekly series for the figures over time.
SWEEP = """\
description: Report test - three strategies in two places, tiny runs.
scenarios: [baseline, scale, sustain]
places: [bradford, devon_ics]
seeds: 3
master_seed: 11
years: 1
record: weekly
parameters: {n_neighbourhoods: 30, residents_per_neighbourhood: 30, burn_in_years: 1}
"""
#: Posterior draws of the hand-made uncertainty results, and in how many of them each
#: strategy gains WELLBYs (the rest lose) and narrows the gap.
DRAWS = 12
GAINS = {"scale": 7, "sustain": 11}
NARROWS = {"scale": 12, "sustain": 1}


@pytest.fixture(scope="session")
def sweep_folder(tmp_path_factory) -> Path:
    """The results folder of :data:`SWEEP` (read-only for tests: copy it to change it), with
    hand-made ``abm uncertainty`` results beside it in ``../uncertainty/``."""
    base = tmp_path_factory.mktemp("sweep")
    spec = base / "sweep.yaml"
    spec.write_text(SWEEP)
    results = base / "results"
    assert run_sweep(spec, results, serial=True) == 0
    write_effects(base / "uncertainty")
    return results


def write_effects(folder: Path, places=("bradford", "devon_ics"), gains=None,
                  narrows=None) -> Path:
    """An ``effects.csv`` as ``abm uncertainty`` writes it: per strategy, place, draw and
    seed; the draw decides the sign (both seeds agree), so the shares are known exactly."""
    gains, narrows = gains or GAINS, narrows or NARROWS
    rows = []
    for scenario in gains:
        for place in places:
            for draw in range(DRAWS):
                for seed in (1, 2):
                    up = 1 if draw < gains[scenario] else -1
                    down = -1 if draw < narrows[scenario] else 1
                    rows.append({"scenario": scenario, "place": place, "draw": draw,
                                 "seed": seed, "wellby_gain_disc": up * (100.0 + draw + seed),
                                 "wellby_gain": up * 110.0,
                                 "delta_gap_q5_q1": down * 0.001 * (1 + draw),
                                 "delta_sii": 0.0, "extra_spend_gbp_disc": 0.0,
                                 "net_benefit_gbp": 0.0})
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "effects.csv", index=False)
    return folder


def mcse(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


@pytest.fixture
def sweep_copy(sweep_folder, tmp_path) -> Path:
    """A copy of the shared results folder that a test may damage (without its report)."""
    copy = tmp_path / "results"
    shutil.copytree(sweep_folder, copy, ignore=shutil.ignore_patterns("report", ".lock"))
    return copy
