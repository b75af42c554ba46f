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
# # Quickstart: one place, one strategy, one run
#
# The model simulates residents of a real place (here Bradford), the community asset
# providers near them and an Integrated Care System (ICS) commissioner, one week per step.
# This notebook runs it small, so that it takes seconds; raise `n_neighbourhoods` and
# `residents_per_neighbourhood` (or leave them at their defaults) for real use.
#
# Stored as text (jupytext percent format): open it in Jupyter with jupytext installed, or
# run it as a script. The test suite executes it.

# %%
from abm import Model
from abm.analysis.compare import compare
from abm.analysis.figures import plot_run

SIZE = {"n_neighbourhoods": 30, "residents_per_neighbourhood": 40, "burn_in_years": 1}

# %% [markdown]
# ## Run the status quo and a strategy with the same seed
#
# The same seed means the same residents, shocks and choices: the difference between the two
# runs is the strategy's effect (common random numbers).

# %%
status_quo = Model("bradford", "status_quo", seed=1, **SIZE).run(years=2)
sustain = Model("bradford", "sustain", seed=1, **SIZE).run(years=2)
sustain.summary()[["mean_wellbeing", "gap_q5_q1", "sii", "p_attending_q1", "wellbeing_years"]]

# %% [markdown]
# ## What sustaining providers changed
#
# WELLBYs gained over the two policy years, extra spend and cost per WELLBY (overall and by
# IMD quintile; q1 is the most deprived). A negative change in the gap means it narrowed.

# %%
change = compare(sustain.summary(), status_quo.summary())
{name: round(change[name], 4) for name in
 ("delta_mean_wellbeing", "delta_gap_q5_q1", "wellby_gain", "extra_spend_gbp")}

# %% [markdown]
# ## Week by week
#
# `timeseries()` holds the weekly metrics (Mesa's DataCollector); `plot_run` draws them:
# wellbeing by quintile, the gap and slope index, uptake and providers.

# %%
weekly = sustain.timeseries()
assert weekly.year.max() == 2.0
figure = plot_run(sustain)
figure
