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
# # Comparing scale, embed and sustain
#
# Each strategy runs with the same seeds as the status quo (the `baseline` scenario), so each
# is compared seed by seed. The sizes here are tiny so the notebook runs in under a minute:
# use more seeds and the default run size for results you would report (or a sweep file and
# `abm sweep`, see the next notebook).

# %%
from dataclasses import replace

from abm.analysis.compare import format_table, run_serially, specs_for, summary_table
from abm.analysis.dcea import dcea
from abm.analysis.figures import equity_impact_plane, forest
from abm.model.scenarios import load_scenario

SIZE = {"n_neighbourhoods": 25, "residents_per_neighbourhood": 30, "burn_in_years": 1}
SEEDS, YEARS = 3, 1

# %%
scenarios = [load_scenario(name) for name in ("baseline", "scale", "embed", "sustain")]
scenarios = [replace(s, parameters={**s.parameters, **SIZE}) for s in scenarios]
runs = run_serially(specs_for(scenarios, ["west_yorkshire"], SEEDS, YEARS))
len(runs)

# %% [markdown]
# ## Paired changes against the status quo
#
# Mean over seeds with 95% intervals of the paired differences; the last column says in words
# how each strategy compares on WELLBYs and money (cost-per-WELLBY intervals are paired BCa
# bootstraps over seeds).

# %%
table = summary_table(runs, baseline="baseline")
print(format_table(table, baseline="baseline"))

# %%
forest(table, "baseline")

# %% [markdown]
# ## Who gains, and at what health opportunity cost
#
# The distributional cost-effectiveness analysis splits health benefit and the health
# opportunity cost of extra spend by IMD quintile. Strategies are placed on the equity impact
# plane: up and right is better.

# %%
totals, by_quintile = dcea(runs, baseline="baseline")
headline = totals[(totals.threshold == "NICE 20k") & (totals.gradient == "moderate")]
headline[["scenario", "net_health_benefit_wellbys", "equity_impact_e10_95", "sii_reduction"]]

# %%
equity_impact_plane(totals)
