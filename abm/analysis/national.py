"""Many places at once (England, every ICB): where each strategy does most for the gap and for
wellbeing, and what those places have in common.

From a sweep's runs and its comparison table (:func:`abm.analysis.compare.summary_table`:
paired changes against the baseline, with 95% t-intervals over seeds), for every place and
strategy: the change in the q5-q1 gap (life-satisfaction points; negative = narrowed) and
the WELLBYs gained per 1,000 residents (discounted, the whole policy period), each with its
interval and its rank among the places; beside them what may explain the differences: the
place's Core20 share (share of its LSOAs in national IMD deciles 1-2, from its place file),
its rural share, and its providers in the status quo (open providers per 1,000 residents and,
where Model v3's columns are there, Core20's share of providers against its share of
residents).

Across places, the association of each strategy's effect on the gap with those features is
measured by Spearman's rank correlation (scipy), with its p-value; :func:`sentences` says in
plain words where each strategy does most and which features go with it, and only calls an
association clear when its p-value is below 0.05.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from abm.analysis.figures import STYLE, render, scenario_colours
from abm.analysis.tables import estimate
from abm.model.places import load_place

#: Fewest places worth ranking.
MIN_PLACES = 3
#: Model v3's columns the national table reads when present (a rename is a change here only).
V3_COLUMNS = {"share_providers_q1": "share of open providers in Core20 (final year)"}
#: What each feature is called in sentences and which way "more" reads.
FEATURES = {
    "core20_share": "the Core20 share (LSOAs in national IMD deciles 1-2)",
    "rural_share": "the rural share",
    "providers_per_1000": "the number of providers per 1,000 residents (status quo)",
    "core20_provider_ratio": "Core20's share of providers relative to its share of residents",
}
#: Associations are called clear below this p-value.
CLEAR_P = 0.05
#: A place whose Core20 had fewer simulated residents than this gets a caution: its gap rests
#: on few people (the gap is q5 minus q1, and q1 is Core20).
FEW_CORE20_RESIDENTS = 500


def national_frame(results: pd.DataFrame, table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """One row per place and strategy: effects with intervals and ranks, and the place's
    features. ``results`` are the sweep's summary rows; ``table`` its comparison table."""
    features = place_features(results, baseline)
    rows = table[(table.scenario != baseline) & (table.point == table.point.min())].copy()
    per_1000 = 1000 / rows.place.map(features.population)
    out = pd.DataFrame({
        "strategy": rows.scenario.to_numpy(),
        "place": rows.place.to_numpy(),
        "n_seeds": rows.n_seeds.to_numpy(),
        **{f"delta_gap{s}": rows[f"delta_gap_q5_q1{s}"].to_numpy() for s in ("", "_lo", "_hi")},
        **{f"wellbys_per_1000{s}": (rows[f"wellby_gain_disc{s}"] * per_1000).to_numpy()
           for s in ("", "_lo", "_hi")},
    })
    out = out.merge(features, left_on="place", right_index=True, how="left")
    # A place with no simulated Core20 neighbourhood has no gap (NaN): it gets no gap rank.
    out["gap_rank"] = out.groupby("strategy").delta_gap.rank(method="min").astype("Int64")
    out["wellby_rank"] = out.groupby("strategy").wellbys_per_1000.rank(
        method="min", ascending=False).astype("Int64")
    order = {name: i for i, name in enumerate(dict.fromkeys(rows.scenario))}  # the sweep's
    out = out.sort_values(["gap_rank"], kind="stable")
    return out.sort_values("strategy", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True)


def place_features(results: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per place: title, region, population, Core20 and rural shares (place file), providers
    per 1,000 residents and Core20's share of providers relative to its share of residents
    (status-quo runs, mean over seeds; the ratio only with Model v3's columns) and simulated
    Core20 residents."""
    base = results[results.scenario == baseline]
    rows = {}
    for place, runs in base.groupby("place", sort=False):
        info = load_place(place)
        population = float(runs.population.iloc[0])
        core20_people = runs.population_q1.mean() / population
        row = {"title": info.title, "region": info.region or "", "population": population,
               "core20_share": info.core20_share, "rural_share": info.rural_share,
               "providers_per_1000": runs.n_open_providers.mean() / population * 1000,
               "core20_simulated": float(runs.n_residents.mean() * core20_people)}
        if "share_providers_q1" in runs and core20_people > 0:
            row["core20_provider_ratio"] = runs.share_providers_q1.mean() / core20_people
        rows[place] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def associations(frame: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and feature: Spearman's rho between the feature and the change in the gap
    across places, its p-value and the number of places."""
    out = []
    for strategy, rows in frame.groupby("strategy", sort=False):
        for feature in FEATURES:
            if feature not in rows or rows[feature].nunique() < 2:
                continue
            pair = rows[[feature, "delta_gap"]].dropna()
            if len(pair) < MIN_PLACES:
                continue
            rho, p = stats.spearmanr(pair[feature], pair.delta_gap)
            out.append({"strategy": strategy, "feature": feature, "rho": float(rho),
                        "p": float(p), "n_places": len(pair)})
    return pd.DataFrame(out, columns=["strategy", "feature", "rho", "p", "n_places"])


def display_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The national table for people: per strategy, places from most narrowing to most
    widening of the gap, numbers rounded to what their intervals allow."""
    return pd.DataFrame({
        "Strategy": frame.strategy.str.replace("_", " "),
        "Rank (gap)": frame.gap_rank.astype(object).where(frame.gap_rank.notna(), "n/a"),
        "Place": frame.title,
        "Region": frame.region,
        "Core20 share (% of LSOAs)": (100 * frame.core20_share).round(1),
        "Rural (% of LSOAs)": (100 * frame.rural_share).round(0).astype(int),
        "Change in q5-q1 gap (points)": [estimate(v, lo, hi, signed=True) for v, lo, hi in zip(
            frame.delta_gap, frame.delta_gap_lo, frame.delta_gap_hi, strict=True)],
        "WELLBYs per 1,000 residents": [estimate(v, lo, hi, signed=True) for v, lo, hi in zip(
            frame.wellbys_per_1000, frame.wellbys_per_1000_lo, frame.wellbys_per_1000_hi,
            strict=True)],
        "Rank (WELLBYs)": frame.wellby_rank.astype(object).where(frame.wellby_rank.notna(),
                                                                 "n/a"),
        "Providers per 1,000 (status quo)": frame.providers_per_1000.round(2),
        "Seeds": frame.n_seeds,
    })


def sentences(frame: pd.DataFrame, links: pd.DataFrame) -> list[str]:
    """Plain sentences: per strategy, where it does most for the gap and for WELLBYs, whether
    the ranking is clear, and which features of the places go with a larger effect."""
    out = []
    no_gap = frame[frame.delta_gap.isna()].drop_duplicates("place")
    n = frame.place.nunique() - len(no_gap)
    for strategy, every in frame.groupby("strategy", sort=False):
        name = strategy.replace("_", " ").capitalize()
        rows = every[every.delta_gap.notna()]
        if len(rows):
            out.append(_gap_sentence(name, rows, n))
        wellbys = every.nlargest(3, "wellbys_per_1000")
        first = wellbys.iloc[0]
        out.append(f"{name} gains most WELLBYs per 1,000 residents in {_list_places(wellbys)} "
                   f"({estimate(first.wellbys_per_1000, first.wellbys_per_1000_lo,
                                first.wellbys_per_1000_hi, signed=True)} in {first.title}).")
        out.append(_why(name, links[links.strategy == strategy]))
    if len(no_gap):
        out.append(f"{_list_places(no_gap)} had no simulated neighbourhood in Core20 at this "
                   "model size, so no gap to change: they are left out of the gap's ranks; "
                   "run more neighbourhoods (n_neighbourhoods) to include them.")
    few = frame.drop_duplicates("place")
    few = few[(few.core20_simulated < FEW_CORE20_RESIDENTS) & ~few.place.isin(no_gap.place)]
    if len(few):
        out.append(f"Caution: in {_list_places(few)} the most deprived fifth (Core20) held "
                   f"fewer than {FEW_CORE20_RESIDENTS} simulated residents, so their gap "
                   "estimates rest on few people and their intervals are wide; run larger "
                   "models there before reading their ranks.")
    return out


def _gap_sentence(name: str, rows: pd.DataFrame, n: int) -> str:
    """Where a strategy does most and least for the gap, and whether that is clear."""
    best, worst = rows.nsmallest(3, "delta_gap"), rows.nlargest(1, "delta_gap").iloc[0]
    top = best.iloc[0]
    narrowed = int((rows.delta_gap_hi < 0).sum())
    widened = int((rows.delta_gap_lo > 0).sum())
    clear = top.delta_gap_hi < worst.delta_gap_lo
    return (f"{name} does most for the gap in {_list_places(best)}: the gap between the most "
            f"and least deprived fifths changed by {_points(top)} points in {top.title}, "
            f"against {_points(worst)} in {worst.title}, where it does least. It clearly "
            f"narrowed the gap in {narrowed} of {n} places and clearly widened it in "
            f"{widened}; " + ("the best and worst places' intervals do not overlap." if clear
                              else "the best and worst places' intervals overlap, so the "
                                   "ranking is not clear."))


def _why(name: str, links: pd.DataFrame) -> str:
    """Which features go with a larger narrowing of the gap (a more negative change)."""
    if links.empty:
        return (f"Too few places have a gap under {name.lower()} to relate its effect to their "
                f"features (at least {MIN_PLACES} are needed).")
    clear = links[links.p < CLEAR_P]
    if clear.empty:
        tested = ", ".join(FEATURES[f] for f in links.feature)
        return (f"Across places, {name.lower()}'s effect on the gap is not clearly related to "
                f"{tested or 'the features measured'} (Spearman, p >= {CLEAR_P}).")
    parts = []
    for _, link in clear.sort_values("p").iterrows():
        more = "higher" if link.rho < 0 else "lower"  # negative rho: more feature, more narrowing
        parts.append(f"{FEATURES[link.feature]} is {more} (Spearman rho {link.rho:+.2f}, "
                     f"p {_p(link.p)})")
    return (f"Across places, {name.lower()} narrows the gap more (or widens it less) where "
            + "; and where ".join(parts) + ".")


def _percent(share: float) -> str:
    """A share as a percentage: whole numbers, one decimal below 10%."""
    return f"{100 * share:.0f}%" if share >= 0.1 else f"{100 * share:.1f}%"


def _points(row: pd.Series) -> str:
    return estimate(row.delta_gap, row.delta_gap_lo, row.delta_gap_hi, signed=True)


def _p(p: float) -> str:
    """A p-value with its relation: '< 0.001', or '= 0.018'."""
    return "< 0.001" if p < 0.001 else f"= {p:.2g}"


def _list_places(rows: pd.DataFrame) -> str:
    names = [f"{t} (Core20 {_percent(c)})" for t, c in zip(rows.title, rows.core20_share,
                                                           strict=True)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def figure(frame: pd.DataFrame) -> dict[str, bytes]:
    """Each strategy's change in the gap and WELLBYs per 1,000 residents in every place, with
    95% intervals; places ordered by Core20 share (most deprived at the top). Returns its PNG
    and SVG bytes by format (the report writes them with its other files)."""
    places = (frame.drop_duplicates("place").sort_values("core20_share", ascending=False)
              .reset_index(drop=True))
    strategies = list(dict.fromkeys(frame.strategy))
    colours = scenario_colours(["baseline", *strategies])
    y = {place: i for i, place in enumerate(places.place)}
    offsets = np.linspace(-0.3, 0.3, len(strategies)) if len(strategies) > 1 else [0.0]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, sharey=True,
                                 figsize=(11, 1.2 + 0.22 * len(places) * max(1, len(strategies)
                                                                              / 4)))
        measures = (("delta_gap", "change in q5-q1 gap (points; < 0: narrowed)"),
                    ("wellbys_per_1000", "WELLBYs gained per 1,000 residents (discounted)"))
        for ax, (column, label) in zip(axes, measures, strict=True):
            for k, strategy in enumerate(strategies):
                rows = frame[frame.strategy == strategy]
                ys = rows.place.map(y) + offsets[k]
                ax.errorbar(rows[column], ys, xerr=[rows[column] - rows[f"{column}_lo"],
                                                    rows[f"{column}_hi"] - rows[column]],
                            fmt="o", ms=3, lw=0.8, color=colours[strategy],
                            label=strategy.replace("_", " "))
            ax.axvline(0, color="0.3", lw=0.8)
            ax.set_xlabel(label)
        labels = [f"{t} ({_percent(c)})" for t, c in zip(places.title, places.core20_share,
                                                          strict=True)]
        axes[0].set_yticks(range(len(places)), labels, fontsize=7)
        axes[0].invert_yaxis()
        axes[0].set_ylabel("place (Core20 share of LSOAs), most deprived first")
        axes[1].legend(loc="lower right", fontsize=7)
        fig.suptitle("Where each strategy does most: change against the status quo, mean over "
                     "seeds with 95% intervals")
        return render(fig)


def is_many_places(results: pd.DataFrame) -> bool:
    """Whether a sweep covers enough places to rank them."""
    return results.place.nunique() >= MIN_PLACES
