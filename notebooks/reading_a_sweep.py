# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reading a sweep and making the report's figures
#
# A sweep's results folder holds `manifest.json` (what ran, with which code and seeds),
# `summary.parquet` (one row per run: every parameter and outcome), the comparison table and,
# if the sweep file says `record: weekly`, the weekly series. Point `SWEEP` at a folder made
# by `abm sweep` (e.g. `results/main` after `make main`); left empty, this notebook runs a
# tiny sweep of its own first.

# %%
import os
import tempfile
from pathlib import Path

import pandas as pd

from abm.analysis.figures import sweep_figures
from abm.report.document import make_report, read_sweep
from experiments.runner import run_sweep

SWEEP = os.environ.get("ABM_SWEEP", "")

# %%
if not SWEEP:
    workdir = Path(tempfile.mkdtemp(prefix="abm-sweep-"))
    spec = workdir / "tiny.yaml"
    spec.write_text(
        "description: Notebook sweep - tiny.\n"
        "scenarios: [baseline, sustain]\nplaces: [bradford]\nseeds: 3\nmaster_seed: 2\n"
        "years: 1\nrecord: weekly\n"
        "parameters: {n_neighbourhoods: 25, residents_per_neighbourhood: 30, burn_in_years: 1}\n")
    SWEEP = workdir / "results"
    run_sweep(spec, SWEEP, serial=True)
SWEEP = Path(SWEEP)

# %% [markdown]
# ## The runs and the comparison table

# %%
runs = pd.read_parquet(SWEEP / "summary.parquet")
runs[["run_id", "scenario", "place", "seed", "mean_wellbeing", "gap_q5_q1", "wellbeing_years"]]

# %%
sweep = read_sweep(SWEEP)  # from the checksummed parts; computes the tables, writes nothing
sweep.data.table[["place", "scenario", "delta_gap_q5_q1", "delta_gap_q5_q1_lo",
                  "delta_gap_q5_q1_hi", "wellby_gain_disc", "verdict_equity"]]

# %% [markdown]
# ## The report's figures
#
# `sweep_figures` draws F1-F12 (those the sweep can show) as PNG and SVG (the same as
# `abm plot`); each record says which runs it comes from.

# %%
records = sweep_figures(sweep.data, SWEEP / "report" / "figures")
[(r.id, r.title, len(r.run_ids)) for r in records]

# %% [markdown]
# ## The whole report
#
# The same as `abm report SWEEP`: `report.html` opens offline (figures embedded), with a
# Markdown twin; the codebook and a labelled table go into the results folder.

# %%
written = make_report(SWEEP)
print(written["html"])
print((SWEEP / "table_labelled.md").read_text()[:600])
