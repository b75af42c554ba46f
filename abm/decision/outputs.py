"""What a frontier gives people: each mix in plain words, a table, a figure, and each mix as a
scenario file that ``abm validate`` and ``abm sweep`` accept.

Words come from the declaration and the rules, not from lists here: a budget share is named
by its parameter's label ("Budget share for community development" -> "community
development"), the rest of the money by the summary of the rule that gives it (sustain's
"multi-year core grants, renewed without a new bid", or the status quo's short competitive
grants), and any other lever by its label, value and unit.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from abm.decision.objectives import OBJECTIVES, Objective
from abm.decision.space import STATUS_QUO, lever_rule, share_rules
from abm.files.io import write_bytes, write_text
from abm.model.commissioning import RULES
from abm.model.parameters import BY_NAME
from abm.model.places import load_place

#: Fractions said in words when a share is within a percentage point of one.
FRACTIONS = ((1 / 2, "half"), (1 / 3, "a third"), (2 / 3, "two thirds"), (1 / 4, "a quarter"),
             (3 / 4, "three quarters"), (1 / 5, "a fifth"), (2 / 5, "two fifths"),
             (1 / 10, "a tenth"))


def share_words(share: float) -> str:
    """0.25 -> 'a quarter', 0.66 -> 'two thirds', 0.12 -> '12%'."""
    for value, words in FRACTIONS:
        if abs(share - value) < 0.01:
            return words
    return f"{share:.0%}"


def _share_topic(name: str) -> str:
    """What a budget share pays for, from its label ('Budget share for X' -> 'X')."""
    label = BY_NAME[name].label
    prefix = "Budget share for "
    return label[len(prefix):] if label.startswith(prefix) else label.lower()


def _rule_summary(rule: str) -> str:
    return RULES[rule].summary


def mix_words(rules: Sequence[str], values: Mapping[str, float],
              base: Mapping[str, float] | None = None, population: int | None = None,
              extra_gbp: float | None = None) -> str:
    """A mix in a sentence, e.g. 'a quarter of the money to community development, 15% to
    embedding; the rest as multi-year core grants, renewed without a new bid; with 20% more
    money (about GBP 1.2m a year)'. The money a year is ``extra_gbp`` where given (the mean
    over posterior draws, as the ``extra_money`` objective has it), else the extra share of the
    status quo's budget per head in ``base`` times ``population``."""
    shares = share_rules()
    parts = []
    given = [(n, float(values[n])) for n in shares if float(values.get(n, 0) or 0) > 0]
    given.sort(key=lambda item: -item[1])
    for k, (name, share) in enumerate(given):
        words = share_words(share)
        parts.append(f"{words}{' of the money' if k == 0 else ''} to {_share_topic(name)}")
    switches = [r for r in rules if r != STATUS_QUO and r not in shares.values()]
    grants = "; ".join(_rule_summary(r) for r in switches) or _rule_summary(STATUS_QUO)
    sentence = ", ".join(parts)
    if given:
        left = 1 - sum(s for _, s in given)
        if left > 0.005:
            sentence += f"; the rest ({share_words(left)}) to grants: {grants}"
    else:
        sentence = f"all the money to grants: {grants}"
    details = []
    for name, value in sorted(values.items()):
        if (name not in BY_NAME or not BY_NAME[name].lever or name in shares
                or name == "budget_uplift" or _missing(value)):
            continue
        rule = lever_rule(name)
        if rule is not None and rule not in rules:
            continue
        p = BY_NAME[name]
        shown = f"{value:g}" if isinstance(value, int | float) else str(value)
        details.append(f"{p.label.lower()} {shown} {p.unit}")
    if details:
        sentence += f" ({'; '.join(details)})"
    uplift = float(values.get("budget_uplift", 0) or 0)
    if uplift > 0:
        sentence += f"; with {uplift:.0%} more money"
        if extra_gbp is not None and not _missing(extra_gbp):
            sentence += f" (about {money_words(extra_gbp)} a year)"
        elif base is not None and population:
            per_year = uplift * float(base["budget_gbp_per_head"]) * population
            sentence += f" (about {money_words(per_year)} a year)"
    return sentence[0].upper() + sentence[1:]


def money_words(gbp: float) -> str:
    """GBP 1,234,567 -> 'GBP 1.2m'."""
    sign = "-" if gbp < 0 else ""
    gbp = abs(gbp)
    if gbp >= 1e6:
        return f"{sign}GBP {gbp / 1e6:.1f}m"
    if gbp >= 1e3:
        return f"{sign}GBP {gbp / 1e3:.0f}k"
    return f"{sign}GBP {gbp:.0f}"


def value_words(value: float, objective: Objective) -> str:
    """A change rounded to meaningful digits with its unit."""
    if objective.unit in ("GBP", "GBP a year"):
        return money_words(value)
    if objective.unit == "WELLBYs":
        return f"{value:+,.0f}"
    if objective.unit == "percentage points":
        return f"{value:+.1f}"
    return f"{value:+.4f}"


def frontier_table(frontier: pd.DataFrame, objectives: Sequence[str], base: Mapping,
                   population: int) -> pd.DataFrame:
    """The frontier for people: each mix in words, then per objective its mean [90% interval]
    and the probability that it beats the status quo and its worst decile."""
    rows = []
    for k, r in enumerate(frontier.to_dict("records"), start=1):
        rules = r["rules"].split("+")
        row = {"mix": k, "in words": mix_words(rules, r, base, population,
                                               r.get("extra_money"))}
        for name in objectives:
            o = OBJECTIVES[name]
            row[o.label] = (f"{value_words(r[name], o)} [{value_words(r[name + '_lo'], o)}, "
                            f"{value_words(r[name + '_hi'], o)}]")
            if name != "extra_money":
                row[f"P(better): {name}"] = f"{r[name + '_p_better']:.0%}"
                row[f"worst decile: {name}"] = value_words(r[name + "_worst_decile"], o)
        row["mix id"] = r["mix_id"]
        rows.append(row)
    return pd.DataFrame(rows)


def frontier_text(table: pd.DataFrame, units: str, place: str) -> str:
    """The frontier table as text for the terminal."""
    lines = [f"The best mixes in {place}: no other mix evaluated beats any of them on every "
             f"objective at once (mean [90% interval] over {units}; P(better): share of "
             f"{units} in which the mix beats the status quo)."]
    for row in table.to_dict("records"):
        lines.append(f"\n{row['mix']}. {row['in words']}")
        lines += [f"   {k}: {v}" for k, v in row.items() if k not in ("mix", "in words")]
    return "\n".join(lines)


def write_scenarios(frontier: pd.DataFrame, folder: Path, baseline_path: Path | None,
                    baseline_name: str, place: str, fixed: Mapping, words: Sequence[str],
                    seeds: int, years: float) -> list[Path]:
    """Each frontier mix as ``folder/mix_<k>_<id>.yaml`` extending the status quo scenario,
    and ``folder/sweep.yaml`` comparing them all with it; return the scenario files."""
    folder.mkdir(parents=True, exist_ok=True)
    from abm.model.scenarios import scenarios_dir

    shipped = baseline_path is None or baseline_path.resolve() == (
        scenarios_dir() / f"{baseline_name}.yaml").resolve()
    extends = baseline_name if shipped else os.path.relpath(baseline_path, folder)
    shares = share_rules()
    paths = []
    for k, (r, said) in enumerate(zip(frontier.to_dict("records"), words, strict=True),
                                  start=1):
        rules = r["rules"].split("+")
        values = {n: r[n] for n in BY_NAME if n in r and not _missing(r[n])
                  and (n in shares or lever_rule(n) is None or lever_rule(n) in rules)}
        values = {n: (int(v) if BY_NAME[n].type is int else float(v)) for n, v in values.items()}
        lines = [f"# Frontier mix {k} in {place} (mix id {r['mix_id']}), written by "
                 "abm frontier.", f"# {said}",
                 f"description: {_quoted('Frontier mix ' + str(k) + ': ' + said)}",
                 f"extends: {_quoted(extends)}", f"place: {place}",
                 f"rules: [{', '.join(rules)}]", "parameters:"]
        lines += [f"  {n}: {v!r}" for n, v in sorted({**values, **fixed}.items())]
        path = folder / f"mix_{k}_{r['mix_id']}.yaml"
        write_text("\n".join(lines) + "\n", path)
        paths.append(path)
    sweep = ["# The frontier's mixes against the status quo (abm sweep this file).",
             "description: The frontier's mixes against the status quo.",
             "scenarios:", f"  - {_quoted(extends)}",
             *[f"  - {p.name}" for p in paths],
             f"places: [{place}]", f"seeds: {seeds}", f"years: {years:g}"]
    write_text("\n".join(sweep) + "\n", folder / "sweep.yaml")
    return paths


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def frontier_figure(evaluations: pd.DataFrame, frontier: pd.DataFrame, x: str, y: str,
                    path_stem: Path, title: str, units: str) -> dict[str, Path]:
    """Efficiency against equity: every mix evaluated (grey), the frontier's mixes numbered
    with 90% intervals over ``units``, the status quo at (0, 0). PNG and SVG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ox, oy = OBJECTIVES[x], OBJECTIVES[y]
    fig, ax = plt.subplots(figsize=(7.5, 5.5), dpi=110)
    ax.scatter(evaluations[x], evaluations[y], s=12, color="#bbbbbb", label="mixes evaluated")
    ax.errorbar(frontier[x], frontier[y],
                xerr=[frontier[x] - frontier[f"{x}_lo"], frontier[f"{x}_hi"] - frontier[x]],
                yerr=[frontier[y] - frontier[f"{y}_lo"], frontier[f"{y}_hi"] - frontier[y]],
                fmt="o", color="#0072B2", ecolor="#56B4E9", elinewidth=1, capsize=2,
                label=f"best mixes (90% intervals over {units})")
    for k, (a, b) in enumerate(zip(frontier[x], frontier[y], strict=True), start=1):
        ax.annotate(str(k), (a, b), textcoords="offset points", xytext=(5, 4), fontsize=9)
    ax.scatter([0], [0], marker="s", s=50, color="#D55E00", label="status quo", zorder=3)
    ax.axhline(0, color="#999999", lw=0.6)
    ax.axvline(0, color="#999999", lw=0.6)
    ax.set_xlabel(f"{ox.label} ({ox.unit}; {'higher' if ox.higher_is_better else 'lower'} is "
                  "better)")
    ax.set_ylabel(f"{oy.label} ({oy.unit};\n{'higher' if oy.higher_is_better else 'lower'} "
                  "is better)")
    ax.set_title(textwrap.fill(title, 70), fontsize=11)  # a long place title wraps
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    written = {}
    for kind in ("png", "svg"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=kind, metadata={"Date": None} if kind == "svg" else None)
        written[kind] = write_bytes(buffer.getvalue(), path_stem.with_suffix(f".{kind}"))
    plt.close(fig)
    return written


def write_frontier_outputs(spec, out: Path, result) -> dict[str, Path]:
    """Everything people read from a finished search ``result`` of ``spec``
    (:class:`abm.decision.search.SearchResult`): ``frontier_table.csv`` (mixes in words with
    their objectives), ``frontier.png``/``.svg`` (the first two objectives), and
    ``scenarios/`` (each mix as a scenario file, and a sweep file comparing them)."""
    from abm.files.io import write_csv

    base = {**dict(spec.baseline.params()), **spec.fixed}
    names = [o.name for o in spec.objectives]
    table = frontier_table(result.frontier, names, base, spec.population)
    written = {"table": write_csv(table, out / "frontier_table.csv")}
    text = frontier_text(table, result.units, load_place(spec.place).title)
    written["text"] = write_text(text + "\n", out / "frontier.txt")
    place_title = load_place(spec.place).title
    if len(names) >= 2:
        x, y = names[0], names[1]
        written |= frontier_figure(result.evaluations, result.frontier, x, y,
                                   out / "frontier", f"The best mixes in {place_title}",
                                   result.units)
    scenarios = write_scenarios(result.frontier, out / "scenarios", spec.baseline.path,
                                spec.baseline.name, spec.place, spec.fixed,
                                list(table["in words"]), spec.seeds, spec.years)
    written["scenarios"] = scenarios[0].parent if scenarios else out / "scenarios"
    return written
