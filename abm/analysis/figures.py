"""Figures of one run and of a sweep, in a colour-blind-safe palette, saved as PNG and SVG.

One run (:func:`plot_run`): wellbeing by quintile, the gap and
SII, uptake by quintile, and providers open and closed, week by week.

A sweep (:func:`sweep_figures`, what ``abm plot DIR`` writes), each figure with a citable id:

- ``F1`` forest plot of the paired changes against the baseline, by strategy and place;
- ``F2`` the q5-q1 gap over time and ``F3`` wellbeing by quintile over time (weekly series);
- ``F4`` uptake by quintile;
- ``F5`` provider survival: providers open and cumulative closures over time (funding cliffs);
- ``F6`` cost per WELLBY by quintile;
- ``F7`` the equity impact plane and ``F8`` net health benefit by quintile
  (:mod:`abm.analysis.dcea`).

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), safe for the
common forms of colour blindness; lines also differ by style where colour carries meaning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, none opened

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from abm.analysis.dcea import HEADLINE_GRADIENT, HEADLINE_THRESHOLD
from abm.model.metrics import QUINTILES

#: Okabe-Ito colours: black, orange, sky blue, bluish green, yellow, blue, vermillion,
#: reddish purple.
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7")
#: Quintiles from most deprived (vermillion) to least deprived (blue).
QUINTILE_COLOURS = dict(zip(QUINTILES, ("#D55E00", "#E69F00", "#009E73", "#56B4E9",
                                        "#0072B2"), strict=True))
QUINTILE_LABELS = {"q1": "q1 (most deprived)", "q2": "q2", "q3": "q3", "q4": "q4",
                   "q5": "q5 (least deprived)"}
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
    "axes.grid": True, "grid.alpha": 0.3, "savefig.bbox": "tight", "svg.hashsalt": "abm",
}
DPI = 150


@dataclass
class FigureRecord:
    """A figure of a sweep: its citable id, what it shows and where it came from."""

    id: str
    slug: str
    title: str
    caption: str
    run_ids: list[str]
    files: dict[str, Path] = field(default_factory=dict)  # format -> path


#: Scenario colours: Okabe-Ito with yellow, the hardest to see on white, last.
SCENARIO_COLOURS = (*(c for c in OKABE_ITO if c != "#F0E442"), "#F0E442")


def scenario_colours(scenarios: Sequence[str]) -> dict[str, str]:
    """A colour per scenario, in order (the first, usually the baseline, black)."""
    return {s: SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)] for i, s in enumerate(scenarios)}


def save(figure: Figure, stem: str | Path) -> dict[str, Path]:
    """Save ``figure`` as ``stem.png`` and ``stem.svg``; return the paths by format."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt in ("png", "svg"):
        path = stem.with_suffix(f".{fmt}")
        tmp = path.with_name(f".{path.name}.tmp")
        with plt.rc_context(STYLE):  # svg.hashsalt: the same ids in every run
            figure.savefig(tmp, format=fmt, dpi=DPI, metadata=_metadata(fmt))
        tmp.replace(path)
        paths[fmt] = path
    plt.close(figure)
    return paths


def _metadata(fmt: str) -> dict:
    """No creation dates in the files: the same figure gives the same bytes."""
    return {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}


# --- one run ----------------------------------------------------------------------------------
def plot_run(model, path: str | Path | None = None) -> Figure:
    """Four panels of one run, week by week: wellbeing by quintile, the q5-q1 gap and SII,
    uptake by quintile, and providers open with cumulative closures. Year 0 is the policy
    start (the burn-in is shaded). Saved as PNG and SVG at ``path`` (a stem) if given."""
    ts = model.timeseries()
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
        (wellbeing, gap), (uptake, providers) = axes
        for q in QUINTILES:
            wellbeing.plot(ts.year, ts[f"wellbeing_{q}"], color=QUINTILE_COLOURS[q],
                           label=QUINTILE_LABELS[q])
            uptake.plot(ts.year, ts[f"p_attending_{q}"] * 100, color=QUINTILE_COLOURS[q],
                        label=QUINTILE_LABELS[q])
        wellbeing.set(title="Wellbeing by IMD quintile", ylabel="life satisfaction (0-10)")
        wellbeing.legend(ncols=2)
        uptake.set(title="Attending a community asset", ylabel="% of residents",
                   xlabel="years since the policy started")
        gap.plot(ts.year, ts.gap_q5_q1, color=OKABE_ITO[0], label="q5 - q1 gap")
        gap.plot(ts.year, ts.sii, color=OKABE_ITO[5], linestyle="--",
                 label="slope index of inequality")
        gap.set(title="Inequality (lower is better)", ylabel="life satisfaction points")
        gap.legend()
        providers.plot(ts.year, ts.n_open_providers, color=OKABE_ITO[3], label="open")
        providers.set(title="Providers", ylabel="providers open",
                      xlabel="years since the policy started")
        closed = providers.twinx()
        closed.plot(ts.year, ts.closures, color=OKABE_ITO[6], linestyle="--",
                    label="closed since policy start (right)")
        closed.set_ylabel("closures (cumulative)")
        closed.spines["right"].set_visible(True)
        closed.grid(False)
        lines = providers.get_lines() + closed.get_lines()
        providers.legend(lines, [line.get_label() for line in lines], loc="lower left")
        for ax in axes.flat:
            ax.axvspan(ts.year.min(), 0, color="0.9", zorder=0)
        figure.suptitle(f"{model.place.title}: {'+'.join(model.rules)}, seed {model.seed} "
                        "(grey: burn-in under the status quo)")
        figure.tight_layout()
    if path is not None:
        save(figure, path)
    return figure


# --- a sweep ----------------------------------------------------------------------------------
FOREST_OUTCOMES = (
    ("delta_mean_wellbeing", "Mean wellbeing", "life satisfaction points", "higher"),
    ("delta_gap_q5_q1", "q5 - q1 gap", "life satisfaction points", "lower"),
    ("delta_sii", "Slope index of inequality", "life satisfaction points", "lower"),
    ("wellby_gain", "WELLBYs gained", "WELLBYs over the policy years", "higher"),
)


def forest(table: pd.DataFrame, baseline: str) -> Figure:
    """Paired changes against ``baseline`` with 95% intervals, one row per strategy, one
    marker per place."""
    rows = table[table.scenario != baseline]
    scenarios = list(dict.fromkeys(rows.scenario))
    places = list(dict.fromkeys(rows.place))
    offsets = np.linspace(-0.25, 0.25, len(places)) if len(places) > 1 else [0.0]
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(1, len(FOREST_OUTCOMES), sharey=True,
                                    figsize=(3.0 * len(FOREST_OUTCOMES),
                                             1.0 + 0.45 * len(scenarios)))
        for ax, (column, title, unit, better) in zip(axes, FOREST_OUTCOMES, strict=True):
            for k, place in enumerate(places):
                sub = rows[rows.place == place].set_index("scenario").reindex(scenarios)
                y = np.arange(len(scenarios)) + offsets[k]
                error = np.vstack([sub[column] - sub[f"{column}_lo"],
                                   sub[f"{column}_hi"] - sub[column]])
                ax.errorbar(sub[column], y, xerr=np.nan_to_num(error), fmt=MARKERS[k],
                            color=OKABE_ITO[(k + 5) % len(OKABE_ITO)], capsize=2,
                            label=_title(place))
            ax.axvline(0, color="0.4", linewidth=0.8)
            ax.set(title=f"{title}\n({better} is better)", xlabel=unit)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
        axes[0].set_yticks(range(len(scenarios)), [_title(s) for s in scenarios])
        axes[0].invert_yaxis()
        axes[-1].legend(loc="best")
        figure.suptitle(f"Change against {_title(baseline)} (mean over seeds, 95% interval of "
                        "paired differences)")
        figure.tight_layout()
    return figure


def over_time(weekly: pd.DataFrame, column: str, title: str, ylabel: str,
              scale: float = 1.0) -> Figure:
    """``column`` of the weekly series, mean over seeds, one line per scenario, one panel per
    place (``weekly`` carries ``scenario`` and ``place``)."""
    places = list(dict.fromkeys(weekly.place))
    colours = scenario_colours(list(dict.fromkeys(weekly.scenario)))
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(1, len(places), figsize=(5 * len(places), 3.6),
                                    squeeze=False, sharey=True)
        for ax, place in zip(axes[0], places, strict=True):
            sub = weekly[(weekly.place == place) & (weekly.year > -1)]
            for i, (scenario, colour) in enumerate(colours.items()):
                line = sub[sub.scenario == scenario].groupby("year")[column].mean() * scale
                ax.plot(line.index, line.to_numpy(), color=colour,
                        linestyle=LINE_STYLES[i % len(LINE_STYLES)], label=_title(scenario))
            ax.axvline(0, color="0.4", linewidth=0.8)
            ax.set(title=_title(place), xlabel="years since the policy started")
        axes[0][0].set_ylabel(ylabel)
        axes[0][-1].legend(fontsize=7)
        figure.suptitle(title)
        figure.tight_layout()
    return figure


def wellbeing_by_quintile(weekly: pd.DataFrame) -> Figure:
    """Mean wellbeing of each quintile over time (mean over seeds): a row per place, a column
    per scenario."""
    places = list(dict.fromkeys(weekly.place))
    scenarios = list(dict.fromkeys(weekly.scenario))
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(len(places), len(scenarios), squeeze=False, sharex=True,
                                    sharey="row",
                                    figsize=(2.3 * len(scenarios) + 1, 2.3 * len(places)))
        for r, place in enumerate(places):
            for c, scenario in enumerate(scenarios):
                ax = axes[r][c]
                sub = weekly[(weekly.place == place) & (weekly.scenario == scenario)
                             & (weekly.year > -1)].groupby("year").mean(numeric_only=True)
                for q in QUINTILES:
                    ax.plot(sub.index, sub[f"wellbeing_{q}"], color=QUINTILE_COLOURS[q],
                            label=QUINTILE_LABELS[q])
                ax.axvline(0, color="0.4", linewidth=0.8)
                ax.set_title(f"{_title(scenario)}\n{_title(place)}", fontsize=8)
                if c == 0:
                    ax.set_ylabel("life satisfaction (0-10)")
                if r == len(places) - 1:
                    ax.set_xlabel("years")
        handles, labels = axes[0][0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="lower center", ncols=5, bbox_to_anchor=(0.5, -0.02))
        figure.suptitle("Wellbeing by IMD quintile over time (mean over seeds)")
        figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def uptake_by_quintile(results: pd.DataFrame) -> Figure:
    """Share attending a community asset in each quintile (final year, mean over seeds), a
    bar per scenario; past-year participation beside it where the model records it."""
    measures = [("p_attending", "attending now (final-year mean)")]
    if all(f"p_past_year_{q}" in results for q in QUINTILES):
        measures.append(("p_past_year", "attended in the past year"))
    places = list(dict.fromkeys(results.place))
    colours = scenario_colours(list(dict.fromkeys(results.scenario)))
    width = 0.8 / len(colours)
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(len(measures), len(places), squeeze=False, sharey="row",
                                    figsize=(5 * len(places), 3.4 * len(measures)))
        for r, (prefix, label) in enumerate(measures):
            for c, place in enumerate(places):
                ax = axes[r][c]
                sub = results[results.place == place]
                for i, (scenario, colour) in enumerate(colours.items()):
                    means = sub[sub.scenario == scenario][
                        [f"{prefix}_{q}" for q in QUINTILES]].mean() * 100
                    ax.bar(np.arange(5) + (i - (len(colours) - 1) / 2) * width, means,
                           width=width, color=colour, label=_title(scenario),
                           edgecolor="white", linewidth=0.3)
                ax.set_xticks(range(5), [QUINTILE_LABELS[q].replace(" (", "\n(")
                                         for q in QUINTILES])
                ax.set(title=f"{_title(place)}: {label}", ylabel="% of residents")
        axes[0][-1].legend(fontsize=7)
        figure.suptitle("Uptake by IMD quintile (higher is better)")
        figure.tight_layout()
    return figure


def provider_survival(weekly: pd.DataFrame | None, results: pd.DataFrame) -> Figure:
    """Funding cliffs. From weekly series: providers open relative to the policy start and
    cumulative closures per 100 providers open then, over time. Without weekly series: the
    share of providers surviving the policy period and closures per year, by scenario."""
    places = list(dict.fromkeys(results.place))
    colours = scenario_colours(list(dict.fromkeys(results.scenario)))
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(2, len(places), squeeze=False, sharex="row",
                                    figsize=(5 * len(places), 6.4))
        for c, place in enumerate(places):
            top, bottom = axes[0][c], axes[1][c]
            if weekly is not None:
                sub = weekly[(weekly.place == place) & (weekly.year > -1)]
                for i, (scenario, colour) in enumerate(colours.items()):
                    runs = sub[sub.scenario == scenario]
                    at_start = runs[runs.year <= 0].groupby("run_id").n_open_providers.last()
                    start = runs.run_id.map(at_start)
                    share = (runs.n_open_providers / start * 100).groupby(runs.year).mean()
                    closed = (runs.closures / start * 100).groupby(runs.year).mean()
                    style = LINE_STYLES[i % len(LINE_STYLES)]
                    top.plot(share.index, share.to_numpy(), color=colour, linestyle=style,
                             label=_title(scenario))
                    bottom.plot(closed.index, closed.to_numpy(), color=colour, linestyle=style)
                for ax in (top, bottom):
                    ax.axvline(0, color="0.4", linewidth=0.8)
                top.set(title=_title(place), ylabel="providers open\n(% of those at the start)")
                bottom.set(ylabel="closures since the start\n(per 100 open at the start)",
                           xlabel="years since the policy started")
            else:
                sub = results[results.place == place]
                names = list(colours)
                survival = [sub[sub.scenario == s].provider_survival.mean() * 100 for s in names]
                closures = [sub[sub.scenario == s].closures_per_year.mean() for s in names]
                top.bar(range(len(names)), survival, color=list(colours.values()))
                bottom.bar(range(len(names)), closures, color=list(colours.values()))
                top.set(title=_title(place),
                        ylabel="providers open at the start\nstill open at the end (%)")
                bottom.set(ylabel="closures per year")
                for ax in (top, bottom):
                    ax.set_xticks(range(len(names)), [_title(s) for s in names], rotation=30,
                                  ha="right")
        if weekly is not None:
            axes[0][-1].legend(fontsize=7)
        figure.suptitle("Provider survival and funding cliffs (more open, fewer closures is "
                        "better)")
        figure.tight_layout()
    return figure


def cost_per_wellby(table: pd.DataFrame, baseline: str) -> Figure:
    """Cost per WELLBY gained by quintile with 95% BCa intervals; where no WELLBYs were
    clearly gained there is no bar, and the verdict's first words are written instead."""
    rows = table[table.scenario != baseline]
    places = list(dict.fromkeys(rows.place))
    scenarios = list(dict.fromkeys(rows.scenario))
    colours = dict(zip(QUINTILES, QUINTILE_COLOURS.values(), strict=True))
    width = 0.8 / 6
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(len(places), 1, squeeze=False,
                                    figsize=(max(6.0, 1.3 * len(scenarios) + 2), 3.4 * len(places)))
        for ax, place in zip(axes[:, 0], places, strict=True):
            sub = rows[rows.place == place].set_index("scenario").reindex(scenarios)
            for k, suffix in enumerate(("", *(f"_{q}" for q in QUINTILES))):
                x = np.arange(len(scenarios)) + (k - 2.5) * width
                lo = sub[f"cost_per_wellby{suffix}_lo"].to_numpy(dtype=float)
                hi = sub[f"cost_per_wellby{suffix}_hi"].to_numpy(dtype=float)
                # a bar only where WELLBYs were clearly gained (the ratio is then bounded)
                value = np.where(np.isnan(lo), np.nan,
                                 sub[f"cost_per_wellby{suffix}"].to_numpy(dtype=float))
                low, high = value - lo, hi - value
                colour = OKABE_ITO[0] if not suffix else colours[suffix[1:]]
                label = "whole place" if not suffix else QUINTILE_LABELS[suffix[1:]]
                ax.bar(x, np.nan_to_num(value), width=width, color=colour, label=label,
                       yerr=np.nan_to_num(np.vstack([low, high])), capsize=1.5,
                       error_kw={"linewidth": 0.6})
            for i, scenario in enumerate(scenarios):
                if math.isnan(sub.loc[scenario, "cost_per_wellby_lo"]):
                    ax.text(i - 2.5 * width, 0, _short(sub.loc[scenario, "verdict"]), rotation=90,
                            ha="center", va="bottom", fontsize=7, color="0.3")
            ax.axhline(0, color="0.4", linewidth=0.8)
            ax.set_xticks(range(len(scenarios)), [_title(s) for s in scenarios])
            ax.set(title=_title(place), ylabel="GBP per WELLBY gained")
            if sub.filter(like="cost_per_wellby").filter(like="_lo").isna().all().all():
                ax.set_ylim(0, 1)  # nothing clearly gained: no scale to show
                ax.set_yticks([])
        axes[0][0].legend(ncols=3, fontsize=7)
        figure.suptitle("Cost per WELLBY gained, by IMD quintile (lower is better)\n95% BCa "
                        "intervals; bars only where WELLBYs were clearly gained;\nby quintile, "
                        "spend is where providers are", fontsize=9)
        figure.tight_layout()
    return figure


def equity_impact_plane(summary: pd.DataFrame) -> Figure:
    """Each strategy on the equity impact plane: net health benefit (x, efficiency) against
    the fall in health lost to inequality at aversion 10.95 (y), at the headline threshold
    and opportunity-cost gradient, undiscounted, with 95% intervals."""
    rows = summary[(summary.threshold == HEADLINE_THRESHOLD)
                   & (summary.gradient == HEADLINE_GRADIENT)
                   & (summary.basis == "undiscounted")]
    places = list(dict.fromkeys(rows.place))
    colours = scenario_colours(["_baseline", *dict.fromkeys(rows.scenario)])
    with plt.rc_context(STYLE):
        figure, ax = plt.subplots(figsize=(8.5, 6.5))
        for k, place in enumerate(places):
            for _, row in rows[rows.place == place].iterrows():
                x, y = row.net_health_benefit_wellbys, row.equity_impact_e10_95
                ax.errorbar(x, y, fmt=MARKERS[k % len(MARKERS)], markersize=7,
                            color=colours[row.scenario], capsize=2,
                            xerr=[[x - row.net_health_benefit_wellbys_lo],
                                  [row.net_health_benefit_wellbys_hi - x]],
                            yerr=[[y - row.equity_impact_e10_95_lo],
                                  [row.equity_impact_e10_95_hi - y]])
                ax.annotate(f"{_title(row.scenario)} ({_title(place)})", (x, y), fontsize=7,
                            xytext=(4, 4), textcoords="offset points")
        ax.axhline(0, color="0.3", linewidth=0.9)
        ax.axvline(0, color="0.3", linewidth=0.9)
        _include_origin(ax)
        for (hx, hy), text in (((1.0, 1.0), "more health, less inequality (win-win)"),
                               ((0.0, 1.0), "less health, less inequality"),
                               ((1.0, 0.0), "more health, more inequality"),
                               ((0.0, 0.0), "less health, more inequality (lose-lose)")):
            ax.annotate(text, (hx, hy), xycoords="axes fraction", fontsize=7.5, color="0.35",
                        xytext=(-3 if hx else 3, -3 if hy else 3), textcoords="offset points",
                        ha="right" if hx else "left", va="top" if hy else "bottom",
                        bbox={"boxstyle": "round", "fc": "white", "ec": "0.8", "alpha": 0.9},
                        zorder=5)
        for k, place in enumerate(places):
            ax.plot([], [], MARKERS[k % len(MARKERS)], color="0.3", label=_title(place))
        if len(places) > 1:
            ax.legend(loc="center right", fontsize=7)
        ax.set(xlabel="net health benefit (WELLBYs; opportunity cost at "
                      f"{HEADLINE_THRESHOLD}, {HEADLINE_GRADIENT} gradient)",
               ylabel="reduction in health lost to inequality\n(WELLBY equivalents, "
                      "Atkinson aversion 10.95)",
               title="Equity impact plane (up and right is better)")
        figure.tight_layout()
    return figure


def _include_origin(ax, margin: float = 0.12) -> None:
    """Stretch the axes so that both zero lines show, with room around the data."""
    for get, set_ in ((ax.get_xlim, ax.set_xlim), (ax.get_ylim, ax.set_ylim)):
        low, high = get()
        low, high = min(low, 0.0), max(high, 0.0)
        pad = (high - low) * margin
        set_(low - pad, high + pad)


def net_benefit_by_quintile(by_quintile: pd.DataFrame) -> Figure:
    """Net health benefit of each strategy by quintile (headline threshold and gradient,
    undiscounted), with 95% intervals; a panel per place."""
    rows = by_quintile[(by_quintile.threshold == HEADLINE_THRESHOLD)
                       & (by_quintile.gradient == HEADLINE_GRADIENT)
                       & (by_quintile.basis == "undiscounted")]
    places = list(dict.fromkeys(rows.place))
    scenarios = list(dict.fromkeys(rows.scenario))
    colours = scenario_colours(["_baseline", *scenarios])
    width = 0.8 / max(len(scenarios), 1)
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(1, len(places), squeeze=False,
                                    figsize=(5 * len(places), 3.6))
        for ax, place in zip(axes[0], places, strict=True):
            for i, scenario in enumerate(scenarios):
                sub = rows[(rows.place == place) & (rows.scenario == scenario)].set_index(
                    "quintile").reindex(list(QUINTILES))
                value = sub.net_health_benefit_wellbys.to_numpy(dtype=float)
                error = np.vstack([value - sub.net_health_benefit_wellbys_lo.to_numpy(float),
                                   sub.net_health_benefit_wellbys_hi.to_numpy(float) - value])
                ax.bar(np.arange(5) + (i - (len(scenarios) - 1) / 2) * width, value,
                       width=width, color=colours[scenario], label=_title(scenario),
                       yerr=np.nan_to_num(error), capsize=1.5, error_kw={"linewidth": 0.6})
            ax.axhline(0, color="0.4", linewidth=0.8)
            ax.set_xticks(range(5), [QUINTILE_LABELS[q].replace(" (", "\n(") for q in QUINTILES])
            ax.set(title=_title(place), ylabel="net health benefit (WELLBYs)")
        axes[0][-1].legend(fontsize=7)
        figure.suptitle(f"Net health benefit by IMD quintile (higher is better; opportunity "
                        f"cost at {HEADLINE_THRESHOLD}, {HEADLINE_GRADIENT} gradient)")
        figure.tight_layout()
    return figure


@dataclass(frozen=True)
class SweepData:
    """What the sweep figures read: runs, weekly series (or None), tables, baseline."""

    results: pd.DataFrame
    weekly: pd.DataFrame | None
    table: pd.DataFrame
    dcea: pd.DataFrame
    dcea_quintile: pd.DataFrame
    baseline: str


#: id -> (slug, title, caption, needs weekly series, drawing function)
SWEEP_FIGURES: dict[str, tuple[str, str, str, bool, Callable[[SweepData], Figure]]] = {
    "F1": ("forest", "Paired changes against the baseline",
           "Mean over seeds of the change against the baseline run with the same seed, with "
           "95% t-intervals, by strategy (rows) and place (markers).", False,
           lambda d: forest(d.table, d.baseline)),
    "F2": ("gap_over_time", "The q5-q1 gap over time",
           "Mean life satisfaction of the least minus the most deprived quintile, week by week, "
           "mean over seeds; year 0 is the policy start. Lower is better.", True,
           lambda d: over_time(d.weekly, "gap_q5_q1", "The q5 - q1 wellbeing gap over time "
                               "(lower is better)", "life satisfaction points")),
    "F3": ("wellbeing_by_quintile", "Wellbeing by quintile over time",
           "Mean life satisfaction of each IMD quintile, week by week, mean over seeds.", True,
           lambda d: wellbeing_by_quintile(d.weekly)),
    "F4": ("uptake_by_quintile", "Uptake by quintile",
           "Share of residents attending a community asset in each IMD quintile, final-year "
           "mean, mean over seeds.", False, lambda d: uptake_by_quintile(d.results)),
    "F5": ("provider_survival", "Provider survival and funding cliffs",
           "Providers open as a share of those open at the policy start, and closures since "
           "then per 100 of them, mean over seeds (without weekly series: survival and "
           "closures per year over the policy period).", False,
           lambda d: provider_survival(d.weekly, d.results)),
    "F6": ("cost_per_wellby", "Cost per WELLBY by quintile",
           "Extra spend per WELLBY gained against the baseline, whole place and by quintile, "
           "with paired BCa bootstrap 95% intervals; no bar where WELLBYs were not clearly "
           "gained.", False, lambda d: cost_per_wellby(d.table, d.baseline)),
    "F7": ("equity_impact_plane", "Equity impact plane",
           "Net health benefit against the reduction in health lost to inequality (Atkinson "
           "aversion 10.95), mean over seeds with 95% intervals.", False,
           lambda d: equity_impact_plane(d.dcea)),
    "F8": ("net_benefit_by_quintile", "Net health benefit by quintile",
           "Health benefit minus health opportunity cost by IMD quintile, mean over seeds with "
           "95% intervals.", False, lambda d: net_benefit_by_quintile(d.dcea_quintile)),
}


def sweep_figures(data: SweepData, out: str | Path, only: Sequence[str] | None = None
                  ) -> list[FigureRecord]:
    """Draw and save the sweep figures (all, or the ids in ``only``) into ``out``; a figure
    that needs weekly series is skipped when the sweep recorded none."""
    records = []
    for figure_id, (slug, title, caption, weekly, draw) in SWEEP_FIGURES.items():
        if only and figure_id not in only:
            continue
        if weekly and data.weekly is None:
            continue
        if figure_id in ("F7", "F8") and data.dcea.empty:
            continue
        used = data.weekly if weekly else data.results
        run_ids = sorted(set(used.run_id))
        files = save(draw(data), Path(out) / f"{figure_id}_{slug}")
        records.append(FigureRecord(figure_id, slug, title, caption, run_ids, files))
    return records


def _title(name: str) -> str:
    """A scenario or place name as a label: 'scale_embed' -> 'scale embed'."""
    return str(name).replace("_", " ")


def _short(verdict: str) -> str:
    """The first words of a verdict, for a label on a chart."""
    return str(verdict).split(":")[0].split(" (")[0].split(",")[0]
