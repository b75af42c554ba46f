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
# # Sensitivity and calibration, small
#
# Which assumptions decide a strategy's effect, and which parameter values agree with the
# evidence? This notebook runs both analyses at a toy size so that it takes a minute or two;
# `calibration/specs/` holds the full-size specs (`abm sensitivity`, `abm calibrate`).
#
# Stored as text (jupytext percent format); the test suite executes it.

# %%
import tempfile
from pathlib import Path

import pandas as pd

from calibration.calibrate import run_calibration
from calibration.sensitivity import run_sensitivity
from calibration.spec import load_calibration_spec, load_sensitivity_spec
from calibration.targets import load_targets
from experiments.executors import SerialExecutor

folder = Path(tempfile.mkdtemp())
SIZE = "{n_neighbourhoods: 15, residents_per_neighbourhood: 30, burn_in_years: 1}"

# %% [markdown]
# ## The targets
#
# Each published figure with its uncertainty (sampling error and an allowance for what the
# model cannot match), its source and the model output it is compared with.

# %%
targets = load_targets()
pd.DataFrame([{"target": t.name, "value": t.value, "sd": round(t.sd, 4), "output": t.output}
              for t in targets.values()])

# %% [markdown]
# ## Morris screening of a strategy's effect
#
# Two parameters over their plausible ranges (from the parameter declaration), the status
# quo and sustain at each point with the same seed: the effect is a paired difference.

# %%
(folder / "sensitivity.yaml").write_text(
    "place: bradford\nscenarios: [baseline, sustain]\n"
    "parameters: [uptake_rate, attendance_effect_eq5d]\n"
    f"fixed: {SIZE}\nyears: 1\nseeds: 1\nmaster_seed: 1\nmorris: {{trajectories: 3}}\n")
morris, _ = run_sensitivity(load_sensitivity_spec(folder / "sensitivity.yaml"),
                            folder / "sensitivity", SerialExecutor())
morris.pivot(index="parameter", columns="outcome", values="mu_star").round(4)

# %% [markdown]
# ## Calibration: history matching, then ABC-SMC
#
# One history-matching wave rules out implausible values of the baseline wellbeing and the
# willingness to start; ABC-SMC (on the wave's emulator) gives the posterior; the fit report
# sets each target beside the model before and after.

# %%
(folder / "calibration.yaml").write_text(
    "places: [bradford]\nparameters: [wellbeing_least_deprived, uptake_rate]\n"
    f"fixed: {SIZE}\ntargets: [mean_life_satisfaction, past_year_participation_q1]\n"
    "held_out: [past_year_participation_q5]\nyears: 1.6\nmaster_seed: 2\n"
    "history_matching: {waves: 1, points: 10, seeds: 1, candidates: 2000}\n"
    "abc: {population: 50, generations: 2, simulator: emulator}\ndraws: 3\n")
summary = run_calibration(load_calibration_spec(folder / "calibration.yaml"),
                          folder / "calibration", SerialExecutor())
pd.read_csv(folder / "calibration" / "parameters.csv")

# %%
report = pd.read_csv(folder / "calibration" / "fit_report.csv")
report[["target", "fitted", "value", "sd", "uncalibrated", "calibrated", "calibrated_lo",
        "calibrated_hi"]].round(4)
