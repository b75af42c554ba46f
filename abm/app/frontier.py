"""The workshop app's "best mixes" view: the frontier for the chosen place (from a results
folder of ``abm frontier``), the room's current setting placed on it, and a button that loads
a frontier mix into the sliders.

The folder is ``$ABM_VIZ_FRONTIER`` (default ``results/frontier``): either one frontier
results folder or a folder of them (one per place, each with its ``frontier.json``). When
there is none for the place, the view says so plainly.

Placing the setting: if the room's setting is one of the mixes the search evaluated, its
point is drawn and the view says whether it is on the frontier or which frontier mix beats it
on every objective. Otherwise the view says that the setting was not evaluated and draws the
evaluated mix nearest to it (levers scaled to their searched range). Either way it lists what
would move the setting to the nearest frontier mix, lever by lever, in words.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import solara

from abm.app.run import Settings
from abm.decision.objectives import OBJECTIVES
from abm.decision.outputs import mix_words, share_words
from abm.decision.space import STATUS_QUO, lever_rule, share_rules, switch_rules
from abm.model.commissioning import RULES
from abm.model.parameters import BY_NAME, defaults
from abm.model.places import load_place

ENV_FRONTIER = "ABM_VIZ_FRONTIER"
DEFAULT_FOLDER = "results/frontier"


def frontier_root() -> Path:
    return Path(os.environ.get(ENV_FRONTIER) or DEFAULT_FOLDER)


def find_frontier(root: Path, place: str) -> Path | None:
    """The frontier results folder for ``place`` under ``root`` (``root`` itself, or one of
    its subfolders), or None."""
    for folder in (root, *sorted(p for p in root.glob("*") if p.is_dir())):
        try:
            meta = json.loads((folder / "frontier.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if meta.get("place") == place and (folder / "frontier.parquet").is_file():
            return folder
    return None


@dataclass(frozen=True)
class Frontier:
    """A frontier results folder, read."""

    folder: Path
    meta: dict
    frontier: pd.DataFrame
    evaluations: pd.DataFrame

    @classmethod
    def read(cls, folder: Path) -> Frontier:
        meta = json.loads((folder / "frontier.json").read_text(encoding="utf-8"))
        return cls(folder, meta, pd.read_parquet(folder / "frontier.parquet"),
                   pd.read_parquet(folder / "evaluations.parquet"))

    @property
    def levers(self) -> list[str]:
        return list(self.meta["levers"])

    def words(self, k: int) -> str:
        r = self.frontier.iloc[k]
        return mix_words(r["rules"].split("+"), r.to_dict(), defaults(),
                         load_place(self.meta["place"]).population, r.get("extra_money"))


def coordinates(rules: Sequence[str], values: Mapping, levers: Sequence[str]) -> dict:
    """A setting's value of each searched lever: a share 0 when its rule is off, a switch 1
    or 0, a lever of a rule that is off its default (as the search left it)."""
    shares = share_rules()
    out = {}
    for name in levers:
        if name in switch_rules():
            out[name] = float(name in rules)
        elif name in shares:
            out[name] = float(values.get(name, 0.0) or 0.0) if shares[name] in rules else 0.0
        else:
            v = values.get(name)
            rule = lever_rule(name)
            off = rule is not None and rule not in rules
            out[name] = float(BY_NAME[name].default if off or v is None or pd.isna(v) else v)
    return out


@dataclass(frozen=True)
class Placement:
    """Where the room's setting stands against the frontier."""

    evaluated: bool  # the setting is one of the mixes evaluated
    on_frontier: bool
    point: tuple[float, float] | None  # its objectives (or the nearest evaluated mix's)
    nearest: int  # index of the nearest frontier mix
    moves: list[str]  # what would move the setting to that mix, in words
    text: str


def place_setting(front: Frontier, settings: Settings) -> Placement:
    """The setting's place on the frontier, and what would move it there."""
    levers = front.levers
    params = settings.params
    mine = coordinates(settings.rules, params, levers)
    spans = {}
    for name in levers:
        column = front.evaluations[name] if name in front.evaluations else pd.Series([0.0])
        if name in switch_rules():
            column = front.evaluations["rules"].str.split("+").map(lambda r, n=name: n in r)
        column = pd.to_numeric(column, errors="coerce").fillna(0.0).astype(float)
        spans[name] = max(float(column.max() - column.min()), 1e-9)

    def distance(row: Mapping) -> float:
        theirs = coordinates(row["rules"].split("+"), row, levers)
        return float(np.sqrt(sum(((mine[n] - theirs[n]) / spans[n]) ** 2 for n in levers)))

    near_front = [distance(r) for r in front.frontier.to_dict("records")]
    k = int(np.argmin(near_front))
    near_all = [distance(r) for r in front.evaluations.to_dict("records")]
    j = int(np.argmin(near_all))
    x, y = front.meta["objectives"][:2]
    evaluated = near_all[j] < 1e-6
    on_frontier = near_front[k] < 1e-6
    row = front.evaluations.iloc[j]
    point = (float(row[x]), float(row[y]))
    moves = [] if on_frontier else moves_to(settings, front.frontier.iloc[k].to_dict(), levers)
    if on_frontier:
        text = f"Your setting is best mix {k + 1}: no mix found does better on every objective."
    elif evaluated:
        text = (f"Your setting was evaluated, and best mix {k + 1} does better on every "
                "objective. To move there: " + "; ".join(moves) + ".")
    else:
        text = ("Your setting was not one of the mixes evaluated; the nearest that was is "
                f"drawn as a ring. The nearest best mix is {k + 1}. To move there: "
                + "; ".join(moves) + ".")
    return Placement(evaluated, on_frontier, point, k, moves, text)


def moves_to(settings: Settings, target: Mapping, levers: Sequence[str]) -> list[str]:
    """Each searched lever the setting would change to reach ``target`` (a frontier row)."""
    rules = target["rules"].split("+")
    now = coordinates(settings.rules, settings.params, levers)
    then = coordinates(rules, target, levers)
    moves = []
    for name in levers:
        if abs(now[name] - then[name]) < 1e-9:
            continue
        if name in switch_rules():
            moves.append(f"{'switch on' if then[name] else 'switch off'} "
                         f"{RULES[name].summary}")
        elif name in share_rules():
            moves.append(f"{BY_NAME[name].label.lower()}: {share_words(then[name])} "
                         f"(now {share_words(now[name])})")
        elif (rule := lever_rule(name)) is None or rule in rules:
            p = BY_NAME[name]
            if "share" in p.unit:
                moves.append(f"{p.label.lower()}: {then[name]:.0%} (now {now[name]:.0%})")
            else:
                moves.append(f"{p.label.lower()}: {then[name]:g} {p.unit} (now {now[name]:g})")
    return moves


def settings_for(front: Frontier, k: int, current: Settings) -> Settings:
    """The current settings with frontier mix ``k`` loaded: its rules and lever values."""
    row = front.frontier.iloc[k].to_dict()
    rules = row["rules"].split("+")
    values = {n: row[n] for n in front.levers if n in row and n in BY_NAME
              and not pd.isna(row[n])}
    values |= {n: 0.0 for n, rule in share_rules().items() if rule not in rules}
    keep = {n: v for n, v in current.values.items() if n not in values}
    return Settings.make(current.place, rules or [STATUS_QUO], {**keep, **values},
                         current.seed)


def picture(front: Frontier, placement: Placement | None) -> bytes:
    """The frontier (first two objectives) with the room's setting placed: PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = front.meta["objectives"][:2]
    ox, oy = OBJECTIVES[x], OBJECTIVES[y]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    ax.scatter(front.evaluations[x], front.evaluations[y], s=10, color="#cccccc",
               label="mixes evaluated")
    ax.plot(front.frontier[x], front.frontier[y], "o", color="#0072B2", label="best mixes")
    for k, (a, b) in enumerate(zip(front.frontier[x], front.frontier[y], strict=True), 1):
        ax.annotate(str(k), (a, b), textcoords="offset points", xytext=(4, 4), fontsize=10)
    ax.plot([0], [0], "s", color="#D55E00", label="carrying on as today")
    if placement is not None and placement.point is not None:
        style = dict(ms=14, mew=2, color="#009E73")
        ax.plot(*placement.point, "*" if placement.evaluated else "o", fillstyle="full"
                if placement.evaluated else "none", label="your setting" if placement.evaluated
                else "nearest to your setting", **style)
    ax.set_xlabel(f"{ox.label} ({'higher' if ox.higher_is_better else 'lower'} is better)",
                  fontsize=9)
    ax.set_ylabel(f"{oy.label}\n({'higher' if oy.higher_is_better else 'lower'} is better)",
                  fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


@solara.component
def BestMixes(settings: solara.Reactive[Settings]):
    """The "best mixes" card: the frontier for the place, the setting on it, and loading."""
    current = settings.value
    folder = solara.use_memo(lambda: find_frontier(frontier_root(), current.place),
                             [current.place])
    chosen = solara.use_reactive(0)
    front = solara.use_memo(lambda: Frontier.read(folder) if folder else None, [folder])
    placement = solara.use_memo(lambda: place_setting(front, current) if front else None,
                                [front, current])
    png = solara.use_memo(lambda: picture(front, placement) if front else None,
                          [front, placement])
    with solara.Card("Best mixes for this place", classes=["abm-best-mixes"]):
        if front is None:
            solara.Text(f"No best mixes are available for {load_place(current.place).title}: "
                        f"no frontier results in {frontier_root()} (a modeller makes them "
                        "with abm frontier).", classes=["abm-best-none"])
            return
        solara.Text(f"{len(front.frontier)} best mixes (no other mix found does better on "
                    f"every objective), over {front.meta['units']}.",
                    classes=["abm-best-summary"])
        solara.Image(png, classes=["abm-best-figure"])
        solara.Text(placement.text, classes=["abm-best-placement"])
        labels = [f"Mix {k + 1}: {front.words(k)}" for k in range(len(front.frontier))]
        solara.Select("A best mix", values=labels, value=labels[min(chosen.value,
                                                                    len(labels) - 1)],
                      on_value=lambda label: chosen.set(labels.index(label)),
                      classes=["abm-best-choice"])
        solara.Button("Load this mix into the sliders", color="primary",
                      on_click=lambda: settings.set(settings_for(front, chosen.value, current)),
                      classes=["abm-best-load"])
