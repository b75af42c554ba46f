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
# ## Calibration: history matching, then ABC-SMC, then the checks
#
# One history-matching wave (two seeds per point, so the emulator learns the run-to-run noise
# point by point) rules out implausible values of the baseline wellbeing and the willingness
# to start; ABC-SMC on the wave's emulator gives the posterior, and stops at the first of its
# stopping rules, saying which. Every calibration comes with its checks: the posterior
# predictive check on the real model, the emulator's leave-out validation, and coverage over
# synthetic truths.

# %%
(folder / "calibration.yaml").write_text(
    "places: [bradford]\nparameters: [wellbeing_least_deprived, uptake_rate]\n"
    f"fixed: {SIZE}\ntargets: [mean_life_satisfaction, past_year_participation_q1]\n"
    "held_out: [past_year_participation_q5]\nyears: 1.6\nmaster_seed: 2\n"
    "history_matching: {waves: 1, points: 10, seeds: 2, candidates: 2000}\n"
    "abc: {population: 50, generations: 2, simulator: emulator}\ndraws: 3\n"
    "checks: {ppc_seeds: 2, coverage_truths: 2, validation_folds: 5}\n")
summary = run_calibration(load_calibration_spec(folder / "calibration.yaml"),
                          folder / "calibration", SerialExecutor())
print(summary["abc_stop"])

# %% [markdown]
# Per parameter: the prior (uniform over the plausible range) and the posterior, and how far
# the data moved it: `width_ratio` is the posterior 90% interval's width over the prior's
# (1: the targets say nothing about it), `shift` the move of the median in prior widths.

# %%
pd.read_csv(folder / "calibration" / "parameters.csv")[
    ["parameter", "prior_median", "prior_lo_90", "prior_hi_90", "median", "lo_90", "hi_90",
     "width_ratio", "shift", "identifiable"]].round(4)

# %% [markdown]
# The posterior predictive check: each target beside the model at the posterior draws
# (draws x seeds runs) and at the defaults; `share_within_2sd` is the share of runs within two
# target SDs.

# %%
report = pd.read_csv(folder / "calibration" / "fit_report.csv")
report[["target", "fitted", "value", "sd", "uncalibrated", "calibrated", "calibrated_lo",
        "calibrated_hi", "share_within_2sd"]].round(4)

# %%
pd.read_csv(folder / "calibration" / "emulator_validation.csv").round(3)
