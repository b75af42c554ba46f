"""What each mechanism does to the gap: the mechanism decomposition of the q5-q1 gap.

A sweep that runs the status quo beside the scenarios of ``scenarios/mechanisms/`` (as
``experiments/mechanisms.yaml`` does) answers, per place: how large the gap is and what it is
made of under the status quo (the parts of :data:`abm.analysis.compare.GAP_PARTS`, which sum to
``gap_q5_q1``); what is left with no assets at all (``mechanisms/no_assets``); what happens to
it and to each part when one mechanism is switched off (``mechanisms/no_<mechanism>``); and how
much of the status quo's gap a mechanism moves at the top of its plausible range
(``mechanisms/top_<mechanism>``).

Every change is paired: a scenario's run minus the status quo's run with the same place,
parameter point and seed (the same shocks and choice draws), with a 95% t-interval over seeds.
The share of the gap moved is the change divided by the status quo's gap seed by seed, with its
95% t-interval over seeds. Gaps and parts are life-satisfaction points (0-10 scale), final
policy year, q5 (least deprived) minus q1 (most deprived national IMD quintile, Core20).

Mechanisms are named by the scenario file (``no_<id>``, ``top_<id>``); :data:`MECHANISMS`
says each in words, and an id not listed there is shown with spaces for underscores.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from abm.analysis.compare import GAP_PARTS, levels_and_changes
from abm.analysis.figures import PART_LABELS
from abm.analysis.tables import decimals, direction, number, place_name, put

#: The folder (scenario-name prefix) of the mechanism scenarios.
FOLDER = "mechanisms/"
#: The counterfactual with no community assets at all.
NO_ASSETS = "mechanisms/no_assets"
#: Mechanism id (the part of a scenario name after ``no_`` or ``top_``) -> its name in words,
#: in the order tables show them.
MECHANISMS = {
    "attendance_benefit": "the benefit of attending",
    "belonging": "belonging's protection against need",
    "forced_stop_harm": "the harm of losing one's group",
    "group_ties": "ties made in groups",
    "green_space": "the benefit of green space",
    "cost_barrier": "the cost barrier",
    "allocation_gradients": "where the money goes (provider size by deprivation, funders' "
                            "priority to need)",
}
#: How a scenario switches its mechanism: ``none`` (no assets), ``off``, ``top``; the status
#: quo is ``status quo``.
SWITCH_WORDS = {"status quo": "status quo", "none": "every asset removed", "off": "off",
                "top": "top of its plausible range"}
GAP = "gap_q5_q1"
#: The share of the status quo's gap a scenario moves (per seed: change / status-quo gap).
SHARE = "share_of_gap"
_KEYS = ["place", "point", "scenario"]


def switch_of(scenario: str) -> tuple[str, str] | None:
    """How a ``mechanisms/`` scenario switches which mechanism: ("none", "assets") for no
    assets, ("off", id) for ``no_<id>``, ("top", id) for ``top_<id>``; None for any other
    scenario."""
    name = str(scenario).removesuffix(".yaml")
    if not name.startswith(FOLDER):
        return None
    if name == NO_ASSETS:
        return "none", "assets"
    stem = name.removeprefix(FOLDER)
    for prefix, switch in (("no_", "off"), ("top_", "top")):
        if stem.startswith(prefix) and len(stem) > len(prefix):
            return switch, stem.removeprefix(prefix)
    return None


def has_mechanisms(results: pd.DataFrame) -> bool:
    """Whether ``results`` (one row per run) hold any mechanism scenario."""
    return any(switch_of(s) is not None for s in pd.unique(results["scenario"]))


def mechanism_words(mechanism: str) -> str:
    """A mechanism id in words ("belonging" -> "belonging's protection against need")."""
    if mechanism == "assets":
        return "every community asset"
    return MECHANISMS.get(mechanism, mechanism.replace("_", " "))


def mechanism_table(results: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per place, point and scenario (the status quo ``baseline``, no assets, each mechanism
    off, each at the top of its range, in that order): the gap and each part as levels (mean
    over seeds with 95% t-interval: ``<column>``, ``_lo``, ``_hi``), their paired changes
    against the status quo (``delta_<column>``...) and the change in the gap as a share of
    the status quo's gap (``share_of_gap``...; a fraction, below 0 when the gap narrowed).

    ``switch`` and ``mechanism`` say what the scenario does (:func:`switch_of`; the status
    quo's are "status quo" and ""). Empty when ``results`` hold no mechanism scenario, no
    status quo or not the gap's parts (runs of a model before 0.3.0)."""
    columns = [GAP, *GAP_PARTS]
    chosen = [s for s in pd.unique(results["scenario"])
              if s == baseline or switch_of(s) is not None]
    if (baseline not in chosen or len(chosen) < 2
            or not set(columns) <= set(results.columns)):
        return pd.DataFrame()
    runs = results[results.scenario.isin(chosen)]
    base = runs[runs.scenario == baseline][["place", "point", "seed", GAP]]
    paired = runs.merge(base, on=["place", "point", "seed"], how="left",
                        suffixes=("", "_status_quo"))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (paired[GAP] - paired[f"{GAP}_status_quo"]) / paired[f"{GAP}_status_quo"]
    share = share.where(paired.scenario != baseline)
    per_run = paired[[*_KEYS, "seed", *columns]].assign(**{SHARE: share.to_numpy()})
    table = levels_and_changes(per_run, [*columns, SHARE], baseline)
    table = table.drop(columns=[f"delta_{SHARE}{s}" for s in ("", "_lo", "_hi")])
    switches = {s: switch_of(s) or ("status quo", "") for s in chosen}
    table["switch"] = table.scenario.map(lambda s: switches[s][0])
    table["mechanism"] = table.scenario.map(lambda s: switches[s][1])
    order = {s: _rank(*switches[s]) for s in chosen}
    places = {p: i for i, p in enumerate(pd.unique(results["place"]))}
    table = table.sort_values(
        ["place", "point", "scenario"], kind="stable",
        key=lambda c: c.map(places) if c.name == "place" else (
            c.map(order) if c.name == "scenario" else c)).reset_index(drop=True)
    return table[["place", "point", "scenario", "switch", "mechanism",
                  *[c for c in table.columns if c not in (*_KEYS, "switch", "mechanism")]]]


def _rank(switch: str, mechanism: str) -> tuple[int, int, str]:
    """Status quo, no assets, each mechanism off, each at the top of its range; within a
    switch, the order of :data:`MECHANISMS`, then others by name."""
    known = list(MECHANISMS)
    position = known.index(mechanism) if mechanism in known else len(known)
    return ({"status quo": 0, "none": 1, "off": 2, "top": 3}[switch], position, mechanism)


def sentence(row: pd.Series | dict) -> str:
    """What one scenario of a :func:`mechanism_table` does to the gap, in words, e.g.
    "Switching belonging's protection against need off widens the gap by 0.012 points (2.1%
    of it)". The status quo's row gives the gap itself."""
    r = row if isinstance(row, dict) else row.to_dict()
    if r["switch"] == "status quo":
        return (f"Under the status quo the q5-q1 gap is {_points(r, GAP)} life-satisfaction "
                "points")
    action = {"none": "Removing every community asset",
              "off": f"Switching {mechanism_words(r['mechanism'])} off",
              "top": f"Putting {mechanism_words(r['mechanism'])} at the top of the plausible "
                     "range"}[r["switch"]]
    delta, lo, hi = r[f"delta_{GAP}"], r[f"delta_{GAP}_lo"], r[f"delta_{GAP}_hi"]
    went = direction("delta_gap_q5_q1", lo, hi)
    if went == "no clear change":
        return (f"{action} leaves the gap about the same ({_points(r, f'delta_{GAP}', True)} "
                "points, 95% interval)")
    verb = "widens" if went == "widened" else "narrows"
    size = number(abs(delta), decimals(delta, lo, hi))
    share = r[SHARE]
    of = (f" ({number(abs(share) * 100, _share_places(r))}% of it)"
          if math.isfinite(share) else "")
    return f"{action} {verb} the gap by {size} points{of}"


def place_sentences(table: pd.DataFrame) -> list[str]:
    """Per place (and point): the status quo's gap, what no assets does to it, and which
    mechanism moves it the most at the top of its plausible range (or that none clearly
    does), in words."""
    out = []
    for (place, _), rows in table.groupby(["place", "point"], sort=False):
        where = place_name(place)
        base = rows[rows.switch == "status quo"]
        if base.empty:
            continue
        text = f"In {where}, {_lower(sentence(base.iloc[0]))}"
        none = rows[rows.switch == "none"]
        if not none.empty:
            text += f"; {_lower(sentence(none.iloc[0]))}"
        top = rows[rows.switch == "top"]
        if not top.empty:
            biggest = top.loc[top[f"delta_{GAP}"].abs().idxmax()]
            if direction("delta_gap_q5_q1", biggest[f"delta_{GAP}_lo"],
                         biggest[f"delta_{GAP}_hi"]) == "no clear change":
                text += (". No mechanism at the top of its plausible range clearly moves it "
                         f"(the largest mean change: {_lower(sentence(biggest))})")
            else:
                text += (f". Of the mechanisms at the top of their plausible range, "
                         f"{mechanism_words(biggest['mechanism'])} moves it the most: "
                         f"{_lower(sentence(biggest))}")
        out.append(text + ".")
    return out


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The table for people: per place and scenario, the gap (level), its paired change
    against the status quo with which way it went, that change as a share of the status
    quo's gap, each part (the status quo's row: its level; the others: their paired change),
    each with its 95% interval and rounded to meaningful digits; and the change in words.
    Beside every labelled cell stand its unrounded estimate, lower and upper bound."""
    rows = []
    for _, r in table.iterrows():
        out = {"Place": place_name(r["place"])}
        if table["point"].nunique() > 1:
            out["Point"] = int(r["point"])
        out |= {"Mechanism": (mechanism_words(r["mechanism"]) if r["mechanism"]
                              else "(none: the status quo)"),
                "Switched": SWITCH_WORDS[r["switch"]], "Seeds": int(r["n_seeds"])}
        status_quo = r["switch"] == "status quo"
        put(out, "q5-q1 gap (points)", r[GAP], r[f"{GAP}_lo"], r[f"{GAP}_hi"])
        change = "Change in the gap (points)"
        share = "Change as a share of the status quo's gap (%)"
        if status_quo:
            for label in (change, share):
                put(out, label, math.nan)
                out[label] = "(the status quo)"
        else:
            lo, hi = r[f"delta_{GAP}_lo"], r[f"delta_{GAP}_hi"]
            put(out, change, r[f"delta_{GAP}"], lo, hi, signed=True,
                words=direction("delta_gap_q5_q1", lo, hi))
            put(out, share, r[SHARE], r[f"{SHARE}_lo"], r[f"{SHARE}_hi"], signed=True,
                scale=100.0)
        for part in GAP_PARTS:
            label = f"{PART_LABELS[part][:1].upper()}{PART_LABELS[part][1:]} (points)"
            column = part if status_quo else f"delta_{part}"
            put(out, label, r[column], r[f"{column}_lo"], r[f"{column}_hi"],
                signed=not status_quo)
            if not status_quo and r[column] == r[f"{column}_lo"] == r[f"{column}_hi"] == 0:
                out[label] = "0 (unchanged in every seed)"  # the scenario cannot touch it
        out["In words"] = sentence(r)
        rows.append(out)
    return pd.DataFrame(rows)


def _points(r: dict, column: str, signed: bool = False) -> str:
    """A column of a row with its interval, rounded to meaningful digits."""
    lo, hi = r[f"{column}_lo"], r[f"{column}_hi"]
    value, places = r[column], decimals(r[column], lo, hi)
    text = number(value, places, signed)
    if math.isfinite(lo) and math.isfinite(hi):
        text += f" [{number(lo, places, signed)}, {number(hi, places, signed)}]"
    return text


def _share_places(r: dict) -> int:
    """Decimals worth showing of a share in per cent (at least whole per cent points)."""
    share = r[SHARE] * 100
    lo, hi = r[f"{SHARE}_lo"] * 100, r[f"{SHARE}_hi"] * 100
    return max(decimals(share, lo, hi), 0)


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]
