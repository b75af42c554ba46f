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
  (:mod:`abm.analysis.dcea`);
- ``F9`` the inequality staircase by quintile (need, referral, follow-up, starting, still
  attending, benefit) and Core20's staircase under each strategy;
- ``F10`` the q5-q1 gap in its parts, and which part each strategy moved;
- ``F11`` each strategy's effect over the calibration's posterior draws (when ``abm
  uncertainty`` results are given);
- ``F12`` equity impact over a range of inequality aversions (Atkinson and Kolm), the
  English public's values marked.

Axes show plain numbers with thousands separators (never an offset such as "1e4" over the
axis, nor "1e-3" notation) and say their units; places and strategies appear by name
(:func:`abm.analysis.tables.place_name`, :func:`~abm.analysis.tables.strategy_name`).

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), safe for the
common forms of colour blindness; lines also differ by style where colour carries meaning.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, none opened

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from abm.analysis.compare import (
    CORE20,
    GAP_PARTS,
    GAP_PARTS_ASSETS_TOUCH,
    STAIRCASE_BENEFIT,
    STAIRCASE_STEPS,
)
from abm.analysis.dcea import (
    ENGLISH_ATKINSON,
    ENGLISH_KOLM,
    HEADLINE_GRADIENT,
    HEADLINE_THRESHOLD,
)
from abm.analysis.tables import in_sentence, place_name, strategy_name
from abm.files.io import write_bytes
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
    "axes.formatter.useoffset": False, "axes.formatter.limits": (-12, 15),
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
    source: str = "runs"  # "runs" of the sweep, or "uncertainty" (another results folder)


#: Scenario colours: Okabe-Ito with yellow, the hardest to see on white, last.
SCENARIO_COLOURS = (*(c for c in OKABE_ITO if c != "#F0E442"), "#F0E442")


def scenario_colours(scenarios: Sequence[str]) -> dict[str, str]:
    """A colour per scenario, in order (the first, usually the baseline, black)."""
    return {s: SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)] for i, s in enumerate(scenarios)}


class PlainNumbers(ticker.Formatter):
    """Tick labels as plain numbers with thousands separators and as many decimals as the
    ticks need ("12,000", "0.0015", "2.5"): never an offset or a power of ten."""

    places = 0

    def set_locs(self, locs) -> None:
        """Keep the fewest decimals that show every tick exactly (ticks are round numbers)."""
        finite = [float(v) for v in locs if math.isfinite(v)]
        self.places = next((p for p in range(13) if all(
            abs(round(v, p) - v) <= 1e-9 * max(1.0, abs(v)) for v in finite)), 12)

    def __call__(self, x, pos=None):
        return plain_number(x, self.places)


def plain_number(x: float, decimals: int) -> str:
    """``x`` with thousands separators and ``decimals`` decimals, using a true minus sign."""
    text = f"{round(x, decimals) + 0.0:,.{decimals}f}"
    return text.replace("-", "\u2212")


def plain_axes(figure: Figure) -> None:
    """Plain numbers on every numeric axis of ``figure`` (linear or log): see
    :class:`PlainNumbers`. Axes with labels of their own (names, categories) are left as
    they are."""
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if not isinstance(axis.get_major_formatter(),
                              ticker.ScalarFormatter | ticker.LogFormatter):
                continue
            axis.set_major_formatter(PlainNumbers())
            if axis.get_scale() == "log":
                axis.set_minor_formatter(ticker.NullFormatter())


def render(figure: Figure) -> dict[str, bytes]:
    """``figure`` as PNG and SVG bytes (the same bytes every time for the same figure), with
    plain axis numbers; the figure is closed."""
    plain_axes(figure)
    out = {}
    for fmt in ("png", "svg"):
        buffer = io.BytesIO()
        with plt.rc_context(STYLE):  # svg.hashsalt: the same ids in every run
            figure.savefig(buffer, format=fmt, dpi=DPI, metadata=_metadata(fmt))
        out[fmt] = buffer.getvalue()
    plt.close(figure)
    return out


def save(figure: Figure, stem: str | Path) -> dict[str, Path]:
    """Save ``figure`` as ``stem.png`` and ``stem.svg`` (each written atomically); return the
    paths by format."""
    stem = Path(stem)
    return {fmt: write_bytes(data, stem.with_suffix(f".{fmt}"))
            for fmt, data in render(figure).items()}


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
    ("wellby_gain_disc", "WELLBYs gained", "WELLBYs over the policy years,\ndiscounted",
     "higher"),
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
                                             2.0 + 0.45 * len(scenarios)))
        for ax, (column, title, unit, better) in zip(axes, FOREST_OUTCOMES, strict=True):
            for k, place in enumerate(places):
                sub = rows[rows.place == place].set_index("scenario").reindex(scenarios)
                y = np.arange(len(scenarios)) + offsets[k]
                error = np.vstack([sub[column] - sub[f"{column}_lo"],
                                   sub[f"{column}_hi"] - sub[column]])
                ax.errorbar(sub[column], y, xerr=np.nan_to_num(error),
                            fmt=MARKERS[k % len(MARKERS)],
                            color=OKABE_ITO[(k + 5) % len(OKABE_ITO)], capsize=2,
                            label=place_name(place))
            ax.axvline(0, color="0.4", linewidth=0.8)
            ax.set(title=f"{title}\n({better} is better)", xlabel=unit)
        axes[0].set_yticks(range(len(scenarios)), [strategy_name(s) for s in scenarios])
        axes[0].invert_yaxis()
        if len(places) <= len(MARKERS):  # more places: the national figure (FN) shows each
            axes[-1].legend(loc="best")
        figure.suptitle(f"Change against {in_sentence(baseline)} (mean over seeds, 95% "
                        "interval of paired differences)")
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
                        linestyle=LINE_STYLES[i % len(LINE_STYLES)], label=strategy_name(scenario))
            ax.axvline(0, color="0.4", linewidth=0.8)
            ax.set(title=place_name(place), xlabel="years since the policy started")
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
                ax.set_title(f"{strategy_name(scenario)}\n{place_name(place)}", fontsize=8)
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
                           width=width, color=colour, label=strategy_name(scenario),
                           edgecolor="white", linewidth=0.3)
                ax.set_xticks(range(5), [QUINTILE_LABELS[q].replace(" (", "\n(")
                                         for q in QUINTILES])
                ax.set(title=f"{place_name(place)}: {label}", ylabel="% of residents")
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
                             label=strategy_name(scenario))
                    bottom.plot(closed.index, closed.to_numpy(), color=colour, linestyle=style)
                for ax in (top, bottom):
                    ax.axvline(0, color="0.4", linewidth=0.8)
                top.set(title=place_name(place), ylabel="providers open\n(% of those at the start)")
                bottom.set(ylabel="closures since the start\n(per 100 open at the start)",
                           xlabel="years since the policy started")
            else:
                sub = results[results.place == place]
                names = list(colours)
                survival = [sub[sub.scenario == s].provider_survival.mean() * 100 for s in names]
                closures = [sub[sub.scenario == s].closures_per_year.mean() for s in names]
                top.bar(range(len(names)), survival, color=list(colours.values()))
                bottom.bar(range(len(names)), closures, color=list(colours.values()))
                top.set(title=place_name(place),
                        ylabel="providers open at the start\nstill open at the end (%)")
                bottom.set(ylabel="closures per year")
                for ax in (top, bottom):
                    ax.set_xticks(range(len(names)), [strategy_name(s) for s in names], rotation=30,
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
            ax.set_xticks(range(len(scenarios)), [strategy_name(s) for s in scenarios])
            ax.set(title=place_name(place), ylabel="GBP per WELLBY gained")
            if sub.filter(like="cost_per_wellby").filter(like="_lo").isna().all().all():
                ax.set_ylim(0, 1)  # nothing clearly gained: no scale to show
                ax.set_yticks([])
        axes[0][0].legend(ncols=3, fontsize=7)
        figure.suptitle("Cost per WELLBY gained, by IMD quintile (lower is better)\n95% BCa "
                        "intervals; bars only where WELLBYs were clearly gained;\nby quintile, "
                        "spend is where providers are", fontsize=9)
        figure.tight_layout()
    return figure


def headline_basis(frame: pd.DataFrame) -> str:
    """The basis reports lead with: "discounted" (the Green Book's) where recorded."""
    return "discounted" if "basis" in frame and (frame.basis == "discounted").any() \
        else "undiscounted"


def equity_impact_plane(summary: pd.DataFrame) -> Figure:
    """Each strategy on the equity impact plane: net health benefit (x, efficiency) against
    the fall in health lost to inequality at aversion 10.95 (y), at the headline threshold
    and opportunity-cost gradient, on the headline basis (discounted where recorded), with
    95% intervals."""
    basis = headline_basis(summary)
    rows = summary[(summary.threshold == HEADLINE_THRESHOLD)
                   & (summary.gradient == HEADLINE_GRADIENT)
                   & (summary.basis == basis)]
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
                ax.annotate(f"{strategy_name(row.scenario)} ({place_name(place)})", (x, y),
                            fontsize=7, xytext=(4, 4), textcoords="offset points")
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
            ax.plot([], [], MARKERS[k % len(MARKERS)], color="0.3", label=place_name(place))
        if len(places) > 1:
            ax.legend(loc="center right", fontsize=7)
        ax.set(xlabel=f"net health benefit (WELLBYs, {basis}; opportunity cost at "
                      f"{HEADLINE_THRESHOLD}, {HEADLINE_GRADIENT} gradient)",
               ylabel=f"reduction in health lost to inequality\n(WELLBY equivalents, {basis}, "
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
    headline basis), with 95% intervals; a panel per place."""
    basis = headline_basis(by_quintile)
    rows = by_quintile[(by_quintile.threshold == HEADLINE_THRESHOLD)
                       & (by_quintile.gradient == HEADLINE_GRADIENT)
                       & (by_quintile.basis == basis)]
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
                       width=width, color=colours[scenario], label=strategy_name(scenario),
                       yerr=np.nan_to_num(error), capsize=1.5, error_kw={"linewidth": 0.6})
            ax.axhline(0, color="0.4", linewidth=0.8)
            ax.set_xticks(range(5), [QUINTILE_LABELS[q].replace(" (", "\n(") for q in QUINTILES])
            ax.set(title=place_name(place), ylabel=f"net health benefit (WELLBYs, {basis})")
        axes[0][-1].legend(fontsize=7)
        figure.suptitle(f"Net health benefit by IMD quintile (higher is better; opportunity "
                        f"cost at {HEADLINE_THRESHOLD}, {HEADLINE_GRADIENT} gradient)")
        figure.tight_layout()
    return figure


STEP_LABELS = {"in_need": "in need", "referred": "referred", "followed_up": "followed up",
               "started": "started a group", "attending_12w": "still attending\nat 12 weeks"}


def staircase(table: pd.DataFrame, baseline: str) -> Figure:
    """The inequality staircase: a row per place. Left, under the baseline, each step per
    1,000 residents a year by quintile (log scale: each step is a fraction of the one
    before); middle, the mean benefit of referred starters while attending, by quintile;
    right, Core20's steps under each strategy as a change against the baseline (%), with
    95% intervals of the paired changes."""
    places = list(dict.fromkeys(table.place))
    strategies = [s for s in dict.fromkeys(table.scenario) if s != baseline]
    colours = scenario_colours(["_baseline", *strategies])
    steps = list(STAIRCASE_STEPS)
    width = 0.8 / 5
    with plt.rc_context(STYLE):
        columns = 3 if strategies else 2
        figure, axes = plt.subplots(len(places), columns, squeeze=False,
                                    figsize=(14 if strategies else 10, 3.6 * len(places)),
                                    gridspec_kw={"width_ratios": [3, 1.2, 3][:columns]})
        for r, place in enumerate(places):
            base = table[(table.place == place) & (table.scenario == baseline)]
            ax, benefit = axes[r][0], axes[r][1]
            for k, q in enumerate(QUINTILES):
                row = base[base.quintile == q].iloc[0]
                values = np.array([row[step] for step in steps], dtype=float)
                ax.bar(np.arange(len(steps)) + (k - 2) * width, np.where(values > 0, values,
                                                                           np.nan),
                       width=width, color=QUINTILE_COLOURS[q], label=QUINTILE_LABELS[q])
                benefit.bar(k, row[STAIRCASE_BENEFIT], color=QUINTILE_COLOURS[q],
                            yerr=[[row[STAIRCASE_BENEFIT] - row[f"{STAIRCASE_BENEFIT}_lo"]],
                                  [row[f"{STAIRCASE_BENEFIT}_hi"] - row[STAIRCASE_BENEFIT]]]
                            if np.isfinite(row[f"{STAIRCASE_BENEFIT}_lo"]) else None,
                            capsize=2)
            ax.set_yscale("log")
            ax.set_xticks(range(len(steps)), [STEP_LABELS[s] for s in steps])
            ax.set(title=f"{place_name(place)}: {strategy_name(baseline)}",
                   ylabel="per 1,000 residents a year\n(log scale)")
            benefit.set_xticks(range(5), list(QUINTILES))
            benefit.set(title="benefit while attending", ylabel="life satisfaction points")
            if r == 0:
                ax.legend(fontsize=7, ncols=2)
            if strategies:
                change = axes[r][2]
                bar = 0.8 / len(strategies)
                for i, scenario in enumerate(strategies):
                    row = table[(table.place == place) & (table.scenario == scenario)
                                & (table.quintile == CORE20)].iloc[0]
                    ref = base[base.quintile == CORE20].iloc[0]
                    # a step nobody in Core20 reaches under the status quo has no percentage
                    # change: its bar is left out (NaN), not drawn at 0 or at infinity
                    base_at = np.array([ref[s] if ref[s] != 0 else np.nan for s in steps])
                    pct = np.array([row[f"delta_{s}"] for s in steps]) / base_at * 100
                    low = np.array([row[f"delta_{s}_lo"] for s in steps]) / base_at * 100
                    high = np.array([row[f"delta_{s}_hi"] for s in steps]) / base_at * 100
                    change.bar(np.arange(len(steps)) + (i - (len(strategies) - 1) / 2) * bar,
                               pct, width=bar, color=colours[scenario],
                               label=strategy_name(scenario),
                               yerr=np.vstack([pct - low, high - pct]),
                               capsize=1.5, error_kw={"linewidth": 0.6})
                change.axhline(0, color="0.4", linewidth=0.8)
                change.set_xticks(range(len(steps)), [STEP_LABELS[s] for s in steps])
                change.set(title=f"{place_name(place)}: most deprived fifth (Core20), "
                                 f"change against {in_sentence(baseline)}",
                           ylabel="change (% of the baseline's level)")
                if r == 0:
                    change.legend(fontsize=6.5, ncols=2)
        figure.suptitle("The inequality staircase by IMD quintile: from need to benefit "
                        "(counts over the policy years, mean over seeds)")
        figure.tight_layout()
    return figure


PART_LABELS = {
    "gap_part_baseline": "baseline gradient (built in)",
    "gap_part_need_untouched": "need, untouched by assets",
    "gap_part_need_assets": "need, as assets changed it",
    "gap_part_benefit": "benefit of attending",
    "gap_part_green": "benefit of green space",
    "gap_part_lag": "still adjusting (lag)",
    "gap_q5_q1": "the whole q5 - q1 gap",
}


def gap_parts(table: pd.DataFrame, baseline: str) -> Figure:
    """The q5-q1 gap in its parts, a row per place: left, the baseline's parts (they sum to
    the gap; the parts community assets act on are hatched); right, each strategy's paired
    change in each part, with 95% intervals (left of zero: that part narrowed)."""
    places = list(dict.fromkeys(table.place))
    strategies = [s for s in dict.fromkeys(table.scenario) if s != baseline]
    colours = scenario_colours(["_baseline", *strategies])
    parts = [*GAP_PARTS, "gap_q5_q1"]
    y = np.arange(len(parts))
    with plt.rc_context(STYLE):
        columns = 2 if strategies else 1
        figure, axes = plt.subplots(len(places), columns, squeeze=False,
                                    figsize=(12 if strategies else 6, 3.4 * len(places)),
                                    sharey=True)
        for r, place in enumerate(places):
            base = table[(table.place == place) & (table.scenario == baseline)].set_index(
                "part").reindex(parts)
            ax = axes[r][0]
            for i, part in enumerate(parts):
                ax.barh(i, base.loc[part, "value"],
                        color=OKABE_ITO[0] if part == "gap_q5_q1" else OKABE_ITO[5],
                        hatch="//" if part in GAP_PARTS_ASSETS_TOUCH else None,
                        edgecolor="white", xerr=[[base.loc[part, "value"]
                                                  - base.loc[part, "value_lo"]],
                                                 [base.loc[part, "value_hi"]
                                                  - base.loc[part, "value"]]]
                        if np.isfinite(base.loc[part, "value_lo"]) else None, capsize=2)
            ax.axvline(0, color="0.4", linewidth=0.8)
            ax.set_yticks(y, [PART_LABELS[p] for p in parts])
            ax.invert_yaxis()
            ax.set(title=f"{place_name(place)}: {strategy_name(baseline)} (hatched: parts "
                         "assets act on)", xlabel="life satisfaction points, final year")
            if strategies:
                change = axes[r][1]
                bar = 0.8 / len(strategies)
                for i, scenario in enumerate(strategies):
                    rows = table[(table.place == place) & (table.scenario == scenario)
                                 ].set_index("part").reindex(parts)
                    value = rows["delta_value"].to_numpy(float)
                    error = np.vstack([value - rows["delta_value_lo"].to_numpy(float),
                                       rows["delta_value_hi"].to_numpy(float) - value])
                    change.barh(y + (i - (len(strategies) - 1) / 2) * bar, value, height=bar,
                                color=colours[scenario], label=strategy_name(scenario),
                                xerr=np.nan_to_num(error), capsize=1.5,
                                error_kw={"linewidth": 0.6})
                change.axvline(0, color="0.4", linewidth=0.8)
                change.set(title=f"{place_name(place)}: change against "
                                 f"{in_sentence(baseline)} (left of 0: narrower)",
                           xlabel="life satisfaction points")
                if r == 0:
                    change.legend(fontsize=6.5)
        figure.suptitle("What makes the gap between the most and least deprived fifths, and "
                        "what each strategy moved (mean over seeds, 95% intervals)")
        figure.tight_layout()
    return figure


def posterior_effects(table: pd.DataFrame) -> Figure:
    """Each strategy's effect over the calibration's posterior draws, a row per place: its
    discounted WELLBYs and its change in the q5-q1 gap, mean with the 90% interval over
    draws, each labelled with the probability (share of draws) that it gains or narrows."""
    places = list(dict.fromkeys(table.place))
    strategies = list(dict.fromkeys(table.scenario))
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(len(places), 2, squeeze=False,
                                    figsize=(11, 1.2 + 0.42 * len(strategies) * len(places)))
        for r, place in enumerate(places):
            rows = table[table.place == place].set_index("scenario").reindex(strategies)
            for ax, (column, p, words, unit) in zip(axes[r], (
                    ("wellby_gain_disc", "p_gains", "P(gains)", "WELLBYs, discounted"),
                    ("delta_gap_q5_q1", "p_narrows", "P(narrows)",
                     "life satisfaction points (below 0: narrower)")), strict=True):
                value = rows[column].to_numpy(float)
                error = np.vstack([value - rows[f"{column}_lo"].to_numpy(float),
                                   rows[f"{column}_hi"].to_numpy(float) - value])
                yy = np.arange(len(strategies))
                ax.errorbar(value, yy, xerr=np.nan_to_num(error), fmt="o", color=OKABE_ITO[5],
                            capsize=2)
                for k, scenario in enumerate(strategies):
                    ax.annotate(f"{words} = {rows.loc[scenario, p]:.2f}", (value[k], k),
                                xytext=(0, 6), textcoords="offset points", fontsize=6.5,
                                ha="center")
                ax.axvline(0, color="0.4", linewidth=0.8)
                ax.set_yticks(yy, [strategy_name(s) for s in strategies])
                ax.invert_yaxis()
                ax.set(title=f"{place_name(place)}", xlabel=unit)
        figure.suptitle("Effects over the calibration's posterior draws (mean and 90% interval "
                        "over draws; P = share of draws)")
        figure.tight_layout()
    return figure


def ede_profiles(profile: pd.DataFrame) -> Figure:
    """Equity impact (equity-weighted minus unweighted net health benefit, WELLBYs; above 0:
    inequality fell) against inequality aversion, Atkinson (left) and Kolm (right), a line
    per strategy, a row per place, on the headline basis; the English public's aversions
    (Atkinson 10.95, Kolm 0.15) marked."""
    basis = headline_basis(profile)
    rows = profile[profile.basis == basis]
    places = list(dict.fromkeys(rows.place))
    strategies = list(dict.fromkeys(rows.scenario))
    colours = scenario_colours(["_baseline", *strategies])
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(len(places), 2, squeeze=False,
                                    figsize=(11, 3.4 * len(places)))
        for r, place in enumerate(places):
            for ax, measure, english, unit in (
                    (axes[r][0], "atkinson", ENGLISH_ATKINSON, "Atkinson aversion (relative)"),
                    (axes[r][1], "kolm", ENGLISH_KOLM, "Kolm aversion (absolute, per QALY)")):
                for i, scenario in enumerate(strategies):
                    line = rows[(rows.place == place) & (rows.scenario == scenario)
                                & (rows.measure == measure)].sort_values("aversion")
                    ax.plot(line.aversion, line.equity_impact, color=colours[scenario],
                            linestyle=LINE_STYLES[i % len(LINE_STYLES)], marker=".",
                            label=strategy_name(scenario))
                    ax.fill_between(line.aversion, line.equity_impact_lo,
                                    line.equity_impact_hi, color=colours[scenario], alpha=0.12,
                                    linewidth=0)
                ax.axhline(0, color="0.4", linewidth=0.8)
                ax.axvline(english, color=OKABE_ITO[6], linestyle="--", linewidth=1)
                ax.annotate(f"English public: {english:g}", (english, 1.0),
                            xycoords=("data", "axes fraction"), xytext=(3, -10),
                            textcoords="offset points", fontsize=7, color=OKABE_ITO[6])
                ax.set(title=f"{place_name(place)}", xlabel=unit,
                       ylabel=f"equity impact (WELLBYs, {basis})")
            if r == 0:
                axes[r][0].legend(fontsize=6.5)
        figure.suptitle("Equity impact over inequality aversion (above 0: inequality fell; "
                        "Robson et al. 2017 for the English public's values)")
        figure.tight_layout()
    return figure


@dataclass(frozen=True)
class SweepData:
    """What the sweep figures read: runs, weekly series (or None), tables, baseline, and the
    ICS views, DCEA profiles and posterior effects where there are any."""

    results: pd.DataFrame
    weekly: pd.DataFrame | None
    table: pd.DataFrame
    dcea: pd.DataFrame
    dcea_quintile: pd.DataFrame
    baseline: str
    core20: pd.DataFrame = field(default_factory=pd.DataFrame)
    staircase: pd.DataFrame = field(default_factory=pd.DataFrame)
    decomposition: pd.DataFrame = field(default_factory=pd.DataFrame)
    profile: pd.DataFrame = field(default_factory=pd.DataFrame)
    uncertainty: pd.DataFrame | None = None


@dataclass(frozen=True)
class FigureSpec:
    """A sweep figure: its slug, title, caption, why it cannot be drawn for some data (None
    when it can) and how it is drawn."""

    slug: str
    title: str
    caption: str
    missing: Callable[[SweepData], str | None]
    draw: Callable[[SweepData], Figure]


def _needs_weekly(d: SweepData) -> str | None:
    return None if d.weekly is not None else (
        "this sweep recorded no weekly series (its sweep file has no `record: weekly`)")


def _needs(name: str, why: str) -> Callable[[SweepData], str | None]:
    def missing(d: SweepData) -> str | None:
        frame = getattr(d, name)
        return why if frame is None or frame.empty else None
    return missing


_NEEDS_DCEA = _needs("dcea", "no strategy has runs paired with the baseline")
_NEEDS_V3 = ("these runs lack the Model v3 outputs it needs (summary columns {}): the model "
             "version that made them records none")

SWEEP_FIGURES: dict[str, FigureSpec] = {
    "F1": FigureSpec("forest", "Paired changes against the baseline",
                     "Mean over seeds of the change against the baseline run with the same seed, "
                     "with 95% t-intervals, by strategy (rows) and place (markers); WELLBYs "
                     "discounted.", lambda d: None, lambda d: forest(d.table, d.baseline)),
    "F2": FigureSpec("gap_over_time", "The q5-q1 gap over time",
                     "Mean life satisfaction of the least minus the most deprived quintile, "
                     "week by week, mean over seeds; year 0 is the policy start. Lower is "
                     "better.", _needs_weekly,
                     lambda d: over_time(d.weekly, "gap_q5_q1", "The q5 - q1 wellbeing gap "
                                         "over time (lower is better)",
                                         "life satisfaction points")),
    "F3": FigureSpec("wellbeing_by_quintile", "Wellbeing by quintile over time",
                     "Mean life satisfaction of each IMD quintile, week by week, mean over "
                     "seeds.", _needs_weekly, lambda d: wellbeing_by_quintile(d.weekly)),
    "F4": FigureSpec("uptake_by_quintile", "Uptake by quintile",
                     "Share of residents attending a community asset in each IMD quintile, "
                     "final-year mean, mean over seeds.", lambda d: None,
                     lambda d: uptake_by_quintile(d.results)),
    "F5": FigureSpec("provider_survival", "Provider survival and funding cliffs",
                     "Providers open as a share of those open at the policy start, and closures "
                     "since then per 100 of them, mean over seeds (without weekly series: "
                     "survival and closures per year over the policy period).", lambda d: None,
                     lambda d: provider_survival(d.weekly, d.results)),
    "F6": FigureSpec("cost_per_wellby", "Cost per WELLBY by quintile",
                     "Discounted extra spend per discounted WELLBY gained against the baseline, "
                     "whole place and by quintile, with paired BCa bootstrap 95% intervals; no "
                     "bar where WELLBYs were not clearly gained.", lambda d: None,
                     lambda d: cost_per_wellby(d.table, d.baseline)),
    "F7": FigureSpec("equity_impact_plane", "Equity impact plane",
                     "Net health benefit against the reduction in health lost to inequality "
                     "(Atkinson aversion 10.95), discounted, mean over seeds with 95% "
                     "intervals.", _NEEDS_DCEA, lambda d: equity_impact_plane(d.dcea)),
    "F8": FigureSpec("net_benefit_by_quintile", "Net health benefit by quintile",
                     "Health benefit minus health opportunity cost by IMD quintile, discounted, "
                     "mean over seeds with 95% intervals.", _NEEDS_DCEA,
                     lambda d: net_benefit_by_quintile(d.dcea_quintile)),
    "F9": FigureSpec("staircase", "The inequality staircase by quintile",
                     "From need to benefit by IMD quintile under the baseline (per 1,000 "
                     "residents a year, log scale), the benefit of referred starters, and the "
                     "most deprived fifth's staircase under each strategy against the baseline "
                     "(95% intervals of the paired changes).",
                     _needs("staircase", _NEEDS_V3.format("in_need_q1 ... benefit_referred_q5")),
                     lambda d: staircase(d.staircase, d.baseline)),
    "F10": FigureSpec("gap_decomposition", "What makes the gap, and what moved it",
                      "The q5-q1 gap in the final policy year split into its parts (they sum to "
                      "the gap), and each strategy's paired change in each part, mean over seeds "
                      "with 95% intervals.",
                      _needs("decomposition", _NEEDS_V3.format("gap_part_*")),
                      lambda d: gap_parts(d.decomposition, d.baseline)),
    "F11": FigureSpec("posterior_effects", "Effects over the posterior",
                      "Each strategy's discounted WELLBYs and change in the gap over the "
                      "calibration's posterior draws (mean, 90% interval over draws), with the "
                      "share of draws in which it gains WELLBYs or narrows the gap.",
                      _needs("uncertainty", "no `abm uncertainty` results were found or given "
                                            "(--uncertainty DIR)"),
                      lambda d: posterior_effects(d.uncertainty)),
    "F12": FigureSpec("ede_profile", "Equity impact over inequality aversion",
                      "Equity-weighted minus unweighted net health benefit at a range of "
                      "Atkinson and Kolm inequality aversions (discounted; headline threshold "
                      "and opportunity-cost gradient), mean over seeds with 95% intervals; the "
                      "English public's values marked.",
                      _needs("profile", "no strategy has runs paired with the baseline"),
                      lambda d: ede_profiles(d.profile)),
}


@dataclass
class DrawnFigure:
    """A figure drawn in memory: its record (id, files to be) and its bytes by format."""

    record: FigureRecord
    content: dict[str, bytes]


def unavailable(data: SweepData, only: Sequence[str] | None = None) -> dict[str, str]:
    """The figures (all, or those in ``only``) that cannot be drawn for ``data``, with why."""
    return {figure_id: why for figure_id, spec in SWEEP_FIGURES.items()
            if (not only or figure_id in only) and (why := spec.missing(data)) is not None}


def draw_figures(data: SweepData, out: str | Path, only: Sequence[str] | None = None
                 ) -> list[DrawnFigure]:
    """Draw the sweep figures (all, or the ids in ``only``) in memory, each with the paths it
    will have under ``out``; figures that cannot be drawn (:func:`unavailable`) are left
    out. Nothing is written."""
    skipped = unavailable(data, only)
    drawn = []
    for figure_id, spec in SWEEP_FIGURES.items():
        if (only and figure_id not in only) or figure_id in skipped:
            continue
        if figure_id == "F11":
            run_ids, source = [], "uncertainty"
        else:
            used = data.weekly if figure_id in ("F2", "F3") else data.results
            run_ids, source = sorted(set(used.run_id)), "runs"
        content = render(spec.draw(data))
        stem = Path(out) / f"{figure_id}_{spec.slug}"
        files = {fmt: stem.with_suffix(f".{fmt}") for fmt in content}
        drawn.append(DrawnFigure(FigureRecord(figure_id, spec.slug, spec.title, spec.caption,
                                              run_ids, files, source), content))
    return drawn


def sweep_figures(data: SweepData, out: str | Path, only: Sequence[str] | None = None
                  ) -> list[FigureRecord]:
    """Draw and save the sweep figures (all, or the ids in ``only``) into ``out``, each file
    written atomically; a figure that cannot be drawn for this sweep is skipped (see
    :func:`unavailable`)."""
    records = []
    for figure in draw_figures(data, out, only):
        for fmt, content in figure.content.items():
            write_bytes(content, figure.record.files[fmt])
        records.append(figure.record)
    return records


def _short(verdict: str) -> str:
    """The first words of a verdict, for a label on a chart."""
    return str(verdict).split(":")[0].split(" (")[0].split(",")[0]
